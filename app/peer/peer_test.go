package peer_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/invite"
	"github.com/kith-app/kith/app/peer"
	"github.com/kith-app/kith/p2p"
	"github.com/kith-app/kith/storage"
)

// net is a set of test peers on 127.0.0.1 with a switchable partition: while it is on, peers on
// different sides cannot connect directly (the gater refuses, as two NATs would).
type net struct {
	t           *testing.T
	partitioned atomic.Bool
	mu          sync.Mutex
	side        map[string]int // Ed25519 key → side
}

func newNet(t *testing.T) *net { return &net{t: t, side: map[string]int{}} }

// start opens and starts a peer in dir (a fresh folder when empty) on side.
func (n *net) start(dir string, side int, tweak ...func(*peer.Options)) *peer.Peer {
	t := n.t
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	opts := peer.Options{
		Logger: slog.New(slog.DiscardHandler), MinFreeBytes: -1,
		Listen: []string{"/ip4/127.0.0.1/tcp/0"}, NoMDNS: true, NoNAT: true, NoControl: true,
		SyncEvery: 300 * time.Millisecond,
	}
	for _, f := range tweak {
		f(&opts)
	}
	prev := opts.Node
	opts.Node = func(c *p2p.Config) {
		if prev != nil {
			prev(c)
		}
		deny := c.ForceRelayed
		c.ForceRelayed = func(k ed25519.PublicKey) bool {
			if deny != nil && deny(k) {
				return true
			}
			if !n.partitioned.Load() {
				return false
			}
			n.mu.Lock()
			s, ok := n.side[string(k)]
			n.mu.Unlock()
			return ok && s != side
		}
	}
	p, err := peer.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	n.mu.Lock()
	n.side[string(p.ID.PublicKey())] = side
	n.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Start(ctx); err != nil {
		p.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// split turns the partition on and drops the connections that cross it.
func (n *net) split(peers ...*peer.Peer) {
	n.partitioned.Store(true)
	for _, p := range peers {
		node := p.Node()
		for _, pi := range node.Peers() {
			n.mu.Lock()
			s, ok := n.side[string(pi.Key)]
			mine := n.side[string(p.ID.PublicKey())]
			n.mu.Unlock()
			if ok && s != mine {
				_ = node.Disconnect(pi.ID)
			}
		}
	}
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// create makes a community through the create command, as kithd does.
func create(t *testing.T, p *peer.Peer, name string) community.Hash {
	t.Helper()
	res, err := p.Do(context.Background(), peer.Request{Cmd: "create", Name: name, DisplayName: "Ana"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := community.ParseHash(res.Text)
	if err != nil {
		t.Fatalf("create printed %q: %v", res.Text, err)
	}
	return id
}

// inviteOf issues an invite of p naming the members via (p itself when none) at their current
// addresses.
func inviteOf(t *testing.T, p *peer.Peer, id community.Hash, uses int, via ...*peer.Peer) *invite.Invite {
	t.Helper()
	if via == nil {
		via = []*peer.Peer{p}
	}
	var members []invite.Member
	for _, v := range via {
		members = append(members, memberOf(v))
	}
	inv, err := p.Svc.Invite(id, app.InviteParams{Uses: uses, Members: members})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// memberOf is p as an invite names it, at its current addresses.
func memberOf(p *peer.Peer) invite.Member {
	return peer.InviteMember(p.ID.PublicKey(), p.Node().Addrs())
}

func join(t *testing.T, p *peer.Peer, inv *invite.Invite, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := p.Join(ctx, inv, name); err != nil {
		t.Fatalf("%s joins: %v", name, err)
	}
}

func general(t *testing.T, p *peer.Peer, id community.Hash) community.Hash {
	t.Helper()
	chans, err := p.Svc.Channels(id)
	if err != nil || len(chans) == 0 {
		t.Fatalf("channels: %v", err)
	}
	return chans[0].ID
}

func post(t *testing.T, p *peer.Peer, id community.Hash, text string) {
	t.Helper()
	if _, err := p.Svc.Post(context.Background(), id, general(t, p, id), text, community.Hash{}); err != nil {
		t.Fatal(err)
	}
}

// texts returns the texts of a community's general channel, up to limit.
func texts(p *peer.Peer, id community.Hash, limit int) map[string]bool {
	out := map[string]bool{}
	chans, err := p.Svc.Channels(id)
	if err != nil || len(chans) == 0 {
		return out
	}
	msgs, _ := p.Svc.Messages(id, chans[0].ID, community.Position{}, limit)
	for _, m := range msgs {
		out[m.Text] = true
	}
	return out
}

// count is the number of events in a community's general channel page.
func count(p *peer.Peer, id community.Hash, ch community.Hash) int {
	n, _ := p.Store.ChannelCount(storage.CommunityID(id), storage.ChannelID(ch))
	return n
}

// logOf lists every event ID a peer stored for a community, sorted.
func logOf(t *testing.T, p *peer.Peer, id community.Hash) []string {
	t.Helper()
	var ids []string
	err := p.Store.Since(storage.CommunityID(id), 0, 0, func(_ uint64, e storage.Event) error {
		ids = append(ids, fmt.Sprintf("%x", e.ID[:]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}

func activeNames(p *peer.Peer, id community.Hash) []string {
	ms, _ := p.Svc.Members(id)
	var out []string
	for _, m := range ms {
		if m.Active {
			out = append(out, m.Name)
		}
	}
	slices.Sort(out)
	return out
}

// connected waits until every peer knows every other as a member and is connected to it.
func connected(t *testing.T, id community.Hash, peers ...*peer.Peer) {
	t.Helper()
	want := fmt.Sprintf("%d of %d online", len(peers), len(peers))
	for i, p := range peers {
		eventually(t, 30*time.Second, fmt.Sprintf("peer %d to see all %d online", i, len(peers)), func() bool {
			res, err := p.Do(context.Background(), peer.Request{Cmd: "status"})
			return err == nil && strings.Contains(res.Text, want)
		})
	}
}

// TestOwnerAndFourMembers: an owner and four members join by invite; every message reaches
// every peer, and every peer finds every other one online through the members' address book
// (each joiner knew only the owner's address).
func TestOwnerAndFourMembers(t *testing.T) {
	n := newNet(t)
	owner := n.start("", 0)
	id := create(t, owner, "Makers")
	inv := inviteOf(t, owner, id, 4)
	peers := []*peer.Peer{owner}
	for _, name := range []string{"Bo", "Cy", "Di", "Ed"} {
		p := n.start("", 0)
		join(t, p, inv, name)
		peers = append(peers, p)
	}
	for i, p := range peers {
		post(t, p, id, fmt.Sprintf("hello from peer %d", i))
	}
	for i, p := range peers {
		eventually(t, 30*time.Second, fmt.Sprintf("peer %d to read all five messages", i), func() bool {
			got := texts(p, id, 50)
			for j := range peers {
				if !got[fmt.Sprintf("hello from peer %d", j)] {
					return false
				}
			}
			return true
		})
	}
	connected(t, id, peers...)
	for i, p := range peers {
		if got := activeNames(p, id); !slices.Equal(got, []string{"Ana", "Bo", "Cy", "Di", "Ed"}) {
			t.Fatalf("peer %d sees members %v", i, got)
		}
	}
}

// postMany writes n messages through the service, several writers at once (as a busy owner's
// app would), and returns once all are stored.
func postMany(t *testing.T, p *peer.Peer, id community.Hash, n int, prefix string) {
	t.Helper()
	apptest.PostMany(t, p.Svc, id, general(t, p, id), n, func(i int) string { return fmt.Sprintf("%s %d", prefix, i) })
}

// TestCatchUpAfter10000Events: a member that was stopped while 10,000 events were written, and
// a member that joins after them, both end with every event; the stopped one finds the owner
// again from its address book, with no invite.
func TestCatchUpAfter10000Events(t *testing.T) {
	const events = 10_000
	n := newNet(t)
	owner := n.start("", 0)
	id := create(t, owner, "Makers")
	inv := inviteOf(t, owner, id, 0)
	dir := t.TempDir()
	away := n.start(dir, 0)
	join(t, away, inv, "Bo")
	if err := away.Close(); err != nil {
		t.Fatal(err)
	}
	postMany(t, owner, id, events, "while Bo was away")
	ch := general(t, owner, id)
	if got := count(owner, id, ch); got != events {
		t.Fatalf("the owner stored %d messages, want %d", got, events)
	}

	back := n.start(dir, 0) // same folder: same identity, store and address book
	late := n.start("", 0)
	join(t, late, inv, "Cy")
	for name, p := range map[string]*peer.Peer{"the returning member": back, "the late joiner": late} {
		eventually(t, 3*time.Minute, name+" to catch up", func() bool { return count(p, id, ch) == events })
	}
	if got, want := logOf(t, back, id), logOf(t, owner, id); !slices.Equal(got, want) {
		t.Fatalf("the returning member holds %d events, the owner %d", len(got), len(want))
	}
	eventually(t, 10*time.Second, "the sync to be reported done", func() bool { return back.Svc.Sync(id).String() == "synced" })
	msgs, err := back.Svc.Messages(id, ch, community.Position{}, 1)
	if err != nil || len(msgs) != 1 || !strings.HasPrefix(msgs[0].Text, "while Bo was away") {
		t.Fatalf("the latest message reads %v, %v", msgs, err)
	}
}

// TestPartitionHeals: two halves of a community that both wrote while apart end with identical
// logs and identical membership state once they meet again.
func TestPartitionHeals(t *testing.T) {
	n := newNet(t)
	owner := n.start("", 0)
	id := create(t, owner, "Makers")
	inv := inviteOf(t, owner, id, 0)
	a, b, c := n.start("", 0), n.start("", 1), n.start("", 1)
	join(t, a, inv, "Bo")
	join(t, b, inv, "Cy")
	join(t, c, inv, "Di")
	all := []*peer.Peer{owner, a, b, c}
	connected(t, id, all...)
	n.split(all...)
	for i, p := range all {
		postMany(t, p, id, 25, fmt.Sprintf("apart, from %d:", i))
	}
	// Each side reads its own half only.
	eventually(t, 20*time.Second, "side 1 to read what side 1 wrote", func() bool {
		return texts(c, id, 200)["apart, from 2: 24"]
	})
	if texts(c, id, 200)["apart, from 0: 24"] {
		t.Fatal("a message crossed the partition")
	}
	n.partitioned.Store(false) // heal: the address book and the sync loop do the rest
	want := logOf(t, owner, id)
	eventually(t, 60*time.Second, "identical logs everywhere", func() bool {
		want = logOf(t, owner, id)
		for _, p := range all[1:] {
			if !slices.Equal(logOf(t, p, id), want) {
				return false
			}
		}
		return len(want) == 1+3+4*25 // genesis, three joins, the messages
	})
	h0, _ := owner.Svc.StateHash(id)
	for i, p := range all {
		if h, _ := p.Svc.StateHash(id); h != h0 {
			t.Fatalf("peer %d folds to another state", i)
		}
		if got := texts(p, id, 200); len(got) != 4*25 {
			t.Fatalf("peer %d reads %d messages, want 100", i, len(got))
		}
	}
}

// TestTwoUseInviteRedeemedThrice: an invite with 2 uses is redeemed 3 times across a partition
// (twice on one side, once on the other); after healing every peer has the same 2 of the 3.
func TestTwoUseInviteRedeemedThrice(t *testing.T) {
	n := newNet(t)
	owner := n.start("", 0)
	id := create(t, owner, "Makers")
	m := n.start("", 1)
	join(t, m, inviteOf(t, owner, id, 1), "Mo")
	j1, j2, j3 := n.start("", 0), n.start("", 0), n.start("", 1)
	all := []*peer.Peer{owner, m, j1, j2, j3}
	connected(t, id, owner, m)
	inv := inviteOf(t, owner, id, 2, owner, m)
	n.split(all...)
	join(t, j1, inv, "J1")
	join(t, j2, inv, "J2")
	join(t, j3, inv, "J3") // the owner is out of reach: the member on side 1 admits
	post(t, owner, id, "side 0 talks")
	post(t, m, id, "side 1 talks")
	if got := activeNames(j3, id); !slices.Contains(got, "J3") {
		t.Fatalf("side 1 sees %v", got)
	}
	n.partitioned.Store(false)
	// Every peer knows every join, and folds them to the same two.
	var want []string
	eventually(t, 60*time.Second, "one outcome everywhere", func() bool {
		want = activeNames(owner, id)
		for _, p := range all {
			ids := logOf(t, p, id)
			if len(ids) != len(logOf(t, owner, id)) || !slices.Equal(activeNames(p, id), want) {
				return false
			}
		}
		return len(logOf(t, owner, id)) == 1+4+2 // genesis, four joins, two messages
	})
	joiners := 0
	for _, name := range want {
		if strings.HasPrefix(name, "J") {
			joiners++
		}
	}
	if joiners != 2 {
		t.Fatalf("members after healing: %v, want exactly 2 of J1, J2, J3", want)
	}
}

// TestRelayBetweenPeersThatCannotDial: an owner and a joiner that cannot dial each other (as
// behind two NATs) join, talk and sync 10,000 events through a third member's relay.
func TestRelayBetweenPeersThatCannotDial(t *testing.T) {
	const many = 10_000
	n := newNet(t)
	var aKey, bKey atomic.Value
	blocked := func(self *atomic.Value, other *atomic.Value) func(*peer.Options) {
		return func(o *peer.Options) {
			o.Node = func(c *p2p.Config) {
				c.ForceRelayed = func(k ed25519.PublicKey) bool {
					v, _ := other.Load().(string)
					return v == string(k)
				}
			}
		}
	}
	relay := n.start("", 0, func(o *peer.Options) { o.Relay = true })
	a := n.start("", 0, blocked(&aKey, &bKey))
	aKey.Store(string(a.ID.PublicKey()))
	b := n.start("", 0, blocked(&bKey, &aKey))
	bKey.Store(string(b.ID.PublicKey()))

	id := create(t, a, "Makers")
	join(t, relay, inviteOf(t, a, id, 1), "Relay")
	postMany(t, a, id, many, "through the relay")
	// The owner reserves a slot on the relay (AutoRelay, fed by the address book). Once the
	// joiner can reach it through the relay's circuit, it joins with an invite that names the
	// owner only, reachable through the relay (named as a relay, not as a member to ask).
	circuit := relay.Node().Addrs()[0] + "/p2p-circuit/p2p/" + a.Node().ID()
	eventually(t, time.Minute, "the owner's reservation on the relay", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return b.Node().Dial(ctx, a.Node().ID(), []string{circuit}) == nil
	})
	inv := inviteOf(t, a, id, 1)
	r := memberOf(relay)
	inv.Members = []invite.Member{{Key: a.ID.PublicKey(), Relays: []invite.Relay{{Key: r.Key, Addrs: r.Addrs}}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := b.Svc.Subscribe(ctx)
	join(t, b, inv, "Bo")
	admitter := ""
	for admitter == "" {
		if e, ok := (<-events).(app.JoinProgress); ok && e.Stage == app.JoinSyncing {
			admitter = e.Peer
		}
	}
	if admitter != a.Node().ID() {
		t.Fatalf("admitted by %s, want the owner %s (through the relay)", admitter, a.Node().ID())
	}
	if path, ok := b.Node().PathTo(a.Node().ID()); !ok || path != p2p.PathRelayed {
		t.Fatalf("the joiner reaches the owner by %v (connected %v), want relayed", path, ok)
	}
	ch := general(t, a, id)
	eventually(t, 3*time.Minute, "the joiner to hold all 10,000 messages", func() bool { return count(b, id, ch) == many })
	post(t, b, id, "hello across two NATs")
	eventually(t, 20*time.Second, "the owner to read the joiner", func() bool { return texts(a, id, 5)["hello across two NATs"] })
}
