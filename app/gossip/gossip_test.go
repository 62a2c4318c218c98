package gossip_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/gossip"
	"github.com/kith-app/kith/app/identity"
	"github.com/kith-app/kith/app/localstore"
	"github.com/kith-app/kith/p2p"
	"github.com/kith-app/kith/storage"
)

type peer struct {
	svc  *app.Service
	node *p2p.Node
}

func newPeer(t *testing.T) *peer {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	id, err := identity.LoadOrCreate(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	st, err := storage.Open(dir, storage.Options{MinFreeBytes: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := app.New(app.Config{Identity: id, Store: localstore.Store{S: st}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	node, err := p2p.New(ctx, p2p.Config{PrivateKey: id.TransportKey(), ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
		MessageID: gossip.MessageID, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	svc.Serve(node)
	t.Cleanup(func() {
		node.Close()
		svc.Close()
		st.Close()
	})
	return &peer{svc: svc, node: node}
}

// eventually waits for cond, with a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMessagesReachTheOtherPeer: after joining, each side's new messages reach the other by
// gossip, with no sync in between.
func TestMessagesReachTheOtherPeer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	owner, member := newPeer(t), newPeer(t)
	c, err := owner.svc.CreateCommunity(ctx, app.CreateParams{Name: "Makers", DisplayName: "Ana"})
	if err != nil {
		t.Fatal(err)
	}
	og, err := gossip.Attach(owner.svc, owner.node, nil, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { og.Close() })
	inv, _ := owner.svc.Invite(c.ID, app.InviteParams{Uses: 1, Bootstrap: owner.node.Addrs()})
	if _, err := member.svc.JoinWith(ctx, member.node, inv, "Bo"); err != nil {
		t.Fatal(err)
	}
	mg, err := gossip.Attach(member.svc, member.node, nil, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mg.Close(); mg.Close() })
	chans, _ := owner.svc.Channels(c.ID)
	general := chans[0].ID
	read := func(p *peer) []app.Message {
		m, _ := p.svc.Messages(c.ID, general, community.Position{}, 100)
		return m
	}
	// The mesh forms in a heartbeat or two: keep posting until one arrives, then all must.
	eventually(t, "the two peers to see each other on the topic", func() bool {
		return len(og.Peers(c.ID)) > 0 && len(mg.Peers(c.ID)) > 0
	})
	for i := range 20 {
		if _, err := member.svc.Post(ctx, c.ID, general, "from the member "+string(rune('a'+i)), community.Hash{}); err != nil {
			t.Fatal(err)
		}
		if _, err := owner.svc.Post(ctx, c.ID, general, "from the owner "+string(rune('a'+i)), community.Hash{}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "every message on both peers", func() bool { return len(read(owner)) == 40 && len(read(member)) == 40 })
}
