// Package gossip wires an app.Service to a p2p.Node: one gossipsub topic per community, whose
// validator hands checked events to the service's runner, and the service's own events
// published on it. It is
// composition, imported by cmd/* and tests; app itself never imports p2p.
package gossip

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
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

	limit     *limiter // per-author rate of gossiped events
	strangers *limiter // the rate of events forwarded by peers not known as members

	mu     sync.Mutex
	topics map[community.Hash]*p2p.Topic // guarded by mu
	closed bool                          // guarded by mu
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
		limit: newLimiter(time.Now, rate.Burst, rate.PerSecond), strangers: newLimiter(time.Now, strangerBurst, strangerRefill)}
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

// validate is the topic validator. It takes no lock that a write holds and never writes (it runs
// on one of pubsub's few validation workers, which every topic shares): it decodes the envelope,
// skips what is stored already (one read), verifies the signature, checks the community, the
// membership of the forwarder and of the author as the folded log says (Service.Judge) and the
// author's rate, and hands the event to the community's runner (Service.Gossiped), which stores
// it in a batch. Forged, malformed or refused by the log: reject (the forwarder's score falls).
// Its author vouched for (a member, none of whose events was refused lately): accept, so it is
// forwarded before it is stored, early or not (see docs/PROTOCOL.md, "Accepted"). Otherwise it
// is stored if it turns out valid, and not forwarded: ignore.
//
// Pubsub's peer filter governs what this node sends, not what it accepts, so a forwarder this
// install does not know as a member is handled with care: it may be a new member whose join is
// not here yet, sending its first message, or an outsider that knows the topic. Only its own
// events are looked at (a new member forwards nobody else's before its join is known), at a
// trickle (strangerBurst, then one a minute), and what they wait for is fetched from a member on
// the topic, never from it: a sync request carries this install's heads. An author over its rate
// (see limiter) is ignored.
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
	switch {
	case err != nil:
		g.log.Debug("rejected a gossiped event", "from", from, "err", err)
		return p2p.Reject
	case e.CommunityID() != id:
		g.log.Debug("rejected a gossiped event", "from", from, "err", "an event of another community")
		return p2p.Reject
	case !member && !key.Equal(e.Author):
		g.log.Debug("ignored gossip forwarded by a non-member", "community", id.Short(), "from", from)
		return p2p.Ignore
	}
	if g.svc.Has(id, e.ID) {
		// Stored already (its ID covers the header and the signature: the same signed bytes): a
		// copy that came another way, or a replay after pubsub forgot its ID. Valid, so
		// forwarded; nothing is stored or shown twice.
		g.log.Debug("a gossiped event already stored", "community", id.Short(), "from", from)
		return p2p.Accept
	}
	// The signature before any rate is charged: a forged event must not spend its author's rate.
	if err := e.Verify(); err != nil {
		g.log.Debug("rejected a gossiped event", "from", from, "err", err)
		return p2p.Reject
	}
	if err := g.svc.Judge(id, e); err != nil {
		g.log.Debug("rejected a gossiped event", "from", from, "event", e.ID.Short(), "err", err)
		return p2p.Reject
	}
	vouched := member && g.svc.Vouched(id, e.Author)
	switch {
	case vouched && !g.limit.allow(id, e.Author):
		g.log.Debug("ignored an event over its author's rate", "community", id.Short(), "from", from, "event", e.ID.Short())
		return p2p.Ignore
	case !vouched && !g.strangers.allow(id, e.Author): // a new member's first events, or keys made up
		g.log.Debug("ignored an event of a non-member", "community", id.Short(), "from", from, "event", e.ID.Short(), "why", "over the rate of strangers")
		return p2p.Ignore
	}
	fetchFrom := from
	if !member {
		fetchFrom = g.memberOnTopic(id)
	}
	if !g.svc.Gossiped(id, fetchFrom, e) {
		g.log.Debug("ignored a gossiped event: the community's inbox is full", "community", id.Short(), "event", e.ID.Short())
		return p2p.Ignore
	}
	if vouched {
		return p2p.Accept
	}
	return p2p.Ignore
}

// memberOnTopic is a member peer on the community's topic, to fetch from ("" for none).
func (g *Gossip) memberOnTopic(id community.Hash) string {
	for _, p := range g.Peers(id) {
		if key, err := g.node.KeyOf(p); err == nil {
			if member, _ := g.svc.IsMember(id, key); member {
				return p
			}
		}
	}
	return ""
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

// Close stops publishing (waiting for it to end) and leaves every topic. It is
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
	var errs []error
	for _, t := range topics {
		errs = append(errs, t.Close())
	}
	return errors.Join(errs...)
}

// Remove leaves the topic of a community this install forgot.
func (g *Gossip) Remove(id community.Hash) error {
	g.mu.Lock()
	t := g.topics[id]
	delete(g.topics, id)
	g.mu.Unlock()
	if t == nil {
		return nil
	}
	return t.Close()
}
