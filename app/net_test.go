package app_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/identity"
	"github.com/kith-app/kith/app/localstore"
	"github.com/kith-app/kith/p2p"
	"github.com/kith-app/kith/storage"
)

// peer is a service with a real store and a real libp2p host on 127.0.0.1.
type peer struct {
	svc   *app.Service
	store localstore.Store
	node  *p2p.Node
}

func newPeer(t *testing.T) *peer {
	t.Helper()
	dir := t.TempDir()
	id, err := identity.LoadOrCreate(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	st, err := storage.Open(dir, storage.Options{MinFreeBytes: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := app.New(app.Config{Identity: id, Store: localstore.Store{S: st}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	node, err := p2p.New(ctx, p2p.Config{PrivateKey: id.TransportKey(), ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	svc.Serve(node)
	t.Cleanup(func() { // reverse order of start: network, service, store
		node.Close()
		svc.Close()
		st.Close()
	})
	return &peer{svc: svc, store: localstore.Store{S: st}, node: node}
}

// TestJoinOverTheNetwork: an owner's invite names its address; a member joins through it
// over real hosts on 127.0.0.1, syncs the history, and reads it.
func TestJoinOverTheNetwork(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	owner, member, stranger := newPeer(t), newPeer(t), newPeer(t)
	c, err := owner.svc.CreateCommunity(ctx, app.CreateParams{Name: "Makers", DisplayName: "Ana"})
	if err != nil {
		t.Fatal(err)
	}
	chans, _ := owner.svc.Channels(c.ID)
	for i := range 600 { // more than one sync batch (500)
		if _, err := owner.svc.Post(ctx, c.ID, chans[0].ID, "message "+string(rune('a'+i%26)), community.Hash{}); err != nil {
			t.Fatal(err)
		}
	}
	inv, err := owner.svc.Invite(c.ID, app.InviteParams{Uses: 1, Bootstrap: owner.node.Addrs()})
	if err != nil {
		t.Fatal(err)
	}
	got, err := member.svc.JoinWith(ctx, member.node, inv, "Bo")
	if err != nil || got != c.ID {
		t.Fatalf("join: %v", err)
	}
	msgs, err := member.svc.Messages(c.ID, chans[0].ID, community.Position{}, 50)
	if err != nil || len(msgs) != 50 {
		t.Fatalf("member reads %d messages, %v", len(msgs), err)
	}
	members, _ := member.svc.Members(c.ID)
	if len(members) != 2 {
		t.Fatalf("member sees %d members", len(members))
	}
	// The invite is used up: a second joiner is refused with the invite's own sentence.
	if _, err := stranger.svc.JoinWith(ctx, stranger.node, inv, "Cy"); !errors.Is(err, p2p.ErrRefused) {
		t.Fatalf("second joiner: %v", err)
	}
	// A non-member's sync is refused.
	if err := stranger.svc.SyncFrom(ctx, stranger.node, owner.node.ID(), c.ID); !errors.Is(err, p2p.ErrRefused) {
		t.Fatalf("stranger sync: %v", err)
	}
}
