package peer_test

import (
	"context"
	"fmt"
	stdnet "net"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
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
