package app_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
	"github.com/kith-app/kith/app/community"
)

func TestSearchWords(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"Café au LAIT, café!", []string{"cafe", "au", "lait"}},
		{"ＧＬＡＺＥ test-3", []string{"glaze", "test", "3"}},
		{"東京タワー", []string{"東", "東京", "京", "京タ", "タ", "タワ", "ワ", "ワー", "ー"}},
		{"釉 and 수업", []string{"釉", "and", "수", "수업", "업"}},
		{"ガラス", []string{"ガ", "ガラ", "ラ", "ラス", "ス"}},
		{"cone6 fire😀slow", []string{"cone6", "fire", "slow"}},
		{"  ,,  ", nil},
	} {
		if got := app.SearchWords(c.text); !slices.Equal(got, c.want) {
			t.Errorf("searchWords(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

// texts are the texts of ms, in order.
func textsOf(ms []app.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Text)
	}
	return out
}

// TestSearch: a member's install indexes what it receives and finds it by every word, newest
// first, in any script; an edit's words replace the old ones, a deleted message is gone; the
// index survives a restart; an empty query is a sentence.
func TestSearch(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ana, bo := apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, ana, "Ana", map[*apptest.Peer]string{bo: "Bo"})
	chans, _ := ana.Svc.Channels(id)
	ch := chans[0].ID
	post := func(text string) app.Message {
		m, err := ana.Svc.Post(ctx, id, ch, text, community.Hash{})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	post("Kiln day is Saturday")
	slow := post("Fire the kiln slowly through quartz inversion")
	post("東京タワーの陶芸教室")
	post("ฉันรักแมว ガラス")
	gone := post("My kiln password is hunter2")
	syncFrom(t, ctx, bo, ana, id)

	search := func(p *apptest.Peer, q string) []string {
		t.Helper()
		ms, err := p.Svc.Search(id, q, 0)
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		return textsOf(ms)
	}
	if got := search(bo, "KILN"); len(got) != 3 || got[0] != "My kiln password is hunter2" || got[2] != "Kiln day is Saturday" {
		t.Fatalf("kiln at Bo's: %q", got)
	}
	if got := search(bo, "kiln slow"); len(got) != 0 {
		t.Fatalf("kiln slow (no such word as slow): %q", got)
	}
	if got := search(bo, "slowly kiln"); len(got) != 1 || got[0] != slow.Text {
		t.Fatalf("slowly kiln: %q", got)
	}
	if got := search(bo, "タワー"); len(got) != 1 {
		t.Fatalf("タワー: %q", got)
	}
	if got := search(bo, "陶芸"); len(got) != 1 {
		t.Fatalf("陶芸: %q", got)
	}
	if got := search(bo, "陶"); len(got) != 1 {
		t.Fatalf("one character, 陶: %q", got)
	}
	if got := search(bo, "カラス"); len(got) != 0 {
		t.Fatalf("カラス found ガラス: %q", got)
	}
	if _, err := ana.Svc.EditMessage(ctx, id, slow.ID, "Fire the kiln gently"); err != nil {
		t.Fatal(err)
	}
	if err := ana.Svc.DeleteMessage(ctx, id, gone.ID); err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, bo, ana, id)
	if got := search(bo, "slowly"); len(got) != 0 {
		t.Fatalf("slowly after the edit: %q", got)
	}
	if got := search(bo, "gently"); len(got) != 1 || got[0] != "Fire the kiln gently" {
		t.Fatalf("gently after the edit: %q", got)
	}
	if got := search(bo, "hunter2"); len(got) != 0 {
		t.Fatalf("a deleted message found: %q", got)
	}
	if got := search(ana, "hunter2"); len(got) != 0 {
		t.Fatalf("a deleted message found at its author's: %q", got)
	}
	if got := search(bo, "แมว"); len(got) != 1 {
		t.Fatalf("Thai, แมว: %q", got)
	}
	if _, err := bo.Svc.Search(id, " ?! ", 0); app.KindOf(err) != app.KindBadInput {
		t.Fatalf("an empty query: %v", err)
	}
	// A restart: the index is where it was, and what comes after is indexed too.
	bo.Close()
	bo2 := apptest.OpenPeer(t, bo.Dir)
	post("Glaze recipes for kiln day")
	syncFrom(t, ctx, bo2, ana, id)
	if got, err := bo2.Svc.Search(id, "kiln", 0); err != nil || len(got) != 3 || got[0].Text != "Glaze recipes for kiln day" {
		t.Fatalf("kiln after a restart: %q, %v", textsOf(got), err)
	}
}

// BenchmarkIndex indexes 10,000 messages for search from the start (decrypt, fold the words,
// hash them, write the postings); it reports messages a second.
func BenchmarkIndex(b *testing.B) {
	ana := apptest.NewPeer(b)
	ctx := context.Background()
	created, err := ana.Svc.CreateCommunity(ctx, app.CreateParams{Name: "Makers", DisplayName: "Ana"})
	if err != nil {
		b.Fatal(err)
	}
	chans, _ := ana.Svc.Channels(created.ID)
	const n = 10_000
	apptest.PostMany(b, ana.Svc, created.ID, chans[0].ID, n, func(i int) string {
		return fmt.Sprintf("Message %d about the kiln, glazes and the spring sale: same time next week?", i)
	})
	b.ResetTimer()
	for range b.N {
		if err := app.IndexFromStart(ana.Svc, created.ID); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
}
