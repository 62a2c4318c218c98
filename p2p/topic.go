package p2p

import (
	"context"
	"errors"
	"fmt"
	"sync"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Verdict is a Validator's judgement of one message.
type Verdict int

// The zero Verdict is not valid and counts as Reject, so a validator that
// forgets to decide cannot let a message through.
const (
	// Accept delivers the message to local readers and forwards it.
	Accept Verdict = iota + 1
	// Reject drops the message and lowers the score of the peer that
	// forwarded it: use it for what is forged or invalid.
	Reject
	// Ignore drops the message without blame: use it for duplicates,
	// over-rate messages and events that arrived too early.
	Ignore
)

// String returns "accept", "reject", "ignore" or "invalid(N)".
func (v Verdict) String() string {
	switch v {
	case Accept:
		return "accept"
	case Reject:
		return "reject"
	case Ignore:
		return "ignore"
	}
	return fmt.Sprintf("invalid(%d)", int(v))
}

func (v Verdict) result() pubsub.ValidationResult {
	switch v {
	case Accept:
		return pubsub.ValidationAccept
	case Ignore:
		return pubsub.ValidationIgnore
	}
	return pubsub.ValidationReject
}

// Validator judges a message before it is delivered to readers or forwarded.
// from is the peer ID of the peer that handed it to us (this node's own ID
// for a local Publish): the forwarder, not the author. data must not be
// modified or kept after return.
//
// A Validator runs on one of pubsub's validation workers (one per CPU), for
// remote and local messages alike, and may be called concurrently. It should
// be CPU-bound and quick (a signature check, a membership lookup): a slow
// Validator holds up the topic's whole queue. A panic is recovered, logged
// and counted as Reject.
type Validator func(ctx context.Context, from string, data []byte) Verdict

// Message is one message delivered on a Topic.
type Message struct {
	// ID is the message ID from Config.MessageID.
	ID string
	// From is the peer that forwarded the message to us, not its author.
	From string
	// Data is the payload; the reader owns it.
	Data []byte
	// Local is true for messages this node published.
	Local bool
}

// Topic is a joined gossip topic. Its methods are safe for concurrent use.
type Topic struct {
	node *Node
	name string
	pt   *pubsub.Topic

	unrelay pubsub.RelayCancelFunc

	mu      sync.Mutex
	closed  bool                            // guarded by mu
	readers map[*pubsub.Subscription]func() // guarded by mu; cancels each reader
	wg      sync.WaitGroup                  // counts reader goroutines
}

// Join joins topic, registering v as its validator, announces it to peers
// and starts taking part in its gossip mesh: from now on this node forwards
// the topic's valid messages, read locally or not. Local readers get them
// through Topic.Messages. Joining a topic twice without closing it is an
// error.
//
// Decision: v is required; a topic without a validator would accept and
// forward anything any peer sends.
func (n *Node) Join(topic string, v Validator) (*Topic, error) {
	if v == nil {
		return nil, fmt.Errorf("p2p: join %q: nil Validator (pass one that checks each message)", topic)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, ErrClosed
	}
	if _, ok := n.topics[topic]; ok {
		return nil, fmt.Errorf("p2p: join %q: already joined (use the Topic you have, or Close it first)", topic)
	}

	// Inline: validators run on pubsub's workers rather than one goroutine
	// per message, so a burst is queued (QueueSize deep) instead of dropped
	// by the async throttle (1,024 at once per topic).
	if err := n.ps.RegisterTopicValidator(topic, n.wrapValidator(topic, v), pubsub.WithValidatorInline(true)); err != nil {
		return nil, fmt.Errorf("p2p: join %q: register validator: %w", topic, err)
	}
	pt, err := n.ps.Join(topic)
	if err != nil {
		_ = n.ps.UnregisterTopicValidator(topic)
		return nil, fmt.Errorf("p2p: join %q: %w", topic, err)
	}
	fail := func(what string, err error) (*Topic, error) {
		_ = pt.Close()
		_ = n.ps.UnregisterTopicValidator(topic)
		return nil, fmt.Errorf("p2p: join %q: %s: %w", topic, what, err)
	}
	if err := pt.SetScoreParams(topicScoreParams()); err != nil {
		return fail("set score parameters", err)
	}
	// Relay makes this node announce the topic, join its mesh and forward
	// its messages whether or not anything reads them locally.
	unrelay, err := pt.Relay()
	if err != nil {
		return fail("take part in the mesh", err)
	}
	t := &Topic{node: n, name: topic, pt: pt, unrelay: unrelay, readers: make(map[*pubsub.Subscription]func())}
	n.topics[topic] = t
	return t, nil
}

func (n *Node) wrapValidator(topic string, v Validator) pubsub.ValidatorEx {
	return func(ctx context.Context, from peer.ID, m *pubsub.Message) (res pubsub.ValidationResult) {
		defer func() {
			if r := recover(); r != nil {
				n.log.Error("p2p: validator panicked; message rejected", "topic", topic, "from", from, "panic", r)
				res = pubsub.ValidationReject
			}
		}()
		return v(ctx, from.String(), m.GetData()).result()
	}
}

// Name returns the topic's name.
func (t *Topic) Name() string { return t.name }

// Peers returns the IDs of connected peers known to be in this topic.
func (t *Topic) Peers() []string {
	ids := t.pt.ListPeers()
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

// Publish validates data with this topic's Validator and sends it to the
// topic's peers. It returns once the message is queued, not delivered.
// Errors: ErrTooLarge (over MaxMessageSize), ErrRejected (our own Validator
// said Reject or Ignore), ErrClosed, or ctx's error. Publishing data whose
// message ID was already seen is a no-op.
func (t *Topic) Publish(ctx context.Context, data []byte) error {
	if len(data) > MaxMessageSize {
		return fmt.Errorf("p2p: publish on %q: %d bytes: %w (limit %d; split the content)", t.name, len(data), ErrTooLarge, MaxMessageSize)
	}
	if t.isClosed() {
		return ErrClosed
	}
	err := t.pt.Publish(ctx, data)
	var verr pubsub.ValidationError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &verr):
		return fmt.Errorf("p2p: publish on %q: %w (%s)", t.name, ErrRejected, verr.Reason)
	case errors.Is(err, pubsub.ErrTopicClosed):
		return ErrClosed
	}
	return fmt.Errorf("p2p: publish on %q: %w", t.name, err)
}

// Messages subscribes to the topic and returns a channel of the messages
// that pass validation, this node's own included. The channel is closed
// when ctx ends, the Topic or Node closes, or pubsub stops. Each call is an
// independent subscription.
//
// The reader must keep up: pubsub buffers SubscriptionBuffer messages for
// it and drops newer ones beyond that (logged by pubsub; the sync protocol
// repairs such gaps).
func (t *Topic) Messages(ctx context.Context) (<-chan Message, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, ErrClosed
	}
	sub, err := t.pt.Subscribe(pubsub.WithBufferSize(SubscriptionBuffer))
	if err != nil {
		return nil, fmt.Errorf("p2p: subscribe to %q: %w", t.name, err)
	}
	rctx, cancel := context.WithCancel(ctx)
	t.readers[sub] = cancel
	out := make(chan Message)
	t.wg.Add(1)
	go t.read(rctx, cancel, sub, out)
	return out, nil
}

// read forwards sub's messages to out until ctx ends or sub closes.
func (t *Topic) read(ctx context.Context, cancel context.CancelFunc, sub *pubsub.Subscription, out chan<- Message) {
	defer t.wg.Done()
	defer close(out)
	defer func() {
		cancel()
		sub.Cancel()
		t.mu.Lock()
		delete(t.readers, sub)
		t.mu.Unlock()
	}()
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			return // ctx ended, or the subscription was closed
		}
		msg := Message{ID: m.ID, From: m.ReceivedFrom.String(), Data: m.GetData(), Local: m.ReceivedFrom == t.node.host.ID()}
		select {
		case out <- msg:
		case <-ctx.Done():
			return
		}
	}
}

// Close ends the topic's readers (closing their channels), removes its
// validator and leaves the topic. It is safe to call more than once;
// Node.Close calls it for every open topic.
func (t *Topic) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	for _, cancel := range t.readers {
		cancel()
	}
	t.mu.Unlock()
	t.wg.Wait() // each reader has cancelled its subscription
	t.unrelay()

	var errs []error
	if err := t.pt.Close(); err != nil {
		errs = append(errs, fmt.Errorf("p2p: leave %q: %w", t.name, err))
	}
	if err := t.node.ps.UnregisterTopicValidator(t.name); err != nil {
		errs = append(errs, fmt.Errorf("p2p: leave %q: unregister validator: %w", t.name, err))
	}
	t.node.mu.Lock()
	delete(t.node.topics, t.name)
	t.node.mu.Unlock()
	return errors.Join(errs...)
}

func (t *Topic) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}
