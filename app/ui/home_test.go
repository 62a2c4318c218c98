package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/kith-app/kith/app/apptest"
)

// uiQueue stands in for the Fyne thread in tests: the test driver runs fyne.Do on the calling
// goroutine, so background work queues its widget updates here and the test goroutine runs them.
type uiQueue chan func()

func (q uiQueue) do(f func()) { q <- f }

// eventually runs queued widget updates until cond holds, with a deadline.
func (q uiQueue) eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for drained := false; !drained; {
			select {
			case f := <-q:
				f()
			default:
				drained = true
			}
		}
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCreateCommunityByTapping(t *testing.T) {
	a := test.NewTempApp(t)
	w := a.NewWindow("Kith")
	svc := apptest.New(t).Svc
	q := make(uiQueue, 100)
	h := newHome(svc, w, q.do)
	w.SetContent(h.Content())
	w.Resize(fyne.NewSize(1000, 650))

	q.eventually(t, "the empty state", func() bool { return h.empty.Visible() })
	// No name: a sentence, no community.
	test.Tap(h.create)
	if !strings.Contains(h.status.Text, "name") {
		t.Fatalf("status = %q", h.status.Text)
	}
	test.Type(h.you, "Ana")
	test.Type(h.name, "Clay Studio Friends")
	test.Type(h.cap, "1")
	test.Tap(h.create)
	if !strings.Contains(h.status.Text, "Member cap") {
		t.Fatalf("cap 1 accepted: %q", h.status.Text)
	}
	h.cap.SetText("100")
	test.Tap(h.create)
	q.eventually(t, "the new community in the list", func() bool { return len(h.items) == 1 && !h.empty.Visible() })
	if h.items[0].Name != "Clay Studio Friends" || h.items[0].Members != 1 {
		t.Fatalf("items = %+v", h.items)
	}
	// The recovery words are shown once, in a dialog over the window.
	var words []string
	q.eventually(t, "the recovery words", func() bool {
		words = nil
		for _, o := range w.Canvas().Overlays().List() {
			walk(t, o, func(l *widget.Label) {
				if f := strings.Fields(l.Text); len(f) == 2 && strings.HasSuffix(f[0], ".") {
					words = append(words, f[1])
				}
			})
		}
		return len(words) == 18
	})
}

// walk calls fn for every label under o.
func walk(t *testing.T, o fyne.CanvasObject, fn func(*widget.Label)) {
	switch x := o.(type) {
	case *widget.Label:
		fn(x)
	case *fyne.Container:
		for _, c := range x.Objects {
			walk(t, c, fn)
		}
	case fyne.Widget:
		r := test.TempWidgetRenderer(t, x)
		if r == nil {
			return
		}
		for _, c := range r.Objects() {
			walk(t, c, fn)
		}
	}
}
