package community

import (
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kith-app/kith/app/invite"
)

// approvalInvite issues an invite from issuer that needs approval and asks questions.
func (c *community) approvalInvite(issuer Signer, uses uint32, questions ...string) *invite.Invite {
	c.t.Helper()
	inv, err := invite.Issue(issuer, invite.Params{
		Community: c.genesis.ID, CommunityName: "Makers", Role: RoleMember, MaxUses: uses,
		NotBefore: t0.Add(-time.Hour), Expires: t0.Add(30 * 24 * time.Hour), Approval: true, Questions: questions,
	}, rand.Reader)
	if err != nil {
		c.t.Fatal(err)
	}
	return inv
}

// answered is p's request with answers to inv's questions, asked now (the community's clock).
func (c *community) answered(inv *invite.Invite, p *person, admitter Signer, answers ...string) JoinRequest {
	c.t.Helper()
	req := joinRequest(c.t, inv, p, admitter)
	if len(answers) > 0 {
		sig, err := SignAnswers(p, &inv.Signed, answers)
		if err != nil {
			c.t.Fatal(err)
		}
		req.Answers, req.AnswersSig = answers, sig
	}
	if inv.Approval {
		req.AskedAt = c.clock.Truncate(time.Second)
		sig, err := SignAsked(p, &inv.Signed, admitter.PublicKey(), req.AskedAt)
		if err != nil {
			c.t.Fatal(err)
		}
		req.AskedSig = sig
	}
	return req
}

// request has admitter write p's request (checked as an admitter checks it first).
func (c *community) request(v *view, admitter Signer, inv *invite.Invite, p *person, answers ...string) *Event {
	c.t.Helper()
	req := c.answered(inv, p, admitter, answers...)
	st := v.state(c.t)
	if err := st.CheckJoin(req, admitter.PublicKey(), c.clock); err != nil {
		c.t.Fatalf("CheckJoin: %v", err)
	}
	b, err := NewEntryRequest(req, st.Readers(), rand.Reader)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.write(v, admitter, KindJoinRequest, b)
}

func (c *community) approve(v *view, by Signer, request *Event) *Event {
	c.t.Helper()
	r, ok := v.state(c.t).RequestOf(request.ID)
	if !ok {
		c.t.Fatalf("no request %s", request.ID.Short())
	}
	b, err := NewApprove(r, c.key, rand.Reader)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.write(v, by, KindApprove, b)
}

func mustRequest(t tb, s *State, e *Event, want RequestState) Request {
	t.Helper()
	r, ok := s.RequestOf(e.ID)
	if !ok || r.State != want {
		reason, _ := s.Void(e.ID)
		t.Fatalf("request %s: %v (%v), want %v (void: %q)", e.ID.Short(), r.State, ok, want, reason)
	}
	return r
}

// TestApproval: a request waits, counts no use, and its approval admits the joiner — with the
// approver as admitter and the invite's issuer as who invited; a decline ends it with a reason;
// an invite that needs approval admits nobody with a plain join.
func TestApproval(t *testing.T) {
	c, v := newCommunity(t, 0)
	mod, bo, cy, dee := newPerson(t, "mod"), newPerson(t, "Bo"), newPerson(t, "Cy"), newPerson(t, "Dee")
	c.admit(v, c.owner, mod, RoleModerator)
	inv := c.approvalInvite(c.owner, 2, "How did you find us?")

	// A plain join with it is void.
	j := c.write(v, mod, KindJoin, c.joinBody(inv, dee, mod))
	mustVoid(t, v.state(t), j, true)
	mustActive(t, v.state(t), dee, false)

	req := c.request(v, mod, inv, bo, "A friend")
	st := v.state(t)
	r := mustRequest(t, st, req, RequestWaiting)
	mustActive(t, st, bo, false)
	if st.Uses(inv.ID) != 0 || !r.Admitter.Equal(mod.PublicKey()) || r.Name != "Bo" {
		t.Fatalf("waiting request: uses %d, %+v", st.Uses(inv.ID), r)
	}
	if w, ok := st.WaitingFor(bo.PublicKey()); !ok || w.ID != req.ID {
		t.Fatal("WaitingFor does not find Bo's request")
	}
	// A second request of the same joiner is refused while one waits.
	if err := st.CheckJoin(c.answered(inv, bo, c.owner, "again"), c.owner.PublicKey(), c.clock); err == nil {
		t.Fatal("a second request of one joiner passed CheckJoin")
	}

	ap := c.approve(v, c.owner, req)
	st = v.state(t)
	mustVoid(t, st, ap, false)
	mustActive(t, st, bo, true)
	mustRequest(t, st, req, RequestApproved)
	m, _ := st.Member(bo.PublicKey())
	if !m.Admitter.Equal(c.owner.PublicKey()) || m.Invite != inv.ID || !m.InviteCap.Issuer.Equal(c.owner.PublicKey()) || st.Uses(inv.ID) != 1 {
		t.Fatalf("after approval: admitter %x, invite %v, uses %d", m.Admitter[:4], m.Invite, st.Uses(inv.ID))
	}
	// Approving twice: the second is void.
	again := c.write(v, mod, KindApprove, &Approve{Request: req.ID, Joiner: bo.PublicKey()})
	mustVoid(t, v.state(t), again, true)

	// A decline, with its reason; an approval after it is void.
	req2 := c.request(v, mod, inv, cy, "Search")
	dec := c.write(v, mod, KindDecline, &Decline{Request: req2.ID, Reason: "We are full this month"})
	st = v.state(t)
	mustVoid(t, st, dec, false)
	if r := mustRequest(t, st, req2, RequestDeclined); r.Reason != "We are full this month" || !r.DecidedBy.Equal(mod.PublicKey()) {
		t.Fatalf("declined: %+v", r)
	}
	late := c.approve2(v, c.owner, req2, cy)
	mustVoid(t, v.state(t), late, true)
	mustActive(t, v.state(t), cy, false)
	// The joiner keeps its key: a member (not the owner or a moderator) cannot decide.
	req3 := c.request(v, mod, inv, dee, "Dee")
	if _, err := c.tryWrite(v, bo, KindDecline, &Decline{Request: req3.ID}); err != nil {
		t.Fatal(err)
	}
	mustRequest(t, v.state(t), req3, RequestWaiting)
}

// approve2 approves a request whatever the state says of it (a decision the writer's view did
// not refuse).
func (c *community) approve2(v *view, by Signer, request *Event, p *person) *Event {
	c.t.Helper()
	eph, sealed, err := SealTo(c.key, p.X25519Public(), rand.Reader)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.write(v, by, KindApprove, &Approve{Request: request.ID, Joiner: p.PublicKey(), EphemeralKey: eph, SealedKey: sealed})
}

// TestApprovalAcrossPartitions: decisions made apart settle the same way at every member: an
// approval and a decline of one request, and approvals past the invite's uses. The state does
// not depend on the order events arrive in.
func TestApprovalAcrossPartitions(t *testing.T) {
	c, v := newCommunity(t, 0)
	mod, bo, cy := newPerson(t, "mod"), newPerson(t, "Bo"), newPerson(t, "Cy")
	c.admit(v, c.owner, mod, RoleModerator)
	inv := c.approvalInvite(c.owner, 1)
	rb := c.request(v, mod, inv, bo)
	rc := c.request(v, mod, inv, cy)

	left, right := v.clone(), v.clone()
	c.approve(left, c.owner, rb)
	c.write(right, mod, KindDecline, &Decline{Request: rb.ID, Reason: "no"})
	c.approve(right, mod, rc) // the one use, on both sides

	left.merge(right)
	right.merge(left)
	a, b := left.state(t), right.state(t)
	if a.Hash() != b.Hash() {
		t.Fatal("the two sides folded to different states")
	}
	for range 5 {
		s, err := Fold(shuffled(left.authority()))
		if err != nil || s.Hash() != a.Hash() {
			t.Fatalf("a shuffled fold differs: %v", err)
		}
	}
	// One use: exactly one of Bo and Cy is in, and Bo's request is decided once.
	rbs, _ := a.RequestOf(rb.ID)
	mb, _ := a.Member(bo.PublicKey())
	mc, _ := a.Member(cy.PublicKey())
	if mb.Active == mc.Active || a.Uses(inv.ID) != 1 {
		t.Fatalf("Bo active %v, Cy active %v, uses %d: want exactly one", mb.Active, mc.Active, a.Uses(inv.ID))
	}
	if (rbs.State == RequestApproved) != mb.Active {
		t.Fatalf("Bo's request is %v while Bo active = %v", rbs.State, mb.Active)
	}
	t.Logf("Bo's request: %v; Cy active: %v", rbs.State, mc.Active)
}

// TestRequestsEnd: an approval after the invite's expiry (by the approver's clock), or after its
// revocation, is void; an invite takes at most MaxWaiting requests at once.
func TestRequestsEnd(t *testing.T) {
	c, v := newCommunity(t, 0)
	bo, cy := newPerson(t, "Bo"), newPerson(t, "Cy")
	inv := c.approvalInvite(c.owner, 0)
	rb := c.request(v, c.owner, inv, bo)
	rc := c.request(v, c.owner, inv, cy)

	c.clock = inv.Expires.Add(invite.ClockSkew + time.Minute)
	late := c.approve(v, c.owner, rb)
	mustVoid(t, v.state(t), late, true)
	mustActive(t, v.state(t), bo, false)

	c.clock = t0.Add(time.Hour) // a clock that goes back: the log keeps what each event says
	c.write(v, c.owner, KindRevokeInvite, &RevokeInvite{Invite: inv.ID})
	ap := c.approve(v, c.owner, rc)
	if reason, void := v.state(t).Void(ap.ID); !void || !strings.Contains(reason, "revoked") {
		t.Fatalf("an approval after the revocation: void %v (%q)", void, reason)
	}

	many := c.approvalInvite(c.owner, 0)
	var last JoinRequest
	for i := range MaxWaiting + 1 {
		p := newPerson(t, "p"+string(rune('a'+i)))
		if i == MaxWaiting {
			last = c.answered(many, p, c.owner)
			break
		}
		c.request(v, c.owner, many, p)
	}
	err := v.state(t).CheckJoin(last, c.owner.PublicKey(), c.clock)
	if err == nil || !strings.Contains(err.Error(), "waiting") {
		t.Fatalf("request %d: %v, want a refusal", MaxWaiting+1, err)
	}
	// Written anyway (a member that did not check): the fold voids it.
	b, _ := NewEntryRequest(last, nil, rand.Reader)
	e := c.write(v, c.owner, KindJoinRequest, b)
	mustVoid(t, v.state(t), e, true)
}

// TestAnswers: the answers are sealed to the owner and the moderators only, signed by the
// joiner, and checked against the invite's questions.
func TestAnswers(t *testing.T) {
	c, v := newCommunity(t, 0)
	mod, mem, bo := newPerson(t, "mod"), newPerson(t, "mem"), newPerson(t, "Bo")
	c.admit(v, c.owner, mod, RoleModerator)
	c.admit(v, c.owner, mem, RoleMember)
	inv := c.approvalInvite(c.owner, 0, "How did you find us?", "What do you make?")
	long := strings.Repeat("é", LimitAnswer.Max/2)
	req := c.request(v, mem, inv, bo, "A friend", long)
	b, _ := DecodeBody(KindJoinRequest, req.Body)
	body := b.(*EntryRequest)
	for _, p := range []*person{c.owner, mod} {
		got, ok, err := OpenAnswers(p, c.genesis.ID, body, &inv.Signed)
		if err != nil || !ok || !slices.Equal(got, []string{"A friend", long}) {
			t.Fatalf("%s opens %q, %v, %v", p.name, got, ok, err)
		}
	}
	if _, ok, err := OpenAnswers(mem, c.genesis.ID, body, &inv.Signed); ok || err != nil {
		t.Fatalf("a member opens the answers: %v, %v", ok, err)
	}
	// Answers the joiner did not sign (changed by the member that relayed them) are refused.
	forged := c.answered(inv, bo, mem, "A friend", "x")
	forged.Answers[1] = "changed"
	sealed, _ := NewEntryRequest(forged, []Recipient{{Key: c.owner.PublicKey(), X25519: c.owner.X25519Public()}}, rand.Reader)
	if _, _, err := OpenAnswers(c.owner, c.genesis.ID, sealed, &inv.Signed); !errors.Is(err, invite.ErrForged) {
		t.Fatalf("changed answers: %v, want ErrForged", err)
	}
	st := v.state(t)
	for name, answers := range map[string][]string{
		"too many":   {"a", "b", "c"},
		"too few":    {"a"},
		"over limit": {"a", strings.Repeat("x", LimitAnswer.Max+1)},
	} {
		if err := st.CheckJoin(c.answered(inv, newPerson(t, "x"), c.owner, answers...), c.owner.PublicKey(), c.clock); err == nil {
			t.Errorf("%s: CheckJoin accepted", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	plain := c.invite(c.owner, RoleMember, 0)
	if err := st.CheckJoin(c.answered(plain, newPerson(t, "x"), c.owner, "hi"), c.owner.PublicKey(), c.clock); err == nil || !strings.Contains(err.Error(), "asks no questions") {
		t.Errorf("answers to an invite with no questions: %v", err)
	}
	// The join stream carries the answers and their signature.
	enc := c.answered(inv, bo, mem, "A friend", "pots").Encode()
	back, err := DecodeJoinRequest(enc)
	if err != nil || !slices.Equal(back.Answers, []string{"A friend", "pots"}) || !VerifyAnswers(back.Invite, back.Joiner, back.Answers, back.AnswersSig) {
		t.Fatalf("DecodeJoinRequest: %+v, %v", back.Answers, err)
	}
}

// TestMemberInvites: members invite only under the owner's setting — registered, up to N people
// each, needing approval when the setting says so — and RevokeBy revokes every invite one
// issuer registered.
func TestMemberInvites(t *testing.T) {
	c, v := newCommunity(t, 0)
	mem, bo, cy, dee := newPerson(t, "mem"), newPerson(t, "Bo"), newPerson(t, "Cy"), newPerson(t, "Dee")
	c.admit(v, c.owner, mem, RoleMember)
	inv := c.invite(mem, RoleMember, 0)
	write := func(inv *invite.Invite) *Event {
		return c.write(v, mem, KindRegisterInvite, &RegisterInvite{InviteRaw: inv.Raw, InviteSig: inv.Sig})
	}
	reg := func(inv *invite.Invite, void bool) {
		t.Helper()
		e := write(inv)
		mustVoid(t, v.state(t), e, void)
	}
	// Off by default: the registration is void, and so is a join with the invite.
	reg(inv, true)
	j := c.write(v, c.owner, KindJoin, c.joinBody(inv, bo, c.owner))
	mustVoid(t, v.state(t), j, true)

	c.write(v, c.owner, KindSettings, &Settings{MemberInvites: 1, Welcome: "Hi!"})
	if v.state(t).Settings.Welcome != "Hi!" {
		t.Fatal("the settings did not apply")
	}
	// On, but the invite must be registered first.
	j = c.write(v, c.owner, KindJoin, c.joinBody(inv, bo, c.owner))
	mustVoid(t, v.state(t), j, true)
	reg(inv, false)
	if st := v.state(t); st.OpenInvites(mem.PublicKey()) != 1 {
		t.Fatalf("open invites %d, want 1", st.OpenInvites(mem.PublicKey()))
	}
	// A second open invite is over the member's number.
	reg(c.invite(mem, RoleMember, 0), true)
	j = c.write(v, c.owner, KindJoin, c.joinBody(inv, bo, c.owner))
	mustVoid(t, v.state(t), j, false)
	if st := v.state(t); st.BroughtIn(mem.PublicKey()) != 1 {
		t.Fatalf("brought in %d", st.BroughtIn(mem.PublicKey()))
	}
	// One person each: the next join with the same invite is void.
	j = c.write(v, c.owner, KindJoin, c.joinBody(inv, cy, c.owner))
	if reason, void := v.state(t).Void(j.ID); !void || !strings.Contains(reason, "brought in") {
		t.Fatalf("a second join through the member: void %v (%q)", void, reason)
	}

	// Approval forced: a member's invite without it does not register.
	c.write(v, c.owner, KindSettings, &Settings{MemberInvites: 3, MemberApproval: true})
	reg(c.invite(mem, RoleMember, 0), true)
	ask := c.approvalInvite(mem, 0, "Who are you?")
	reg(ask, false)
	rq := c.request(v, c.owner, ask, dee, "Dee, a potter")
	other := c.approvalInvite(mem, 0)
	write(other)
	// A member revokes its own registered invite; not the owner's.
	own := c.invite(c.owner, RoleMember, 0)
	notMine := c.write(v, mem, KindRevokeInvite, &RevokeInvite{Invite: own.ID})
	mustVoid(t, v.state(t), notMine, true)
	c.write(v, mem, KindRevokeInvite, &RevokeInvite{Invite: other.ID})
	if !v.state(t).Revoked(other.ID) {
		t.Fatal("a member could not revoke its own invite")
	}
	// RevokeBy: every invite mem registered is dead, so the waiting request cannot be approved.
	c.write(v, c.owner, KindRevokeBy, &RevokeBy{Issuer: mem.PublicKey()})
	st := v.state(t)
	for _, id := range st.RegisteredBy(mem.PublicKey()) {
		if !st.Revoked(id) {
			t.Fatalf("invite %v of mem not revoked", id)
		}
	}
	ap := c.approve(v, c.owner, rq)
	mustVoid(t, v.state(t), ap, true)
	mustActive(t, v.state(t), dee, false)
}

// TestStaleRequestGivesWay: a request whose invite expired, unanswered, does not lock its
// joiner out: a request with a fresh invite takes its place (the old one ends), while one with a
// still valid invite is refused.
func TestStaleRequestGivesWay(t *testing.T) {
	c, v := newCommunity(t, 0)
	bo := newPerson(t, "Bo")
	short, err := invite.Issue(c.owner, invite.Params{Community: c.genesis.ID, CommunityName: "Makers", Role: RoleMember,
		NotBefore: t0.Add(-time.Hour), Expires: t0.Add(time.Hour), Approval: true}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	fresh := c.approvalInvite(c.owner, 0)
	old := c.request(v, c.owner, short, bo)
	if err := v.state(t).CheckJoin(c.answered(fresh, bo, c.owner), c.owner.PublicKey(), c.clock); err == nil {
		t.Fatal("a second request while the first can still be approved passed CheckJoin")
	}
	c.clock = t0.Add(2 * time.Hour) // the short invite expired, nobody answered
	next := c.request(v, c.owner, fresh, bo)
	st := v.state(t)
	mustRequest(t, st, old, RequestEnded)
	mustRequest(t, st, next, RequestWaiting)
	c.approve(v, c.owner, next)
	mustActive(t, v.state(t), bo, true)
}

// TestEntryAgainstModeratorsGone: a removed moderator's approvals cannot force key rotations once
// the key rotated away from it; a moderator's removal of the member that relayed a request cannot
// undo an approval granting moderator; a demotion voids the moderator's revocations of others'
// invites above its cutoff, not a member's revocation of its own; answers to questions not sealed
// to the owner make the request void; settings change the state hash.
func TestEntryAgainstModeratorsGone(t *testing.T) {
	c, v := newCommunity(t, 0)
	mod, mod2, al, bo := newPerson(t, "mod"), newPerson(t, "mod2"), newPerson(t, "Al"), newPerson(t, "Bo")
	c.admit(v, c.owner, mod, RoleModerator)
	c.admit(v, c.owner, mod2, RoleModerator)
	c.admit(v, c.owner, al, RoleMember)

	// An owner's invite granting moderator, with approval; Al relays Bo's request, the owner
	// approves; mod2 removes Al reaching back before the request: Bo stays.
	inv, err := invite.Issue(c.owner, invite.Params{Community: c.genesis.ID, CommunityName: "Makers", Role: RoleModerator,
		NotBefore: t0.Add(-time.Hour), Expires: t0.Add(24 * time.Hour), Approval: true}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	req := c.request(v, al, inv, bo)
	c.approve(v, c.owner, req)
	st := v.state(t)
	c.write(v, mod2, KindRemove, &Remove{Target: al.PublicKey(), CutoffSeq: 0, TargetPrev: st.LastAct(al.PublicKey())})
	mustActive(t, v.state(t), bo, true)
	if v.state(t).RoleOf(bo.PublicKey()) != RoleModerator {
		t.Fatal("Bo lost the moderator role the approval granted")
	}

	// mod is removed; the key rotates; mod's later approval of an old request claims the new
	// epoch: nobody is counted as holding it.
	cy := newPerson(t, "Cy")
	other := c.approvalInvite(c.owner, 0)
	rc := c.request(v, c.owner, other, cy)
	c.write(v, c.owner, KindDecline, &Decline{Request: rc.ID})
	st = v.state(t)
	c.write(v, c.owner, KindRemove, &Remove{Target: mod.PublicKey(), CutoffSeq: 0, TargetPrev: st.LastAct(mod.PublicKey())})
	var to []Recipient
	for _, m := range v.state(t).Members() {
		if m.Active {
			to = append(to, Recipient{Key: m.Key, X25519: m.X25519})
		}
	}
	body, _, err := NewRotation(c.genesis.ID, c.key, to, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rot := c.write(v, c.owner, KindRotateKey, body)
	if n := len(v.state(t).NeedsRotation()); n != 0 {
		t.Fatalf("%d keys need rotating after the rotation", n)
	}
	eph, sealed, _ := SealTo(c.key, cy.X25519Public(), rand.Reader)
	c.clock = c.clock.Add(time.Second)
	e, err := Build(mod, Draft{Community: c.genesis.ID, Kind: KindApprove, Epoch: rot.ID, Time: c.clock, Prev: v.lastOf(mod.PublicKey()), Deps: v.heads(),
		Body: EncodeBody(&Approve{Request: rc.ID, Joiner: cy.PublicKey(), EphemeralKey: eph, SealedKey: sealed})})
	if err != nil {
		t.Fatal(err)
	}
	e2, _ := Decode(e.Encode())
	v.add(e2)
	st = v.state(t)
	mustVoid(t, st, e2, true)
	if n := len(st.NeedsRotation()); n != 0 {
		t.Fatalf("a removed moderator's approval makes %d keys need rotating", n)
	}

	// Demotion: mod2's revocation of the owner's invite after its last kept act is void; a
	// member's revocation of its own registered invite stands.
	c.write(v, c.owner, KindSettings, &Settings{MemberInvites: 2})
	target := c.invite(c.owner, RoleMember, 0)
	keep := v.lastOf(mod2.PublicKey()).Seq
	c.write(v, mod2, KindRevokeInvite, &RevokeInvite{Invite: target.ID})
	if !v.state(t).Revoked(target.ID) {
		t.Fatal("mod2 could not revoke")
	}
	st = v.state(t)
	c.write(v, c.owner, KindSetRole, &SetRole{Target: mod2.PublicKey(), Role: RoleMember, CutoffSeq: keep, TargetPrev: st.LastAct(mod2.PublicKey())})
	if v.state(t).Revoked(target.ID) {
		t.Fatal("the demoted moderator's revocation above its cutoff stands")
	}
	mine := c.invite(mod2, RoleMember, 0)
	c.write(v, mod2, KindRegisterInvite, &RegisterInvite{InviteRaw: mine.Raw, InviteSig: mine.Sig})
	c.write(v, mod2, KindRevokeInvite, &RevokeInvite{Invite: mine.ID})
	if !v.state(t).Revoked(mine.ID) {
		t.Fatal("a member could not revoke its own invite")
	}

	// Answers not sealed to the owner: void.
	dee := newPerson(t, "Dee")
	asks := c.approvalInvite(c.owner, 0, "Why?")
	hidden, _ := NewEntryRequest(c.answered(asks, dee, bo, "because"), []Recipient{{Key: bo.PublicKey(), X25519: bo.X25519Public()}}, rand.Reader)
	he := c.write(v, bo, KindJoinRequest, hidden)
	mustVoid(t, v.state(t), he, true)

	before := v.state(t).Hash()
	c.write(v, c.owner, KindSettings, &Settings{MemberInvites: 2, Welcome: "Hi"})
	if v.state(t).Hash() == before {
		t.Fatal("the settings do not change the state hash")
	}
}

// TestRequestReplays: a member holding a joiner's earlier proof cannot replay it — neither as a
// copy of a request in the log (dated later) nor as a request it kept back — to end the joiner's
// newer waiting request or to reopen a declined one.
func TestRequestReplays(t *testing.T) {
	c, v := newCommunity(t, 0)
	mem, x := newPerson(t, "mem"), newPerson(t, "X")
	c.admit(v, c.owner, mem, RoleMember)
	b := c.approvalInvite(c.owner, 0)
	kept := c.answered(b, x, mem) // X asked mem, which kept the proof back
	c.clock = c.clock.Add(time.Minute)
	rb := c.request(v, mem, b, x)
	c.write(v, c.owner, KindDecline, &Decline{Request: rb.ID, Reason: "not now"})
	c.clock = c.clock.Add(time.Hour)
	a, err := invite.Issue(c.owner, invite.Params{Community: c.genesis.ID, CommunityName: "Makers", Role: RoleMember,
		NotBefore: t0.Add(-time.Hour), Expires: c.clock.Add(24 * time.Hour), Approval: true}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r1 := c.request(v, c.owner, a, x)

	// mem copies its old request body, dated two days later (after A expired).
	old, _ := DecodeBody(KindJoinRequest, rb.Body)
	c.clock = c.clock.Add(48 * time.Hour)
	copied := c.write(v, mem, KindJoinRequest, old)
	mustVoid(t, v.state(t), copied, true)
	// ... or the request it kept back, written now.
	body, _ := NewEntryRequest(kept, v.state(t).Readers(), rand.Reader)
	late := c.write(v, mem, KindJoinRequest, body)
	if why, void := v.state(t).Void(late.ID); !void || !strings.Contains(why, "waiting already") {
		t.Fatalf("the kept-back request: void %v (%q)", void, why)
	}
	mustRequest(t, v.state(t), r1, RequestWaiting)
	mustRequest(t, v.state(t), rb, RequestDeclined)
}
