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
}

// Invite issues an invite to a community and returns it as one line of text.
func (s *Service) Invite(id community.Hash, p InviteParams) (*invite.Invite, error) {
	st, err := s.state(id)
	if err != nil {
		return nil, err
	}
	if p.Role == community.RoleNone {
		p.Role = community.RoleMember
	}
	mine := st.RoleOf(s.id.PublicKey())
	switch {
	case mine < community.RoleModerator:
		return nil, fmt.Errorf("app: only the owner and moderators of %q issue invites", st.Name)
	case p.Role >= mine:
		return nil, fmt.Errorf("app: a %s cannot invite a %s: ask the owner", mine, p.Role)
	case p.Uses < 0 || p.Uses > 1<<20:
		return nil, fmt.Errorf("app: %d uses is out of range: choose 0 (no limit) up to 1,048,576", p.Uses)
	case p.Expires < 0:
		return nil, fmt.Errorf("app: the expiry must be in the future")
	}
	ip := invite.Params{Community: id, CommunityName: st.Name, Role: p.Role, MaxUses: uint32(p.Uses), Members: p.Members}
	if p.Expires > 0 {
		ip.Expires = s.now().Add(p.Expires)
	}
	inv, err := invite.Issue(s.id, ip, s.rand)
	if err != nil {
		return nil, err
	}
	if err := s.store.AddIssued(id, inv.String()); err != nil {
		return nil, fmt.Errorf("app: the invite was made but could not be recorded: %w", err)
	}
	return inv, nil
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
		return fmt.Errorf("app: only the owner and moderators of %q revoke invites", st.Name)
	}
	if st.Revoked(inv) {
		return nil
	}
	_, err = s.writeOwnLocked(ctx, r, community.KindRevokeInvite, community.EncodeBody(&community.RevokeInvite{Invite: inv}), community.Hash{})
	return err
}

// JoinRequest is what this install sends to an admitting member to join with inv: its keys, its
// display name, its proof of the invite's secret and its own signature, bound to that admitter.
func (s *Service) JoinRequest(inv *invite.Invite, admitter ed25519.PublicKey, name string) (community.JoinRequest, error) {
	name, err := CleanDisplayName(name)
	if err != nil {
		return community.JoinRequest{}, err
	}
	sig, err := community.SignJoin(s.id, &inv.Signed, s.id.X25519Public(), admitter, name)
	if err != nil {
		return community.JoinRequest{}, err
	}
	return community.JoinRequest{
		Invite: &inv.Signed, Joiner: s.id.PublicKey(), X25519: s.id.X25519Public(), Name: name,
		Proof: inv.ProveJoin(s.id.PublicKey(), s.id.X25519Public(), admitter), JoinerSig: sig,
	}, nil
}

// Admit is an admitting member's side of a join: it checks the request against the log and its
// own clock (with invite.ClockSkew), then signs the join event — the countersignature — with
// the current key sealed to the joiner, and stores it durably. The error says why, in words the
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
	if err := st.CheckJoin(req, s.id.PublicKey(), s.now()); err != nil {
		return nil, &JoinRefusal{err}
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
