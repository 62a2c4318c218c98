package p2p

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	pbv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/pb"
	ma "github.com/multiformats/go-multiaddr"
)

// pub is the public half of key.
func pub(key ed25519.PrivateKey) ed25519.PublicKey { return key.Public().(ed25519.PublicKey) }

// keySet is a concurrency-safe set of public keys, for Member and ForceRelayed.
type keySet struct {
	mu   sync.Mutex
	keys map[string]bool
}

func newKeySet(keys ...ed25519.PrivateKey) *keySet {
	s := &keySet{keys: make(map[string]bool)}
	for _, k := range keys {
		s.add(k)
	}
	return s
}

func (s *keySet) add(k ed25519.PrivateKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[string(pub(k))] = true
}

func (s *keySet) has(k ed25519.PublicKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[string(k)]
}

func (s *keySet) hasNot(k ed25519.PublicKey) bool { return !s.has(k) }

// connected reports whether a has a connection to b.
func connected(a, b *Node) bool {
	_, ok := a.PathTo(b.ID())
	return ok
}

// tryConnect dials b from a and reports whether a is still connected to b once the dial is over
// and b has had its say: a refused connection may look established to the dialer for a moment
// (the muxer is chosen during the security handshake) before the other side closes it.
func tryConnect(t *testing.T, a, b *Node) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Connect(ctx, b.Addrs()[0]); err != nil {
		return err
	}
	// Established for a: it is for b too, or b closes it.
	waitFor(t, 10*time.Second, "the connection to settle", func() bool { return connected(b, a) || !connected(a, b) })
	if !connected(a, b) {
		return errors.New("closed by the peer")
	}
	return nil
}

func TestGaterLimitsGuests(t *testing.T) {
	nKey, mKey := newKey(t), newKey(t)
	g1, g2, g3, g4, oKey := newKey(t), newKey(t), newKey(t), newKey(t), newKey(t)
	outsiders := newKeySet(g1, g2, g3, g4, oKey)
	n := newNodeWith(t, nKey, func(c *Config) {
		c.Member = outsiders.hasNot
		c.MaxGuests = 2
		c.GuestTime = time.Minute
	})
	guest1, guest2, guest3, guest4 := newNodeWith(t, g1, nil), newNodeWith(t, g2, nil), newNodeWith(t, g3, nil), newNodeWith(t, g4, nil)
	member, other := newNodeWith(t, mKey, nil), newNodeWith(t, oKey, nil)

	connect(t, guest1, n)
	connect(t, guest2, n)
	waitFor(t, 10*time.Second, "two guests admitted", func() bool {
		return n.gate.guestCount() == 2 && connected(n, guest1) && connected(n, guest2)
	})
	if err := tryConnect(t, guest3, n); err == nil {
		t.Fatal("a third non-member was admitted with MaxGuests 2")
	}
	if connected(n, guest3) || n.gate.guestCount() != 2 {
		t.Fatalf("after refusing a third guest: connected %v, %d guests", connected(n, guest3), n.gate.guestCount())
	}
	// Members are always admitted, and we may dial anyone.
	if err := tryConnect(t, member, n); err != nil {
		t.Fatalf("a member was refused while the guest slots were full: %v", err)
	}
	if err := tryConnect(t, n, other); err != nil {
		t.Fatalf("an outbound dial to a non-member failed: %v", err)
	}

	// A guest leaving frees its slot. (Closed rather than disconnected, which its pubsub might
	// undo by redialling.)
	if err := guest1.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the slot of a guest who left freed", func() bool { return n.gate.guestCount() == 1 })
	if err := tryConnect(t, guest4, n); err != nil {
		t.Fatalf("a guest was refused with a free slot: %v", err)
	}
	if !connected(n, guest2) || !connected(n, member) || !connected(n, other) {
		t.Error("connections dropped while admitting guests")
	}
}

func TestGuestTimeClosesGuests(t *testing.T) {
	nKey, mKey, gKey, cKey, oKey := newKey(t), newKey(t), newKey(t), newKey(t), newKey(t)
	outsiders := newKeySet(gKey, cKey, oKey)
	members := newKeySet(mKey)
	const guestTime = 300 * time.Millisecond
	n := newNodeWith(t, nKey, func(c *Config) {
		c.Member = func(k ed25519.PublicKey) bool { return members.has(k) || !outsiders.has(k) }
		c.GuestTime = guestTime
	})
	member, convert, guest, other := newNodeWith(t, mKey, nil), newNodeWith(t, cKey, nil), newNodeWith(t, gKey, nil), newNodeWith(t, oKey, nil)

	connect(t, member, n)
	connect(t, convert, n)
	members.add(cKey) // redeemed its invite in time
	connect(t, n, other)
	start := time.Now()
	connect(t, guest, n)

	waitFor(t, 10*time.Second, "the guest's connection closed", func() bool { return !connected(n, guest) })
	if d := time.Since(start); d < guestTime {
		t.Errorf("the guest was dropped after %v, before GuestTime %v", d, guestTime)
	}
	// Every connection below is older than the guest's, so the sweep that dropped the guest
	// judged them all.
	for name, p := range map[string]*Node{"member": member, "new member": convert, "non-member we dialled": other} {
		if !connected(n, p) {
			t.Errorf("the %s was disconnected after GuestTime", name)
		}
	}
	waitFor(t, 10*time.Second, "guest slots freed", func() bool { return n.gate.guestCount() == 0 })
}

func TestRelayedConnection(t *testing.T) {
	aKey, bKey, rKey, cKey := newKey(t), newKey(t), newKey(t), newKey(t)
	r := newNodeWith(t, rKey, func(c *Config) {
		c.Relay = true
		c.Member = newKeySet(aKey, bKey).has
	})
	a := newNodeWith(t, aKey, func(c *Config) {
		c.RelayCandidates = r.Addrs
		c.ForceRelayed = newKeySet(bKey).has
	})
	b := newNodeWith(t, bKey, func(c *Config) { c.ForceRelayed = newKeySet(aKey).has })

	// AutoRelay on a finds r among its candidates and reserves a slot.
	waitFor(t, 20*time.Second, "a's reservation on r", func() bool {
		info := r.host.ConnManager().GetTagInfo(a.host.ID())
		return info != nil && info.Tags["relay-reservation"] > 0
	})

	// a and b cannot meet directly.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Connect(ctx, a.Addrs()[0]); err == nil {
		t.Fatal("b connected to a directly despite ForceRelayed")
	}
	if err := a.Connect(ctx, b.Addrs()[0]); err == nil {
		t.Fatal("a connected to b directly despite ForceRelayed")
	}

	// The address book keeps a circuit address (identify would drop one that Connect only
	// remembers for the dial: a advertises none, its relay having only a loopback address).
	circuit := r.Addrs()[0] + "/p2p-circuit/p2p/" + a.ID()
	if err := b.AddAddrs(circuit); err != nil {
		t.Fatal(err)
	}
	if err := b.Connect(ctx, circuit); err != nil {
		t.Fatalf("connect through the relay: %v", err)
	}
	if p, ok := b.PathTo(a.ID()); !ok || p != PathRelayed {
		t.Fatalf("b's path to a: %v %v, want relayed", p, ok)
	}
	waitFor(t, 10*time.Second, "a sees b relayed", func() bool {
		p, ok := a.PathTo(b.ID())
		return ok && p == PathRelayed
	})
	peers := b.Peers()
	i := slices.IndexFunc(peers, func(p PeerInfo) bool { return p.ID == a.ID() })
	if i < 0 || peers[i].Path != PathRelayed || !strings.Contains(peers[i].Addr, "/p2p/"+r.ID()+"/p2p-circuit") || !bytes.Equal(peers[i].Key, pub(aKey)) {
		t.Fatalf("b.Peers() = %+v, want a relayed through r", peers)
	}
	waitFor(t, 10*time.Second, "b knows a's circuit address after identify", func() bool {
		return slices.Contains(b.AddrsOf(a.ID()), circuit) && len(b.AddrsOf(a.ID())) > 1
	})

	// 1 MiB each way: far over libp2p's default 128 KiB per relayed connection.
	const size = 1 << 20
	a.Handle("/kith/test/big/1", 2*size, func(_ context.Context, _ ed25519.PublicKey, req []byte) ([]byte, error) {
		return bytes.ToUpper(req), nil
	})
	req := bytes.Repeat([]byte("kith"), size/4)
	got, err := b.Request(ctx, a.ID(), "/kith/test/big/1", req, 2*size)
	if err != nil {
		t.Fatalf("1 MiB request through the relay: %v", err)
	}
	if !bytes.Equal(got, bytes.ToUpper(req)) {
		t.Fatalf("answer of %d bytes differs", len(got))
	}
	if p, _ := b.PathTo(a.ID()); p != PathRelayed {
		t.Fatalf("path after the request: %v, want still relayed", p)
	}

	// A non-member of r's communities may connect (as a guest) but not reserve.
	outsider := newNodeWith(t, cKey, nil)
	connect(t, outsider, r)
	_, err = client.Reserve(ctx, outsider.host, peer.AddrInfo{ID: r.host.ID(), Addrs: r.host.Addrs()})
	var rerr client.ReservationError
	if !errors.As(err, &rerr) || rerr.Status != pbv2.Status_PERMISSION_DENIED {
		t.Fatalf("reservation by a non-member: %v, want PERMISSION_DENIED", err)
	}
}

func TestRelayACL(t *testing.T) {
	member, outsider := newKey(t), newKey(t)
	g := newGater(Config{Member: newKeySet(member).has}, nil)
	acl := relayACL{member: g.isMember}
	mID, oID := idOf(t, member), idOf(t, outsider)
	addr := ma.StringCast("/ip4/127.0.0.1/tcp/1")
	for _, c := range []struct {
		name      string
		got, want bool
	}{
		{"member reserves", acl.AllowReserve(mID, addr), true},
		{"outsider reserves", acl.AllowReserve(oID, addr), false},
		{"member to member", acl.AllowConnect(mID, addr, mID), true},
		{"joiner to member", acl.AllowConnect(oID, addr, mID), true},
		{"member to outsider", acl.AllowConnect(mID, addr, oID), false},
		{"outsider to outsider", acl.AllowConnect(oID, addr, oID), false},
	} {
		if c.got != c.want {
			t.Errorf("%s: allowed %v, want %v", c.name, c.got, c.want)
		}
	}
	rc := relayResources()
	if rc.Limit != nil {
		t.Errorf("relay circuits limited to %+v, want no limit", rc.Limit)
	}
}

func idOf(t *testing.T, key ed25519.PrivateKey) peer.ID {
	t.Helper()
	pk, err := crypto.UnmarshalEd25519PublicKey(pub(key))
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(pk)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestPeersPathsAndNotify(t *testing.T) {
	a, b, c := newNode(t), newNode(t), newNode(t)
	type ev struct {
		peer      string
		connected bool
	}
	events := make(chan ev, 64)
	a.Notify(func(p string, up bool) { events <- ev{p, up} })
	// next waits for want, skipping events of other peers: pubsub may redial a peer disconnected
	// right after it connected, while it was still opening its stream.
	next := func(want ev) {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case got := <-events:
				if got.peer != want.peer {
					continue
				}
				if got != want {
					t.Fatalf("Notify: got %+v, want %+v", got, want)
				}
				return
			case <-timeout:
				t.Fatalf("Notify: no event, want %+v", want)
			}
		}
	}

	connect(t, a, b)
	next(ev{b.ID(), true})
	peers := a.Peers()
	bKey, _ := b.KeyOf(b.ID())
	if len(peers) != 1 || peers[0].ID != b.ID() || peers[0].Path != PathLAN || !bytes.Equal(peers[0].Key, bKey) || !strings.HasPrefix(peers[0].Addr, "/ip4/127.0.0.1/tcp/") {
		t.Fatalf("Peers() = %+v, want b over LAN", peers)
	}
	if p, ok := a.PathTo(b.ID()); !ok || p != PathLAN {
		t.Errorf("a.PathTo(b) = %v %v, want LAN", p, ok)
	}
	waitFor(t, 10*time.Second, "b sees a", func() bool { p, ok := b.PathTo(a.ID()); return ok && p == PathLAN })
	if _, ok := a.PathTo(c.ID()); ok {
		t.Error("PathTo reports a peer never connected")
	}
	if _, ok := a.PathTo("not a peer"); ok {
		t.Error("PathTo accepted a bad peer ID")
	}
	if !slices.Contains(a.AddrsOf(b.ID()), b.Addrs()[0]) {
		t.Errorf("AddrsOf(b) = %v, want %s among them", a.AddrsOf(b.ID()), b.Addrs()[0])
	}

	// Protection, as the connection manager sees it.
	a.Protect(b.ID(), "community-1")
	a.Protect(b.ID(), "community-2")
	if !a.host.ConnManager().IsProtected(b.host.ID(), "") {
		t.Error("Protect did not protect")
	}
	if !a.Unprotect(b.ID(), "community-1") {
		t.Error("Unprotect of one of two tags says unprotected")
	}
	if a.Unprotect(b.ID(), "community-2") || a.host.ConnManager().IsProtected(b.host.ID(), "") {
		t.Error("Unprotect of the last tag left b protected")
	}
	a.Protect("bad id", "x") // ignored

	if err := a.Disconnect(b.ID()); err != nil {
		t.Fatal(err)
	}
	next(ev{b.ID(), false})

	// AddAddrs fills the peerstore without dialling; Request then dials.
	if err := a.AddAddrs(c.Addrs()...); err != nil {
		t.Fatal(err)
	}
	if err := a.AddAddrs(a.Addrs()...); err != nil {
		t.Errorf("AddAddrs of our own addresses: %v", err)
	}
	if !slices.Contains(a.AddrsOf(c.ID()), c.Addrs()[0]) || connected(a, c) {
		t.Fatalf("after AddAddrs: addrs %v, connected %v", a.AddrsOf(c.ID()), connected(a, c))
	}
	c.Handle("/kith/test/ping/1", 16, func(context.Context, ed25519.PublicKey, []byte) ([]byte, error) { return []byte("pong"), nil })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if got, err := a.Request(ctx, c.ID(), "/kith/test/ping/1", nil, 16); err != nil || string(got) != "pong" {
		t.Fatalf("request to a peer known from AddAddrs: %q %v", got, err)
	}
	next(ev{c.ID(), true})
	if err := a.AddAddrs("/ip4/127.0.0.1/tcp/1", c.Addrs()[0]); err == nil || !strings.Contains(err.Error(), "/p2p/") {
		t.Errorf("AddAddrs of an address without peer ID: %v", err)
	}
	if err := a.Disconnect("nope"); err == nil {
		t.Error("Disconnect accepted a bad peer ID")
	}
}

func TestPathOf(t *testing.T) {
	const id = "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"
	for addr, want := range map[string]Path{
		"/ip4/127.0.0.1/tcp/4001":                                    PathLAN,
		"/ip6/::1/udp/4001/quic-v1":                                  PathLAN,
		"/ip4/192.168.1.7/tcp/4001":                                  PathLAN,
		"/ip4/10.1.2.3/tcp/4001":                                     PathLAN,
		"/ip4/172.20.0.5/tcp/4001":                                   PathLAN,
		"/ip4/169.254.3.4/tcp/4001":                                  PathLAN,
		"/ip6/fd12:3456::1/tcp/4001":                                 PathLAN,
		"/ip6/fe80::1/tcp/4001":                                      PathLAN,
		"/ip4/100.64.0.9/tcp/4001":                                   PathDirect,
		"/ip4/203.0.113.5/tcp/4001":                                  PathDirect,
		"/ip6/2001:db8::5/udp/4001/quic-v1":                          PathDirect,
		"/ip4/203.0.113.5/tcp/4001/p2p/" + id + "/p2p-circuit":       PathRelayed,
		"/ip4/127.0.0.1/udp/4001/quic-v1/p2p/" + id + "/p2p-circuit": PathRelayed,
	} {
		if got := pathOf(ma.StringCast(addr)); got != want {
			t.Errorf("pathOf(%s) = %v, want %v", addr, got, want)
		}
	}
	for p, want := range map[Path]string{PathDirect: "direct", PathLAN: "LAN", PathRelayed: "relayed", 0: "unknown(0)"} {
		if p.String() != want {
			t.Errorf("Path(%d).String() = %q, want %q", int(p), p.String(), want)
		}
	}
}

// A slow Notify callback holds up later callbacks, not the network.
func TestNotifySlowCallback(t *testing.T) {
	a := newNode(t)
	release := make(chan struct{})
	var calls atomic.Int64
	a.Notify(func(string, bool) {
		calls.Add(1)
		<-release
	})
	defer close(release)
	peers := []*Node{newNode(t), newNode(t), newNode(t)}
	for _, p := range peers {
		connect(t, p, a)
	}
	if got := len(a.Peers()); got != len(peers) {
		t.Fatalf("%d peers connected, want %d", got, len(peers))
	}
	if calls.Load() > 1 {
		t.Fatalf("%d callbacks ran at once, want one at a time", calls.Load())
	}
}

// mDNS itself multicasts on the machine's networks, which tests outside a lab of their own must
// not do: the NAT lab (cmd/kith-lab, `make lab`) runs it between network namespaces. Here, its
// notifee: what it does with a peer found.
func TestMDNSNotifeeConnectsMembersOnly(t *testing.T) {
	nKey, mKey, oKey := newKey(t), newKey(t), newKey(t)
	n := newNodeWith(t, nKey, func(c *Config) { c.Member = newKeySet(mKey).has })
	member, outsider := newNodeWith(t, mKey, nil), newNodeWith(t, oKey, nil)
	found := mdnsNotifee{n}
	info := func(p *Node) peer.AddrInfo { return peer.AddrInfo{ID: p.host.ID(), Addrs: p.host.Addrs()} }

	found.HandlePeerFound(info(outsider))
	found.HandlePeerFound(info(n)) // itself
	found.HandlePeerFound(info(member))
	if !connected(n, member) {
		t.Error("a member found on the LAN was not dialled")
	}
	if connected(n, outsider) {
		t.Error("a non-member found on the LAN was dialled")
	}
	lan := n.LANPeers()
	if len(lan) != 2 || !slices.ContainsFunc(lan, func(f Found) bool { return f.ID == outsider.ID() && len(f.Addrs) > 0 }) {
		t.Errorf("LANPeers = %+v, want the member and the outsider (a joiner looks among them), not itself", lan)
	}
	select {
	case <-n.LANFound():
	default:
		t.Error("LANFound was not signalled")
	}
	_ = n.Close()
	found.HandlePeerFound(info(outsider)) // after Close: nothing, no panic
}

// NAT options start and stop cleanly with no router to talk to. go-libp2p's UPnP search outlives
// Close by up to 5 s (its SSDP timeout), then ends. UPnP and NAT-PMP talk to the LAN's router, so
// the test runs in a network namespace of its own, with only a loopback (as root, with unshare:
// skipped elsewhere; the NAT lab starts nodes with NAT on in its namespaces).
func TestNATOptionsStart(t *testing.T) {
	if os.Getenv(inNetnsEnv) == "" {
		if os.Geteuid() != 0 {
			t.Skip("needs root for a network namespace of its own (UPnP must not reach this machine's LAN)")
		}
		unshare, err := exec.LookPath("unshare")
		if err != nil {
			t.Skip("needs unshare (util-linux) for a network namespace of its own")
		}
		cmd := exec.Command(unshare, "--net", "sh", "-c", `ip link set lo up && exec "$0" "$@"`,
			os.Args[0], "-test.run=^TestNATOptionsStart$", "-test.count=1")
		cmd.Env = append(os.Environ(), inNetnsEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("in a network namespace: %v\n%s", err, out)
		}
		if !bytes.Contains(out, []byte("PASS")) {
			t.Fatalf("the test did not run in its namespace:\n%s", out)
		}
		return
	}
	baseline := runtime.NumGoroutine()
	n := newNodeWith(t, newKey(t), func(c *Config) { c.NAT = true })
	other := newNode(t)
	connect(t, other, n)
	for _, n := range []*Node{n, other} {
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
	}
	waitForStatus(t, 20*time.Second, "the goroutines of a NAT node to end",
		func() string { return fmt.Sprintf("(%d running, baseline %d)", runtime.NumGoroutine(), baseline) },
		func() bool { return runtime.NumGoroutine() <= baseline })
}

// inNetnsEnv is set in the child that TestNATOptionsStart runs in a network namespace.
const inNetnsEnv = "KITH_TEST_IN_NETNS"

func TestConfigDefaults(t *testing.T) {
	g := newGater(Config{}, nil)
	if g.maxGuests != DefaultMaxGuests || g.guestTime != DefaultGuestTime {
		t.Errorf("defaults: %d guests, %v", g.maxGuests, g.guestTime)
	}
	if d := g.sweepInterval(); d != 5*time.Second {
		t.Errorf("sweep interval %v for %v", d, g.guestTime)
	}
	if g := newGater(Config{MaxGuests: -1}, nil); g.admitGuest("x", time.Now()) {
		t.Error("MaxGuests -1 admitted a guest")
	}
}
