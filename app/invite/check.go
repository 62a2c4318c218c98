package invite

import (
	"crypto/ed25519"
	"fmt"
	"strconv"
	"time"
)

// ClockSkew is how far the admitter's clock may disagree with the issuer's:
// an invite is accepted from ClockSkew before its NotBefore until ClockSkew
// after its Expires.
const ClockSkew = 5 * time.Minute

// Ledger is what [Check] needs to know of the community at the point of the
// join: the admitter's state when it admits, or the folded state at the
// join's deps when a peer re-checks it offline.
type Ledger interface {
	// RoleOf returns member's live role at that point; RoleNone when it is
	// not a member.
	RoleOf(member ed25519.PublicKey) Role
	// Revoked reports whether the invite was revoked.
	Revoked(id ID) bool
	// Uses returns how many joins have already been counted with the
	// invite.
	Uses(id ID) int
	// Members returns the current member count.
	Members() int
	// MaxMembers returns the member cap; 0 means no cap.
	MaxMembers() int
	// MemberInvites returns the community's rule for invites that members issue: how many
	// people each member may bring in (0: members issue none), and whether such an invite
	// must need approval.
	MemberInvites() (perMember int, approval bool)
	// Registered reports whether issuer registered the invite in the log: a member's invite
	// counts only once registered, so that the owner sees it and can revoke it.
	Registered(id ID, issuer ed25519.PublicKey) bool
	// BroughtIn returns how many joins have counted with invites that member issued.
	BroughtIn(member ed25519.PublicKey) int
}

// Check decides whether a join with s may be admitted to community c at time
// at: the admitter's clock, or the admitter's countersigned time when a peer
// re-checks the join offline. Check never reads the clock. It checks, in
// this order, and returns an error wrapping the first that fails:
//
//   - ErrWrongCommunity: s is for another community;
//   - ErrForged: Sig is not the issuer's signature of Raw, or Capability
//     does not match Raw;
//   - ErrNotAllowed (and so ErrForged): the granted role is not member or
//     moderator, or the issuer's live role is not strictly above it (the
//     owner may grant both; a moderator only member); a member issuer is
//     allowed by the community's rule for member invites instead (see
//     [Ledger.MemberInvites]: on, granting member, registered, needing
//     approval if the rule says so, and the issuer under its number);
//   - ErrNotYetValid: at is before NotBefore - ClockSkew;
//   - ErrExpired: at is after Expires + ClockSkew;
//   - ErrRevoked: l says the invite is revoked;
//   - ErrUsedUp: MaxUses > 0 and l counts MaxUses joins already;
//   - ErrFull: the community has a cap and l counts that many members.
//
// It returns nil when the join may be admitted. l must not be nil.
func Check(s *Signed, c [32]byte, at time.Time, l Ledger) error {
	if err := checkCommunity(s, c); err != nil {
		return err
	}
	if err := s.Verify(); err != nil {
		return err
	}
	return checkPolicy(s, at, l)
}

// CheckVerified is Check for a capability whose signature was already verified (by
// [DecodeSigned] or [Signed.Verify]): it makes every other check, in the same order, without
// repeating the Ed25519 verification. A fold that re-checks the same join on every pass uses it.
func CheckVerified(s *Signed, c [32]byte, at time.Time, l Ledger) error {
	if err := checkCommunity(s, c); err != nil {
		return err
	}
	return checkPolicy(s, at, l)
}

// checkCommunity is the first check of both: an invite, and for this community.
func checkCommunity(s *Signed, c [32]byte) error {
	if s == nil {
		return errBadSig
	}
	if s.Community != c {
		return newErr(ErrWrongCommunity, fmt.Sprintf(
			"this invite is for another community (%q): ask whoever sent it for an invite to this one", s.CommunityName))
	}
	return nil
}

// checkPolicy is everything Check decides after the community and the signature.
func checkPolicy(s *Signed, at time.Time, l Ledger) error {
	issuer := l.RoleOf(s.Issuer)
	if issuer == RoleMember {
		if err := memberAllowed(s, l); err != nil {
			return err
		}
	} else if err := allowed(s, issuer); err != nil {
		return err
	}
	if !s.NotBefore.IsZero() && at.Before(s.NotBefore.Add(-ClockSkew)) {
		return newErr(ErrNotYetValid, "this invite becomes valid on "+when(s.NotBefore)+": try again then")
	}
	if !s.Expires.IsZero() && at.After(s.Expires.Add(ClockSkew)) {
		return newErr(ErrExpired, "this invite expired on "+when(s.Expires)+": ask whoever sent it for a new one")
	}
	if l.Revoked(s.ID) {
		return newErr(ErrRevoked, "this invite was revoked: ask a moderator or the owner of "+strconv.Quote(s.CommunityName)+" for a new one")
	}
	if s.MaxUses > 0 && l.Uses(s.ID) >= int(s.MaxUses) {
		return newErr(ErrUsedUp, fmt.Sprintf(
			"this invite has been used up (it allowed %s): ask whoever sent it for a new one", times(s.MaxUses)))
	}
	if limit := l.MaxMembers(); limit > 0 && l.Members() >= limit {
		return newErr(ErrFull, fmt.Sprintf(
			"%q has reached its member cap of %d: ask its owner to raise the cap, or try again when someone leaves", s.CommunityName, limit))
	}
	return nil
}

// memberAllowed checks an invite a member issued against the community's rule for them: on,
// granting member, registered in the log, needing approval when the rule says so, and its
// issuer under the number of people each member may bring in.
func memberAllowed(s *Signed, l Ledger) error {
	n, approval := l.MemberInvites()
	switch {
	case n == 0:
		return newErr(ErrNotAllowed,
			"this invite was issued by a member, and members of "+strconv.Quote(s.CommunityName)+" may not invite (any more): ask a moderator or the owner for an invite")
	case s.Role != RoleMember:
		return newErr(ErrNotAllowed, fmt.Sprintf(
			"this invite was issued by a member, who may not grant the %v role: ask the owner for a new one", s.Role))
	case !l.Registered(s.ID, s.Issuer):
		return newErr(ErrNotAllowed,
			"this invite was issued by a member and is not in the community's log yet: ask its issuer to go online with Kith, then try again")
	case approval && !s.Approval:
		return newErr(ErrNotAllowed,
			"this invite was issued by a member without approval, which "+strconv.Quote(s.CommunityName)+" requires: ask its issuer for a new one")
	case l.BroughtIn(s.Issuer) >= n:
		return newErr(ErrUsedUp, fmt.Sprintf(
			"whoever issued this invite has brought in %d people, the most a member of %q may: ask a moderator or the owner for an invite", n, s.CommunityName))
	}
	return nil
}

// allowed checks that an issuer whose live role is issuer may grant s.Role.
func allowed(s *Signed, issuer Role) error {
	switch {
	case s.Role == RoleNone:
		return newErr(ErrNotAllowed, "this invite grants no role, so it cannot be used: ask whoever sent it for a new one")
	case s.Role != RoleMember && s.Role != RoleModerator:
		return newErr(ErrNotAllowed, fmt.Sprintf(
			"this invite grants the %v role, which no invite may grant: ask the owner for a new one", s.Role))
	case issuer == RoleNone || issuer > RoleOwner:
		return newErr(ErrNotAllowed,
			"whoever issued this invite is not a member of the community (any more): ask a moderator or the owner for a new one")
	case issuer <= s.Role:
		return newErr(ErrNotAllowed, fmt.Sprintf(
			"this invite was issued by a %v, who may not grant the %v role: ask the owner for a new one", issuer, s.Role))
	}
	return nil
}

// when formats t for a person, e.g. "20 Nov 2026 at 14:05 UTC".
func when(t time.Time) string { return t.UTC().Format("2 Jan 2006 at 15:04 UTC") }

func times(n uint32) string {
	if n == 1 {
		return "one use"
	}
	return strconv.FormatUint(uint64(n), 10) + " uses"
}
