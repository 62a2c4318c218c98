package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
)

// TestRecognitionFromTheDesktop: "Helpful" on another member's message (not on one's own) puts
// its author on the board; the owner's actions on a member offer kudos.
func TestRecognitionFromTheDesktop(t *testing.T) {
	a := test.NewTempApp(t)
	ana, bo, ctx := anaAndBo(t, a)
	av, bv := ana.shell.view, bo.shell.view
	bosWindow(t, ana, bo)
	if _, err := ana.p.Svc.Post(ctx, av.cur, av.curCh, "Cone 6 works best for this clay", [32]byte{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Ana's tip at Bo's", func() bool { return rowWith(bo, "Cone 6") != nil }, bo.q, ana.q)
	var helpful func()
	for _, it := range bv.msgs.conversationItems(rowWith(bo, "Cone 6").m) {
		if it.Label == "Helpful" {
			helpful = it.Action
		}
	}
	if helpful == nil {
		t.Fatal("no Helpful on another member's message")
	}
	quote := false
	for _, it := range av.msgs.conversationItems(rowWith(ana, "Cone 6").m) {
		if it.Label == "Helpful" {
			t.Fatal("Helpful offered on one's own message")
		}
		quote = quote || it.Label == "OK to quote…"
	}
	if !quote {
		t.Fatal("no OK to quote on one's own message")
	}
	for _, it := range bv.msgs.conversationItems(rowWith(bo, "Cone 6").m) {
		if it.Label == "OK to quote…" {
			t.Fatal("OK to quote offered on someone else's message")
		}
	}
	helpful()
	eventually(t, "Ana on the board", func() bool {
		board, err := ana.p.Svc.RecognitionBoard(av.cur)
		return err == nil && len(board) == 1 && strings.Contains(boardText(board), "1. Ana")
	}, ana.q, bo.q)
	var kudos bool
	for _, m := range av.members {
		if m.Name == "Bo" {
			for _, act := range av.memberActions(m.MemberView) {
				kudos = kudos || act.label == "Give kudos…"
			}
		}
	}
	if !kudos {
		t.Fatal("the owner's actions on Bo do not offer kudos")
	}
	// The Community menu: the owner's and moderators' items are disabled for a member.
	community := bo.win.MainMenu().Items[2]
	if it := menuItem(community, "New poll…"); it == nil || !it.Disabled {
		t.Fatalf("New poll… for a member: %+v", it)
	}
	if it := menuItem(ana.win.MainMenu().Items[2], "New poll…"); it == nil || it.Disabled {
		t.Fatalf("New poll… for the owner: %+v", it)
	}
	if it := menuItem(community, "Recognition…"); it == nil || it.Disabled {
		t.Fatalf("Recognition… for a member: %+v", it)
	}
}
