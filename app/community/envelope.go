package community

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Wire limits. Decoders refuse anything larger before allocating for it.
const (
	// Version is the envelope format version this code writes and reads.
	Version = 1
	// MaxDeps is the most heads an event may cite.
	MaxDeps = 16
	// MaxBodySize bounds a body; a key rotation to 1,000 members takes about 80 KB.
	MaxBodySize = 512 << 10
	// MaxHeaderSize bounds a header: fixed fields, 16 deps and varints.
	MaxHeaderSize = 1024
	// MaxEnvelopeSize bounds a whole envelope as it travels.
	MaxEnvelopeSize = MaxHeaderSize + MaxBodySize + 96
)

// Errors callers branch on.
var (
	ErrSignature = errors.New("community: the signature does not verify")
	ErrBodyHash  = errors.New("community: the body does not match the signed hash")
	ErrLamport   = errors.New("community: Lamport clock is not 1 + the highest of prev and deps")
	ErrChain     = errors.New("community: the previous-event link is wrong")
)

var signDomain = []byte("kith-event-v1\x00")

// Header is the signed part of an event. Its bytes, exactly as they travel, are what the author
// signs and what the event ID hashes; it is never re-encoded before verifying.
type Header struct {
	Version   uint8
	Community Hash              // zero in the genesis event (the community ID is the genesis ID)
	Author    ed25519.PublicKey // 32 bytes
	Seq       uint64            // the author's sequence number: 1, 2, ...
	Prev      Hash              // ID of the author's event Seq-1; zero when Seq is 1
	Deps      []Hash            // heads the author had seen: sorted, unique, at most MaxDeps
	Lamport   uint64            // 1 + the highest Lamport among Prev and Deps
	Time      int64             // the author's wall clock, Unix milliseconds: for display (and a join's countersigned time)
	Epoch     Hash              // the content-key epoch (the ID of the rotation that made the key)
	Kind      Kind
	BodyHash  Hash   // SHA-256 of the body
	BodyLen   uint32 // length of the body
}

// encode appends the canonical encoding of h.
func (h *Header) encode() []byte {
	w := writer{b: make([]byte, 0, 200+32*len(h.Deps))}
	w.byte1(h.Version)
	w.hash(h.Community)
	w.fixed(h.Author)
	w.uvarint(h.Seq)
	w.hash(h.Prev)
	w.uvarint(uint64(len(h.Deps)))
	for _, d := range h.Deps {
		w.hash(d)
	}
	w.uvarint(h.Lamport)
	w.varint(h.Time)
	w.hash(h.Epoch)
	w.uvarint(uint64(h.Kind))
	w.hash(h.BodyHash)
	w.uvarint(uint64(h.BodyLen))
	return w.b
}

// decodeHeader decodes header bytes and checks the rules that need nothing but the header.
func decodeHeader(b []byte) (Header, error) {
	var h Header
	if len(b) > MaxHeaderSize {
		return h, fmt.Errorf("%w: header too large", ErrMalformed)
	}
	r := reader{b: b}
	h.Version = r.byte1()
	if r.err == nil && h.Version != Version {
		return h, fmt.Errorf("%w: envelope version %d (this Kith reads %d: update Kith)", ErrMalformed, h.Version, Version)
	}
	h.Community = r.hash()
	h.Author = ed25519.PublicKey(r.fixed(ed25519.PublicKeySize))
	h.Seq = r.uvarint()
	h.Prev = r.hash()
	n := r.count(MaxDeps, 32)
	if n > 0 {
		h.Deps = make([]Hash, n)
		for i := range h.Deps {
			h.Deps[i] = r.hash()
		}
	}
	h.Lamport = r.uvarint()
	h.Time = r.varint()
	h.Epoch = r.hash()
	kind := r.uvarint()
	h.BodyHash = r.hash()
	bl := r.uvarint()
	if err := r.done(); err != nil {
		return h, err
	}
	if kind > 0xffff || bl > MaxBodySize {
		return h, fmt.Errorf("%w: kind or body length out of range", ErrMalformed)
	}
	h.Kind, h.BodyLen = Kind(kind), uint32(bl)
	return h, h.check()
}

// check enforces the header rules that need no other event.
func (h *Header) check() error {
	switch {
	case h.Seq == 0:
		return fmt.Errorf("%w: sequence 0", ErrMalformed)
	case (h.Seq == 1) != h.Prev.IsZero():
		return fmt.Errorf("%w: sequence %d with previous %s", ErrChain, h.Seq, h.Prev.Short())
	case h.Lamport == 0:
		return fmt.Errorf("%w: zero", ErrLamport)
	case !h.Kind.Known():
		return fmt.Errorf("%w: unknown kind %d (update Kith)", ErrMalformed, h.Kind)
	case len(h.Deps) > MaxDeps:
		return fmt.Errorf("%w: %d deps", ErrMalformed, len(h.Deps))
	}
	for i, d := range h.Deps {
		if i > 0 && h.Deps[i-1].Compare(d) >= 0 {
			return fmt.Errorf("%w: deps not sorted and unique", ErrMalformed)
		}
		if d == h.Prev {
			return fmt.Errorf("%w: the previous event is also listed as a dep", ErrMalformed)
		}
	}
	if h.Kind == KindGenesis {
		if !h.Community.IsZero() || h.Seq != 1 || len(h.Deps) != 0 || h.Lamport != 1 {
			return fmt.Errorf("%w: a genesis event has no community, deps or previous event, and Lamport 1", ErrMalformed)
		}
	} else if h.Community.IsZero() || (h.Seq == 1 && len(h.Deps) == 0) {
		return fmt.Errorf("%w: an event other than genesis needs a community and a dependency", ErrMalformed)
	}
	return nil
}

// WallTime is the author's clock at signing, for display only.
func (h *Header) WallTime() time.Time { return time.UnixMilli(h.Time) }

// Event is a decoded, self-consistent envelope: a signed header and, unless it was dropped,
// its body. Create events with Build or Genesis; read them with Decode.
type Event struct {
	Header
	ID   Hash   // SHA-256 of the header bytes and signature: the event's name everywhere
	Body []byte // nil when the body was dropped (deletion, pruning) or is empty

	raw []byte // header bytes exactly as signed and as they travel
	sig []byte
}

// Position is where the event sits in (Lamport, ID) order.
func (e *Event) Position() Position { return Position{e.Lamport, e.ID} }

// CommunityID is the community the event belongs to (for genesis, its own ID).
func (e *Event) CommunityID() Hash {
	if e.Kind == KindGenesis {
		return e.ID
	}
	return e.Community
}

// HasBody reports whether the body travelled with the event.
func (e *Event) HasBody() bool { return e.BodyLen == 0 || e.Body != nil }

// RawHeader returns the signed header bytes and the signature, as they travel.
func (e *Event) RawHeader() (header, sig []byte) { return e.raw, e.sig }

// Encode returns the envelope as it travels: version byte, header, signature, body.
func (e *Event) Encode() []byte { return e.encode(true) }

// EncodeWithoutBody returns the envelope with its body dropped. It still verifies.
func (e *Event) EncodeWithoutBody() []byte { return e.encode(false) }

func (e *Event) encode(withBody bool) []byte {
	w := writer{b: make([]byte, 0, len(e.raw)+len(e.sig)+len(e.Body)+8)}
	w.byte1(Version)
	w.bytes(e.raw)
	w.fixed(e.sig)
	if withBody {
		w.bytes(e.Body)
	} else {
		w.bytes(nil)
	}
	return w.b
}

// Decode parses an envelope with bounded allocation and verifies what it can alone: the header
// rules, the signature over the header bytes as they travelled, and the body hash when the body
// is present. It does not check the Lamport rule or membership: those need other events.
func Decode(b []byte) (*Event, error) { return decode(b, true) }

// DecodeStored decodes an envelope read back from this install's own store, which verified it
// before storing it: the same bounded decode and checks as Decode but the signature's, which
// is the one costly step (about 55 µs). Never use it for bytes from the network.
func DecodeStored(b []byte) (*Event, error) { return decode(b, false) }

// Verify checks the signature of an event decoded without it (DecodeStored): Decode's check,
// without decoding and hashing the envelope again.
func (e *Event) Verify() error {
	if len(e.raw) == 0 || !ed25519.Verify(e.Author, signingBytes(e.raw), e.sig) {
		return ErrSignature
	}
	return nil
}

func decode(b []byte, verify bool) (*Event, error) {
	if len(b) > MaxEnvelopeSize {
		return nil, fmt.Errorf("%w: envelope of %d bytes (limit %d)", ErrMalformed, len(b), MaxEnvelopeSize)
	}
	r := reader{b: b}
	if v := r.byte1(); r.err == nil && v != Version {
		return nil, fmt.Errorf("%w: envelope version %d (this Kith reads %d: update Kith)", ErrMalformed, v, Version)
	}
	raw := r.bytes(MaxHeaderSize)
	sig := r.fixed(ed25519.SignatureSize)
	body := r.bytes(MaxBodySize)
	if err := r.done(); err != nil {
		return nil, err
	}
	h, err := decodeHeader(raw)
	if err != nil {
		return nil, err
	}
	if verify && !ed25519.Verify(h.Author, signingBytes(raw), sig) {
		return nil, ErrSignature
	}
	e := &Event{Header: h, raw: raw, sig: sig, ID: eventID(raw, sig)}
	if len(body) > 0 || h.BodyLen == 0 {
		if uint32(len(body)) != h.BodyLen || sum(body) != h.BodyHash {
			return nil, ErrBodyHash
		}
		if len(body) > 0 {
			e.Body = body
		}
	}
	return e, nil
}

// DecodeBatch decodes and verifies envelopes received together (a sync answer, a gossip
// message) like Decode, but checks one signature per run of an author's hash-linked events: an
// event whose successor in the batch is verified (or itself vouched for) and names it as its
// previous event is vouched for by that signed header, which commits to its ID — the hash of its
// header and its signature. So a sync of one author's 500 events costs one Ed25519 verify, not
// 500 (DESIGN 3: catch-up is bound by storage). It returns the events that pass, in their order,
// and one error per envelope refused.
func DecodeBatch(envelopes [][]byte) ([]*Event, []error) {
	var errs []error
	events := make([]*Event, 0, len(envelopes))
	for _, b := range envelopes {
		e, err := decode(b, false)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		events = append(events, e)
	}
	// Newest first within each author, so a successor's verdict is known before its predecessor's.
	order := make([]*Event, len(events))
	copy(order, events)
	slices.SortFunc(order, func(a, b *Event) int {
		if c := bytes.Compare(a.Author, b.Author); c != 0 {
			return c
		}
		return cmp.Compare(b.Seq, a.Seq)
	})
	type link struct {
		author string
		seq    uint64
	}
	good := make(map[Hash]bool, len(events)) // verified or vouched for
	vouched := map[Hash]link{}               // Prev of a good event → the author and number it must have
	for _, e := range order {
		l, ok := vouched[e.ID]
		if ok && l.author == string(e.Author) && l.seq == e.Seq || ed25519.Verify(e.Author, signingBytes(e.raw), e.sig) {
			good[e.ID] = true
			if e.Seq > 1 {
				vouched[e.Prev] = link{string(e.Author), e.Seq - 1}
			}
		}
	}
	out := events[:0]
	for _, e := range events {
		if good[e.ID] {
			out = append(out, e)
		} else {
			errs = append(errs, ErrSignature)
		}
	}
	return out, errs
}

// IDOf returns the event ID of an envelope without verifying it (cheap: a hash of the signed
// header). Gossip uses it as the message ID, before validation; Decode still verifies.
func IDOf(b []byte) (Hash, error) {
	if len(b) > MaxEnvelopeSize {
		return Hash{}, ErrMalformed
	}
	r := reader{b: b}
	if v := r.byte1(); r.err == nil && v != Version {
		return Hash{}, ErrMalformed
	}
	raw := r.bytes(MaxHeaderSize)
	sig := r.fixed(ed25519.SignatureSize)
	if r.err != nil {
		return Hash{}, r.err
	}
	return eventID(raw, sig), nil
}

// VerifyRawHeader checks a signed header on its own (as equivocation proofs carry them) and
// returns it with its event ID.
func VerifyRawHeader(raw, sig []byte) (Header, Hash, error) {
	h, err := decodeHeader(raw)
	if err != nil {
		return h, Hash{}, err
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(h.Author, signingBytes(raw), sig) {
		return h, Hash{}, ErrSignature
	}
	return h, eventID(raw, sig), nil
}

// signingBytes is what the author signs: a domain tag and the header bytes.
func signingBytes(raw []byte) []byte {
	return append(append(make([]byte, 0, len(signDomain)+len(raw)), signDomain...), raw...)
}

func eventID(raw, sig []byte) Hash { return sum(raw, sig) }

// Signer signs without handing out its key; app/identity's Identity is one.
type Signer interface {
	PublicKey() ed25519.PublicKey
	Sign(msg []byte) ([]byte, error)
}

// Draft is what an author decides before signing; Build fills in the rest.
type Draft struct {
	Community Hash
	Kind      Kind
	Body      []byte
	Epoch     Hash
	Time      time.Time // the author's wall clock, passed in: this package never reads the clock
	// Prev is the author's latest event (nil for its first event in this community).
	Prev *Event
	// Deps are the heads the author has seen, with their Lamport values. Build sorts them,
	// drops duplicates and the previous event, and keeps the MaxDeps with the highest Lamport.
	Deps []Position
	// Cite are events the new one must cite whatever their age, before the heads (a deletion
	// cites the message it deletes, so that no peer accepts the deletion before the message).
	Cite []Position
}

// Build signs a new event from d. Lamport is derived by the rule, never chosen.
func Build(s Signer, d Draft) (*Event, error) {
	if len(d.Body) > MaxBodySize {
		return nil, fmt.Errorf("community: body of %d bytes is over the %d-byte limit: shorten it", len(d.Body), MaxBodySize)
	}
	if len(d.Cite) > MaxDeps {
		return nil, fmt.Errorf("community: an event cites at most %d events, not %d", MaxDeps, len(d.Cite))
	}
	deps := slices.Clone(d.Deps)
	// Highest Lamport first, so trimming keeps the most recent heads; what must be cited first.
	slices.SortFunc(deps, func(a, b Position) int { return b.Compare(a) })
	deps = append(slices.Clone(d.Cite), deps...)
	h := Header{
		Version:   Version,
		Community: d.Community,
		Author:    s.PublicKey(),
		Seq:       1,
		Epoch:     d.Epoch,
		Time:      d.Time.UnixMilli(),
		Kind:      d.Kind,
		BodyHash:  sum(d.Body),
		BodyLen:   uint32(len(d.Body)),
	}
	var maxL uint64
	if d.Prev != nil {
		if !bytes.Equal(d.Prev.Author, h.Author) {
			return nil, fmt.Errorf("%w: previous event is by another author", ErrChain)
		}
		h.Seq, h.Prev, maxL = d.Prev.Seq+1, d.Prev.ID, d.Prev.Lamport
	}
	for _, p := range deps {
		if len(h.Deps) == MaxDeps {
			break
		}
		if d.Prev != nil && p.ID == d.Prev.ID || slices.Contains(h.Deps, p.ID) {
			continue
		}
		h.Deps = append(h.Deps, p.ID)
		maxL = max(maxL, p.Lamport)
	}
	slices.SortFunc(h.Deps, Hash.Compare)
	h.Lamport = maxL + 1
	if err := h.check(); err != nil {
		return nil, err
	}
	raw := h.encode()
	sig, err := s.Sign(signingBytes(raw))
	if err != nil {
		return nil, fmt.Errorf("community: signing: %w", err)
	}
	e := &Event{Header: h, raw: raw, sig: sig, ID: eventID(raw, sig)}
	if len(d.Body) > 0 {
		e.Body = slices.Clone(d.Body)
	}
	return e, nil
}

// Compare orders positions: -1, 0 or +1.
func (p Position) Compare(o Position) int {
	switch {
	case p.Lamport < o.Lamport:
		return -1
	case p.Lamport > o.Lamport:
		return 1
	}
	return p.ID.Compare(o.ID)
}

// Known is what CheckCausal needs to know of an event already accepted.
type Known struct {
	Author  ed25519.PublicKey
	Seq     uint64
	Lamport uint64
}

// MissingError lists the events an event waits for: it is early, not invalid.
type MissingError struct{ IDs []Hash }

func (e *MissingError) Error() string {
	return fmt.Sprintf("community: waiting for %d earlier event(s), first %s", len(e.IDs), e.IDs[0].Short())
}

// CheckCausal checks the rules that need the events an event cites: its previous event is the
// author's Seq-1, and Lamport = 1 + the highest Lamport of Prev and Deps. When some are not
// known yet it returns a *MissingError: the event waits, it is not rejected.
func CheckCausal(h *Header, lookup func(Hash) (Known, bool)) error {
	var missing []Hash
	var maxL uint64
	if !h.Prev.IsZero() {
		k, ok := lookup(h.Prev)
		switch {
		case !ok:
			missing = append(missing, h.Prev)
		case !bytes.Equal(k.Author, h.Author) || k.Seq != h.Seq-1:
			return fmt.Errorf("%w: previous event is not the author's event %d", ErrChain, h.Seq-1)
		default:
			maxL = k.Lamport
		}
	}
	for _, d := range h.Deps {
		k, ok := lookup(d)
		if !ok {
			missing = append(missing, d)
			continue
		}
		maxL = max(maxL, k.Lamport)
	}
	if len(missing) > 0 {
		return &MissingError{IDs: missing}
	}
	if h.Lamport != maxL+1 {
		return fmt.Errorf("%w: got %d, want %d", ErrLamport, h.Lamport, maxL+1)
	}
	return nil
}
