package community

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/kith-app/kith/app/identity"
	"github.com/kith-app/kith/app/invite"
	"golang.org/x/crypto/chacha20poly1305"
)

// Entry: the community's settings for who may invite and what a newcomer sees, invites that
// members register, join requests that wait for approval, and the approvals and declines.

// Bounds of entry.
const (
	// MaxAskedSkew is how far the time a joiner signs with its request may be from the clock of
	// the member it reaches.
	MaxAskedSkew = time.Hour
	// MaxWaiting is the most requests one invite may have waiting for approval: a holder of the
	// invite cannot flood the owner.
	MaxWaiting = 20
	// MaxMemberInvites bounds the community's number of people each member may bring in.
	MaxMemberInvites = 1000
)

// RegisterInvite puts an invite its author issued in the log (kind invite-register): the owner
// and moderators see it, can revoke every open invite of one issuer at once (RevokeBy), and a
// member's invite counts only once registered.
type RegisterInvite struct {
	InviteRaw []byte
	InviteSig []byte
}

func (*RegisterInvite) Kind() Kind { return KindRegisterInvite }
func (m *RegisterInvite) encode(w *writer) {
	w.bytes(m.InviteRaw)
	w.bytes(m.InviteSig)
}
func (m *RegisterInvite) decode(r *reader) {
	m.InviteRaw = r.bytes(invite.MaxRawLen)
	m.InviteSig = r.bytes(ed25519.SignatureSize)
}

// RevokeBy revokes every invite Issuer registered before it (kind revoke-by).
type RevokeBy struct{ Issuer ed25519.PublicKey }

func (*RevokeBy) Kind() Kind         { return KindRevokeBy }
func (m *RevokeBy) encode(w *writer) { w.fixed(m.Issuer) }
func (m *RevokeBy) decode(r *reader) { m.Issuer = r.key() }

// Settings are the owner's rules for entry (kind settings): each settings event replaces the
// whole of the previous one.
type Settings struct {
	// MemberInvites is how many people each member may bring in with invites of its own
	// (0: members issue none); MemberApproval makes every member's invite need approval.
	MemberInvites  uint32
	MemberApproval bool
	// Welcome and Rules are shown to each new member on arrival and in the community's info;
	// Intro is the channel where newcomers are asked to introduce themselves (zero: none).
	Welcome string
	Rules   string
	Intro   Hash
	// Questions are the default entry questions of an invite that needs approval.
	Questions []string
	// PromotionsPerWeek is how many promotions (promotional posts and offers) the owner and
	// moderators may put out in one week (0: DefaultPromotionsPerWeek). It travels last and
	// only when it is not 0, so that settings written before it still read the same.
	PromotionsPerWeek uint32
	// MaxFileMiB is the largest file a member may send, in MiB (0: DefaultMaxFileMiB); KeepFiles
	// asks every member's install to keep every file sent, not only those its person opens.
	// They travel after PromotionsPerWeek as tagged fields (see encode).
	MaxFileMiB uint32
	KeepFiles  bool
}

// Bounds of the file settings.
const (
	// DefaultMaxFileMiB is the largest file of a community whose owner never set one, in MiB.
	DefaultMaxFileMiB = 100
	// MaxFileMiB bounds the setting: the largest file any community takes (MaxBlobSize).
	MaxFileMiB = MaxBlobSize >> 20
)

// Tags of the settings' tagged fields, in the order they are written.
const (
	settingMaxFile   = 1 // uvarint MiB (1..MaxFileMiB)
	settingKeepFiles = 2 // no value: present means true
)

// FileLimit is the largest file a member may send, in bytes: the setting, or the default.
func (m Settings) FileLimit() int64 {
	if m.MaxFileMiB == 0 {
		return DefaultMaxFileMiB << 20
	}
	return int64(m.MaxFileMiB) << 20
}

// PromotionBudget is how many promotions count in one week: the setting, or the default.
func (m Settings) PromotionBudget() int {
	if m.PromotionsPerWeek == 0 {
		return DefaultPromotionsPerWeek
	}
	return int(m.PromotionsPerWeek)
}

func (*Settings) Kind() Kind { return KindSettings }
func (m *Settings) encode(w *writer) {
	w.uvarint(uint64(m.MemberInvites))
	w.flag(m.MemberApproval)
	w.str(m.Welcome)
	w.str(m.Rules)
	w.hash(m.Intro)
	w.uvarint(uint64(len(m.Questions)))
	for _, q := range m.Questions {
		w.str(q)
	}
	// Optional fields, each written only when it is not its default, so that settings written
	// before them read the same: the promotion budget, bare (written, as the budget it stands
	// for, when a tagged field follows), then tag | value pairs in increasing order of tag.
	tagged := m.MaxFileMiB != 0 || m.KeepFiles
	if m.PromotionsPerWeek != 0 || tagged {
		w.uvarint(uint64(m.PromotionBudget()))
	}
	if m.MaxFileMiB != 0 {
		w.uvarint(settingMaxFile)
		w.uvarint(uint64(m.MaxFileMiB))
	}
	if m.KeepFiles {
		w.uvarint(settingKeepFiles)
	}
}
func (m *Settings) decode(r *reader) {
	m.MemberInvites = uint32(r.upTo(MaxMemberInvites))
	m.MemberApproval = r.flag()
	m.Welcome = r.str(LimitWelcome.Max)
	m.Rules = r.str(LimitWelcome.Max)
	m.Intro = r.hash()
	n := r.count(invite.MaxQuestions, 2)
	m.Questions = nil
	for range n {
		m.Questions = append(m.Questions, r.str(invite.MaxQuestionLen))
	}
	m.PromotionsPerWeek, m.MaxFileMiB, m.KeepFiles = 0, 0, false
	if r.err == nil && len(r.b) > 0 {
		if m.PromotionsPerWeek = uint32(r.upTo(MaxPromotionsPerWeek)); m.PromotionsPerWeek == 0 {
			r.fail("a promotion budget of 0 is written by leaving it out")
		}
	}
	last := uint64(0)
	for r.err == nil && len(r.b) > 0 {
		tag := r.uvarint()
		if tag <= last {
			r.fail("settings' fields out of order")
			return
		}
		last = tag
		switch tag {
		case settingMaxFile:
			if m.MaxFileMiB = uint32(r.upTo(MaxFileMiB)); m.MaxFileMiB == 0 {
				r.fail("a file limit of 0 is written by leaving it out")
			}
		case settingKeepFiles:
			m.KeepFiles = true
		default:
			r.fail("settings written by a newer Kith: update Kith")
		}
	}
}

// SealedAnswers are a joiner's answers to an invite's questions, sealed to the owner and the
// moderators at the request's point: a random key sealed to each of them with one ephemeral
// X25519 key, and the answers encrypted under it (XChaCha20-Poly1305).
type SealedAnswers struct {
	EphemeralKey []byte
	Keys         []SealedKey
	Box          []byte // nonce | ciphertext of EncodeAnswers
}

// EntryRequest is a join that waits for approval (kind join-request), written by the member the
// joiner reached: what a join carries but the key, with the answers sealed. The event's header
// time is the time the invite is checked at.
type EntryRequest struct {
	InviteRaw    []byte
	InviteSig    []byte
	Joiner       ed25519.PublicKey
	JoinerX25519 []byte
	Name         string
	Proof        []byte
	JoinerSig    []byte
	AskedAt      uint64 // when the joiner asked (Unix seconds, its clock), signed: AskedSig
	AskedSig     []byte
	Answers      SealedAnswers
}

func (*EntryRequest) Kind() Kind { return KindJoinRequest }
func (m *EntryRequest) encode(w *writer) {
	w.bytes(m.InviteRaw)
	w.bytes(m.InviteSig)
	w.fixed(m.Joiner)
	w.bytes(m.JoinerX25519)
	w.str(m.Name)
	w.bytes(m.Proof)
	w.bytes(m.JoinerSig)
	w.uvarint(m.AskedAt)
	w.bytes(m.AskedSig)
	w.bytes(m.Answers.EphemeralKey)
	w.uvarint(uint64(len(m.Answers.Keys)))
	for _, k := range m.Answers.Keys {
		w.fixed(k.Member)
		w.bytes(k.Sealed)
	}
	w.bytes(m.Answers.Box)
}
func (m *EntryRequest) decode(r *reader) {
	m.InviteRaw = r.bytes(invite.MaxRawLen)
	m.InviteSig = r.bytes(ed25519.SignatureSize)
	m.Joiner = r.key()
	m.JoinerX25519 = r.bytes(maxX25519)
	m.Name = r.str(LimitDisplayName.Max)
	m.Proof = r.bytes(ed25519.SignatureSize)
	m.JoinerSig = r.bytes(ed25519.SignatureSize)
	m.AskedAt = r.upTo(maxUnixSeconds)
	m.AskedSig = r.bytes(ed25519.SignatureSize)
	m.Answers.EphemeralKey = r.bytes(maxX25519)
	n := r.count(maxRecipients, 32+1)
	m.Answers.Keys = nil
	for range n {
		m.Answers.Keys = append(m.Answers.Keys, SealedKey{Member: r.key(), Sealed: r.bytes(64)})
	}
	m.Answers.Box = r.bytes(maxAnswersBox)
}

// join is the request as a join, for the checks the two share.
func (m *EntryRequest) join() *Join {
	return &Join{InviteRaw: m.InviteRaw, InviteSig: m.InviteSig, Joiner: m.Joiner, JoinerX25519: m.JoinerX25519,
		Name: m.Name, Proof: m.Proof, JoinerSig: m.JoinerSig}
}

// Approve admits the joiner of a waiting request (kind approve): the approver's signature is the
// countersignature, its header time the time the invite is checked at, and the current key is
// sealed to the joiner, as in a join.
type Approve struct {
	Request      Hash
	Joiner       ed25519.PublicKey // the request's joiner (so a keyring sees the key is its own)
	EphemeralKey []byte
	SealedKey    []byte
}

func (*Approve) Kind() Kind { return KindApprove }
func (m *Approve) encode(w *writer) {
	w.hash(m.Request)
	w.fixed(m.Joiner)
	w.bytes(m.EphemeralKey)
	w.bytes(m.SealedKey)
}
func (m *Approve) decode(r *reader) {
	m.Request = r.hash()
	m.Joiner = r.key()
	m.EphemeralKey = r.bytes(maxX25519)
	m.SealedKey = r.bytes(64)
}

// Decline ends a waiting request without admitting its joiner (kind decline); the joiner is told
// the reason.
type Decline struct {
	Request Hash
	Reason  string
}

func (*Decline) Kind() Kind { return KindDecline }
func (m *Decline) encode(w *writer) {
	w.hash(m.Request)
	w.str(m.Reason)
}
func (m *Decline) decode(r *reader) {
	m.Request = r.hash()
	m.Reason = r.str(LimitReason.Max)
}

// RequestState is where a join request stands in the log.
type RequestState uint8

// Request states.
const (
	RequestWaiting RequestState = iota + 1
	RequestApproved
	RequestDeclined
	RequestEnded // a later request of the same joiner took its place (its invite could no longer admit)
)

func (s RequestState) String() string {
	switch s {
	case RequestWaiting:
		return "waiting"
	case RequestApproved:
		return "approved"
	case RequestDeclined:
		return "declined"
	case RequestEnded:
		return "ended"
	}
	return "unknown"
}

// Request is a join request as the log says.
type Request struct {
	ID       Hash              // the request event
	At       time.Time         // when the joiner asked (its signed clock), the time its invite is checked at
	Admitter ed25519.PublicKey // the member the joiner reached
	Joiner   ed25519.PublicKey
	X25519   []byte
	Name     string
	Invite   *invite.Signed
	State    RequestState
	// DecidedBy, Decision, DecidedAt and Reason say who approved or declined, with which event,
	// when (the decider's clock) and why (a decline's reason).
	DecidedBy ed25519.PublicKey
	Decision  Hash
	DecidedAt time.Time
	Reason    string

	pos Position // the request event's, for the log's order
}

// Requests returns the join requests in the log, the oldest first.
func (s *State) Requests() []Request {
	out := make([]Request, 0, len(s.requests))
	for _, r := range s.requests {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Request) int { return a.pos.Compare(b.pos) })
	return out
}

// RequestOf returns a request by its event ID.
func (s *State) RequestOf(id Hash) (Request, bool) {
	r, ok := s.requests[id]
	if !ok {
		return Request{}, false
	}
	return *r, true
}

// WaitingFor returns the request of joiner that waits for approval, if any.
func (s *State) WaitingFor(joiner ed25519.PublicKey) (Request, bool) {
	id, ok := s.waitingBy[string(joiner)]
	if !ok {
		return Request{}, false
	}
	return s.RequestOf(id)
}

// LatestRequestOf returns joiner's latest request (waiting or decided) in the log's order, if any.
func (s *State) LatestRequestOf(joiner ed25519.PublicKey) (Request, bool) {
	var best *Request
	for _, r := range s.requests {
		if r.Joiner.Equal(joiner) && (best == nil || best.pos.Less(r.pos)) {
			best = r
		}
	}
	if best == nil {
		return Request{}, false
	}
	return *best, true
}

// Registered returns who registered an invite, if anyone did.
func (s *State) Registered(id invite.ID) (ed25519.PublicKey, bool) {
	r, ok := s.registered[id]
	if !ok {
		return nil, false
	}
	return r.issuer, true
}

// RegisteredBy lists the invites issuer registered, in the log's order.
func (s *State) RegisteredBy(issuer ed25519.PublicKey) []invite.ID {
	var out []invite.ID
	for _, id := range s.regOrder {
		if s.registered[id].issuer.Equal(issuer) {
			out = append(out, id)
		}
	}
	return out
}

// OpenInvites counts the invites issuer registered that are neither revoked nor used up.
func (s *State) OpenInvites(issuer ed25519.PublicKey) int {
	n := 0
	for _, id := range s.regOrder {
		r := s.registered[id]
		if r.issuer.Equal(issuer) && !s.revoked[id] && (r.maxUses == 0 || s.uses[id] < int(r.maxUses)) {
			n++
		}
	}
	return n
}

// BroughtIn returns how many joins counted with invites issued by member.
func (s *State) BroughtIn(member ed25519.PublicKey) int { return s.brought[string(member)] }

type registration struct {
	issuer  ed25519.PublicKey
	maxUses uint32
}

func (l ledger) MemberInvites() (int, bool) {
	return int(l.s.Settings.MemberInvites), l.s.Settings.MemberApproval
}
func (l ledger) Registered(id invite.ID, issuer ed25519.PublicKey) bool {
	r, ok := l.s.registered[id]
	return ok && r.issuer.Equal(issuer)
}
func (l ledger) BroughtIn(m ed25519.PublicKey) int { return l.s.brought[string(m)] }

// applyRegister registers an invite its author issued.
func (s *State) applyRegister(e *Event, b *RegisterInvite) error {
	signed, err := invite.DecodeSigned(b.InviteRaw, b.InviteSig)
	switch {
	case err != nil:
		return invalid("the registered invite does not read: %v", err)
	case signed.Community != s.ID:
		return invalid("the registered invite is for another community")
	case !signed.Issuer.Equal(e.Author):
		return invalid("only an invite's issuer registers it")
	}
	if _, ok := s.registered[signed.ID]; ok {
		return invalid("the invite is registered already")
	}
	if s.RoleOf(e.Author) == RoleMember {
		n, approval := int(s.Settings.MemberInvites), s.Settings.MemberApproval
		switch {
		case n == 0:
			return fmt.Errorf("%w: members may not invite", ErrRole)
		case signed.Role != RoleMember:
			return fmt.Errorf("%w: a member's invite grants member", ErrRole)
		case approval && !signed.Approval:
			return invalid("a member's invite must need approval")
		case s.OpenInvites(e.Author) >= n:
			return invalid("the member has %d open invites, the most the community allows", n)
		}
	}
	s.registered[signed.ID] = registration{issuer: e.Author, maxUses: signed.MaxUses}
	s.regOrder = append(s.regOrder, signed.ID)
	return nil
}

// applyRevokeInvite revokes one invite: a moderator or the owner any, a member its own. It
// returns the role the revocation needed: moderator, unless the invite is the author's own
// registered one (a demotion voids a moderator's revocations above its cutoff, not its own).
func (s *State) applyRevokeInvite(e *Event, b *RevokeInvite) (Role, error) {
	if r, ok := s.registered[b.Invite]; ok && r.issuer.Equal(e.Author) {
		s.revoked[b.Invite] = true
		return RoleMember, nil
	}
	if s.RoleOf(e.Author) < RoleModerator {
		return RoleNone, fmt.Errorf("%w: a member revokes only invites it registered", ErrRole)
	}
	s.revoked[b.Invite] = true
	return RoleModerator, nil
}

// applyRevokeBy revokes every invite an issuer registered so far.
func (s *State) applyRevokeBy(b *RevokeBy) error {
	if len(b.Issuer) != ed25519.PublicKeySize {
		return invalid("revoke-by names no issuer")
	}
	for _, id := range s.regOrder {
		if s.registered[id].issuer.Equal(b.Issuer) {
			s.revoked[id] = true
		}
	}
	return nil
}

// applySettings replaces the settings.
func (s *State) applySettings(b *Settings) error {
	if b.Intro != (Hash{}) {
		if _, ok := s.channels[b.Intro]; !ok {
			return invalid("no channel %s to introduce oneself in", b.Intro.Short())
		}
	}
	for _, q := range b.Questions {
		if q == "" {
			return invalid("an empty question")
		}
	}
	c := *b
	c.Questions = slices.Clone(b.Questions)
	s.Settings = c
	return nil
}

// applyRequest records a join request that waits for approval; it returns the role its invite
// would grant. It is checked as a join is (the invite at the request's time, the proofs), but
// counts no use: only approvals do. A request of the same joiner still waiting with an invite that
// can no longer admit at this request's time (expired, revoked, used up, its issuer gone) ends:
// this one takes its place, so a joiner is never locked out by an old request nobody answered.
// When the invite asks questions, the answers must be sealed to the owner at least (a relaying
// member cannot keep them from the owner).
func (s *State) applyRequest(e *Event, b *EntryRequest) (Role, error) {
	signed, err := s.cache.join(e, b.join())
	if err != nil {
		return RoleNone, err
	}
	if !signed.Approval {
		return RoleNone, invalid("the invite does not need approval: a member admits with a join")
	}
	asked := fromUnix(b.AskedAt)
	if !VerifyAsked(signed, b.Joiner, e.Author, asked, b.AskedSig) {
		return RoleNone, invalid("the joiner did not sign when it asked")
	}
	replay := askedKey(b.Joiner, signed.ID, b.AskedAt)
	if s.asked[replay] {
		return RoleNone, invalid("a replay of an earlier request")
	}
	// The joiner's signed time, not the writer's header time: a member cannot date a joiner's
	// proof later (or earlier) than the joiner asked.
	if err := invite.CheckVerified(signed, s.ID, asked, s.Ledger()); err != nil {
		return RoleNone, err
	}
	if m := s.members[string(b.Joiner)]; m != nil && m.Active {
		return RoleNone, invalid("already a member")
	}
	if len(signed.Questions) > 0 && !slices.ContainsFunc(b.Answers.Keys, func(k SealedKey) bool { return k.Member.Equal(s.Owner) }) {
		return RoleNone, invalid("the answers are not sealed to the owner")
	}
	old, waiting := s.waitingBy[string(b.Joiner)]
	if waiting && (s.stillValid(s.requests[old], asked) || !asked.After(s.requests[old].At)) {
		return RoleNone, invalid("the joiner has a request waiting already")
	}
	if s.waiting[signed.ID] >= MaxWaiting {
		return RoleNone, invalid("the invite has %d requests waiting, the most it may", MaxWaiting)
	}
	if waiting {
		s.decide(s.requests[old], e, RequestEnded, "a new request took its place")
	}
	s.requests[e.ID] = &Request{
		ID: e.ID, At: asked, Admitter: e.Author, Joiner: b.Joiner, X25519: b.JoinerX25519, Name: b.Name,
		Invite: signed, State: RequestWaiting, pos: e.Position(),
	}
	s.asked[replay] = true
	s.waitingBy[string(b.Joiner)] = e.ID
	s.waiting[signed.ID]++
	return signed.Role, nil
}

// askedKey names one asking of a joiner with an invite, for refusing replays.
func askedKey(joiner ed25519.PublicKey, id invite.ID, at uint64) string {
	return fmt.Sprintf("%x/%x/%d", []byte(joiner), id[:], at)
}

// askedMessage is what a joiner signs with the time it asks (SignAsked).
func askedMessage(inv *invite.Signed, joiner, admitter ed25519.PublicKey, at time.Time) []byte {
	m := []byte("kith-join-asked-v1\x00")
	m = append(m, inv.Community[:]...)
	m = append(m, inv.ID[:]...)
	m = append(m, joiner...)
	m = append(m, admitter...)
	w := writer{b: m}
	w.uvarint(unixSeconds(at))
	return w.b
}

// SignAsked is the joiner's signature over the time it asks to join with inv through admitter.
func SignAsked(joiner Signer, inv *invite.Signed, admitter ed25519.PublicKey, at time.Time) ([]byte, error) {
	return joiner.Sign(askedMessage(inv, joiner.PublicKey(), admitter, at))
}

// VerifyAsked checks a joiner's signature over the time it asked.
func VerifyAsked(inv *invite.Signed, joiner, admitter ed25519.PublicKey, at time.Time, sig []byte) bool {
	return !at.IsZero() && len(joiner) == ed25519.PublicKeySize && len(admitter) == ed25519.PublicKeySize &&
		len(sig) == ed25519.SignatureSize && ed25519.Verify(joiner, askedMessage(inv, joiner, admitter, at), sig)
}

// maxUnixSeconds bounds the times entry carries (9999-12-31).
const maxUnixSeconds = 253402300799

func unixSeconds(t time.Time) uint64 {
	if t.IsZero() || t.Unix() < 0 {
		return 0
	}
	return uint64(t.Unix())
}

func fromUnix(u uint64) time.Time {
	if u == 0 {
		return time.Time{}
	}
	return time.Unix(int64(u), 0).UTC()
}

// stillValid reports whether a waiting request's invite could still admit at time at.
func (s *State) stillValid(r *Request, at time.Time) bool {
	return invite.CheckVerified(r.Invite, s.ID, at, s.Ledger()) == nil
}

// waitingRequest finds the waiting request a decision names.
func (s *State) waitingRequest(id Hash) (*Request, error) {
	r, ok := s.requests[id]
	switch {
	case !ok:
		return nil, invalid("no request %s", id.Short())
	case r.State != RequestWaiting:
		return nil, invalid("the request was %s already", r.State)
	}
	return r, nil
}

// decide marks a waiting request decided.
func (s *State) decide(r *Request, e *Event, state RequestState, reason string) {
	c := *r
	c.State, c.DecidedBy, c.Decision, c.DecidedAt, c.Reason = state, e.Author, e.ID, e.WallTime(), reason
	s.requests[r.ID] = &c
	delete(s.waitingBy, string(r.Joiner))
	if s.waiting[r.Invite.ID]--; s.waiting[r.Invite.ID] <= 0 {
		delete(s.waiting, r.Invite.ID)
	}
}

// applyApprove admits a waiting request's joiner: the invite is checked again at the approval's
// time (expiry, revocation, uses, the cap, its issuer's role), and the approval is the join.
func (s *State) applyApprove(e *Event, b *Approve) (Role, error) {
	r, err := s.waitingRequest(b.Request)
	if err != nil {
		return RoleNone, err
	}
	if !b.Joiner.Equal(r.Joiner) {
		return RoleNone, invalid("the approval names another joiner than its request")
	}
	if err := invite.CheckVerified(r.Invite, s.ID, e.WallTime(), s.Ledger()); err != nil {
		return RoleNone, err
	}
	if m := s.members[string(r.Joiner)]; m != nil && m.Active {
		return RoleNone, invalid("already a member")
	}
	s.decide(r, e, RequestApproved, "")
	return s.admit(e, r.Invite, r.Joiner, r.X25519, r.Name, len(b.SealedKey) > 0), nil
}

// applyDecline declines a waiting request.
func (s *State) applyDecline(e *Event, b *Decline) error {
	r, err := s.waitingRequest(b.Request)
	if err != nil {
		return err
	}
	s.decide(r, e, RequestDeclined, b.Reason)
	return nil
}

// noteLeakedApproval is noteLeakedKey for a void approval: its joiner holds the key it carried —
// when the approval could carry it: a request proved the joiner, and the approver held the key of
// the event's epoch and was a moderator before it (a removed moderator, who holds no later key,
// cannot force rotations by writing approvals).
func (s *State) noteLeakedApproval(e *Event) {
	b, err := s.cache.body(e)
	if err != nil {
		return
	}
	a := b.(*Approve)
	r, ok := s.requests[a.Request]
	if !ok || !r.Joiner.Equal(a.Joiner) || len(a.SealedKey) == 0 {
		return // no request proved this joiner: its key may be made up to force rotations
	}
	ep, ok := s.epochs[e.Epoch]
	if !ok || !ep.holders[string(e.Author)] || !s.wasModerator(e.Author, e.Position()) {
		return
	}
	ep.holders[string(a.Joiner)] = true
}

// hashEntry writes the entry part of the state to a state hash: settings, registered invites,
// requests, and the joins counted per issuer.
func (s *State) hashEntry(w *writer) {
	set := s.Settings
	w.uvarint(uint64(set.MemberInvites))
	w.flag(set.MemberApproval)
	w.str(set.Welcome)
	w.str(set.Rules)
	w.hash(set.Intro)
	w.uvarint(uint64(len(set.Questions)))
	for _, q := range set.Questions {
		w.str(q)
	}
	w.uvarint(uint64(set.PromotionsPerWeek))
	w.uvarint(uint64(len(s.regOrder)))
	for _, id := range s.regOrder {
		w.fixed(id[:])
		w.fixed(s.registered[id].issuer)
	}
	reqs := s.Requests()
	w.uvarint(uint64(len(reqs)))
	for _, r := range reqs {
		w.hash(r.ID)
		w.byte1(byte(r.State))
		w.hash(r.Decision)
		w.str(r.Reason)
	}
	issuers := make([]string, 0, len(s.brought))
	for k := range s.brought {
		issuers = append(issuers, k)
	}
	slices.Sort(issuers)
	w.uvarint(uint64(len(issuers)))
	for _, k := range issuers {
		w.str(k)
		w.uvarint(uint64(s.brought[k]))
	}
}

// Answers: what the joiner signs, and how the member it reached seals them.

// maxAnswersBox bounds the sealed answers: five answers of LimitAnswer bytes, the joiner's
// signature, lengths, the nonce and the tag.
const maxAnswersBox = 24 + 16 + 1 + invite.MaxQuestions*(2+2000) + 1 + ed25519.SignatureSize

// answersMessage is what a joiner signs over its answers: bound to the community, the invite
// and its own key, so an admitter can neither change them nor move them to another request.
func answersMessage(community Hash, id invite.ID, joiner ed25519.PublicKey, answers []string) []byte {
	m := []byte("kith-join-answers-v1\x00")
	m = append(m, community[:]...)
	m = append(m, id[:]...)
	m = append(m, joiner...)
	w := writer{b: m}
	w.uvarint(uint64(len(answers)))
	for _, a := range answers {
		w.str(a)
	}
	return w.b
}

// SignAnswers is the joiner's signature over its answers (JoinRequest.AnswersSig).
func SignAnswers(joiner Signer, inv *invite.Signed, answers []string) ([]byte, error) {
	return joiner.Sign(answersMessage(inv.Community, inv.ID, joiner.PublicKey(), answers))
}

// VerifyAnswers checks the joiner's signature over its answers.
func VerifyAnswers(inv *invite.Signed, joiner ed25519.PublicKey, answers []string, sig []byte) bool {
	return len(joiner) == ed25519.PublicKeySize && len(sig) == ed25519.SignatureSize &&
		ed25519.Verify(joiner, answersMessage(inv.Community, inv.ID, joiner, answers), sig)
}

// CheckAnswers checks a joiner's answers against the invite's questions: one answer per
// question, each within LimitAnswer and in the form writers store.
func CheckAnswers(inv *invite.Capability, answers []string) error {
	switch {
	case len(inv.Questions) == 0 && len(answers) > 0:
		return invalid("this invite asks no questions, so it takes no answers")
	case len(answers) > len(inv.Questions):
		return invalid("this invite asks %d %s and got %d %s: give one answer per question", len(inv.Questions), plural(len(inv.Questions), "question"), len(answers), plural(len(answers), "answer"))
	case len(answers) < len(inv.Questions):
		return invalid("this invite asks %d %s and got %d %s: answer each question", len(inv.Questions), plural(len(inv.Questions), "question"), len(answers), plural(len(answers), "answer"))
	}
	for i, a := range answers {
		if err := LimitAnswer.Check(a); err != nil {
			return fmt.Errorf("question %d: %w", i+1, err)
		}
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// answersAAD binds sealed answers to their community and joiner.
func answersAAD(community Hash, joiner ed25519.PublicKey) []byte {
	return append(append([]byte("kith answers v1\x00"), community[:]...), joiner...)
}

// SealAnswers seals a joiner's answers and its signature over them to readers (the owner and
// the moderators).
func SealAnswers(community Hash, joiner ed25519.PublicKey, answers []string, sig []byte, readers []Recipient, rand io.Reader) (SealedAnswers, error) {
	return sealFor(readers, encodeAnswers(answers, sig), answersAAD(community, joiner), rand)
}

// sealFor seals plain to readers: a random key sealed to each of their X25519 keys with one
// ephemeral key, and plain encrypted under it (XChaCha20-Poly1305, with aad).
func sealFor(readers []Recipient, plain, aad []byte, rand io.Reader) (SealedAnswers, error) {
	var out SealedAnswers
	var key Key
	if _, err := io.ReadFull(rand, key[:]); err != nil {
		return out, fmt.Errorf("community: reading randomness: %w", err)
	}
	eph, err := ecdh.X25519().GenerateKey(rand)
	if err != nil {
		return out, err
	}
	out.EphemeralKey = eph.PublicKey().Bytes()
	for _, r := range readers {
		s, err := identity.SealKey(eph, r.X25519, key)
		if err != nil {
			return out, fmt.Errorf("community: sealing to %x: %w", r.Key[:4], err)
		}
		out.Keys = append(out.Keys, SealedKey{Member: r.Key, Sealed: s})
	}
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return out, err
	}
	box := make([]byte, chacha20poly1305.NonceSizeX, chacha20poly1305.NonceSizeX+len(plain)+aead.Overhead())
	if _, err := io.ReadFull(rand, box); err != nil {
		return out, fmt.Errorf("community: reading randomness: %w", err)
	}
	out.Box = aead.Seal(box, box, plain, aad)
	return out, nil
}

// openFor opens what sealFor sealed, when it was sealed to me (ok false otherwise).
func openFor(me KeyHolder, sealed SealedAnswers, aad []byte) (plain []byte, ok bool, err error) {
	self := me.PublicKey()
	var mine []byte
	for _, k := range sealed.Keys {
		if k.Member.Equal(self) {
			mine = k.Sealed
		}
	}
	if mine == nil {
		return nil, false, nil
	}
	key, err := me.OpenKey(sealed.EphemeralKey, mine)
	if err != nil {
		return nil, false, err
	}
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return nil, false, err
	}
	n := chacha20poly1305.NonceSizeX
	if len(sealed.Box) < n {
		return nil, false, ErrDecrypt
	}
	plain, err = aead.Open(nil, sealed.Box[:n], sealed.Box[n:], aad)
	if err != nil {
		return nil, false, ErrDecrypt
	}
	return plain, true, nil
}

// encodeAnswers is what sealed answers hold: uvarint n | n × answer | the joiner's signature.
func encodeAnswers(answers []string, sig []byte) []byte {
	w := writer{}
	w.uvarint(uint64(len(answers)))
	for _, a := range answers {
		w.str(a)
	}
	w.bytes(sig)
	return w.b
}

// decodeAnswers reads what encodeAnswers wrote, bounded: at most invite.MaxQuestions answers of
// LimitAnswer bytes each, and a signature.
func decodeAnswers(plain []byte) ([]string, []byte, error) {
	r := reader{b: plain}
	var answers []string
	for range r.count(invite.MaxQuestions, 1) {
		answers = append(answers, r.str(LimitAnswer.Max))
	}
	sig := r.bytes(ed25519.SignatureSize)
	if err := r.done(); err != nil {
		return nil, nil, fmt.Errorf("%w: the answers: %v", ErrMalformed, err)
	}
	return answers, sig, nil
}

// OpenAnswers opens the answers of a request sealed to me; ok is false when they were not
// sealed to me (I was not the owner or a moderator at the request's point). The answers'
// signature is checked: a request whose answers the joiner did not sign gives an error.
func OpenAnswers(me KeyHolder, community Hash, b *EntryRequest, inv *invite.Signed) (answers []string, ok bool, err error) {
	plain, ok, err := openFor(me, b.Answers, answersAAD(community, b.Joiner))
	if !ok || err != nil {
		return nil, ok, err
	}
	answers, sig, err := decodeAnswers(plain)
	if err != nil {
		return nil, false, err
	}
	if len(answers) != len(inv.Questions) {
		return nil, false, fmt.Errorf("%w: %d answers to %d questions", invite.ErrForged, len(answers), len(inv.Questions))
	}
	if len(answers) > 0 && !VerifyAnswers(inv, b.Joiner, answers, sig) {
		return nil, false, fmt.Errorf("%w: the joiner did not sign these answers", invite.ErrForged)
	}
	return answers, true, nil
}

// JoinerOf returns the joiner an event admits: a join's, or an approval's.
func JoinerOf(e *Event) (ed25519.PublicKey, bool) {
	if e.Kind != KindJoin && e.Kind != KindApprove {
		return nil, false
	}
	b, err := DecodeBody(e.Kind, e.Body)
	if err != nil {
		return nil, false
	}
	switch b := b.(type) {
	case *Join:
		return b.Joiner, true
	case *Approve:
		return b.Joiner, true
	}
	return nil, false
}

// NewEntryRequest makes the body of a join request that the member the joiner reached signs
// (after State.CheckJoin): the request, its answers and their signature sealed to readers (the
// owner and the moderators).
func NewEntryRequest(req JoinRequest, readers []Recipient, rand io.Reader) (*EntryRequest, error) {
	sealed, err := SealAnswers(req.Invite.Community, req.Joiner, req.Answers, req.AnswersSig, readers, rand)
	if err != nil {
		return nil, err
	}
	return &EntryRequest{
		InviteRaw: req.Invite.Raw, InviteSig: req.Invite.Sig, Joiner: req.Joiner, JoinerX25519: req.X25519,
		Name: req.Name, Proof: req.Proof, JoinerSig: req.JoinerSig, AskedAt: unixSeconds(req.AskedAt), AskedSig: req.AskedSig,
		Answers: sealed,
	}, nil
}

// NewApprove makes the body of an approval of r: the current key sealed to the joiner.
func NewApprove(r Request, key Key, rand io.Reader) (*Approve, error) {
	eph, sealed, err := SealTo(key, r.X25519, rand)
	if err != nil {
		return nil, err
	}
	return &Approve{Request: r.ID, Joiner: r.Joiner, EphemeralKey: eph, SealedKey: sealed}, nil
}

// Readers are the members a request's answers are sealed to: the owner and the moderators.
func (s *State) Readers() []Recipient {
	var out []Recipient
	for _, m := range s.members {
		if m.Active && m.Role >= RoleModerator && len(m.X25519) == 32 {
			out = append(out, Recipient{Key: m.Key, X25519: m.X25519})
		}
	}
	slices.SortFunc(out, func(a, b Recipient) int { return bytes.Compare(a.Key, b.Key) })
	return out
}
