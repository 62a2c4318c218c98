package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/p2p"
)

// TestJoinOverTheNetwork: an owner's invite names its address; a member joins through it
// over real hosts on 127.0.0.1, syncs the history, and reads it.
func TestJoinOverTheNetwork(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	owner, member, stranger := apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t)
	c, err := owner.Svc.CreateCommunity(ctx, app.CreateParams{Name: "Makers", DisplayName: "Ana"})
	if err != nil {
		t.Fatal(err)
	}
	chans, _ := owner.Svc.Channels(c.ID)
	for i := range 600 { // more than one sync batch (500)
		if _, err := owner.Svc.Post(ctx, c.ID, chans[0].ID, "message "+string(rune('a'+i%26)), community.Hash{}); err != nil {
			t.Fatal(err)
		}
	}
	inv, err := owner.Svc.Invite(c.ID, app.InviteParams{Uses: 1, Bootstrap: owner.Node.Addrs()})
	if err != nil {
		t.Fatal(err)
	}
	got, err := member.Svc.JoinWith(ctx, member.Node, inv, "Bo")
	if err != nil || got != c.ID {
		t.Fatalf("join: %v", err)
	}
	msgs, err := member.Svc.Messages(c.ID, chans[0].ID, community.Position{}, 50)
	if err != nil || len(msgs) != 50 {
		t.Fatalf("member reads %d messages, %v", len(msgs), err)
	}
	members, _ := member.Svc.Members(c.ID)
	if len(members) != 2 {
		t.Fatalf("member sees %d members", len(members))
	}
	// The invite is used up: a second joiner is refused with the invite's own sentence.
	if _, err := stranger.Svc.JoinWith(ctx, stranger.Node, inv, "Cy"); !errors.Is(err, p2p.ErrRefused) {
		t.Fatalf("second joiner: %v", err)
	}
	// A non-member's sync stream is reset: no answer, not even a refusal.
	if err := stranger.Svc.SyncFrom(ctx, stranger.Node, owner.Node.ID(), c.ID); err == nil || errors.Is(err, p2p.ErrRefused) {
		t.Fatalf("stranger sync: %v", err)
	}
}
