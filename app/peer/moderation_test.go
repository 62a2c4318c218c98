package peer_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/gossip"
	"github.com/kith-app/kith/app/peer"
	"github.com/kith-app/kith/p2p"
	"github.com/kith-app/kith/storage"
)

// offline opens a closed peer's folder without its network (its identity and store).
func offline(t *testing.T, dir string) *peer.Peer {
	t.Helper()
	p, err := peer.Open(dir, peer.Options{Logger: slog.New(slog.DiscardHandler), MinFreeBytes: -1, NoControl: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// forge signs events as p's install would, whatever its log says of it: its next sequence
// numbers after its latest event, citing the latest event it stored, in the genesis epoch
// (a removed member holds that key). The bodies are opaque: the receivers must refuse these
// events before they try to read them.
func forge(t *testing.T, p *peer.Peer, id community.Hash, n int) []*community.Event {
	t.Helper()
	var prev, latest *community.Event
	err := p.Store.Since(storage.CommunityID(id), 0, 0, func(_ uint64, se storage.Event) error {
		e, err := community.DecodeStored(se.Envelope)
		if err != nil {
			return err
		}
		if latest == nil || latest.Position().Less(e.Position()) {
			latest = e
		}
		if e.Author.Equal(p.ID.PublicKey()) && (prev == nil || e.Seq > prev.Seq) {
			prev = e
		}
		return nil
	})
	if err != nil || latest == nil {
		t.Fatalf("reading %s's log: %v", p.Dir, err)
	}
	var out []*community.Event
	for i := range n {
		e, err := community.Build(p.ID, community.Draft{
			Community: id, Kind: community.KindMessage, Body: randomBytes(t, 80), Epoch: id,
			Time: time.Now(), Prev: prev, Deps: []community.Position{latest.Position()},
		})
		if err != nil {
			t.Fatalf("forging event %d: %v", i, err)
		}
		out = append(out, e)
		prev, latest = e, e
	}
	return out
}

// keyOf returns a member's key as the members list shows it.
func keyOf(t *testing.T, p *peer.Peer, id community.Hash, name string) []byte {
	t.Helper()
	ms, err := p.Svc.Members(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Name == name {
			return m.Key
		}
	}
	t.Fatalf("no member %q", name)
	return nil
}

func isActive(p *peer.Peer, id community.Hash, key []byte) bool {
	member, _ := p.Svc.IsMember(id, key)
	return member
}

// epochOf returns the current epoch a peer's log names.
func epochOf(t *testing.T, p *peer.Peer, id community.Hash) community.Hash {
	t.Helper()
	e, err := p.Svc.Epoch(id)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestRemovedMemberIsCutOff: the owner removes B. Every peer drops B, disconnects it and refuses
// it; the key rotates to the others. B keeps publishing — its own node is refused at the door,
// and a friend of B's (a member, on a node that forwards anything) relays B's raw events: the
// owner and the other member reject every one and store none. B, handed the bytes of a message
// written after its removal, stores them and cannot read them; the others read it.
func TestRemovedMemberIsCutOff(t *testing.T) {
	n := newNet(t)
	judged := newRejections()
	owner := n.start("", 0, judged.logTo)
	id := create(t, owner, "Makers")
	inv := inviteOf(t, owner, id, 3)
	a := n.start("", 0)
	join(t, a, inv, "Al")
	bDir, fDir := t.TempDir(), t.TempDir()
	b := n.start(bDir, 0)
	join(t, b, inv, "Bo")
	f := n.start(fDir, 0)
	join(t, f, inv, "Fi")
	connected(t, id, owner, a, b, f)
	post(t, b, id, "hello from Bo")
	eventually(t, 30*time.Second, "everyone to read Bo", func() bool {
		return texts(owner, id, 10)["hello from Bo"] && texts(a, id, 10)["hello from Bo"] && texts(f, id, 10)["hello from Bo"]
	})
	bKey := b.ID.PublicKey()
	genesisEpoch := epochOf(t, owner, id)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// A member cannot remove anyone; the owner can.
	if err := a.Svc.Remove(ctx, id, bKey, ""); err == nil || !strings.Contains(err.Error(), "only the owner and moderators") {
		t.Fatalf("a member removes: %v", err)
	}
	if err := owner.Svc.Remove(ctx, id, bKey, "spam"); err != nil {
		t.Fatal(err)
	}
	newEpoch := epochOf(t, owner, id)
	if newEpoch == genesisEpoch {
		t.Fatal("the key did not rotate")
	}
	for _, p := range []*peer.Peer{a, f} {
		eventually(t, 30*time.Second, "the removal and the rotation to reach every member", func() bool {
			return !isActive(p, id, bKey) && epochOf(t, p, id) == newEpoch
		})
	}
	for _, p := range []*peer.Peer{owner, a, f} {
		eventually(t, 30*time.Second, "every member to drop its connection to Bo", func() bool {
			_, ok := p.Node().PathTo(b.Node().ID())
			return !ok
		})
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	bOff, fOff := offline(t, bDir), offline(t, fDir)
	forged := forge(t, bOff, id, 5)

	// Bo's own node: refused at the door by every member.
	bare := func(p *peer.Peer) *p2p.Node {
		node, err := p2p.New(ctx, p2p.Config{
			PrivateKey: p.ID.TransportKey(), ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
			Logger: slog.New(slog.DiscardHandler), MessageID: gossip.MessageID,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { node.Close() })
		return node
	}
	bNode := bare(bOff)
	for _, p := range []*peer.Peer{owner, a} {
		// The dial may complete on Bo's side before the member's gater closes it.
		_ = bNode.Connect(ctx, p.Node().Addrs()[0])
		eventually(t, 10*time.Second, "the member to refuse Bo's node (not even as a guest)", func() bool {
			_, in := p.Node().PathTo(bNode.ID())
			_, out := bNode.PathTo(p.Node().ID())
			return !in && !out
		})
	}

	// Fi's node, forwarding whatever it is given: Bo's raw events reach the owner and Al.
	fNode := bare(fOff)
	topic, err := fNode.Join(gossip.TopicName(id), acceptAll)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*peer.Peer{owner, a} {
		if err := fNode.Connect(ctx, p.Node().Addrs()[0]); err != nil {
			t.Fatalf("Bo's friend connects: %v", err)
		}
	}
	eventually(t, 30*time.Second, "the owner to have Bo's friend on the topic", func() bool {
		return slices.Contains(topic.Peers(), owner.Node().ID())
	})
	for _, e := range forged {
		if err := topic.Publish(ctx, e.Encode()); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 30*time.Second, "the owner to reject Bo's relayed events", func() bool {
		return judged.count(fNode.ID()) > 0
	})
	eventually(t, 30*time.Second, "the relaying node's score to fall below zero at the owner", func() bool {
		score, ok := owner.Node().Score(fNode.ID())
		return ok && score < 0
	})
	// A moment for any delivery that would still come, then none may be stored anywhere.
	post(t, owner, id, "after the removal")
	eventually(t, 30*time.Second, "Al to read the owner's message in the new epoch", func() bool {
		return texts(a, id, 10)["after the removal"]
	})
	for _, e := range forged {
		for _, p := range []*peer.Peer{owner, a} {
			if p.Svc.Has(id, e.ID) {
				t.Fatalf("a removed member's event %s was stored", e.ID.Short())
			}
		}
	}

	// Bo gets the raw bytes of the rotation and of the message written after its removal: it
	// keeps them and cannot read them.
	var raw [][]byte
	err = owner.Store.Since(storage.CommunityID(id), 0, 0, func(_ uint64, se storage.Event) error {
		raw = append(raw, slices.Clone(se.Envelope))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bOff.Svc.Receive(id, raw); err != nil {
		t.Fatal(err)
	}
	if epochOf(t, bOff, id) != newEpoch {
		t.Fatal("Bo's copy of the log does not name the new epoch")
	}
	if texts(bOff, id, 50)["after the removal"] {
		t.Fatal("a removed member read a message written after its removal")
	}
	if !texts(bOff, id, 50)["hello from Bo"] {
		t.Fatal("Bo lost what it could read before (history it already had stays)")
	}
	if !texts(a, id, 50)["hello from Bo"] {
		t.Fatal("the removal voided what Bo wrote before it")
	}
}
