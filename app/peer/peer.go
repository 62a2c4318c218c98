// Package peer runs one install of Kith: it opens the data folder (identity, then store, then
// service), starts the network on demand (libp2p node, join and sync streams, gossip, the member
// address book, sync on contact and every minute, the local control socket) and stops it all in
// reverse order. cmd/kith and cmd/kithd are thin shells over it.
package peer

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/gossip"
	"github.com/kith-app/kith/app/identity"
	"github.com/kith-app/kith/app/localstore"
	"github.com/kith-app/kith/app/peer/probe"
	"github.com/kith-app/kith/p2p"
	"github.com/kith-app/kith/storage"
)

// Options configure Open and Start. The zero value is right for the desktop app, apart from Dir.
type Options struct {
	Logger *slog.Logger // nil: slog.Default()

	// MinFreeBytes is the store's free-space reserve (0: the store's default; -1: none, for tests).
	MinFreeBytes int64

	// NoCreate makes Open refuse, with ErrNoDataFolder, a data folder that does not exist or
	// holds no identity, instead of creating the folder and a new identity: for commands that
	// only read (kithd status, messages, members, invites).
	NoCreate bool
	// AcceptLoss opens a store that holds less than it did (storage.Options.AcceptLoss), for
	// `kithd resync`; without it Open fails with storage.ErrDamaged.
	AcceptLoss bool

	// Now is this install's wall clock, for the times events carry and invites are checked
	// against (nil: time.Now; tests set a clock that is off).
	Now func() time.Time

	// Listen are the multiaddrs to listen on; empty: every interface, TCP and QUIC. Port 0 is
	// automatic: the first start picks free ports and the data folder keeps them (later starts
	// ask for them again, and pick and keep new ones only when they are taken), so that the
	// addresses in the invites handed out stay true.
	Listen []string
	// Relay serves circuit relays for other members (for an always-on, reachable host).
	Relay bool
	// Offline LAN and internet discovery switches: tests on 127.0.0.1 turn them off.
	NoMDNS, NoNAT bool
	// SyncEvery is how often every community is synced from the members online (0: a minute).
	SyncEvery time.Duration
	// NoControl leaves the local control socket off (tests that run many peers in one folder tree).
	NoControl bool
	// OnShow brings the desktop app's window to the front: a second start of the app on the same
	// folder asks for it through the control socket ("show") instead of failing, with the invite
	// it was started with (a kith://join/ link clicked), if any, to fill in. Nil: kithd.
	OnShow func(invite string)
	// Node adjusts the network's configuration before it starts (tests: p2p.Config.ForceRelayed).
	Node func(*p2p.Config)
	// Rate is the per-author rate limit of gossip (zero: gossip.DefaultRate; tests make it small).
	Rate gossip.Rate

	// Bootstrap are DHT nodes (full multiaddrs ending in /p2p/<ID>) through which members are
	// found when their addresses changed: each member announces itself under its communities'
	// rendezvous keys, and joiners and members look them up there. Empty, with PublicDHT and
	// DHTServer off: no DHT.
	Bootstrap []string
	// PublicDHT adds the public libp2p network's bootstrap nodes: only when the person turned
	// it on (it shows this computer's addresses to DHT nodes run by others).
	PublicDHT bool
	// DHTServer makes this install a DHT server, a bootstrap node for others (kithd run
	// --dht-server); it also takes more guests at once (DHT clients that are not members).
	DHTServer bool
}

// dhtGuests is how many non-members a DHT server admits at once.
const dhtGuests = 64

// Peer is one install: its identity, store and service, and its network once started.
type Peer struct {
	Dir   string
	ID    *identity.Identity
	Store *storage.Store
	Svc   *app.Service

	opts Options
	log  *slog.Logger

	startMu  sync.Mutex    // serialises Start
	tried    chan struct{} // closed when the first Start ends, started or not
	triedOne sync.Once
	startErr error // guarded by mu: why the last Start failed
	mu       sync.Mutex
	node     *p2p.Node       // guarded by mu; nil until Start
	gossip   *gossip.Gossip  // guarded by mu
	control  *controlServer  // guarded by mu
	ctx      context.Context // guarded by mu: ends with Close (nil before Start)
	stop     context.CancelFunc
	loops    sync.WaitGroup
	// keepLooks counts the keeper's looks through the communities it was told of (keepLoop).
	keepLooks atomic.Int64
	greeted   map[string]int              // guarded by mu: connected member peers greeted, and in how many communities
	renewed   map[string]time.Time        // guarded by mu: when checkSubscribed last renewed a peer's connection
	joins     map[community.Hash]*joinRun // guarded by mu: joins under way (see join.go)
	punches   map[string]*punchState      // guarded by mu: renewals of relayed connections (see punch.go)
	closed    bool                        // guarded by mu

	joinsMu     sync.Mutex              // serialises changes to the kept joins (settingJoins)
	bookMu      sync.Mutex              // serialises rememberAll's read, change and write of the address book
	announceNow chan struct{}           // capacity 1: announce at the rendezvous now (see announceSoon)
	announceAll chan struct{}           // capacity 1: announce every community again (a new DHT)
	lifelined   map[community.Hash]bool // the communities the lifeline was last written with (guarded by mu)
}

// Open opens the data folder dir: it checks the folder (CheckFolder: created with mode 0700 on
// first use unless NoCreate; refused with ErrUnsafeFolder when another user controls it), then
// opens the identity (created on first use), the store (held until Close: a second process
// gets storage.ErrAlreadyRunning) and the service. The network is not started: commands that
// only read or write the store need none.
//
// Open never makes a new identity in a folder that had one: when identity.key is missing but
// the store holds a community, it fails with an error wrapping identity.ErrMissing. It fails
// with identity.ErrDamaged for a damaged key file, and storage.ErrDamaged for a damaged store
// or one that holds less than it did (see AcceptLoss); with NoCreate, ErrNoDataFolder for a
// folder that does not exist or holds no identity.
func Open(dir string, opts Options) (*Peer, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := CheckFolder(dir, !opts.NoCreate); err != nil {
		return nil, err
	}
	id, err := identity.Load(dir, log)
	if err != nil && !errors.Is(err, identity.ErrMissing) {
		return nil, err
	}
	if id == nil {
		// No key: a new install, unless the folder holds a store (checked once it is open).
		had, err := storage.Exists(dir)
		if err != nil {
			return nil, err
		}
		if !had {
			if opts.NoCreate {
				return nil, noDataFolder(dir)
			}
			if id, err = identity.Create(dir, log); err != nil {
				return nil, err
			}
		}
	}
	st, err := storage.Open(dir, storage.Options{Logger: log, MinFreeBytes: opts.MinFreeBytes, AcceptLoss: opts.AcceptLoss})
	if err != nil {
		return nil, err
	}
	if id == nil {
		if id, err = identityBeside(dir, st, opts.NoCreate, log); err != nil {
			st.Close()
			return nil, err
		}
	}
	svc, err := app.New(app.Config{Identity: id, Store: localstore.Store{S: st}, Logger: log, Now: opts.Now})
	if err != nil {
		st.Close()
		return nil, err
	}
	if err := applyRestoreFloor(dir, localstore.Store{S: st}); err != nil { // (a restore's: before any write)
		svc.Close()
		st.Close()
		return nil, err
	}
	return &Peer{Dir: dir, ID: id, Store: st, Svc: svc, opts: opts, log: log, tried: make(chan struct{}), greeted: map[string]int{}, renewed: map[string]time.Time{}, joins: map[community.Hash]*joinRun{}, punches: map[string]*punchState{}, announceNow: make(chan struct{}, 1), announceAll: make(chan struct{}, 1)}, nil
}

// identityBeside makes the identity of a folder whose key file is missing but which holds a
// store (st): only when the store holds no community, and not with noCreate.
func identityBeside(dir string, st *storage.Store, noCreate bool, log *slog.Logger) (*identity.Identity, error) {
	cs, err := st.Communities()
	if err != nil {
		return nil, err
	}
	if len(cs) > 0 {
		return nil, fmt.Errorf("peer: %w from %s, which holds a community: restore %s from a backup; Kith will not make a new identity here",
			identity.ErrMissing, dir, identity.FileName)
	}
	if noCreate {
		return nil, noDataFolder(dir)
	}
	return identity.Create(dir, log)
}

// PeerID is the libp2p peer ID of an Ed25519 public key (a member's key is its peer's key).
func PeerID(key ed25519.PublicKey) (string, error) { return p2p.IDOfKey(key) }

// Start starts the network: the node, its join and sync streams and the address book, gossip on
// every community, sync with members as they come online and every SyncEvery, and the control
// socket. ctx bounds the start only; the network runs until Close.
func (p *Peer) Start(ctx context.Context) error {
	err := p.start(ctx)
	p.mu.Lock()
	p.startErr = err
	p.mu.Unlock()
	p.triedOne.Do(func() { close(p.tried) })
	return err
}

func (p *Peer) start(ctx context.Context) error {
	p.startMu.Lock()
	defer p.startMu.Unlock()
	p.mu.Lock()
	closed, started := p.closed, p.node != nil
	p.mu.Unlock()
	if closed {
		return app.ErrClosed
	}
	if started {
		return nil
	}
	loopCtx, stop := context.WithCancel(context.Background())
	cfg := NetworkConfig(p.ID, p.Svc, p.log)
	cfg.ListenAddrs, cfg.Relay, cfg.RelayCandidates = p.opts.Listen, p.opts.Relay, p.relayCandidates
	cfg.MDNS, cfg.NAT, cfg.Ports = !p.opts.NoMDNS, !p.opts.NoNAT, p.keptPorts()
	if p.opts.Relay {
		cfg.RelayCandidates = nil // a relay is reachable itself
	}
	p.mu.Lock()
	cfg.DHT = p.dhtConfigLocked()
	p.mu.Unlock()
	if p.opts.DHTServer {
		cfg.MaxGuests = dhtGuests
	}
	if p.opts.Node != nil {
		p.opts.Node(&cfg)
	}
	node, err := p2p.New(ctx, cfg)
	if err != nil {
		stop()
		return err
	}
	p.keepPorts(cfg.Ports, node.Ports())
	p.Svc.Serve(node)
	node.Handle(ProtoAddrs, maxAddrsRequest, p.serveAddrs)
	node.Handle(ProtoProbe, probe.RequestSize, p.serveProbe)
	ids, err := p.Svc.Communities()
	if err != nil {
		stop()
		node.Close()
		return err
	}
	var cids []community.Hash
	for _, c := range ids {
		cids = append(cids, c.ID)
	}
	g, err := gossip.AttachWithRate(p.Svc, node, p.log, p.opts.Rate, cids...)
	if err != nil {
		stop()
		node.Close()
		return err
	}
	p.mu.Lock() // Close waits for startMu: p.closed is still false
	p.node, p.gossip, p.ctx, p.stop = node, g, loopCtx, stop
	p.mu.Unlock()
	// Notifications first, then whoever connected meanwhile (mDNS, a quick dialer), then loops.
	node.Notify(func(peerID string, connected bool) { p.onPeer(loopCtx, peerID, connected) })
	p.greetAll(loopCtx)
	for _, id := range cids { // what changed while this install was offline, or a repair cut short
		p.scheduleRepair(id)
	}
	p.loops.Add(7)
	go func() { // after a crash: chunks fetched then may read wrong
		defer p.loops.Done()
		if n, err := p.Svc.CheckFilesAfterCrash(loopCtx); err != nil && loopCtx.Err() == nil {
			p.log.Warn("the files could not all be checked after the last run's end", "err", err)
		} else if n > 0 {
			p.log.Info("files checked after the last run's end", "pieces_dropped", n)
		}
	}()
	go p.syncLoop(loopCtx)
	go p.lifelineLoop(loopCtx)
	go p.followCommunities(loopCtx, p.Svc.Subscribe(loopCtx))
	go p.keepLoop(loopCtx, p.Svc.Subscribe(loopCtx))
	go p.rendezvousLoop(loopCtx)
	go p.watchLoop(loopCtx)
	p.resumeJoins()
	if !p.opts.NoControl {
		c, err := listenControl(p)
		if err != nil {
			p.log.Warn("no control socket: kithd commands cannot reach this running peer", "err", err)
		} else {
			p.mu.Lock()
			p.control = c
			p.mu.Unlock()
		}
	}
	return nil
}

// followCommunities joins the gossip of every community this install comes to belong to
// (created or joined through the service, by the desktop app or a command), until ctx ends.
func (p *Peer) followCommunities(ctx context.Context, events <-chan app.Event) {
	defer p.loops.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			var id community.Hash
			switch ev := ev.(type) {
			case app.CommunityChanged:
				id = ev.Community
			case app.JoinProgress:
				// Admitted: its admitter's address is saved now, not after the first sync, so that
				// an install stopped (or killed) during that sync finds the community again.
				if node := p.Node(); ev.Stage == app.JoinSyncing && node != nil {
					p.remember(ev.Peer, node.AddrsOf(ev.Peer), []community.Hash{ev.Community}, true)
				}
				continue
			case app.Lagged:
				p.addAll()
				p.greetAll(ctx)
				continue
			case app.CommunityForgotten:
				if g := p.gossipOf(); g != nil {
					if err := g.Remove(ev.Community); err != nil {
						p.log.Debug("leaving a forgotten community's gossip", "err", err)
					}
				}
				p.forgetLifeline(ev.Community)
				continue
			default:
				continue
			}
			if member, _ := p.Svc.IsMember(id, p.ID.PublicKey()); member {
				if g := p.gossipOf(); g != nil {
					if err := g.Add(id); err != nil {
						p.log.Debug("joining gossip", "community", id.Short(), "err", err)
					}
				}
				p.scheduleRepair(id)
				p.announceSoon()
				p.lifelineWith(id)
			}
			p.dropFormerMembers(id)
			p.greetAll(ctx)
		}
	}
}

// dropFormerMembers disconnects the connected peers that were removed from a community of this
// install and are members of none (id: the community whose log changed, for the log line); the
// gater refuses them from now on (DESIGN section 5: a removed member is disconnected and
// refused). A member that left, or a joiner whose join lost a race, may stay to sync the
// membership events and learn where it stands.
func (p *Peer) dropFormerMembers(id community.Hash) {
	node := p.Node()
	if node == nil {
		return
	}
	for _, pi := range node.Peers() {
		if !p.Svc.RemovedAnywhere(pi.Key) {
			continue
		}
		p.log.Info("disconnecting a former member", "community", id.Short(), "peer", pi.ID)
		// First it is handed its removal (refused from now on, it could not fetch it), then dropped.
		ok := p.spawn(func() {
			if ctx := p.loopCtx(); ctx != nil {
				if err := p.Svc.NoticeRemoval(ctx, node, pi.ID, id, pi.Key); err != nil {
					p.log.Debug("handing a former member its removal", "peer", pi.ID, "err", err)
				}
			}
			_ = node.Disconnect(pi.ID)
		})
		if !ok {
			_ = node.Disconnect(pi.ID)
		}
	}
}

// repairDelay is how long a key repair waits after the log changed: a removal and the rotation
// its author writes right after it arrive together, and a rotation written meanwhile by another
// moderator would only be a second one.
const repairDelay = 2 * time.Second

// repairWait is how long a repair of community id waits: repairDelay for its owner, and up to
// three seconds more, at random, for the others, so that the moderators online do not all
// rotate at once (the first rotation makes the others' repairs find nothing to do).
func (p *Peer) repairWait(id community.Hash) time.Duration {
	if role, _ := p.Svc.Role(id); role == community.RoleOwner {
		return repairDelay
	}
	return repairDelay + time.Duration(rand.Int64N(int64(3*time.Second)))
}

// scheduleRepair runs the service's key repair for a community after repairWait, once for any
// number of changes meanwhile (Service.RepairSoon).
func (p *Peer) scheduleRepair(id community.Hash) { p.Svc.RepairSoon(id, p.repairWait(id)) }

// addAll joins the gossip of every community of this install.
func (p *Peer) addAll() {
	g := p.gossipOf()
	cs, err := p.Svc.Communities()
	if g == nil || err != nil {
		return
	}
	for _, c := range cs {
		_ = g.Add(c.ID)
	}
}

// Node is the running network, nil before Start.
func (p *Peer) Node() *p2p.Node {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.node
}

// Running reports whether the network is started.
func (p *Peer) Running() bool { return p.Node() != nil }

// Close stops the control socket, the loops, gossip and the node, then the service and the
// store: the reverse of the start. It is safe to call twice.
func (p *Peer) Close() error {
	p.startMu.Lock() // a Start under way finishes first (its ctx bounds it)
	defer p.startMu.Unlock()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	node, g, c, stop := p.node, p.gossip, p.control, p.stop
	p.mu.Unlock()
	var errs []error
	if c != nil {
		errs = append(errs, c.Close())
	}
	if stop != nil {
		stop()
	}
	p.loops.Wait()
	if g != nil {
		errs = append(errs, g.Close())
	}
	if node != nil {
		p.saveAddrs()
		errs = append(errs, node.Close())
	}
	errs = append(errs, p.Svc.Close(), p.Store.Close())
	return errors.Join(errs...)
}

// onPeer reacts to a peer coming online or going offline.
func (p *Peer) onPeer(ctx context.Context, peerID string, connected bool) {
	if connected {
		p.wakeJoins()
	}
	if !connected {
		p.mu.Lock()
		was := p.greeted[peerID] > 0
		delete(p.greeted, peerID)
		node := p.node
		p.mu.Unlock()
		if was && node != nil {
			node.Unprotect(peerID, "kith-member")
			// The last time it was seen online, and where: the addresses identify learned may
			// have come after the greeting (an inbound connection), and saveAddrs records only
			// members online at its tick, so a short visit would leave none in the book.
			p.remember(peerID, node.AddrsOf(peerID), nil, true)
			p.Svc.Emit(app.PeersChanged{})
		}
		return
	}
	p.greet(ctx, peerID)
}

// greet welcomes a connected peer that is a member of a community of this install, once per
// connection: its connection is protected in the connection manager, its addresses saved, every
// community shared with it synced, and its address book asked for. A peer that connected as a
// joiner is greeted when its join arrives (followCommunities).
func (p *Peer) greet(ctx context.Context, peerID string) {
	node := p.Node()
	if node == nil {
		return
	}
	key, err := node.KeyOf(peerID)
	if err != nil {
		return
	}
	shared := p.sharedWith(key)
	if len(shared) == 0 {
		return
	}
	p.mu.Lock()
	if p.greeted[peerID] >= len(shared) || p.closed {
		p.mu.Unlock()
		return
	}
	p.greeted[peerID] = len(shared)
	p.mu.Unlock()
	p.Svc.Emit(app.PeersChanged{})
	node.Protect(peerID, "kith-member")
	p.remember(peerID, node.AddrsOf(peerID), shared, true)
	for _, id := range shared {
		p.Svc.SyncSoon(id, peerID)
	}
	p.spawn(func() { p.exchangeAddrs(ctx, peerID, shared) })
	p.spawn(func() { p.checkSubscribed(ctx, peerID, shared) })
}

// resubscribeEvery bounds how often one peer's connection is renewed by checkSubscribed.
const resubscribeEvery = 10 * time.Minute

// checkSubscribed renews the connection of a member whose subscription to a shared community's
// topic was refused on this connection (before its join reached this install: a new member
// dialing in). Pubsub looks at a peer's subscriptions once, when they arrive, and would not send
// it gossip until it subscribes again, on a new connection.
func (p *Peer) checkSubscribed(ctx context.Context, peerID string, shared []community.Hash) {
	node := p.Node()
	if node == nil {
		return
	}
	if _, ok := node.PathTo(peerID); !ok {
		return
	}
	for _, id := range shared {
		if !node.SubscriptionRefused(peerID, gossip.TopicName(id)) {
			continue
		}
		p.mu.Lock()
		last, renew := p.renewed[peerID], time.Since(p.renewed[peerID]) > resubscribeEvery
		if renew {
			p.renewed[peerID] = time.Now()
		}
		p.mu.Unlock()
		if !renew {
			p.log.Debug("a member is not on a shared topic; renewed recently", "peer", peerID, "at", last)
			return
		}
		p.log.Debug("renewing the connection of a member missing from a shared topic", "peer", peerID, "community", id.Short())
		addrs := node.AddrsOf(peerID)
		_ = node.Disconnect(peerID)
		for _, a := range addrs {
			dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			err := node.Connect(dctx, a)
			cancel()
			if err == nil {
				break
			}
		}
		return
	}
}

// greetAll greets the connected peers not greeted yet (after the membership log changed).
func (p *Peer) greetAll(ctx context.Context) {
	node := p.Node()
	if node == nil {
		return
	}
	for _, pi := range node.Peers() {
		p.greet(ctx, pi.ID) // a no-op for a peer greeted in as many communities as it shares
	}
}

// spawn runs fn in a goroutine that Close waits for; not after Close.
func (p *Peer) spawn(fn func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.loops.Add(1)
	go func() {
		defer p.loops.Done()
		fn()
	}()
	return true
}

// sharedWith lists this install's communities where key is an active member.
func (p *Peer) sharedWith(key ed25519.PublicKey) []community.Hash {
	cs, err := p.Svc.Communities()
	if err != nil {
		return nil
	}
	var out []community.Hash
	for _, c := range cs {
		if member, _ := p.Svc.IsMember(c.ID, key); member && !key.Equal(p.ID.PublicKey()) {
			out = append(out, c.ID)
		}
	}
	return out
}

// syncLoop dials the members it knows addresses of and syncs every community from the members
// online, every SyncEvery, until ctx ends.
func (p *Peer) syncLoop(ctx context.Context) {
	defer p.loops.Done()
	every := p.opts.SyncEvery
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	first := true
	for {
		p.dialMembers(ctx)
		p.syncAll(ctx)
		p.saveAddrs()
		p.Svc.CloseDuePolls(ctx) // the polls this member asked whose time has come: members get the results
		if first {
			p.grantAll(ctx) // offers' codes for claims stored before a restart (new claims trigger it as they come)
			first = false
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// grantAll seals the offers' codes to granted claimants that lack them, in every community this
// install owns or moderates.
func (p *Peer) grantAll(ctx context.Context) {
	cs, err := p.Svc.Communities()
	if err != nil {
		return
	}
	for _, c := range cs {
		if c.Role >= community.RoleModerator {
			p.Svc.GrantOffers(ctx, c.ID)
		}
	}
}

// syncAll syncs every community from every member online.
func (p *Peer) syncAll(ctx context.Context) {
	node := p.Node()
	if node == nil {
		return
	}
	for _, pi := range node.Peers() {
		for _, id := range p.sharedWith(pi.Key) {
			p.Svc.SyncSoon(id, pi.ID)
		}
	}
}

// dialMembers connects to the members of this install's communities that the address book has
// addresses for and that are not connected: each through all its addresses at once (the first
// may be a LAN address from another network, the last the relayed one that works).
func (p *Peer) dialMembers(ctx context.Context) {
	node := p.Node()
	if node == nil {
		return
	}
	book, err := p.Store.Peers()
	if err != nil {
		return
	}
	var wg sync.WaitGroup
	for _, e := range book {
		if _, ok := node.PathTo(e.ID); ok || e.ID == node.ID() || len(e.Addrs) == 0 {
			continue
		}
		key, err := node.KeyOf(e.ID)
		if err != nil || len(p.sharedWith(key)) == 0 {
			continue
		}
		wg.Add(1)
		go func(id string, addrs []string) {
			defer wg.Done()
			dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			if err := node.Dial(dctx, id, addrs); err != nil {
				p.log.Debug("dial member", "peer", id, "err", err)
			}
		}(e.ID, e.Addrs)
	}
	wg.Wait()
}

// relayCandidates are the members that may relay for this install: those in the address book.
func (p *Peer) relayCandidates() []string {
	book, err := p.Store.Peers()
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range book {
		for _, a := range e.Addrs {
			if !isCircuit(a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// maxBookAddrs bounds the addresses the address book keeps of one peer.
const maxBookAddrs = 16

// sighting is what this install learnt of a member: its addresses, the communities it is known
// in, and whether it is connected now (seen).
type sighting struct {
	id          string
	addrs       []string
	communities []community.Hash
	seen        bool
}

// remember adds a member's addresses to its address-book entry: the new ones first, then those
// known before (another member's answer never erases what this install learnt itself), and the
// communities it is known in. seen says this install is connected to it now: its last-seen time
// and whether it serves a relay are updated then (another member's word changes neither).
func (p *Peer) remember(peerID string, addrs []string, communities []community.Hash, seen bool) {
	p.rememberAll([]sighting{{peerID, addrs, communities, seen}})
}

// rememberAll is remember for several members, with one read of the address book.
func (p *Peer) rememberAll(ss []sighting) {
	p.bookMu.Lock() // the sync loop, greetings and a backup's saveAddrs may run at once
	defer p.bookMu.Unlock()
	book := map[string]storage.Peer{}
	if saved, err := p.Store.Peers(); err == nil {
		for _, e := range saved {
			book[e.ID] = e
		}
	}
	node := p.Node()
	for _, s := range ss {
		if len(s.addrs) == 0 && !s.seen {
			continue
		}
		old := book[s.id]
		e := storage.Peer{ID: s.id, Addrs: slices.Clone(s.addrs), Communities: old.Communities, LastSeen: old.LastSeen, Relay: old.Relay}
		for _, a := range old.Addrs {
			if !slices.Contains(e.Addrs, a) {
				e.Addrs = append(e.Addrs, a)
			}
		}
		if s.seen {
			e.LastSeen = time.Now()
			if node != nil {
				e.Relay = node.IsRelay(s.id)
			}
		}
		if len(e.Addrs) > maxBookAddrs {
			e.Addrs = e.Addrs[:maxBookAddrs]
		}
		for _, c := range s.communities {
			if !slices.Contains(e.Communities, storage.CommunityID(c)) {
				e.Communities = append(e.Communities, storage.CommunityID(c))
			}
		}
		if err := p.Store.PutPeer(e); err != nil {
			p.log.Debug("saving an address", "peer", s.id, "err", err)
		}
		book[s.id] = e
	}
}

// Settings of the network kept in the store.
const (
	// settingAddrs holds this install's last known addresses, for invites made while offline.
	settingAddrs = "node/addrs"
	// settingPorts holds the ports the node listened on (JSON p2p.Ports): listen addresses with
	// port 0 ask for them again, so that the addresses in invites handed out stay true.
	settingPorts = "node/ports"
)

// keptPorts are the ports this data folder listened on last time (zero: none yet).
func (p *Peer) keptPorts() p2p.Ports {
	var ports p2p.Ports
	if b, err := p.Store.Setting(settingPorts); err == nil {
		_ = json.Unmarshal(b, &ports)
	}
	return ports
}

// keepPorts saves the ports the node listens on when they differ from those kept.
func (p *Peer) keepPorts(kept, now p2p.Ports) {
	if now == kept || now == (p2p.Ports{}) {
		return
	}
	if kept != (p2p.Ports{}) {
		p.log.Info("listening on new ports (the kept ones are taken or not asked for)", "tcp", now.TCP, "udp", now.UDP, "kept_tcp", kept.TCP, "kept_udp", kept.UDP)
	}
	b, _ := json.Marshal(now)
	if err := p.Store.SetSetting(settingPorts, b); err != nil {
		p.log.Warn("the ports could not be kept: the next start may listen on others", "err", err)
	}
}

// saveAddrs records the node's current addresses, and in the address book when each member
// online now was seen, its current addresses and whether it relays (what invites made later,
// offline too, rank members by).
func (p *Peer) saveAddrs() {
	node := p.Node()
	if node == nil {
		return
	}
	b, _ := json.Marshal(node.Addrs())
	if err := p.Store.SetSetting(settingAddrs, b); err != nil {
		p.log.Debug("saving own addresses", "err", err)
	}
	p.mu.Lock()
	online := make([]string, 0, len(p.greeted))
	for id := range p.greeted {
		online = append(online, id)
	}
	p.mu.Unlock()
	var ss []sighting
	for _, id := range online {
		ss = append(ss, sighting{id: id, addrs: node.AddrsOf(id), seen: true})
	}
	p.rememberAll(ss)
	if err := p.writeLifeline(); err != nil {
		p.log.Warn("the lifeline (what `kithd resync` needs) could not be saved", "err", err)
	}
}

// Addrs returns the node's addresses while it runs, else the last known ones (stale true).
func (p *Peer) Addrs() (addrs []string, stale bool) {
	if node := p.Node(); node != nil {
		return node.Addrs(), false
	}
	b, err := p.Store.Setting(settingAddrs)
	if err == nil {
		_ = json.Unmarshal(b, &addrs)
	}
	return addrs, true
}

// isCircuit reports whether a full multiaddr goes through a relay.
func isCircuit(addr string) bool { return strings.Contains(addr, "/p2p-circuit") }

// errNotRunning is returned by what needs the network before Start.
var errNotRunning = errors.New("peer: Kith is not online: start it (kithd run, or the desktop app) and try again")

// DefaultDir is the per-user data folder that the desktop app and kithd share
// (~/.config/kith on Linux).
func DefaultDir() string {
	base, err := os.UserConfigDir()
	if err != nil {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".config")
	}
	return filepath.Join(base, "kith")
}
