package p2p

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	ma "github.com/multiformats/go-multiaddr"
)

const (
	// MDNSService is the mDNS service name Kith nodes announce and browse for.
	MDNSService = "kith"

	// relayBackoff is how long AutoRelay waits before asking a relay that refused a reservation
	// again (libp2p's default is an hour): a relay refuses a member it has not yet seen join.
	relayBackoff = 2 * time.Minute

	// discoveryDialTimeout bounds a dial to a peer found by mDNS.
	discoveryDialTimeout = 15 * time.Second
)

// autoRelayOptions turn on AutoRelay with candidates from Config.RelayCandidates.
//
// Decision: such a node is told it is private (libp2p.ForceReachabilityPrivate) instead of
// waiting for AutoNAT. AutoRelay only looks for relays once AutoNAT v1 says "private", which
// takes AutoNAT v1 servers among its peers, and a Kith node has few peers, all members; a
// reservation with a member's relay costs little. A node with a public address should leave
// RelayCandidates nil.
func autoRelayOptions(self peer.ID, candidates func() []string, log *slog.Logger) []libp2p.Option {
	return []libp2p.Option{
		libp2p.ForceReachabilityPrivate(),
		libp2p.EnableAutoRelayWithPeerSource(relaySource(self, candidates, log),
			// A single member relay is enough to start with; do not wait for more.
			autorelay.WithMinCandidates(1),
			autorelay.WithBootDelay(0),
			autorelay.WithBackoff(relayBackoff),
		),
	}
}

// relaySource is AutoRelay's peer source: the candidates, grouped by peer, this node excluded.
// The goroutine of each call ends when the candidates are sent or ctx ends (AutoRelay cancels it
// when satisfied, and when the host closes).
func relaySource(self peer.ID, candidates func() []string, log *slog.Logger) autorelay.PeerSource {
	return func(ctx context.Context, num int) <-chan peer.AddrInfo {
		out := make(chan peer.AddrInfo)
		go func() {
			defer close(out)
			// Each address on its own: one bad candidate must not hide the others.
			var infos []peer.AddrInfo
			index := map[peer.ID]int{}
			for _, s := range candidates() {
				a, err := ma.NewMultiaddr(s)
				if err != nil {
					log.Debug("relay candidate is not a multiaddr; skipped", "addr", s, "err", err)
					continue
				}
				info, err := peer.AddrInfoFromP2pAddr(a)
				if err != nil {
					log.Debug("relay candidate without /p2p/<peer ID>; skipped", "addr", s, "err", err)
					continue
				}
				if i, ok := index[info.ID]; ok {
					infos[i].Addrs = append(infos[i].Addrs, info.Addrs...)
					continue
				}
				index[info.ID] = len(infos)
				infos = append(infos, *info)
			}
			sent := 0
			for _, info := range infos {
				if info.ID == self || sent >= num {
					continue
				}
				select {
				case out <- info:
					sent++
				case <-ctx.Done():
					return
				}
			}
		}()
		return out
	}
}

// startMDNS starts mDNS discovery. A failure (no multicast interface) is logged, not fatal:
// peers are still found through their addresses.
func (n *Node) startMDNS() {
	svc := mdns.NewMdnsService(n.host, MDNSService, mdnsNotifee{n})
	if err := svc.Start(); err != nil {
		_ = svc.Close()
		n.log.Warn("mDNS discovery did not start; peers on this network will be found through their addresses only (does this network allow multicast?)", "err", err)
		return
	}
	n.mdns = svc
}

// lanTTL is how long a peer mDNS found counts as on the LAN without being found again (mDNS
// peers answer queries every few seconds to a minute).
const lanTTL = 10 * time.Minute

// maxLANPeers bounds the LAN's peers kept: a network that floods mDNS answers (thousands of made
// up peers) costs a joiner this many dials at most.
const maxLANPeers = 64

// lanBook keeps the peers mDNS found lately, members or not: a joiner, a member of nothing
// yet, looks among them for a member of the community it joins.
type lanBook struct {
	found chan struct{} // capacity 1: a peer was found

	mu    sync.Mutex
	peers map[peer.ID]lanPeer // guarded by mu
}

type lanPeer struct {
	info peer.AddrInfo
	at   time.Time
}

func newLANBook() *lanBook {
	return &lanBook{found: make(chan struct{}, 1), peers: map[peer.ID]lanPeer{}}
}

// add notes a peer mDNS found; the signal goes out only for a peer not known already (mDNS
// repeats its answers).
func (b *lanBook) add(info peer.AddrInfo, now time.Time) {
	b.mu.Lock()
	_, known := b.peers[info.ID]
	b.peers[info.ID] = lanPeer{info: info, at: now}
	for id, p := range b.peers {
		if now.Sub(p.at) > lanTTL {
			delete(b.peers, id)
		}
	}
	if len(b.peers) > maxLANPeers {
		var oldest peer.ID
		for id, p := range b.peers {
			if oldest == "" || p.at.Before(b.peers[oldest].at) {
				oldest = id
			}
		}
		delete(b.peers, oldest)
	}
	b.mu.Unlock()
	if known {
		return
	}
	select {
	case b.found <- struct{}{}:
	default:
	}
}

// LANPeers returns the peers mDNS found on the local network in the last ten minutes, members
// or not, sorted by peer ID.
func (n *Node) LANPeers() []Found {
	b := n.lan
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Found
	for _, p := range b.peers {
		if time.Since(p.at) <= lanTTL {
			out = append(out, found(p.info))
		}
	}
	slices.SortFunc(out, func(a, b Found) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// LANFound is signalled (without blocking: one signal may stand for several) when mDNS finds a
// peer on the local network.
func (n *Node) LANFound() <-chan struct{} { return n.lan.found }

// mdnsNotifee dials members found on the local network.
type mdnsNotifee struct{ n *Node }

// HandlePeerFound notes info among the LAN's peers, and dials it if it is a member and not yet
// connected. mDNS calls it on a goroutine of its own; it returns once the dial is over, at the
// latest when the node closes.
func (m mdnsNotifee) HandlePeerFound(info peer.AddrInfo) {
	n := m.n
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	n.wg.Add(1)
	n.mu.Unlock()
	defer n.wg.Done()

	if info.ID == n.host.ID() {
		return
	}
	n.lan.add(info, time.Now())
	if n.host.Network().Connectedness(info.ID) == network.Connected {
		return
	}
	if !n.gate.isMember(info.ID) {
		n.log.Debug("mDNS found a peer that is not a member; ignored", "peer", info.ID)
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, discoveryDialTimeout)
	defer cancel()
	if err := n.host.Connect(ctx, info); err != nil {
		n.log.Debug("mDNS found a member that could not be dialled", "peer", info.ID, "addrs", info.Addrs, "err", err)
		return
	}
	n.log.Info("connected to a member found on the local network", "peer", info.ID)
}
