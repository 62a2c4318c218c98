package invite

import "errors"

// Sentinel errors that callers branch on with errors.Is. Every error returned
// by this package wraps exactly one of them and reads, on its own, as a
// sentence for a person that says what to do.
var (
	// ErrDamaged: the text or bytes are not a well-formed invite (a character
	// is missing or changed, the line was cut, or the encoding is malformed).
	ErrDamaged = errors.New("invite: damaged")
	// ErrNotInvite: the text holds no "kith1" invite at all.
	ErrNotInvite = errors.New("invite: not a Kith invite")
	// ErrForged: a signature does not verify, the secret does not match the
	// invite, or the issuer was not allowed to issue it ([ErrNotAllowed]).
	ErrForged = errors.New("invite: forged")
	// ErrWrongCommunity: the invite is for another community.
	ErrWrongCommunity = errors.New("invite: wrong community")
	// ErrNotYetValid: the invite's not-before time has not come.
	ErrNotYetValid = errors.New("invite: not yet valid")
	// ErrExpired: the invite's expiry has passed.
	ErrExpired = errors.New("invite: expired")
	// ErrRevoked: the invite was revoked.
	ErrRevoked = errors.New("invite: revoked")
	// ErrUsedUp: the invite has been used as many times as it allows.
	ErrUsedUp = errors.New("invite: used up")
	// ErrFull: the community has reached its member cap.
	ErrFull = errors.New("invite: community full")
)

// ErrNotAllowed is the part of the [ErrForged] family that says the issuer
// may not grant what the invite grants: errors.Is(err, ErrForged) holds for
// it too.
var ErrNotAllowed error = &inviteError{sentinel: ErrForged, msg: "invite: issuer not allowed"}

// inviteError is a sentence for a person wrapping the sentinel that callers
// branch on.
type inviteError struct {
	sentinel error
	msg      string
}

func (e *inviteError) Error() string { return e.msg }
func (e *inviteError) Unwrap() error { return e.sentinel }

func newErr(sentinel error, msg string) error {
	return &inviteError{sentinel: sentinel, msg: msg}
}

// Errors that do not depend on the invite are built once.
var (
	errTyped = newErr(ErrDamaged,
		"this invite is damaged (a character is missing or changed): copy the whole line again")
	errTruncated = newErr(ErrDamaged,
		"this invite is damaged (its end is missing): copy the whole line again")
	errVersion = newErr(ErrDamaged,
		"this invite is damaged or was made by a newer version of Kith: copy the whole line again, or update Kith")
	errNoPrefix = newErr(ErrNotInvite,
		"this is not a Kith invite (an invite is one line that starts with kith1): ask whoever sent it to send the invite itself")
	errTooLong = newErr(ErrNotInvite,
		"this text is too long to be a Kith invite: paste only the line that starts with kith1")
	errBadSig = newErr(ErrForged,
		"this invite's signature does not match its contents, so it may have been tampered with: ask whoever sent it for a new one")
	errBadSecret = newErr(ErrForged,
		"this invite's secret does not belong to it, so it may have been tampered with: ask whoever sent it for a new one")
	errBadProof = newErr(ErrForged,
		"this join was not proved with the invite's key: the joiner must paste the invite again")
)

// malformed reports a capability that passed its checksum but breaks the
// format: the issuing app made it wrongly, or it was built by hand.
func malformed(what string) error {
	return newErr(ErrDamaged,
		"this invite is malformed ("+what+"): ask whoever sent it for a new one")
}
