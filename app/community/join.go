package community

import (
	"crypto/ed25519"
	"io"
	"time"

	"github.com/kith-app/kith/app/invite"
)

// JoinRequest is what a joiner sends an admitting member: its keys, its name, the invite's
// signed capability and its proof (invite.ProveJoin) that it holds the invite's secret.
type JoinRequest struct {
	Invite *invite.Signed
	Joiner ed25519.PublicKey
	X25519 []byte
	Name   string
	Proof  []byte
}

// NewJoin makes the body of the join event an admitter signs: the request, and the current
// epoch's key sealed to the joiner. The admitter checks the request first (State.CheckJoin).
func NewJoin(req JoinRequest, key Key, rand io.Reader) (*Join, error) {
	eph, sealed, err := SealTo(key, req.X25519, rand)
	if err != nil {
		return nil, err
	}
	return &Join{
		InviteRaw: req.Invite.Raw, InviteSig: req.Invite.Sig,
		Joiner: req.Joiner, JoinerX25519: req.X25519, Name: req.Name, Proof: req.Proof,
		EphemeralKey: eph, SealedKey: sealed,
	}, nil
}

// CheckJoin is the admitter's check of a join request at time at (its own clock): the proof of
// the invite's secret, the invite against the log (issuer's live role, revocation, uses, the
// member cap, the time bounds with invite.ClockSkew), and that the joiner is not a member yet.
// The fold re-checks the same at the join's countersigned time on every peer.
func (s *State) CheckJoin(req JoinRequest, admitter ed25519.PublicKey, at time.Time) error {
	if err := invite.VerifyJoin(req.Invite, req.Joiner, req.X25519, admitter, req.Proof); err != nil {
		return err
	}
	if err := invite.Check(req.Invite, s.ID, at, s.Ledger()); err != nil {
		return err
	}
	if s.RoleOf(req.Joiner) != RoleNone {
		return invalid("you are already a member of %s", s.Name)
	}
	return nil
}
