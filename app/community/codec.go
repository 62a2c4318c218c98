package community

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrMalformed is returned by every decoder for bytes that are not a valid encoding.
var ErrMalformed = errors.New("community: malformed bytes")

// writer appends the canonical binary encoding used by envelopes and bodies: fixed-size
// fields as raw bytes, integers as unsigned varints, strings and byte slices length-prefixed.
type writer struct{ b []byte }

func (w *writer) byte1(v byte)     { w.b = append(w.b, v) }
func (w *writer) uvarint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *writer) varint(v int64)   { w.b = binary.AppendVarint(w.b, v) }
func (w *writer) hash(h Hash)      { w.b = append(w.b, h[:]...) }
func (w *writer) fixed(p []byte)   { w.b = append(w.b, p...) }
func (w *writer) bytes(p []byte)   { w.uvarint(uint64(len(p))); w.b = append(w.b, p...) }
func (w *writer) str(s string)     { w.uvarint(uint64(len(s))); w.b = append(w.b, s...) }
func (w *writer) flag(v bool) {
	if v {
		w.byte1(1)
	} else {
		w.byte1(0)
	}
}

// reader decodes what writer encodes. It never reads past its input, never allocates more than
// the input's length, and remembers the first error: callers check err once at the end.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrMalformed, what)
	}
	r.b = nil
}

func (r *reader) byte1() byte {
	if len(r.b) < 1 {
		r.fail("truncated")
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || n != uvarintLen(v) {
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// upTo reads an unsigned varint of at most max; larger values are refused, never clamped, so
// that every accepted body re-encodes to the same bytes.
func (r *reader) upTo(max uint64) uint64 {
	v := r.uvarint()
	if v > max {
		r.fail("value out of range")
		return 0
	}
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 || n != len(binary.AppendVarint(nil, v)) {
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) fixed(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.fail("truncated")
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) hash() Hash {
	var h Hash
	copy(h[:], r.fixed(len(h)))
	return h
}

// bytes reads a length-prefixed slice of at most max bytes. The result aliases the input.
func (r *reader) bytes(max int) []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(max) {
		r.fail("field too long")
		return nil
	}
	return r.fixed(int(n))
}

func (r *reader) str(max int) string { return string(r.bytes(max)) }

func (r *reader) flag() bool {
	switch r.byte1() {
	case 0:
		return false
	case 1:
		return true
	default:
		r.fail("bad flag")
		return false
	}
}

// count reads a list length of at most max entries, each taking at least minSize bytes, so a
// hostile length cannot make the caller allocate more than the input could hold.
func (r *reader) count(max, minSize int) int {
	n := r.uvarint()
	if r.err != nil {
		return 0
	}
	if n > uint64(max) || (minSize > 0 && n*uint64(minSize) > uint64(len(r.b))) {
		r.fail("list too long")
		return 0
	}
	return int(n)
}

// done reports the first error, or an error if bytes are left over.
func (r *reader) done() error {
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
	return r.err
}

// uvarintLen is the length of v's minimal encoding: longer encodings are refused, so every
// value has exactly one encoding.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
