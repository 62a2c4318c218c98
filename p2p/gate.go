package p2p

import (
	"crypto/ed25519"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	ma "github.com/multiformats/go-multiaddr"
)

// guestSettle is how long a guest slot is kept for a peer that has no connection yet: the gater
// admits a connection a moment before the swarm adds it.
const guestSettle = 2 * time.Second

// gater is the connection gater: members in, at most maxGuests non-members in at once, anything
// we dial out; with the ForceRelayed test hook, no direct connection to chosen peers.
//
// A guest takes a slot when its first inbound connection is secured. The slot is freed when the
// peer has no connection left (the event loop), when it became a member, or GuestTime after it
// was taken (the janitor, which also closes the guest's inbound connections then).
type gater struct {
	log          *slog.Logger
	member       func(ed25519.PublicKey) bool // nil: everyone is a member
	refused      func(ed25519.PublicKey) bool // nil: no one is refused a guest slot
	forceRelayed func(ed25519.PublicKey) bool // nil: none
	maxGuests    int
	guestTime    time.Duration

	mu     sync.Mutex
	guests map[peer.ID]time.Time // guarded by mu; admitted non-members and since when
}

func newGater(cfg Config, log *slog.Logger) *gater {
	if log == nil {
		log = slog.Default()
	}
	g := &gater{
		log:          log,
		member:       cfg.Member,
		refused:      cfg.Refused,
		forceRelayed: cfg.ForceRelayed,
		maxGuests:    cfg.MaxGuests,
		guestTime:    cfg.GuestTime,
		guests:       make(map[peer.ID]time.Time),
	}
	if g.maxGuests == 0 {
		g.maxGuests = DefaultMaxGuests
	}
	if g.guestTime <= 0 {
		g.guestTime = DefaultGuestTime
	}
	return g
}

// isMember asks Config.Member about p; a peer without an Ed25519 key is never a member.
func (g *gater) isMember(p peer.ID) bool {
	if g.member == nil {
		return true
	}
	key, err := peerKey(p)
	return err == nil && g.member(key)
}

// relayedOnly is the ForceRelayed test hook for p.
func (g *gater) relayedOnly(p peer.ID) bool {
	if g.forceRelayed == nil {
		return false
	}
	key, err := peerKey(p)
	return err == nil && g.forceRelayed(key)
}

// InterceptPeerDial allows every dial: this node decides whom it dials.
func (g *gater) InterceptPeerDial(peer.ID) bool { return true }

// InterceptAddrDial allows every address but direct ones of a ForceRelayed peer.
func (g *gater) InterceptAddrDial(p peer.ID, a ma.Multiaddr) bool {
	return isCircuit(a) || !g.relayedOnly(p)
}

// InterceptAccept allows every incoming connection: the peer is not known yet.
func (g *gater) InterceptAccept(network.ConnMultiaddrs) bool { return true }

// InterceptSecured decides once the peer is known: outbound connections pass, inbound ones from
// members pass, and a non-member takes a guest slot if one is free.
func (g *gater) InterceptSecured(dir network.Direction, p peer.ID, c network.ConnMultiaddrs) bool {
	if !isCircuit(c.RemoteMultiaddr()) && g.relayedOnly(p) {
		g.log.Debug("direct connection refused (ForceRelayed)", "peer", p, "addr", c.RemoteMultiaddr())
		return false
	}
	if dir != network.DirInbound || g.isMember(p) {
		return true
	}
	if key, err := peerKey(p); g.refused != nil && err == nil && g.refused(key) {
		g.log.Debug("connection of a removed member refused", "peer", p)
		return false
	}
	if !g.admitGuest(p, time.Now()) {
		g.log.Debug("connection of a non-member refused: no guest slot left", "peer", p, "max_guests", g.maxGuests)
		return false
	}
	return true
}

// InterceptUpgraded allows what InterceptSecured allowed.
func (g *gater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }

// admitGuest gives p a guest slot, or says it already has one; false when none is free.
func (g *gater) admitGuest(p peer.ID, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.guests[p]; ok {
		return true
	}
	if len(g.guests) >= g.maxGuests {
		return false
	}
	g.guests[p] = now
	return true
}

// leave frees p's guest slot, if it has one.
func (g *gater) leave(p peer.ID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.guests, p)
}

// guestCount is the number of guest slots taken.
func (g *gater) guestCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.guests)
}

// sweep frees the slots of guests that became members, whose time is up, or that have no
// connection (connected says). Config.Member is called without the lock held.
func (g *gater) sweep(now time.Time, connected func(peer.ID) bool) {
	g.mu.Lock()
	guests := maps.Clone(g.guests)
	g.mu.Unlock()
	var done []peer.ID
	for p, since := range guests {
		age := now.Sub(since)
		if age >= g.guestTime || (age >= guestSettle && !connected(p)) || g.isMember(p) {
			done = append(done, p)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range done {
		if since, ok := g.guests[p]; ok && since.Equal(guests[p]) {
			delete(g.guests, p)
		}
	}
}

// sweepInterval is how often the janitor looks: a guest stays at most a quarter of GuestTime
// (at most 5 s) longer than GuestTime.
func (g *gater) sweepInterval() time.Duration {
	return min(max(g.guestTime/4, 20*time.Millisecond), 5*time.Second)
}

// guestJanitor closes inbound connections of non-members once they are GuestTime old and frees
// guest slots, until the node closes.
func (n *Node) guestJanitor() {
	defer n.wg.Done()
	tick := time.NewTicker(n.gate.sweepInterval())
	defer tick.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case now := <-tick.C:
			n.sweepGuests(now)
		}
	}
}

func (n *Node) sweepGuests(now time.Time) {
	member := make(map[peer.ID]bool)
	for _, c := range n.host.Network().Conns() {
		st := c.Stat()
		if st.Direction != network.DirInbound || now.Sub(st.Opened) < n.gate.guestTime {
			continue
		}
		p := c.RemotePeer()
		m, ok := member[p]
		if !ok {
			m = n.gate.isMember(p)
			member[p] = m
		}
		if !m {
			n.log.Debug("guest time over: closing the connection of a non-member", "peer", p, "addr", c.RemoteMultiaddr())
			_ = c.Close()
		}
	}
	n.gate.sweep(now, func(p peer.ID) bool {
		return n.host.Network().Connectedness(p) != network.NotConnected
	})
}

// isCircuit reports whether a goes through a relay (/p2p-circuit).
func isCircuit(a ma.Multiaddr) bool {
	if a == nil {
		return false
	}
	_, err := a.ValueForProtocol(ma.P_CIRCUIT)
	return err == nil
}

// relayResources are the relay service's limits: libp2p's defaults without the per-circuit
// limits (2 minutes, 128 KiB each way), and larger copy buffers.
func relayResources() relayv2.Resources {
	rc := relayv2.DefaultResources()
	rc.Limit = nil
	rc.BufferSize = 16 << 10
	return rc
}

func relayOptions(g *gater) []relayv2.Option {
	return []relayv2.Option{
		relayv2.WithResources(relayResources()),
		relayv2.WithACL(relayACL{member: g.isMember}),
	}
}

// relayACL keeps the relay for members: only a member may reserve a slot, and a circuit may only
// lead to a member (its source may be a joiner who is not one yet).
type relayACL struct{ member func(peer.ID) bool }

// AllowReserve lets members reserve a slot.
func (a relayACL) AllowReserve(p peer.ID, _ ma.Multiaddr) bool { return a.member(p) }

// AllowConnect lets anyone reach a member.
func (a relayACL) AllowConnect(_ peer.ID, _ ma.Multiaddr, dest peer.ID) bool { return a.member(dest) }
