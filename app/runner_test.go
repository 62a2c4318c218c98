package app_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/gossip"
	"github.com/kith-app/kith/app/identity"
	"github.com/kith-app/kith/app/invite"
)

// What "accepted" means (docs/PROTOCOL.md): gossip's validator forwards a member's event once it
// has checked its signature, membership and rate, and hands it to the community's runner, which
// stores it later in a batch. A write that holds the room's lock through its fsync stalls that
// community's storing, never the validation of anything.

// chain is an owner a and two members b and c, with gossip, where c is connected to b only: what
// c gets of a's messages, b forwarded.
type chain struct {
	a, b, c *apptest.Peer
	ga, gc  *gossip.Gossip
	id      community.Hash
	general community.Hash
}

func (x *chain) attach(t *testing.T, p *apptest.Peer) *gossip.Gossip {
	t.Helper()
	g, err := gossip.Attach(p.Svc, p.Node, nil, x.id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// newChain makes the chain; b has no gossip yet when withB is false (the caller runs b).
func newChain(t *testing.T, ctx context.Context, withB bool) *chain {
	t.Helper()
	x := &chain{a: apptest.NewPeer(t), b: apptest.NewPeer(t), c: apptest.NewPeer(t)}
	created, err := x.a.Svc.CreateCommunity(ctx, app.CreateParams{Name: "Makers", DisplayName: "Ana"})
	if err != nil {
		t.Fatal(err)
	}
	x.id = created.ID
	chans, _ := x.a.Svc.Channels(x.id)
	x.general = chans[0].ID
	x.ga = x.attach(t, x.a)
	for _, j := range []struct {
		p    *apptest.Peer
		name string
	}{{x.b, "Bo"}, {x.c, "Cy"}} {
		inv, err := x.a.Svc.Invite(x.id, app.InviteParams{Uses: 1, Members: []invite.Member{x.a.Member()}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := j.p.Svc.JoinWith(ctx, j.p.Node, inv, j.name); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.c.Node.Disconnect(x.a.Node.ID()); err != nil {
		t.Fatal(err)
	}
	x.gc = x.attach(t, x.c)
	if err := x.b.Svc.SyncFrom(ctx, x.b.Node, x.a.Node.ID(), x.id); err != nil { // c's join
		t.Fatal(err)
	}
	if m, _ := x.b.Svc.IsMember(x.id, x.c.Key); !m {
		t.Fatal("b does not know c as a member after a sync")
	}
	if !withB {
		return x
	}
	x.attach(t, x.b)
	if err := x.c.Node.Connect(ctx, x.b.Node.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	eventually(t, "c on the topic with b only", func() bool {
		return slices.Equal(x.gc.Peers(x.id), []string{x.b.Node.ID()}) && slices.Contains(x.ga.Peers(x.id), x.b.Node.ID())
	})
	return x
}

// postUntil posts from a every 300 ms until c has one of the messages, and returns them all.
func (x *chain) postUntil(t *testing.T, ctx context.Context, what string) []community.Hash {
	t.Helper()
	var posted []community.Hash
	deadline := time.Now().Add(30 * time.Second)
	for {
		m, err := x.a.Svc.Post(ctx, x.id, x.general, fmt.Sprintf("%s %d", what, len(posted)), community.Hash{})
		if err != nil {
			t.Fatal(err)
		}
		posted = append(posted, m.ID)
		for range 15 {
			for _, id := range posted {
				if x.c.Svc.Has(x.id, id) {
					return posted
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		if time.Now().After(deadline) {
			t.Fatalf("none of %d messages reached c through b", len(posted))
		}
	}
}

// burst posts n messages from a and waits for all of them on c, and returns them.
func (x *chain) burst(t *testing.T, ctx context.Context, n int, what string) []community.Hash {
	t.Helper()
	var posted []community.Hash
	for i := range n {
		m, err := x.a.Svc.Post(ctx, x.id, x.general, fmt.Sprintf("%s %d", what, i), community.Hash{})
		if err != nil {
			t.Fatal(err)
		}
		posted = append(posted, m.ID)
	}
	eventually(t, "the burst on c, forwarded by b", func() bool { return hasAll(x.c, x.id, posted) })
	return posted
}

// hasAll reports whether p stored every event of ids.
func hasAll(p *apptest.Peer, id community.Hash, ids []community.Hash) bool {
	for _, e := range ids {
		if !p.Svc.Has(id, e) {
			return false
		}
	}
	return true
}

// TestGossipForwardsWhileTheRoomIsHeld: with b's room held (as its own post holds it through an
// fsync), a's messages still pass b's validator and reach c; b stores them once the room is free,
// in batches.
func TestGossipForwardsWhileTheRoomIsHeld(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	x := newChain(t, ctx, true)
	var mu sync.Mutex
	var batches []int
	app.BeforeStore(x.b.Svc, func(_ community.Hash, n int) {
		mu.Lock()
		batches = append(batches, n)
		mu.Unlock()
	})
	x.postUntil(t, ctx, "the mesh is up") // the burst then follows b's mesh link to c
	release, err := app.HoldRoom(x.b.Svc, x.id)
	if err != nil {
		t.Fatal(err)
	}
	held := true
	defer func() {
		if held {
			release()
		}
	}()
	posted := x.burst(t, ctx, 100, "while b writes") // all forwarded while the room stays held
	for _, id := range posted {
		if x.b.Svc.Has(x.id, id) {
			t.Fatalf("b stored %s while its room was held", id.Short())
		}
	}
	release()
	held = false
	eventually(t, "b to store every message once its room is free", func() bool { return hasAll(x.b, x.id, posted) })
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d messages stored in %d batches: %v", len(posted), len(batches), batches)
	if len(batches) > len(posted)/2 {
		t.Errorf("%d messages took %d batches: the runner should store what queued behind the room in one", len(posted), len(batches))
	}
}

// TestKillBetweenAcceptAndStore: b accepts (and forwards) a's messages and is killed with
// SIGKILL before its runner stores them. Nothing of them is in b's store when it starts again,
// the store opens undamaged, and b's first sync from a member brings them all: an accepted event
// is not one this install vouches to have, and the community loses nothing.
func TestKillBetweenAcceptAndStore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	x := newChain(t, ctx, false)
	bDir, bID := x.b.Dir, x.b.Node.ID()
	if err := x.b.Close(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestRunnerKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "KITH_RUNNER_CHILD_DIR="+bDir, "KITH_RUNNER_CHILD_ID="+x.id.String(),
		"KITH_RUNNER_CHILD_DIAL="+x.a.Node.Addrs()[0])
	var stderr strings.Builder
	cmd.Stderr = &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	kill := func() { once.Do(func() { _ = cmd.Process.Kill() }) }
	defer kill()
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if l, ok := strings.CutPrefix(sc.Text(), "runner-child "); ok {
				lines <- l
			}
		}
	}()
	next := func(prefix string) string {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the child ended before %q:\n%s", prefix, stderr.String())
				}
				if rest, ok := strings.CutPrefix(l, prefix); ok {
					return rest
				}
			case <-ctx.Done():
				t.Fatalf("no %q from the child", prefix)
			}
		}
	}
	addr := next("listening ")
	eventually(t, "a to see b on the topic", func() bool { return slices.Contains(x.ga.Peers(x.id), bID) })
	if err := x.c.Node.Connect(ctx, addr); err != nil {
		t.Fatal(err)
	}
	eventually(t, "c on the topic with b only", func() bool { return slices.Equal(x.gc.Peers(x.id), []string{bID}) })
	x.postUntil(t, ctx, "the mesh is up") // stored by b: the burst then follows b's mesh link to c
	if _, err := in.Write([]byte("hold\n")); err != nil {
		t.Fatal(err)
	}
	next("armed")
	posted := x.burst(t, ctx, 50, "accepted, never stored")
	next("holding ")
	kill()
	_ = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the child was not killed (%v):\n%s", cmd.ProcessState, stderr.String())
	}

	b := apptest.OpenPeer(t, bDir) // refuses a damaged store
	for _, id := range posted {
		if b.Svc.Has(x.id, id) {
			t.Fatalf("b's store holds %s, which its runner never stored", id.Short())
		}
	}
	if err := b.Node.Connect(ctx, x.a.Node.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	if err := b.Svc.SyncFrom(ctx, b.Node, x.a.Node.ID(), x.id); err != nil {
		t.Fatal(err)
	}
	for _, id := range posted {
		if !b.Svc.Has(x.id, id) {
			t.Fatalf("b's first sync did not bring %s", id.Short())
		}
	}
	t.Logf("%d messages accepted and forwarded by b, lost by its kill, brought back by one sync", len(posted))
}

// TestRunnerKillChild is b in TestKillBetweenAcceptAndStore: it gossips, accepts, and once the
// parent says so, holds the next batch it would store until it is killed.
func TestRunnerKillChild(t *testing.T) {
	dir := os.Getenv("KITH_RUNNER_CHILD_DIR")
	if dir == "" {
		t.Skip("only runs as the child of TestKillBetweenAcceptAndStore")
	}
	say := func(format string, a ...any) {
		_, _ = os.Stdout.WriteString("runner-child " + fmt.Sprintf(format, a...) + "\n")
	}
	id, err := community.ParseHash(os.Getenv("KITH_RUNNER_CHILD_ID"))
	if err != nil {
		t.Fatal(err)
	}
	b := apptest.OpenPeer(t, dir)
	var armed atomic.Bool
	go func() { // the parent says when to hold: after the mesh is up
		if line, _ := bufio.NewReader(os.Stdin).ReadString('\n'); line == "hold\n" {
			armed.Store(true)
			say("armed")
		}
	}()
	never := make(chan struct{})
	app.BeforeStore(b.Svc, func(_ community.Hash, n int) {
		if armed.Load() {
			say("holding %d", n)
			<-never // until killed
		}
	})
	if _, err := gossip.Attach(b.Svc, b.Node, nil, id); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Node.Connect(ctx, os.Getenv("KITH_RUNNER_CHILD_DIAL")); err != nil {
		t.Fatal(err)
	}
	say("listening %s", b.Node.Addrs()[0])
	time.Sleep(2 * time.Minute) // the parent kills it long before
}

// eventually waits for cond, with a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRefusedAuthorIsNotVouchedFor: an event a member signed that passes the validator (a
// member's, its signature valid) but that the runner refuses (it breaks the Lamport rule, which
// only the events it cites can show) costs its author the forwarding of its gossip for a while, here: the mesh does not
// carry a stream of such events.
func TestRefusedAuthorIsNotVouchedFor(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, b := apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, a, "Ana", map[*apptest.Peer]string{b: "Bo"})
	if !a.Svc.Vouched(id, b.Key) {
		t.Fatal("a member is not vouched for")
	}
	heads, err := a.Store.Heads(id)
	if err != nil {
		t.Fatal(err)
	}
	bID, err := identity.LoadOrCreate(b.Dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := community.Build(bID, community.Draft{
		Community: id, Kind: community.KindMessage, Body: []byte("not mine to follow"), Epoch: heads[0].Epoch,
		Time: time.Now(), Deps: []community.Position{{ID: heads[0].ID, Lamport: heads[0].Lamport + 7}}, // breaks the Lamport rule
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Svc.Judge(id, forged); err != nil {
		t.Fatalf("the validator's check refuses what only the runner can: %v", err)
	}
	if !a.Svc.Gossiped(id, "", forged) {
		t.Fatal("the inbox refused the event")
	}
	eventually(t, "the runner to refuse it and stop vouching for its author", func() bool { return !a.Svc.Vouched(id, b.Key) })
	if a.Svc.Has(id, forged.ID) {
		t.Fatal("the refused event was stored")
	}
	if m, _ := a.Svc.IsMember(id, b.Key); !m {
		t.Fatal("the author stopped being a member: only its gossip should wait")
	}
}
