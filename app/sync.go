package app

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/kith-app/kith/app/community"
)

// The sync stream's messages. A request asks for the events the answering member stored after
// its local mark; the answer carries them in the order they were stored (a causal order) and the
// mark to ask from next.
//
//	request = version[1]=1 | community[32] | uvarint mark
//	answer  = version[1]=1 | uvarint next | more[1] | uvarint n | n × (uvarint len | envelope)

const syncVersion = 1

var errSyncDamaged = errors.New("app: damaged sync message")

type syncRequest struct {
	community community.Hash
	mark      uint64
}

func (r syncRequest) encode() []byte {
	b := []byte{syncVersion}
	b = append(b, r.community[:]...)
	return binary.AppendUvarint(b, r.mark)
}

func decodeSyncRequest(b []byte) (syncRequest, error) {
	var r syncRequest
	if len(b) < 1+32+1 || len(b) > maxSyncRequest || b[0] != syncVersion {
		return r, fmt.Errorf("%w: a request of %d bytes", errSyncDamaged, len(b))
	}
	copy(r.community[:], b[1:33])
	m, n := uvarint(b[33:])
	if n <= 0 || 33+n != len(b) {
		return r, fmt.Errorf("%w: bad mark", errSyncDamaged)
	}
	r.mark = m
	return r, nil
}

type syncAnswer struct {
	next   uint64
	more   bool
	events [][]byte
}

func (a syncAnswer) encode() []byte {
	b := []byte{syncVersion}
	b = binary.AppendUvarint(b, a.next)
	more := byte(0)
	if a.more {
		more = 1
	}
	b = append(b, more)
	b = binary.AppendUvarint(b, uint64(len(a.events)))
	for _, e := range a.events {
		b = binary.AppendUvarint(b, uint64(len(e)))
		b = append(b, e...)
	}
	return b
}

// decodeSyncAnswer reads an answer with bounded allocation: the event slices alias b.
func decodeSyncAnswer(b []byte) (syncAnswer, error) {
	var a syncAnswer
	if len(b) < 4 || len(b) > maxSyncAnswer || b[0] != syncVersion {
		return a, fmt.Errorf("%w: an answer of %d bytes", errSyncDamaged, len(b))
	}
	p := 1
	uv := func() (uint64, bool) {
		v, n := uvarint(b[p:])
		if n <= 0 {
			return 0, false
		}
		p += n
		return v, true
	}
	next, ok := uv()
	if !ok || p >= len(b) || b[p] > 1 {
		return a, fmt.Errorf("%w: bad header", errSyncDamaged)
	}
	a.next, a.more = next, b[p] == 1
	p++
	count, ok := uv()
	if !ok || count > uint64(len(b)-p) {
		return a, fmt.Errorf("%w: bad count", errSyncDamaged)
	}
	a.events = make([][]byte, 0, count)
	for range count {
		l, ok := uv()
		if !ok || l > uint64(len(b)-p) || l > community.MaxEnvelopeSize {
			return syncAnswer{}, fmt.Errorf("%w: bad event length", errSyncDamaged)
		}
		a.events = append(a.events, b[p:p+int(l)])
		p += int(l)
	}
	if p != len(b) {
		return syncAnswer{}, fmt.Errorf("%w: trailing bytes", errSyncDamaged)
	}
	return a, nil
}

// uvarint reads a minimal unsigned varint (a longer encoding of the same value is refused, so
// every message has one encoding); n <= 0 on error.
func uvarint(b []byte) (uint64, int) {
	v, n := binary.Uvarint(b)
	if n > 0 && n != len(binary.AppendUvarint(nil, v)) {
		return 0, -1
	}
	return v, n
}
