package peer_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
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
	"github.com/kith-app/kith/app/identity"
	"github.com/kith-app/kith/app/invite"
	"github.com/kith-app/kith/app/peer"
	"github.com/kith-app/kith/p2p"
)

// The threat-model rows of docs/SECURITY.md that the moderation tests do not cover.

// attacker is a member's folder, offline, and a bare libp2p node with its key on the community's
// topic with a validator that takes anything: it publishes whatever it is given.
type attacker struct {
	off   *peer.Peer
	node  *p2p.Node
	topic *p2p.Topic
}

// newAttacker closes p, opens its folder offline and puts its key on a bare node connected to
// every peer in to, on the topic of community id, with pubsub's seen cache set to seen (0:
// pubsub's default).
func newAttacker(t *testing.T, ctx context.Context, p *peer.Peer, id community.Hash, to []*peer.Peer, seen time.Duration) *attacker {
	t.Helper()
	dir := p.Dir
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	a := &attacker{off: offline(t, dir)}
	a.node = bareNode(t, ctx, a.off, seen)
	var err error
	if a.topic, err = a.node.Join(gossip.TopicName(id), acceptAll); err != nil {
		t.Fatal(err)
	}
	for _, q := range to {
		if err := a.node.Connect(ctx, q.Node().Addrs()[0]); err != nil {
			t.Fatalf("the attacker's node connects: %v", err)
		}
		qid := q.Node().ID()
		eventually(t, 30*time.Second, "the attacker's node to see a member on the topic", func() bool {
			return slices.Contains(a.topic.Peers(), qid)
		})
	}
	return a
}

// bareNode is a libp2p node with p's key and none of Kith's rules (no gater, no validator of its
// own), with pubsub's seen cache set to seen (0: pubsub's default).
func bareNode(t *testing.T, ctx context.Context, p *peer.Peer, seen time.Duration) *p2p.Node {
	t.Helper()
	node, err := p2p.New(ctx, p2p.Config{
		PrivateKey: p.ID.TransportKey(), ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
		Logger: slog.New(slog.DiscardHandler), MessageID: gossip.MessageID, SeenTTL: seen,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	return node
}

func (a *attacker) publish(t *testing.T, ctx context.Context, envs ...[]byte) {
	t.Helper()
	for _, env := range envs {
		if err := a.topic.Publish(ctx, env); err != nil {
			t.Fatal(err)
		}
	}
}

// build signs an event as signer on top of what p's store holds (its latest event by that
// author, citing p's latest event).
func build(t *testing.T, p *peer.Peer, signer community.Signer, id community.Hash, kind community.Kind, body []byte) *community.Event {
	t.Helper()
	var prev, latest *community.Event
	for _, env := range envelopes(t, p, id) {
		e, err := community.DecodeStored(env)
		if err != nil {
			t.Fatal(err)
		}
		if latest == nil || latest.Position().Less(e.Position()) {
			latest = e
		}
		if e.Author.Equal(signer.PublicKey()) && (prev == nil || e.Seq > prev.Seq) {
			prev = e
		}
	}
	e, err := community.Build(signer, community.Draft{
		Community: id, Kind: kind, Body: body, Epoch: id, Time: time.Now(),
		Prev: prev, Deps: []community.Position{latest.Position()},
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// impostor claims another key and signs with its own.
type impostor struct {
	claims ed25519.PublicKey
	signs  *identity.Identity
}

func (i impostor) PublicKey() ed25519.PublicKey    { return i.claims }
func (i impostor) Sign(msg []byte) ([]byte, error) { return i.signs.Sign(msg) }

// TestForgedAuthorityIsDropped: a member publishes, on a node that forwards anything, a
// promotion of itself, a removal of another member, a rotation and a message signed in the
// owner's name. Every peer rejects each one, none is stored anywhere, nothing changes, and the
// forwarding node's gossipsub score falls below zero.
func TestForgedAuthorityIsDropped(t *testing.T) {
	n := newNet(t)
	judged, judgedByHal := newRejections(), newRejections()
	owner := n.start("", 0, judged.logTo)
	id := create(t, owner, "Makers")
	inv := inviteOf(t, owner, id, 0)
	h, m := n.start("", 0, judgedByHal.logTo), n.start("", 0)
	join(t, h, inv, "Hal")
	join(t, m, inv, "Mal")
	connected(t, id, owner, h, m)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	before, _ := owner.Svc.StateHash(id)
	mal := newAttacker(t, ctx, m, id, []*peer.Peer{owner, h}, 0)

	self := build(t, mal.off, mal.off.ID, id, community.KindSetRole, community.EncodeBody(&community.SetRole{
		Target: mal.off.ID.PublicKey(), Role: community.RoleModerator,
	}))
	remove := build(t, mal.off, mal.off.ID, id, community.KindRemove, community.EncodeBody(&community.Remove{
		Target: h.ID.PublicKey(), CutoffSeq: 1,
	}))
	rotation, _, err := community.NewRotation(id, community.Key{}, []community.Recipient{{Key: mal.off.ID.PublicKey(), X25519: mal.off.ID.X25519Public()}}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rotate := build(t, mal.off, mal.off.ID, id, community.KindRotateKey, community.EncodeBody(rotation))
	posing := build(t, mal.off, impostor{claims: owner.ID.PublicKey(), signs: mal.off.ID}, id, community.KindMessage, randomBytes(t, 80))
	forged := []*community.Event{self, remove, rotate, posing}
	for _, e := range forged {
		mal.publish(t, ctx, e.Encode())
	}
	// Each peer rejects what it judges; once the node's score is below the graylist threshold,
	// pubsub drops the rest of its messages unjudged.
	for _, c := range []struct {
		p *peer.Peer
		r *rejections
	}{{owner, judged}, {h, judgedByHal}} {
		eventually(t, 30*time.Second, "every peer to reject the forgeries", func() bool { return c.r.count(mal.node.ID()) > 0 })
		eventually(t, 30*time.Second, "the forwarding node's score to fall below zero at every peer", func() bool {
			score, ok := c.p.Node().Score(mal.node.ID())
			return ok && score < 0
		})
	}
	post(t, owner, id, "after the forgeries")
	eventually(t, 30*time.Second, "Hal to read the owner", func() bool { return texts(h, id, 10)["after the forgeries"] })
	for _, p := range []*peer.Peer{owner, h} {
		for _, e := range forged {
			if p.Svc.Has(id, e.ID) {
				t.Fatalf("a forged %s was stored", e.Kind)
			}
		}
		if roleOf(p, id, mal.off.ID.PublicKey()) != community.RoleMember || !isActive(p, id, h.ID.PublicKey()) {
			t.Fatal("a forgery changed the membership")
		}
	}
	if after, _ := owner.Svc.StateHash(id); after != before {
		t.Fatal("the owner's state changed")
	}
}

// seen counts, per event, the MessageAdded events a service emitted.
type seen struct {
	mu sync.Mutex
	by map[community.Hash]int
}

func watch(ctx context.Context, p *peer.Peer) *seen {
	s := &seen{by: map[community.Hash]int{}}
	events := p.Svc.Subscribe(ctx)
	go func() {
		for ev := range events {
			if m, ok := ev.(app.MessageAdded); ok {
				s.mu.Lock()
				s.by[m.Message.ID]++
				s.mu.Unlock()
			}
		}
	}()
	return s
}

func (s *seen) count(id community.Hash) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.by[id]
}

// TestReplayAfterTheSeenCache: a member replays an old message of the owner's after the pubsub
// seen cache forgot its ID (its time shortened to a second here; pubsub sweeps the cache every
// minute, so this test takes one). The receiver judges the copy again, and
// it is stored and shown once: no second row, no second notification.
func TestReplayAfterTheSeenCache(t *testing.T) {
	n := newNet(t)
	judged := newRejections()
	short := func(o *peer.Options) {
		prev := o.Node
		o.Node = func(c *p2p.Config) {
			if prev != nil {
				prev(c)
			}
			c.SeenTTL = time.Second
		}
	}
	owner := n.start("", 0, short)
	id := create(t, owner, "Makers")
	inv := inviteOf(t, owner, id, 0)
	h := n.start("", 0, short, judged.logTo)
	join(t, h, inv, "Hal")
	m := n.start("", 0, short)
	join(t, m, inv, "Mal")
	connected(t, id, owner, h, m)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	shown := watch(ctx, h)
	post(t, owner, id, "said once")
	eventually(t, 30*time.Second, "Hal to read the owner", func() bool { return texts(h, id, 10)["said once"] })
	old := lastMessage(t, owner, id)
	e, err := community.Decode(old)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "Hal's view to be told once", func() bool { return shown.count(e.ID) == 1 })
	mal := newAttacker(t, ctx, m, id, []*peer.Peer{h}, time.Second)
	stored := len(logOf(t, h, id))
	// Pubsub forgets seen IDs when its cache is swept (every minute) after their time is up: the
	// copy is sent again every two seconds until Hal's validator judges one.
	deadline := time.Now().Add(150 * time.Second)
	for judged.known(mal.node.ID()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the replayed copy never reached Hal's validator")
		}
		_ = mal.topic.Publish(ctx, old) // the attacker's own pubsub may still drop it as seen
		time.Sleep(2 * time.Second)
	}
	if got := len(logOf(t, h, id)); got != stored {
		t.Fatalf("the replay changed Hal's log: %d events, was %d", got, stored)
	}
	msgs, err := h.Svc.Messages(id, general(t, h, id), community.Position{}, 50)
	if err != nil {
		t.Fatal(err)
	}
	// A message after the replay, seen by the watcher: any announcement of the replay came first.
	sentinel, err := owner.Svc.Post(ctx, id, general(t, owner, id), "after the replay", community.Hash{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "Hal's view to be told of the next message", func() bool { return shown.count(sentinel.ID) == 1 })
	rows := 0
	for _, msg := range msgs {
		if msg.ID == e.ID {
			rows++
		}
	}
	if rows != 1 || shown.count(e.ID) != 1 {
		t.Fatalf("the replayed message shows %d times and was announced %d times, want once", rows, shown.count(e.ID))
	}
}

// TestClockAnHourOff: a member whose clock is an hour ahead, and one an hour behind, join with
// an invite, write, and converge with the owner: the log orders by Lamport, and admission checks
// the admitter's clock and countersigned time, not the joiner's.
func TestClockAnHourOff(t *testing.T) {
	n := newNet(t)
	owner := n.start("", 0)
	id := create(t, owner, "Makers")
	inv := inviteOf(t, owner, id, 0)
	ahead := n.start("", 0, func(o *peer.Options) { o.Now = func() time.Time { return time.Now().Add(time.Hour) } })
	behind := n.start("", 0, func(o *peer.Options) { o.Now = func() time.Time { return time.Now().Add(-time.Hour) } })
	join(t, ahead, inv, "Ahead")
	join(t, behind, inv, "Behind")
	all := []*peer.Peer{owner, ahead, behind}
	connected(t, id, all...)
	for i, p := range all {
		post(t, p, id, fmt.Sprintf("from %d", i))
	}
	for i, p := range all {
		eventually(t, 30*time.Second, fmt.Sprintf("peer %d to read everyone", i), func() bool {
			got := texts(p, id, 10)
			return got["from 0"] && got["from 1"] && got["from 2"]
		})
	}
	eventually(t, 30*time.Second, "one log and one state", func() bool {
		want := logOf(t, owner, id)
		h0, _ := owner.Svc.StateHash(id)
		for _, p := range all[1:] {
			if h, _ := p.Svc.StateHash(id); h != h0 || !slices.Equal(logOf(t, p, id), want) {
				return false
			}
		}
		return true
	})
	// The member an hour ahead admits someone (the invite names only its address): the join it
	// countersigns carries its time, and every peer accepts it.
	late := n.start("", 0)
	join(t, late, inviteOf(t, owner, id, 1, ahead), "Late")
	for i, p := range all {
		eventually(t, 30*time.Second, fmt.Sprintf("peer %d to see the late joiner", i), func() bool {
			return slices.Contains(activeNames(p, id), "Late")
		})
	}
}

// TestEveryRefusedInviteSaysWhy: invites that must not admit anyone — forged (signed by a plain
// member), expired, not yet valid beyond the skew allowance, revoked, and one of another
// community — are refused by every admitter (the owner and a member) with their own sentence;
// one that becomes valid within the skew allowance admits. Nothing changes in the log apart from
// that one join, on every peer. (An invite's uses raced across a partition:
// TestTwoUseInviteRedeemedThrice.)
func TestEveryRefusedInviteSaysWhy(t *testing.T) {
	n := newNet(t)
	owner := n.start("", 0)
	id := create(t, owner, "Makers")
	m := n.start("", 0)
	join(t, m, inviteOf(t, owner, id, 1), "Mo")
	connected(t, id, owner, m)
	elsewhere := n.start("", 0)
	other := create(t, elsewhere, "Elsewhere")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	issue := func(signer invite.Signer, c community.Hash, p invite.Params) *invite.Invite {
		t.Helper()
		p.Community, p.Role = c, community.RoleMember
		if p.CommunityName == "" {
			p.CommunityName = "Makers"
		}
		inv, err := invite.Issue(signer, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		return inv
	}
	now := time.Now()
	revoked := issue(owner.ID, id, invite.Params{})
	if err := owner.Svc.RevokeInvite(ctx, id, revoked.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the member to have the revocation", func() bool {
		h0, _ := owner.Svc.StateHash(id)
		h1, _ := m.Svc.StateHash(id)
		return h0 == h1
	})
	before, _ := owner.Svc.StateHash(id)
	cases := []struct {
		name string
		inv  *invite.Invite
		want string
	}{
		{"forged", issue(m.ID, id, invite.Params{}), "members of \"Makers\" may not invite"},
		{"expired", issue(owner.ID, id, invite.Params{Expires: now.Add(-time.Hour)}), "expired"},
		{"not yet valid", issue(owner.ID, id, invite.Params{NotBefore: now.Add(time.Hour)}), "becomes valid on"},
		{"revoked", revoked, "this invite was revoked"},
		{"another community", issue(elsewhere.ID, other, invite.Params{CommunityName: "Elsewhere"}), "does not belong to that community"},
	}
	joiner := n.start("", 0)
	// answer is how a join with inv ends, or, when it waits (an admitter that cannot admit is
	// not a refusal), why it waits; the join is dropped then.
	answer := func(inv *invite.Invite) error {
		jctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err := joiner.Join(jctx, inv, "Jo")
		if !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		for _, j := range joiner.PendingJoins() {
			if j.Community == community.Hash(inv.Community) {
				joiner.CancelJoin(j.Community)
				return errors.New("waits: " + j.LastError)
			}
		}
		return err
	}
	for _, admitter := range []*peer.Peer{owner, m} {
		said := map[string]string{}
		for _, c := range cases {
			inv := *c.inv
			inv.Members = []invite.Member{memberOf(admitter)}
			err := answer(&inv)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%s invite at %s: %v, want a refusal saying %q", c.name, admitter.Dir, err, c.want)
			}
			said[err.Error()] = c.name
		}
		if len(said) != len(cases) {
			t.Fatalf("two refusals say the same thing: %v", said)
		}
	}
	for _, p := range []*peer.Peer{owner, m} {
		if h, _ := p.Svc.StateHash(id); h != before {
			t.Fatal("a refused invite changed the log")
		}
	}
	// Within the skew allowance (5 minutes), an invite that starts soon admits.
	soon := issue(owner.ID, id, invite.Params{NotBefore: now.Add(2 * time.Minute)})
	soon.Members = []invite.Member{memberOf(m)}
	if _, err := joiner.Join(ctx, soon, "Jo"); err != nil {
		t.Fatalf("an invite valid within the skew allowance: %v", err)
	}
	eventually(t, 30*time.Second, "one state with Jo in it everywhere", func() bool {
		h0, _ := owner.Svc.StateHash(id)
		h1, _ := m.Svc.StateHash(id)
		h2, _ := joiner.Svc.StateHash(id)
		return h0 == h1 && h1 == h2 && slices.Contains(activeNames(owner, id), "Jo")
	})
}

// TestFloodIsCutToTheRateLimit: one member floods 1,000 valid messages at 1,000 a second (from
// a node that publishes whatever it is given: a member's own install would be slowed by its
// durable writes) while two others talk. Every message of the two reaches every peer; the
// flooder's gossip is cut to its rate limit (here a burst of 100, then 20 a second, so that the
// cut shows within a second): past it, its events are ignored by the validator, neither stored
// from gossip nor forwarded. (An honest message that cites an ignored event waits for it; sync
// brings it.)
func TestFloodIsCutToTheRateLimit(t *testing.T) {
	const flood, burst, perSecond = 1000, 100, 1.0
	n := newNet(t)
	judged := newRejections()
	limited := func(o *peer.Options) {
		// The limit is gossip's; sync, which it does not limit, brings what an honest message
		// cites of the flood to a peer that ignored it (as every minute by default).
		o.SyncEvery = 2 * time.Second
		o.Rate = gossip.Rate{Burst: burst, PerSecond: perSecond}
	}
	owner := n.start("", 0, limited, judged.logTo)
	id := create(t, owner, "Makers")
	inv := inviteOf(t, owner, id, 0)
	h, f := n.start("", 0, limited), n.start("", 0, limited)
	join(t, h, inv, "Hal")
	join(t, f, inv, "Flo")
	connected(t, id, owner, h, f)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	flo := newAttacker(t, ctx, f, id, []*peer.Peer{owner, h}, 0)
	events := forge(t, flo.off, id, flood) // a member's valid events, chained
	envs := make([][]byte, len(events))
	for i, e := range events {
		envs[i] = e.Encode()
	}

	var wg sync.WaitGroup
	honest := func(p *peer.Peer, ch community.Hash, who string) {
		defer wg.Done()
		for i := range 20 {
			if _, err := p.Svc.Post(ctx, id, ch, fmt.Sprintf("%s %d", who, i), community.Hash{}); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	defer wg.Wait() // the honest posters end before the test, whatever fails first
	wg.Add(2)
	start := time.Now()
	go honest(owner, general(t, owner, id), "owner")
	go honest(h, general(t, h, id), "hal")
	for i, env := range envs {
		flo.publish(t, ctx, env)
		if ahead := time.Duration(i+1)*time.Millisecond - time.Since(start); ahead > 0 {
			time.Sleep(ahead)
		}
	}
	took := time.Since(start)
	wg.Wait()
	t.Logf("flooded %d messages in %s (%.0f a second)", flood, took.Round(time.Millisecond), flood/took.Seconds())
	for i, p := range []*peer.Peer{owner, h} {
		eventually(t, 60*time.Second, fmt.Sprintf("peer %d to read every honest message", i), func() bool {
			got := texts(p, id, 100)
			for j := range 20 {
				if !got[fmt.Sprintf("owner %d", j)] || !got[fmt.Sprintf("hal %d", j)] {
					return false
				}
			}
			return true
		})
	}
	// At most burst + perSecond × (the time since the flood began) of the flooder's events passed
	// the owner's validator, whoever forwarded them; the rest were ignored there.
	var allowed int
	eventually(t, 60*time.Second, "the owner's validator to have cut the flood", func() bool {
		allowed = burst + int(perSecond*time.Since(start).Seconds()) + 1
		return judged.overRateAll() >= flood-allowed
	})
	t.Logf("the owner ignored %d of the flood's %d events over the rate (at most %d may pass)", judged.overRateAll(), flood, allowed)
}
