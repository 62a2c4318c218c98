package invite

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
)

// sigContext is prepended to Raw to form the message an issuer signs, so that
// no other Kith signature can be mistaken for an invite's.
const sigContext = "kith-invite-v1\x00"

// Signed is a capability with its issuer's signature. Raw is the canonical
// encoding of the capability exactly as it was signed and as it travels:
// verify Raw, never a re-encoding. Treat a Signed as read-only; [Check] and
// [Signed.Verify] refuse one whose Capability no longer matches Raw.
type Signed struct {
	Capability
	Raw []byte // canonical encoding, at most MaxRawLen bytes
	Sig []byte // Ed25519 signature by Issuer over "kith-invite-v1\x00" || Raw
}

// signedMessage returns the bytes an issuer signs for raw.
func signedMessage(raw []byte) []byte {
	m := make([]byte, 0, len(sigContext)+len(raw))
	m = append(m, sigContext...)
	return append(m, raw...)
}

// DecodeSigned decodes raw (refusing more than MaxRawLen bytes unread) and
// checks sig against it. It returns an error wrapping ErrDamaged when raw is
// not a canonical capability, or ErrForged when sig is not the issuer's
// signature of raw. The result holds copies of raw and sig.
func DecodeSigned(raw, sig []byte) (*Signed, error) {
	c, err := unmarshalCapability(raw)
	if err != nil {
		return nil, err
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(c.Issuer, signedMessage(raw), sig) {
		return nil, errBadSig
	}
	return &Signed{Capability: *c, Raw: bytes.Clone(raw), Sig: bytes.Clone(sig)}, nil
}

// Verify reports whether Sig is the issuer's signature of Raw and whether
// Capability still matches Raw. It returns nil, or an error wrapping
// ErrForged.
func (s *Signed) Verify() error {
	if s == nil || len(s.Sig) != ed25519.SignatureSize || len(s.Issuer) != ed25519.PublicKeySize {
		return errBadSig
	}
	raw, err := s.Capability.marshal()
	if err != nil || !bytes.Equal(raw, s.Raw) {
		return errBadSig
	}
	if !ed25519.Verify(s.Issuer, signedMessage(s.Raw), s.Sig) {
		return errBadSig
	}
	return nil
}

// Encode returns uvarint(len(Raw)) || Raw || Sig, the form a join event body
// embeds; [Decode] reads it back.
func (s *Signed) Encode() []byte {
	b := make([]byte, 0, binary.MaxVarintLen64+len(s.Raw)+len(s.Sig))
	b = binary.AppendUvarint(b, uint64(len(s.Raw)))
	b = append(b, s.Raw...)
	return append(b, s.Sig...)
}

// Decode reads the output of [Signed.Encode] and calls [DecodeSigned]. It
// returns an error wrapping ErrDamaged when b is not exactly one encoded
// Signed, or ErrForged when the signature does not verify.
func Decode(b []byte) (*Signed, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > MaxRawLen || uint64(len(b)-k) != n+ed25519.SignatureSize {
		return nil, malformed("its length is wrong")
	}
	raw := b[k : k+int(n)]
	if k != len(binary.AppendUvarint(nil, n)) {
		return nil, malformed("it is not in canonical form")
	}
	return DecodeSigned(raw, b[k+int(n):])
}
