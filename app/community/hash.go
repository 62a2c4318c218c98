package community

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
)

// Hash is a SHA-256 digest. Event IDs, community IDs, channel IDs and epoch names are Hashes.
type Hash [32]byte

// String returns the lowercase hex form.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Short returns the first 8 hex digits, for logs and people.
func (h Hash) Short() string { return hex.EncodeToString(h[:4]) }

// IsZero reports whether h is all zeros (the "none" value).
func (h Hash) IsZero() bool { return h == Hash{} }

// Compare orders hashes bytewise.
func (h Hash) Compare(o Hash) int { return bytes.Compare(h[:], o[:]) }

// ParseHash parses the hex form of a Hash.
func ParseHash(s string) (Hash, error) {
	var h Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, ErrMalformed
	}
	copy(h[:], b)
	return h, nil
}

func sum(parts ...[]byte) Hash {
	d := sha256.New()
	for _, p := range parts {
		d.Write(p)
	}
	var h Hash
	d.Sum(h[:0])
	return h
}

// Position is a place in the one order used everywhere: (Lamport, event ID).
type Position struct {
	Lamport uint64
	ID      Hash
}

// Less reports whether p comes before o.
func (p Position) Less(o Position) bool {
	if p.Lamport != o.Lamport {
		return p.Lamport < o.Lamport
	}
	return p.ID.Compare(o.ID) < 0
}
