package community

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strconv"
	"strings"
	"testing"
)

func strconvQuote(b []byte) string { return strconv.Quote(string(b)) }
func itoa(i int) string            { return strconv.Itoa(i) }

// FuzzDecode: the envelope decoder never panics, and whatever it accepts is canonical (it
// encodes back to the same bytes) and carries a valid signature, so no mutation of a signed
// envelope is accepted as another event.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			return
		}
		out := e.Encode()
		if e.Body == nil && e.BodyLen > 0 {
			out = e.EncodeWithoutBody()
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("accepted a non-canonical envelope")
		}
		if _, _, err := VerifyRawHeader(e.RawHeader()); err != nil {
			t.Fatalf("accepted an envelope whose header does not verify: %v", err)
		}
		// Bodies of authority kinds decode without panicking either.
		if e.Kind.Authority() && e.Body != nil {
			DecodeBody(e.Kind, e.Body)
		}
	})
}

// FuzzDecodeBody: every body decoder is bounded and never panics; what decodes re-encodes to
// the same bytes.
func FuzzDecodeBody(f *testing.F) {
	for _, k := range Kinds() {
		if b := newBody(k); b != nil && k.Authority() {
			f.Add(uint16(k), EncodeBody(b))
		}
	}
	f.Add(uint16(KindRotateKey), []byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add(uint16(KindSettings), EncodeBody(&Settings{MemberInvites: 2, Welcome: "hi", Questions: []string{"why?"}, PromotionsPerWeek: 5}))
	f.Add(uint16(KindSettings), EncodeBody(&Settings{MemberInvites: 2, Welcome: "hi", MaxFileMiB: 25, KeepFiles: true}))
	f.Fuzz(func(t *testing.T, kind uint16, b []byte) {
		body, err := DecodeBody(Kind(kind), b)
		if err != nil {
			return
		}
		if again := EncodeBody(body); !bytes.Equal(again, b) {
			// Non-canonical forms (e.g. long varints) may decode; they must decode to the same value.
			body2, err := DecodeBody(Kind(kind), again)
			if err != nil || !bytes.Equal(EncodeBody(body2), again) {
				t.Fatalf("re-encoding is not stable: %v", err)
			}
		}
	})
}

// FuzzDecodeAnswers: the sealed answers' decoder (what an owner reads after opening a request's
// answers, written by a member it does not control) is bounded, never panics, and what it
// accepts encodes back to the same bytes.
func FuzzDecodeAnswers(f *testing.F) {
	f.Add(encodeAnswers([]string{"A friend", "Pots"}, make([]byte, 64)))
	f.Add(encodeAnswers(nil, nil))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{6})
	f.Fuzz(func(t *testing.T, b []byte) {
		answers, sig, err := decodeAnswers(b)
		if err != nil {
			return
		}
		if len(answers) > 5 || !bytes.Equal(encodeAnswers(answers, sig), b) {
			t.Fatal("accepted non-canonical or too many answers")
		}
	})
}

// FuzzDecodeBallot: a vote's sealed part (what the owner opens, written by any member) and its
// ballot are read bounded, never panic, and what they accept encodes back the same.
func FuzzDecodeBallot(f *testing.F) {
	f.Add(encodeSealed(SealedAnswers{EphemeralKey: make([]byte, 32), Keys: []SealedKey{{Member: make([]byte, 32), Sealed: make([]byte, 48)}}, Box: make([]byte, 45)}), encodeBallot([]int{0, 2}))
	f.Add("", []byte{})
	f.Add("////", []byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add("AAAA", []byte{21})
	f.Fuzz(func(t *testing.T, text string, ballot []byte) {
		if s, err := decodeSealed(text); err == nil && encodeSealed(s) != text {
			t.Fatal("a sealed ballot re-encodes differently")
		}
		if choices, err := decodeBallot(ballot); err == nil {
			if len(choices) > MaxPollOptions || !bytes.Equal(encodeBallot(choices), ballot) {
				t.Fatal("a ballot re-encodes differently, or has too many choices")
			}
		}
	})
}

// FuzzDecodeJoinRequest: the join stream's decoder never panics, and what it accepts encodes
// back to the same bytes.
func FuzzDecodeJoinRequest(f *testing.F) {
	f.Add([]byte{1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeJoinRequest(b)
		if err != nil {
			return
		}
		if !bytes.Equal(req.Encode(), b) {
			t.Fatal("accepted a non-canonical join request")
		}
	})
}

// FuzzRecoverySigner: the recovery words are pasted or typed (the desktop's recovery dialog,
// `kithd recover` on standard input). The parser never panics, refuses anything but the right
// number of known words with a good checksum, and what it accepts gives one key: the words it
// would print for that key parse to the same key.
func FuzzRecoverySigner(f *testing.F) {
	f.Add("")
	f.Add("abandon")
	f.Add(strings.Repeat("word ", RecoveryWords))
	_, words, err := NewRecovery(zeroReader{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(words)
	f.Add(strings.ToUpper(words))
	f.Add("  " + strings.ReplaceAll(words, " ", "\n") + "\n")
	f.Fuzz(func(t *testing.T, phrase string) {
		s, err := RecoverySigner(phrase)
		if err != nil {
			if !errors.Is(err, ErrRecoveryWords) {
				t.Fatalf("an error that is not ErrRecoveryWords: %v", err)
			}
			return
		}
		if len(s.PublicKey()) != ed25519.PublicKeySize {
			t.Fatal("accepted words that give no key")
		}
		again, err := RecoverySigner(strings.ToLower(strings.Join(strings.Fields(phrase), " ")))
		if err != nil || !again.PublicKey().Equal(s.PublicKey()) {
			t.Fatalf("the same words, spaced and cased otherwise, give another key: %v", err)
		}
	})
}

// zeroReader reads zeros: fixed recovery words for a seed.
type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) { clear(b); return len(b), nil }

// FuzzDecodeCard: a badge card (text anyone may hand to kithd verify-badge) is read bounded,
// never panics, and what decodes encodes back to the same text; checking it never panics.
func FuzzDecodeCard(f *testing.F) {
	f.Add("kithbadge1")
	f.Add("kithbadge1AQ")
	f.Add(CardPrefix + strings.Repeat("A", 200))
	f.Fuzz(func(t *testing.T, s string) {
		c, err := DecodeCard(s)
		if err != nil {
			return
		}
		if again := c.Encode(); again != strings.TrimSpace(s) {
			t.Fatalf("re-encoding differs")
		}
		_ = c.Check()
	})
}

// FuzzDecodeManifest: a blob's manifest (inside a member's message) is read bounded, never
// panics, and what it accepts encodes back to the same bytes.
func FuzzDecodeManifest(f *testing.F) {
	m, _, _ := SealBlob(Key{}, [16]byte{7}, "glaze.jpg", "image/jpeg", BlobChunkSize+5, bytes.NewReader(make([]byte, BlobChunkSize+5)))
	f.Add(m.Encode())
	m.Thumb, m.Width, m.Height = []byte{0xff, 0xd8, 0xff}, 640, 480
	f.Add(m.Encode())
	f.Add([]byte{1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeManifest(b)
		if err != nil {
			return
		}
		if !bytes.Equal(m.Encode(), b) {
			t.Fatal("accepted a non-canonical manifest")
		}
	})
}
