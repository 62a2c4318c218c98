package peer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/gossip"
	"github.com/kith-app/kith/app/peer"
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

// envelopes returns every envelope a peer stores for a community, as it stored them.
func envelopes(t *testing.T, p *peer.Peer, id community.Hash) [][]byte {
	t.Helper()
	var raw [][]byte
	err := p.Store.Since(storage.CommunityID(id), 0, 0, func(_ uint64, se storage.Event) error {
		raw = append(raw, slices.Clone(se.Envelope))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
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
	bNode := bareNode(t, ctx, bOff, 0)
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
	fNode := bareNode(t, ctx, fOff, 0)
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
	cannotRead(t, bOff, owner, id, "after the removal")
	if epochOf(t, bOff, id) != newEpoch {
		t.Fatal("Bo's copy of the log does not name the new epoch")
	}
	if !texts(bOff, id, 50)["hello from Bo"] {
		t.Fatal("Bo lost what it could read before (history it already had stays)")
	}
	if !texts(a, id, 50)["hello from Bo"] {
		t.Fatal("the removal voided what Bo wrote before it")
	}
}

// roleOf returns a member's role as a peer's members list shows it (RoleNone once inactive).
func roleOf(p *peer.Peer, id community.Hash, key []byte) community.Role {
	ms, _ := p.Svc.Members(id)
	for _, m := range ms {
		if m.Active && string(m.Key) == string(key) {
			return m.Role
		}
	}
	return community.RoleNone
}

// TestConcurrentActsConverge: during a partition the owner (side 0) demotes moderator M1 and
// removes Y, while on side 1 M1 removes Z and moderator M2 removes Y too, each removal rotating
// the key. After healing every peer folds the same state: M1's removal of Z, written after the
// cutoff of its demotion, is void (Z is back), Y is out (the owner's act wins over M2's), and
// every active member reads what both sides wrote, keys repaired by rotation and shares.
func TestConcurrentActsConverge(t *testing.T) {
	n := newNet(t)
	owner := n.start("", 0)
	id := create(t, owner, "Makers")
	inv := inviteOf(t, owner, id, 0)
	x := n.start("", 0)
	join(t, x, inv, "X")
	m1, m2, y, z := n.start("", 1), n.start("", 1), n.start("", 1), n.start("", 1)
	join(t, m1, inv, "M1")
	join(t, m2, inv, "M2")
	join(t, y, inv, "Y")
	join(t, z, inv, "Z")
	all := []*peer.Peer{owner, x, m1, m2, y, z}
	connected(t, id, all...)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, m := range []*peer.Peer{m1, m2} {
		if err := owner.Svc.SetRole(ctx, id, m.ID.PublicKey(), community.RoleModerator); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range all {
		eventually(t, 30*time.Second, "everyone to see two moderators", func() bool {
			return roleOf(p, id, m1.ID.PublicKey()) == community.RoleModerator && roleOf(p, id, m2.ID.PublicKey()) == community.RoleModerator
		})
	}
	n.split(all...)
	yKey, zKey := y.ID.PublicKey(), z.ID.PublicKey()
	// Side 1.
	if err := m1.Svc.Remove(ctx, id, zKey, ""); err != nil {
		t.Fatal(err)
	}
	if err := m2.Svc.Remove(ctx, id, yKey, ""); err != nil {
		t.Fatal(err)
	}
	// A moderator cannot remove another moderator, nor the owner.
	if err := m2.Svc.Remove(ctx, id, m1.ID.PublicKey(), ""); err == nil {
		t.Fatal("a moderator removed a moderator")
	}
	if err := m2.Svc.Remove(ctx, id, owner.ID.PublicKey(), ""); err == nil {
		t.Fatal("a moderator removed the owner")
	}
	// Side 0.
	if err := owner.Svc.SetRole(ctx, id, m1.ID.PublicKey(), community.RoleMember); err != nil {
		t.Fatal(err)
	}
	if err := owner.Svc.Remove(ctx, id, yKey, ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "side 1 to see its removals", func() bool {
		return !isActive(m2, id, zKey) && !isActive(m1, id, yKey)
	})
	post(t, m2, id, "side 1, apart")
	post(t, x, id, "side 0, apart")

	n.partitioned.Store(false)
	stay := []*peer.Peer{owner, x, m1, m2, z}
	eventually(t, 90*time.Second, "one state on every peer that stays", func() bool {
		h0, _ := owner.Svc.StateHash(id)
		for _, p := range stay {
			if h, _ := p.Svc.StateHash(id); h != h0 {
				return false
			}
		}
		return true
	})
	for i, p := range stay {
		if !isActive(p, id, zKey) || isActive(p, id, yKey) {
			t.Fatalf("peer %d: Z active %v (want true), Y active %v (want false)", i, isActive(p, id, zKey), isActive(p, id, yKey))
		}
		if r := roleOf(p, id, m1.ID.PublicKey()); r != community.RoleMember {
			t.Fatalf("peer %d: M1 is %s, want member", i, r)
		}
	}
	for i, p := range stay {
		deadline := time.Now().Add(60 * time.Second)
		for {
			got := texts(p, id, 50)
			if got["side 1, apart"] && got["side 0, apart"] {
				break
			}
			if time.Now().After(deadline) {
				for j, q := range stay {
					t.Logf("peer %d: epoch %s texts %v", j, epochOf(t, q, id).Short(), texts(q, id, 50))
				}
				t.Fatalf("peer %d does not read both sides", i)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// The keys are repaired: whatever the current epoch is, every member that stays can write in
	// it and be read by the others.
	post(t, z, id, "Z is back")
	for i, p := range stay {
		eventually(t, 60*time.Second, fmt.Sprintf("peer %d to read Z", i), func() bool { return texts(p, id, 50)["Z is back"] })
	}
}

// bodyGone reports whether a peer stores event ev without its body (a tombstone).
func bodyGone(t *testing.T, p *peer.Peer, id, ev community.Hash) bool {
	t.Helper()
	se, err := p.Store.EventByID(storage.CommunityID(id), storage.EventID(ev))
	if err != nil {
		return false
	}
	e, err := community.DecodeStored(se.Envelope)
	return err == nil && !e.HasBody() && !strings.Contains(string(se.Envelope), "x's secret")
}

// TestModeratorActsWhileOwnerIsAway: with the owner and a member offline, a moderator deletes a
// member's message and removes that member. When the two come back they learn both by sync: the
// message's text is gone from their stores and views, the member is out, and they read what the
// moderator wrote in the new epoch.
func TestModeratorActsWhileOwnerIsAway(t *testing.T) {
	n := newNet(t)
	oDir, wDir := t.TempDir(), t.TempDir()
	owner := n.start(oDir, 0)
	id := create(t, owner, "Makers")
	inv := inviteOf(t, owner, id, 0)
	m, x, w := n.start("", 0), n.start("", 0), n.start(wDir, 0)
	join(t, m, inv, "Mo")
	join(t, x, inv, "X")
	join(t, w, inv, "W")
	all := []*peer.Peer{owner, m, x, w}
	connected(t, id, all...)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := owner.Svc.SetRole(ctx, id, m.ID.PublicKey(), community.RoleModerator); err != nil {
		t.Fatal(err)
	}
	msg, err := x.Svc.Post(ctx, id, general(t, x, id), "x's secret", community.Hash{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		eventually(t, 30*time.Second, "everyone to read X and see the moderator", func() bool {
			return texts(p, id, 10)["x's secret"] && roleOf(p, id, m.ID.PublicKey()) == community.RoleModerator
		})
	}
	// A member cannot delete someone else's message.
	if err := w.Svc.DeleteMessage(ctx, id, msg.ID); err == nil {
		t.Fatal("a member deleted another member's message")
	}
	for _, p := range []*peer.Peer{w, owner} {
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Svc.DeleteMessage(ctx, id, msg.ID); err != nil {
		t.Fatal(err)
	}
	if err := m.Svc.Remove(ctx, id, x.ID.PublicKey(), "off-topic"); err != nil {
		t.Fatal(err)
	}
	epoch := epochOf(t, m, id)
	eventually(t, 30*time.Second, "X's own copy to lose the text", func() bool { return bodyGone(t, x, id, msg.ID) })
	if texts(m, id, 10)["x's secret"] || !bodyGone(t, m, id, msg.ID) {
		t.Fatal("the moderator still shows or stores the deleted text")
	}
	post(t, m, id, "while the owner was away")

	owner, w = n.start(oDir, 0), n.start(wDir, 0)
	for _, p := range []*peer.Peer{owner, w} {
		eventually(t, 60*time.Second, "the returning peer to learn the removal and the new key by sync", func() bool {
			return !isActive(p, id, x.ID.PublicKey()) && epochOf(t, p, id) == epoch && texts(p, id, 10)["while the owner was away"]
		})
		if texts(p, id, 10)["x's secret"] || !bodyGone(t, p, id, msg.ID) {
			t.Fatal("a returning peer still shows or stores the deleted text")
		}
	}
}

// TestStolenOwnerKeyIsRecovered: a thief with the owner key removes three members. A member
// types the recovery words: ownership moves to its key, the three removals are void on every
// peer, the three are back, and the thief's key reads nothing written afterwards.
func TestStolenOwnerKeyIsRecovered(t *testing.T) {
	n := newNet(t)
	owner := n.start("", 0)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := owner.Do(ctx, peer.Request{Cmd: "create", Name: "Makers", DisplayName: "Ana"})
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		ID            string `json:"id"`
		RecoveryWords string `json:"recovery_words"`
	}
	if err := json.Unmarshal(res.JSON, &c); err != nil {
		t.Fatal(err)
	}
	id, err := community.ParseHash(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	inv := inviteOf(t, owner, id, 0)
	rec := n.start("", 0)
	join(t, rec, inv, "Rae")
	victims := []*peer.Peer{n.start("", 0), n.start("", 0), n.start("", 0)}
	for i, v := range victims {
		join(t, v, inv, fmt.Sprintf("V%d", i))
	}
	all := append([]*peer.Peer{owner, rec}, victims...)
	connected(t, id, all...)
	acts, err := owner.Svc.OwnerActs(id)
	if err != nil || len(acts) == 0 {
		t.Fatalf("owner acts: %v, %v", acts, err)
	}
	honest := acts[len(acts)-1].Seq

	// The thief, with the owner key.
	for _, v := range victims {
		if err := owner.Svc.Remove(ctx, id, v.ID.PublicKey(), "stolen key"); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range victims {
		eventually(t, 30*time.Second, "the removals to reach the member who recovers", func() bool {
			return !isActive(rec, id, v.ID.PublicKey())
		})
	}
	// Wrong words are refused with a clear sentence; the right ones move ownership.
	if _, err := rec.Svc.Recover(ctx, id, "not the words", honest); err == nil || !strings.Contains(err.Error(), "recovery words") {
		t.Fatalf("wrong words: %v", err)
	}
	if _, err := owner.Svc.Recover(ctx, id, c.RecoveryWords, honest); err == nil {
		t.Fatal("the stolen owner key itself recovered")
	}
	got, err := rec.Svc.Recover(ctx, id, c.RecoveryWords, honest)
	if err != nil {
		t.Fatal(err)
	}
	if got.RecoveryWords == "" || got.RecoveryWords == c.RecoveryWords {
		t.Fatal("the recovery did not replace the spent words")
	}
	if _, err := rec.Svc.Recover(ctx, id, c.RecoveryWords, honest); err == nil {
		t.Fatal("spent recovery words worked twice")
	}
	stay := append([]*peer.Peer{rec}, victims...)
	for i, p := range stay {
		eventually(t, 60*time.Second, fmt.Sprintf("peer %d to see the three back and the new owner", i), func() bool {
			for _, v := range victims {
				if !isActive(p, id, v.ID.PublicKey()) {
					return false
				}
			}
			return roleOf(p, id, rec.ID.PublicKey()) == community.RoleOwner && !isActive(p, id, owner.ID.PublicKey())
		})
	}
	post(t, rec, id, "ownership recovered")
	for i, v := range victims {
		eventually(t, 60*time.Second, fmt.Sprintf("victim %d to read the new owner", i), func() bool {
			return texts(v, id, 10)["ownership recovered"]
		})
	}
	// The thief may hold the bytes; it cannot read them.
	cannotRead(t, owner, rec, id, "ownership recovered")
}

// TestModerationCommands: kithd's contract for moderation (peer.Do, as the control socket runs
// it): promote and demote by member id, delete by message id, remove by name, leave, and the
// owner key's acts for a recovery.
func TestModerationCommands(t *testing.T) {
	n := newNet(t)
	owner := n.start("", 0)
	id := create(t, owner, "Makers")
	inv := inviteOf(t, owner, id, 0)
	a, b := n.start("", 0), n.start("", 0)
	join(t, a, inv, "Al")
	join(t, b, inv, "Bo")
	connected(t, id, owner, a, b)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	do := func(p *peer.Peer, req peer.Request) peer.Result {
		t.Helper()
		res, err := p.Do(ctx, req)
		if err != nil {
			t.Fatalf("%s: %v", req.Cmd, err)
		}
		return res
	}
	var members []peer.MemberJSON
	if err := json.Unmarshal(do(owner, peer.Request{Cmd: "members"}).JSON, &members); err != nil {
		t.Fatal(err)
	}
	var alID string
	for _, m := range members {
		if m.Name == "Al" {
			alID = m.ID
		}
	}
	do(owner, peer.Request{Cmd: "promote", Member: alID})
	eventually(t, 30*time.Second, "Al to be a moderator on Bo's side", func() bool {
		return roleOf(b, id, a.ID.PublicKey()) == community.RoleModerator
	})
	if _, err := b.Do(ctx, peer.Request{Cmd: "promote", Member: alID[:8]}); err == nil {
		t.Fatal("a member promoted someone")
	}
	do(b, peer.Request{Cmd: "post", Text: "delete me"})
	var msgs []peer.MessageJSON
	eventually(t, 30*time.Second, "Al to read Bo", func() bool {
		msgs = nil
		_ = json.Unmarshal(do(a, peer.Request{Cmd: "messages"}).JSON, &msgs)
		return len(msgs) > 0 && msgs[len(msgs)-1].Text == "delete me"
	})
	eventually(t, 30*time.Second, "the owner to read Bo", func() bool { return texts(owner, id, 10)["delete me"] })
	do(a, peer.Request{Cmd: "delete", Message: msgs[len(msgs)-1].ID})
	eventually(t, 30*time.Second, "the text to be gone everywhere", func() bool {
		return !texts(owner, id, 10)["delete me"] && !texts(b, id, 10)["delete me"]
	})
	if _, err := a.Do(ctx, peer.Request{Cmd: "remove", Member: "Ana"}); err == nil {
		t.Fatal("a moderator removed the owner")
	}
	do(a, peer.Request{Cmd: "remove", Member: "bo", Reason: "test"})
	eventually(t, 30*time.Second, "Bo to be out at the owner's", func() bool { return !isActive(owner, id, b.ID.PublicKey()) })
	do(owner, peer.Request{Cmd: "demote", Member: alID})
	eventually(t, 30*time.Second, "Al to be a member again", func() bool {
		return roleOf(a, id, a.ID.PublicKey()) == community.RoleMember
	})
	var acts []peer.OwnerActJSON
	if err := json.Unmarshal(do(a, peer.Request{Cmd: "recover", List: true}).JSON, &acts); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, act := range acts {
		kinds = append(kinds, act.Kind)
	}
	if !slices.Contains(kinds, "set-role") || !slices.Contains(kinds, "join") {
		t.Fatalf("the owner's acts: %v", kinds)
	}
	if _, err := a.Do(ctx, peer.Request{Cmd: "recover", Words: "x"}); err == nil || !strings.Contains(err.Error(), "--cutoff") {
		t.Fatalf("recover without a cutoff: %v", err)
	}
	do(a, peer.Request{Cmd: "leave"})
	eventually(t, 30*time.Second, "Al's leave to reach the owner", func() bool { return !isActive(owner, id, a.ID.PublicKey()) })
	if _, err := owner.Do(ctx, peer.Request{Cmd: "leave"}); err == nil {
		t.Fatal("the owner left")
	}
}

// TestRotationAndJoinAcrossAPartition: during a partition the owner removes R0 on one side
// (rotating the key) while on the other a moderator removes R1 (rotating too) and admits a
// joiner with the key it had. After healing, the peers agree on one current epoch, which the
// joiner holds and neither removed member does: the joiner reads what is written in it, each
// removed member, handed the bytes, cannot.
func TestRotationAndJoinAcrossAPartition(t *testing.T) {
	n := newNet(t)
	owner := n.start("", 0)
	id := create(t, owner, "Makers")
	inv := inviteOf(t, owner, id, 0)
	mod, r0, r1 := n.start("", 1), n.start("", 0), n.start("", 1)
	join(t, mod, inv, "Mod")
	join(t, r0, inv, "R0")
	join(t, r1, inv, "R1")
	all := []*peer.Peer{owner, mod, r0, r1}
	connected(t, id, all...)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := owner.Svc.SetRole(ctx, id, mod.ID.PublicKey(), community.RoleModerator); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the moderator to know it", func() bool {
		return roleOf(mod, id, mod.ID.PublicKey()) == community.RoleModerator
	})
	joiner := n.start("", 1)
	n.split(append(all, joiner)...)
	if err := owner.Svc.Remove(ctx, id, r0.ID.PublicKey(), ""); err != nil {
		t.Fatal(err)
	}
	if err := mod.Svc.Remove(ctx, id, r1.ID.PublicKey(), ""); err != nil {
		t.Fatal(err)
	}
	join(t, joiner, inviteOf(t, mod, id, 1, mod), "Jo")
	post(t, mod, id, "side 1, with Jo")
	post(t, owner, id, "side 0, without R0")

	n.partitioned.Store(false)
	stay := []*peer.Peer{owner, mod, joiner}
	var epoch community.Hash
	eventually(t, 90*time.Second, "one state and one epoch on the three that stay", func() bool {
		h0, _ := owner.Svc.StateHash(id)
		epoch = epochOf(t, owner, id)
		for _, p := range stay[1:] {
			if h, _ := p.Svc.StateHash(id); h != h0 || epochOf(t, p, id) != epoch {
				return false
			}
		}
		return !isActive(owner, id, r0.ID.PublicKey()) && !isActive(owner, id, r1.ID.PublicKey())
	})
	post(t, owner, id, "after healing")
	for i, p := range stay {
		deadline := time.Now().Add(60 * time.Second)
		for {
			got := texts(p, id, 50)
			if got["side 1, with Jo"] && got["side 0, without R0"] && got["after healing"] {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("peer %d reads %v, not both sides and the new epoch", i, got)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, r := range []*peer.Peer{r0, r1} {
		dir := r.Dir
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		cannotRead(t, offline(t, dir), owner, id, "after healing")
	}
}

// cannotRead hands p every envelope from holds, whose latest message has text: p must store
// them all (it has the bytes, as from a friend who relays them) and must not read that message.
func cannotRead(t *testing.T, p, from *peer.Peer, id community.Hash, text string) {
	t.Helper()
	if _, err := p.Svc.Receive(id, envelopes(t, from, id)); err != nil {
		t.Fatal(err)
	}
	last, err := community.Decode(lastMessage(t, from, id))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Svc.Has(id, last.ID) {
		t.Fatalf("%s did not even store the bytes of %q", p.Dir, text)
	}
	if texts(p, id, 50)[text] {
		t.Fatalf("%s read %q, written with a key it must not have", p.Dir, text)
	}
}

// TestRemovalKeepsThePersonOut: a member removed with --revoke-invite cannot come back with a
// new install and the multi-use invite it joined with ("this invite was revoked"), at the owner
// or at any other member; a removal without it leaves the invite open, and says nothing was
// revoked. A joiner who takes the owner's name in another case is refused with a sentence
// that says to pick another name, and gets in with one.
func TestRemovalKeepsThePersonOut(t *testing.T) {
	n := newNet(t)
	owner := n.start("", 0)
	id := create(t, owner, "Makers")
	inv := inviteOf(t, owner, id, 10)
	al, bo := n.start("", 0), n.start("", 0)
	join(t, al, inv, "Al")
	join(t, bo, inv, "Bo")
	connected(t, id, owner, al, bo)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	use, ok, err := owner.Svc.InviteOf(id, bo.ID.PublicKey())
	if err != nil || !ok || use.ID != inv.ID || use.Uses != 2 || use.MaxUses != 10 || use.UsesLeft() != 8 {
		t.Fatalf("InviteOf(Bo) = %+v, %v, %v; want the 10-use invite, used twice", use, ok, err)
	}
	res, err := owner.Do(ctx, peer.Request{Cmd: "remove", Member: "Bo", RevokeInvite: true, Reason: "spam"})
	if err != nil || !strings.Contains(res.Text, "is revoked") || !strings.Contains(string(res.JSON), `"invite_revoked":true`) {
		t.Fatalf("remove --revoke-invite: %q %s, %v", res.Text, res.JSON, err)
	}
	eventually(t, 30*time.Second, "Al to know the invite is revoked", func() bool {
		u, _, _ := al.Svc.InviteOf(id, al.ID.PublicKey())
		return u.Revoked
	})
	back := n.start("", 0) // Bo on a new install
	jctx, jcancel := context.WithTimeout(ctx, 60*time.Second)
	defer jcancel()
	if _, err := back.Join(jctx, inv, "Bo again"); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("Bo came back with the invite: %v", err)
	}
	if isActive(owner, id, back.ID.PublicKey()) {
		t.Fatal("the new install is a member")
	}

	// A removal without the flag leaves the invite open.
	fresh := inviteOf(t, owner, id, 5)
	cy := n.start("", 0)
	join(t, cy, fresh, "Cy")
	res, err = owner.Do(ctx, peer.Request{Cmd: "remove", Member: "Cy"})
	if err != nil || strings.Contains(res.Text, "revoked") {
		t.Fatalf("remove: %q, %v", res.Text, err)
	}
	if u, _, _ := owner.Svc.InviteOf(id, cy.ID.PublicKey()); u.Revoked || u.UsesLeft() != 4 {
		t.Fatalf("a removal without --revoke-invite revoked it: %+v", u)
	}

	// The owner's name, in capitals and with a zero for the O: refused, with what to do.
	eve := n.start("", 0)
	jctx2, jcancel2 := context.WithTimeout(ctx, 60*time.Second)
	defer jcancel2()
	if _, err := eve.Join(jctx2, fresh, "ANA"); err == nil || !strings.Contains(err.Error(), "too close to that of a member") ||
		!strings.Contains(err.Error(), "another name") {
		t.Fatalf("a joiner named ANA beside the owner Ana: %v", err)
	}
	if _, err := eve.Join(ctx, fresh, "Ana\u202e"); err == nil || !strings.Contains(err.Error(), "invisible or control character") {
		t.Fatalf("a joiner with a direction override in its name: %v", err)
	}
	join(t, eve, fresh, "Eve")
}

// TestRemovedMemberLearnsWhy: the owner removes Bo with a reason while Bo is online. Before his
// connections are dropped (and refused from then on), Bo is handed the removal: his install says
// who removed him and why, and posts nothing more.
func TestRemovedMemberLearnsWhy(t *testing.T) {
	n := newNet(t)
	owner := n.start("", 0)
	id := create(t, owner, "Makers")
	inv := inviteOf(t, owner, id, 2)
	b := n.start("", 0)
	join(t, b, inv, "Bo")
	connected(t, id, owner, b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := owner.Svc.Remove(ctx, id, b.ID.PublicKey(), "spam, twice"); err != nil {
		t.Fatal(err)
	}
	var d app.Departure
	eventually(t, 30*time.Second, "Bo to learn he was removed, and why", func() bool {
		var ok bool
		d, ok, _ = b.Svc.Departure(id)
		return ok && d.Removed && d.Reason == "spam, twice"
	})
	if d.By != "Ana" {
		t.Errorf("removed by %q, want Ana", d.By)
	}
	eventually(t, 30*time.Second, "the owner to drop Bo", func() bool {
		_, ok := owner.Node().PathTo(b.Node().ID())
		return !ok
	})
}
