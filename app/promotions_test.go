package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
	"github.com/kith-app/kith/app/community"
)

// shows reports whether p's view of a channel has a message with text, and whether it is
// marked over the budget.
func shows(t *testing.T, p *apptest.Peer, id, channel community.Hash, text string) (shown, over bool) {
	t.Helper()
	ms, err := p.Svc.Messages(id, channel, community.Position{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Text == text || (m.Offer != nil && m.Offer.Title == text) {
			return true, m.OverBudget
		}
	}
	return false, false
}

// TestPromotionBudget: the owner's and a moderator's promotions share the weekly budget; the
// writer refuses one past it with a sentence (an offer too); promotions written apart past the
// budget settle the same way at every member once the logs meet — the one that sorts last is
// over, members do not see it, the owner sees it marked —; a member who mutes promotions sees
// none, and a deletion frees its place.
func TestPromotionBudget(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ana, bo, cy := apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, ana, "Ana", map[*apptest.Peer]string{bo: "Bo", cy: "Cy"})
	if err := ana.Svc.SetRole(ctx, id, cy.Member().Key, community.RoleModerator); err != nil {
		t.Fatal(err)
	}
	if _, err := ana.Svc.SetEntry(ctx, id, func(e *app.EntrySettings) { e.PromotionsPerWeek = 2 }); err != nil {
		t.Fatal(err)
	}
	if _, err := ana.Svc.SetEntry(ctx, id, func(e *app.EntrySettings) { e.PromotionsPerWeek = community.MaxPromotionsPerWeek + 1 }); app.KindOf(err) != app.KindBadInput {
		t.Fatalf("a budget past the maximum: %v", err)
	}
	syncFrom(t, ctx, bo, ana, id)
	syncFrom(t, ctx, cy, ana, id)
	chans, _ := ana.Svc.Channels(id)
	ch := chans[0].ID
	if _, err := bo.Svc.PostPromotion(ctx, id, ch, "buy my stuff"); app.KindOf(err) != app.KindNotAllowed {
		t.Fatalf("a member's promotion: %v", err)
	}
	for _, text := range []string{"Launch on Friday", "Early tickets"} {
		if _, err := ana.Svc.PostPromotion(ctx, id, ch, text); err != nil {
			t.Fatal(err)
		}
	}
	_, err := ana.Svc.PostPromotion(ctx, id, ch, "One more")
	if app.KindOf(err) != app.KindNotAllowed || !strings.Contains(err.Error(), "2 of 2") {
		t.Fatalf("a third promotion in the week: %v", err)
	}
	if _, err := ana.Svc.CreateOffer(ctx, id, ch, community.OfferSpec{Title: "20% off", Quantity: 5, Expires: time.Now().Add(time.Hour)}, ""); app.KindOf(err) != app.KindNotAllowed {
		t.Fatalf("an offer past the budget: %v", err)
	}
	if _, err := ana.Svc.Post(ctx, id, ch, "Just chatting", community.Hash{}); err != nil {
		t.Fatalf("a plain post is not a promotion: %v", err)
	}
	b, err := ana.Svc.PromotionBudget(id)
	if err != nil || b.PerWeek != 2 || b.Used != 2 || !b.NextFree.After(time.Now()) {
		t.Fatalf("Ana's budget: %+v, %v", b, err)
	}
	// Cy, apart, sees none used and promotes too; then the logs meet.
	if _, err := cy.Svc.PostPromotion(ctx, id, ch, "Cy's workshop"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*apptest.Peer{ana, bo, cy} {
		for _, q := range []*apptest.Peer{ana, bo, cy} {
			if p != q {
				syncFrom(t, ctx, p, q, id)
			}
		}
	}
	// Which one is over depends on the log's order: the same at every member.
	texts := []string{"Launch on Friday", "Early tickets", "Cy's workshop"}
	var overText string
	for _, text := range texts {
		shown, over := shows(t, ana, id, ch, text)
		if !shown {
			t.Fatalf("the owner does not see %q", text)
		}
		if over {
			if overText != "" {
				t.Fatalf("two over the budget of 2: %q and %q", overText, text)
			}
			overText = text
		}
	}
	if overText == "" {
		t.Fatal("three promotions in a week with a budget of 2, none over it")
	}
	for name, p := range map[string]*apptest.Peer{"Bo": bo, "Cy": cy} {
		for _, text := range texts {
			shown, over := shows(t, p, id, ch, text)
			staff := p == cy
			switch {
			case text == overText && staff && !(shown && over):
				t.Errorf("%s (a moderator) should see %q marked over the budget", name, text)
			case text == overText && !staff && shown:
				t.Errorf("%s (a member) sees %q, past the budget", name, text)
			case text != overText && (!shown || over):
				t.Errorf("%s: %q shown %v, over %v", name, text, shown, over)
			}
		}
	}
	// Bo mutes promotions: none shows, the plain post does; then shows them again.
	if err := bo.Svc.MutePromotions(id, true); err != nil {
		t.Fatal(err)
	}
	for _, text := range texts {
		if shown, _ := shows(t, bo, id, ch, text); shown {
			t.Fatalf("muted, Bo still sees %q", text)
		}
	}
	if shown, _ := shows(t, bo, id, ch, "Just chatting"); !shown {
		t.Fatal("muting promotions hid a plain post")
	}
	if b, _ := bo.Svc.PromotionBudget(id); !b.Muted || b.CanPost {
		t.Fatalf("Bo's view of the budget: %+v", b)
	}
	if err := bo.Svc.MutePromotions(id, false); err != nil {
		t.Fatal(err)
	}
	if shown, _ := shows(t, bo, id, ch, texts[0]); shown == (texts[0] == overText) {
		t.Fatalf("unmuted, Bo's view of %q is wrong", texts[0])
	}
	// Ana deletes one that counts: the one over the budget now counts, at Bo's too.
	var counted community.Hash
	ms, _ := ana.Svc.Messages(id, ch, community.Position{}, 100)
	for _, m := range ms {
		if m.Promotion && !m.OverBudget && m.Text != overText {
			counted = m.ID
		}
	}
	if err := ana.Svc.DeleteMessage(ctx, id, counted); err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, bo, ana, id)
	if shown, over := shows(t, bo, id, ch, overText); !shown || over {
		t.Fatalf("after a deletion freed a place, Bo's view of %q: shown %v, over %v", overText, shown, over)
	}
}

// TestPromotionPastTheBudgetFromAPeer: a promotion written past the budget by a peer that skips
// the check is kept from members, and so is one filed under a channel that does not exist (it
// counts all the same); an offer that a smaller budget leaves past it cannot be claimed and is
// listed to the owner and to the member who had claimed it, who keeps it.
func TestPromotionPastTheBudgetFromAPeer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ana, bo, cy := apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, ana, "Ana", map[*apptest.Peer]string{bo: "Bo", cy: "Cy"})
	if _, err := ana.Svc.SetEntry(ctx, id, func(e *app.EntrySettings) { e.PromotionsPerWeek = 2 }); err != nil {
		t.Fatal(err)
	}
	chans, _ := ana.Svc.Channels(id)
	ch := chans[0].ID
	if _, err := ana.Svc.PostPromotion(ctx, id, ch, "Buy now"); err != nil {
		t.Fatal(err)
	}
	o, err := ana.Svc.CreateOffer(ctx, id, ch, community.OfferSpec{Title: "First look", Quantity: 5, Expires: time.Now().Add(time.Hour)}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.PromoteAnyway(ana.Svc, id, ch, "Buy later"); err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, bo, ana, id)
	if shown, _ := shows(t, bo, id, ch, "Buy later"); shown {
		t.Fatal("Bo sees a promotion past the budget")
	}
	if shown, _ := shows(t, bo, id, ch, "Buy now"); !shown {
		t.Fatal("Bo does not see a promotion within the budget")
	}
	if _, err := bo.Svc.Claim(ctx, id, o.ID); err != nil {
		t.Fatalf("claiming the offer within the budget: %v", err)
	}
	syncFrom(t, ctx, ana, bo, id)
	// A budget of 1 leaves the offer (the second of the week) past it.
	if _, err := ana.Svc.SetEntry(ctx, id, func(e *app.EntrySettings) { e.PromotionsPerWeek = 1 }); err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, bo, ana, id)
	syncFrom(t, ctx, cy, ana, id)
	if _, err := cy.Svc.Claim(ctx, id, o.ID); app.KindOf(err) != app.KindNotAllowed || !strings.Contains(err.Error(), "budget") {
		t.Fatalf("claiming an offer past the budget: %v", err)
	}
	if offers, _ := cy.Svc.Offers(id); len(offers) != 0 {
		t.Fatalf("Cy lists %d offers past the budget", len(offers))
	}
	if offers, _ := bo.Svc.Offers(id); len(offers) != 1 || !offers[0].Mine || !offers[0].OverBudget {
		t.Fatalf("Bo, who claimed it, lists: %+v", offers)
	}
	if shown, over := shows(t, bo, id, ch, "First look"); !shown || !over {
		t.Fatalf("Bo's conversation: the offer he claimed shown %v, marked %v", shown, over)
	}
	if shown, _ := shows(t, cy, id, ch, "First look"); shown {
		t.Fatal("Cy sees the offer past the budget")
	}
	if offers, _ := ana.Svc.Offers(id); len(offers) != 1 || !offers[0].OverBudget {
		t.Fatalf("Ana's list: %+v", offers)
	}

	// A promotion filed under a channel nobody made counts all the same, at every member: with a
	// budget of 5, this week has used 4 (Buy now, the offer, Buy later and it).
	if _, err := app.PromoteAnyway(ana.Svc, id, community.Hash{0x42}, "Nowhere"); err != nil {
		t.Fatal(err)
	}
	if _, err := ana.Svc.SetEntry(ctx, id, func(e *app.EntrySettings) { e.PromotionsPerWeek = 5 }); err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, bo, ana, id)
	for _, p := range []*apptest.Peer{ana, bo} {
		b, err := p.Svc.PromotionBudget(id)
		if err != nil || b.Used != 4 {
			t.Fatalf("the budget used: %+v, %v", b, err)
		}
	}
}
