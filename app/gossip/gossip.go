// Package gossip wires an app.Service to a p2p.Node: one gossipsub topic per community, whose
// validator is the service's Receive, and the service's own events published on it. It is
// composition, imported by cmd/* and tests; app itself never imports p2p.
package gossip

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/p2p"
)

// MessageID is the gossip message ID of an envelope: its event ID (p2p.Config.MessageID), so
// that an event is one message whichever peer forwards it.
func MessageID(data []byte) (string, error) {
	id, err := community.IDOf(data)
	return string(id[:]), err
}

// topicPrefix starts every community's topic name; the community ID in hex follows.
const topicPrefix = "/kith/community/1/"

// TopicName is the gossip topic of a community.
func TopicName(id community.Hash) string { return topicPrefix + id.String() }

// PeerFilter is the p2p.Config.PeerFilter that admits only the members of a topic's community
// (as this install's log says) to its gossip: an outsider who knows the topic name receives
// nothing and reaches no one. For a community this install does not have yet (it is joining),
// peers are let through: it is not subscribed, so nothing can leak, and it learns who is.
func PeerFilter(svc *app.Service) func(peer ed25519.PublicKey, topic string) bool {
	return func(peer ed25519.PublicKey, topic string) bool {
		if !strings.HasPrefix(topic, topicPrefix) {
			return false
		}
		id, err := community.ParseHash(topic[len(topicPrefix):])
		if err != nil {
			return false
		}
		member, known := svc.IsMember(id, peer)
		return member || !known
	}
}

// Gossip keeps the topics of a service's communities joined on a node.
type Gossip struct {
	svc  *app.Service
	node *p2p.Node
	log  *slog.Logger
	ctx  context.Context
	stop context.CancelFunc
	out  chan outgoing // own events to publish, in order, by one goroutine
	done chan struct{} // closed when that goroutine ends

	fetches   sync.WaitGroup // fetches under way; Close waits for them
	limit     *limiter       // per-author rate of gossiped events
	strangers *limiter       // the rate of events forwarded by peers not known as members

	mu       sync.Mutex
	topics   map[community.Hash]*p2p.Topic // guarded by mu
	fetching map[fetchKey]bool             // guarded by mu: one fetch per community and peer at a time
	later    map[fetchKey]*awaited         // guarded by mu: what early events wait for, to fetch if gossip does not bring it
	closed   bool                          // guarded by mu
}

type fetchKey struct {
	id   community.Hash
	peer string
}

// Rate is a per-author rate limit of gossiped events: a bucket of Burst events that refills at
// PerSecond. The zero Rate means Kith's own (DefaultRate).
type Rate struct {
	Burst     float64
	PerSecond float64
}

// DefaultRate lets a burst of 2,000 messages pass and then 50 a second (see ratelimit.go).
var DefaultRate = Rate{Burst: rateBurst, PerSecond: rateRefill}

// Attach joins the topics of communities and publishes the service's own events on them.
func Attach(svc *app.Service, node *p2p.Node, log *slog.Logger, communities ...community.Hash) (*Gossip, error) {
	return AttachWithRate(svc, node, log, Rate{}, communities...)
}

// AttachWithRate is Attach with another per-author rate limit (tests make a flood visible with a
// small one).
func AttachWithRate(svc *app.Service, node *p2p.Node, log *slog.Logger, rate Rate, communities ...community.Hash) (*Gossip, error) {
	if log == nil {
		log = slog.Default()
	}
	if rate.Burst <= 0 || rate.PerSecond <= 0 {
		rate = DefaultRate
	}
	ctx, stop := context.WithCancel(context.Background())
	g := &Gossip{svc: svc, node: node, log: log.With("component", "gossip"), ctx: ctx, stop: stop,
		out: make(chan outgoing, outQueue), done: make(chan struct{}), topics: map[community.Hash]*p2p.Topic{},
		limit: newLimiter(time.Now, rate.Burst, rate.PerSecond), strangers: newLimiter(time.Now, strangerBurst, strangerRefill),
		fetching: map[fetchKey]bool{}, later: map[fetchKey]*awaited{}}
	go g.publishLoop()
	for _, id := range communities {
		if err := g.Add(id); err != nil {
			g.Close()
			return nil, err
		}
	}
	svc.SetPublisher(g.publish)
	return g, nil
}

// Add joins the topic of one more community (one this install belongs to).
func (g *Gossip) Add(id community.Hash) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return p2p.ErrClosed
	}
	if _, ok := g.topics[id]; ok {
		return nil
	}
	t, err := g.node.Join(TopicName(id), func(_ context.Context, from string, data []byte) p2p.Verdict {
		return g.validate(id, from, data)
	})
	if err != nil {
		return fmt.Errorf("gossip: joining the topic of %s: %w", id.Short(), err)
	}
	g.topics[id] = t
	return nil
}

// validate is the topic validator: the service's Receive of one envelope. Stored or already
// known: accept (and forward); refused: reject (the forwarder's score falls); early: kept, and
// forwarded when its author is a member here (see fetchLater for what it waits for).
//
// Pubsub's peer filter governs what this node sends, not what it accepts, so a forwarder this
// install does not know as a member is handled with care: it may be a new member whose join is
// not here yet, sending its first message, or an outsider that knows the topic. Only its own
// events are looked at (a new member forwards nobody else's before its join is known), at a
// trickle (strangerBurst, then one a minute), and what they wait for is fetched from a member on
// the topic, never from it: a sync request carries this install's heads. A member author over its
// rate (see limiter) is ignored.
func (g *Gossip) validate(id community.Hash, from string, data []byte) p2p.Verdict {
	if from == g.node.ID() {
		// Only publishLoop publishes here, and only this install's own events, stored durably
		// before they were queued: checking them again would cost a signature check per message.
		return p2p.Accept
	}
	key, err := g.node.KeyOf(from)
	if err != nil {
		return p2p.Reject
	}
	member, _ := g.svc.IsMember(id, key)
	e, err := community.DecodeStored(data)
	author := false
	switch {
	case err != nil:
		g.log.Debug("rejected a gossiped event", "from", from, "err", err)
		return p2p.Reject
	case !member && !key.Equal(e.Author):
		g.log.Debug("ignored gossip forwarded by a non-member", "community", id.Short(), "from", from)
		return p2p.Ignore
	case !member && !g.strangers.allow(id, e.Author):
		g.log.Debug("ignored gossip forwarded by a non-member", "community", id.Short(), "from", from, "why", "over the rate of strangers")
		return p2p.Ignore
	case member:
		author, _ = g.svc.IsMember(id, e.Author)
		if author && !g.limit.allow(id, e.Author) {
			g.log.Debug("ignored an event over its author's rate", "community", id.Short(), "from", from, "event", e.ID.Short())
			return p2p.Ignore
		}
		if !author && !g.strangers.allow(id, e.Author) { // a new member's first events, or keys made up
			g.log.Debug("ignored an event of a non-member", "community", id.Short(), "from", from, "event", e.ID.Short(), "why", "over the rate of strangers")
			return p2p.Ignore
		}
	}
	got, err := g.svc.Receive(id, [][]byte{data})
	switch {
	case err != nil:
		g.log.Warn("receiving a gossiped event", "community", id.Short(), "err", err)
		return p2p.Ignore
	case len(got.Rejected) > 0:
		g.log.Debug("rejected a gossiped event", "from", from, "err", got.Rejected[0])
		return p2p.Reject
	case got.Stored > 0:
		return p2p.Accept
	case got.Known > 0:
		// Stored already: a copy that came another way, or a replay after pubsub forgot its
		// ID. Valid, so forwarded; nothing is stored or shown twice.
		g.log.Debug("a gossiped event already stored", "community", id.Short(), "from", from)
		return p2p.Accept
	case !member:
		if len(got.Missing) > 0 {
			g.fetchFromMember(id)
		}
		return p2p.Ignore
	}
	if len(got.Missing) > 0 {
		g.fetchLater(id, from, got.Missing)
	}
	if got.Held > 0 && author {
		// Early, and kept until what it cites arrives: its signature is checked and its author
		// is a member here, so it is forwarded. Not forwarding it would leave the peers that
		// hear of it only from here waiting for a sync (see docs/PROTOCOL.md, "Early events").
		return p2p.Accept
	}
	return p2p.Ignore
}

// Early events wait this long for what they cite to come by gossip before it is fetched, then
// twice as long after each fetch that did not bring it, earlyTries times; past that, the periodic
// sync repairs. In a mesh, an author's messages take different paths and often arrive out of order
// by a few milliseconds: fetching at once ran a sync per reordering (measured on a 20-host mesh:
// three syncs for every ten messages, which slowed every peer and reordered more). Retrying
// matters when the peer asked lacked it too (it was early there as well).
const (
	earlyGrace = 200 * time.Millisecond
	earlyTries = 4
)

// awaited is what early events from one peer wait for.
type awaited struct {
	ids   map[community.Hash]bool
	fresh bool // ids were added since the last sync
}

// fetchLater fetches from a member what its early events wait for, unless gossip brings it first.
// One wait per community and peer gathers the events of a burst.
func (g *Gossip) fetchLater(id community.Hash, from string, missing []community.Hash) {
	k := fetchKey{id, from}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return
	}
	w := g.later[k]
	waiting := w != nil
	if !waiting {
		w = &awaited{ids: map[community.Hash]bool{}}
		g.later[k] = w
		g.fetches.Add(1)
	}
	for _, m := range missing {
		w.ids[m] = true
	}
	w.fresh = true
	g.mu.Unlock()
	if waiting {
		return
	}
	go func() {
		defer g.fetches.Done()
		wait := earlyGrace
		for tries := 0; ; {
			t := time.NewTimer(wait)
			select {
			case <-g.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			left := g.stillMissing(k)
			g.mu.Lock()
			switch {
			case len(w.ids) == 0: // checked under mu: nothing added since is lost
				delete(g.later, k)
				g.mu.Unlock()
				return
			case tries == earlyTries && !w.fresh:
				delete(g.later, k) // given up: the periodic sync repairs
				g.mu.Unlock()
				return
			case tries == earlyTries: // more came since the last sync: they get their own tries
				tries, wait = 0, earlyGrace
			}
			if left {
				w.fresh = false // what comes during the sync is fresh again
			}
			g.mu.Unlock()
			if left {
				g.syncNow(id, from)
				tries++
				wait *= 2
			}
		}
	}()
}

// stillMissing forgets what a fetchLater waits for that is stored now, and reports whether
// anything is left.
func (g *Gossip) stillMissing(k fetchKey) bool {
	g.mu.Lock()
	ids := slices.Collect(maps.Keys(g.later[k].ids))
	g.mu.Unlock()
	left := false
	for _, m := range ids {
		if g.svc.Has(k.id, m) {
			g.mu.Lock()
			delete(g.later[k].ids, m)
			g.mu.Unlock()
		} else {
			left = true
		}
	}
	return left
}

// fetchFromMember syncs from a member on the community's topic (what an early event from a
// stranger waits for), if one is there.
func (g *Gossip) fetchFromMember(id community.Hash) {
	for _, p := range g.Peers(id) {
		if key, err := g.node.KeyOf(p); err == nil {
			if member, _ := g.svc.IsMember(id, key); member {
				g.fetch(id, p)
				return
			}
		}
	}
}

// fetch syncs from a member in the background (fetchFromMember).
func (g *Gossip) fetch(id community.Hash, from string) {
	g.mu.Lock()
	if g.closed || g.fetching[fetchKey{id, from}] {
		g.mu.Unlock()
		return
	}
	g.fetches.Add(1)
	g.mu.Unlock()
	go func() {
		defer g.fetches.Done()
		g.syncNow(id, from)
	}()
}

// syncNow syncs from a peer, unless a sync from it for the community is under way (a burst of
// early events needs one sync).
func (g *Gossip) syncNow(id community.Hash, from string) {
	k := fetchKey{id, from}
	g.mu.Lock()
	if g.closed || g.fetching[k] {
		g.mu.Unlock()
		return
	}
	g.fetching[k] = true
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.fetching, k)
		g.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(g.ctx, time.Minute)
	defer cancel()
	if err := g.svc.SyncFrom(ctx, g.node, from, id); err != nil && !errors.Is(err, context.Canceled) {
		g.log.Debug("fetching missing events", "from", from, "err", err)
	}
}

type outgoing struct {
	id       community.Hash
	envelope []byte
}

// outQueue bounds the own events waiting to be published; past it they are left to sync.
const outQueue = 4096

// publish queues one of this install's own events (already stored durably) for gossip. It never
// blocks: the service calls it while it holds its locks, and publishing runs our own validator.
func (g *Gossip) publish(id community.Hash, envelope []byte) {
	select {
	case g.out <- outgoing{id, envelope}:
	default:
		g.log.Warn("gossip queue full: the event will reach peers by sync", "community", id.Short())
	}
}

// publishLoop publishes queued own events in order until Close.
func (g *Gossip) publishLoop() {
	defer close(g.done)
	for {
		select {
		case <-g.ctx.Done():
			return
		case o := <-g.out:
			g.mu.Lock()
			t := g.topics[o.id]
			g.mu.Unlock()
			if t == nil {
				continue // not joined here yet: sync delivers it
			}
			if err := t.Publish(g.ctx, o.envelope); err != nil {
				g.log.Debug("publishing", "community", o.id.Short(), "err", err)
			}
		}
	}
}

// Peers lists the peers this node sees on a community's topic.
func (g *Gossip) Peers(id community.Hash) []string {
	g.mu.Lock()
	t := g.topics[id]
	g.mu.Unlock()
	if t == nil {
		return nil
	}
	return t.Peers()
}

// Close stops publishing and fetching (waiting for both to end) and leaves every topic. It is
// safe to call twice.
func (g *Gossip) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	topics := g.topics
	g.topics = nil
	g.mu.Unlock()
	g.svc.SetPublisher(nil)
	g.stop()
	<-g.done
	g.fetches.Wait()
	var errs []error
	for _, t := range topics {
		errs = append(errs, t.Close())
	}
	return errors.Join(errs...)
}
