package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/kith-app/kith/app"
)

// TestPromotionsFromTheDesktop: the owner posts a promotion from Community > Promotions…, whose
// budget line counts it; Bo sees it marked "promotion", mutes promotions in the same dialog and
// it leaves his conversation while a plain post stays; with the week's budget used, the owner's
// Post button is off and the dialog says when the next can go out.
func TestPromotionsFromTheDesktop(t *testing.T) {
	a := test.NewTempApp(t)
	ana, bo, ctx := anaAndBo(t, a)
	av := ana.shell.view
	bosWindow(t, ana, bo)
	if _, err := ana.p.Svc.SetEntry(ctx, av.cur, func(e *app.EntrySettings) { e.PromotionsPerWeek = 1 }); err != nil {
		t.Fatal(err)
	}
	menuItem(ana.win.MainMenu().Items[2], "Promotions…").Action()
	eventually(t, "Ana's promotions dialog", func() bool {
		return labelWith(ana.win.Canvas().Overlays().Top(), "This week: 0 of 1") != nil
	}, ana.q, bo.q)
	dlg := ana.win.Canvas().Overlays().Top()
	test.Type(entryIn(t, dlg), "The spring drop opens Friday")
	post := find(dlg, "Post the promotion in #"+av.channelName())
	test.Tap(post)
	eventually(t, "the budget used", func() bool {
		return labelWith(dlg, "This week: 1 of 1") != nil && labelWith(dlg, "The next can go out on") != nil && post.Disabled()
	}, ana.q, bo.q)
	eventually(t, "the promotion at Bo's", func() bool {
		r := rowWith(bo, "spring drop")
		return r != nil && strings.Contains(footOf(r.m), "promotion")
	}, bo.q, ana.q)
	for _, it := range bo.shell.view.msgs.conversationItems(rowWith(bo, "spring drop").m) {
		if it.Label == "Helpful" {
			t.Fatal("a promotion offers Helpful")
		}
	}
	bo.shell.view.msgs.post("plain hello", [32]byte{})
	menuItem(bo.win.MainMenu().Items[2], "Promotions…").Action()
	eventually(t, "Bo's promotions dialog", func() bool {
		return labelWith(bo.win.Canvas().Overlays().Top(), "This week: 1 of 1") != nil
	}, bo.q, ana.q)
	bdlg := bo.win.Canvas().Overlays().Top()
	if find(bdlg, "Post the promotion in #"+av.channelName()) != nil {
		t.Fatal("a member is offered to post a promotion")
	}
	test.Tap(findCheck(bdlg, "Mute promotions on this device: they do not show and do not notify"))
	eventually(t, "the promotion gone from Bo's conversation", func() bool {
		return rowWith(bo, "spring drop") == nil && rowWith(bo, "plain hello") != nil
	}, bo.q, ana.q)
}
