package invite

import "crypto/ed25519"

// joinContext separates join proofs from every other signature made with an
// invite key.
const joinContext = "kith-invite-join-v1\x00"

// joinMessage returns what the joiner signs with the invite key, or nil when
// a key has the wrong length.
func joinMessage(s *Signed, joiner ed25519.PublicKey, joinerX25519 []byte, admitter ed25519.PublicKey) []byte {
	if len(joiner) != ed25519.PublicKeySize || len(joinerX25519) != 32 || len(admitter) != ed25519.PublicKeySize {
		return nil
	}
	m := make([]byte, 0, len(joinContext)+32+16+32+32+32)
	m = append(m, joinContext...)
	m = append(m, s.Community[:]...)
	m = append(m, s.ID[:]...)
	m = append(m, joiner...)
	m = append(m, joinerX25519...)
	return append(m, admitter...)
}

// ProveJoin signs, with the invite key, the claim that the joiner (its
// Ed25519 key and its X25519 public key) joins this invite's community
// through admitter. The secret itself never leaves the joiner. It returns
// nil if a key is not 32 bytes long; [VerifyJoin] refuses a nil proof.
func (inv *Invite) ProveJoin(joiner ed25519.PublicKey, joinerX25519 []byte, admitter ed25519.PublicKey) []byte {
	m := joinMessage(&inv.Signed, joiner, joinerX25519, admitter)
	if m == nil {
		return nil
	}
	return ed25519.Sign(InviteKey(inv.Secret), m)
}

// VerifyJoin checks that proof was made with the invite key of s for this
// joiner, joiner X25519 key and admitter. It returns nil or an error wrapping
// ErrForged. It does not check s itself: see [Check].
func VerifyJoin(s *Signed, joiner ed25519.PublicKey, joinerX25519 []byte, admitter ed25519.PublicKey, proof []byte) error {
	if s == nil || len(s.InviteKey) != ed25519.PublicKeySize || len(proof) != ed25519.SignatureSize {
		return errBadProof
	}
	m := joinMessage(s, joiner, joinerX25519, admitter)
	if m == nil || !ed25519.Verify(s.InviteKey, m, proof) {
		return errBadProof
	}
	return nil
}
