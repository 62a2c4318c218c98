package peer_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/gossip"
	"github.com/kith-app/kith/app/peer"
	"github.com/kith-app/kith/p2p"
	"github.com/kith-app/kith/storage"
)

// acceptAll is the validator of an attacker's raw topic: it publishes and reads anything.
func acceptAll(context.Context, string, []byte) p2p.Verdict { return p2p.Accept }

// rejections is a slog.Handler that counts, per forwarding peer, the gossiped events a peer's
// topic validator turned down (gossip's debug records "rejected a gossiped event", "ignored
// gossip forwarded by a non-member", "ignored an event of a non-member"), and apart from those
// the copies of events stored already and the events over their author's rate: the proof that
// an attacker's messages reached the peer and were judged, rather than lost on the way.
type rejections struct {
	mu   sync.Mutex
	by   map[string]int // guarded by mu: forwarder's peer ID → events rejected
	knew map[string]int // guarded by mu: forwarder's peer ID → events it sent that were stored already
	over map[string]int // guarded by mu: forwarder's peer ID → events over their author's rate
}

func newRejections() *rejections {
	return &rejections{by: map[string]int{}, knew: map[string]int{}, over: map[string]int{}}
}

// overRateAll counts the gossiped events over their author's rate, whoever forwarded them.
func (r *rejections) overRateAll() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.over {
		n += c
	}
	return n
}

// overRate counts the gossiped events from a forwarder that were over their author's rate.
func (r *rejections) overRate(from string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.over[from]
}

// known counts the gossiped events from a forwarder that the peer had stored already.
func (r *rejections) known(from string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.knew[from]
}

// logTo makes a peer log to r (a start option).
func (r *rejections) logTo(o *peer.Options) { o.Logger = slog.New(r) }

func (r *rejections) count(from string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.by[from]
}

func (r *rejections) Enabled(context.Context, slog.Level) bool { return true }
func (r *rejections) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *rejections) WithGroup(string) slog.Handler            { return r }

func (r *rejections) Handle(_ context.Context, rec slog.Record) error {
	counts := r.by
	switch rec.Message {
	case "rejected a gossiped event", "ignored gossip forwarded by a non-member", "ignored an event of a non-member":
	case "a gossiped event already stored":
		counts = r.knew
	case "ignored an event over its author's rate":
		counts = r.over
	default:
		return nil
	}
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key != "from" {
			return true
		}
		r.mu.Lock()
		counts[a.Value.String()]++
		r.mu.Unlock()
		return false
	})
	return nil
}

// reader drains a topic subscription in the background and keeps what others sent.
type reader struct {
	mu     sync.Mutex
	remote []p2p.Message // guarded by mu: messages not published by this node
	done   chan struct{}
}

func readTopic(t *testing.T, ctx context.Context, topic *p2p.Topic) *reader {
	t.Helper()
	msgs, err := topic.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := &reader{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for m := range msgs {
			if !m.Local {
				r.mu.Lock()
				r.remote = append(r.remote, m)
				r.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { <-r.done }) // the channel closes with ctx or the topic
	return r
}

func (r *reader) received() []p2p.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.remote)
}

func (r *reader) receivedFrom(peerID string) bool {
	for _, m := range r.received() {
		if m.From == peerID {
			return true
		}
	}
	return false
}

// lastMessage returns the envelope of the newest channel message a peer stored for a community.
func lastMessage(t *testing.T, p *peer.Peer, id community.Hash) []byte {
	t.Helper()
	var env []byte
	err := p.Store.Since(storage.CommunityID(id), 0, 0, func(_ uint64, e storage.Event) error {
		if e.Channel != (storage.ChannelID{}) {
			env = slices.Clone(e.Envelope)
		}
		return nil
	})
	if err != nil || env == nil {
		t.Fatalf("no message stored to copy (%v)", err)
	}
	return env
}

// firstEvent returns the envelope of the first event a peer stored for a community (its genesis).
func firstEvent(t *testing.T, p *peer.Peer, id community.Hash) []byte {
	t.Helper()
	var env []byte
	err := p.Store.Since(storage.CommunityID(id), 0, 1, func(_ uint64, e storage.Event) error {
		env = slices.Clone(e.Envelope)
		return nil
	})
	if err != nil || env == nil {
		t.Fatalf("no event stored (%v)", err)
	}
	return env
}

// envelopeParts returns where an envelope's signed header, its signature and its body begin
// (envelope = version | uvarint len | header | signature[64] | uvarint len | body).
func envelopeParts(t *testing.T, env []byte) (header, sig, body int) {
	t.Helper()
	e, err := community.Decode(env)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := e.RawHeader()
	header = 1 + len(binary.AppendUvarint(nil, uint64(len(raw))))
	sig = header + len(raw)
	body = sig + ed25519.SignatureSize + len(binary.AppendUvarint(nil, uint64(len(e.Body))))
	if body >= len(env) {
		t.Fatalf("the envelope to damage has no body (%d bytes)", len(env))
	}
	return header, sig, body
}

// flip returns a copy of b with the byte at i inverted.
func flip(b []byte, i int) []byte {
	out := slices.Clone(b)
	out[i] ^= 0xff
	return out
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// notRefused checks that a request failed without a refusal: an outsider's stream is reset and
// it learns nothing, not even a sentence.
func notRefused(t *testing.T, what string, err error) {
	t.Helper()
	var refused interface{ Refused() bool }
	switch {
	case err == nil:
		t.Fatalf("%s: an outsider was answered", what)
	case errors.Is(err, p2p.ErrRefused), errors.As(err, &refused) && refused.Refused():
		t.Fatalf("%s: an outsider got a refusal sentence, want a reset stream: %v", what, err)
	case errors.Is(err, context.DeadlineExceeded):
		t.Fatalf("%s: the request ran out of time instead of being reset: %v", what, err)
	}
}

// siege is an owner and a member, and an outsider (a peer that never joined) connected to the
// owner and on the community's topic, as anyone who knows a community's ID can be.
type siege struct {
	owner, member, outsider *peer.Peer
	id                      community.Hash
	judged                  *rejections // the owner's validator's rejections
	topic                   *p2p.Topic  // the outsider's
	got                     *reader     // what the outsider's topic delivered
}

func newSiege(t *testing.T, ctx context.Context) *siege {
	t.Helper()
	n := newNet(t)
	s := &siege{judged: newRejections()}
	s.owner = n.start("", 0, s.judged.logTo)
	s.id = create(t, s.owner, "Makers")
	s.member = n.start("", 0)
	join(t, s.member, inviteOf(t, s.owner, s.id, 1), "Bo")
	connected(t, s.id, s.owner, s.member)
	s.outsider = n.start("", 0)
	// It connects, as a guest (the owner lets people with invites in)...
	if err := s.outsider.Node().Connect(ctx, s.owner.Node().Addrs()[0]); err != nil {
		t.Fatalf("the outsider connects: %v", err)
	}
	// ... and joins the topic by its name, with a validator that takes anything.
	var err error
	if s.topic, err = s.outsider.Node().Join(gossip.TopicName(s.id), acceptAll); err != nil {
		t.Fatal(err)
	}
	s.got = readTopic(t, ctx, s.topic)
	ownerID := s.owner.Node().ID()
	eventually(t, 30*time.Second, "the outsider to see the owner on the topic", func() bool {
		return slices.Contains(s.topic.Peers(), ownerID)
	})
	return s
}

// TestOutsiderGetsNothing: a peer that never joined connects to the owner, joins the
// community's topic by its name and asks for a sync and the address book: it receives no
// message, no event and no answer, and what it publishes on the topic (garbage, a damaged copy
// of a real event, events it signed itself) is rejected by the owner and stored by no one.
func TestOutsiderGetsNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// (a) and (b): it connects and joins the topic.
	s := newSiege(t, ctx)
	owner, member, outsider, id, topic, got, judged := s.owner, s.member, s.outsider, s.id, s.topic, s.got, s.judged
	ownerID, outsiderID := owner.Node().ID(), outsider.Node().ID()

	// (c) The owner posts: the member reads everything, the outsider nothing.
	for i := range 10 {
		post(t, owner, id, fmt.Sprintf("members only %d", i))
	}
	eventually(t, 30*time.Second, "the member to read all 10 messages", func() bool {
		have := texts(member, id, 50)
		for i := range 10 {
			if !have[fmt.Sprintf("members only %d", i)] {
				return false
			}
		}
		return true
	})
	if leaked := got.received(); len(leaked) > 0 {
		t.Fatalf("the outsider received %d messages on the topic, the first from %s", len(leaked), leaked[0].From)
	}

	// (d) A sync request is reset: no answer, no sentence, nothing stored.
	sctx, scancel := context.WithTimeout(ctx, 20*time.Second)
	err := outsider.Svc.SyncFrom(sctx, outsider.Node(), ownerID, id)
	scancel()
	notRefused(t, "sync", err)
	if ids := logOf(t, outsider, id); len(ids) > 0 {
		t.Fatalf("the outsider stored %d events of the community", len(ids))
	}
	if cs, _ := outsider.Svc.Communities(); slices.ContainsFunc(cs, func(c app.Summary) bool { return c.ID == id }) {
		t.Fatal("the outsider lists the community")
	}

	// (e) The address book is not given either.
	actx, acancel := context.WithTimeout(ctx, 20*time.Second)
	_, err = outsider.Node().Request(actx, ownerID, peer.ProtoAddrs, append([]byte{1}, id[:]...), 1<<20)
	acancel()
	notRefused(t, "address book", err)

	// (f) It publishes on the topic: garbage, a real event with a byte of its signature flipped,
	// the genesis of a community of its own, and a message it signed for this community.
	ownerBefore, memberBefore := logOf(t, owner, id), logOf(t, member, id)
	if !slices.Equal(ownerBefore, memberBefore) {
		t.Fatalf("before the attack the owner holds %d events, the member %d", len(ownerBefore), len(memberBefore))
	}
	real := lastMessage(t, owner, id)
	_, sig, _ := envelopeParts(t, real)
	created, err := outsider.Svc.CreateCommunity(ctx, app.CreateParams{Name: "Elsewhere", DisplayName: "Eve"})
	if err != nil {
		t.Fatal(err)
	}
	realEvent, err := community.Decode(real)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := community.Build(outsider.ID, community.Draft{
		Community: id, Kind: community.KindMessage, Body: []byte("let me in"), Epoch: realEvent.Epoch,
		Time: time.Now(), Deps: []community.Position{realEvent.Position()},
	})
	if err != nil {
		t.Fatal(err)
	}
	attacks := []struct {
		name string
		data []byte
	}{
		{"random bytes", randomBytes(t, 300)},
		{"a real event with its signature damaged", flip(real, sig+10)},
		{"the genesis of another community", firstEvent(t, outsider, created.ID)},
		{"a message signed by a non-member", forged.Encode()},
	}
	for _, a := range attacks {
		if err := topic.Publish(ctx, a.data); err != nil {
			t.Fatalf("publishing %s: %v", a.name, err)
		}
	}
	eventually(t, 30*time.Second, fmt.Sprintf("the owner to reject the outsider's %d messages", len(attacks)), func() bool {
		return judged.count(outsiderID) >= len(attacks)
	})
	// Positive control: one more real message goes through, after the outsider's.
	post(t, owner, id, "still members only")
	eventually(t, 30*time.Second, "the member to read the owner's last message", func() bool {
		return texts(member, id, 50)["still members only"]
	})
	ownerAfter, memberAfter := logOf(t, owner, id), logOf(t, member, id)
	if len(ownerAfter) != len(ownerBefore)+1 || len(memberAfter) != len(memberBefore)+1 {
		t.Fatalf("the owner went from %d to %d events, the member from %d to %d; want one more each (the owner's)",
			len(ownerBefore), len(ownerAfter), len(memberBefore), len(memberAfter))
	}
	if !slices.Equal(ownerAfter, memberAfter) {
		t.Fatal("the owner and the member hold different logs")
	}
	for _, a := range attacks {
		if eid, err := community.IDOf(a.data); err == nil && slices.Contains(ownerAfter, fmt.Sprintf("%x", eid[:])) {
			t.Fatalf("the owner stored %s", a.name)
		}
	}
	if leaked := got.received(); len(leaked) > 0 {
		t.Fatalf("the outsider received %d messages on the topic, the first from %s", len(leaked), leaked[0].From)
	}
}

// TestMalformedGossipFromAMember: a member's key runs a bare node with a validator that takes
// anything, and publishes garbage, an empty message, a truncated event, real events with a byte
// flipped in each part, an event of another community and a message of the largest size. The
// owner rejects them all, stores nothing, keeps working, and still takes that member's genuine
// event afterwards.
func TestMalformedGossipFromAMember(t *testing.T) {
	n := newNet(t)
	judged := newRejections()
	owner := n.start("", 0, judged.logTo)
	id := create(t, owner, "Makers")
	inv := inviteOf(t, owner, id, 2)
	honest := n.start("", 0)
	join(t, honest, inv, "Bo")
	mDir := t.TempDir()
	m := n.start(mDir, 0)
	join(t, m, inv, "Mo")
	connected(t, id, owner, honest, m)
	post(t, owner, id, "before")
	eventually(t, 30*time.Second, "the members to read the first message", func() bool {
		return texts(honest, id, 10)["before"] && texts(m, id, 10)["before"]
	})
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	// M's folder, offline: its identity keys the bare node, its service signs a genuine post later.
	mOff := offline(t, mDir)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bare := bareNode(t, ctx, mOff, 0)
	ownerID, bareID := owner.Node().ID(), bare.ID()
	if err := bare.Connect(ctx, owner.Node().Addrs()[0]); err != nil {
		t.Fatalf("M's bare node connects: %v", err)
	}
	topic, err := bare.Join(gossip.TopicName(id), acceptAll)
	if err != nil {
		t.Fatal(err)
	}
	got := readTopic(t, ctx, topic)
	// The owner has the bare node on its topic once its own posts reach it.
	warm := 0
	deadline := time.Now().Add(30 * time.Second)
	for !got.receivedFrom(ownerID) {
		if time.Now().After(deadline) {
			t.Fatalf("the owner's posts did not reach M's bare node (%d tried)", warm)
		}
		post(t, owner, id, fmt.Sprintf("warm-up %d", warm))
		warm++
		for end := time.Now().Add(time.Second); time.Now().Before(end) && !got.receivedFrom(ownerID); {
			time.Sleep(20 * time.Millisecond)
		}
	}
	eventually(t, 30*time.Second, "M's bare node to see the owner on the topic", func() bool {
		return slices.Contains(topic.Peers(), ownerID)
	})
	eventually(t, 30*time.Second, "the honest member to hold the owner's log", func() bool {
		return slices.Equal(logOf(t, honest, id), logOf(t, owner, id))
	})
	before := logOf(t, owner, id)

	real := lastMessage(t, owner, id)
	header, sig, _ := envelopeParts(t, real)
	elsewhere, _, _, err := community.NewCommunity(mOff.ID, mOff.ID.X25519Public(),
		community.GenesisParams{Name: "Elsewhere", OwnerName: "Mo", Time: time.Now()}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	attacks := []struct {
		name     string
		data     []byte
		rejected bool // the owner's validator must say Reject (a flipped body keeps the real ID: pubsub may drop it as seen)
	}{
		{"random bytes", randomBytes(t, 500), true},
		{"an empty message", []byte{}, true},
		{"a truncated event", real[:len(real)/2], true},
		{"an event with its header damaged", flip(real, header+40), true},
		{"an event with its signature damaged", flip(real, sig+10), true},
		{"an event with its body damaged", flip(real, len(real)-1), false},
		{"an event of another community", elsewhere.Encode(), true},
		{"a message of the largest size", randomBytes(t, p2p.MaxMessageSize), true},
	}
	wantRejected := 0
	for _, a := range attacks {
		if err := topic.Publish(ctx, a.data); err != nil {
			t.Fatalf("publishing %s: %v", a.name, err)
		}
		if a.rejected {
			wantRejected++
		}
	}
	if err := topic.Publish(ctx, randomBytes(t, p2p.MaxMessageSize+1)); !errors.Is(err, p2p.ErrTooLarge) {
		t.Fatalf("publishing a message over the limit: %v, want ErrTooLarge", err)
	}
	eventually(t, 30*time.Second, fmt.Sprintf("the owner to reject the %d malformed messages", wantRejected), func() bool {
		return judged.count(bareID) >= wantRejected
	})

	// The member is not shut out for it: its genuine event, signed offline, still goes through.
	genuine, err := mOff.Svc.Post(ctx, id, general(t, mOff, id), "a genuine one from Mo", community.Hash{})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := mOff.Store.EventByID(storage.CommunityID(id), storage.EventID(genuine.ID))
	if err != nil {
		t.Fatal(err)
	}
	if err := topic.Publish(ctx, stored.Envelope); err != nil {
		t.Fatalf("publishing M's genuine message: %v", err)
	}
	// And the owner still works: its post reaches the honest member.
	post(t, owner, id, "after the storm")
	for name, p := range map[string]*peer.Peer{"the owner": owner, "the honest member": honest} {
		eventually(t, 30*time.Second, name+" to read both last messages", func() bool {
			have := texts(p, id, 50)
			return have["a genuine one from Mo"] && have["after the storm"]
		})
	}
	after := logOf(t, owner, id)
	if len(after) != len(before)+2 {
		t.Fatalf("the owner went from %d to %d events, want 2 more (Mo's genuine post and its own)", len(before), len(after))
	}
	if got := logOf(t, honest, id); !slices.Equal(got, after) {
		t.Fatalf("the honest member holds %d events, the owner %d", len(got), len(after))
	}
	keys := [][]byte{owner.ID.PublicKey(), honest.ID.PublicKey(), mOff.ID.PublicKey()}
	for name, p := range map[string]*peer.Peer{"the owner": owner, "the honest member": honest} {
		err := p.Store.Since(storage.CommunityID(id), 0, 0, func(_ uint64, e storage.Event) error {
			if !slices.ContainsFunc(keys, func(k []byte) bool { return bytes.Equal(k, e.Author[:]) }) {
				return fmt.Errorf("event %x is by %x, not a member", e.ID[:4], e.Author[:4])
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, ok := owner.Node().PathTo(honest.Node().ID()); !ok {
		t.Fatal("the owner lost its connection to the honest member")
	}
	res, err := owner.Do(ctx, peer.Request{Cmd: "status"})
	if err != nil || !strings.Contains(res.Text, id.String()[:12]) {
		t.Fatalf("the owner's status: %q, %v", res.Text, err)
	}
}

// TestOutsiderEarlyEventDrawsNoSync: an outsider on the topic publishes a message it signed for
// the community, citing an event nobody has. The owner must not treat it as an early event from
// a member and sync from the outsider: a sync request on first contact carries the community's
// heads (every author's key, sequence number and latest event ID), which an outsider must never
// learn.
func TestOutsiderEarlyEventDrawsNoSync(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := newSiege(t, ctx)
	outsiderID := s.outsider.Node().ID()

	// The outsider serves sync itself, to see whether anyone asks it.
	var mu sync.Mutex
	var asked [][]byte
	s.outsider.Node().Handle(app.ProtoSync, 1<<20, func(_ context.Context, _ ed25519.PublicKey, req []byte) ([]byte, error) {
		mu.Lock()
		asked = append(asked, slices.Clone(req))
		mu.Unlock()
		return nil, errors.New("nothing here")
	})
	genesis, err := community.Decode(firstEvent(t, s.owner, s.id))
	if err != nil {
		t.Fatal(err)
	}
	var unknown community.Hash
	copy(unknown[:], randomBytes(t, len(unknown)))
	early, err := community.Build(s.outsider.ID, community.Draft{
		Community: s.id, Kind: community.KindMessage, Body: []byte("wait for me"), Epoch: s.id,
		Time: time.Now(), Deps: []community.Position{genesis.Position(), {Lamport: genesis.Lamport + 1, ID: unknown}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.topic.Publish(ctx, early.Encode()); err != nil {
		t.Fatal(err)
	}
	// Positive control: garbage published after it is judged by the owner, and a post of the
	// owner's reaches the member.
	if err := s.topic.Publish(ctx, randomBytes(t, 100)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the owner to reject the outsider's garbage", func() bool {
		return s.judged.count(outsiderID) >= 1
	})
	post(t, s.owner, s.id, "members only")
	eventually(t, 30*time.Second, "the member to read the owner's post", func() bool {
		return texts(s.member, s.id, 10)["members only"]
	})
	mu.Lock()
	defer mu.Unlock()
	if len(asked) > 0 {
		t.Fatalf("the owner sent an outsider %d sync requests (%d bytes; its own key in them: %v)",
			len(asked), len(asked[0]), bytes.Contains(asked[0], s.owner.ID.PublicKey()))
	}
}
