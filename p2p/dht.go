package p2p

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ipfs/go-cid"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multihash"
)

// DHT configures the Kademlia DHT (go-libp2p-kad-dht) a node uses to find peers whose addresses
// changed: by a rendezvous key under which peers announce themselves (Provide, FindProviders)
// and by peer ID (FindPeer). The public libp2p network is reached only when Public is set: it
// speaks the public protocol (/ipfs/kad/1.0.0) then; without it, Kith's own (/kith/kad/1.0.0),
// so that a bootstrap node that is also in the public network never leads this node there.
type DHT struct {
	// Bootstrap are full multiaddrs (ending in /p2p/<ID>) of DHT nodes to start from: a
	// friend's always-on `kithd run --dht-server`, or the lab's.
	Bootstrap []string
	// Public adds the public libp2p network's bootstrap nodes (thousands of computers run by
	// others). Only when the person turned it on: those nodes see this node's addresses and the
	// keys it announces or looks up.
	Public bool
	// Server makes this node a DHT server: it answers queries and keeps records for others (a
	// bootstrap node for a group). Others are clients: they ask servers and store their own
	// records there, and nobody queries them.
	Server bool
}

// PrivateDHTPrefix is the protocol prefix of a DHT that is not the public network's: its peers
// speak /kith/kad/1.0.0, which no public DHT node does.
const PrivateDHTPrefix = "/kith"

// ErrNoDHT is returned by the DHT methods of a node started without Config.DHT.
var ErrNoDHT = errors.New("p2p: no DHT: give bootstrap nodes (--bootstrap) or turn on the public DHT")

// ErrDHTUnreachable is returned by the DHT methods when no DHT node answers (the bootstrap
// nodes are down or unreachable from here): what uses the DHT tries again later.
var ErrDHTUnreachable = errors.New("p2p: no DHT node answers")

// startDHT starts the DHT on h; nil when cfg is nil.
func startDHT(h host.Host, cfg *DHT) (*dht.IpfsDHT, error) {
	if cfg == nil {
		return nil, nil
	}
	var boot []peer.AddrInfo
	for _, s := range cfg.Bootstrap {
		info, err := peer.AddrInfoFromString(s)
		if err != nil {
			return nil, fmt.Errorf("p2p: the bootstrap address %q is not a full peer address (want /ip4/.../tcp/.../p2p/<peer ID>): %w", s, err)
		}
		if info.ID == h.ID() {
			continue // a bootstrap node lists itself
		}
		boot = append(boot, *info)
	}
	if cfg.Public {
		boot = append(boot, dht.GetDefaultBootstrapPeerAddrInfos()...)
	}
	mode := dht.ModeClient
	if cfg.Server {
		mode = dht.ModeServer
	}
	opts := []dht.Option{dht.Mode(mode), dht.BootstrapPeers(boot...)}
	if !cfg.Public {
		opts = append(opts, dht.ProtocolPrefix(PrivateDHTPrefix))
	}
	d, err := dht.New(h, opts...)
	if err != nil {
		return nil, fmt.Errorf("p2p: start the DHT: %w", err)
	}
	return d, nil
}

// rendezvousCID is the DHT key of a rendezvous key: a CID over its SHA-256 multihash.
func rendezvousCID(key [32]byte) (cid.Cid, error) {
	mh, err := multihash.Encode(key[:], multihash.SHA2_256)
	if err != nil {
		return cid.Undef, err
	}
	return cid.NewCidV1(cid.Raw, mh), nil
}

// dhtReady returns the DHT once its routing table has a peer, dialling the bootstrap nodes
// when it is empty, up to ctx: ErrNoDHT without a DHT, ErrDHTUnreachable when none answers.
func (n *Node) dhtReady(ctx context.Context) (*dht.IpfsDHT, error) {
	d := n.kad()
	if d == nil {
		return nil, ErrNoDHT
	}
	if d.RoutingTable().Size() > 0 {
		return d, nil
	}
	_ = d.Bootstrap(ctx) // connects the bootstrap nodes when the table is empty
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for d.RoutingTable().Size() == 0 {
		select {
		case <-ctx.Done():
			return nil, ErrDHTUnreachable
		case <-tick.C:
		}
	}
	return d, nil
}

// kad is the running DHT, nil without one.
func (n *Node) kad() *dht.IpfsDHT {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dht
}

// SetDHT replaces the DHT: it stops the one running (if any) and starts cfg's (nil: none), for a
// person who turned the public network on or off, or changed the bootstrap nodes, while Kith
// runs.
func (n *Node) SetDHT(cfg *DHT) error {
	n.dhtMu.Lock() // one replacement at a time: none may leave a DHT running unseen
	defer n.dhtMu.Unlock()
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return ErrClosed
	}
	old := n.dht
	n.dht = nil
	n.mu.Unlock()
	if old != nil {
		if err := old.Close(); err != nil {
			n.log.Debug("stopping the DHT", "err", err)
		}
	}
	d, err := startDHT(n.host, cfg)
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		if d != nil {
			_ = d.Close()
		}
		return ErrClosed
	}
	n.dht = d
	return nil
}

// Provide announces this node under a rendezvous key on the DHT: the servers closest to the key
// keep a record naming this node (with its current addresses) for a day or two, so that
// whoever knows the key finds it (FindProviders). Announce again when the addresses change.
// ErrNoDHT without a DHT, ErrDHTUnreachable when no DHT node answers within ctx.
func (n *Node) Provide(ctx context.Context, key [32]byte) error {
	d, err := n.dhtReady(ctx)
	if err != nil {
		return err
	}
	c, err := rendezvousCID(key)
	if err != nil {
		return err
	}
	if err := d.Provide(ctx, c, true); err != nil {
		return fmt.Errorf("%w (%v)", ErrDHTUnreachable, err)
	}
	return nil
}

// Found is a peer found on the DHT or the LAN: its peer ID and its addresses (full multiaddrs
// ending in /p2p/<ID>).
type Found struct {
	ID    string
	Addrs []string
}

// FindProviders returns the peers that announced themselves under a rendezvous key (at most
// max, this node left out), as the DHT servers know them. ErrNoDHT without a DHT,
// ErrDHTUnreachable when no DHT node answers within ctx.
func (n *Node) FindProviders(ctx context.Context, key [32]byte, max int) ([]Found, error) {
	d, err := n.dhtReady(ctx)
	if err != nil {
		return nil, err
	}
	c, err := rendezvousCID(key)
	if err != nil {
		return nil, err
	}
	var out []Found
	for info := range d.FindProvidersAsync(ctx, c, max+1) {
		if info.ID == n.host.ID() || len(out) >= max {
			continue
		}
		if len(info.Addrs) > 0 {
			n.host.Peerstore().AddAddrs(info.ID, info.Addrs, time.Hour)
		}
		out = append(out, found(info))
	}
	return out, nil
}

// FindPeer asks the DHT for a peer's current addresses. ErrNoDHT without a DHT,
// ErrDHTUnreachable when no DHT node answers within ctx; an error too when no node knows it.
func (n *Node) FindPeer(ctx context.Context, peerID string) (Found, error) {
	d, err := n.dhtReady(ctx)
	if err != nil {
		return Found{}, err
	}
	id, err := peer.Decode(peerID)
	if err != nil {
		return Found{}, fmt.Errorf("p2p: find %q: not a peer ID: %w", peerID, err)
	}
	info, err := d.FindPeer(ctx, id)
	if err != nil {
		return Found{}, fmt.Errorf("p2p: the DHT does not know where %s is: %w", short(peerID), err)
	}
	return found(info), nil
}

// DHTPeers is the number of peers in the DHT's routing table (0 without a DHT): how much of
// the DHT this node reaches.
func (n *Node) DHTPeers() int {
	d := n.kad()
	if d == nil {
		return 0
	}
	return d.RoutingTable().Size()
}

func found(info peer.AddrInfo) Found {
	f := Found{ID: info.ID.String()}
	for _, a := range info.Addrs {
		f.Addrs = append(f.Addrs, a.String()+"/p2p/"+f.ID)
	}
	slices.Sort(f.Addrs)
	return f
}

// HasDHT reports whether the node runs a DHT (Config.DHT).
func (n *Node) HasDHT() bool { return n.kad() != nil }
