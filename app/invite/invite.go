package invite

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits of the text form.
const (
	// Prefix starts every invite's text; it names the format version.
	Prefix = "kith1"
	// MaxInviteLen is the length in characters of the longest valid invite.
	MaxInviteLen = len(Prefix) + (8*maxPayloadLen+4)/5
	// MaxTextLen is the most text Parse looks at: room for the longest
	// invite with the spaces, line breaks and words people paste around it.
	MaxTextLen = 8 << 10
)

const (
	payloadVersion  = 1 // the text of a version-1 capability
	payloadVersion2 = 2 // the text of a version-2 capability, with the members to try
	payloadVersion3 = 3 // the text of a version-3 capability (approval, questions), laid out as version 2
	checksumLen     = 4
	secretLen       = 32
	tailLen         = ed25519.SignatureSize + secretLen + checksumLen
	maxPayloadLen   = 1 + 2 + max(MaxRawLen+tailLen, maxBodyLenV3+checksumLen) // uvarint lengths take 2 bytes
	maxMembersLen   = 1 + MaxMembers*(1+32+1+MaxMemberAddrs*(1+32+19))         // the largest entry: a relay's IPv6 address
	maxBodyLenV2    = maxRawLenV2 - 1 - 32 + ed25519.SignatureSize + secretLen + maxMembersLen
	maxBodyLenV3    = maxRawLenV3 - 1 - 32 + ed25519.SignatureSize + secretLen + maxMembersLen
	// inviteKeyInfo separates the invite key derivation from any other use
	// of HKDF.
	inviteKeyInfo = "kith invite key v1"
)

// b32 is RFC 4648 base32 in lower case, without padding.
var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Signer signs without handing out its private key; app/identity's signer
// satisfies it. Sign must return a pure Ed25519 signature of msg by
// PublicKey.
type Signer interface {
	PublicKey() ed25519.PublicKey
	Sign(msg []byte) ([]byte, error)
}

// Invite is a signed capability with the secret that proves a joiner holds
// it. The secret must never leave the joiner: it proves possession with
// [Invite.ProveJoin] instead.
type Invite struct {
	Signed
	Secret [32]byte
	// Members are the members to try first when joining, the most reachable first (version 2;
	// a version-1 invite has its issuer's addresses in Capability.Bootstrap instead). They are
	// not signed: see [Member].
	Members []Member
}

// Params are what the issuer chooses for a new invite.
type Params struct {
	Community     [32]byte
	CommunityName string    // 1..100 bytes of UTF-8
	Role          Role      // RoleMember or RoleModerator
	MaxUses       uint32    // 0 = unlimited
	NotBefore     time.Time // zero = valid from the start; truncated to seconds
	Expires       time.Time // zero = never; truncated to seconds
	Members       []Member  // at most 3 members to try, the most reachable first
	// Approval: joins wait for the owner or a moderator to approve them, after the joiner
	// answered Questions (at most 5, each 1..200 bytes of text).
	Approval  bool
	Questions []string
}

// capability is the capability p describes, but for the ID and the invite key.
func (p Params) capability(issuer ed25519.PublicKey) Capability {
	c := Capability{
		Version: capVersion2, Community: p.Community, CommunityName: p.CommunityName, Issuer: issuer,
		Role: p.Role, MaxUses: p.MaxUses, NotBefore: unixTime(p.NotBefore), Expires: unixTime(p.Expires),
	}
	if p.Approval || len(p.Questions) > 0 {
		c.Version, c.Approval, c.Questions = capVersion3, true, slices.Clone(p.Questions)
	}
	return c
}

// Issue makes a new invite signed by s, with a random ID and secret read from
// rand (crypto/rand when nil). It refuses parameters the format cannot carry
// and a granted role other than member or moderator; whether the issuer may
// grant that role in the community is decided later by [Check].
func Issue(s Signer, p Params, rand io.Reader) (*Invite, error) {
	if rand == nil {
		rand = cryptoRand
	}
	if p.Role != RoleMember && p.Role != RoleModerator {
		return nil, fmt.Errorf("invite: cannot issue an invite granting %v: choose member or moderator", p.Role)
	}
	inv := &Invite{}
	if _, err := io.ReadFull(rand, inv.ID[:]); err != nil {
		return nil, fmt.Errorf("invite: reading random ID: %w", err)
	}
	if _, err := io.ReadFull(rand, inv.Secret[:]); err != nil {
		return nil, fmt.Errorf("invite: reading random secret: %w", err)
	}
	c := &inv.Capability
	id := inv.ID
	*c = p.capability(bytes.Clone(s.PublicKey()))
	c.ID = id
	c.InviteKey = InviteKey(inv.Secret).Public().(ed25519.PublicKey)
	members, err := encodeMembers(c.Issuer, p.Members)
	if err != nil {
		return nil, fmt.Errorf("invite: cannot issue: %v", err)
	}
	if len(p.Members) > 0 {
		// The members as a reader sees them (addresses in canonical text).
		if inv.Members, err = decodeMembers(c.Issuer, members); err != nil {
			return nil, fmt.Errorf("invite: cannot issue: %v", err)
		}
	}
	raw, err := c.marshal()
	if err != nil {
		return nil, fmt.Errorf("invite: cannot issue: %v", err)
	}
	sig, err := s.Sign(signedMessage(raw))
	if err != nil {
		return nil, fmt.Errorf("invite: signing: %w", err)
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(c.Issuer, signedMessage(raw), sig) {
		return nil, errors.New("invite: the signer returned a signature that does not verify with its public key")
	}
	inv.Raw, inv.Sig = raw, bytes.Clone(sig)
	return inv, nil
}

var cryptoRand = rand.Reader

// unixTime truncates t to whole seconds in UTC, keeping the zero time zero.
func unixTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.Unix(t.Unix(), 0).UTC()
}

// InviteKey derives the invite key from its secret with HKDF-SHA256 (no salt,
// info "kith invite key v1") as the Ed25519 seed.
func InviteKey(secret [32]byte) ed25519.PrivateKey {
	seed, err := hkdf.Key(sha256.New, secret[:], nil, inviteKeyInfo, ed25519.SeedSize)
	if err != nil {
		panic("invite: HKDF-SHA256 refused a 32-byte key: " + err.Error()) // cannot happen
	}
	return ed25519.NewKeyFromSeed(seed)
}

// payload returns the bytes the text encodes, checksum included.
func (inv *Invite) payload() []byte {
	if inv.Version != capVersion1 && len(inv.Raw) > 1+ed25519.PublicKeySize {
		return inv.payloadV2()
	}
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(inv.Raw)+tailLen)
	b = append(b, payloadVersion)
	b = binary.AppendUvarint(b, uint64(len(inv.Raw)))
	b = append(b, inv.Raw...)
	b = append(b, inv.Sig...)
	b = append(b, inv.Secret[:]...)
	sum := sha256.Sum256(b)
	return append(b, sum[:checksumLen]...)
}

// payloadV2 is the text's payload for a version-2 (or 3) capability:
//
//	0x02 (0x03) | uvarint(len body) | body | sum[4]
//	body = Raw without its version byte and invite key | sig[64] | secret[32] | members
//
// The invite key is left out: it is derived from the secret.
func (inv *Invite) payloadV2() []byte {
	members, err := encodeMembers(inv.Issuer, inv.Members)
	if err != nil {
		members = []byte{0} // not from Issue or Parse: name no member rather than a wrong one
	}
	core := inv.Raw[1 : len(inv.Raw)-ed25519.PublicKeySize]
	n := len(core) + len(inv.Sig) + secretLen + len(members)
	b := make([]byte, 0, 1+binary.MaxVarintLen64+n+checksumLen)
	b = append(b, inv.Version) // payloadVersion2 or payloadVersion3
	b = binary.AppendUvarint(b, uint64(n))
	b = append(b, core...)
	b = append(b, inv.Sig...)
	b = append(b, inv.Secret[:]...)
	b = append(b, members...)
	sum := sha256.Sum256(b)
	return append(b, sum[:checksumLen]...)
}

// LinkPrefix starts an invite written as a link that opens Kith: kith://join/<invite>.
const LinkPrefix = "kith://join/"

// Link returns the invite as a link that opens Kith's join screen with it filled in, where Kith
// is installed (its packages register kith: links). Parse reads it as it reads the invite.
func (inv *Invite) Link() string { return LinkPrefix + inv.String() }

// String returns the invite as one line of text: "kith1" and lower-case
// base32, only [a-z0-9].
func (inv *Invite) String() string {
	return Prefix + b32.EncodeToString(inv.payload())
}

// Parse reads an invite from pasted text and checks its checksum, its
// issuer's signature and its secret. It forgives what people and programs do
// to pasted text: words around the invite ("Join us: kith1..."), quotes and
// angle brackets, upper case, and spaces, line breaks, "> " mail quoting and
// invisible characters inserted inside it.
//
// It returns an error wrapping ErrNotInvite when the text holds no "kith1" or
// is longer than MaxTextLen, ErrDamaged when characters are missing or
// changed (checksum, base32, truncation, a malformed capability), or
// ErrForged when the checksum holds but the signature or the secret does
// not. Whether the invite may be used is decided by [Check].
func Parse(text string) (*Invite, error) {
	if len(text) > MaxTextLen {
		return nil, errTooLong
	}
	run, ok := findInvite(normalize(text))
	if !ok {
		return nil, errNoPrefix
	}
	// The first 8 characters hold 5 bytes: the version and the uvarint
	// length of Raw, which fixes the length of the whole invite.
	if len(run) < 8 {
		return nil, errTruncated
	}
	var head [5]byte
	if _, err := b32.Decode(head[:], run[:8]); err != nil {
		return nil, errTyped
	}
	maxLen := uint64(MaxRawLen)
	switch head[0] {
	case payloadVersion:
	case payloadVersion2:
		maxLen = maxBodyLenV2
	case payloadVersion3:
		maxLen = maxBodyLenV3
	default:
		return nil, errVersion
	}
	n, k := binary.Uvarint(head[1:])
	if k <= 0 || n > maxLen || k != len(binary.AppendUvarint(head[:0:0], n)) {
		return nil, errTyped
	}
	total := 1 + k + int(n) + checksumLen
	if head[0] == payloadVersion {
		total += ed25519.SignatureSize + secretLen
	}
	need := (8*total + 4) / 5
	if len(run) < need {
		return nil, errTruncated
	}
	// Characters after the invite are words that followed it; ignore them.
	run = run[:need]
	payload := make([]byte, total)
	if m, err := b32.Decode(payload, run); err != nil || m != total {
		return nil, errTyped
	}
	// Only one text per payload: the unused bits of the last character
	// must be zero, which a re-encoding shows.
	var last [8]byte
	tail := payload[total-total%5:]
	if len(tail) > 0 {
		b32.Encode(last[:], tail)
		if !bytes.Equal(last[:b32.EncodedLen(len(tail))], run[len(run)-b32.EncodedLen(len(tail)):]) {
			return nil, errTyped
		}
	}
	body, sum := payload[:total-checksumLen], payload[total-checksumLen:]
	want := sha256.Sum256(body)
	if subtle.ConstantTimeCompare(want[:checksumLen], sum) != 1 {
		return nil, errTyped
	}
	if head[0] != payloadVersion {
		return parseV2(head[0], body[1+k:])
	}
	raw := body[1+k : 1+k+int(n)]
	sig := body[1+k+int(n) : 1+k+int(n)+ed25519.SignatureSize]
	s, err := DecodeSigned(raw, sig)
	if err != nil {
		return nil, err
	}
	inv := &Invite{Signed: *s}
	copy(inv.Secret[:], body[len(body)-secretLen:])
	pub := InviteKey(inv.Secret).Public().(ed25519.PublicKey)
	if !pub.Equal(inv.InviteKey) {
		return nil, errBadSecret
	}
	return inv, nil
}

// parseV2 reads the body of a version-2 or version-3 payload (its checksum checked): the
// capability's fields, signature, secret and members. The capability's Raw is rebuilt with the
// invite key derived from the secret, so a changed secret shows as a signature that does not
// match.
func parseV2(version byte, body []byte) (*Invite, error) {
	core, ok := coreLenV2(version, body)
	if !ok || len(body) < core+ed25519.SignatureSize+secretLen {
		return nil, malformed("it is cut short or a length is wrong")
	}
	var secret [32]byte
	copy(secret[:], body[core+ed25519.SignatureSize:])
	raw := make([]byte, 0, 1+core+ed25519.PublicKeySize)
	raw = append(raw, version)
	raw = append(raw, body[:core]...)
	raw = append(raw, InviteKey(secret).Public().(ed25519.PublicKey)...)
	s, err := DecodeSigned(raw, body[core:core+ed25519.SignatureSize])
	if err != nil {
		return nil, err
	}
	members, err := decodeMembers(s.Issuer, body[core+ed25519.SignatureSize+secretLen:])
	if err != nil {
		return nil, err
	}
	return &Invite{Signed: *s, Secret: secret, Members: members}, nil
}

// normalize lower-cases ASCII letters and drops the characters that mail and
// chat insert into long words: white space, invisible format characters, and
// ">" quoting at the start of a line. Every other rune becomes one byte that
// base32 does not use, so the result is never longer than text.
func normalize(text string) []byte {
	out := make([]byte, 0, len(text))
	lineStart := true
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		switch {
		case r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
			lineStart = true
		case r == '>' && lineStart:
		case unicode.IsSpace(r) || r == '\u00ad' || r == '\u200b' || r == '\u200c' ||
			r == '\u200d' || r == '\u2060' || r == '\ufeff':
		case r >= 'A' && r <= 'Z':
			out = append(out, byte(r)+'a'-'A')
			lineStart = false
		case r < utf8.RuneSelf:
			out = append(out, byte(r))
			lineStart = false
		default:
			out = append(out, '!')
			lineStart = false
		}
	}
	return out
}

// findInvite returns the base32 characters that follow the "kith1" with the
// longest such run. A run never contains "kith1" ('1' is not base32), so
// runs do not overlap and the search is linear.
func findInvite(norm []byte) ([]byte, bool) {
	var best []byte
	found := false
	for rest := norm; ; {
		i := bytes.Index(rest, []byte(Prefix))
		if i < 0 {
			break
		}
		rest = rest[i+len(Prefix):]
		n := 0
		for n < len(rest) && isBase32(rest[n]) {
			n++
		}
		if !found || n > len(best) {
			best, found = rest[:n], true
		}
		rest = rest[n:]
	}
	return best, found
}

func isBase32(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')
}

// TextLen is the length in characters of the text of an invite that issuer would issue with p,
// computed without signing: callers choosing which members and addresses to name use it to keep
// an invite short (a chat message, a QR code). The error is Issue's for parameters it refuses.
func TextLen(issuer ed25519.PublicKey, p Params) (int, error) {
	if p.Role != RoleMember && p.Role != RoleModerator {
		return 0, fmt.Errorf("invite: cannot issue an invite granting %v: choose member or moderator", p.Role)
	}
	c := p.capability(issuer)
	c.InviteKey = make(ed25519.PublicKey, ed25519.PublicKeySize)
	raw, err := c.marshal()
	if err != nil {
		return 0, fmt.Errorf("invite: cannot issue: %v", err)
	}
	members, err := encodeMembers(issuer, p.Members)
	if err != nil {
		return 0, fmt.Errorf("invite: cannot issue: %v", err)
	}
	body := len(raw) - 1 - ed25519.PublicKeySize + ed25519.SignatureSize + secretLen + len(members)
	payload := 1 + len(binary.AppendUvarint(nil, uint64(body))) + body + checksumLen
	return len(Prefix) + b32.EncodedLen(payload), nil
}
