package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/kith-app/kith/app/community"
)

// TestFeedbackFromTheDesktop: a feedback request shows in its channel at every member; a member
// it asks is offered Answer; the owner's row counts the answers and its menu reads them; when the
// owner sets the status, the member who answered is told ("you asked → we did it") and its row
// says so.
func TestFeedbackFromTheDesktop(t *testing.T) {
	a := test.NewTempApp(t)
	ana, bo, ctx := anaAndBo(t, a)
	av := ana.shell.view
	bosWindow(t, ana, bo)
	f, err := ana.p.Svc.Ask(ctx, av.cur, av.curCh, community.FeedbackSpec{Question: "What should the spring sale include?"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the request in Bo's channel", func() bool { return rowWith(bo, "spring sale include") != nil }, bo.q, ana.q)
	row := rowWith(bo, "spring sale include")
	if !strings.Contains(shownText(row.m), "answer from this message's menu") {
		t.Fatalf("Bo's request row:\n%s", shownText(row.m))
	}
	if items := bo.shell.view.msgs.conversationItems(row.m); len(items) == 0 || items[0].Label != "Answer…" {
		t.Fatalf("Bo's menu: %v", items)
	}
	if _, err := bo.p.Svc.Answer(ctx, av.cur, f.ID, "More small cups, please"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the answer counted on Ana's row", func() bool {
		r := rowWith(ana, "spring sale include")
		return r != nil && strings.Contains(shownText(r.m), "1 answer")
	}, ana.q, bo.q)
	var read bool
	for _, it := range av.msgs.conversationItems(rowWith(ana, "spring sale include").m) {
		read = read || it.Label == "Read the answers (1)…"
	}
	if !read {
		t.Fatal("Ana's menu does not read the answers")
	}
	bo.shell.focused = false
	test.AssertNotificationSent(t, &fyne.Notification{Title: "You asked: What should the spring sale include?", Content: "We did it: Small cups are in the sale"}, func() {
		if _, err := ana.p.Svc.SetFeedbackStatus(ctx, av.cur, f.ID, "done", "Small cups are in the sale"); err != nil {
			t.Fatal(err)
		}
		eventually(t, "Bo's row says what was done", func() bool {
			r := rowWith(bo, "spring sale include")
			return r != nil && strings.Contains(shownText(r.m), "You asked → we did it") && strings.Contains(shownText(r.m), "Small cups are in the sale")
		}, bo.q, ana.q)
	})
}
