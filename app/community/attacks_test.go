package community

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kith-app/kith/app/invite"
)

// A removed moderator's late removal of b (void in the end) must not leave b's join of c void:
// a void whose cause ended up void is freed.
func TestVoidWhoseCauseIsVoidIsFreed(t *testing.T) {
	c, v := newCommunity(t, 0)
	mod, b, cc := newPerson(t, "mod"), newPerson(t, "b"), newPerson(t, "c")
	c.admit(v, c.owner, mod, RoleModerator)
	seen := c.say(v, mod, "hello")
	c.admit(v, c.owner, b, RoleMember)
	jc := c.write(v, b, KindJoin, c.joinBody(c.invite(c.owner, RoleMember, 1), cc, b))
	vm, vo := v.clone(), v.clone()
	for range 5 {
		c.say(vo, c.owner, "padding")
	}
	removal := c.write(vo, c.owner, KindRemove, &Remove{Target: mod.PublicKey(), CutoffSeq: seen.Seq, TargetPrev: vo.state(t).LastAct(mod.PublicKey())})
	late := c.write(vm, mod, KindRemove, &Remove{Target: b.PublicKey(), CutoffSeq: 0, TargetPrev: vm.state(t).LastAct(b.PublicKey())})
	if !late.Position().Less(removal.Position()) {
		t.Fatal("test setup: the late removal should sort first")
	}
	vo.merge(vm)
	s := vo.state(t)
	mustVoid(t, s, late, true)
	mustActive(t, s, b, true)
	mustVoid(t, s, jc, false)
	mustActive(t, s, cc, true)
	for range 10 {
		if s2, _ := Fold(shuffled(vo.authority())); s2.Hash() != s.Hash() {
			t.Fatal("fold depends on order")
		}
	}
}

// A stolen owner key removes a moderator with cutoff 0; the recovery transfer undoes the removal
// and everything it voided.
func TestRecoveryUndoesWhatAStolenKeyVoided(t *testing.T) {
	c, v := newCommunity(t, 0)
	mod, x, newOwner := newPerson(t, "mod"), newPerson(t, "x"), newPerson(t, "new")
	c.admit(v, c.owner, mod, RoleModerator)
	c.say(v, mod, "hi")
	jx := c.write(v, mod, KindJoin, c.joinBody(c.invite(c.owner, RoleMember, 1), x, mod))
	cut := v.lastOf(c.owner.PublicKey()).Seq
	thief := v.clone()
	rm := c.write(thief, c.owner, KindRemove, &Remove{Target: mod.PublicKey(), CutoffSeq: 0, TargetPrev: thief.state(t).LastAct(mod.PublicKey())})
	rec, err := RecoverySigner(c.words)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		c.say(v, mod, "padding")
	}
	c.write(v, rec, KindTransferOwner, &TransferOwner{NewOwner: newOwner.PublicKey(), NewOwnerX25519: newOwner.X25519Public(), OldOwnerCutoff: cut})
	v.merge(thief)
	s := v.state(t)
	mustVoid(t, s, rm, true)
	mustActive(t, s, mod, true)
	mustVoid(t, s, jx, false)
	mustActive(t, s, x, true)
}

// An authority event relayed without its body is left out until the whole event comes: the
// fold does not depend on which copy arrived first.
func TestStrippedAuthorityBodyWaits(t *testing.T) {
	c, v := newCommunity(t, 0)
	a := newPerson(t, "a")
	j := c.admit(v, c.owner, a, RoleMember)
	stripped, err := Decode(j.EncodeWithoutBody())
	if err != nil {
		t.Fatal(err)
	}
	s1, _ := Fold([]*Event{c.genesis, j, stripped})
	s2, _ := Fold([]*Event{c.genesis, stripped, j})
	if s1.Hash() != s2.Hash() || s1.RoleOf(a.PublicKey()) != RoleMember {
		t.Fatal("the stripped copy changed the fold")
	}
	s3, _ := Fold([]*Event{c.genesis, stripped})
	if m := s3.MissingBodies(); len(m) != 1 || m[0] != j.ID || s3.RoleOf(a.PublicKey()) != RoleNone {
		t.Fatalf("missing bodies = %v", m)
	}
	f, _ := NewFolder(c.genesis)
	if _, err := f.Add(stripped); !errors.Is(err, ErrNoBody) {
		t.Fatalf("Folder took a bodiless authority event: %v", err)
	}
	if s, _ := f.Add(j); s.Hash() != s1.Hash() {
		t.Fatal("Folder ignored the whole event after the stripped copy")
	}
}

// A moderator may not evict a moderator by removing, with cutoff 0, the member who admitted it.
func TestRemovalDoesNotEvictHigherJoins(t *testing.T) {
	c, v := newCommunity(t, 0)
	m1, b, m2, p := newPerson(t, "m1"), newPerson(t, "b"), newPerson(t, "m2"), newPerson(t, "p")
	c.admit(v, c.owner, m1, RoleModerator)
	c.admit(v, c.owner, b, RoleMember)
	c.write(v, b, KindJoin, c.joinBody(c.invite(c.owner, RoleModerator, 1), m2, b))
	jp := c.write(v, b, KindJoin, c.joinBody(c.invite(c.owner, RoleMember, 1), p, b))
	c.write(v, m1, KindRemove, &Remove{Target: b.PublicKey(), CutoffSeq: 0, TargetPrev: v.state(t).LastAct(b.PublicKey())})
	s := v.state(t)
	if s.RoleOf(m2.PublicKey()) != RoleModerator {
		t.Fatalf("m2 is %v", s.RoleOf(m2.PublicKey()))
	}
	// The member b admitted above the cutoff goes with b: the remover's rank allows that.
	mustVoid(t, s, jp, true)
}

// A member cannot plant a false key: the keyring checks every key against its epoch's
// commitment, whatever arrives first; and keys are shared with members only.
func TestKeyringRefusesFalseKeys(t *testing.T) {
	c, v := newCommunity(t, 0)
	a, vic, outsider := newPerson(t, "a"), newPerson(t, "victim"), newPerson(t, "outsider")
	c.admit(v, c.owner, a, RoleMember)
	c.admit(v, c.owner, vic, RoleMember)
	var fake Key
	rand.Read(fake[:])
	eph, sealed, _ := SealTo(fake, vic.X25519Public(), rand.Reader)
	sh := c.write(v, a, KindShareKey, &ShareKey{Epoch: c.genesis.ID, EphemeralKey: eph, Key: SealedKey{Member: vic.PublicKey(), Sealed: sealed}})
	kr := NewKeyring(vic)
	kr.Learn(sh) // the false key arrives before the genesis' commitment
	for _, e := range v.authority() {
		kr.Learn(e)
	}
	if k, ok := kr.Key(c.genesis.ID); !ok || k != c.key {
		t.Fatal("the victim's keyring does not hold the true key")
	}
	eph2, sealed2, _ := SealTo(c.key, outsider.X25519Public(), rand.Reader)
	toOutsider := c.write(v, a, KindShareKey, &ShareKey{Epoch: c.genesis.ID, EphemeralKey: eph2, Key: SealedKey{Member: outsider.PublicKey(), Sealed: sealed2}})
	s := v.state(t)
	mustVoid(t, s, toOutsider, true)
	if len(s.NeedsRotation()) != 0 {
		t.Fatal("a share to a non-member forced a rotation")
	}
}

// Content is judged by the role its author had when writing it.
func TestContentJudgedByRoleAtThePoint(t *testing.T) {
	c, v := newCommunity(t, 0)
	m := newPerson(t, "m")
	c.admit(v, c.owner, m, RoleMember)
	early := c.write(v, m, KindPin, NewContent(KindPin))
	c.write(v, c.owner, KindSetRole, &SetRole{Target: m.PublicKey(), Role: RoleModerator, TargetPrev: v.state(t).LastAct(m.PublicKey())})
	late := c.write(v, m, KindPin, NewContent(KindPin))
	s := v.state(t)
	if err := s.CheckContent(early); !errors.Is(err, ErrRole) {
		t.Fatalf("a member's pin before its promotion: %v", err)
	}
	if err := s.CheckContent(late); err != nil {
		t.Fatalf("a moderator's pin: %v", err)
	}
	// Demoted with a cutoff that includes the pin: the pin stands; a later one does not.
	cut := v.lastOf(m.PublicKey()).Seq
	c.write(v, c.owner, KindSetRole, &SetRole{Target: m.PublicKey(), Role: RoleMember, CutoffSeq: cut, TargetPrev: v.state(t).LastAct(m.PublicKey())})
	after := c.write(v, m, KindPin, NewContent(KindPin))
	s = v.state(t)
	if err := s.CheckContent(late); err != nil {
		t.Fatalf("a pin within the demotion's cutoff: %v", err)
	}
	if err := s.CheckContent(after); !errors.Is(err, ErrRole) {
		t.Fatalf("a pin after the demotion: %v", err)
	}
}

// Someone holding an invite cannot enrol another person's key with their own X25519 key.
func TestJoinerMustProveItsKey(t *testing.T) {
	c, v := newCommunity(t, 0)
	attacker, victim := newPerson(t, "attacker"), newPerson(t, "victim")
	inv := c.invite(c.owner, RoleMember, 2)
	req := joinRequest(t, inv, attacker, c.owner)
	req.Joiner = victim.PublicKey()
	req.Proof = inv.ProveJoin(victim.PublicKey(), attacker.X25519Public(), c.owner.PublicKey())
	if err := v.state(t).CheckJoin(req, c.owner.PublicKey(), c.clock); !errors.Is(err, invite.ErrForged) {
		t.Fatalf("CheckJoin: %v, want ErrForged", err)
	}
	j, _ := NewJoin(req, c.key, rand.Reader)
	bad := c.write(v, c.owner, KindJoin, j)
	mustVoid(t, v.state(t), bad, true)
	if err := v.state(t).CheckJoin(joinRequest(t, inv, victim, c.owner), c.owner.PublicKey(), c.clock); err != nil {
		t.Fatalf("the victim's own join: %v", err)
	}
}

// Bodies decode only in canonical, in-range form.
func TestBodiesAreCanonical(t *testing.T) {
	g := &Genesis{Name: "x", History: HistoryFull, OwnerX25519: make([]byte, 32), Recovery: make([]byte, 32)}
	for name, mutate := range map[string]func(*Genesis){
		"member cap out of range": func(g *Genesis) { g.MaxMembers = maxMembersCap + 1 },
		"unknown history":         func(g *Genesis) { g.History = 9 },
		"unknown channel kind":    func(g *Genesis) { g.Channels = []ChannelSpec{{"c", 77}} },
	} {
		bad := *g
		mutate(&bad)
		if _, err := DecodeBody(KindGenesis, EncodeBody(&bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	tr := EncodeBody(&TransferOwner{NewOwner: make([]byte, 32), NewOwnerX25519: make([]byte, 32), NewRecovery: []byte{1, 2, 3}})
	if _, err := DecodeBody(KindTransferOwner, tr); !errors.Is(err, ErrMalformed) {
		t.Errorf("a 3-byte recovery key: %v", err)
	}
}

// BenchmarkRestarts: a moderator admits k members, each writes an authority event, and the
// moderator removes each with cutoff 0: k restarts of the fold.
func BenchmarkRestarts(b *testing.B) {
	c, v := newCommunity(b, 0)
	mod := newPerson(b, "mod")
	c.admit(v, c.owner, mod, RoleModerator)
	inv := c.invite(mod, RoleMember, 0)
	for range 50 {
		p := newPerson(b, "p")
		c.write(v, mod, KindJoin, c.joinBody(inv, p, mod))
		eph, sealed, _ := SealTo(c.key, p.X25519Public(), rand.Reader)
		c.write(v, p, KindShareKey, &ShareKey{Epoch: c.genesis.ID, EphemeralKey: eph, Key: SealedKey{Member: p.PublicKey(), Sealed: sealed}})
		c.write(v, mod, KindRemove, &Remove{Target: p.PublicKey(), CutoffSeq: 0, TargetPrev: Hash{1}})
	}
	evs := v.authority()
	if s, _ := Fold(evs); s.ActiveCount() != 2 {
		b.Fatalf("setup: %d active members", s.ActiveCount())
	}
	b.Run("Fold", func(b *testing.B) {
		for b.Loop() {
			Fold(evs)
		}
	})
	b.Run("FolderInOrder", func(b *testing.B) {
		for b.Loop() {
			f, _ := NewFolder(c.genesis)
			for _, e := range evs[1:] {
				f.Add(e)
			}
		}
	})
}

func TestJoinRequestRoundTrip(t *testing.T) {
	c, v := newCommunity(t, 0)
	p := newPerson(t, "p")
	inv := c.invite(c.owner, RoleMember, 1)
	req := joinRequest(t, inv, p, c.owner)
	got, err := DecodeJoinRequest(req.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if err := v.state(t).CheckJoin(got, c.owner.PublicKey(), c.clock); err != nil {
		t.Fatalf("decoded request does not check: %v", err)
	}
	enc := req.Encode()
	for i := range enc {
		m := append([]byte(nil), enc...)
		m[i] ^= 0x40
		if d, err := DecodeJoinRequest(m); err == nil {
			if v.state(t).CheckJoin(d, c.owner.PublicKey(), c.clock) == nil {
				t.Fatalf("byte %d changed and the request still checks", i)
			}
		}
	}
	// Seed corpus for the fuzz target.
	if os.Getenv("KITH_WRITE_CORPUS") == "1" {
		dir := filepath.Join("testdata", "fuzz", "FuzzDecodeJoinRequest")
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "seed000"), []byte("go test fuzz v1\n[]byte("+strconvQuote(enc)+")\n"), 0o644)
	}
}
