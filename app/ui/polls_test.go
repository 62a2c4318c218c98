package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/kith-app/kith/app/community"
)

// rowWith is the message row whose shown text contains text, or nil.
func rowWith(k *kith, text string) *msgRow {
	for i := range k.rows() {
		if strings.Contains(shownText(k.rows()[i].m), text) {
			return &k.rows()[i]
		}
	}
	return nil
}

// TestPollsFromTheDesktop: a poll shows in its channel at every member, live: the question and
// numbered options, then "your vote" for the voter and the count for the owner as votes arrive;
// the menu offers Vote to a member who has not voted, and Close to the owner, after which the
// members see the count.
func TestPollsFromTheDesktop(t *testing.T) {
	a := test.NewTempApp(t)
	ana, bo, ctx := anaAndBo(t, a)
	av := ana.shell.view
	bosWindow(t, ana, bo)
	if _, err := ana.p.Svc.CreatePoll(ctx, av.cur, av.curCh, community.PollSpec{Question: "Which glaze for the spring sale?", Options: []string{"Celadon", "Tenmoku"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the poll in Bo's channel", func() bool { return rowWith(bo, "Which glaze") != nil }, bo.q, ana.q)
	row := rowWith(bo, "Which glaze")
	text := shownText(row.m)
	if !strings.Contains(text, "1. Celadon") || !strings.Contains(text, "2. Tenmoku") || !strings.Contains(text, "vote from this message's menu") {
		t.Fatalf("Bo's poll row:\n%s", text)
	}
	items := bo.shell.view.msgs.conversationItems(row.m)
	if len(items) == 0 || items[0].Label != "Vote…" {
		t.Fatalf("Bo's poll menu starts with %v", items)
	}
	if _, err := bo.p.Svc.Vote(ctx, av.cur, row.m.ID, []int{1}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Bo's vote on his row", func() bool {
		return strings.Contains(shownText(rowWith(bo, "Which glaze").m), "2. Tenmoku  ✓ your vote")
	}, bo.q, ana.q)
	eventually(t, "the count on Ana's row", func() bool {
		r := rowWith(ana, "Which glaze")
		return r != nil && strings.Contains(shownText(r.m), "2. Tenmoku  —  1 vote (100%)")
	}, ana.q, bo.q)
	if items := bo.shell.view.msgs.conversationItems(rowWith(bo, "Which glaze").m); items[0].Label == "Vote…" {
		t.Fatal("Bo is offered Vote again")
	}
	var closeIt func()
	for _, it := range av.msgs.conversationItems(rowWith(ana, "Which glaze").m) {
		if strings.HasPrefix(it.Label, "Close the poll") {
			closeIt = it.Action
		}
	}
	if closeIt == nil {
		t.Fatal("Ana's menu has no Close")
	}
	closeIt()
	eventually(t, "the count on Bo's row after the close", func() bool {
		r := rowWith(bo, "Which glaze")
		return r != nil && strings.Contains(shownText(r.m), "1 vote (100%)") && strings.Contains(shownText(r.m), "Closed")
	}, bo.q, ana.q)
}
