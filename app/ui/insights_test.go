package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/kith-app/kith/app/community"
)

// TestInsightsFromTheDesktop: Community > Insights… is for the owner and moderators; the owner's
// shows a chart whose bars for this week are as tall as its counts say (messages over members
// who took part) and the figures under it; a member's item is off.
func TestInsightsFromTheDesktop(t *testing.T) {
	a := test.NewTempApp(t)
	ana, bo, ctx := anaAndBo(t, a)
	av := ana.shell.view
	bosWindow(t, ana, bo)
	for _, text := range []string{"Kiln day on Saturday?", "Bring your greenware", "Glaze notes are pinned"} {
		if _, err := ana.p.Svc.Post(ctx, av.cur, av.curCh, text, community.Hash{}); err != nil {
			t.Fatal(err)
		}
	}
	if it := menuItem(bo.win.MainMenu().Items[2], "Insights…"); it == nil || !it.Disabled {
		t.Fatalf("Insights… for a member: %+v", it)
	}
	menuItem(ana.win.MainMenu().Items[2], "Insights…").Action()
	eventually(t, "Ana's insights", func() bool {
		return labelWith(ana.win.Canvas().Overlays().Top(), "This week: 1 of 2 members took part, 3 messages, 1 new member.") != nil
	}, ana.q, bo.q)
	dlg := ana.win.Canvas().Overlays().Top()
	if labelWith(dlg, "Questions: 1 asked, none answered by another member yet.") == nil || labelWith(dlg, "brought by: Ana 1") == nil {
		t.Fatal("the figures under the chart are missing")
	}
	var chart *barChart
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *barChart:
			chart = x
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c)
			}
		}
	}
	walk(dlg)
	if chart == nil {
		t.Fatal("no chart in the insights")
	}
	if len(chart.labels) != 8 || chart.labels[7] != community.WeekOf(time.Now()).Format("2 Jan") {
		t.Fatalf("chart labels: %s", strings.Join(chart.labels, ", "))
	}
	r := test.WidgetRenderer(chart).(*chartRenderer)
	chart.Resize(fyne.NewSize(600, 240))
	msgs, people := r.bars[0][7], r.bars[1][7]
	if ratio := msgs.Size().Height / people.Size().Height; people.Size().Height <= 0 || ratio < 2.99 || ratio > 3.01 {
		t.Fatalf("this week's bars: messages %v, members %v (want 3:1)", msgs.Size(), people.Size())
	}
	if r.bars[0][0].Size().Height != 0 || r.values[0][7].Text != "3" {
		t.Fatalf("an empty week's bar is %v tall; this week's count reads %q", r.bars[0][0].Size(), r.values[0][7].Text)
	}
}
