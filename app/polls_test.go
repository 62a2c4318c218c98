package app_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
	"github.com/kith-app/kith/app/community"
)

// TestPollsOverTheNetwork: the owner asks; members vote over real hosts; the owner counts at once
// while members see only that they voted; a second vote, a vote on a closed poll, two choices on a
// one-choice poll are refused with a sentence, and the same acts written anyway are not counted;
// the close carries the count members then see; a poll whose results are never shown stays so.
func TestPollsOverTheNetwork(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	owner, bo, cy := apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, owner, "Ana", map[*apptest.Peer]string{bo: "Bo", cy: "Cy"})
	chans, _ := owner.Svc.Channels(id)
	general := chans[0].ID
	if _, err := bo.Svc.CreatePoll(ctx, id, general, community.PollSpec{Question: "Q?", Options: []string{"a", "b"}}); app.KindOf(err) != app.KindNotAllowed {
		t.Fatalf("a member asks a poll: %v", err)
	}
	for _, bad := range []community.PollSpec{
		{Question: "Q?", Options: []string{"only one"}},
		{Question: "", Options: []string{"a", "b"}},
		{Question: "Q?", Options: []string{"Same", "same"}},
		{Question: "Q?", Options: []string{"a", "b"}, Closes: time.Now().Add(-time.Hour)},
	} {
		if _, err := owner.Svc.CreatePoll(ctx, id, general, bad); app.KindOf(err) != app.KindBadInput {
			t.Fatalf("poll %+v: %v (kind %v), want bad input", bad, err, app.KindOf(err))
		}
	}
	poll, err := owner.Svc.CreatePoll(ctx, id, general, community.PollSpec{
		Question: "Which glaze for the spring sale?", Options: []string{"Celadon", "Tenmoku", "Shino"}, Closes: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, bo, owner, id)
	syncFrom(t, ctx, cy, owner, id)
	if _, err := bo.Svc.Vote(ctx, id, poll.ID, []int{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := bo.Svc.Vote(ctx, id, poll.ID, []int{0}); app.KindOf(err) != app.KindBadInput {
		t.Fatalf("voting twice: %v", err)
	}
	if err := app.VoteAnyway(bo.Svc, id, poll.ID, []int{0}); err != nil { // written anyway: not counted
		t.Fatal(err)
	}
	if _, err := cy.Svc.Vote(ctx, id, poll.ID, []int{0, 2}); app.KindOf(err) != app.KindBadInput {
		t.Fatalf("two choices on a one-choice poll: %v", err)
	}
	if _, err := cy.Svc.Vote(ctx, id, poll.ID, []int{5}); app.KindOf(err) != app.KindBadInput {
		t.Fatalf("an option that does not exist: %v", err)
	}
	if _, err := cy.Svc.Vote(ctx, id, poll.ID, []int{1}); err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, owner, bo, id)
	syncFrom(t, ctx, owner, cy, id)
	syncFrom(t, ctx, bo, cy, id)

	seen, err := owner.Svc.PollOf(id, poll.ID)
	if err != nil || seen.Results == nil || !slices.Equal(seen.Results.Votes, []int{0, 2, 0}) || seen.Results.Voters != 2 || seen.Results.Published {
		t.Fatalf("the owner's count: %+v, %v", seen.Results, err)
	}
	mine, _ := bo.Svc.PollOf(id, poll.ID)
	if mine.Results != nil || !mine.Voted || !slices.Equal(mine.Mine, []int{1}) || mine.ResultsNote == "" {
		t.Fatalf("Bo before the close: results %+v, voted %v, mine %v, note %q", mine.Results, mine.Voted, mine.Mine, mine.ResultsNote)
	}

	closed, err := owner.Svc.ClosePoll(ctx, id, poll.ID)
	if err != nil || !closed.Closed {
		t.Fatalf("close: %v", err)
	}
	syncFrom(t, ctx, bo, owner, id)
	after, _ := bo.Svc.PollOf(id, poll.ID)
	if after.Results == nil || !after.Results.Published || !slices.Equal(after.Results.Votes, []int{0, 2, 0}) || after.Results.Voters != 2 {
		t.Fatalf("Bo after the close: %+v (%q)", after.Results, after.ResultsNote)
	}
	if _, err := cy.Svc.Vote(ctx, id, poll.ID, []int{0}); app.KindOf(err) == app.KindUnknown || err == nil {
		// Cy has not synced the close yet, but voted already: either sentence is right.
		t.Fatalf("Cy votes again: %v", err)
	}

	// Results never shown to members; several choices.
	secret, err := owner.Svc.CreatePoll(ctx, id, general, community.PollSpec{
		Question: "What should we make next?", Options: []string{"Mugs", "Bowls", "Vases"}, Multi: true, ResultsNever: true})
	if err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, bo, owner, id)
	if _, err := bo.Svc.Vote(ctx, id, secret.ID, []int{0, 2}); err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, owner, bo, id)
	if _, err := owner.Svc.ClosePoll(ctx, id, secret.ID); err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, bo, owner, id)
	if v, _ := bo.Svc.PollOf(id, secret.ID); v.Results != nil || !v.Closed {
		t.Fatalf("a never-shown poll after its close, as Bo sees it: %+v", v.Results)
	}
	if v, _ := owner.Svc.PollOf(id, secret.ID); v.Results == nil || !slices.Equal(v.Results.Votes, []int{1, 0, 1}) {
		t.Fatalf("the owner's count of the never-shown poll: %+v", v.Results)
	}
	if _, err := bo.Svc.Vote(ctx, id, secret.ID, []int{1}); err == nil {
		t.Fatal("a vote on a closed poll was taken")
	}
	polls, err := bo.Svc.Polls(id, 0)
	if err != nil || len(polls) != 2 || polls[0].ID != secret.ID {
		t.Fatalf("Bo's polls: %d, %v", len(polls), err)
	}
}
