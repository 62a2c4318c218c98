// Package book is the wire format of the members' address book stream (/kith/addrs/1): a list
// of peer IDs and their addresses, decoded with bounds. It imports the standard library only, so
// its fuzz target builds in seconds.
package book

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Bounds of an answer.
const (
	Version       = 1
	MaxAnswer     = 256 << 10
	MaxEntries    = 1024 // entries per answer
	MaxEntryAddrs = 8    // addresses per entry
	MaxAddrLen    = 256
	MaxPeerIDLen  = 128
	minEntrySize  = 2
)

// Entry is one peer and its addresses (full multiaddrs, each starting with "/").
type Entry struct {
	PeerID string
	Addrs  []string
}

// Encode writes an answer.
func Encode(entries []Entry) []byte {
	b := []byte{Version}
	b = binary.AppendUvarint(b, uint64(len(entries)))
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, e := range entries {
		str(e.PeerID)
		b = binary.AppendUvarint(b, uint64(len(e.Addrs)))
		for _, a := range e.Addrs {
			str(a)
		}
	}
	return b
}

// ErrDamaged is returned for an answer that does not decode.
var ErrDamaged = errors.New("book: damaged address book answer")

// Decode reads an answer with bounded allocation; it accepts only canonical encodings.
func Decode(b []byte) ([]Entry, error) {
	if len(b) < 2 || len(b) > MaxAnswer || b[0] != Version {
		return nil, fmt.Errorf("%w: %d bytes", ErrDamaged, len(b))
	}
	p := 1
	uv := func(max uint64) (uint64, bool) {
		v, n := binary.Uvarint(b[p:])
		if n <= 0 || n != len(binary.AppendUvarint(nil, v)) || v > max {
			return 0, false
		}
		p += n
		return v, true
	}
	str := func(max int) (string, bool) {
		l, ok := uv(uint64(max))
		if !ok || l == 0 || l > uint64(len(b)-p) {
			return "", false
		}
		s := string(b[p : p+int(l)])
		p += int(l)
		return s, true
	}
	n, ok := uv(MaxEntries)
	if !ok || n > uint64(len(b)-p)/minEntrySize {
		return nil, fmt.Errorf("%w: bad count", ErrDamaged)
	}
	out := make([]Entry, 0, n)
	for range n {
		var e Entry
		if e.PeerID, ok = str(MaxPeerIDLen); !ok {
			return nil, fmt.Errorf("%w: bad peer ID", ErrDamaged)
		}
		k, ok := uv(MaxEntryAddrs)
		if !ok {
			return nil, fmt.Errorf("%w: bad address count", ErrDamaged)
		}
		for range k {
			a, ok := str(MaxAddrLen)
			if !ok || a[0] != '/' {
				return nil, fmt.Errorf("%w: bad address", ErrDamaged)
			}
			e.Addrs = append(e.Addrs, a)
		}
		out = append(out, e)
	}
	if p != len(b) {
		return nil, fmt.Errorf("%w: trailing bytes", ErrDamaged)
	}
	return out, nil
}
