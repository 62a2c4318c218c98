package community

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"time"
)

// Offers: the owner or a moderator offers something to members (kind offer: title, text,
// quantity, expiry); members claim it (kind offer-claim); the first claims in the log's order, up
// to the quantity, are granted, the same at every member. An optional code is sealed to the owner
// and moderators with the offer, and then to each granted claimant (kind offer-code), so only
// they read it.

// Bounds of offers.
const (
	MaxOfferQuantity = 100_000
	// OfferSkew is how late a claim's header time may be after the offer's expiry.
	OfferSkew = 5 * time.Minute
	// maxCodeLen bounds an offer's code.
	maxCodeLen = 200
)

// LimitOfferTitle bounds an offer's title (one line, as a poll option is).
var LimitOfferTitle = LimitOption

// OfferSpec is an offer as its author makes it.
type OfferSpec struct {
	Title    string
	Text     string
	Quantity int
	Expires  time.Time
	HasCode  bool // a code comes to the granted claimants
}

// NewOffer makes an offer's content body in channel: Options = [title], Text, Choice =
// quantity, Expires, Flag = it has a code.
func NewOffer(channel Hash, o OfferSpec) (*Content, error) {
	title, err := LimitOfferTitle.CleanName(o.Title)
	if err != nil {
		return nil, fmt.Errorf("the title: %w", err)
	}
	text, err := LimitText.CleanText(o.Text)
	if err != nil {
		return nil, fmt.Errorf("the text: %w", err)
	}
	switch {
	case o.Quantity < 1 || o.Quantity > MaxOfferQuantity:
		return nil, &FieldError{Err: ErrTooLong, Msg: fmt.Sprintf("the quantity is 1 to %d, not %d", MaxOfferQuantity, o.Quantity)}
	case o.Expires.IsZero():
		return nil, &FieldError{Err: ErrEmpty, Msg: "an offer needs an expiry"}
	}
	c := NewContent(KindOffer)
	c.Channel, c.Text, c.Options, c.Choice, c.Expires, c.Flag = channel, text, []string{title}, uint32(o.Quantity), o.Expires.Unix(), o.HasCode
	return c, nil
}

// OfferOf reads an offer's body; ok is false when it is malformed.
func OfferOf(c *Content) (OfferSpec, bool) {
	if c.Kind() != KindOffer || len(c.Options) != 1 || c.Choice < 1 || c.Choice > MaxOfferQuantity || c.Expires <= 0 {
		return OfferSpec{}, false
	}
	return OfferSpec{Title: c.Options[0], Text: c.Text, Quantity: int(c.Choice), Expires: time.Unix(c.Expires, 0).UTC(), HasCode: c.Flag}, true
}

// CheckCode checks an offer's code: one line of at most 200 bytes.
func CheckCode(code string) (string, error) {
	c, err := Limit{"code", maxCodeLen}.CleanName(code)
	if err != nil {
		return "", err
	}
	return c, nil
}

// codeAAD binds a sealed code to its community and offer.
func codeAAD(community, offer Hash) []byte {
	return append(append([]byte("kith offer code v1\x00"), community[:]...), offer[:]...)
}

// NewOfferCode makes an offer-code body: the code sealed to readers. For is the claimant it is
// meant for (nil: the owner's and moderators' copy), in Options as hex.
func NewOfferCode(community, channel, offer Hash, forKey ed25519.PublicKey, code string, readers []Recipient, rand io.Reader) (*Content, error) {
	sealed, err := sealFor(readers, []byte(code), codeAAD(community, offer), rand)
	if err != nil {
		return nil, err
	}
	c := NewContent(KindOfferCode)
	c.Channel, c.Target, c.Text = channel, offer, encodeSealed(sealed)
	c.Options = []string{fmt.Sprintf("%x", []byte(forKey))}
	return c, nil
}

// CodeFor is the claimant an offer-code is for ("" hex: the staff copy).
func CodeFor(c *Content) (string, bool) {
	if c.Kind() != KindOfferCode || len(c.Options) != 1 || (c.Options[0] != "" && len(c.Options[0]) != 2*ed25519.PublicKeySize) {
		return "", false
	}
	return c.Options[0], true
}

// OpenOfferCode opens a code when it was sealed to me (ok false otherwise).
func OpenOfferCode(me KeyHolder, community Hash, c *Content) (string, bool, error) {
	sealed, err := decodeSealedWith(c.Text, maxCodeLen+64)
	if err != nil {
		return "", false, err
	}
	plain, ok, err := openFor(me, sealed, codeAAD(community, c.Target))
	if !ok || err != nil {
		return "", ok, err
	}
	if len(plain) > maxCodeLen {
		return "", false, fmt.Errorf("%w: a code over its limit", ErrMalformed)
	}
	return string(plain), true, nil
}
