package community

// Badges: a statement the owner signs that a member earned a title, which the member exports as
// a card that anyone can check offline — the owner's signature, and that the signing key owns
// the community the card names (its genesis, and the ownership transfers up to the badge).

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Bounds of a badge.
var (
	LimitBadgeTitle = Limit{"badge title", 60}
	LimitBadgeNote  = Limit{"badge note", 500}
)

const (
	badgeContext = "kith badge v1\x00"
	// CardPrefix starts a badge card's text; the rest is base64url (no padding) of its bytes.
	CardPrefix = "kithbadge1"
	// MaxCardLen bounds a card's text: the genesis (with its body), up to maxCardTransfers
	// transfers, and the badge.
	MaxCardLen       = 4 * (96 << 10) / 3
	maxCardTransfers = 16
	maxCardEnvelope  = 16 << 10 // a genesis or a transfer, with its body
)

// ErrBadCard is the reader's answer to a card that does not prove what it says.
var ErrBadCard = errors.New("community: the badge card does not check out")

// Badge is what the owner signs: the community (its ID and name), the member (key and name as
// shown then), a title and a note, when, and the owner's key.
type Badge struct {
	Community     Hash
	CommunityName string
	Member        ed25519.PublicKey
	MemberName    string // as the member wrote it (views show it through Printable)
	Title         string
	Note          string
	Issued        int64 // Unix seconds
	Owner         ed25519.PublicKey
	Sig           []byte
}

func (b *Badge) encodeUnsigned(w *writer) {
	w.hash(b.Community)
	w.str(b.CommunityName)
	w.fixed(b.Member)
	w.str(b.MemberName)
	w.str(b.Title)
	w.str(b.Note)
	w.varint(b.Issued)
	w.fixed(b.Owner)
}

func (b *Badge) signing() []byte {
	w := writer{b: []byte(badgeContext)}
	b.encodeUnsigned(&w)
	return w.b
}

// Sign signs the badge with the owner's key (which must be b.Owner's).
func (b *Badge) Sign(owner Signer) error {
	if !bytes.Equal(owner.PublicKey(), b.Owner) {
		return errors.New("community: a badge is signed by the owner it names")
	}
	sig, err := owner.Sign(b.signing())
	b.Sig = sig
	return err
}

// Verify checks the owner's signature.
func (b *Badge) Verify() error {
	if len(b.Owner) != ed25519.PublicKeySize || !ed25519.Verify(b.Owner, b.signing(), b.Sig) {
		return fmt.Errorf("%w: the owner's signature on the badge is not valid (the card was changed)", ErrBadCard)
	}
	return nil
}

// Encode is the badge's canonical bytes, signature included.
func (b *Badge) Encode() []byte {
	w := writer{}
	w.byte1(1)
	b.encodeUnsigned(&w)
	w.fixed(b.Sig)
	return w.b
}

func (b *Badge) decode(r *reader) {
	if v := r.byte1(); r.err == nil && v != 1 {
		r.fail("badge version")
	}
	b.Community = r.hash()
	b.CommunityName = r.str(LimitCommunityName.Max)
	b.Member = r.key()
	b.MemberName = r.str(LimitDisplayName.Max)
	b.Title = r.str(LimitBadgeTitle.Max)
	b.Note = r.str(LimitBadgeNote.Max)
	b.Issued = r.varint()
	b.Owner = r.key()
	b.Sig = r.fixed(ed25519.SignatureSize)
}

// DecodeBadge reads a badge (it does not check the signature: Verify does).
func DecodeBadge(p []byte) (*Badge, error) {
	b := &Badge{}
	r := reader{b: p}
	b.decode(&r)
	if err := r.done(); err != nil {
		return nil, fmt.Errorf("badge: %w", err)
	}
	return b, nil
}

// Card is a badge with what proves its signer owned the community: the genesis envelope (its ID
// is the community's; its author the first owner) and the ownership transfers, in order, up to
// the badge (each signed by the recovery key of its time).
type Card struct {
	Badge     *Badge
	Genesis   []byte
	Transfers [][]byte
}

// Encode is the card's text: CardPrefix and base64url of its bytes.
func (c *Card) Encode() string {
	w := writer{}
	w.byte1(1)
	w.bytes(c.Badge.Encode())
	w.bytes(c.Genesis)
	w.uvarint(uint64(len(c.Transfers)))
	for _, t := range c.Transfers {
		w.bytes(t)
	}
	return CardPrefix + base64.RawURLEncoding.EncodeToString(w.b)
}

// FindCard returns the first card text in s (a card file: HTML, or the text alone), or "".
func FindCard(s string) string {
	i := strings.Index(s, CardPrefix)
	if i < 0 {
		return ""
	}
	j := i + len(CardPrefix)
	for j < len(s) && strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", s[j]) >= 0 {
		j++
	}
	return s[i:j]
}

// DecodeCard reads a card's text (bounded; nothing is checked but the encoding: see Check).
func DecodeCard(s string) (*Card, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, CardPrefix) {
		return nil, fmt.Errorf("%w: a badge card starts with %q", ErrMalformed, CardPrefix)
	}
	if len(s) > MaxCardLen {
		return nil, fmt.Errorf("%w: a badge card of %d characters (at most %d)", ErrMalformed, len(s), MaxCardLen)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s[len(CardPrefix):])
	if err != nil {
		return nil, fmt.Errorf("%w: the badge card is damaged (%v): copy it whole", ErrMalformed, err)
	}
	r := reader{b: raw}
	if v := r.byte1(); r.err == nil && v != 1 {
		r.fail("card version (update Kith)")
	}
	badge := r.bytes(1024 + LimitCommunityName.Max + LimitDisplayName.Max + LimitBadgeTitle.Max + LimitBadgeNote.Max)
	c := &Card{Genesis: r.bytes(maxCardEnvelope)}
	n := r.count(maxCardTransfers, 1)
	for range n {
		c.Transfers = append(c.Transfers, r.bytes(maxCardEnvelope))
	}
	if err := r.done(); err != nil {
		return nil, fmt.Errorf("badge card: %w", err)
	}
	if c.Badge, err = DecodeBadge(badge); err != nil {
		return nil, err
	}
	return c, nil
}

// Check verifies a card with nothing but itself: the owner's signature on the badge; the
// genesis's signature, that its ID is the badge's community, and its owner; each transfer signed
// by the recovery key of its time, naming the next owner; and that the badge's signer is the
// owner the chain ends with.
func (c *Card) Check() error {
	if err := c.Badge.Verify(); err != nil {
		return err
	}
	g, err := Decode(c.Genesis)
	if err != nil || g.Kind != KindGenesis || !g.HasBody() {
		return fmt.Errorf("%w: its proof of the community is damaged", ErrBadCard)
	}
	if g.ID != c.Badge.Community {
		return fmt.Errorf("%w: its proof is of another community", ErrBadCard)
	}
	body, err := DecodeBody(KindGenesis, g.Body)
	if err != nil {
		return fmt.Errorf("%w: its proof of the community is damaged", ErrBadCard)
	}
	owner, recovery := g.Author, body.(*Genesis).Recovery
	for _, raw := range c.Transfers {
		t, err := Decode(raw)
		if err != nil || t.Kind != KindTransferOwner || t.Community != g.ID || !t.HasBody() {
			return fmt.Errorf("%w: an ownership transfer in it is damaged", ErrBadCard)
		}
		if !t.Author.Equal(recovery) {
			return fmt.Errorf("%w: an ownership transfer in it is not signed by the community's recovery key", ErrBadCard)
		}
		tb, err := DecodeBody(KindTransferOwner, t.Body)
		if err != nil {
			return fmt.Errorf("%w: an ownership transfer in it is damaged", ErrBadCard)
		}
		b := tb.(*TransferOwner)
		owner = b.NewOwner
		if len(b.NewRecovery) == ed25519.PublicKeySize {
			recovery = b.NewRecovery
		}
	}
	if !owner.Equal(c.Badge.Owner) {
		return fmt.Errorf("%w: the key that signed the badge does not own %q", ErrBadCard, c.Badge.CommunityName)
	}
	return nil
}

// IssuedAt is when the owner signed the badge (its clock).
func (b *Badge) IssuedAt() time.Time { return time.Unix(b.Issued, 0) }
