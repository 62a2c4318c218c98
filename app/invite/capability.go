package invite

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits of a capability.
const (
	MaxNameLen      = 100 // bytes of CommunityName
	MaxBootstrap    = 8   // bootstrap addresses (version 1 only)
	MaxBootstrapLen = 256 // bytes of one bootstrap address (version 1 only)

	// MaxRawLen is the length of the largest valid Raw (version 1: a 100-byte
	// name and eight 256-byte addresses). Decoders refuse anything longer
	// unread.
	MaxRawLen = 1 + 32 + (1 + MaxNameLen) + 32 + 1 + 4 + 8 + 8 + 16 + 32 + 1 + MaxBootstrap*(2+MaxBootstrapLen)

	// maxRawLenV2 is the length of the largest valid version-2 Raw.
	maxRawLenV2 = 1 + 32 + (1 + MaxNameLen) + 32 + 1 + 5 + 6 + 6 + 16 + 32 // uvarints: uses 5 bytes, times 6

	// MaxQuestions and MaxQuestionLen bound the entry questions of an invite that needs approval.
	MaxQuestions   = 5
	MaxQuestionLen = 200 // bytes of UTF-8

	// maxRawLenV3 is the length of the largest valid version-3 Raw: version 2's fields, the
	// flags and five questions of 200 bytes.
	maxRawLenV3 = maxRawLenV2 + 1 + 1 + MaxQuestions*(2+MaxQuestionLen)
)

// Capability encoding versions. Issue makes version 2; version 1, which
// carried the issuer's addresses inside the signed part (and so in every join
// event of the log), is still read: the logs hold such joins, and invites
// made before the change are still handed around.
const (
	capVersion1 = 1
	capVersion2 = 2
	// capVersion3 is version 2 with the approval flag and the entry questions: Issue makes it
	// for an invite that needs approval, and version 2 for any other.
	capVersion3 = 3
	// flagApproval marks an invite whose joins wait for the approval of the owner or a
	// moderator; the other bits of the flags byte are reserved (zero).
	flagApproval = 1
	// maxUnix is 9999-12-31 23:59:59 UTC, the last time the format allows.
	maxUnix = 253402300799
)

// ID is an invite's random identifier, the name revocations use.
type ID [16]byte

// String returns the ID in lower-case hex.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// ParseID parses the lower- or upper-case hex form of an ID.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 2*len(id) {
		return id, fmt.Errorf("invite: %q is not an invite ID: it has %d characters, not 32", s, len(s))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return ID{}, fmt.Errorf("invite: %q is not an invite ID: use 32 hex digits", s)
	}
	return id, nil
}

// Capability is what an invite grants and under which conditions. Its
// canonical encoding is described in the package documentation.
type Capability struct {
	Version       uint8 // 1, 2 or 3: the encoding of Raw ([Issue] makes 3 for an invite that needs approval, else 2)
	Community     [32]byte
	CommunityName string            // 1..100 bytes of UTF-8, no control characters
	Issuer        ed25519.PublicKey // 32 bytes
	Role          Role              // granted to the joiner; member or moderator
	MaxUses       uint32            // 0 = unlimited
	NotBefore     time.Time         // Unix-second precision; zero = valid from the start
	Expires       time.Time         // Unix-second precision; zero = never
	ID            ID
	InviteKey     ed25519.PublicKey // public half of InviteKey(secret)
	Bootstrap     []string          // version 1 only: at most 8 multiaddrs, each 1..256 bytes (version 2 invites name members outside the signed part: Invite.Members)
	// Approval (version 3): a join with this invite waits for the owner or a moderator to
	// approve it; the joiner answers Questions first (0 to 5, each 1..200 bytes of text).
	Approval  bool
	Questions []string
}

// validQuestion reports whether s may be an entry question: 1..200 bytes of text with no
// control characters or bidirectional overrides (as a community name).
func validQuestion(s string) bool {
	return len(s) <= MaxQuestionLen && validText(s)
}

// validName reports whether s may be a community name in an invite.
func validName(s string) bool {
	return len(s) <= MaxNameLen && validText(s)
}

// validText reports whether s is non-empty UTF-8 without control characters or bidirectional
// overrides and isolates.
func validText(s string) bool {
	if len(s) == 0 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		// Control characters and bidirectional overrides could disguise the
		// name shown to the joiner.
		if unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return false
		}
	}
	return true
}

// validAddr reports whether s may be a bootstrap address: a textual multiaddr
// (printable ASCII, starting with "/").
func validAddr(s string) bool {
	if len(s) == 0 || len(s) > MaxBootstrapLen || s[0] != '/' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// unixField returns the encoded form of t: 0 for the zero time, else its
// Unix seconds, which must lie in 1..maxUnix.
func unixField(t time.Time) (int64, bool) {
	if t.IsZero() {
		return 0, true
	}
	u := t.Unix()
	return u, u >= 1 && u <= maxUnix
}

// check returns a description of the first rule c breaks, or "".
func (c *Capability) check() string {
	switch {
	case c.Version != capVersion1 && c.Version != capVersion2 && c.Version != capVersion3:
		return "its version is unknown"
	case c.Version != capVersion1 && len(c.Bootstrap) > 0:
		return "only a version-1 capability carries addresses"
	case c.Version == capVersion3 && !c.Approval:
		return "a version-3 capability needs approval (version 2 is the one without)"
	case c.Version != capVersion3 && (c.Approval || len(c.Questions) > 0):
		return "only a version-3 capability needs approval or asks questions"
	case len(c.Questions) > MaxQuestions:
		return "it asks more than 5 questions"
	case !validName(c.CommunityName):
		return "the community name is empty, longer than 100 bytes or not plain text"
	case len(c.Issuer) != ed25519.PublicKeySize:
		return "the issuer key is not 32 bytes"
	case c.Role > RoleOwner:
		return "the role is unknown"
	case len(c.InviteKey) != ed25519.PublicKeySize:
		return "the invite key is not 32 bytes"
	case len(c.Bootstrap) > MaxBootstrap:
		return "it has more than 8 bootstrap addresses"
	}
	for _, a := range c.Bootstrap {
		if !validAddr(a) {
			return "a bootstrap address is not a multiaddr of at most 256 bytes"
		}
	}
	for _, q := range c.Questions {
		if !validQuestion(q) {
			return "a question is empty, longer than 200 bytes or not plain text"
		}
	}
	nb, ok1 := unixField(c.NotBefore)
	ex, ok2 := unixField(c.Expires)
	if !ok1 || !ok2 {
		return "a time is before 1970 or after 9999"
	}
	if nb != 0 && ex != 0 && ex <= nb {
		return "it expires before it becomes valid"
	}
	return ""
}

// marshal returns the canonical encoding of c, or an error naming the first
// rule c breaks.
func (c *Capability) marshal() ([]byte, error) {
	if why := c.check(); why != "" {
		return nil, errors.New(why)
	}
	if c.Version != capVersion1 {
		return c.marshalV2(), nil
	}
	n := 1 + 32 + binary.MaxVarintLen64 + len(c.CommunityName) + 32 + 1 + 4 + 8 + 8 + 16 + 32 + 1
	for _, a := range c.Bootstrap {
		n += binary.MaxVarintLen64 + len(a)
	}
	b := make([]byte, 0, n)
	b = append(b, capVersion1)
	b = append(b, c.Community[:]...)
	b = binary.AppendUvarint(b, uint64(len(c.CommunityName)))
	b = append(b, c.CommunityName...)
	b = append(b, c.Issuer...)
	b = append(b, byte(c.Role))
	b = binary.BigEndian.AppendUint32(b, c.MaxUses)
	nb, _ := unixField(c.NotBefore)
	ex, _ := unixField(c.Expires)
	b = binary.BigEndian.AppendUint64(b, uint64(nb))
	b = binary.BigEndian.AppendUint64(b, uint64(ex))
	b = append(b, c.ID[:]...)
	b = append(b, c.InviteKey...)
	b = append(b, byte(len(c.Bootstrap)))
	for _, a := range c.Bootstrap {
		b = binary.AppendUvarint(b, uint64(len(a)))
		b = append(b, a...)
	}
	return b, nil
}

// marshalV2 is the version-2 or version-3 Raw of a checked capability: times
// and the use limit as minimal uvarints, no addresses, version 3's flags and
// questions after the ID, and the invite key last (the text leaves it out: it
// is derived from the secret).
func (c *Capability) marshalV2() []byte {
	b := make([]byte, 0, maxRawLenV3)
	b = append(b, c.Version)
	b = append(b, c.Community[:]...)
	b = binary.AppendUvarint(b, uint64(len(c.CommunityName)))
	b = append(b, c.CommunityName...)
	b = append(b, c.Issuer...)
	b = append(b, byte(c.Role))
	nb, _ := unixField(c.NotBefore)
	ex, _ := unixField(c.Expires)
	b = binary.AppendUvarint(b, uint64(c.MaxUses))
	b = binary.AppendUvarint(b, uint64(nb))
	b = binary.AppendUvarint(b, uint64(ex))
	b = append(b, c.ID[:]...)
	if c.Version == capVersion3 {
		b = append(b, flagApproval)
		b = binary.AppendUvarint(b, uint64(len(c.Questions)))
		for _, q := range c.Questions {
			b = binary.AppendUvarint(b, uint64(len(q)))
			b = append(b, q...)
		}
	}
	return append(b, c.InviteKey...)
}

// reader reads a bounded byte slice; after the first short read every read
// returns zero values and ok reports false.
type reader struct {
	b  []byte
	ok bool
}

func (r *reader) take(n int) []byte {
	if !r.ok || n < 0 || n > len(r.b) {
		r.ok = false
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() byte {
	if v := r.take(1); v != nil {
		return v[0]
	}
	return 0
}

// lenPrefixed reads a uvarint length of at most max, then that many bytes.
func (r *reader) lenPrefixed(max int) []byte {
	if !r.ok {
		return nil
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > uint64(max) {
		r.ok = false
		return nil
	}
	r.b = r.b[k:]
	return r.take(int(n))
}

// uvarint reads a uvarint of at most max (canonical form is left to the
// re-encoding check).
func (r *reader) uvarint(max uint64) uint64 {
	if !r.ok {
		return 0
	}
	v, k := binary.Uvarint(r.b)
	if k <= 0 || v > max {
		r.ok = false
		return 0
	}
	r.b = r.b[k:]
	return v
}

// unixVarint reads a time as a uvarint of Unix seconds, 0 meaning "not set".
func (r *reader) unixVarint() time.Time {
	u := r.uvarint(maxUnix)
	if u == 0 {
		return time.Time{}
	}
	return time.Unix(int64(u), 0).UTC()
}

func (r *reader) unix() time.Time {
	v := r.take(8)
	if v == nil {
		return time.Time{}
	}
	u := int64(binary.BigEndian.Uint64(v))
	if u == 0 {
		return time.Time{}
	}
	if u < 1 || u > maxUnix {
		r.ok = false
		return time.Time{}
	}
	return time.Unix(u, 0).UTC()
}

// unmarshalCapability decodes raw strictly: it allocates no more than
// len(raw) plus a constant, and it accepts raw only if re-encoding the
// result gives raw back. The result shares no memory with raw.
func unmarshalCapability(raw []byte) (*Capability, error) {
	if len(raw) > MaxRawLen {
		return nil, malformed("it is too long")
	}
	r := reader{b: raw, ok: true}
	c := new(Capability)
	switch c.Version = r.u8(); {
	case !r.ok:
		return nil, malformed("it is cut short or a length is wrong")
	case c.Version == capVersion2 || c.Version == capVersion3:
		return unmarshalV2(raw, r, c)
	case c.Version != capVersion1:
		return nil, errVersion
	}
	copy(c.Community[:], r.take(32))
	c.CommunityName = string(r.lenPrefixed(MaxNameLen))
	if k := r.take(ed25519.PublicKeySize); k != nil {
		c.Issuer = bytes.Clone(k)
	}
	c.Role = Role(r.u8())
	if v := r.take(4); v != nil {
		c.MaxUses = binary.BigEndian.Uint32(v)
	}
	c.NotBefore = r.unix()
	c.Expires = r.unix()
	copy(c.ID[:], r.take(16))
	if k := r.take(ed25519.PublicKeySize); k != nil {
		c.InviteKey = bytes.Clone(k)
	}
	n := int(r.u8())
	if n > MaxBootstrap {
		return nil, malformed("it has more than 8 bootstrap addresses")
	}
	if n > 0 {
		c.Bootstrap = make([]string, 0, n)
	}
	for i := 0; i < n && r.ok; i++ {
		c.Bootstrap = append(c.Bootstrap, string(r.lenPrefixed(MaxBootstrapLen)))
	}
	if !r.ok {
		return nil, malformed("it is cut short or a length is wrong")
	}
	if len(r.b) != 0 {
		return nil, malformed("it has extra bytes at the end")
	}
	return canonical(c, raw)
}

// unmarshalV2 reads the rest of a version-2 or version-3 Raw (r is past the
// version byte).
func unmarshalV2(raw []byte, r reader, c *Capability) (*Capability, error) {
	copy(c.Community[:], r.take(32))
	c.CommunityName = string(r.lenPrefixed(MaxNameLen))
	if k := r.take(ed25519.PublicKeySize); k != nil {
		c.Issuer = bytes.Clone(k)
	}
	c.Role = Role(r.u8())
	c.MaxUses = uint32(r.uvarint(1<<32 - 1))
	c.NotBefore = r.unixVarint()
	c.Expires = r.unixVarint()
	copy(c.ID[:], r.take(16))
	if c.Version == capVersion3 {
		if r.u8() != flagApproval {
			return nil, malformed("its flags are unknown")
		}
		c.Approval = true
		n := int(r.uvarint(MaxQuestions))
		for i := 0; i < n && r.ok; i++ {
			c.Questions = append(c.Questions, string(r.lenPrefixed(MaxQuestionLen)))
		}
	}
	if k := r.take(ed25519.PublicKeySize); k != nil {
		c.InviteKey = bytes.Clone(k)
	}
	if !r.ok {
		return nil, malformed("it is cut short or a length is wrong")
	}
	if len(r.b) != 0 {
		return nil, malformed("it has extra bytes at the end")
	}
	return canonical(c, raw)
}

// canonical returns c if it encodes back to raw exactly.
func canonical(c *Capability, raw []byte) (*Capability, error) {
	again, err := c.marshal()
	if err != nil {
		return nil, malformed(err.Error())
	}
	if !bytes.Equal(again, raw) {
		return nil, malformed("it is not in canonical form")
	}
	return c, nil
}

// coreLenV2 is the length of a version-2 or version-3 Raw's fields between its
// version byte and its invite key, read from the start of b (an invite's text
// holds them in that order); false when b is too short or malformed.
func coreLenV2(version byte, b []byte) (int, bool) {
	r := reader{b: b, ok: true}
	r.take(32)
	r.lenPrefixed(MaxNameLen)
	r.take(32 + 1)
	r.uvarint(1<<32 - 1)
	r.uvarint(maxUnix)
	r.uvarint(maxUnix)
	r.take(16)
	if version == capVersion3 {
		r.u8()
		n := int(r.uvarint(MaxQuestions))
		for i := 0; i < n && r.ok; i++ {
			r.lenPrefixed(MaxQuestionLen)
		}
	}
	if !r.ok {
		return 0, false
	}
	return len(b) - len(r.b), true
}
