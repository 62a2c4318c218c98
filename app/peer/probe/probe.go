// Package probe is the wire format of the membership probe (/kith/probe/1): a joiner that found
// a peer on the LAN or under the rendezvous key asks it whether it is a member of the community
// it joins, without naming the community, before it sends its join request (which would show
// the invite to a stranger). It imports the standard library only, so its fuzz target builds in
// seconds.
//
//	request = version[1]=1 | nonce[16] | tag[32]
//	answer  = version[1]=1 | proof[32]
//	tag     = HMAC-SHA256(key = community ID, "kith probe v1" | nonce | responder key[32])
//	proof   = HMAC-SHA256(key = community ID, "kith probe answer v1" | nonce | asker key[32])
//
// A member of the community recognises the tag (it tries each of its communities) and answers
// with the proof; anyone else learns nothing (the stream is reset), and cannot tell which
// community was meant: the tag is bound to a fresh nonce and to the responder's key, so it
// cannot be replayed to another peer either. The proof shows the asker that the responder knows
// the community ID, which only members and invite holders do.
package probe

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
)

// Sizes of the messages.
const (
	Version     = 1
	NonceSize   = 16
	RequestSize = 1 + NonceSize + sha256.Size
	AnswerSize  = 1 + sha256.Size
)

// ErrDamaged is returned for a message that is not a probe request or answer of this version.
var ErrDamaged = errors.New("probe: damaged probe message")

// Request is a probe request.
type Request struct {
	Nonce [NonceSize]byte
	Tag   [sha256.Size]byte
}

// Tag is what an asker sends a responder about community c.
func Tag(c [32]byte, nonce [NonceSize]byte, responder []byte) [sha256.Size]byte {
	return mac(c, "kith probe v1", nonce, responder)
}

// Proof is what a member answers an asker about community c.
func Proof(c [32]byte, nonce [NonceSize]byte, asker []byte) [sha256.Size]byte {
	return mac(c, "kith probe answer v1", nonce, asker)
}

func mac(c [32]byte, label string, nonce [NonceSize]byte, key []byte) [sha256.Size]byte {
	h := hmac.New(sha256.New, c[:])
	h.Write([]byte(label))
	h.Write(nonce[:])
	h.Write(key)
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// Encode writes the request.
func (r Request) Encode() []byte {
	b := make([]byte, 0, RequestSize)
	b = append(b, Version)
	b = append(b, r.Nonce[:]...)
	return append(b, r.Tag[:]...)
}

// DecodeRequest reads a request: exactly RequestSize bytes of this version.
func DecodeRequest(b []byte) (Request, error) {
	var r Request
	if len(b) != RequestSize || b[0] != Version {
		return r, ErrDamaged
	}
	copy(r.Nonce[:], b[1:])
	copy(r.Tag[:], b[1+NonceSize:])
	return r, nil
}

// EncodeAnswer writes an answer carrying proof.
func EncodeAnswer(proof [sha256.Size]byte) []byte { return append([]byte{Version}, proof[:]...) }

// DecodeAnswer reads an answer: exactly AnswerSize bytes of this version.
func DecodeAnswer(b []byte) ([sha256.Size]byte, error) {
	var p [sha256.Size]byte
	if len(b) != AnswerSize || b[0] != Version {
		return p, ErrDamaged
	}
	copy(p[:], b[1:])
	return p, nil
}

// Equal compares two tags or proofs in constant time.
func Equal(a, b [sha256.Size]byte) bool { return hmac.Equal(a[:], b[:]) }
