package community

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kith-app/kith/app/invite"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// A Limit is the most one field that people write may hold, in bytes of UTF-8. The same table
// serves every writer (which refuses more, with a sentence naming the field) and every reader
// (the decoders refuse more), so whatever a writer accepts, every reader decodes.
type Limit struct {
	Field string // what a person calls the field: "message", "display name"
	Max   int    // bytes of UTF-8
}

// The field limits. Changing one is a protocol change: readers of older versions refuse more
// than they knew.
var (
	LimitCommunityName = Limit{"community name", invite.MaxNameLen} // travels in invites too
	LimitDisplayName   = Limit{"display name", 100}
	LimitChannelName   = Limit{"channel name", 100}
	LimitAbout         = Limit{"about text", 2000}
	LimitText          = Limit{"message", 16 << 10}
	LimitReason        = Limit{"reason", 500}
	LimitOption        = Limit{"poll option", 100}
	LimitWelcome       = Limit{"welcome text", 4000} // the welcome and the rules, each
	LimitAnswer        = Limit{"answer", 2000}       // one answer to an entry question
	LimitQuestion      = Limit{"question", invite.MaxQuestionLen}
)

// Limits lists every field limit (for documentation and tests).
var Limits = []Limit{LimitCommunityName, LimitDisplayName, LimitChannelName, LimitAbout, LimitText, LimitReason, LimitOption,
	LimitWelcome, LimitAnswer, LimitQuestion}

// List limits, in entries.
const (
	maxOptions    = 20
	maxChannels   = 16
	maxRecipients = 4096
	maxX25519     = 32
)

// MaxMembers is the most active members a community can hold: a key rotation seals the new key
// to each of them in one event, which readers accept for up to this many (and MaxBodySize
// bounds). Admitters refuse joins past it; member caps cannot exceed it.
const MaxMembers = maxRecipients

// ErrTooLong is wrapped by every error of a field over its Limit.
var ErrTooLong = errors.New("community: too long")

// ErrEmpty is wrapped by the error of a name that is empty or only spaces.
var ErrEmpty = errors.New("community: empty")

// ErrBadText is wrapped by every error of a field holding characters it may not hold (control
// characters, invalid UTF-8, and in names direction overrides and invisible characters).
var ErrBadText = errors.New("community: characters that are not allowed")

// A FieldError refuses what a person typed in one field; it wraps ErrTooLong or ErrBadText.
type FieldError struct {
	Err error  // ErrTooLong, ErrBadText or ErrEmpty
	Msg string // the sentence: what is wrong, and what to do
}

func (e *FieldError) Error() string { return "community: " + e.Msg }
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(kind error, format string, a ...any) error {
	return &FieldError{Err: kind, Msg: fmt.Sprintf(format, a...)}
}

// Check returns nil when s fits the limit and is valid UTF-8; else an error naming the field
// and the limit, in words a person can act on.
func (l Limit) Check(s string) error {
	if !utf8.ValidString(s) {
		return fieldErr(ErrBadText, "the %s is not valid text (UTF-8)", l.Field)
	}
	if len(s) <= l.Max {
		return nil
	}
	n := utf8.RuneCountInString(s)
	if n == len(s) {
		return fieldErr(ErrTooLong, "the %s is %s characters long: the most is %s, so shorten it", l.Field, thousands(n), thousands(l.Max))
	}
	return fieldErr(ErrTooLong, "the %s is %s bytes long (%s characters): the most is %s bytes, so shorten it", l.Field, thousands(len(s)), thousands(n), thousands(l.Max))
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// CleanText trims s and checks it against l for text where lines are allowed (a message, the
// about text, a reason): tabs and line breaks stay; other control characters are refused, and
// so are the two direction overrides (which make text read backwards). Direction marks,
// embeddings and isolates stay: right-to-left writing needs them.
func (l Limit) CleanText(s string) (string, error) {
	s = norm.NFC.String(strings.TrimSpace(s))
	if err := l.Check(s); err != nil {
		return "", err
	}
	for _, r := range s {
		if r != '\n' && r != '\t' && (unicode.IsControl(r) || r == '\u202d' || r == '\u202e') {
			return "", fieldErr(ErrBadText, "the %s holds a control character (%U): remove it", l.Field, r)
		}
	}
	return s, nil
}

// CleanName returns the form of a name (a display name, a community or channel name) that
// Kith writes: trimmed, runs of spaces made one, in Unicode normal form C. It refuses an empty
// name, one over l, and one holding characters that could deceive a reader: control
// characters, direction overrides and marks, and invisible characters (zero-width spaces and
// joiners, other format characters).
func (l Limit) CleanName(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fieldErr(ErrBadText, "the %s is not valid text (UTF-8)", l.Field)
	}
	s = norm.NFC.String(strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " "))
	if s == "" {
		return "", fieldErr(ErrEmpty, "the %s is empty: type one", l.Field)
	}
	if err := l.Check(s); err != nil {
		return "", err
	}
	rs := []rune(s)
	for i, r := range rs {
		// A zero-width joiner stays between two symbols: it makes one emoji of them.
		if r == '\u200d' && i > 0 && i+1 < len(rs) && unicode.Is(unicode.So, rs[i-1]) && unicode.Is(unicode.So, rs[i+1]) {
			continue
		}
		if deceptive(r) {
			return "", fieldErr(ErrBadText, "the %s holds an invisible or control character (%U): type it again without it", l.Field, r)
		}
	}
	return s, nil
}

// deceptive reports characters a name may not hold: controls, format characters (direction
// marks and overrides, zero-width spaces and joiners, the byte-order mark, ...), private-use
// and unassigned code points, and the replacement character.
func deceptive(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || bidiControl(r) ||
		unicode.Is(unicode.Co, r) || !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs) ||
		r == utf8.RuneError || r == '\u115f' || r == '\u1160' || r == '\u3164' || r == '\uffa0' // Hangul fillers: blank
}

// bidiControl reports the characters that change the direction text is shown in.
func bidiControl(r rune) bool {
	return r == '\u061c' || r == '\u200e' || r == '\u200f' || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// Printable returns s with what could deceive a reader made visible: control and format
// characters (direction overrides, invisible characters) become \u{…} escapes, except line
// breaks and tabs when lines is true. Views of names and text that came from other members use
// it (names are checked when written, but a hostile admitter could let one through).
func Printable(s string, lines bool) string {
	clean := true
	for _, r := range s {
		if unsafeRune(r, lines) {
			clean = false
			break
		}
	}
	if clean && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			b.WriteRune('\ufffd')
		case unsafeRune(r, lines):
			fmt.Fprintf(&b, `\u{%x}`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func unsafeRune(r rune, lines bool) bool {
	if lines && (r == '\n' || r == '\t') {
		return false
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || bidiControl(r) || r == utf8.RuneError
}

// NameKey is what two names that a reader could mistake for each other have in common: the
// name with case folded, compatibility forms and spaces removed, and letters that look alike
// (Latin, Greek and Cyrillic homoglyphs, 0 and o; 1, I and l, which most sans-serif faces draw
// alike, and so i with them; rn and m) made one. Two members'
// names with the same key are too close: an admitter refuses the second, and views mark it.
func NameKey(s string) string {
	s = norm.NFKC.String(s)
	s = cases.Fold().String(s)
	s = norm.NFKD.String(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r) || unicode.IsSpace(r) || deceptive(r) || r == '_' || r == '-' || r == '.' || r == '·':
			continue
		}
		if c, ok := confusables[r]; ok {
			r = c
		}
		b.WriteRune(r)
	}
	k := b.String()
	for _, p := range [][2]string{{"rn", "m"}, {"vv", "w"}} {
		k = strings.ReplaceAll(k, p[0], p[1])
	}
	return k
}

// confusables maps letters that look like Latin ones (after case folding) to them: the common
// Greek and Cyrillic homoglyphs and the digits that pass for letters.
var confusables = map[rune]rune{
	'0': 'o', '1': 'l', 'i': 'l', '|': 'l', '5': 's', '$': 's', '@': 'a',
	'α': 'a', 'β': 'b', 'ε': 'e', 'η': 'n', 'ι': 'l', 'ı': 'l', 'ℓ': 'l', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p',
	'τ': 't', 'υ': 'u', 'χ': 'x', 'γ': 'y', 'ω': 'w', 'ѕ': 's',
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'з': '3', 'і': 'l', 'ї': 'l', 'ј': 'j', 'к': 'k', 'м': 'm', 'н': 'h',
	'о': 'o', 'п': 'n', 'р': 'p', 'с': 'c', 'т': 't', 'у': 'y', 'х': 'x', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w',
	'ɑ': 'a', 'ɡ': 'g',
}
