package ui

import (
	"bytes"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
)

// nopCloser is a buffer a card is written to, as a file the person chose.
type nopCloser struct{ *bytes.Buffer }

func (nopCloser) Close() error { return nil }

// TestBadgesFromTheDesktop: the owner signs a badge from Bo's actions ("Give a badge…"); Bo's
// board shows it with "Save its card…"; the card written checks out as File > Check a badge
// card… reads it, and a changed one does not; a member has no "Give a badge…".
func TestBadgesFromTheDesktop(t *testing.T) {
	a := test.NewTempApp(t)
	ana, bo, _ := anaAndBo(t, a)
	av, bv := ana.shell.view, bo.shell.view
	eventually(t, "both see each other", func() bool {
		return bo.win.Content() == bv.content && len(bv.members) == 2 && len(av.members) == 2
	}, bo.q, ana.q)
	var give func()
	for _, m := range av.members {
		if m.Name == "Bo" {
			for _, act := range av.memberActions(m.MemberView) {
				if act.label == "Give a badge…" {
					give = act.direct
				}
			}
		}
	}
	for _, m := range bv.members {
		for _, act := range bv.memberActions(m.MemberView) {
			if act.label == "Give a badge…" {
				t.Fatal("a member is offered to give a badge")
			}
		}
	}
	if give == nil {
		t.Fatal("the owner's actions on Bo have no Give a badge…")
	}
	give()
	dlg := ana.win.Canvas().Overlays().Top()
	test.Type(entryIn(t, dlg), "Kiln master")
	test.Tap(find(dlg, "Sign the badge"))
	eventually(t, "the badge at Bo's", func() bool {
		bs, err := bo.p.Svc.Badges(bv.cur)
		return err == nil && len(bs) == 1 && bs[0].Mine
	}, bo.q, ana.q)
	bv.openBoard()
	eventually(t, "Bo's board with his badge", func() bool {
		top := bo.win.Canvas().Overlays().Top()
		return top != nil && labelWith(top, "🏅 Kiln master") != nil && find(top, "Save its card…") != nil
	}, bo.q, ana.q)
	bs, _ := bo.p.Svc.Badges(bv.cur)
	var page bytes.Buffer
	if err := bv.writeCard(bv.cur, bs[0].ID, nopCloser{&page}); err != nil {
		t.Fatal(err)
	}
	text, ok := checkCard(strings.NewReader(page.String()))
	if !ok || !strings.Contains(text, `the badge "Kiln master"`) {
		t.Fatalf("checking the saved card: %v %s", ok, text)
	}
	changed := strings.Replace(page.String(), "kithbadge1A", "kithbadge1A"+"A", 1)
	if text, ok := checkCard(strings.NewReader(changed)); ok || !strings.HasPrefix(text, "Not valid") {
		t.Fatalf("a changed card: %v %s", ok, text)
	}
	if menuItem(bo.win.MainMenu().Items[0], "Check a badge card…") == nil {
		t.Fatal("no Check a badge card… in the File menu")
	}
}
