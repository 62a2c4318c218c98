package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"github.com/kith-app/kith/app/community"
)

// TestSearchFromTheDesktop: Ctrl+F opens the search; Enter lists the messages holding every
// word, newest first; a tap goes to the message in its channel; no match says so.
func TestSearchFromTheDesktop(t *testing.T) {
	a := test.NewTempApp(t)
	ana, bo, ctx := anaAndBo(t, a)
	av := ana.shell.view
	for _, text := range []string{"Kiln day is Saturday", "Glaze notes for the kiln", "Bring snacks"} {
		if _, err := ana.p.Svc.Post(ctx, av.cur, av.curCh, text, community.Hash{}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the posts in Ana's channel", func() bool { return rowWith(ana, "Bring snacks") != nil }, ana.q, bo.q)
	ctrlF(t, ana)
	if av.searchQuery == nil {
		t.Fatal("Ctrl+F opened no search")
	}
	test.Type(av.searchQuery, "KILN")
	av.searchQuery.OnSubmitted(av.searchQuery.Text)
	dlg := ana.win.Canvas().Overlays().Top()
	eventually(t, "two results", func() bool { return labelWith(dlg, "2 messages, the newest first") != nil }, ana.q, bo.q)
	first := find(dlg, "#general · Ana · "+strings.Split(av.searchLine(mustRow(t, ana, "Glaze notes").m), " · ")[2])
	if first == nil {
		t.Fatal("no result for the glaze notes")
	}
	test.Tap(first)
	eventually(t, "the dialog closed", func() bool { return ana.win.Canvas().Overlays().Top() == nil }, ana.q, bo.q)
	ctrlF(t, ana)
	test.Type(av.searchQuery, "kiln sunday")
	av.searchQuery.OnSubmitted(av.searchQuery.Text)
	eventually(t, "no match", func() bool {
		return labelWith(ana.win.Canvas().Overlays().Top(), "No message here holds every one of those words.") != nil
	}, ana.q, bo.q)
}

func mustRow(t *testing.T, k *kith, text string) *msgRow {
	t.Helper()
	r := rowWith(k, text)
	if r == nil {
		t.Fatalf("no row with %q", text)
	}
	return r
}

// ctrlF presses Ctrl+F through the main menu item that carries it (the test canvas takes no
// shortcuts; the real window routes them there).
func ctrlF(t *testing.T, k *kith) {
	t.Helper()
	for _, m := range k.win.MainMenu().Items {
		for _, it := range m.Items {
			if s, ok := it.Shortcut.(*desktop.CustomShortcut); ok && s.KeyName == fyne.KeyF && s.Modifier == fyne.KeyModifierShortcutDefault {
				it.Action()
				return
			}
		}
	}
	t.Fatal("no menu item has Ctrl+F")
}
