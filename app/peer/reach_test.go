package peer_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	stdnet "net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/invite"
	"github.com/kith-app/kith/app/peer"
	"github.com/kith-app/kith/p2p"
)

// automatic listens on 127.0.0.1 with automatic ports, TCP and QUIC, as the desktop's
// "Automatic" does on every interface.
func automatic(o *peer.Options) {
	o.Listen = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
}

// TestAutomaticPortsAreKept: the first start picks free ports (one number for TCP and QUIC) and
// the data folder keeps them; later starts listen on them again; a kept port that another
// program took gives a new one, which is kept from then on; an explicit port stays as given.
func TestAutomaticPortsAreKept(t *testing.T) {
	n := newNet(t)
	dir := t.TempDir()
	restart := func(tweak func(*peer.Options)) p2p.Ports {
		t.Helper()
		p := n.start(dir, 0, tweak)
		ports := p.Node().Ports()
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		return ports
	}
	first := restart(automatic)
	if first.TCP == 0 || first.UDP == 0 {
		t.Fatalf("first start listens on %+v, want a TCP and a UDP port", first)
	}
	if first.TCP != first.UDP {
		t.Logf("TCP %d and QUIC %d differ (the TCP number was taken for UDP)", first.TCP, first.UDP)
	}
	for i := range 3 {
		if again := restart(automatic); again != first {
			t.Fatalf("start %d listens on %+v, want the kept %+v", i+2, again, first)
		}
	}

	// Another program holds the kept TCP port: a new one, kept from then on.
	squatter, err := stdnet.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", first.TCP))
	if err != nil {
		t.Fatal(err)
	}
	moved := restart(automatic)
	squatter.Close()
	if moved.TCP == first.TCP || moved.TCP == 0 {
		t.Fatalf("with its TCP port taken the peer listens on %+v (kept %+v)", moved, first)
	}
	if moved.UDP != first.UDP {
		t.Fatalf("the QUIC port moved from %d to %d though it was free", first.UDP, moved.UDP)
	}
	if again := restart(automatic); again != moved {
		t.Fatalf("after the move the peer listens on %+v, want the new kept %+v", again, moved)
	}

	// An explicit port is what it says, whatever is kept.
	l, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	explicit := l.Addr().(*stdnet.TCPAddr).Port
	l.Close()
	got := restart(func(o *peer.Options) { o.Listen = []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", explicit)} })
	if got.TCP != explicit {
		t.Fatalf("explicit port %d: listening on %+v", explicit, got)
	}
}

// TestInviteOutlivesRestarts: an invite made before its issuer restarts (twice, automatic
// ports) still admits.
func TestInviteOutlivesRestarts(t *testing.T) {
	n := newNet(t)
	dir := t.TempDir()
	owner := n.start(dir, 0, automatic)
	id := create(t, owner, "Makers")
	inv, _, err := owner.Invite(id, app.InviteParams{Uses: 2})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := owner.Close(); err != nil {
			t.Fatal(err)
		}
		owner = n.start(dir, 0, automatic)
	}
	bo := n.start("", 0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := bo.Join(ctx, inv, "Bo"); err != nil {
		t.Fatalf("joining with an invite made before two restarts: %v", err)
	}
	post(t, bo, id, "made it")
	eventually(t, 10*time.Second, "the owner to read Bo's message", func() bool { return texts(owner, id, 10)["made it"] })
}

// TestInviteNamesReachableMembers: an invite names up to three members, the one that serves a
// relay first; it admits when its issuer is gone, and an invite made while the issuer is
// offline names the members it saw online before.
func TestInviteNamesReachableMembers(t *testing.T) {
	n := newNet(t)
	ownerDir := t.TempDir()
	owner := n.start(ownerDir, 0)
	id := create(t, owner, "Makers")
	relay := n.start("", 0, func(o *peer.Options) { o.Relay = true })
	join(t, relay, inviteOf(t, owner, id, 1), "Relay")
	m1, m2 := n.start("", 0), n.start("", 0)
	join(t, m1, inviteOf(t, owner, id, 1), "Mo")
	join(t, m2, inviteOf(t, owner, id, 1), "Mi")
	connected(t, id, owner, relay, m1, m2)

	inv, warning, err := owner.Invite(id, app.InviteParams{Uses: 2})
	if err != nil || warning != "" {
		t.Fatalf("invite: %v (warning %q)", err, warning)
	}
	if len(inv.Members) != 3 || !bytes.Equal(inv.Members[0].Key, relay.ID.PublicKey()) {
		t.Fatalf("the invite names %d members, the first %x; want 3, the relay %x first", len(inv.Members), inv.Members[0].Key, relay.ID.PublicKey())
	}
	for _, m := range inv.Members {
		if len(m.Addrs) == 0 || len(m.Addrs) > 4 {
			t.Fatalf("a member named with %d addresses: %v", len(m.Addrs), m.Addrs)
		}
	}
	if len(inv.String()) >= 700 {
		t.Fatalf("the invite has %d characters", len(inv.String()))
	}

	// The owner goes offline: the invite admits through another member.
	if err := owner.Close(); err != nil {
		t.Fatal(err)
	}
	jo := n.start("", 0)
	join(t, jo, inv, "Jo")

	// Offline, the owner's invite names the members it saw, the relay first.
	offline, err := peer.Open(ownerDir, peer.Options{Logger: slog.New(slog.DiscardHandler), MinFreeBytes: -1, NoControl: true})
	if err != nil {
		t.Fatal(err)
	}
	defer offline.Close()
	later, warning, err := offline.Invite(id, app.InviteParams{Uses: 1})
	if err != nil || !strings.Contains(warning, "not running") {
		t.Fatalf("offline invite: %v (warning %q)", err, warning)
	}
	if len(later.Members) != 3 || !bytes.Equal(later.Members[0].Key, relay.ID.PublicKey()) {
		t.Fatalf("the offline invite names %d members, the first %x", len(later.Members), later.Members[0].Key)
	}
	ji := n.start("", 0)
	join(t, ji, later, "Ji")
}

// TestRelayedConnectionIsRenewed: two members that reach each other only through a relay (their
// direct connections refused, as two NATs would) with hole punching on: the one that dialled the
// relayed connection renews it (so that punching gets another chance), and stays responsive and
// in touch meanwhile.
func TestRelayedConnectionIsRenewed(t *testing.T) {
	n := newNet(t)
	var aKey, bKey atomic.Value
	relayedTo := func(other *atomic.Value) func(*peer.Options) {
		return func(o *peer.Options) {
			o.Node = func(c *p2p.Config) {
				c.HolePunching = true
				c.ForceRelayed = func(k ed25519.PublicKey) bool { v, _ := other.Load().(string); return v == string(k) }
			}
		}
	}
	relay := n.start("", 0, func(o *peer.Options) { o.Relay = true })
	a := n.start("", 0, relayedTo(&bKey))
	aKey.Store(string(a.ID.PublicKey()))
	b := n.start("", 0, relayedTo(&aKey))
	bKey.Store(string(b.ID.PublicKey()))
	id := create(t, a, "Makers")
	join(t, relay, inviteOf(t, a, id, 1), "Relay")
	circuit := relay.Node().Addrs()[0] + "/p2p-circuit/p2p/" + a.Node().ID()
	eventually(t, time.Minute, "a's reservation on the relay", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return b.Node().Dial(ctx, a.Node().ID(), []string{circuit}) == nil
	})
	var connects atomic.Int32
	b.Node().Notify(func(pid string, connected bool) {
		if pid == a.Node().ID() && connected {
			connects.Add(1)
		}
	})
	inv := inviteOf(t, a, id, 1)
	r := memberOf(relay)
	inv.Members = []invite.Member{{Key: a.ID.PublicKey(), Relays: []invite.Relay{{Key: r.Key, Addrs: r.Addrs}}}}
	join(t, b, inv, "Bo")
	if path, _ := b.Node().PathTo(a.Node().ID()); path != p2p.PathRelayed {
		t.Fatalf("b reaches a %v, want relayed", path)
	}
	eventually(t, 40*time.Second, "b to renew its relayed connection to a", func() bool { return connects.Load() >= 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := b.Do(ctx, peer.Request{Cmd: "status"}); err != nil {
		t.Fatalf("b after the renewal: %v", err)
	}
	post(t, b, id, "still here")
	eventually(t, 30*time.Second, "a to read b after the renewal", func() bool { return texts(a, id, 10)["still here"] })
}
