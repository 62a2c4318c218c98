package p2p

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
)

// Limits and queue sizes. The pubsub defaults (32-deep queues) drop bursts
// silently: with them, 10 hosts and a burst of 1,000 messages delivered only
// 31–43 %. These sizes let a burst of 2,000 through without loss.
const (
	// MaxMessageSize is the largest payload [Topic.Publish] accepts, and the
	// largest a peer may send us. Pubsub's RPC limit is set a little above it
	// (framing and control messages share the RPC).
	MaxMessageSize = 1 << 20

	// QueueSize is the depth of the per-peer outbound queue and of the
	// validation queue.
	QueueSize = 4096

	// SubscriptionBuffer is how many delivered messages may wait for a slow
	// reader of [Topic.Messages] before pubsub drops the newest ones.
	SubscriptionBuffer = 4096

	rpcOverhead = 64 << 10
)

// defaultListenAddrs are used when Config.ListenAddrs is empty: every interface, IPv4 and IPv6
// (a home often has a global IPv6 address, which needs no NAT traversal), TCP and QUIC, on
// automatic ports (see Config.Ports).
var defaultListenAddrs = []string{
	"/ip4/0.0.0.0/tcp/0",
	"/ip4/0.0.0.0/udp/0/quic-v1",
	"/ip6/::/tcp/0",
	"/ip6/::/udp/0/quic-v1",
}

// Sentinel errors, for callers that branch on them (use errors.Is).
var (
	// ErrClosed is returned by calls on a closed Node or Topic.
	ErrClosed = errors.New("p2p: closed")
	// ErrPortInUse is a listen address whose port another program (or another Kith) holds.
	ErrPortInUse = errors.New("p2p: the port is in use")
	// ErrTooLarge is returned by Publish for data over MaxMessageSize.
	ErrTooLarge = errors.New("p2p: message too large")
	// ErrRejected is returned by Publish when our own Validator returned
	// Reject or Ignore for the data: it was not sent.
	ErrRejected = errors.New("p2p: message rejected by the topic validator")
)

// Config configures a Node. Only PrivateKey is required.
type Config struct {
	// PrivateKey is this device's Ed25519 key (64 bytes, as made by
	// ed25519.GenerateKey). It fixes the peer ID, so keep it across runs;
	// it is used for transport security only, never to sign messages.
	PrivateKey ed25519.PrivateKey

	// ListenAddrs are the multiaddrs to listen on, such as
	// "/ip4/127.0.0.1/tcp/0" or "/ip4/0.0.0.0/udp/4001/quic-v1". Port 0 means
	// automatic (see Ports). Empty means every IPv4 and IPv6 interface on
	// automatic ports, over TCP and QUIC. Tests should bind 127.0.0.1
	// explicitly. An address that cannot be listened on is logged and left
	// out, as long as one can.
	ListenAddrs []string

	// Ports are the ports to ask for first where a listen address says port 0, "automatic":
	// TCP for /tcp/0, UDP for /udp/0/quic-v1. A data folder keeps what Node.Ports returns and
	// passes it here at the next start, so that the addresses in the invites it handed out stay
	// true across restarts. A preferred port that is taken (or zero) gives a free one, QUIC
	// being offered the TCP number first. Addresses with a port of their own are kept as given.
	Ports Ports

	// MessageID derives the ID of a message from its data; Kith passes a
	// function returning the event ID. Pubsub uses it to suppress
	// duplicates, so two messages with the same ID are one message. It is
	// called on every message received, before the Validator, so it must be
	// cheap and must not trust the data: on error the message gets the ID
	// "sha256:<hex of data>" and goes on to the Validator, which is expected
	// to reject it. Nil means that ID for every message.
	MessageID func(data []byte) (string, error)

	// Logger receives the node's logs (pubsub's included). Nil means
	// slog.Default().
	Logger *slog.Logger

	// PeerFilter decides whether a peer, known by its Ed25519 key, may take part in a topic
	// (receive its messages and send to it); Kith allows members only. It is consulted when the
	// peer announces its subscription. Nil allows everyone.
	PeerFilter func(peer ed25519.PublicKey, topic string) bool

	// Member reports whether a peer, known by its Ed25519 key, is a member of any community of
	// this install. It gates inbound connections (see MaxGuests), relay service (see Relay) and
	// mDNS discovery (see MDNS). It is called from libp2p's goroutines on every inbound
	// connection, so it must be quick, safe for concurrent use and must not call back into the
	// Node. Nil means everyone is a member.
	Member func(peer ed25519.PublicKey) bool

	// SeenTTL is how long gossipsub remembers a message ID to drop copies of it (0: pubsub's
	// default, 2 minutes). Tests shorten it to replay messages after it.
	SeenTTL time.Duration

	// Refused reports whether a non-member is refused even as a guest (Kith: a member removed
	// from a community and a member of none). Same constraints as Member. Nil refuses no one.
	Refused func(peer ed25519.PublicKey) bool

	// MaxGuests is how many non-members may be connected inbound at once: people redeeming an
	// invite, who are not members yet. Members are always admitted, and connections this node
	// dials are always allowed (a joiner dials members it does not know as members yet). Zero
	// means DefaultMaxGuests; a negative value admits no guest at all.
	MaxGuests int

	// GuestTime is how long an inbound connection from a non-member may stay open: it is closed
	// that long after it opened unless the peer has become a member meanwhile. It also closes
	// the inbound connections of a peer who stopped being a member. Zero (or less) means
	// DefaultGuestTime.
	GuestTime time.Duration

	// Relay makes this node serve circuit relay v2 for others, so that two members behind NATs
	// can reach each other through it. Circuits have no time or data limit (libp2p's default of
	// 2 minutes and 128 KiB per circuit would cut a sync short), so the service is for members
	// only: only a member (per Member) may reserve a slot, and a circuit is opened only to a
	// member holding a slot; its source may be a member or a joiner reaching a member. A
	// joiner's connection to the relay is a guest's (MaxGuests, GuestTime), which bounds its
	// circuits too. The service runs whenever Relay is set, whatever AutoNAT thinks of this
	// node's reachability.
	Relay bool

	// RelayCandidates returns full multiaddrs (ending in /p2p/<peer ID>) of members that may
	// relay for this node. When it is set, the node assumes it may be unreachable (AutoNAT is
	// told "private" at once instead of waiting for probes), keeps a reservation with up to two
	// of them through AutoRelay, and its Addrs include the circuit addresses it gets (only for
	// relays with public addresses: AutoRelay drops private ones). It is called from libp2p's
	// goroutines whenever AutoRelay wants candidates, at most every 30 seconds. Nil means no
	// AutoRelay.
	RelayCandidates func() []string

	// MDNS runs multicast DNS discovery (service name "kith") on the local network. Peers found
	// are dialled only if Member says they are members; all are kept a while for a joiner to ask
	// (LANPeers). A network without multicast only logs a warning.
	MDNS bool

	// NAT turns on what helps peers behind NATs reach this node: UPnP / NAT-PMP port mapping,
	// AutoNAT v2 (asking peers whether our addresses are reachable, and answering them) and hole
	// punching (DCUtR) over relayed connections. kithd and the app set it; tests leave it off
	// (there is no router to ask). go-libp2p's UPnP search cannot be cancelled: it may outlive
	// Close by up to 5 seconds.
	NAT bool

	// DHT turns on the Kademlia DHT (see DHT): nil, none. A node without bootstrap nodes or
	// the public network has no DHT to join: leave it nil then.
	DHT *DHT

	// HolePunching turns on hole punching (DCUtR) alone, without the rest of NAT: tests use it
	// between hosts on 127.0.0.1, where there is no router to ask. NAT turns it on too.
	HolePunching bool

	// ForceRelayed is a TEST hook: direct (non-circuit) connections to or from a peer for which
	// it returns true are refused, which simulates two peers behind NATs that can only meet
	// through a relay. Nil (the only value outside tests) refuses none.
	ForceRelayed func(peer ed25519.PublicKey) bool
}

// Defaults for Config fields left zero.
const (
	// DefaultMaxGuests is Config.MaxGuests when zero.
	DefaultMaxGuests = 8
	// DefaultGuestTime is Config.GuestTime when zero.
	DefaultGuestTime = 2 * time.Minute
)

// Node is a running libp2p host with its gossipsub router. Its methods are
// safe for concurrent use.
type Node struct {
	log       *slog.Logger
	host      host.Host
	ps        *pubsub.PubSub
	gate      *gater
	relay     *relayv2.Relay     // nil unless Config.Relay
	dht       *dht.IpfsDHT       // guarded by mu; nil unless Config.DHT or SetDHT
	mdns      mdns.Service       // nil unless Config.MDNS and it started
	lan       *lanBook           // peers mDNS found
	ctx       context.Context    // ends with Close: stream handlers and the node's goroutines run under it
	stopPS    context.CancelFunc // ends pubsub's goroutines and ctx
	wg        sync.WaitGroup     // counts the node's goroutines (events, janitor, mDNS dials)
	events    *notifier
	closeOnce sync.Once
	closeErr  error

	punch  bool       // Config.NAT: hole punching is on
	subs   *subFilter // nil without Config.PeerFilter
	scores *scoreBook

	dhtMu  sync.Mutex // serialises SetDHT
	mu     sync.Mutex
	topics map[string]*Topic // guarded by mu; joined and not yet closed
	closed bool              // guarded by mu
}

// New starts a libp2p host with cfg's identity and listen addresses, then a
// gossipsub router on it. ctx bounds the start only: the Node runs until
// Close. Errors say which part failed; nothing is left running on error.
func New(ctx context.Context, cfg Config) (*Node, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("p2p: start: %w", err)
	}
	if len(cfg.PrivateKey) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("p2p: start: private key is %d bytes, want %d (pass the key from ed25519.GenerateKey)",
			len(cfg.PrivateKey), ed25519.PrivateKeySize)
	}
	priv, err := crypto.UnmarshalEd25519PrivateKey(cfg.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("p2p: start: unusable Ed25519 private key: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "p2p")
	listen := cfg.ListenAddrs
	if len(listen) == 0 {
		listen = defaultListenAddrs
	}
	resolved, err := autoListen(listen, cfg.Ports)
	if err != nil {
		return nil, err
	}

	self, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("p2p: start: peer ID of the private key: %w", err)
	}

	gate := newGater(cfg, log)
	newHost := func(listen []string) (host.Host, error) {
		// Low and high water marks sized for a desktop in a few communities;
		// member connections are protected from trimming by the caller (Protect).
		cm, err := connmgr.NewConnManager(64, 192, connmgr.WithGracePeriod(time.Minute))
		if err != nil {
			return nil, fmt.Errorf("p2p: start: connection manager: %w", err)
		}
		opts := []libp2p.Option{
			libp2p.Identity(priv),
			libp2p.ListenAddrStrings(listen...),
			libp2p.Transport(tcp.NewTCPTransport),
			libp2p.Transport(quic.NewTransport),
			libp2p.DefaultSecurity, // TLS 1.3 and Noise
			libp2p.DefaultMuxers,
			libp2p.ConnectionManager(cm),
			libp2p.ConnectionGater(gate),
			libp2p.UserAgent("kith"),
			// Nobody scrapes Prometheus metrics from a desktop app.
			libp2p.DisableMetrics(),
			// libp2p's dependency injection logs a failed start three times on stderr, in its
			// own format, before the error it returns (which Kith says once, in a sentence).
			libp2p.WithFxOption(fx.WithLogger(func() fxevent.Logger { return fxevent.NopLogger })),
		}
		if cfg.RelayCandidates != nil {
			opts = append(opts, autoRelayOptions(self, cfg.RelayCandidates, log)...)
		}
		if cfg.NAT {
			opts = append(opts, libp2p.NATPortMap(), libp2p.EnableAutoNATv2())
		}
		if cfg.NAT || cfg.HolePunching {
			opts = append(opts, libp2p.EnableHolePunching())
		}
		if addr, taken := inUse(listen); taken {
			_ = cm.Close()
			return nil, fmt.Errorf("%w: %s (another Kith, or another program, listens there): choose another port, or stop that program", ErrPortInUse, addr)
		}
		h, err := libp2p.New(opts...)
		if err != nil {
			_ = cm.Close()
			// The swarm flattens the listen errors into text: "address already in use" is all
			// that says a port is taken.
			if errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use") ||
				strings.Contains(err.Error(), "Only one usage of each socket address") {
				return nil, fmt.Errorf("%w: %s (another Kith, or another program, listens there): choose another port, or stop that program", ErrPortInUse, strings.Join(listen, ", "))
			}
			return nil, fmt.Errorf("p2p: start host on %v (is the address on this machine?): %w", listen, err)
		}
		return h, nil
	}
	h, err := newHost(resolved)
	if err == nil {
		relisten(h, log, listen, resolved)
	} else if !slices.Equal(resolved, listen) {
		// Every chosen port was taken in the meantime: let the system pick.
		log.Debug("the kept ports are taken; listening on others", "err", err)
		h, err = newHost(listen)
	}
	if err != nil {
		return nil, err
	}
	var relay *relayv2.Relay
	if cfg.Relay {
		// Not libp2p.EnableRelayService: that one serves only while AutoNAT v1 finds this node
		// public, which needs AutoNAT v1 servers among its peers and never happens on a LAN.
		relay, err = relayv2.New(h, relayOptions(gate)...)
		if err != nil {
			_ = h.Close()
			return nil, fmt.Errorf("p2p: start the relay service: %w", err)
		}
	}

	kad, err := startDHT(h, cfg.DHT)
	if err != nil {
		if relay != nil {
			_ = relay.Close()
		}
		_ = h.Close()
		return nil, err
	}

	// Pubsub lives until Close, not until the caller's ctx ends; it keeps
	// ctx's values.
	psCtx, stopPS := context.WithCancel(context.WithoutCancel(ctx))
	psOpts := gossipOptions(log, messageIDFunc(cfg.MessageID))
	var subs *subFilter
	if f := cfg.PeerFilter; f != nil {
		allowed := func(pid peer.ID, topic string) bool {
			key, err := peerKey(pid)
			return err == nil && f(key, topic)
		}
		// The peer filter covers gossip's control paths (mesh, IHAVE/IWANT); the subscription
		// filter keeps a refused peer out of the topic's peers altogether, so that not even a
		// flood publish reaches it.
		subs = &subFilter{allowed: allowed, refused: map[peer.ID]map[string]bool{}}
		psOpts = append(psOpts, pubsub.WithPeerFilter(allowed), pubsub.WithSubscriptionFilter(subs))
	}
	scores := &scoreBook{}
	psOpts = append(psOpts, pubsub.WithPeerScoreInspect(scores.set, scoreInspectEvery))
	if cfg.SeenTTL > 0 {
		psOpts = append(psOpts, pubsub.WithSeenMessagesTTL(cfg.SeenTTL))
	}
	ps, err := pubsub.NewGossipSub(psCtx, h, psOpts...)
	if err != nil {
		stopPS()
		if kad != nil {
			_ = kad.Close()
		}
		if relay != nil {
			_ = relay.Close()
		}
		_ = h.Close()
		return nil, fmt.Errorf("p2p: start gossipsub: %w", err)
	}
	n := &Node{
		log:    log,
		host:   h,
		ps:     ps,
		gate:   gate,
		relay:  relay,
		dht:    kad,
		lan:    newLANBook(),
		punch:  cfg.NAT || cfg.HolePunching,
		ctx:    psCtx,
		stopPS: stopPS,
		events: newNotifier(),
		topics: make(map[string]*Topic),
		subs:   subs,
		scores: scores,
	}
	if err := n.startEvents(); err != nil {
		_ = n.Close()
		return nil, err
	}
	if gate.member != nil {
		n.wg.Add(1)
		go n.guestJanitor()
	}
	if cfg.MDNS {
		n.startMDNS()
	}
	log.Info("p2p node started", "id", n.ID(), "addrs", n.Addrs())
	return n, nil
}

// gossipOptions returns the pubsub options every Node uses.
func gossipOptions(log *slog.Logger, msgID pubsub.MsgIdFunction) []pubsub.Option {
	return []pubsub.Option{
		pubsub.WithLogger(log.With("component", "pubsub")),
		// Events carry their author's signature; pubsub's is redundant.
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(msgID),
		pubsub.WithPeerOutboundQueueSize(QueueSize),
		pubsub.WithValidateQueueSize(QueueSize),
		pubsub.WithMaxMessageSize(MaxMessageSize + rpcOverhead),
		pubsub.WithPeerScore(peerScoreParams(), peerScoreThresholds()),
		// Our own messages go to every peer in the topic (above the publish
		// score threshold), not only to mesh peers: communities are small,
		// and a message published before the first heartbeat has built the
		// mesh would otherwise reach nobody (seen: 48–156 of a 2,000 burst
		// lost). Forwarded messages still follow the mesh.
		pubsub.WithFloodPublish(true),
	}
}

// messageIDFunc adapts Config.MessageID to pubsub. With no author and no
// sequence number (StrictNoSign), pubsub's default ID would be the same for
// every message, so a content hash is the fallback.
func messageIDFunc(f func([]byte) (string, error)) pubsub.MsgIdFunction {
	return func(m *pb.Message) string {
		if f != nil {
			if id, err := f(m.GetData()); err == nil && id != "" {
				return id
			}
		}
		sum := sha256.Sum256(m.GetData())
		return "sha256:" + hex.EncodeToString(sum[:])
	}
}

// peerScoreThresholds are the gossipsub score thresholds. A peer at zero
// (the start) is welcome; a peer that forwarded a handful of invalid
// messages stops receiving gossip, then our publications, then is ignored.
func peerScoreThresholds() *pubsub.PeerScoreThresholds {
	return &pubsub.PeerScoreThresholds{
		GossipThreshold:             -500,
		PublishThreshold:            -1000,
		GraylistThreshold:           -2500,
		AcceptPXThreshold:           100, // peer exchange is off anyway
		OpportunisticGraftThreshold: 5,
	}
}

// peerScoreParams are the global peer score parameters. Decisions:
//   - IP colocation is not penalised: members of a private community often
//     share a household NAT or a carrier-grade NAT, and our Sybil defence is
//     membership (checked by the Validator), not IP diversity.
//   - Behaviour penalties (broken promises, GRAFT floods) are on.
//   - AppSpecificScore is 0 for now: the hook for favouring members.
func peerScoreParams() *pubsub.PeerScoreParams {
	return &pubsub.PeerScoreParams{
		Topics:                    make(map[string]*pubsub.TopicScoreParams),
		TopicScoreCap:             50,
		AppSpecificScore:          func(peer.ID) float64 { return 0 },
		AppSpecificWeight:         1,
		IPColocationFactorWeight:  0,
		BehaviourPenaltyWeight:    -10,
		BehaviourPenaltyThreshold: 6,
		BehaviourPenaltyDecay:     pubsub.ScoreParameterDecay(10 * time.Minute),
		DecayInterval:             pubsub.DefaultDecayInterval,
		DecayToZero:               pubsub.DefaultDecayToZero,
		RetainScore:               30 * time.Minute,
	}
}

// topicScoreParams are set on every joined topic. Decisions:
//   - Each invalid message a peer forwards (Validator returned Reject) costs
//     10 × count²: 8 of them cross the gossip threshold, 16 the graylist;
//     forgotten over about an hour.
//   - First deliveries and time in the mesh earn a little, capped.
//   - Mesh delivery rate penalties (P3, P3b) are off: a quiet community
//     carries no traffic for hours, which would prune honest peers.
func topicScoreParams() *pubsub.TopicScoreParams {
	return &pubsub.TopicScoreParams{
		TopicWeight:                    1,
		TimeInMeshWeight:               0.01,
		TimeInMeshQuantum:              time.Second,
		TimeInMeshCap:                  1000,
		FirstMessageDeliveriesWeight:   1,
		FirstMessageDeliveriesDecay:    pubsub.ScoreParameterDecay(time.Hour),
		FirstMessageDeliveriesCap:      40,
		InvalidMessageDeliveriesWeight: -10,
		InvalidMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(time.Hour),
	}
}

// ID returns this node's peer ID in its text form (12D3KooW...).
func (n *Node) ID() string { return n.host.ID().String() }

// Addrs returns the addresses others can dial this node on, each a full
// multiaddr ending in /p2p/<ID>, ready for Connect or an invite. Listening on
// 0.0.0.0 yields one address per interface. With a relay reservation (see
// Config.RelayCandidates) it includes the circuit addresses through the
// relay. After Close it returns none.
func (n *Node) Addrs() []string {
	suffix := "/p2p/" + n.host.ID().String()
	var out []string
	for _, a := range n.host.Addrs() {
		out = append(out, a.String()+suffix)
	}
	return out
}

// Connect dials the peer at addr, a multiaddr that ends in /p2p/<peer ID>
// (as returned by Addrs), and returns once connected. A relayed address,
// /ip4/.../tcp/.../p2p/<relay ID>/p2p-circuit/p2p/<peer ID>, dials the relay
// and reaches the peer through it (the peer must hold a reservation there).
// It is a no-op if already connected. ctx bounds the dial.
func (n *Node) Connect(ctx context.Context, addr string) error {
	if n.isClosed() {
		return ErrClosed
	}
	info, err := peer.AddrInfoFromString(addr)
	if err != nil {
		return fmt.Errorf("p2p: connect: %q is not a full peer address (want /ip4/.../tcp/.../p2p/<peer ID>, as printed by Addrs): %w", addr, err)
	}
	if info.ID == n.host.ID() {
		return fmt.Errorf("p2p: connect to %s: that is this node's own address", addr)
	}
	if err := n.host.Connect(ctx, *info); err != nil {
		return fmt.Errorf("p2p: connect to %s (is the peer running and reachable on that address?): %w", addr, err)
	}
	return nil
}

// Close leaves every topic, stops mDNS, pubsub and the node's goroutines,
// then the DHT, the relay service and the host and its connections (the reverse of
// the start). It returns once every goroutine the Node started has ended. It
// is safe to call more than once and from several goroutines; later calls
// return the first result.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.mu.Lock()
		n.closed = true
		topics := make([]*Topic, 0, len(n.topics))
		for _, t := range n.topics {
			topics = append(topics, t)
		}
		n.mu.Unlock()

		var errs []error
		for _, t := range topics {
			if err := t.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if n.mdns != nil {
			if err := n.mdns.Close(); err != nil {
				errs = append(errs, fmt.Errorf("p2p: stop mDNS: %w", err))
			}
		}
		n.stopPS() // also ends the node's goroutines
		n.mu.Lock()
		kad := n.dht
		n.dht = nil
		n.mu.Unlock()
		if kad != nil {
			if err := kad.Close(); err != nil {
				errs = append(errs, fmt.Errorf("p2p: stop the DHT: %w", err))
			}
		}
		if n.relay != nil {
			if err := n.relay.Close(); err != nil {
				errs = append(errs, fmt.Errorf("p2p: stop the relay service: %w", err))
			}
		}
		if err := n.host.Close(); err != nil {
			errs = append(errs, fmt.Errorf("p2p: close host: %w", err))
		}
		n.wg.Wait()
		n.closeErr = errors.Join(errs...)
		n.log.Info("p2p node closed", "id", n.ID())
	})
	return n.closeErr
}

func (n *Node) isClosed() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.closed
}

// subFilter drops the subscriptions of peers the PeerFilter refuses, and remembers them: pubsub
// looks at a peer's subscriptions once, when they arrive, so a peer refused then (a new member
// whose join was not known yet) stays out of the topic until it subscribes again — on a new
// connection. SubscriptionRefused tells the caller when to renew one.
type subFilter struct {
	allowed func(peer.ID, string) bool

	mu      sync.Mutex
	refused map[peer.ID]map[string]bool // guarded by mu
}

func (*subFilter) CanSubscribe(string) bool { return true }

func (f *subFilter) FilterIncomingSubscriptions(from peer.ID, subs []*pb.RPC_SubOpts) ([]*pb.RPC_SubOpts, error) {
	out := subs[:0:0]
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range subs {
		topic := s.GetTopicid()
		if f.allowed(from, topic) {
			out = append(out, s)
			delete(f.refused[from], topic)
			if len(f.refused[from]) == 0 {
				delete(f.refused, from)
			}
			continue
		}
		if s.GetSubscribe() {
			if f.refused[from] == nil {
				f.refused[from] = map[string]bool{}
			}
			f.refused[from][topic] = true
		}
	}
	return out, nil
}

func (f *subFilter) forget(p peer.ID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.refused, p)
}

// SubscriptionRefused reports whether the peer asked to join topic on its current connection and
// Config.PeerFilter refused it then. A caller that now admits the peer renews the connection
// (Disconnect, then Connect) so that the peer's subscription is looked at again.
func (n *Node) SubscriptionRefused(peerID, topic string) bool {
	if n.subs == nil {
		return false
	}
	id, err := peer.Decode(peerID)
	if err != nil {
		return false
	}
	n.subs.mu.Lock()
	defer n.subs.mu.Unlock()
	return n.subs.refused[id][topic]
}

// scoreInspectEvery is how often pubsub reports the peers' scores to the Node.
const scoreInspectEvery = time.Second

// scoreBook keeps the latest gossipsub scores pubsub reported.
type scoreBook struct {
	mu     sync.Mutex
	latest map[peer.ID]float64 // guarded by mu
}

func (b *scoreBook) set(m map[peer.ID]float64) {
	b.mu.Lock()
	b.latest = m
	b.mu.Unlock()
}

// Score returns a connected peer's gossipsub score as pubsub last reported it (every second):
// below zero once it forwarded messages the validator rejected. ok is false for a peer pubsub
// does not score (not connected, or no report yet).
func (n *Node) Score(peerID string) (score float64, ok bool) {
	id, err := peer.Decode(peerID)
	if err != nil {
		return 0, false
	}
	n.scores.mu.Lock()
	defer n.scores.mu.Unlock()
	score, ok = n.scores.latest[id]
	return score, ok
}
