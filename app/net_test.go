package app_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/identity"
	"github.com/kith-app/kith/app/invite"
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
	inv, err := owner.Svc.Invite(c.ID, app.InviteParams{Uses: 1, Members: []invite.Member{owner.Member()}})
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

// counting is an app.Network that counts the requests and answer bytes of the sync stream.
type counting struct {
	app.Network
	requests, bytes int
}

func (c *counting) Request(ctx context.Context, peerID, proto string, req []byte, maxResp int) ([]byte, error) {
	b, err := c.Network.Request(ctx, peerID, proto, req, maxResp)
	if proto == app.ProtoSync {
		c.requests++
		c.bytes += len(b)
	}
	return b, err
}

// TestSyncMarksAndHeads: a second sync from the same member asks only for what is new (its mark
// is remembered); a first sync from another member that holds the same history sends almost
// nothing (the request's heads leave out what the asker has); progress reaches subscribers and
// ends in "synced".
func TestSyncMarksAndHeads(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	owner, a, b := apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t)
	c, err := owner.Svc.CreateCommunity(ctx, app.CreateParams{Name: "Makers", DisplayName: "Ana"})
	if err != nil {
		t.Fatal(err)
	}
	chans, _ := owner.Svc.Channels(c.ID)
	for i := range 1200 {
		if _, err := owner.Svc.Post(ctx, c.ID, chans[0].ID, fmt.Sprintf("message %d", i), community.Hash{}); err != nil {
			t.Fatal(err)
		}
	}
	inv, _ := owner.Svc.Invite(c.ID, app.InviteParams{Members: []invite.Member{owner.Member()}})
	events := a.Svc.Subscribe(ctx)
	if _, err := a.Svc.JoinWith(ctx, a.Node, inv, "Al"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Svc.JoinWith(ctx, b.Node, inv, "Bo"); err != nil {
		t.Fatal(err)
	}
	// a's join synced 1,200+ events in batches, reported as progress that ends.
	var progress []app.SyncProgress
	for done := false; !done; {
		select {
		case ev := <-events:
			if p, ok := ev.(app.SyncProgress); ok {
				progress = append(progress, p)
				done = p.Finished
			}
		case <-ctx.Done():
			t.Fatal("no finished SyncProgress")
		}
	}
	last := progress[len(progress)-1]
	if len(progress) < 4 || last.Err != nil || last.Done != last.Total || last.Total < 1200 {
		t.Fatalf("progress %+v", progress)
	}
	if s := a.Svc.Sync(c.ID).String(); s != "synced" {
		t.Fatalf("a's sync state: %s", s)
	}

	// Again from the owner: b's join is new; then nothing is: one round trip, a few bytes.
	if err := a.Svc.SyncFrom(ctx, a.Node, owner.Node.ID(), c.ID); err != nil {
		t.Fatal(err)
	}
	n := &counting{Network: a.Node}
	if err := a.Svc.SyncFrom(ctx, n, owner.Node.ID(), c.ID); err != nil {
		t.Fatal(err)
	}
	if n.requests != 1 || n.bytes > 16 {
		t.Fatalf("a second sync with nothing new took %d requests, %d bytes", n.requests, n.bytes)
	}
	// One new message: one round trip carrying it.
	if _, err := owner.Svc.Post(ctx, c.ID, chans[0].ID, "one more", community.Hash{}); err != nil {
		t.Fatal(err)
	}
	n = &counting{Network: a.Node}
	if err := a.Svc.SyncFrom(ctx, n, owner.Node.ID(), c.ID); err != nil {
		t.Fatal(err)
	}
	if msgs, _ := a.Svc.Messages(c.ID, chans[0].ID, community.Position{}, 1); len(msgs) != 1 || msgs[0].Text != "one more" {
		t.Fatalf("a reads %v", msgs)
	}
	if n.requests != 1 || n.bytes > 2048 {
		t.Fatalf("a sync of one new event took %d requests, %d bytes", n.requests, n.bytes)
	}

	// b has never synced from a, and a holds what b holds (and b's join, and "one more"):
	// a first contact carries b's heads, so a sends only what b lacks.
	if err := b.Node.Connect(ctx, a.Node.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	n = &counting{Network: b.Node}
	if err := b.Svc.SyncFrom(ctx, n, a.Node.ID(), c.ID); err != nil {
		t.Fatal(err)
	}
	if msgs, _ := b.Svc.Messages(c.ID, chans[0].ID, community.Position{}, 1); len(msgs) != 1 || msgs[0].Text != "one more" {
		t.Fatalf("b reads %v", msgs)
	}
	if n.bytes > 8<<10 {
		t.Fatalf("b's first sync from a moved %d bytes in %d requests: the heads did not leave out what b had", n.bytes, n.requests)
	}
	t.Logf("first contact: %d bytes in %d requests (history ~%d KiB)", n.bytes, n.requests, 1200*300>>10)

	// A mark the member's store never gave (it was restored from a backup): start over, with
	// heads, and end at the member's latest mark.
	if err := a.Store.SetSyncMark(c.ID, owner.Node.ID(), 1<<40); err != nil {
		t.Fatal(err)
	}
	n = &counting{Network: a.Node}
	if err := a.Svc.SyncFrom(ctx, n, owner.Node.ID(), c.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := a.Store.SyncMark(c.ID, owner.Node.ID())
	latest, _ := owner.Store.LocalMark(c.ID)
	if got != latest || n.requests != 2 || n.bytes > 8<<10 {
		t.Fatalf("after a foreign mark: mark %d (owner's latest %d), %d requests, %d bytes", got, latest, n.requests, n.bytes)
	}
}

// TestOneAuthorsShareOfTheWaitingBuffer: early events wait, but one author's take at most a
// sixteenth of the buffer (625 events): past it they are dropped (sync brings them), and another
// author's early events are still kept; keys never admitted share one sixteenth. When what they
// wait for arrives, the kept ones are stored.
func TestOneAuthorsShareOfTheWaitingBuffer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	owner, a, b := apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t)
	c, err := owner.Svc.CreateCommunity(ctx, app.CreateParams{Name: "Makers", DisplayName: "Ana"})
	if err != nil {
		t.Fatal(err)
	}
	chans, _ := owner.Svc.Channels(c.ID)
	for i, p := range []*apptest.Peer{a, b} {
		inv, _ := owner.Svc.Invite(c.ID, app.InviteParams{Uses: 1, Members: []invite.Member{owner.Member()}})
		if _, err := p.Svc.JoinWith(ctx, p.Node, inv, []string{"Bea", "Cai"}[i]); err != nil {
			t.Fatal(err)
		}
	}
	written := func(p *apptest.Peer, n int) [][]byte {
		var envs [][]byte
		p.Svc.SetPublisher(func(_ community.Hash, env []byte) { envs = append(envs, env) })
		for i := range n {
			if _, err := p.Svc.Post(ctx, c.ID, chans[0].ID, fmt.Sprintf("message %d", i), community.Hash{}); err != nil {
				t.Fatal(err)
			}
		}
		p.Svc.SetPublisher(nil)
		return envs
	}
	fromA, fromB := written(a, 701), written(b, 2)
	kept, dropped := 0, 0
	for _, env := range fromA[1:] { // each cites the one before: all early
		got, err := owner.Svc.Receive(c.ID, [][]byte{env})
		if err != nil {
			t.Fatal(err)
		}
		kept, dropped = kept+got.Held, dropped+got.Dropped
	}
	if kept != 625 || dropped != 75 {
		t.Fatalf("a's early events: %d kept, %d dropped; want 625 and 75", kept, dropped)
	}
	if got, _ := owner.Svc.Receive(c.ID, fromB[1:]); got.Held != 1 {
		t.Fatalf("b's early event with a's share full: %+v, want it kept", got)
	}
	// Keys never admitted share one sixteenth between them: fresh keys buy no more room.
	kept, dropped = 0, 0
	for i := range 700 {
		stranger, err := identity.New(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		e, err := community.Build(stranger, community.Draft{Community: c.ID, Kind: community.KindMessage,
			Body: []byte(fmt.Sprintf("noise %d", i)), Time: time.Now(), Deps: []community.Position{{Lamport: 5, ID: community.Hash{1, byte(i)}}}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := owner.Svc.Receive(c.ID, [][]byte{e.Encode()})
		if err != nil {
			t.Fatal(err)
		}
		kept, dropped = kept+got.Held, dropped+got.Dropped
	}
	if kept != 625 || dropped != 75 {
		t.Fatalf("early events of 700 keys never admitted: %d kept, %d dropped; want 625 and 75", kept, dropped)
	}
	got, err := owner.Svc.Receive(c.ID, fromA[:1])
	if err != nil || got.Stored != 626 {
		t.Fatalf("a's first message: %+v, %v; want it and the 625 kept after it stored", got, err)
	}
	if got, _ := owner.Svc.Receive(c.ID, fromB[:1]); got.Stored != 2 {
		t.Fatalf("b's first message: %+v, want both of b's stored", got)
	}
}

// TestRevokedInviteIsRefusedEverywhere: the owner revokes an invite; a member that learns of it by
// sync refuses a join with it, saying the invite was revoked; a plain member cannot revoke; the
// owner's list shows the invite revoked.
func TestRevokedInviteIsRefusedEverywhere(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	owner, member, joiner := apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t)
	c, err := owner.Svc.CreateCommunity(ctx, app.CreateParams{Name: "Makers", DisplayName: "Ana"})
	if err != nil {
		t.Fatal(err)
	}
	inv, _ := owner.Svc.Invite(c.ID, app.InviteParams{Uses: 1, Members: []invite.Member{owner.Member()}})
	if _, err := member.Svc.JoinWith(ctx, member.Node, inv, "Bo"); err != nil {
		t.Fatal(err)
	}
	revoked, _ := owner.Svc.Invite(c.ID, app.InviteParams{Uses: 5, Members: []invite.Member{member.Member()}}) // the member admits with it
	if err := member.Svc.RevokeInvite(ctx, c.ID, revoked.ID); err == nil || !strings.Contains(err.Error(), "only the owner and moderators") {
		t.Fatalf("a member revoking: %v, want it refused", err)
	}
	if err := owner.Svc.RevokeInvite(ctx, c.ID, revoked.ID); err != nil {
		t.Fatal(err)
	}
	if err := owner.Svc.RevokeInvite(ctx, c.ID, revoked.ID); err != nil { // again: nothing to do
		t.Fatal(err)
	}
	if err := member.Svc.SyncFrom(ctx, member.Node, owner.Node.ID(), c.ID); err != nil {
		t.Fatal(err)
	}
	_, err = joiner.Svc.JoinWith(ctx, joiner.Node, revoked, "Cy")
	if err == nil || !strings.Contains(err.Error(), "this invite was revoked") {
		t.Fatalf("joining with the revoked invite through the member: %v, want \"this invite was revoked\"", err)
	}
	issued, err := owner.Svc.Invites(c.ID)
	if err != nil || len(issued) != 2 || issued[0].Revoked || !issued[1].Revoked || issued[1].Invite.ID != revoked.ID {
		t.Fatalf("the owner's invites: %+v, %v; want the second revoked", issued, err)
	}
}

// inflight counts the sync requests under way at once, at most.
type inflight struct {
	app.Network
	mu       sync.Mutex
	now, max int
}

func (f *inflight) Request(ctx context.Context, peerID, proto string, req []byte, maxResp int) ([]byte, error) {
	if proto == app.ProtoSync {
		f.mu.Lock()
		f.now++
		f.max = max(f.max, f.now)
		f.mu.Unlock()
		defer func() { f.mu.Lock(); f.now--; f.mu.Unlock() }()
	}
	return f.Network.Request(ctx, peerID, proto, req, maxResp)
}

// TestOneSyncPerPair: syncs of one community from one member asked for at once run one after
// the other (each keeps at most one batch asked ahead), so that none writes its mark back
// behind another's; every event arrives.
func TestOneSyncPerPair(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	owner, a := apptest.NewPeer(t), apptest.NewPeer(t)
	c, err := owner.Svc.CreateCommunity(ctx, app.CreateParams{Name: "Makers", DisplayName: "Ana"})
	if err != nil {
		t.Fatal(err)
	}
	chans, _ := owner.Svc.Channels(c.ID)
	apptest.PostMany(t, owner.Svc, c.ID, chans[0].ID, 3000, func(i int) string { return fmt.Sprintf("message %d", i) })
	inv, _ := owner.Svc.Invite(c.ID, app.InviteParams{Members: []invite.Member{owner.Member()}})
	if _, err := a.Svc.JoinWith(ctx, a.Node, inv, "Al"); err != nil {
		t.Fatal(err)
	}
	apptest.PostMany(t, owner.Svc, c.ID, chans[0].ID, 3000, func(i int) string { return fmt.Sprintf("later %d", i) })
	n := &inflight{Network: a.Node}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- a.Svc.SyncFrom(ctx, n, owner.Node.ID(), c.ID) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n.max > 2 {
		t.Errorf("%d sync requests of one pair were under way at once, want at most 2 (one sync, one batch ahead)", n.max)
	}
	msgs, err := a.Svc.Messages(c.ID, chans[0].ID, community.Position{}, 7000)
	if err != nil || len(msgs) != 6000 {
		t.Fatalf("after the syncs a reads %d messages (%v), want 6000", len(msgs), err)
	}
}
