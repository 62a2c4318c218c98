package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
	"github.com/kith-app/kith/app/community"
)

// TestRecognitionByQuality: ten messages marked by one member count less than one message marked
// by two; a mark from a member others find helpful counts more; kudos come from the owner and
// moderators only; marking one's own message, or a message twice, is refused.
func TestRecognitionByQuality(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	owner, bo, cy, dee := apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, owner, "Ana", map[*apptest.Peer]string{bo: "Bo", cy: "Cy", dee: "Dee"})
	chans, _ := owner.Svc.Channels(id)
	general := chans[0].ID
	for _, p := range []*apptest.Peer{bo, cy, dee} {
		syncFrom(t, ctx, p, owner, id)
	}
	post := func(p *apptest.Peer, text string) community.Hash {
		m, err := p.Svc.Post(ctx, id, general, text, community.Hash{})
		if err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	var bos []community.Hash
	for range 10 {
		bos = append(bos, post(bo, "a tip from Bo"))
	}
	deeMsg := post(dee, "the one great tip")
	cyMsg := post(cy, "a tip from Cy")
	for _, p := range []*apptest.Peer{bo, cy, dee} {
		syncFrom(t, ctx, owner, p, id)
	}
	for _, p := range []*apptest.Peer{bo, cy, dee} {
		syncFrom(t, ctx, p, owner, id)
	}
	mark := func(p *apptest.Peer, m community.Hash) {
		if err := p.Svc.Helpful(ctx, id, m); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range bos {
		mark(cy, m) // one friend, ten times
	}
	mark(bo, deeMsg)
	mark(cy, deeMsg)
	mark(bo, cyMsg)
	mark(dee, cyMsg)
	if err := bo.Svc.Helpful(ctx, id, bos[0]); app.KindOf(err) != app.KindBadInput {
		t.Fatalf("marking one's own message: %v", err)
	}
	if err := cy.Svc.Helpful(ctx, id, bos[0]); app.KindOf(err) != app.KindBadInput {
		t.Fatalf("marking a message twice: %v", err)
	}
	if err := bo.Svc.Kudos(ctx, id, dee.Key, "thanks"); app.KindOf(err) != app.KindNotAllowed {
		t.Fatalf("a member's kudos: %v", err)
	}
	for _, p := range []*apptest.Peer{bo, cy, dee} {
		syncFrom(t, ctx, owner, p, id)
	}
	board, err := owner.Svc.RecognitionBoard(id)
	if err != nil {
		t.Fatal(err)
	}
	score := map[string]app.Recognition{}
	for _, r := range board {
		score[r.Name] = r
	}
	if score["Bo"].HelpfulFrom != 1 || score["Dee"].HelpfulFrom != 2 || score["Dee"].Score <= score["Bo"].Score {
		t.Fatalf("Bo %+v, Dee %+v: ten marks by one must count less than one mark each by two", score["Bo"], score["Dee"])
	}
	before := score["Bo"].Score
	if err := owner.Svc.Kudos(ctx, id, bo.Key, "Your glaze notes saved my kiln load"); err != nil {
		t.Fatal(err)
	}
	board, _ = owner.Svc.RecognitionBoard(id)
	for _, r := range board {
		if r.Name == "Bo" && (r.Kudos != 1 || r.Score <= before || r.Notes[0] != "Your glaze notes saved my kiln load") {
			t.Fatalf("Bo after kudos: %+v", r)
		}
	}
	t.Logf("board: %+v", board)
}
