package peer_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	stdnet "net"
	"strings"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/invite"
	"github.com/kith-app/kith/app/peer"
	"github.com/kith-app/kith/app/peer/probe"
	"github.com/kith-app/kith/p2p"
)

// pending is the join under way for community id at p, if any.
func pending(p *peer.Peer, id community.Hash) (app.PendingJoin, bool) {
	for _, j := range p.PendingJoins() {
		if j.Community == id {
			return j, true
		}
	}
	return app.PendingJoin{}, false
}

// ended collects the JoinEnded events of a peer.
func ended(t *testing.T, p *peer.Peer) <-chan app.JoinEnded {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	out := make(chan app.JoinEnded, 8)
	events := p.Svc.Subscribe(ctx)
	go func() {
		for ev := range events {
			if e, ok := ev.(app.JoinEnded); ok {
				out <- e
			}
		}
	}()
	return out
}

// TestJoinWaitsForAMember: a join started while no member is online waits (and says so), and
// gets in when the owner comes back, within the same call.
func TestJoinWaitsForAMember(t *testing.T) {
	n := newNet(t)
	dir := t.TempDir()
	owner := n.start(dir, 0, automatic)
	id := create(t, owner, "Makers")
	post(t, owner, id, "history before the join")
	inv := inviteOf(t, owner, id, 1)
	if err := owner.Close(); err != nil {
		t.Fatal(err)
	}

	bo := n.start("", 0)
	done := ended(t, bo)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	result := make(chan error, 1)
	go func() {
		_, err := bo.Join(ctx, inv, "Bo")
		result <- err
	}()
	eventually(t, 30*time.Second, "the join to wait, with its reason", func() bool {
		j, ok := pending(bo, id)
		return ok && j.Stage == app.JoinWaiting && j.Attempts >= 1 && strings.Contains(j.LastError, "did not answer") && !j.NextTry.IsZero()
	})
	res, err := bo.Do(context.Background(), peer.Request{Cmd: "status"})
	if err != nil || !strings.Contains(res.Text, `joining "Makers"`) || !strings.Contains(string(res.JSON), `"pending_joins":[{"community":"`+id.String()) {
		t.Fatalf("status does not list the join: %v\n%s\n%s", err, res.Text, res.JSON)
	}

	started := time.Now()
	owner = n.start(dir, 0, automatic)
	if err := <-result; err != nil {
		t.Fatalf("the join that waited: %v", err)
	}
	t.Logf("admitted %v after the owner came back", time.Since(started).Round(10*time.Millisecond))
	if e := <-done; e.Community != id || e.Err != nil {
		t.Fatalf("JoinEnded %+v", e)
	}
	if _, ok := pending(bo, id); ok {
		t.Fatal("the join is still listed after it ended")
	}
	eventually(t, 10*time.Second, "the history", func() bool { return texts(bo, id, 10)["history before the join"] })
}

// TestJoinResumesAfterARestart: a join whose caller gave up is kept; after the joiner's restart
// it goes on by itself and gets in when a member comes online; what the joiner typed (its name)
// is what the members see.
func TestJoinResumesAfterARestart(t *testing.T) {
	n := newNet(t)
	ownerDir, boDir := t.TempDir(), t.TempDir()
	owner := n.start(ownerDir, 0, automatic)
	id := create(t, owner, "Makers")
	inv := inviteOf(t, owner, id, 1)
	if err := owner.Close(); err != nil {
		t.Fatal(err)
	}
	bo := n.start(boDir, 0)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_, err := bo.Join(ctx, inv, "Bo the Brave")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a join with no member online returned %v, want the caller's deadline", err)
	}
	if err := bo.Close(); err != nil {
		t.Fatal(err)
	}
	bo = n.start(boDir, 0)
	if _, ok := pending(bo, id); !ok {
		t.Fatal("the kept join did not resume after the restart")
	}
	done := ended(t, bo)
	owner = n.start(ownerDir, 0, automatic)
	select {
	case e := <-done:
		if e.Err != nil || e.Community != id || e.Name != "Makers" {
			t.Fatalf("JoinEnded %+v", e)
		}
	case <-time.After(90 * time.Second):
		t.Fatal("the resumed join did not get in within 90 s of the owner's return")
	}
	eventually(t, 10*time.Second, "the owner to list Bo by the name typed", func() bool {
		for _, name := range activeNames(owner, id) {
			if name == "Bo the Brave" {
				return true
			}
		}
		return false
	})
}

// TestJoinCancelAndRefusal: a cancelled join is forgotten (also across a restart); a refused one
// ends at once with the invite's own sentence and is not kept.
func TestJoinCancelAndRefusal(t *testing.T) {
	n := newNet(t)
	owner := n.start("", 0)
	id := create(t, owner, "Makers")
	away := inviteOf(t, owner, id, 1)
	away.Members[0].Addrs = []string{"/ip4/127.0.0.1/tcp/9"} // nobody there
	dir := t.TempDir()
	bo := n.start(dir, 0)
	done := ended(t, bo)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	_, _ = bo.Join(ctx, away, "Bo")
	cancel()
	res, err := bo.Do(context.Background(), peer.Request{Cmd: "join", Cancel: true, Invite: "Makers"})
	if err != nil || !strings.Contains(res.Text, "cancelled") {
		t.Fatalf("join --cancel: %v %q", err, res.Text)
	}
	if e := <-done; !errors.Is(e.Err, peer.ErrJoinCancelled) {
		t.Fatalf("JoinEnded %+v", e)
	}
	if _, err := bo.Do(context.Background(), peer.Request{Cmd: "join", Cancel: true, Invite: "Makers"}); err == nil || !strings.Contains(err.Error(), "no join is under way") {
		t.Fatalf("cancelling again: %v", err)
	}
	if err := bo.Close(); err != nil {
		t.Fatal(err)
	}
	bo = n.start(dir, 0)
	if len(bo.PendingJoins()) != 0 {
		t.Fatalf("a cancelled join came back after a restart: %+v", bo.PendingJoins())
	}

	// Refused: revoked. The join ends with the invite's sentence and is not kept.
	revoked := inviteOf(t, owner, id, 1)
	if err := owner.Svc.RevokeInvite(context.Background(), id, revoked.ID); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := bo.Join(ctx, revoked, "Bo"); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("a revoked invite: %v", err)
	}
	if len(bo.PendingJoins()) != 0 {
		t.Fatalf("a refused join is kept: %+v", bo.PendingJoins())
	}

	// An invite that expired is refused before anything is tried or kept: one made by an owner
	// whose clock is two hours behind, valid for an hour.
	late := n.start("", 0, func(o *peer.Options) { o.Now = func() time.Time { return time.Now().Add(-2 * time.Hour) } })
	lateID := create(t, late, "Slow Clock")
	old, err := late.Svc.Invite(lateID, app.InviteParams{Expires: time.Hour, Members: []invite.Member{memberOf(late)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bo.Do(ctx, peer.Request{Cmd: "join", Invite: old.String(), Timeout: "5s"}); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("an expired invite: %v", err)
	}
	if len(bo.PendingJoins()) != 0 {
		t.Fatalf("an expired invite is kept: %+v", bo.PendingJoins())
	}
}

// TestJoinThroughTheRendezvous: every address the invite gives is stale (the members moved), and
// there is no LAN: the joiner finds them through the DHT node they all know. First the owner,
// whom the invite names; then, with the owner gone, a member the invite does not name, which
// the joiner probes first.
func TestJoinThroughTheRendezvous(t *testing.T) {
	n := newNet(t)
	boot := n.start("", 0, func(o *peer.Options) { o.DHTServer = true })
	withDHT := func(o *peer.Options) { o.Bootstrap = boot.Node().Addrs() }
	ownerDir := t.TempDir()
	owner := n.start(ownerDir, 0, withDHT)
	id := create(t, owner, "Makers")
	inv := inviteOf(t, owner, id, 5)
	if err := owner.Close(); err != nil {
		t.Fatal(err)
	}
	owner = n.start(ownerDir, 0, withDHT, func(o *peer.Options) { o.Listen = []string{freshPort(t)} }) // moved
	stale := inv.Members[0].Addrs

	bo := n.start("", 0, withDHT)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	events := bo.Svc.Subscribe(ctx)
	if _, err := bo.Join(ctx, inv, "Bo"); err != nil {
		t.Fatalf("joining when the owner moved (the invite says %v): %v", stale, err)
	}
	if via := admittedVia(events); via != app.ViaRendezvous {
		t.Fatalf("admitted via %q, want the rendezvous", via)
	}

	// The owner leaves for good; Mo, a member no invite names, is online and announced.
	mo := n.start("", 0, withDHT)
	join(t, mo, inviteOf(t, owner, id, 1), "Mo")
	if err := owner.Close(); err != nil {
		t.Fatal(err)
	}
	cy := n.start("", 0, withDHT)
	events = cy.Svc.Subscribe(ctx)
	if _, err := cy.Join(ctx, inv, "Cy"); err != nil { // it waits for Mo's announcement if need be
		t.Fatalf("joining through a member the invite does not name: %v", err)
	}
	if via := admittedVia(events); via != app.ViaRendezvous {
		t.Fatalf("Cy admitted via %q, want the rendezvous", via)
	}
}

// admittedVia is how the member that admitted a join was found.
func admittedVia(events <-chan app.Event) app.JoinVia {
	for ev := range events {
		if e, ok := ev.(app.JoinProgress); ok && e.Stage == app.JoinSyncing {
			return e.Via
		}
	}
	return ""
}

// freshPort is a listen address on a port of 127.0.0.1 that was free a moment ago.
func freshPort(t *testing.T) string {
	t.Helper()
	l, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", l.Addr().(*stdnet.TCPAddr).Port)
}

// TestJoinSaysWhereItLooked: with the invite's member gone and a bootstrap node that does not
// answer, a waiting join says in one sentence where it looked, never a list of dial errors.
func TestJoinSaysWhereItLooked(t *testing.T) {
	n := newNet(t)
	owner := n.start("", 0)
	id := create(t, owner, "Makers")
	inv := inviteOf(t, owner, id, 1)
	if err := owner.Close(); err != nil {
		t.Fatal(err)
	}
	dead := n.start("", 0, func(o *peer.Options) { o.DHTServer = true })
	boot := dead.Node().Addrs()
	if err := dead.Close(); err != nil {
		t.Fatal(err)
	}
	bo := n.start("", 0, func(o *peer.Options) { o.Bootstrap = boot })
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, _ = bo.Join(ctx, inv, "Bo")
	var why string
	eventually(t, 40*time.Second, "the join's reason", func() bool {
		j, ok := pending(bo, id)
		why = j.LastError
		return ok && why != ""
	})
	want := "no member answered: the member the invite names did not answer, no member is on this network, the rendezvous (DHT) does not answer"
	if why != want {
		t.Fatalf("the join says %q, want %q", why, want)
	}
}

// TestALiarAtTheRendezvousCannotEndAJoin: a peer that knows the community's ID (anyone with an old
// invite) announces itself at the rendezvous, passes the probe and refuses every join with "this
// invite was revoked". The join goes on, showing that peer's words as its own, and gets in when
// the owner comes back.
func TestALiarAtTheRendezvousCannotEndAJoin(t *testing.T) {
	n := newNet(t)
	boot := n.start("", 0, func(o *peer.Options) { o.DHTServer = true })
	withDHT := func(o *peer.Options) { o.Bootstrap = boot.Node().Addrs() }
	ownerDir := t.TempDir()
	owner := n.start(ownerDir, 0, automatic, withDHT)
	id := create(t, owner, "Makers")
	inv := inviteOf(t, owner, id, 1)
	if err := owner.Close(); err != nil {
		t.Fatal(err)
	}

	// The liar: a bare node on the DHT that knows the ID.
	_, key, _ := ed25519.GenerateKey(nil)
	liar, err := p2p.New(context.Background(), p2p.Config{PrivateKey: key, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
		Logger: slog.New(slog.DiscardHandler), DHT: &p2p.DHT{Bootstrap: boot.Node().Addrs()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { liar.Close() })
	liarKey := key.Public().(ed25519.PublicKey)
	liar.Handle(peer.ProtoProbe, probe.RequestSize, func(_ context.Context, from ed25519.PublicKey, b []byte) ([]byte, error) {
		req, err := probe.DecodeRequest(b)
		if err != nil || !probe.Equal(req.Tag, probe.Tag(id, req.Nonce, liarKey)) {
			return nil, app.ErrOutsider
		}
		return probe.EncodeAnswer(probe.Proof(id, req.Nonce, from)), nil
	})
	liar.Handle(app.ProtoJoin, 16<<10, func(context.Context, ed25519.PublicKey, []byte) ([]byte, error) {
		return nil, app.Refuse("this invite was revoked: ask a moderator or the owner of \"Makers\" for a new one")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := liar.Provide(ctx, sha256.Sum256(append([]byte("kith rendezvous v1\x00"), id[:]...))); err != nil {
		t.Fatal(err)
	}

	bo := n.start("", 0, withDHT)
	result := make(chan error, 1)
	go func() { _, err := bo.Join(ctx, inv, "Bo"); result <- err }()
	eventually(t, 60*time.Second, "the liar's words, shown as its own", func() bool {
		j, ok := pending(bo, id)
		return ok && strings.Contains(j.LastError, "a peer found at the rendezvous refused (this invite was revoked")
	})
	owner = n.start(ownerDir, 0, automatic, withDHT)
	if err := <-result; err != nil {
		t.Fatalf("the join after the liar's refusal: %v", err)
	}
}

// TestAdmittedTwice: a joiner admitted whose first sync was cut short asks again and gets its
// join event again, not a refusal; no second join is written.
func TestAdmittedTwice(t *testing.T) {
	n := newNet(t)
	owner := n.start("", 0)
	id := create(t, owner, "Makers")
	inv := inviteOf(t, owner, id, 1)
	bo := n.start("", 0)
	join(t, bo, inv, "Bo")
	before := logOf(t, owner, id)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := bo.Svc.JoinThrough(ctx, bo.Node(), owner.Node().ID(), inv, "Bo", app.ViaInvite); err != nil {
		t.Fatalf("asking again after being admitted: %v", err)
	}
	if after := logOf(t, owner, id); len(after) != len(before) {
		t.Fatalf("asking again wrote %d events", len(after)-len(before))
	}
}

// TestAFreshInviteTakesOver: a join waiting with an invite whose member is unreachable gives way
// to a join with a fresh invite to the same community, which gets in; the store keeps one join.
func TestAFreshInviteTakesOver(t *testing.T) {
	n := newNet(t)
	owner := n.start("", 0)
	id := create(t, owner, "Makers")
	stale := inviteOf(t, owner, id, 1)
	stale.Members[0].Addrs = []string{"/ip4/127.0.0.1/tcp/9"} // nobody there
	bo := n.start("", 0)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	_, _ = bo.Join(ctx, stale, "Bo")
	cancel()
	if _, ok := pending(bo, id); !ok {
		t.Fatal("the stale join is not under way")
	}
	join(t, bo, inviteOf(t, owner, id, 1), "Bo")
	if len(bo.PendingJoins()) != 0 {
		t.Fatalf("joins left: %+v", bo.PendingJoins())
	}
}
