package app_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
	"github.com/kith-app/kith/app/community"
)

// TestEditsReactionsAndPins: a member edits its own message (not another's), members react and
// take reactions back, the owner pins and unpins; after syncs in any order every member shows
// the same text, "edited", reactions with counts and who, and the pinned list — and a deleted
// message loses them all.
func TestEditsReactionsAndPins(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b := apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, a, "Ana", map[*apptest.Peer]string{b: "Bo"})
	general := mustGeneral(t, a, id)
	sync := func(to, from *apptest.Peer) { t.Helper(); syncFrom(t, ctx, to, from, id) }
	m, err := b.Svc.Post(ctx, id, general, "first glaze test tmrw", community.Hash{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Svc.EditMessage(ctx, id, m.ID, "first glaze test tomorrow"); err != nil {
		t.Fatal(err)
	}
	sync(a, b)
	if _, err := a.Svc.EditMessage(ctx, id, m.ID, "hijacked"); app.KindOf(err) != app.KindNotAllowed {
		t.Fatalf("the owner edits a member's message: %v", err)
	}
	if _, err := b.Svc.Pin(ctx, id, m.ID, true); app.KindOf(err) != app.KindNotAllowed {
		t.Fatalf("a member pins: %v", err)
	}
	if _, err := a.Svc.React(ctx, id, m.ID, "🔥", false); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Svc.React(ctx, id, m.ID, "👍🏽", false); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Svc.React(ctx, id, m.ID, "🔥", false); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Svc.React(ctx, id, m.ID, "👍🏽", true); err != nil { // taken back
		t.Fatal(err)
	}
	if _, err := a.Svc.React(ctx, id, m.ID, "fire", false); err == nil {
		t.Fatal("a word was taken as an emoji")
	}
	if _, err := a.Svc.Pin(ctx, id, m.ID, true); err != nil {
		t.Fatal(err)
	}
	sync(a, b)
	sync(b, a)
	for _, p := range []*apptest.Peer{a, b} {
		got, ok, err := p.Svc.Message(id, m.ID)
		if err != nil || !ok {
			t.Fatal(err)
		}
		if got.Text != "first glaze test tomorrow" || !got.Edited || !got.Pinned || len(got.Reactions) != 1 ||
			got.Reactions[0].Emoji != "🔥" || got.Reactions[0].Count != 2 || !got.Reactions[0].Mine ||
			len(got.Reactions[0].Who) != 2 || !slices.Contains(got.Reactions[0].Who, "Ana") || !slices.Contains(got.Reactions[0].Who, "Bo") {
			t.Fatalf("a message as a member shows it: %+v", got)
		}
		page, _ := p.Svc.Messages(id, general, community.Position{}, 10)
		if len(page) != 1 || page[0].Text != got.Text || !page[0].Pinned {
			t.Fatalf("the page: %+v (annotations must not show as messages)", page)
		}
		pins, err := p.Svc.Pins(id, general)
		if err != nil || len(pins) != 1 || pins[0].ID != m.ID {
			t.Fatalf("pins: %+v, %v", pins, err)
		}
	}
	if _, err := a.Svc.Pin(ctx, id, m.ID, false); err != nil {
		t.Fatal(err)
	}
	if pins, _ := a.Svc.Pins(id, general); len(pins) != 0 {
		t.Fatalf("pins after unpinning: %+v", pins)
	}
	// A fresh member's view, folded from the store's pages at first read.
	c := apptest.NewPeer(t)
	joinThrough(t, ctx, a, c, id, "Cy")
	got, ok, _ := c.Svc.Message(id, m.ID)
	if !ok || got.Text != "first glaze test tomorrow" || got.Pinned || len(got.Reactions) != 1 || got.Reactions[0].Count != 2 || got.Reactions[0].Mine {
		t.Fatalf("a new member shows %+v", got)
	}
	if err := a.Svc.DeleteMessage(ctx, id, m.ID); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := a.Svc.Message(id, m.ID); got.Text != "" || got.Edited || len(got.Reactions) != 0 {
		t.Fatalf("a deleted message shows %+v", got)
	}
}

// TestMentionsList: a's mentions are the messages that name it after an @, newest first.
func TestMentionsList(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b := apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, a, "Ana Ortiz", map[*apptest.Peer]string{b: "Bo"})
	chans, _ := b.Svc.Channels(id)
	for _, text := range []string{"@Ana Ortiz look at this", "no mention", "thanks @ana ortiz!"} {
		if _, err := b.Svc.Post(ctx, id, chans[0].ID, text, community.Hash{}); err != nil {
			t.Fatal(err)
		}
	}
	syncFrom(t, ctx, a, b, id)
	got, err := a.Svc.Mentions(id, 10)
	if err != nil || len(got) != 2 || got[0].Text != "thanks @ana ortiz!" || got[1].Text != "@Ana Ortiz look at this" {
		t.Fatalf("a's mentions: %+v, %v", got, err)
	}
	if mine, _ := b.Svc.Mentions(id, 10); len(mine) != 0 {
		t.Fatalf("b's mentions: %+v", mine)
	}
}

func TestMentions(t *testing.T) {
	for _, c := range []struct {
		text, name string
		want       bool
	}{
		{"@Ana can you look?", "Ana", true},
		{"thanks @ana!", "Ana", true},
		{"ask @Ana Ortiz, she knows", "Ana Ortiz", true},
		{"ask @Ana about it", "Ana Ortiz", false},
		{"@Anaïs is here", "Ana", false},
		{"mail ana@example.com", "Ana", false},
		{"no mention of Ana", "Ana", false},
		{"@Bo and @Ana", "Ana", true},
	} {
		if got := app.Mentions(c.text, c.name); got != c.want {
			t.Errorf("mentions(%q, %q) = %v, want %v", c.text, c.name, got, c.want)
		}
	}
}
