package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/kith-app/kith/app/community"
)

// TestOffersFromTheDesktop: an offer shows in its channel; a member claims it from its menu and,
// once the owner's install has sealed the code to it, reads the code on the offer's row; the
// owner's menu lists who claimed and asks the granted members for feedback.
func TestOffersFromTheDesktop(t *testing.T) {
	a := test.NewTempApp(t)
	ana, bo, ctx := anaAndBo(t, a)
	av := ana.shell.view
	bosWindow(t, ana, bo)
	if _, err := ana.p.Svc.CreateOffer(ctx, av.cur, av.curCh, community.OfferSpec{Title: "Early access", Text: "20% off before the sale.", Quantity: 3, Expires: time.Now().Add(time.Hour)}, "SPRING-20"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the offer in Bo's channel", func() bool { return rowWith(bo, "Early access") != nil }, bo.q, ana.q)
	row := rowWith(bo, "Early access")
	if !strings.Contains(shownText(row.m), "3 of 3 left") || !strings.Contains(shownText(row.m), "claim it from this message's menu") {
		t.Fatalf("Bo's offer row:\n%s", shownText(row.m))
	}
	items := bo.shell.view.msgs.conversationItems(row.m)
	if len(items) == 0 || items[0].Label != "Claim" {
		t.Fatalf("Bo's menu: %v", items)
	}
	items[0].Action()
	eventually(t, "Bo reads the code", func() bool {
		r := rowWith(bo, "Early access")
		return r != nil && strings.Contains(shownText(r.m), "your code is SPRING-20") && strings.Contains(shownText(r.m), "2 of 3 left")
	}, bo.q, ana.q)
	var labels []string
	for _, it := range av.msgs.conversationItems(rowWith(ana, "Early access").m) {
		labels = append(labels, it.Label)
	}
	if !strings.Contains(strings.Join(labels, "|"), "Who claimed (1)…") || !strings.Contains(strings.Join(labels, "|"), "Ask the granted members for feedback…") {
		t.Fatalf("Ana's offer menu: %v", labels)
	}
}
