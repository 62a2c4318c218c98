package p2p

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	circuitproto "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/proto"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// Path is how a connection reaches a peer.
type Path int

// Paths, from the best to the worst. The zero Path is not valid.
const (
	// PathDirect is a connection over the internet, to a public address.
	PathDirect Path = iota + 1
	// PathLAN is a connection to a loopback, private (RFC 1918, fc00::/7) or link-local
	// address: the peer is on this machine or this network. The shared address space of
	// carrier-grade NATs and VPNs such as Tailscale (100.64.0.0/10) counts as direct.
	PathLAN
	// PathRelayed is a connection through another peer's relay (/p2p-circuit).
	PathRelayed
)

// String returns "direct", "LAN", "relayed" or "unknown(N)".
func (p Path) String() string {
	switch p {
	case PathDirect:
		return "direct"
	case PathLAN:
		return "LAN"
	case PathRelayed:
		return "relayed"
	}
	return fmt.Sprintf("unknown(%d)", int(p))
}

// better reports whether p is a better path than q: LAN, then direct, then relayed.
func (p Path) better(q Path) bool {
	rank := func(p Path) int {
		switch p {
		case PathLAN:
			return 0
		case PathDirect:
			return 1
		}
		return 2
	}
	return rank(p) < rank(q)
}

// PeerInfo describes one connected peer.
type PeerInfo struct {
	// ID is the peer ID in text form.
	ID string
	// Key is the peer's Ed25519 public key (nil for a peer without one).
	Key ed25519.PublicKey
	// Path is how the best current connection reaches the peer.
	Path Path
	// Addr is the remote address of that connection, such as /ip4/192.168.1.7/tcp/4001 or,
	// relayed, /ip4/203.0.113.5/tcp/4001/p2p/<relay ID>/p2p-circuit.
	Addr string
	// Dialed says this node opened that connection (outbound).
	Dialed bool
}

// pathOf classifies a connection's remote address.
func pathOf(a ma.Multiaddr) Path {
	if isCircuit(a) {
		return PathRelayed
	}
	ip, err := manet.ToIP(a)
	if err != nil {
		return PathDirect
	}
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() {
		return PathLAN
	}
	return PathDirect
}

// best returns the best of conns, which must not be empty.
func best(conns []network.Conn) (Path, network.Conn) {
	var (
		path Path
		conn network.Conn
	)
	for _, c := range conns {
		if p := pathOf(c.RemoteMultiaddr()); conn == nil || p.better(path) {
			path, conn = p, c
		}
	}
	return path, conn
}

// Peers returns every connected peer, sorted by ID, with the best current connection to it.
// After Close it returns none.
func (n *Node) Peers() []PeerInfo {
	var out []PeerInfo
	for _, id := range n.host.Network().Peers() {
		conns := n.host.Network().ConnsToPeer(id)
		if len(conns) == 0 {
			continue // closed meanwhile
		}
		path, c := best(conns)
		key, _ := peerKey(id)
		out = append(out, PeerInfo{ID: id.String(), Key: key, Path: path, Addr: c.RemoteMultiaddr().String(),
			Dialed: c.Stat().Direction == network.DirOutbound})
	}
	slices.SortFunc(out, func(a, b PeerInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// PathTo returns the path of the best current connection to peerID; false when not connected
// (or peerID is not a peer ID).
func (n *Node) PathTo(peerID string) (Path, bool) {
	id, err := peer.Decode(peerID)
	if err != nil {
		return 0, false
	}
	conns := n.host.Network().ConnsToPeer(id)
	if len(conns) == 0 {
		return 0, false
	}
	path, _ := best(conns)
	return path, true
}

// Notify registers fn, called with connected true when the first connection to a peer opens
// and false when its last one closes. Calls come one at a time, in order, from a goroutine of
// the Node's (never while it holds a lock); a slow fn delays later calls but never the network.
// Connections opened before Notify are not reported: use Peers for the current state. fn is no
// longer called once Close has begun, and Close waits for a call in progress, so fn must not
// wait for Close. Notify after Close does nothing.
func (n *Node) Notify(fn func(peerID string, connected bool)) {
	if fn == nil {
		return
	}
	n.events.mu.Lock()
	defer n.events.mu.Unlock()
	n.events.fns = append(n.events.fns, fn)
}

// connEvent is one connectedness change.
type connEvent struct {
	peer      peer.ID
	connected bool
}

// notifier queues connectedness changes between the event bus and the Notify callbacks, so that
// a slow callback never blocks the bus (whose emitters would then block the swarm).
type notifier struct {
	wake chan struct{} // capacity 1: something was queued

	mu    sync.Mutex
	fns   []func(peerID string, connected bool) // guarded by mu
	queue []connEvent                           // guarded by mu
}

func newNotifier() *notifier { return &notifier{wake: make(chan struct{}, 1)} }

func (q *notifier) push(e connEvent) {
	q.mu.Lock()
	q.queue = append(q.queue, e)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// startEvents subscribes to connectedness changes and starts the two goroutines that handle
// them: one reads the bus (and frees guest slots), one calls the Notify callbacks.
func (n *Node) startEvents() error {
	sub, err := n.host.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged), eventbus.BufSize(256), eventbus.Name("kith-p2p"))
	if err != nil {
		return fmt.Errorf("p2p: start: subscribe to connection events: %w", err)
	}
	n.wg.Add(2)
	go n.readEvents(sub)
	go n.deliverEvents()
	return nil
}

func (n *Node) readEvents(sub event.Subscription) {
	defer n.wg.Done()
	defer sub.Close()
	for {
		select {
		case <-n.ctx.Done():
			return
		case e, ok := <-sub.Out():
			if !ok {
				return
			}
			ev := e.(event.EvtPeerConnectednessChanged)
			connected := ev.Connectedness == network.Connected || ev.Connectedness == network.Limited
			if !connected && n.host.Network().Connectedness(ev.Peer) == network.NotConnected {
				n.gate.leave(ev.Peer)
				if n.subs != nil {
					n.subs.forget(ev.Peer) // a new connection subscribes anew
				}
			}
			n.events.push(connEvent{peer: ev.Peer, connected: connected})
		}
	}
}

func (n *Node) deliverEvents() {
	defer n.wg.Done()
	q := n.events
	last := make(map[peer.ID]bool) // delivered state of connected peers
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-q.wake:
		}
		q.mu.Lock()
		batch, fns := q.queue, slices.Clone(q.fns)
		q.queue = nil
		q.mu.Unlock()
		for _, e := range batch {
			if last[e.peer] == e.connected {
				continue // Limited then Connected, say: no news
			}
			if e.connected {
				last[e.peer] = true
			} else {
				delete(last, e.peer)
			}
			for _, fn := range fns {
				if n.ctx.Err() != nil {
					return
				}
				fn(e.peer.String(), e.connected)
			}
		}
	}
}

// AddrsOf returns the full multiaddrs (ending in /p2p/<peer ID>) the peerstore knows for peerID,
// sorted: those given to AddAddrs, and those the peer advertised (identify) while connected and
// for a while after; nil for an unknown peer or a string that is not a peer ID.
func (n *Node) AddrsOf(peerID string) []string {
	id, err := peer.Decode(peerID)
	if err != nil {
		return nil
	}
	addrs := n.host.Peerstore().Addrs(id)
	if len(addrs) == 0 {
		return nil
	}
	suffix := "/p2p/" + id.String()
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, a.String()+suffix)
	}
	slices.Sort(out)
	return out
}

// AddAddrs adds full multiaddrs (ending in /p2p/<peer ID>, relayed ones included) to the
// peerstore for a long time (peerstore.AddressTTL, an hour, renewed by each call) without
// dialling, so that later Connect and Request calls can use them. Addresses of this node are
// skipped. It adds every valid address and returns an error naming those that are not.
func (n *Node) AddAddrs(addr ...string) error {
	var errs []error
	for _, s := range addr {
		info, err := peer.AddrInfoFromString(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("p2p: address %q is not a full peer address (want /ip4/.../tcp/.../p2p/<peer ID>): %w", s, err))
			continue
		}
		if info.ID == n.host.ID() || len(info.Addrs) == 0 {
			continue
		}
		n.host.Peerstore().AddAddrs(info.ID, info.Addrs, peerstore.AddressTTL)
	}
	return errors.Join(errs...)
}

// Disconnect closes every connection to peerID. It is not an error if there is none. It bans
// nothing: the peer may dial again, and so may this node (pubsub redials a peer it was still
// greeting, a Request dials).
func (n *Node) Disconnect(peerID string) error {
	if n.isClosed() {
		return ErrClosed
	}
	id, err := peer.Decode(peerID)
	if err != nil {
		return fmt.Errorf("p2p: disconnect: %q is not a peer ID: %w", peerID, err)
	}
	if err := n.host.Network().ClosePeer(id); err != nil {
		return fmt.Errorf("p2p: disconnect from %s: %w", short(peerID), err)
	}
	return nil
}

// Protect keeps the connection manager from trimming connections to peerID while at least one
// tag protects it; Kith protects members' connections. An invalid peer ID is ignored.
func (n *Node) Protect(peerID, tag string) {
	id, err := peer.Decode(peerID)
	if err != nil {
		n.log.Debug("protect: not a peer ID", "peer", peerID, "err", err)
		return
	}
	n.host.ConnManager().Protect(id, tag)
}

// Unprotect removes tag's protection of peerID and reports whether another tag still protects
// it (false too for an invalid peer ID).
func (n *Node) Unprotect(peerID, tag string) bool {
	id, err := peer.Decode(peerID)
	if err != nil {
		return false
	}
	return n.host.ConnManager().Unprotect(id, tag)
}

// Dial connects to peerID through any of addrs: full multiaddrs ending in /p2p/<peerID>, relayed
// ones (/p2p/<relay>/p2p-circuit/p2p/<peerID>) included. libp2p tries them together, the better
// ones first, and keeps them in the peerstore. It is a no-op when already connected; ctx bounds
// the dial. Addresses of another peer, and strings that are not multiaddrs, are skipped.
func (n *Node) Dial(ctx context.Context, peerID string, addrs []string) error {
	if n.isClosed() {
		return ErrClosed
	}
	id, err := peer.Decode(peerID)
	if err != nil {
		return fmt.Errorf("p2p: dial: %q is not a peer ID: %w", peerID, err)
	}
	if id == n.host.ID() {
		return errors.New("p2p: dial: that is this node's own peer ID")
	}
	info := peer.AddrInfo{ID: id}
	for _, s := range addrs {
		ai, err := peer.AddrInfoFromString(s)
		if err != nil || ai.ID != id {
			continue
		}
		info.Addrs = append(info.Addrs, ai.Addrs...)
	}
	if len(info.Addrs) == 0 && n.host.Network().Connectedness(id) != network.Connected {
		if len(n.host.Peerstore().Addrs(id)) == 0 {
			return fmt.Errorf("p2p: dial %s: no address to dial", short(peerID))
		}
	}
	if err := n.host.Connect(ctx, info); err != nil {
		return fmt.Errorf("p2p: could not reach %s at any of its %d addresses: %w", short(peerID), len(info.Addrs), err)
	}
	return nil
}

// PeerID returns the peer ID, in text form, of an Ed25519 public key: the ID of the peer whose
// member key it is.
func (n *Node) PeerID(key ed25519.PublicKey) (string, error) { return IDOfKey(key) }

// IDOfKey is Node.PeerID with no node.
func IDOfKey(key ed25519.PublicKey) (string, error) {
	pk, err := crypto.UnmarshalEd25519PublicKey(key)
	if err != nil {
		return "", fmt.Errorf("p2p: not an Ed25519 public key: %w", err)
	}
	id, err := peer.IDFromPublicKey(pk)
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// IsRelay reports whether a peer said (in identify) that it serves circuit relay v2: a member
// running `kithd run --relay`, reachable and able to relay for others. False for a peer this
// node has not talked to lately.
func (n *Node) IsRelay(peerID string) bool {
	id, err := peer.Decode(peerID)
	if err != nil {
		return false
	}
	ok, err := n.host.Peerstore().SupportsProtocols(id, circuitproto.ProtoIDv2Hop)
	return err == nil && len(ok) > 0
}

// HolePunching reports whether the node punches holes through NATs (Config.NAT or
// Config.HolePunching): a relayed connection that comes in starts an attempt at a direct one
// (DCUtR).
func (n *Node) HolePunching() bool { return n.punch }
