package app

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/kith-app/kith/app/community"
)

// The sync stream's messages. A request asks for the events the answering member stored after
// its local mark `mark`; on first contact (mark 0) it also carries the asker's per-author heads
// (sequence and head ID), so the answer leaves out what the asker already has. The answer
// carries events in the order the member stored them (a causal order), the mark to ask from
// next, and the member's latest mark, which makes progress ("n of N") reportable.
//
//	request = version[1]=1 | community[32] | uvarint mark | uvarint n | n × head
//	head    = author[32] | uvarint seq | id[32]
//	answer  = version[1]=1 | uvarint next | uvarint latest | more[1] | uvarint n | n × (uvarint len | envelope)

const syncVersion = 1

// maxSyncHeads bounds the heads a request carries; a community with more authors syncs its
// first contact without them (everything is sent; duplicates are skipped on arrival).
const maxSyncHeads = 4096

const syncHeadSize = 32 + 32 + 1 // the smallest encoding of a head

var errSyncDamaged = errors.New("app: damaged sync message")

type syncHead struct {
	author [32]byte
	seq    uint64
	id     community.Hash
}

type syncRequest struct {
	community community.Hash
	mark      uint64
	heads     []syncHead
}

func (r syncRequest) encode() []byte {
	b := make([]byte, 0, 1+32+10+3+len(r.heads)*(syncHeadSize+9))
	b = append(b, syncVersion)
	b = append(b, r.community[:]...)
	b = binary.AppendUvarint(b, r.mark)
	b = binary.AppendUvarint(b, uint64(len(r.heads)))
	for _, h := range r.heads {
		b = append(b, h.author[:]...)
		b = binary.AppendUvarint(b, h.seq)
		b = append(b, h.id[:]...)
	}
	return b
}

func decodeSyncRequest(b []byte) (syncRequest, error) {
	var r syncRequest
	if len(b) < 1+32+2 || len(b) > maxSyncRequest || b[0] != syncVersion {
		return r, fmt.Errorf("%w: a request of %d bytes", errSyncDamaged, len(b))
	}
	copy(r.community[:], b[1:33])
	p := 33
	m, n := uvarint(b[p:])
	if n <= 0 {
		return r, fmt.Errorf("%w: bad mark", errSyncDamaged)
	}
	r.mark, p = m, p+n
	count, n := uvarint(b[p:])
	if n <= 0 || count > maxSyncHeads || count > uint64(len(b)-p-n)/syncHeadSize {
		return r, fmt.Errorf("%w: bad head count", errSyncDamaged)
	}
	p += n
	r.heads = make([]syncHead, count)
	for i := range r.heads {
		h := &r.heads[i]
		if len(b)-p < syncHeadSize {
			return syncRequest{}, fmt.Errorf("%w: short head", errSyncDamaged)
		}
		copy(h.author[:], b[p:p+32])
		p += 32
		s, n := uvarint(b[p:])
		if n <= 0 || len(b)-p-n < 32 {
			return syncRequest{}, fmt.Errorf("%w: bad head", errSyncDamaged)
		}
		h.seq, p = s, p+n
		copy(h.id[:], b[p:p+32])
		p += 32
	}
	if p != len(b) {
		return syncRequest{}, fmt.Errorf("%w: trailing bytes", errSyncDamaged)
	}
	return r, nil
}

// have reports whether the asker's heads say it already holds e. held says whether the
// answering store holds a head itself, as the same event (same ID, author and number): then the
// asker's chain of that author up to it is the one here (each event names its previous one's ID,
// which covers its header and signature), and the events up to that number are left out. For an
// author whose head is not held here — the asker is ahead, or holds another branch of a fork —
// nothing is left out: duplicates are cheap on arrival, and a fork reaches the asker's store,
// which sees the equivocation.
func (r syncRequest) have(held func(syncHead) bool) func(e *community.Event) bool {
	heads := make(map[[32]byte]uint64, len(r.heads))
	for _, h := range r.heads {
		if held(h) {
			heads[h.author] = h.seq
		}
	}
	return func(e *community.Event) bool {
		seq, ok := heads[[32]byte(e.Author)]
		return ok && e.Seq <= seq
	}
}

// headsOf lists what a request carries on first contact: each author's latest stored event.
func headsOf(heads []*community.Event) []syncHead {
	if len(heads) > maxSyncHeads {
		return nil
	}
	out := make([]syncHead, 0, len(heads))
	for _, e := range heads {
		if len(e.Author) != ed25519.PublicKeySize {
			continue
		}
		out = append(out, syncHead{author: [32]byte(e.Author), seq: e.Seq, id: e.ID})
	}
	return out
}

type syncAnswer struct {
	next   uint64 // the mark to ask from next
	latest uint64 // the member's latest mark: how far there is to go
	more   bool   // the member has events after next
	events [][]byte
}

func (a syncAnswer) encode() []byte {
	b := []byte{syncVersion}
	b = binary.AppendUvarint(b, a.next)
	b = binary.AppendUvarint(b, a.latest)
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
	if len(b) < 5 || len(b) > maxSyncAnswer || b[0] != syncVersion {
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
	next, ok1 := uv()
	latest, ok2 := uv()
	if !ok1 || !ok2 || p >= len(b) || b[p] > 1 {
		return a, fmt.Errorf("%w: bad header", errSyncDamaged)
	}
	a.next, a.latest, a.more = next, latest, b[p] == 1
	p++
	count, ok := uv()
	if !ok || count > syncBatch || count > uint64(len(b)-p)/2 {
		return a, fmt.Errorf("%w: bad count", errSyncDamaged)
	}
	a.events = make([][]byte, 0, count)
	for range count {
		l, ok := uv()
		if !ok || l == 0 || l > uint64(len(b)-p) || l > community.MaxEnvelopeSize {
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
