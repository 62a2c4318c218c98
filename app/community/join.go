package community

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kith-app/kith/app/invite"
)

// JoinRequest is what a joiner sends an admitting member: its keys, its name, the invite's
// signed capability, its proof (invite.ProveJoin) that it holds the invite's secret, and its
// signature (SignJoin) proving it holds the key it joins with.
type JoinRequest struct {
	Invite    *invite.Signed
	Joiner    ed25519.PublicKey
	X25519    []byte
	Name      string
	Proof     []byte
	JoinerSig []byte
	// Answers to the invite's questions (an invite that needs approval), and the joiner's
	// signature over them (SignAnswers).
	Answers    []string
	AnswersSig []byte
	// AskedAt is when the joiner asked (its clock, whole seconds), and AskedSig its signature over
	// it, bound to the invite and the admitter (SignAsked): a request for an invite that needs
	// approval carries both, so nobody can replay the joiner's proof as a later request.
	AskedAt  time.Time
	AskedSig []byte
}

// joinerMessage is what a joiner signs with its own key (for the invite's community): it binds the join to the joiner's
// X25519 key and to one admitter, so nobody can enrol someone else's key with their own
// X25519 key (and so receive the keys meant for them).
func joinerMessage(community Hash, id invite.ID, joiner ed25519.PublicKey, x25519 []byte, admitter ed25519.PublicKey, name string) []byte {
	m := make([]byte, 0, 200+len(name))
	m = append(m, "kith-join-self-v1\x00"...)
	m = append(m, community[:]...)
	m = append(m, id[:]...)
	m = append(m, joiner...)
	m = append(m, x25519...)
	m = append(m, admitter...)
	return append(m, name...)
}

// SignJoin is the joiner's signature over its join request (JoinRequest.JoinerSig): it covers
// the display name too, so the admitter cannot change it.
func SignJoin(joiner Signer, inv *invite.Signed, x25519 []byte, admitter ed25519.PublicKey, name string) ([]byte, error) {
	return joiner.Sign(joinerMessage(inv.Community, inv.ID, joiner.PublicKey(), x25519, admitter, name))
}

// verifyJoiner checks the joiner's own signature.
func verifyJoiner(inv *invite.Signed, joiner ed25519.PublicKey, x25519 []byte, admitter ed25519.PublicKey, name string, sig []byte) error {
	if len(joiner) != ed25519.PublicKeySize || len(x25519) != 32 || len(sig) != ed25519.SignatureSize ||
		!ed25519.Verify(joiner, joinerMessage(inv.Community, inv.ID, joiner, x25519, admitter, name), sig) {
		return fmt.Errorf("%w: the joiner did not sign its join with its own key", invite.ErrForged)
	}
	return nil
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
		Joiner: req.Joiner, JoinerX25519: req.X25519, Name: req.Name, Proof: req.Proof, JoinerSig: req.JoinerSig,
		EphemeralKey: eph, SealedKey: sealed,
	}, nil
}

// verifyJoin checks what a join proves on its own, whatever the state: the capability's
// signature, the proof of the invite's secret, and the joiner's own signature. The result is
// the verified capability; the fold caches it per event.
func verifyJoin(admitter ed25519.PublicKey, j *Join) (*invite.Signed, error) {
	signed, err := j.Invite()
	if err != nil {
		return nil, err
	}
	if err := invite.VerifyJoin(signed, j.Joiner, j.JoinerX25519, admitter, j.Proof); err != nil {
		return nil, err
	}
	if err := verifyJoiner(signed, j.Joiner, j.JoinerX25519, admitter, j.Name, j.JoinerSig); err != nil {
		return nil, err
	}
	return signed, nil
}

// CheckJoin is the admitter's check of a join request at time at (its own clock): the proof of
// the invite's secret and the joiner's signature, the invite against the log (issuer's live role,
// revocation, uses, the member cap, the time bounds with invite.ClockSkew), and that the joiner
// is not a member yet. The fold re-checks the same at the join's countersigned time on every peer.
// The admitter alone also checks the joiner's display name: in the form writers store
// (Limit.CleanName), and not too close to an active member's (NameTaken; ErrNameTaken).
func (s *State) CheckJoin(req JoinRequest, admitter ed25519.PublicKey, at time.Time) error {
	if err := invite.VerifyJoin(req.Invite, req.Joiner, req.X25519, admitter, req.Proof); err != nil {
		return err
	}
	if err := verifyJoiner(req.Invite, req.Joiner, req.X25519, admitter, req.Name, req.JoinerSig); err != nil {
		return err
	}
	if err := invite.Check(req.Invite, s.ID, at, s.Ledger()); err != nil {
		return err
	}
	if err := CheckAnswers(&req.Invite.Capability, req.Answers); err != nil {
		return err
	}
	if len(req.Answers) > 0 && !VerifyAnswers(req.Invite, req.Joiner, req.Answers, req.AnswersSig) {
		return fmt.Errorf("%w: the joiner did not sign its answers", invite.ErrForged)
	}
	if req.Invite.Approval {
		if !VerifyAsked(req.Invite, req.Joiner, admitter, req.AskedAt, req.AskedSig) {
			return fmt.Errorf("%w: the joiner did not sign when it asked (update Kith)", invite.ErrForged)
		}
		if d := req.AskedAt.Sub(at); d > MaxAskedSkew || d < -MaxAskedSkew {
			return invalid("your clock and this member's differ by %s: set your computer's clock, then ask again", d.Abs().Round(time.Minute))
		}
		if r, ok := s.WaitingFor(req.Joiner); ok && s.stillValid(&r, at) {
			return invalid("your request to join %s is waiting for approval already (since %s)", s.Name, r.At.UTC().Format("2 Jan 2006 15:04 UTC"))
		}
		if s.waiting[req.Invite.ID] >= MaxWaiting {
			return invalid("this invite has %d requests waiting for approval, the most it may: try again once the owner or a moderator has answered them", MaxWaiting)
		}
	}
	if s.RoleOf(req.Joiner) != RoleNone {
		return invalid("you are already a member of %s", s.Name)
	}
	if s.Removed(req.Joiner) {
		return invalid("you were removed from %s: a removal is final for this device", s.Name)
	}
	if s.ActiveCount() >= MaxMembers {
		return invalid("%s has %d members, the most a community can hold (a key rotation must reach them all in one event)", s.Name, s.ActiveCount())
	}
	if req.Name != "" {
		if clean, err := LimitDisplayName.CleanName(req.Name); err != nil {
			var f *FieldError
			errors.As(err, &f)
			return invalid("%s", f.Msg)
		} else if clean != req.Name {
			return invalid("the display name %q is not in the form Kith writes: update Kith", Printable(req.Name, false))
		}
		if m, ok := s.NameTaken(req.Name); ok && !bytes.Equal(m.Key, req.Joiner) {
			return fmt.Errorf("%w: the name %q is too close to that of a member of %s (%q): join again with another name", ErrNameTaken, req.Name, s.Name, Printable(m.Name, false))
		}
	}
	return nil
}

// joinRequestVersion starts an encoded JoinRequest; version 2 (a request for an invite that
// needs approval) adds when the joiner asked, signed, and the answers.
const (
	joinRequestVersion  = 1
	joinRequestVersion2 = 2
)

// MaxJoinRequestSize bounds an encoded JoinRequest.
const MaxJoinRequestSize = 8 << 10

// Encode returns the request as it travels on the join stream:
// version | invite (uvarint len Raw | Raw | sig[64]) | joiner[32] | x25519 | name | proof | joiner sig.
func (req JoinRequest) Encode() []byte {
	w := writer{}
	v2 := len(req.Answers) > 0 || len(req.AnswersSig) > 0 || len(req.AskedSig) > 0
	if v2 {
		w.byte1(joinRequestVersion2)
	} else {
		w.byte1(joinRequestVersion)
	}
	w.bytes(req.Invite.Raw)
	w.bytes(req.Invite.Sig)
	w.fixed(req.Joiner)
	w.bytes(req.X25519)
	w.str(req.Name)
	w.bytes(req.Proof)
	w.bytes(req.JoinerSig)
	if v2 {
		w.uvarint(unixSeconds(req.AskedAt))
		w.bytes(req.AskedSig)
		w.uvarint(uint64(len(req.Answers)))
		for _, a := range req.Answers {
			w.str(a)
		}
		w.bytes(req.AnswersSig)
	}
	return w.b
}

// DecodeJoinRequest reads a JoinRequest from the join stream, with bounded allocation. It checks
// the invite's signature and the sizes; CheckJoin decides the rest.
func DecodeJoinRequest(b []byte) (JoinRequest, error) {
	var req JoinRequest
	if len(b) > MaxJoinRequestSize {
		return req, fmt.Errorf("%w: join request of %d bytes", ErrMalformed, len(b))
	}
	r := reader{b: b}
	v := r.byte1()
	if r.err == nil && v != joinRequestVersion && v != joinRequestVersion2 {
		return req, fmt.Errorf("%w: join request version %d (update Kith)", ErrMalformed, v)
	}
	raw := r.bytes(4096)
	sig := r.bytes(ed25519.SignatureSize)
	req.Joiner = ed25519.PublicKey(r.fixed(ed25519.PublicKeySize))
	req.X25519 = r.bytes(maxX25519)
	req.Name = r.str(LimitDisplayName.Max)
	req.Proof = r.bytes(ed25519.SignatureSize)
	req.JoinerSig = r.bytes(ed25519.SignatureSize)
	if v == joinRequestVersion2 {
		req.AskedAt = fromUnix(r.upTo(maxUnixSeconds))
		req.AskedSig = r.bytes(ed25519.SignatureSize)
		n := r.count(invite.MaxQuestions, 1)
		for range n {
			req.Answers = append(req.Answers, r.str(LimitAnswer.Max))
		}
		req.AnswersSig = r.bytes(ed25519.SignatureSize)
		if len(req.AskedSig) != ed25519.SignatureSize || req.AskedAt.IsZero() || (len(req.Answers) > 0) != (len(req.AnswersSig) == ed25519.SignatureSize) || (len(req.Answers) == 0 && len(req.AnswersSig) > 0) {
			return JoinRequest{}, fmt.Errorf("%w: a version-2 join request without its time, or with answers and their signature not matching", ErrMalformed)
		}
	}
	if err := r.done(); err != nil {
		return JoinRequest{}, err
	}
	if len(req.X25519) != 32 {
		return JoinRequest{}, fmt.Errorf("%w: join request without an X25519 key", ErrMalformed)
	}
	signed, err := invite.DecodeSigned(raw, sig)
	if err != nil {
		return JoinRequest{}, err
	}
	req.Invite = signed
	return req, nil
}
