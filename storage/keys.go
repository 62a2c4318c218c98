package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Key prefixes. The layout of every key and value is written down in doc.go;
// keep the two in step.
const (
	prefixSchema    byte = 0x00 // 0x00 → schema version byte
	prefixEvent     byte = 0x01 // c | author | seq → event record
	prefixEventID   byte = 0x02 // c | id → pointer (author, seq)
	prefixPage      byte = 0x03 // c | channel | lamport | id → pointer
	prefixAuthority byte = 0x04 // c | lamport | id → pointer
	prefixLocal     byte = 0x05 // c | local number → pointer
	prefixHead      byte = 0x06 // c | author → seq | id
	prefixState     byte = 0x07 // c → folded state (opaque)
	prefixCommunity byte = 0x08 // c → community record (last local number)
	prefixPeer      byte = 0x09 // peer ID bytes → peer record
	prefixSetting   byte = 0x0A // setting name bytes → value (opaque)
	prefixSearch    byte = 0x0B // c | term | lamport | id[:8] → nothing (the search index)
)

// schemaVersion is the version of the key schema this code writes and reads.
const schemaVersion byte = 1

// Record versions: the first byte of each record value this package defines.
const (
	eventRecordV1     byte = 1
	communityRecordV1 byte = 1
	peerRecordV1      byte = 1
	peerRecordV2      byte = 2 // v1 and a flags byte (bit 0: the peer serves a relay)
)

const (
	hashLen    = 32
	ptrLen     = hashLen + 8 // author | seq
	headLen    = 8 + hashLen // seq | id
	eventHdr   = 1 + hashLen + 8 + hashLen + 1
	flagAuthor = 1 << 0 // event record flag: listed in the authority index
)

// key starts a key with prefix p and room for n more bytes.
func key(p byte, n int) []byte {
	k := make([]byte, 1, 1+n)
	k[0] = p
	return k
}

func schemaKey() []byte { return []byte{prefixSchema} }

// eventKey is the key of an event record: 0x01 | c | author | seq.
func eventKey(c CommunityID, a AuthorKey, seq uint64) []byte {
	k := key(prefixEvent, 2*hashLen+8)
	k = append(k, c[:]...)
	k = append(k, a[:]...)
	return binary.BigEndian.AppendUint64(k, seq)
}

// authorEventsPrefix is the prefix of all event records of one author.
func authorEventsPrefix(c CommunityID, a AuthorKey) []byte {
	k := key(prefixEvent, 2*hashLen)
	k = append(k, c[:]...)
	return append(k, a[:]...)
}

// eventIDKey is the key of the ID index: 0x02 | c | id.
func eventIDKey(c CommunityID, id EventID) []byte {
	k := key(prefixEventID, 2*hashLen)
	k = append(k, c[:]...)
	return append(k, id[:]...)
}

// pageKey is the key of the channel page index: 0x03 | c | channel | lamport | id.
func pageKey(c CommunityID, ch ChannelID, lamport uint64, id EventID) []byte {
	k := pagePrefix(c, ch)
	k = binary.BigEndian.AppendUint64(k, lamport)
	return append(k, id[:]...)
}

// pagePrefix is the prefix of one channel's page index.
func pagePrefix(c CommunityID, ch ChannelID) []byte {
	k := key(prefixPage, 3*hashLen+8)
	k = append(k, c[:]...)
	return append(k, ch[:]...)
}

// pageEnd is a key greater than every page key of the channel and smaller than
// any key after it: the channel prefix followed by 0xFF for lamport and id.
func pageEnd(c CommunityID, ch ChannelID) []byte {
	k := pagePrefix(c, ch)
	for range 8 + hashLen {
		k = append(k, 0xFF)
	}
	return k
}

// authorityKey is the key of the authority index: 0x04 | c | lamport | id.
func authorityKey(c CommunityID, lamport uint64, id EventID) []byte {
	k := authorityPrefix(c)
	k = binary.BigEndian.AppendUint64(k, lamport)
	return append(k, id[:]...)
}

func authorityPrefix(c CommunityID) []byte {
	k := key(prefixAuthority, 2*hashLen+8)
	return append(k, c[:]...)
}

// localKey is the key of the local-mark index: 0x05 | c | local number.
func localKey(c CommunityID, n uint64) []byte {
	k := localPrefix(c)
	return binary.BigEndian.AppendUint64(k, n)
}

func localPrefix(c CommunityID) []byte {
	k := key(prefixLocal, hashLen+8)
	return append(k, c[:]...)
}

// headKey is the key of an author's head: 0x06 | c | author.
func headKey(c CommunityID, a AuthorKey) []byte {
	k := headPrefix(c)
	return append(k, a[:]...)
}

func headPrefix(c CommunityID) []byte {
	k := key(prefixHead, 2*hashLen)
	return append(k, c[:]...)
}

// stateKey is the key of a community's folded state: 0x07 | c.
func stateKey(c CommunityID) []byte {
	k := key(prefixState, hashLen)
	return append(k, c[:]...)
}

// communityKey is the key of a community record: 0x08 | c.
func communityKey(c CommunityID) []byte {
	k := key(prefixCommunity, hashLen)
	return append(k, c[:]...)
}

// peerKey is the key of an address-book entry: 0x09 | peer ID bytes.
func peerKey(id string) []byte {
	k := key(prefixPeer, len(id))
	return append(k, id...)
}

// settingKey is the key of a setting: 0x0A | name bytes.
func settingKey(name string) []byte {
	k := key(prefixSetting, len(name))
	return append(k, name...)
}

// encodePtr encodes a pointer to an event record: author | seq.
func encodePtr(a AuthorKey, seq uint64) []byte {
	v := make([]byte, 0, ptrLen)
	v = append(v, a[:]...)
	return binary.BigEndian.AppendUint64(v, seq)
}

func decodePtr(v []byte) (AuthorKey, uint64, error) {
	var a AuthorKey
	if len(v) != ptrLen {
		return a, 0, errDamaged("index entry", fmt.Sprintf("%d bytes, want %d", len(v), ptrLen))
	}
	copy(a[:], v)
	return a, binary.BigEndian.Uint64(v[hashLen:]), nil
}

// encodeHead encodes an author's head: seq | id.
func encodeHead(seq uint64, id EventID) []byte {
	v := make([]byte, 0, headLen)
	v = binary.BigEndian.AppendUint64(v, seq)
	return append(v, id[:]...)
}

func decodeHead(a AuthorKey, v []byte) (Head, error) {
	if len(v) != headLen {
		return Head{}, errDamaged("head record", fmt.Sprintf("%d bytes, want %d", len(v), headLen))
	}
	h := Head{Author: a, Seq: binary.BigEndian.Uint64(v)}
	copy(h.ID[:], v[8:])
	return h, nil
}

// encodeEvent encodes an event record:
// version | id | lamport | channel | flags | envelope.
func encodeEvent(e *Event) []byte {
	v := make([]byte, 0, eventHdr+len(e.Envelope))
	v = append(v, eventRecordV1)
	v = append(v, e.ID[:]...)
	v = binary.BigEndian.AppendUint64(v, e.Lamport)
	v = append(v, e.Channel[:]...)
	var flags byte
	if e.Authority {
		flags |= flagAuthor
	}
	v = append(v, flags)
	return append(v, e.Envelope...)
}

// decodeEvent decodes an event record found under eventKey(c, a, seq). The
// envelope is copied: v may be a buffer that Badger reuses.
func decodeEvent(c CommunityID, a AuthorKey, seq uint64, v []byte) (Event, error) {
	if len(v) < eventHdr {
		return Event{}, errDamaged("event record", fmt.Sprintf("%d bytes, want at least %d", len(v), eventHdr))
	}
	if v[0] != eventRecordV1 {
		return Event{}, errVersion("event record", v[0])
	}
	e := Event{Community: c, Author: a, Seq: seq}
	p := 1
	copy(e.ID[:], v[p:])
	p += hashLen
	e.Lamport = binary.BigEndian.Uint64(v[p:])
	p += 8
	copy(e.Channel[:], v[p:])
	p += hashLen
	e.Authority = v[p]&flagAuthor != 0
	p++
	if len(v) > p {
		e.Envelope = append([]byte(nil), v[p:]...)
	}
	return e, nil
}

// eventRecordID reads only the event ID of an event record.
func eventRecordID(v []byte) (EventID, error) {
	var id EventID
	if len(v) < eventHdr {
		return id, errDamaged("event record", fmt.Sprintf("%d bytes, want at least %d", len(v), eventHdr))
	}
	if v[0] != eventRecordV1 {
		return id, errVersion("event record", v[0])
	}
	copy(id[:], v[1:])
	return id, nil
}

// eventRecordLamport reads only the Lamport time of an event record.
func eventRecordLamport(v []byte) (uint64, error) {
	if _, err := eventRecordID(v); err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint64(v[1+hashLen:]), nil
}

// encodeCommunity encodes a community record: version | last local number.
func encodeCommunity(lastLocal uint64) []byte {
	v := make([]byte, 0, 9)
	v = append(v, communityRecordV1)
	return binary.BigEndian.AppendUint64(v, lastLocal)
}

func decodeCommunity(v []byte) (uint64, error) {
	if len(v) != 9 {
		return 0, errDamaged("community record", fmt.Sprintf("%d bytes, want 9", len(v)))
	}
	if v[0] != communityRecordV1 {
		return 0, errVersion("community record", v[0])
	}
	return binary.BigEndian.Uint64(v[1:]), nil
}

// encodePeer encodes a peer record:
// version (2) | uvarint len, ID | uvarint count, (uvarint len, addr)... |
// seen flag (0 or 1) | int64 unix nanoseconds if seen | uvarint count, community IDs |
// flags (bit 0: relay). Version 1, which decodePeer still reads, has no flags.
func encodePeer(p *Peer) []byte {
	v := []byte{peerRecordV2}
	v = binary.AppendUvarint(v, uint64(len(p.ID)))
	v = append(v, p.ID...)
	v = binary.AppendUvarint(v, uint64(len(p.Addrs)))
	for _, a := range p.Addrs {
		v = binary.AppendUvarint(v, uint64(len(a)))
		v = append(v, a...)
	}
	if p.LastSeen.IsZero() {
		v = append(v, 0)
	} else {
		v = append(v, 1)
		v = binary.BigEndian.AppendUint64(v, uint64(p.LastSeen.UnixNano()))
	}
	v = binary.AppendUvarint(v, uint64(len(p.Communities)))
	for _, c := range p.Communities {
		v = append(v, c[:]...)
	}
	var flags byte
	if p.Relay {
		flags |= 1
	}
	return append(v, flags)
}

var errShortPeer = errors.New("record ends early")

func decodePeer(v []byte) (Peer, error) {
	var p Peer
	if len(v) == 0 {
		return p, errDamaged("peer record", "empty")
	}
	if v[0] != peerRecordV1 && v[0] != peerRecordV2 {
		return p, errVersion("peer record", v[0])
	}
	r := reader{b: v[1:]}
	p.ID = string(r.bytes())
	n := r.uvarint()
	for i := uint64(0); i < n && r.err == nil; i++ {
		p.Addrs = append(p.Addrs, string(r.bytes()))
	}
	if seen := r.next(1); r.err == nil && seen[0] == 1 {
		p.LastSeen = time.Unix(0, int64(binary.BigEndian.Uint64(r.next(8))))
	}
	n = r.uvarint()
	for i := uint64(0); i < n && r.err == nil; i++ {
		var c CommunityID
		copy(c[:], r.next(hashLen))
		p.Communities = append(p.Communities, c)
	}
	if v[0] == peerRecordV2 {
		if f := r.next(1); r.err == nil {
			p.Relay = f[0]&1 != 0
		}
	}
	if r.err != nil {
		return Peer{}, errDamaged("peer record", r.err.Error())
	}
	return p, nil
}

// reader reads a record; after the first error every read returns zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) next(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.err = errShortPeer
		return make([]byte, n)
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShortPeer
		return 0
	}
	r.b = r.b[n:]
	return x
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errShortPeer
		return nil
	}
	return r.next(int(n))
}
