package ui

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"go.uber.org/goleak"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
	"github.com/kith-app/kith/app/community"
)

// postMany writes n messages of varied length in the community's first channel.
func postMany(tb testing.TB, svc *app.Service, id community.Hash, n int) community.Hash {
	tb.Helper()
	chans, err := svc.Channels(id)
	if err != nil {
		tb.Fatal(err)
	}
	apptest.PostMany(tb, svc, id, chans[0].ID, n, func(i int) string {
		return fmt.Sprintf("message %d", i) + strings.Repeat(" and some more words", i%9)
	})
	return chans[0].ID
}

// scrollBack scrolls the list to its top until it holds want rows (or no older page is left).
func scrollBack(tb testing.TB, k *kith, want int) {
	l := k.shell.view.msgs
	for len(l.rows) < want && l.more {
		before := len(l.rows)
		l.list.ScrollToTop()
		eventuallyTB(tb, "an older page", func() bool { return len(l.rows) > before || !l.more }, k.q)
	}
}

func eventuallyTB(tb testing.TB, what string, cond func() bool, q uiQueue) {
	if t, ok := tb.(*testing.T); ok {
		eventually(t, what, cond, q)
		return
	}
	deadline := time.After(time.Minute)
	for !cond() {
		select {
		case f := <-q:
			f()
		case <-deadline:
			tb.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestMessageListPagesOnScroll: the latest page shows at once; scrolling to the top brings the
// older pages, in order, without gaps or repeats, until the first message.
func TestMessageListPagesOnScroll(t *testing.T) {
	a := test.NewTempApp(t)
	k := open(t, a)
	k.create(t, "Ana", "Makers")
	v := k.shell.view
	const n = 4*PageSize + 7
	postMany(t, k.p.Svc, v.cur, n)
	v.msgs.open(v.cur, v.curCh)
	eventually(t, "the latest page", func() bool { return len(v.msgs.rows) == PageSize }, k.q)
	if last := v.msgs.rows[PageSize-1].m.At; v.msgs.list.GetScrollOffset() == 0 || last.Less(v.msgs.rows[0].m.At) {
		t.Fatalf("the latest page is not at the bottom (offset %v)", v.msgs.list.GetScrollOffset())
	}
	scrollBack(t, k, n)
	rows := v.msgs.rows
	if len(rows) != n || v.msgs.more {
		t.Fatalf("after scrolling to the top: %d rows (more: %v), want %d", len(rows), v.msgs.more, n)
	}
	seen := map[community.Hash]bool{}
	for i, r := range rows {
		if seen[r.m.ID] {
			t.Fatalf("row %d repeats a message", i)
		}
		seen[r.m.ID] = true
		if i > 0 && !rows[i-1].m.At.Less(r.m.At) {
			t.Fatalf("rows %d and %d are out of order", i-1, i)
		}
	}
	if rows[0].day == "" {
		t.Error("the first message has no day separator")
	}
	// Row heights follow the text: a long message is taller than a short one.
	short, long := -1, -1
	for i, r := range rows {
		if !r.head && r.day == "" {
			if strings.Count(r.m.Text, "and") == 0 && short < 0 {
				short = i
			}
			if strings.Count(r.m.Text, "and") == 8 && long < 0 {
				long = i
			}
		}
	}
	v.msgs.relayout(300) // a narrow window: the long ones wrap
	if short >= 0 && long >= 0 && !(v.msgs.rowHeight(long) > v.msgs.rowHeight(short)) {
		t.Errorf("a long message (%v) is not taller than a short one (%v) at 300 px", v.msgs.rowHeight(long), v.msgs.rowHeight(short))
	}
}

// The 100,000-message channel for BenchmarkMessageList, built once per process (≈ 1 minute).
var big struct {
	once sync.Once
	dir  string
}

// TestMain removes the big store of the benchmarks, and fails the package's tests when a
// goroutine they started outlives them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		if big.dir != "" {
			os.RemoveAll(big.dir)
		}
		os.Exit(code)
	}))
}

// BenchmarkMessageList: the time to show the latest page of a 100,000-message channel, and to
// scroll back 10 pages, through the real list over a real store.
func BenchmarkMessageList(b *testing.B) {
	a := test.NewTempApp(b)
	k := openBig(b, a)
	v := k.shell.view
	w := k.win
	w.SetContent(v.content)
	w.Resize(fyne.NewSize(1180, 760))
	b.Run("latest-page", func(b *testing.B) {
		for b.Loop() {
			v.msgs.open(v.cur, v.curCh)
			eventuallyTB(b, "the latest page", func() bool { return len(v.msgs.rows) == PageSize && !v.msgs.loading }, k.q)
		}
	})
	b.Run("back-10-pages", func(b *testing.B) {
		for b.Loop() {
			v.msgs.open(v.cur, v.curCh)
			eventuallyTB(b, "the latest page", func() bool { return len(v.msgs.rows) == PageSize && !v.msgs.loading }, k.q)
			scrollBack(b, k, 11*PageSize)
		}
	})
}

// openBig opens a shell over the 100,000-message store (building it the first time).
func openBig(b *testing.B, a fyne.App) *kith {
	const n = 100_000
	big.once.Do(func() {
		dir, err := os.MkdirTemp("", "kith-ui-bench-")
		if err != nil {
			b.Fatal(err)
		}
		big.dir = dir
		k := openIn(b, a, dir)
		w := k.shell.welcome
		eventuallyTB(b, "the welcome screen", func() bool { return k.win.Content() == w.content }, k.q)
		created, err := k.p.Svc.CreateCommunity(context.Background(), app.CreateParams{Name: "Big", DisplayName: "Ana"})
		if err != nil {
			b.Fatal(err)
		}
		postMany(b, k.p.Svc, created.ID, n)
		k.close()
	})
	k := openIn(b, a, big.dir)
	v := k.shell.view
	eventuallyTB(b, "the community", func() bool { return v.curCh != (community.Hash{}) && len(v.msgs.rows) == PageSize }, k.q)
	b.Cleanup(k.close)
	return k
}

// TestListKeepsWhatArrivesDuringAReload: a page read again (after a lag, or a key arriving)
// neither drops a message that came while it was read nor leaves a sent message pending.
func TestListKeepsWhatArrivesDuringAReload(t *testing.T) {
	a := test.NewTempApp(t)
	k := open(t, a)
	k.create(t, "Ana", "Makers")
	v := k.shell.view
	eventually(t, "the channel open", func() bool { return !v.msgs.loading }, k.q)

	// A page read, then a message stored and shown, then the page's answer.
	page, err := k.p.Svc.Messages(v.cur, v.curCh, community.Position{}, PageSize)
	if err != nil {
		t.Fatal(err)
	}
	m, err := k.p.Svc.Post(context.Background(), v.cur, v.curCh, "arrived meanwhile", community.Hash{})
	if err != nil {
		t.Fatal(err)
	}
	v.msgs.add(m)
	v.msgs.applyLatest(page)
	if !hasMessage(k.rows(), "arrived meanwhile", false) {
		t.Fatal("the reload dropped a message that arrived while the page was read")
	}

	// Sent, then the page read again before the store's answer came back.
	k.send(t, "sent during a reload")
	v.msgs.reloadLatest()
	eventually(t, "the message stored", func() bool { return hasMessage(k.rows(), "sent during a reload", false) }, k.q)
	eventually(t, "no pending row left", func() bool { return !hasMessage(k.rows(), "sent during a reload", true) }, k.q)
	n := 0
	for _, r := range k.rows() {
		if r.m.Text == "sent during a reload" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d rows for one message", n)
	}
}
