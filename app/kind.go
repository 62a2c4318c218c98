package app

import (
	"context"
	"errors"

	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/identity"
	"github.com/kith-app/kith/app/invite"
)

// Kind is what an error means for whoever meets it, whatever its words: final, worth another
// try, damaged, not allowed, or a mistake in what was typed. The edges decide by it — whether a
// join keeps trying, kithd's exit status for what was typed, what the desktop offers — and show
// Sentence(err). The wire carries two of them as codes (p2p's answer status: a refusal is
// KindRefused, "not now" is KindTryAgain), never a handler's other words.
type Kind int

const (
	// KindUnknown is none of the others: this install's own trouble, shown as it is.
	KindUnknown Kind = iota
	// KindRefused is final: asking again gets the same answer (an invite expired, revoked or used
	// up, a full community, a member's refusal in words).
	KindRefused
	// KindTryAgain passes: nobody reachable, a member that cannot answer now, a timeout.
	KindTryAgain
	// KindDamaged is something stored or received that does not decode or verify: a damaged
	// invite, key file, event or store.
	KindDamaged
	// KindNotAllowed is a role or a membership that does not allow the act.
	KindNotAllowed
	// KindBadInput is what a person typed: empty, over its limit, characters not allowed.
	KindBadInput
	// KindClosed is Kith shutting down.
	KindClosed
)

// String names the kind ("refused", "try again", ...), for logs and JSON.
func (k Kind) String() string {
	switch k {
	case KindRefused:
		return "refused"
	case KindTryAgain:
		return "try again"
	case KindDamaged:
		return "damaged"
	case KindNotAllowed:
		return "not allowed"
	case KindBadInput:
		return "bad input"
	case KindClosed:
		return "closed"
	}
	return "unknown"
}

// KindOf says what kind of error err is: by the sentinels of the packages below app, the marks
// the network's errors carry (Refused() and Unavailable() methods), and a Damaged() bool method
// that lower layers' errors may have (the store's damage errors: app does not import storage).
func KindOf(err error) Kind {
	var refused interface{ Refused() bool }
	var busy interface{ Unavailable() bool }
	var damaged interface{ Damaged() bool }
	switch {
	case err == nil:
		return KindUnknown
	case errors.Is(err, ErrClosed):
		return KindClosed
	case errors.As(err, &refused) && refused.Refused():
		return KindRefused
	case errors.Is(err, ErrEmptyMessage), errors.Is(err, ErrBadInput), errors.Is(err, community.ErrTooLong), errors.Is(err, community.ErrBadText),
		errors.Is(err, community.ErrEmpty), errors.Is(err, community.ErrRecoveryWords):
		return KindBadInput
	case errors.Is(err, invite.ErrExpired), errors.Is(err, invite.ErrRevoked), errors.Is(err, invite.ErrUsedUp),
		errors.Is(err, invite.ErrFull), errors.Is(err, invite.ErrWrongCommunity), errors.Is(err, community.ErrNameTaken):
		return KindRefused
	case errors.Is(err, invite.ErrDamaged), errors.Is(err, invite.ErrNotInvite), errors.Is(err, invite.ErrForged),
		errors.Is(err, identity.ErrDamaged), errors.Is(err, community.ErrMalformed), errors.Is(err, community.ErrSignature),
		errors.Is(err, community.ErrBodyHash), errors.Is(err, errSyncDamaged),
		errors.As(err, &damaged) && damaged.Damaged():
		return KindDamaged
	case errors.Is(err, ErrNotAllowed), errors.Is(err, community.ErrRole), errors.Is(err, community.ErrNotMember), errors.Is(err, ErrUnknownCommunity):
		return KindNotAllowed
	case errors.As(err, &busy) && busy.Unavailable(), errors.Is(err, ErrNoMemberReachable), errors.Is(err, ErrRestoredBehind),
		errors.Is(err, invite.ErrNotYetValid), errors.Is(err, context.DeadlineExceeded):
		return KindTryAgain
	}
	return KindUnknown
}

// ErrBadInput is what a mistake in what a person typed wraps (KindBadInput): a request ID that
// names none, answers that do not match the questions.
var ErrBadInput = errors.New("app: bad input")

// Refused reports whether err is final (KindRefused): a member's refusal of a join in words for
// the person (the invite expired, was revoked, is used up, the community is full, ...), or the
// same found here; trying again with the same invite will not help.
func Refused(err error) bool { return KindOf(err) == KindRefused }
