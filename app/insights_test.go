package app_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
	"github.com/kith-app/kith/app/community"
)

// TestInsights: a question asked last week and answered 30 minutes later by another member, one
// asked this week with no answer, a poll one of three members voted in, an offer one of two
// was claimed of, and two members Ana brought in this week: the figures say exactly that, per
// week, and only to the owner and moderators.
func TestInsights(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	lastWed := community.WeekOf(time.Now()).AddDate(0, 0, -5) // Wednesday 00:00 UTC, last week
	var past atomic.Int64                                     // a time to write at instead of now (0: now)
	clock := func() time.Time {
		if p := past.Load(); p != 0 {
			return time.UnixMilli(p)
		}
		return time.Now()
	}
	ana, bo, cy := apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t)
	for _, p := range []*apptest.Peer{ana, bo, cy} {
		app.SetClock(p.Svc, clock)
	}
	id := founded(t, ctx, ana, "Ana", map[*apptest.Peer]string{bo: "Bo", cy: "Cy"})
	chans, _ := ana.Svc.Channels(id)
	ch := chans[0].ID
	syncFrom(t, ctx, bo, ana, id) // each knows the other joined
	syncFrom(t, ctx, cy, ana, id)

	past.Store(lastWed.UnixMilli())
	q, err := bo.Svc.Post(ctx, id, ch, "Which clay body works for mugs?", community.Hash{})
	if err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, cy, bo, id)
	past.Store(lastWed.Add(30 * time.Minute).UnixMilli())
	if _, err := cy.Svc.Post(ctx, id, ch, "A stoneware body, cone 6.", q.ID); err != nil {
		t.Fatal(err)
	}
	past.Store(lastWed.Add(40 * time.Minute).UnixMilli())
	if _, err := bo.Svc.Post(ctx, id, ch, "Thanks!", community.Hash{}); err != nil {
		t.Fatal(err)
	}
	past.Store(0)

	if _, err := ana.Svc.Post(ctx, id, ch, "Kiln day on Saturday or Sunday?", community.Hash{}); err != nil {
		t.Fatal(err)
	}
	poll, err := ana.Svc.CreatePoll(ctx, id, ch, community.PollSpec{Question: "Which glaze next?", Options: []string{"Celadon", "Tenmoku"}})
	if err != nil {
		t.Fatal(err)
	}
	offer, err := ana.Svc.CreateOffer(ctx, id, ch, community.OfferSpec{Title: "Early access", Quantity: 2, Expires: time.Now().Add(time.Hour)}, "")
	if err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, bo, ana, id)
	if _, err := bo.Svc.Vote(ctx, id, poll.ID, []int{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := bo.Svc.Claim(ctx, id, offer.ID); err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, ana, bo, id)
	syncFrom(t, ctx, ana, cy, id)

	in, err := ana.Svc.Insights(id, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Weeks) != 2 || !in.Weeks[1].Start.Equal(community.WeekOf(time.Now())) {
		t.Fatalf("weeks: %+v", in.Weeks)
	}
	last, this := in.Weeks[0], in.Weeks[1]
	if last.Active != 2 || last.Messages != 3 || last.Questions != 1 || last.Answered != 1 || last.FirstAnswer != 30*time.Minute || last.NewMembers != 0 {
		t.Errorf("last week: %+v", last)
	}
	// This week: Ana (the post, the poll, the offer) and Bo (the vote, the claim) took part.
	if this.Active != 2 || this.Messages != 1 || this.Questions != 1 || this.Answered != 0 || this.NewMembers != 2 {
		t.Errorf("this week: %+v", this)
	}
	if in.FirstAnswer != 30*time.Minute || in.Members != 3 {
		t.Errorf("overall: first answer %v, members %d", in.FirstAnswer, in.Members)
	}
	if len(in.Polls) != 1 || in.Polls[0].Voters != 1 || in.Polls[0].Members != 3 {
		t.Errorf("polls: %+v", in.Polls)
	}
	if len(in.Offers) != 1 || in.Offers[0].Claimed != 1 || in.Offers[0].Granted != 1 || in.Offers[0].Quantity != 2 {
		t.Errorf("offers: %+v", in.Offers)
	}
	if len(in.Brought) != 1 || in.Brought[0].Name != "Ana" || in.Brought[0].Count != 2 {
		t.Errorf("brought: %+v", in.Brought)
	}
	if _, err := bo.Svc.Insights(id, 2); app.KindOf(err) != app.KindNotAllowed {
		t.Fatalf("a member's insights: %v", err)
	}
	if _, err := ana.Svc.Insights(id, 53); app.KindOf(err) != app.KindBadInput {
		t.Fatalf("53 weeks: %v", err)
	}
	if in, err := ana.Svc.Insights(id, 0); err != nil || len(in.Weeks) != app.DefaultInsightWeeks {
		t.Fatalf("the default window: %d weeks, %v", len(in.Weeks), err)
	}
}
