package community

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

// Feedback: the owner or a moderator asks a question (kind feedback-request) of everyone, of a
// role, or of members who joined before a date; members answer (kind feedback-answer) with the
// answer sealed to the owner, the moderators and themselves; the asker's side sets a status that
// every member sees (kind feedback-status): "you asked → we did".

// LimitFeedback bounds one answer to a feedback request (sealed, it must fit a message's text).
var LimitFeedback = Limit{"answer", 4000}

// Feedback statuses, in the order a request goes through them.
var FeedbackStatuses = []string{"planned", "doing", "done", "declined"}

// FeedbackSpec is a feedback request as its author makes it.
type FeedbackSpec struct {
	Question     string
	Role         Role      // RoleNone: everyone; RoleMember or RoleModerator: only that role
	JoinedBefore time.Time // zero: any; else only members whose membership began before it
	Closes       time.Time // zero: open until its author's side closes it by a status of done or declined
	// Offer, when not zero, asks only the members granted that offer (readers decide who they
	// are from the offer's claims).
	Offer Hash
}

// NewFeedbackRequest makes a feedback request's content body in channel. Its options are the
// audience: [role name or "", joined-before Unix seconds or ""].
func NewFeedbackRequest(channel Hash, f FeedbackSpec) (*Content, error) {
	q, err := LimitText.CleanText(f.Question)
	if err != nil {
		return nil, fmt.Errorf("the question: %w", err)
	}
	if q == "" {
		return nil, &FieldError{Err: ErrEmpty, Msg: "a feedback request needs a question"}
	}
	c := NewContent(KindFeedbackRequest)
	c.Channel, c.Text = channel, q
	role, before := "", ""
	switch f.Role {
	case RoleNone:
	case RoleMember, RoleModerator:
		role = f.Role.String()
	default:
		return nil, &FieldError{Err: ErrBadText, Msg: "a feedback request asks everyone, the members or the moderators"}
	}
	if !f.JoinedBefore.IsZero() {
		before = strconv.FormatInt(f.JoinedBefore.Unix(), 10)
	}
	c.Options = []string{role, before}
	if f.Offer != (Hash{}) {
		c.Options = append(c.Options, f.Offer.String())
	}
	if !f.Closes.IsZero() {
		c.Expires = f.Closes.Unix()
	}
	return c, nil
}

// FeedbackOf reads a feedback request's body; ok is false when it is malformed.
func FeedbackOf(c *Content) (FeedbackSpec, bool) {
	f := FeedbackSpec{Question: c.Text}
	if c.Kind() != KindFeedbackRequest || len(c.Options) < 2 || len(c.Options) > 3 || c.Expires < 0 {
		return FeedbackSpec{}, false
	}
	if len(c.Options) == 3 {
		h, err := ParseHash(c.Options[2])
		if err != nil || h == (Hash{}) {
			return FeedbackSpec{}, false
		}
		f.Offer = h
	}
	switch c.Options[0] {
	case "":
	case RoleMember.String():
		f.Role = RoleMember
	case RoleModerator.String():
		f.Role = RoleModerator
	default:
		return FeedbackSpec{}, false
	}
	if c.Options[1] != "" {
		u, err := strconv.ParseInt(c.Options[1], 10, 64)
		if err != nil || u <= 0 {
			return FeedbackSpec{}, false
		}
		f.JoinedBefore = time.Unix(u, 0).UTC()
	}
	if c.Expires > 0 {
		f.Closes = time.Unix(c.Expires, 0).UTC()
	}
	return f, true
}

// Asks reports whether a feedback request asks a member with role whose membership began at
// joined.
func (f FeedbackSpec) Asks(role Role, joined time.Time) bool {
	switch {
	case role == RoleNone:
		return false
	case f.Role == RoleMember && role != RoleMember:
		return false
	case f.Role == RoleModerator && role < RoleModerator:
		return false
	case !f.JoinedBefore.IsZero() && !joined.Before(f.JoinedBefore):
		return false
	}
	return true
}

// NewFeedbackStatus makes a status body for a request: one of FeedbackStatuses, with a note.
func NewFeedbackStatus(channel, request Hash, status, note string) (*Content, error) {
	if !slices.Contains(FeedbackStatuses, status) {
		return nil, &FieldError{Err: ErrBadText, Msg: fmt.Sprintf("the status is one of planned, doing, done or declined, not %q", status)}
	}
	n, err := LimitText.CleanText(note)
	if err != nil {
		return nil, fmt.Errorf("the note: %w", err)
	}
	c := NewContent(KindFeedbackStatus)
	c.Channel, c.Target, c.Options, c.Text = channel, request, []string{status}, n
	return c, nil
}

// StatusOf reads a status body: its status and note; ok false when malformed.
func StatusOf(c *Content) (status, note string, ok bool) {
	if c.Kind() != KindFeedbackStatus || len(c.Options) != 1 || !slices.Contains(FeedbackStatuses, c.Options[0]) {
		return "", "", false
	}
	return c.Options[0], c.Text, true
}

// feedbackAAD binds a sealed answer to its community, request and author.
func feedbackAAD(community, request Hash, author ed25519.PublicKey) []byte {
	m := append([]byte("kith feedback v1\x00"), community[:]...)
	m = append(m, request[:]...)
	return append(m, author...)
}

// NewFeedbackAnswer makes an answer's body: the text sealed to readers (the owner, the
// moderators and the author), citing the request.
func NewFeedbackAnswer(community, channel, request Hash, author ed25519.PublicKey, text string, readers []Recipient, rand io.Reader) (*Content, error) {
	sealed, err := sealFor(readers, []byte(text), feedbackAAD(community, request, author), rand)
	if err != nil {
		return nil, err
	}
	c := NewContent(KindFeedbackAnswer)
	c.Channel, c.Target, c.Text = channel, request, encodeSealed(sealed)
	return c, nil
}

// OpenFeedbackAnswer opens an answer when it was sealed to me (ok false otherwise).
func OpenFeedbackAnswer(me KeyHolder, community Hash, author ed25519.PublicKey, c *Content) (string, bool, error) {
	sealed, err := decodeSealedWith(c.Text, LimitFeedback.Max+64)
	if err != nil {
		return "", false, err
	}
	plain, ok, err := openFor(me, sealed, feedbackAAD(community, c.Target, author))
	if !ok || err != nil {
		return "", ok, err
	}
	if len(plain) > LimitFeedback.Max {
		return "", false, fmt.Errorf("%w: an answer over its limit", ErrMalformed)
	}
	return string(plain), true, nil
}
