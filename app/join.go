package app

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"strings"
	"time"

	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/invite"
)

// InviteParams are what an owner or moderator chooses for an invite.
type InviteParams struct {
	Role    community.Role  // member (default) or moderator (the owner only)
	Uses    int             // how many people may join with it; 0 = no limit
	Expires time.Duration   // from now; 0 = never
	Members []invite.Member // members a joiner can reach, the most reachable first (the network fills them in)
	// Approval: joins wait for the owner or a moderator, after the joiner answered Questions
	// (none given: the community's default questions). A member's invite needs it when the
	// community says so.
	Approval  bool
	Questions []string
}

// Invite issues an invite to a community and returns it as one line of text. The owner and
// moderators issue any; a member only when the community lets members invite (see
// EntrySettings), up to its number of open invites, granting member, needing approval when the
// community says so. An invite by anyone but the owner is registered in the log first, so the
// owner and moderators see it and can revoke it (RevokeBy).
func (s *Service) Invite(id community.Hash, p InviteParams) (*invite.Invite, error) {
	r, err := s.room(id)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	if p.Role == community.RoleNone {
		p.Role = community.RoleMember
	}
	mine := st.RoleOf(s.id.PublicKey())
	set := st.Settings
	switch {
	case mine == community.RoleMember && set.MemberInvites == 0:
		return nil, notAllowed("members of %q do not issue invites: ask a moderator or the owner for one (the owner can let members invite)", st.Name)
	case mine == community.RoleMember && p.Role != community.RoleMember:
		return nil, notAllowed("a member invites members only")
	case mine == community.RoleMember && st.BroughtIn(s.id.PublicKey()) >= int(set.MemberInvites):
		return nil, notAllowed("you have brought in %d people, the most a member of %q may", st.BroughtIn(s.id.PublicKey()), st.Name)
	case mine == community.RoleMember && st.OpenInvites(s.id.PublicKey())+st.BroughtIn(s.id.PublicKey()) >= int(set.MemberInvites):
		open := st.OpenInvites(s.id.PublicKey())
		return nil, notAllowed("you have brought in %d and have %d open %s, and a member of %q may bring in %d: revoke an open one (`kithd revoke ID`), or wait until it is used",
			st.BroughtIn(s.id.PublicKey()), open, plural(open, "invite", "invites"), st.Name, set.MemberInvites)
	case mine < community.RoleMember:
		return nil, notAllowed("only members of %q issue invites", st.Name)
	case mine != community.RoleMember && p.Role >= mine:
		return nil, notAllowed("a %s cannot invite a %s: ask the owner", mine, p.Role)
	case p.Uses < 0 || p.Uses > 1<<20:
		return nil, &sentenceError{msg: fmt.Sprintf("%d uses is out of range: choose 0 (no limit) up to 1,048,576", p.Uses), kind: ErrBadInput}
	case p.Expires < 0:
		return nil, &sentenceError{msg: "the expiry must be in the future", kind: ErrBadInput}
	}
	if mine == community.RoleMember && set.MemberApproval {
		p.Approval = true
	}
	questions, err := cleanQuestions(p.Questions)
	if err != nil {
		return nil, err
	}
	if len(questions) > 0 {
		p.Approval = true
	} else if p.Approval {
		questions = set.Questions
	}
	ip := invite.Params{Community: id, CommunityName: st.Name, Role: p.Role, MaxUses: uint32(p.Uses), Members: p.Members,
		Approval: p.Approval, Questions: questions}
	if p.Expires > 0 {
		ip.Expires = s.now().Add(p.Expires)
	}
	inv, err := invite.Issue(s.id, ip, s.rand)
	if err != nil {
		return nil, err
	}
	if mine != community.RoleOwner {
		body := &community.RegisterInvite{InviteRaw: inv.Raw, InviteSig: inv.Sig}
		if _, err := s.writeOwnLocked(s.ctx, r, community.KindRegisterInvite, community.EncodeBody(body), community.Hash{}); err != nil {
			return nil, fmt.Errorf("app: the invite could not be put in the log, so it is not handed out: %w", err)
		}
	}
	if err := s.store.AddIssued(id, inv.String()); err != nil {
		return nil, fmt.Errorf("app: the invite was made but could not be recorded: %w", err)
	}
	return inv, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Issued is an invite this install issued, with what the log says of it.
type Issued struct {
	Invite  *invite.Invite
	Uses    int  // joins that counted with it, in the log as this install has it
	Revoked bool // a revocation of it is in the log
}

// Invites lists the invites this install issued to a community, oldest first.
func (s *Service) Invites(id community.Hash) ([]Issued, error) {
	st, err := s.state(id)
	if err != nil {
		return nil, err
	}
	texts, err := s.store.Issued(id)
	if err != nil {
		return nil, err
	}
	out := make([]Issued, 0, len(texts))
	for _, t := range texts {
		inv, err := invite.Parse(t)
		if err != nil {
			continue // not this install's writing: skip it
		}
		out = append(out, Issued{Invite: inv, Uses: st.Uses(inv.ID), Revoked: st.Revoked(inv.ID)})
	}
	return out, nil
}

// RevokeInvite revokes an invite of a community (the owner and moderators may): a revocation
// event enters the log, and every member that has it refuses joins with the invite ("this invite
// was revoked"). Revoking an invite already revoked writes nothing.
func (s *Service) RevokeInvite(ctx context.Context, id community.Hash, inv invite.ID) error {
	r, err := s.room(id)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	if st.RoleOf(s.id.PublicKey()) < community.RoleModerator {
		if issuer, ok := st.Registered(inv); !ok || !issuer.Equal(s.id.PublicKey()) {
			return notAllowed("only the owner and moderators of %q revoke invites; a member, those it issued", st.Name)
		}
	}
	if st.Revoked(inv) {
		return nil
	}
	_, err = s.writeOwnLocked(ctx, r, community.KindRevokeInvite, community.EncodeBody(&community.RevokeInvite{Invite: inv}), community.Hash{})
	return err
}

// JoinRequest is what this install sends to an admitting member to join with inv: its keys, its
// display name, its proof of the invite's secret and its own signature, bound to that admitter,
// and its answers to the invite's questions, signed.
func (s *Service) JoinRequest(inv *invite.Invite, admitter ed25519.PublicKey, name string, answers []string) (community.JoinRequest, error) {
	name, err := CleanDisplayName(name)
	if err != nil {
		return community.JoinRequest{}, err
	}
	if answers, err = CleanAnswers(&inv.Capability, answers); err != nil {
		return community.JoinRequest{}, err
	}
	sig, err := community.SignJoin(s.id, &inv.Signed, s.id.X25519Public(), admitter, name)
	if err != nil {
		return community.JoinRequest{}, err
	}
	req := community.JoinRequest{
		Invite: &inv.Signed, Joiner: s.id.PublicKey(), X25519: s.id.X25519Public(), Name: name,
		Proof: inv.ProveJoin(s.id.PublicKey(), s.id.X25519Public(), admitter), JoinerSig: sig,
	}
	if len(answers) > 0 {
		req.Answers = answers
		if req.AnswersSig, err = community.SignAnswers(s.id, &inv.Signed, answers); err != nil {
			return community.JoinRequest{}, err
		}
	}
	if inv.Approval {
		req.AskedAt = s.now().Truncate(time.Second)
		if req.AskedSig, err = community.SignAsked(s.id, &inv.Signed, admitter, req.AskedAt); err != nil {
			return community.JoinRequest{}, err
		}
	}
	return req, nil
}

// CleanAnswers checks a joiner's answers to an invite's questions before any network work: one
// per question, each within community.LimitAnswer, stored as writers store text. The error is a
// sentence (KindBadInput) that says what to change.
func CleanAnswers(inv *invite.Capability, answers []string) ([]string, error) {
	out := make([]string, 0, len(answers))
	for i, a := range answers {
		c, err := community.LimitAnswer.CleanText(a)
		if err != nil {
			return nil, &sentenceError{msg: fmt.Sprintf("answer %d: %s", i+1, Sentence(err)), kind: ErrBadInput}
		}
		if strings.TrimSpace(c) == "" && i < len(inv.Questions) {
			return nil, &sentenceError{msg: fmt.Sprintf("answer %d is empty: answer %q", i+1, inv.Questions[i]), kind: ErrBadInput}
		}
		out = append(out, c)
	}
	if err := community.CheckAnswers(inv, out); err != nil {
		return nil, &sentenceError{msg: strings.TrimPrefix(Sentence(err), "the event breaks a membership rule: "), kind: ErrBadInput}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// Admit is an admitting member's side of a join: it checks the request against the log and its
// own clock (with invite.ClockSkew), then signs the join event — the countersignature — with
// the current key sealed to the joiner, and stores it durably. With an invite that needs
// approval it writes the request instead (the answers sealed to the owner and moderators), and
// answers a joiner that asked before with where its request stands: the request (waiting), or
// the decline. The error says why, in words the
// joiner can be shown: a *JoinRefusal when the log or the invite refuse the join (final), any
// other error when this install cannot admit now (another member may). A joiner that is an
// active member already (admitted before, its first sync cut short) gets its join event again:
// the caller checked that the request comes from the joiner's own key.
func (s *Service) Admit(ctx context.Context, id community.Hash, req community.JoinRequest) (*community.Event, error) {
	r, err := s.room(id)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	if m, ok := st.Member(req.Joiner); ok && m.Active && m.Role != community.RoleOwner && len(m.Stints) > 0 {
		if e, ok, err := s.store.Event(id, m.Stints[len(m.Stints)-1].Join.ID); err == nil && ok {
			return e, nil
		}
	}
	if req.Invite.Approval {
		// Asked before: the request waits, or was declined (with this invite: another one may
		// ask again).
		if q, ok := waitingAnswer(st, req.Joiner, req.Invite.ID, s.now()); ok {
			if e, ok, err := s.store.Event(id, q.Decision); q.State == community.RequestDeclined && err == nil && ok {
				return e, nil
			}
			if e, ok, err := s.store.Event(id, q.ID); q.State == community.RequestWaiting && err == nil && ok {
				return e, nil
			}
		}
	}
	if err := st.CheckJoin(req, s.id.PublicKey(), s.now()); err != nil {
		return nil, &JoinRefusal{err}
	}
	if req.Invite.Approval {
		body, err := community.NewEntryRequest(req, st.Readers(), s.rand)
		if err != nil {
			return nil, err
		}
		enc, err := community.Encode(body)
		if err != nil {
			return nil, &JoinRefusal{err}
		}
		return s.writeOwnLocked(ctx, r, community.KindJoinRequest, enc, community.Hash{})
	}
	key, ok := r.keys.Key(st.Current)
	if !ok {
		return nil, fmt.Errorf("app: this device lacks the current key of %q, so it cannot admit anyone yet", st.Name)
	}
	body, err := community.NewJoin(req, key, s.rand)
	if err != nil {
		return nil, err
	}
	enc, err := community.Encode(body)
	if err != nil {
		return nil, &JoinRefusal{err}
	}
	return s.writeOwnLocked(ctx, r, community.KindJoin, enc, community.Hash{})
}

// CleanDisplayName is the form of a display name that Kith writes (community.Limit.CleanName);
// an empty name stays empty (a member with no name), and an error says what to change.
func CleanDisplayName(name string) (string, error) {
	if strings.TrimSpace(name) == "" {
		return "", nil
	}
	return community.LimitDisplayName.CleanName(name)
}

// JoinRefusal is a join that the log or the invite refuse (expired, revoked, used up, full,
// forged, removed, ...): asking again, or another member, gives the same answer.
type JoinRefusal struct{ Err error }

func (e *JoinRefusal) Error() string { return e.Err.Error() }
func (e *JoinRefusal) Unwrap() error { return e.Err }

// Refused marks a join refusal as an answer for the joiner (see p2p.Handler).
func (e *JoinRefusal) Refused() bool { return true }
