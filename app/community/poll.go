package community

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Polls: a poll (kind poll) is content in its channel; a vote (kind vote) carries the voter's
// choices sealed to the owner, the moderators and the voter itself, so members never see who
// voted what; a poll-close carries the tally its writer counted, when the poll shows results.

// Poll flags, in a poll's Content.Choice.
const (
	PollMulti        = 1 // several choices
	PollResultsNever = 2 // members never see the results (the owner and moderators always do)
	pollFlags        = PollMulti | PollResultsNever
)

// Bounds of polls.
const (
	MinPollOptions = 2
	MaxPollOptions = maxOptions
	// PollCloseSkew is how late a vote's header time may be after the poll's closing time.
	PollCloseSkew = 5 * time.Minute
)

// PollSpec is a poll as its author makes it.
type PollSpec struct {
	Question     string
	Options      []string
	Multi        bool
	ResultsNever bool
	Closes       time.Time // zero: closes when its author or a moderator closes it
}

// NewPoll makes a poll's content body in channel, after checking each field with a sentence.
func NewPoll(channel Hash, p PollSpec) (*Content, error) {
	q, err := LimitText.CleanText(strings.TrimSpace(p.Question))
	if err != nil {
		return nil, fmt.Errorf("the question: %w", err)
	}
	if q == "" {
		return nil, &FieldError{Err: ErrEmpty, Msg: "a poll needs a question"}
	}
	if len(p.Options) < MinPollOptions || len(p.Options) > MaxPollOptions {
		return nil, &FieldError{Err: ErrTooLong, Msg: fmt.Sprintf("a poll has %d to %d options, not %d", MinPollOptions, MaxPollOptions, len(p.Options))}
	}
	c := NewContent(KindPoll)
	c.Channel, c.Text = channel, q
	seen := map[string]bool{}
	for i, o := range p.Options {
		clean, err := LimitOption.CleanName(o)
		if err != nil {
			return nil, fmt.Errorf("option %d: %w", i+1, err)
		}
		if seen[NameKey(clean)] {
			return nil, &FieldError{Err: ErrBadText, Msg: fmt.Sprintf("option %d (%q) is there twice: make each option different", i+1, clean)}
		}
		seen[NameKey(clean)] = true
		c.Options = append(c.Options, clean)
	}
	if p.Multi {
		c.Choice |= PollMulti
	}
	if p.ResultsNever {
		c.Choice |= PollResultsNever
	}
	if !p.Closes.IsZero() {
		c.Expires = p.Closes.Unix()
	}
	return c, nil
}

// PollOf reads a poll's content body; ok is false when it is not a well-formed poll (a reader
// ignores such a poll).
func PollOf(c *Content) (PollSpec, bool) {
	if c.Kind() != KindPoll || len(c.Options) < MinPollOptions || len(c.Options) > MaxPollOptions || c.Choice&^pollFlags != 0 || c.Expires < 0 {
		return PollSpec{}, false
	}
	p := PollSpec{Question: c.Text, Options: slices.Clone(c.Options), Multi: c.Choice&PollMulti != 0, ResultsNever: c.Choice&PollResultsNever != 0}
	if c.Expires > 0 {
		p.Closes = time.Unix(c.Expires, 0).UTC()
	}
	return p, true
}

// CheckChoices checks a vote's choices (option indexes from 0) against a poll: at least one,
// each once and in range, and only one unless the poll allows several.
func CheckChoices(p PollSpec, choices []int) error {
	switch {
	case len(choices) == 0:
		return &FieldError{Err: ErrEmpty, Msg: "a vote chooses at least one option"}
	case len(choices) > 1 && !p.Multi:
		return &FieldError{Err: ErrTooLong, Msg: "this poll takes one choice: vote for one option"}
	}
	seen := map[int]bool{}
	for _, c := range choices {
		if c < 0 || c >= len(p.Options) {
			return &FieldError{Err: ErrTooLong, Msg: fmt.Sprintf("option %d does not exist: this poll has options 1 to %d", c+1, len(p.Options))}
		}
		if seen[c] {
			return &FieldError{Err: ErrBadText, Msg: fmt.Sprintf("option %d is chosen twice", c+1)}
		}
		seen[c] = true
	}
	return nil
}

// ballotAAD binds a sealed ballot to its community, poll and voter.
func ballotAAD(community, poll Hash, voter ed25519.PublicKey) []byte {
	m := append([]byte("kith ballot v1\x00"), community[:]...)
	m = append(m, poll[:]...)
	return append(m, voter...)
}

// encodeBallot is a ballot's plaintext: uvarint n | n × uvarint index.
func encodeBallot(choices []int) []byte {
	w := writer{}
	w.uvarint(uint64(len(choices)))
	for _, c := range choices {
		w.uvarint(uint64(c))
	}
	return w.b
}

// decodeBallot reads encodeBallot's output, bounded (at most MaxPollOptions choices).
func decodeBallot(b []byte) ([]int, error) {
	r := reader{b: b}
	n := r.count(MaxPollOptions, 1)
	out := make([]int, 0, n)
	for range n {
		out = append(out, int(r.upTo(MaxPollOptions-1)))
	}
	if err := r.done(); err != nil {
		return nil, fmt.Errorf("%w: a ballot: %v", ErrMalformed, err)
	}
	return out, nil
}

// encodeSealed writes sealed data as a vote's text carries it (base64 of the encoding).
func encodeSealed(s SealedAnswers) string {
	w := writer{}
	w.bytes(s.EphemeralKey)
	w.uvarint(uint64(len(s.Keys)))
	for _, k := range s.Keys {
		w.fixed(k.Member)
		w.bytes(k.Sealed)
	}
	w.bytes(s.Box)
	return base64.RawStdEncoding.EncodeToString(w.b)
}

// maxBallotBox bounds a sealed ballot's box: the nonce, the tag and the largest ballot.
const maxBallotBox = 24 + 16 + 1 + MaxPollOptions*2

// decodeSealed reads a sealed ballot: what encodeSealed wrote, bounded.
func decodeSealed(text string) (SealedAnswers, error) { return decodeSealedWith(text, maxBallotBox) }

// decodeSealedWith reads what encodeSealed wrote, its box at most maxBox bytes.
func decodeSealedWith(text string, maxBox int) (SealedAnswers, error) {
	var s SealedAnswers
	b, err := base64.RawStdEncoding.Strict().DecodeString(text)
	if err != nil || base64.RawStdEncoding.EncodeToString(b) != text { // the decoder skips line breaks: one text only
		return s, fmt.Errorf("%w: a sealed ballot is not base64", ErrMalformed)
	}
	r := reader{b: b}
	s.EphemeralKey = r.bytes(maxX25519)
	for range r.count(maxRecipients, 32+1) {
		s.Keys = append(s.Keys, SealedKey{Member: r.key(), Sealed: r.bytes(64)})
	}
	s.Box = r.bytes(maxBox)
	if err := r.done(); err != nil {
		return SealedAnswers{}, fmt.Errorf("%w: a sealed ballot: %v", ErrMalformed, err)
	}
	return s, nil
}

// NewVote makes a vote's content body: the choices sealed to readers (the owner, the moderators
// and the voter), citing the poll in its channel.
func NewVote(community Hash, channel, poll Hash, voter ed25519.PublicKey, choices []int, readers []Recipient, rand io.Reader) (*Content, error) {
	sealed, err := sealFor(readers, encodeBallot(choices), ballotAAD(community, poll, voter), rand)
	if err != nil {
		return nil, err
	}
	c := NewContent(KindVote)
	c.Channel, c.Target, c.Text = channel, poll, encodeSealed(sealed)
	return c, nil
}

// OpenBallot opens a vote's choices when they were sealed to me (ok false otherwise).
func OpenBallot(me KeyHolder, community Hash, voter ed25519.PublicKey, c *Content) (choices []int, ok bool, err error) {
	sealed, err := decodeSealed(c.Text)
	if err != nil {
		return nil, false, err
	}
	plain, ok, err := openFor(me, sealed, ballotAAD(community, c.Target, voter))
	if !ok || err != nil {
		return nil, ok, err
	}
	choices, err = decodeBallot(plain)
	return choices, err == nil, err
}
