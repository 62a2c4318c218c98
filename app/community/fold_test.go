package community

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kith-app/kith/app/invite"
)

func TestGenesisState(t *testing.T) {
	c, v := newCommunity(t, 10)
	s := v.state(t)
	if s.ID != c.genesis.ID || s.Name != "Makers" || s.MaxMembers != 10 || s.History != HistoryFull {
		t.Fatalf("state = %+v", s)
	}
	if s.RoleOf(c.owner.PublicKey()) != RoleOwner || !s.Owner.Equal(c.owner.PublicKey()) {
		t.Fatal("the genesis author is not the owner")
	}
	chans := s.Channels()
	if len(chans) != 2 || chans[0].Name != "general" || chans[1].Type != ChannelAnnouncements {
		t.Fatalf("channels = %+v", chans)
	}
	if s.Current != c.genesis.ID || !s.HoldsKey(s.Current, c.owner.PublicKey()) {
		t.Fatal("the first epoch is not the community ID, held by the owner")
	}
	if len(missingCurrent(s)) != 0 || len(s.NeedsRotation()) != 0 {
		t.Fatal("key repair needed right after genesis")
	}
}

func TestJoinRules(t *testing.T) {
	alice := func(t *testing.T) *person { return newPerson(t, "alice") }
	cases := []struct {
		name    string
		max     uint32
		run     func(t *testing.T, c *community, v *view) *Event // returns the join under test
		wantErr error                                            // nil: the join counts
	}{
		{"valid member invite", 0, func(t *testing.T, c *community, v *view) *Event {
			return c.write(v, c.owner, KindJoin, c.joinBody(c.invite(c.owner, RoleMember, 1), alice(t), c.owner))
		}, nil},
		{"used up", 0, func(t *testing.T, c *community, v *view) *Event {
			inv := c.invite(c.owner, RoleMember, 1)
			c.write(v, c.owner, KindJoin, c.joinBody(inv, alice(t), c.owner))
			return c.write(v, c.owner, KindJoin, c.joinBody(inv, newPerson(t, "bob"), c.owner))
		}, invite.ErrUsedUp},
		{"community full", 2, func(t *testing.T, c *community, v *view) *Event {
			inv := c.invite(c.owner, RoleMember, 0)
			c.write(v, c.owner, KindJoin, c.joinBody(inv, alice(t), c.owner))
			return c.write(v, c.owner, KindJoin, c.joinBody(inv, newPerson(t, "bob"), c.owner))
		}, invite.ErrFull},
		{"revoked", 0, func(t *testing.T, c *community, v *view) *Event {
			inv := c.invite(c.owner, RoleMember, 0)
			c.write(v, c.owner, KindRevokeInvite, &RevokeInvite{Invite: inv.ID})
			return c.write(v, c.owner, KindJoin, c.joinBody(inv, alice(t), c.owner))
		}, invite.ErrRevoked},
		{"expired at the countersigned time", 0, func(t *testing.T, c *community, v *view) *Event {
			inv := c.invite(c.owner, RoleMember, 0)
			c.clock = t0.Add(60 * 24 * time.Hour)
			return c.write(v, c.owner, KindJoin, c.joinBody(inv, alice(t), c.owner))
		}, invite.ErrExpired},
		{"forged proof", 0, func(t *testing.T, c *community, v *view) *Event {
			inv := c.invite(c.owner, RoleMember, 0)
			j := c.joinBody(inv, alice(t), c.owner)
			j.Proof = inv.ProveJoin(j.Joiner, j.JoinerX25519, newPerson(t, "x").PublicKey()) // for another admitter
			return c.write(v, c.owner, KindJoin, j)
		}, invite.ErrForged},
		{"wrong community", 0, func(t *testing.T, c *community, v *view) *Event {
			other, _ := newCommunity(t, 0)
			inv := other.invite(other.owner, RoleMember, 0)
			return c.write(v, c.owner, KindJoin, c.joinBody(inv, alice(t), c.owner))
		}, invite.ErrWrongCommunity},
		{"moderator may not grant moderator", 0, func(t *testing.T, c *community, v *view) *Event {
			mod := newPerson(t, "mod")
			c.admit(v, c.owner, mod, RoleModerator)
			inv := c.invite(mod, RoleModerator, 0)
			return c.write(v, mod, KindJoin, c.joinBody(inv, alice(t), mod))
		}, invite.ErrForged},
		{"member may not issue", 0, func(t *testing.T, c *community, v *view) *Event {
			m := newPerson(t, "m")
			c.admit(v, c.owner, m, RoleMember)
			inv := c.invite(m, RoleMember, 0)
			return c.write(v, m, KindJoin, c.joinBody(inv, alice(t), m))
		}, invite.ErrForged},
		{"admitter not a member", 0, func(t *testing.T, c *community, v *view) *Event {
			stranger := newPerson(t, "stranger")
			inv := c.invite(c.owner, RoleMember, 0)
			return c.write(v, stranger, KindJoin, c.joinBody(inv, alice(t), stranger))
		}, ErrNotMember},
		{"already a member", 0, func(t *testing.T, c *community, v *view) *Event {
			a := alice(t)
			inv := c.invite(c.owner, RoleMember, 0)
			c.write(v, c.owner, KindJoin, c.joinBody(inv, a, c.owner))
			return c.write(v, c.owner, KindJoin, c.joinBody(inv, a, c.owner))
		}, ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, v := newCommunity(t, tc.max)
			join := tc.run(t, c, v)
			s := v.state(t)
			reason, void := s.Void(join.ID)
			if tc.wantErr == nil {
				if void {
					t.Fatalf("join void: %s", reason)
				}
				b, _ := DecodeBody(KindJoin, join.Body)
				m, _ := s.Member(b.(*Join).Joiner)
				if !m.Active || m.Role != RoleMember || s.Uses(m.Invite) != 1 || !s.HoldsKey(s.Current, m.Key) {
					t.Fatalf("joined member = %+v, uses %d", m, s.Uses(m.Invite))
				}
				return
			}
			if !void {
				t.Fatalf("join counted, want %v", tc.wantErr)
			}
			// The fold's reason is the error's text; rerun the check to compare sentinels.
			if err := foldErr(t, v, join); !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// foldErr refolds up to e and applies e alone, returning its error.
func foldErr(t *testing.T, v *view, e *Event) error {
	t.Helper()
	var before []*Event
	for _, x := range v.authority() {
		if x.Position().Less(e.Position()) {
			before = append(before, x)
		}
	}
	s, err := Fold(before)
	if err != nil {
		t.Fatal(err)
	}
	return s.apply(e)
}

func TestVoidJoinStillNeedsRotation(t *testing.T) {
	c, v := newCommunity(t, 0)
	inv := c.invite(c.owner, RoleMember, 1)
	c.write(v, c.owner, KindJoin, c.joinBody(inv, newPerson(t, "a"), c.owner))
	bob := newPerson(t, "bob")
	over := c.write(v, c.owner, KindJoin, c.joinBody(inv, bob, c.owner))
	s := v.state(t)
	mustVoid(t, s, over, true)
	mustActive(t, s, bob, false)
	if nr := s.NeedsRotation(); len(nr) != 1 || !nr[0].Equal(bob.PublicKey()) {
		t.Fatalf("NeedsRotation = %x, want bob: a void join's joiner holds the key", nr)
	}
}

func TestLeave(t *testing.T) {
	c, v := newCommunity(t, 0)
	a := newPerson(t, "a")
	c.admit(v, c.owner, a, RoleMember)
	before := c.say(v, a, "hi")
	leave := c.write(v, a, KindLeave, &Leave{})
	after := c.say(v, a, "still here?")
	s := v.state(t)
	mustVoid(t, s, leave, false)
	mustActive(t, s, a, false)
	if err := s.CheckContent(before); err != nil {
		t.Fatalf("message before leaving: %v", err)
	}
	if err := s.CheckContent(after); !errors.Is(err, ErrVoid) {
		t.Fatalf("message after leaving: %v, want ErrVoid", err)
	}
	ownerLeave := c.write(v, c.owner, KindLeave, &Leave{})
	mustVoid(t, v.state(t), ownerLeave, true)
}

func TestRemoveRoles(t *testing.T) {
	c, v := newCommunity(t, 0)
	mod, mod2, a, b := newPerson(t, "mod"), newPerson(t, "mod2"), newPerson(t, "a"), newPerson(t, "b")
	c.admit(v, c.owner, mod, RoleModerator)
	c.admit(v, c.owner, mod2, RoleModerator)
	c.admit(v, c.owner, a, RoleMember)
	c.admit(v, c.owner, b, RoleMember)
	rm := func(by, target *person) *Event {
		s := v.state(t)
		last := v.lastOf(target.PublicKey())
		var cut uint64
		if last != nil {
			cut = last.Seq
		}
		return c.write(v, by, KindRemove, &Remove{Target: target.PublicKey(), CutoffSeq: cut, TargetPrev: s.LastAct(target.PublicKey())})
	}
	byMember := rm(a, b)
	modByMod := rm(mod, mod2)
	ownerByMod := rm(mod, c.owner)
	memberByMod := rm(mod, a)
	modByOwner := rm(c.owner, mod2)
	s := v.state(t)
	mustVoid(t, s, byMember, true)
	mustVoid(t, s, modByMod, true)
	mustVoid(t, s, ownerByMod, true)
	mustVoid(t, s, memberByMod, false)
	mustVoid(t, s, modByOwner, false)
	mustActive(t, s, a, false)
	mustActive(t, s, b, true)
	mustActive(t, s, mod2, false)
	mustActive(t, s, mod, true)
}

// TestRemoveCutoff: a removed member's events above cutoff_seq are void whatever they cite,
// even when they sort before the removal; those at or below stay.
func TestRemoveCutoff(t *testing.T) {
	c, v := newCommunity(t, 0)
	mod, a, b := newPerson(t, "mod"), newPerson(t, "a"), newPerson(t, "b")
	c.admit(v, c.owner, mod, RoleModerator)
	c.admit(v, c.owner, a, RoleModerator)
	c.admit(v, c.owner, b, RoleMember)
	seen := c.say(v, a, "seen by the remover")

	// Partition: a keeps writing (a message and a removal of b) while the owner removes a.
	va := v.clone()
	lateMsg := c.say(va, a, "after the cutoff")
	lateRemove := c.write(va, a, KindRemove, &Remove{Target: b.PublicKey(), CutoffSeq: 0, TargetPrev: va.state(t).LastAct(b.PublicKey())})
	// Give the owner's side a longer history, so that a's late events sort before the removal:
	// the fold must reach back and void what it already applied.
	vo := v.clone()
	for range 5 {
		c.say(vo, c.owner, "padding")
	}
	removal := c.write(vo, c.owner, KindRemove, &Remove{Target: a.PublicKey(), CutoffSeq: seen.Seq, TargetPrev: vo.state(t).LastAct(a.PublicKey())})
	if !lateRemove.Position().Less(removal.Position()) || !lateMsg.Position().Less(removal.Position()) {
		t.Fatal("test setup: a's late events should sort before the removal")
	}
	// And one more of a's events that sorts after the removal.
	for range 6 {
		c.say(va, a, "much later")
	}
	vo.merge(va)
	s := vo.state(t)
	mustActive(t, s, a, false)
	mustActive(t, s, b, true) // a's removal of b is above the cutoff: void
	mustVoid(t, s, lateRemove, true)
	if err := s.CheckContent(seen); err != nil {
		t.Fatalf("message at the cutoff: %v", err)
	}
	if err := s.CheckContent(lateMsg); !errors.Is(err, ErrVoid) {
		t.Fatalf("message above the cutoff: %v, want ErrVoid", err)
	}
	// Same state whatever the order of the events.
	for range 20 {
		s2, err := Fold(shuffled(vo.authority()))
		if err != nil {
			t.Fatal(err)
		}
		if s2.Hash() != s.Hash() {
			t.Fatal("fold depends on order")
		}
	}
}

func TestSetRoleAndDemotionCutoff(t *testing.T) {
	c, v := newCommunity(t, 0)
	m, x := newPerson(t, "m"), newPerson(t, "x")
	c.admit(v, c.owner, m, RoleMember)
	c.admit(v, c.owner, x, RoleMember)
	selfPromote := c.write(v, m, KindSetRole, &SetRole{Target: m.PublicKey(), Role: RoleModerator})
	mustVoid(t, v.state(t), selfPromote, true)
	promote := c.write(v, c.owner, KindSetRole, &SetRole{Target: m.PublicKey(), Role: RoleModerator, TargetPrev: v.state(t).LastAct(m.PublicKey())})
	s := v.state(t)
	mustVoid(t, s, promote, false)
	if s.RoleOf(m.PublicKey()) != RoleModerator {
		t.Fatal("promotion did not take")
	}
	toOwner := c.write(v, c.owner, KindSetRole, &SetRole{Target: m.PublicKey(), Role: RoleOwner, TargetPrev: s.LastAct(m.PublicKey())})
	mustVoid(t, v.state(t), toOwner, true)

	// Partition: the moderator removes x while the owner demotes the moderator with a cutoff
	// that does not include that removal: the removal is void everywhere.
	vm, vo := v.clone(), v.clone()
	cut := vm.lastOf(m.PublicKey()).Seq
	removeX := c.write(vm, m, KindRemove, &Remove{Target: x.PublicKey(), CutoffSeq: 0, TargetPrev: vm.state(t).LastAct(x.PublicKey())})
	msg := c.say(vm, m, "a moderator's message stays")
	demote := c.write(vo, c.owner, KindSetRole, &SetRole{Target: m.PublicKey(), Role: RoleMember, CutoffSeq: cut, TargetPrev: vo.state(t).LastAct(m.PublicKey())})
	vo.merge(vm)
	s = vo.state(t)
	mustVoid(t, s, demote, false)
	mustVoid(t, s, removeX, true)
	mustActive(t, s, x, true)
	if s.RoleOf(m.PublicKey()) != RoleMember {
		t.Fatal("demotion did not take")
	}
	if err := s.CheckContent(msg); err != nil {
		t.Fatalf("a demoted moderator's plain message: %v", err)
	}
}

// TestHigherRoleWins: a moderator removes x while the owner, concurrently, promotes x. The
// owner's act wins on every peer, whichever sorts first.
func TestHigherRoleWins(t *testing.T) {
	for i := range 6 {
		c, v := newCommunity(t, 0)
		mod, x := newPerson(t, "mod"), newPerson(t, "x")
		c.admit(v, c.owner, mod, RoleModerator)
		c.admit(v, c.owner, x, RoleMember)
		vm, vo := v.clone(), v.clone()
		// Vary which side has the longer history, so either act may sort first.
		for range i {
			c.say(vm, mod, "m")
		}
		for range 5 - i {
			c.say(vo, c.owner, "o")
		}
		removal := c.write(vm, mod, KindRemove, &Remove{Target: x.PublicKey(), TargetPrev: vm.state(t).LastAct(x.PublicKey())})
		promote := c.write(vo, c.owner, KindSetRole, &SetRole{Target: x.PublicKey(), Role: RoleModerator, TargetPrev: vo.state(t).LastAct(x.PublicKey())})
		vo.merge(vm)
		s := vo.state(t)
		mustVoid(t, s, removal, true)
		mustVoid(t, s, promote, false)
		mustActive(t, s, x, true)
		if s.RoleOf(x.PublicKey()) != RoleModerator {
			t.Fatalf("x role = %v", s.RoleOf(x.PublicKey()))
		}
	}
	// Sequential acts are not conflicts: a moderator removes a member the owner demoted earlier.
	c, v := newCommunity(t, 0)
	mod, x := newPerson(t, "mod"), newPerson(t, "x")
	c.admit(v, c.owner, mod, RoleModerator)
	c.admit(v, c.owner, x, RoleModerator)
	c.write(v, c.owner, KindSetRole, &SetRole{Target: x.PublicKey(), Role: RoleMember, CutoffSeq: 0, TargetPrev: v.state(t).LastAct(x.PublicKey())})
	removal := c.write(v, mod, KindRemove, &Remove{Target: x.PublicKey(), TargetPrev: v.state(t).LastAct(x.PublicKey())})
	s := v.state(t)
	mustVoid(t, s, removal, false)
	mustActive(t, s, x, false)
}

func TestRevokeChannelsAndEdits(t *testing.T) {
	c, v := newCommunity(t, 0)
	m, mod := newPerson(t, "m"), newPerson(t, "mod")
	c.admit(v, c.owner, m, RoleMember)
	c.admit(v, c.owner, mod, RoleModerator)
	var id invite.ID
	rand.Read(id[:])
	byMember := c.write(v, m, KindRevokeInvite, &RevokeInvite{Invite: id})
	s := v.state(t)
	mustVoid(t, s, byMember, true)
	if s.Revoked(id) {
		t.Fatal("a member revoked an invite")
	}
	c.write(v, mod, KindRevokeInvite, &RevokeInvite{Invite: id})
	create := c.write(v, mod, KindChannelCreate, &ChannelCreate{Name: "help", Type: ChannelChat})
	badCreate := c.write(v, m, KindChannelCreate, &ChannelCreate{Name: "mine"})
	chID := ChannelID(create.ID, 0)
	c.write(v, mod, KindChannelUpdate, &ChannelUpdate{Channel: chID, Name: "support", Archived: true})
	modEdit := c.write(v, mod, KindCommunityEdit, &CommunityEdit{Name: "Hijacked"})
	c.write(v, c.owner, KindCommunityEdit, &CommunityEdit{Name: "Makers 2", About: "new", MaxMembers: 50})
	s = v.state(t)
	if !s.Revoked(id) {
		t.Fatal("moderator's revocation did not take")
	}
	mustVoid(t, s, badCreate, true)
	mustVoid(t, s, modEdit, true)
	ch, ok := s.Channel(chID)
	if !ok || ch.Name != "support" || !ch.Archived || len(s.Channels()) != 3 {
		t.Fatalf("channel = %+v (%d channels)", ch, len(s.Channels()))
	}
	if s.Name != "Makers 2" || s.MaxMembers != 50 {
		t.Fatalf("community edit: %q %d", s.Name, s.MaxMembers)
	}
	// Announcements are for moderators and the owner.
	ann := NewContent(KindMessage)
	ann.Channel = ChannelID(c.genesis.ID, 1)
	kudos := c.write(v, m, KindKudos, NewContent(KindKudos))
	if err := s.CheckContent(kudos); !errors.Is(err, ErrRole) {
		t.Fatalf("member kudos: %v, want ErrRole", err)
	}
}

func TestKeysRotationAndRepair(t *testing.T) {
	c, v := newCommunity(t, 0)
	a, b := newPerson(t, "a"), newPerson(t, "b")
	c.admit(v, c.owner, a, RoleMember)
	c.admit(v, c.owner, b, RoleMember)
	s := v.state(t)
	cut := v.lastOf(b.PublicKey())
	var cutSeq uint64
	if cut != nil {
		cutSeq = cut.Seq
	}
	c.write(v, c.owner, KindRemove, &Remove{Target: b.PublicKey(), CutoffSeq: cutSeq, TargetPrev: s.LastAct(b.PublicKey())})
	s = v.state(t)
	if nr := s.NeedsRotation(); len(nr) != 1 || !nr[0].Equal(b.PublicKey()) {
		t.Fatalf("after removal NeedsRotation = %x", nr)
	}
	// Rotate to the owner only: a lacks the key until a share.
	rot, newKey, err := NewRotation(s.Current, c.key, []Recipient{{c.owner.PublicKey(), c.owner.X25519Public()}}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	re := c.write(v, c.owner, KindRotateKey, rot)
	s = v.state(t)
	if s.Current != re.ID || len(s.NeedsRotation()) != 0 {
		t.Fatalf("current = %s, needs rotation %x", s.Current.Short(), s.NeedsRotation())
	}
	if mk := missingCurrent(s); len(mk) != 1 || !mk[0].Equal(a.PublicKey()) {
		t.Fatalf("lacking the current key: %x, want a", mk)
	}
	eph, sealed, _ := SealTo(newKey, a.X25519Public(), rand.Reader)
	forged := c.write(v, a, KindShareKey, &ShareKey{Epoch: re.ID, EphemeralKey: eph, Key: SealedKey{a.PublicKey(), sealed}})
	mustVoid(t, v.state(t), forged, true) // a does not hold the key it "shares"
	c.write(v, c.owner, KindShareKey, &ShareKey{Epoch: re.ID, EphemeralKey: eph, Key: SealedKey{a.PublicKey(), sealed}})
	if mk := missingCurrent(v.state(t)); len(mk) != 0 {
		t.Fatalf("lacking the current key after the share: %x", mk)
	}
}

func TestKeyring(t *testing.T) {
	c, v := newCommunity(t, 0)
	a, b := newPerson(t, "a"), newPerson(t, "b")
	c.admit(v, c.owner, a, RoleMember)
	c.admit(v, c.owner, b, RoleMember)
	old := c.say(v, c.owner, "epoch one")
	s := v.state(t)
	c.write(v, c.owner, KindRemove, &Remove{Target: b.PublicKey(), TargetPrev: s.LastAct(b.PublicKey())})
	rot, newKey, err := NewRotation(s.Current, c.key, []Recipient{
		{c.owner.PublicKey(), c.owner.X25519Public()}, {a.PublicKey(), a.X25519Public()},
	}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	re := c.write(v, c.owner, KindRotateKey, rot)
	// A message in the new epoch.
	body := NewContent(KindMessage)
	body.Channel, body.Text = ChannelID(c.genesis.ID, 0), "epoch two"
	sealed, err := SealContent(newKey, c.genesis.ID, re.ID, c.owner.PublicKey(), body, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c.clock = c.clock.Add(time.Second)
	fresh, err := Build(c.owner, Draft{Community: c.genesis.ID, Kind: KindMessage, Body: sealed, Epoch: re.ID, Time: c.clock,
		Prev: v.lastOf(c.owner.PublicKey()), Deps: v.heads()})
	if err != nil {
		t.Fatal(err)
	}
	learn := func(p *person) *Keyring {
		k := NewKeyring(p)
		// Learn in reverse order: the rotation before the join that carries the old key.
		auth := v.authority()
		for i := len(auth) - 1; i >= 0; i-- {
			if _, err := k.Learn(auth[i]); err != nil {
				t.Fatal(err)
			}
		}
		return k
	}
	ka, kb, ko := learn(a), learn(b), learn(c.owner)
	for name, k := range map[string]*Keyring{"a": ka, "owner": ko} {
		if got, err := k.Open(fresh); err != nil || got.Text != "epoch two" {
			t.Fatalf("%s opens the new epoch: %v", name, err)
		}
		if got, err := k.Open(old); err != nil || got.Text != "epoch one" {
			t.Fatalf("%s reads back the old epoch: %v", name, err)
		}
	}
	if _, err := kb.Open(fresh); !errors.Is(err, ErrNoKey) {
		t.Fatalf("the removed member opens the new epoch: %v", err)
	}
	if got, err := kb.Open(old); err != nil || got.Text != "epoch one" {
		t.Fatalf("the removed member keeps what it had: %v", err)
	}
	// Tampered ciphertext does not open.
	bad := *fresh
	bad.Body = append([]byte(nil), fresh.Body...)
	bad.Body[len(bad.Body)-1] ^= 1
	if _, err := ka.Open(&bad); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("tampered content: %v", err)
	}
}

// TestStolenOwnerKeyRecovery: a stolen owner key removes three members; the recovery key moves
// ownership to a new key with a cutoff before the theft, and every removal is undone.
func TestStolenOwnerKeyRecovery(t *testing.T) {
	c, v := newCommunity(t, 0)
	ms := []*person{newPerson(t, "a"), newPerson(t, "b"), newPerson(t, "c")}
	for _, m := range ms {
		c.admit(v, c.owner, m, RoleMember)
	}
	honest := v.lastOf(c.owner.PublicKey()).Seq
	var removals []*Event
	for _, m := range ms {
		removals = append(removals, c.write(v, c.owner, KindRemove, &Remove{Target: m.PublicKey(), TargetPrev: v.state(t).LastAct(m.PublicKey())}))
	}
	s := v.state(t)
	for _, m := range ms {
		mustActive(t, s, m, false)
	}
	rec, err := RecoverySigner(strings.ToUpper(c.words))
	if err != nil {
		t.Fatal(err)
	}
	if !rec.PublicKey().Equal(s.Recovery) {
		t.Fatal("the words do not give the genesis recovery key")
	}
	newOwner := newPerson(t, "owner-2")
	tr := c.write(v, rec, KindTransferOwner, &TransferOwner{
		NewOwner: newOwner.PublicKey(), NewOwnerX25519: newOwner.X25519Public(), OldOwnerCutoff: honest,
	})
	s = v.state(t)
	mustVoid(t, s, tr, false)
	for i, m := range ms {
		mustVoid(t, s, removals[i], true)
		mustActive(t, s, m, true)
	}
	if !s.Owner.Equal(newOwner.PublicKey()) || s.RoleOf(newOwner.PublicKey()) != RoleOwner || s.RoleOf(c.owner.PublicKey()) != RoleNone {
		t.Fatal("ownership did not move")
	}
	// The old key can do nothing any more; a transfer signed by anyone else is refused.
	late := c.write(v, c.owner, KindRemove, &Remove{Target: ms[0].PublicKey(), TargetPrev: v.state(t).LastAct(ms[0].PublicKey())})
	fake := c.write(v, ms[1], KindTransferOwner, &TransferOwner{NewOwner: ms[1].PublicKey(), NewOwnerX25519: ms[1].X25519Public()})
	s = v.state(t)
	mustVoid(t, s, late, true)
	mustVoid(t, s, fake, true)
	mustActive(t, s, ms[0], true)
}

func TestRecoveryWords(t *testing.T) {
	_, _, words, err := NewCommunity(newPerson(t, "o"), newPerson(t, "o").X25519Public(), GenesisParams{Name: "x", Time: t0}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ws := strings.Fields(words)
	if len(ws) != RecoveryWords {
		t.Fatalf("%d words", len(ws))
	}
	good, err := RecoverySigner(words)
	if err != nil {
		t.Fatal(err)
	}
	// The first four letters of each word are enough.
	short := make([]string, len(ws))
	for i, w := range ws {
		short[i] = w[:min(4, len(w))]
		if len(w) > 4 {
			short[i] += "x" // a typo after the fourth letter
		}
	}
	s2, err := RecoverySigner(strings.Join(short, "  "))
	if err != nil || !s2.PublicKey().Equal(good.PublicKey()) {
		t.Fatalf("abbreviated words: %v", err)
	}
	swapped := append([]string(nil), ws...)
	swapped[0], swapped[1] = swapped[1], swapped[0]
	if swapped[0] != swapped[1] {
		if _, err := RecoverySigner(strings.Join(swapped, " ")); !errors.Is(err, ErrRecoveryWords) {
			t.Fatalf("swapped words: %v", err)
		}
	}
	if _, err := RecoverySigner(strings.Join(ws[:17], " ")); !errors.Is(err, ErrRecoveryWords) {
		t.Fatalf("17 words: %v", err)
	}
	if _, err := RecoverySigner(strings.Replace(words, ws[3], "xylophone", 1)); !errors.Is(err, ErrRecoveryWords) {
		t.Fatalf("unknown word: %v", err)
	}
	seen := map[string]bool{}
	for _, w := range wordList {
		p := w[:min(4, len(w))]
		if seen[p] {
			t.Fatalf("two words start with %q", p)
		}
		seen[p] = true
	}
}

// TestEquivocation: an author signs two events with one sequence number. A proof voids its
// events from the fork on, on every peer, whatever arrived first.
func TestEquivocation(t *testing.T) {
	c, v := newCommunity(t, 0)
	mod, x, y := newPerson(t, "mod"), newPerson(t, "x"), newPerson(t, "y")
	c.admit(v, c.owner, mod, RoleModerator)
	c.admit(v, c.owner, x, RoleMember)
	c.admit(v, c.owner, y, RoleMember)
	early := c.say(v, mod, "before the fork")
	v1, v2 := v.clone(), v.clone()
	a := c.write(v1, mod, KindRemove, &Remove{Target: x.PublicKey(), TargetPrev: v1.state(t).LastAct(x.PublicKey())})
	b := c.write(v2, mod, KindRemove, &Remove{Target: y.PublicKey(), TargetPrev: v2.state(t).LastAct(y.PublicKey())})
	if a.Seq != b.Seq {
		t.Fatal("test setup: not the same sequence number")
	}
	ha, sa := a.RawHeader()
	hb, sb := b.RawHeader()
	proofView := v.clone()
	c.write(proofView, c.owner, KindEquivocation, &Equivocation{HeaderA: ha, SigA: sa, HeaderB: hb, SigB: sb})

	check := func(s *State, branches ...*Event) {
		t.Helper()
		for _, e := range branches {
			mustVoid(t, s, e, true)
		}
		mustActive(t, s, x, true)
		mustActive(t, s, y, true)
		if s.Forked(mod.PublicKey()) != a.Seq {
			t.Fatalf("fork = %d", s.Forked(mod.PublicKey()))
		}
		if err := s.CheckContent(early); err != nil {
			t.Fatalf("event before the fork: %v", err)
		}
	}
	// Peer 1 has only one branch and the proof.
	p1 := v1.clone()
	p1.merge(proofView)
	check(p1.state(t), a)
	// Peer 2 has both branches, no proof.
	p2 := v1.clone()
	p2.merge(v2)
	check(p2.state(t), a, b)
	// Peer 3 has everything: the same state as the others.
	p3 := p2.clone()
	p3.merge(proofView)
	check(p3.state(t), a, b)
	// A forged proof (one header altered) proves nothing.
	bad := append([]byte(nil), hb...)
	bad[len(bad)-1] ^= 1
	fp := c.write(v, c.owner, KindEquivocation, &Equivocation{HeaderA: ha, SigA: sa, HeaderB: bad, SigB: sb})
	s := v.state(t)
	mustVoid(t, s, fp, true)
	if s.Forked(mod.PublicKey()) != 0 {
		t.Fatal("a forged proof voided an author")
	}
}

func TestLamportRule(t *testing.T) {
	c, v := newCommunity(t, 0)
	msg := c.say(v, c.owner, "one")
	h := msg.Header
	h.Lamport += 5 // a jumped clock, to win ties or reorder pages
	if err := CheckCausal(&h, v.lookup); !errors.Is(err, ErrLamport) {
		t.Fatalf("jumped Lamport: %v, want ErrLamport", err)
	}
	h.Lamport = msg.Lamport - 1
	if err := CheckCausal(&h, v.lookup); !errors.Is(err, ErrLamport) {
		t.Fatalf("low Lamport: %v, want ErrLamport", err)
	}
	// Build never lets an author choose its Lamport value.
	next := c.say(v, c.owner, "two")
	if next.Lamport != msg.Lamport+1 {
		t.Fatalf("Lamport = %d after %d", next.Lamport, msg.Lamport)
	}
	var missing *MissingError
	if err := CheckCausal(&next.Header, newView(c.genesis).lookup); !errors.As(err, &missing) || missing.IDs[0] != msg.ID {
		t.Fatalf("unknown prev: %v, want *MissingError naming it", err)
	}
}

// TestKeyGapsCoverSideBranches: the owner rotates while, concurrently, a moderator admits b and
// then rotates itself. The moderator's rotation ends up current and b holds it, but the owner's
// epoch is on a side branch that b cannot unwrap from any key it holds — and it sorts before b's
// join. KeyGaps lists it for b (the full history policy), and nothing else: epochs on the chain
// behind a key a member holds are never listed.
func TestKeyGapsCoverSideBranches(t *testing.T) {
	c, v := newCommunity(t, 0)
	a, b := newPerson(t, "a"), newPerson(t, "b")
	c.admit(v, c.owner, a, RoleMember)
	c.write(v, c.owner, KindSetRole, &SetRole{Target: a.PublicKey(), Role: RoleModerator, TargetPrev: v.state(t).LastAct(a.PublicKey())})
	if gaps := v.state(t).KeyGaps(); len(gaps) != 0 {
		t.Fatalf("gaps before any rotation: %v", gaps)
	}
	owner := Recipient{c.owner.PublicKey(), c.owner.X25519Public()}
	side := v.clone()
	rot1, _, err := NewRotation(c.genesis.ID, c.key, []Recipient{owner, {a.PublicKey(), a.X25519Public()}}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r1 := c.write(v, c.owner, KindRotateKey, rot1)
	c.say(side, a, "one")
	c.say(side, a, "two")
	join := c.admit(side, a, b, RoleMember)
	rot2, _, err := NewRotation(c.genesis.ID, c.key, []Recipient{owner, {a.PublicKey(), a.X25519Public()}, {b.PublicKey(), b.X25519Public()}}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r2 := c.write(side, a, KindRotateKey, rot2)
	v.merge(side)
	s := v.state(t)
	if !r1.Position().Less(join.Position()) || s.Current != r2.ID {
		t.Fatalf("the setting is off: owner's rotation before the join %v, current is the moderator's %v", r1.Position().Less(join.Position()), s.Current == r2.ID)
	}
	gaps := s.KeyGaps()
	if len(gaps) != 1 || gaps[0].Epoch != r1.ID || !gaps[0].Member.Equal(b.PublicKey()) {
		t.Fatalf("gaps = %+v, want only b lacking the owner's side branch %s", gaps, r1.ID.Short())
	}
}

// missingCurrent lists the members that lack the current epoch's key, as KeyGaps says.
func missingCurrent(s *State) []ed25519.PublicKey {
	var out []ed25519.PublicKey
	for _, g := range s.KeyGaps() {
		if g.Epoch == s.Current {
			out = append(out, g.Member)
		}
	}
	return out
}

// TestChannelNamesConverge: a moderator and the owner each make a #Design on one side of a
// partition (and a second moderator, on a third side, renames #general to "DESIGN"). After they merge, every peer shows
// the same names: the channel whose act sorts first keeps the name, the others get " (2)" and
// " (3)" and say what they were asked to be. An archive keeps a channel's name as shown.
func TestChannelNamesConverge(t *testing.T) {
	for i := range 4 {
		c, v := newCommunity(t, 0)
		mod, mod2 := newPerson(t, "mod"), newPerson(t, "mod2")
		c.admit(v, c.owner, mod, RoleModerator)
		c.admit(v, c.owner, mod2, RoleModerator)
		vm, vo, vr := v.clone(), v.clone(), v.clone()
		for range i { // vary which side's act sorts first
			c.say(vm, mod, "m")
		}
		for range 3 - i {
			c.say(vo, c.owner, "o")
		}
		byMod := c.write(vm, mod, KindChannelCreate, &ChannelCreate{Name: "Design", Type: ChannelChat})
		byOwner := c.write(vo, c.owner, KindChannelCreate, &ChannelCreate{Name: "design", Type: ChannelAnnouncements})
		general := ChannelID(c.genesis.ID, 0)
		c.write(vr, mod2, KindChannelUpdate, &ChannelUpdate{Channel: general, Name: "DESIGN"})
		one, two := vm.clone(), vo.clone()
		one.merge(vo)
		one.merge(vr)
		two.merge(vr)
		two.merge(vm)
		s1, s2 := one.state(t), two.state(t)
		if s1.Hash() != s2.Hash() {
			t.Fatalf("run %d: the two merges disagree:\n%+v\n%+v", i, s1.Channels(), s2.Channels())
		}
		names := map[string]Channel{}
		for _, ch := range s1.Channels() {
			names[NameKey(ch.Name)] = ch
		}
		if len(names) != len(s1.Channels()) {
			t.Fatalf("run %d: two channels share a name: %+v", i, s1.Channels())
		}
		for _, id := range []Hash{ChannelID(byMod.ID, 0), ChannelID(byOwner.ID, 0), general} {
			ch, ok := s1.Channel(id)
			if !ok {
				r1, v1 := s1.Void(byMod.ID)
				r2, v2 := s1.Void(byOwner.ID)
				t.Fatalf("run %d: channel %s missing; voids: mod %v %q, owner %v %q", i, id.Short(), v1, r1, v2, r2)
			}
			if NameKey(ch.Name) != NameKey("design") && (ch.Asked == "" || NameKey(ch.Asked) != NameKey("design")) {
				t.Fatalf("run %d: channel %+v is neither design nor a numbered design", i, ch)
			}
		}
		// Archiving the numbered one keeps its number (the name it is shown under).
		var numbered Channel
		for _, ch := range s1.Channels() {
			if ch.Asked != "" {
				numbered = ch
			}
		}
		c.write(one, c.owner, KindChannelUpdate, &ChannelUpdate{Channel: numbered.ID, Name: numbered.Name, Archived: true})
		after, _ := one.state(t).Channel(numbered.ID)
		if after.Name != numbered.Name || !after.Archived {
			t.Fatalf("run %d: archived %+v became %+v", i, numbered, after)
		}
	}
}
