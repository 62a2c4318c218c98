package invite

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Params
	}{
		{"typical", testParams()},
		{"minimal", Params{Community: community, CommunityName: "x", Role: RoleModerator}},
		{"largest", largestParams()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := issue(t, ownerKey, tc.p)
			text := inv.String()
			if strings.Trim(text, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
				t.Fatalf("text has characters outside [a-z0-9]: %q", text)
			}
			if len(text) > MaxInviteLen {
				t.Fatalf("len(text) = %d > MaxInviteLen %d", len(text), MaxInviteLen)
			}
			got, err := Parse(text)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, inv) {
				t.Fatalf("Parse(String()) =\n%+v\nwant\n%+v", got, inv)
			}
			if got.String() != text {
				t.Fatal("String() after Parse differs")
			}
			s, err := Decode(inv.Encode())
			if err != nil {
				t.Fatalf("Decode(Encode()): %v", err)
			}
			if !reflect.DeepEqual(*s, inv.Signed) {
				t.Fatalf("Decode(Encode()) = %+v, want %+v", s, inv.Signed)
			}
			if err := Check(&got.Signed, community, t0, newLedger()); err != nil {
				t.Fatalf("Check: %v", err)
			}
			t.Logf("%s invite: %d characters", tc.name, len(text))
		})
	}
}

func largestParams() Params {
	p := Params{
		Community:     community,
		CommunityName: strings.Repeat("é", MaxNameLen/2),
		Role:          RoleModerator,
		MaxUses:       1<<32 - 1,
		NotBefore:     time.Unix(1, 0),
		Expires:       time.Unix(maxUnix, 0),
	}
	for i := 0; i < MaxBootstrap; i++ {
		p.Bootstrap = append(p.Bootstrap, "/"+strings.Repeat(string(rune('a'+i)), MaxBootstrapLen-1))
	}
	return p
}

func TestLargestInvite(t *testing.T) {
	inv := issue(t, ownerKey, largestParams())
	if len(inv.Raw) != MaxRawLen {
		t.Errorf("largest Raw is %d bytes, MaxRawLen = %d", len(inv.Raw), MaxRawLen)
	}
	if n := len(inv.String()); n != MaxInviteLen {
		t.Errorf("largest invite is %d characters, MaxInviteLen = %d", n, MaxInviteLen)
	}
}

func TestParseForgiving(t *testing.T) {
	inv := issue(t, ownerKey, testParams())
	text := inv.String()
	wrap := func(s string, width int, sep string) string {
		var b strings.Builder
		for i := 0; i < len(s); i += width {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(s[i:min(i+width, len(s))])
		}
		return b.String()
	}
	for name, in := range map[string]string{
		"exact":            text,
		"spaces":           "  \t" + text + " \n",
		"quotes":           `"` + text + `"`,
		"smart quotes":     "“" + text + "”",
		"single quotes":    "'" + text + "'",
		"angle brackets":   "<" + text + ">",
		"upper case":       strings.ToUpper(text),
		"mixed case":       "Kith1" + text[5:],
		"text before":      "Join us: " + text,
		"text around":      "Hi! Join us here: " + text + " — see you soon",
		"text after":       text + " see you",
		"period after":     text + ".",
		"mail wrapping":    wrap(text, 76, "\r\n"),
		"spaces inside":    wrap(text, 40, " "),
		"quoted reply":     "> " + wrap(text, 70, "\n> "),
		"nbsp and zwsp":    wrap(text, 50, "\u00a0\u200b"),
		"soft hyphens":     wrap(text, 30, "\u00ad"),
		"kith1 in prose":   "Kith1 is the format. Here: " + text,
		"markdown code":    "`" + text + "`",
		"bom":              "\ufeff" + text,
		"two lines before": "Hello\n\nJoin:\n" + text,
	} {
		got, err := Parse(in)
		if err != nil {
			t.Errorf("%s: Parse: %v", name, err)
			continue
		}
		if !bytes.Equal(got.Raw, inv.Raw) || got.Secret != inv.Secret {
			t.Errorf("%s: parsed a different invite", name)
		}
	}
}

func TestParseErrors(t *testing.T) {
	inv := issue(t, ownerKey, testParams())
	text := inv.String()
	payload := inv.payload()
	flip := func(s string, i int) string {
		c := byte('a')
		if s[i] == 'a' {
			c = 'b'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	tamperRaw := append([]byte(nil), payload...)
	tamperRaw[2+40] ^= 1 // a byte of the community name
	tamperSig := append([]byte(nil), payload...)
	tamperSig[len(tamperSig)-checksumLen-secretLen-1] ^= 1
	tamperSecret := append([]byte(nil), payload...)
	tamperSecret[len(tamperSecret)-checksumLen-1] ^= 1
	newVersion := append([]byte(nil), payload...)
	newVersion[0] = 2

	for _, tc := range []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrNotInvite},
		{"prose", "see you on Saturday", ErrNotInvite},
		{"url", "https://example.org/invite/abc", ErrNotInvite},
		{"kith without version", "kith" + text[5:], ErrNotInvite},
		{"too long", strings.Repeat(" ", MaxTextLen) + text, ErrNotInvite},
		{"prefix only", "kith1", ErrDamaged},
		{"one character changed", flip(text, len(text)/2), ErrDamaged},
		{"first character changed", flip(text, 5), ErrDamaged},
		{"last character changed", flip(text, len(text)-1), ErrDamaged},
		{"one character missing", text[:100] + text[101:], ErrDamaged},
		{"one character added", text[:100] + "q" + text[100:], ErrDamaged},
		{"truncated", text[:len(text)-1], ErrDamaged},
		{"half", text[:len(text)/2], ErrDamaged},
		{"header only", text[:13], ErrDamaged},
		{"cut by a character not in base32", text[:200] + "8" + text[200:], ErrDamaged},
		{"newer version", textOf(newVersion, true), ErrDamaged},
		{"raw changed, checksum fixed", textOf(tamperRaw, true), ErrForged},
		{"raw changed, checksum not fixed", textOf(tamperRaw, false), ErrDamaged},
		{"signature changed, checksum fixed", textOf(tamperSig, true), ErrForged},
		{"secret changed, checksum fixed", textOf(tamperSecret, true), ErrForged},
	} {
		got, err := Parse(tc.in)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Parse = %v, %v; want %v", tc.name, got, err, tc.want)
			continue
		}
		if got != nil {
			t.Errorf("%s: Parse returned an invite with an error", tc.name)
		}
		if msg := err.Error(); !strings.Contains(msg, ": ") || strings.HasPrefix(msg, "invite:") {
			t.Errorf("%s: message %q does not read as a sentence saying what to do", tc.name, msg)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	_, err := Parse(strings.Repeat("a", 10))
	if got, want := err.Error(), "this is not a Kith invite (an invite is one line that starts with kith1): ask whoever sent it to send the invite itself"; got != want {
		t.Errorf("not an invite: %q, want %q", got, want)
	}
	text := issue(t, ownerKey, testParams()).String()
	_, err = Parse(text[:50] + "x" + text[51:])
	if got, want := err.Error(), "this invite is damaged (a character is missing or changed): copy the whole line again"; got != want {
		t.Errorf("damaged: %q, want %q", got, want)
	}
	p := testParams()
	p.Expires = time.Date(2026, 11, 20, 14, 5, 0, 0, time.UTC)
	inv := issue(t, ownerKey, p)
	err = Check(&inv.Signed, community, p.Expires.Add(time.Hour), newLedger())
	if got, want := err.Error(), "this invite expired on 20 Nov 2026 at 14:05 UTC: ask whoever sent it for a new one"; got != want {
		t.Errorf("expired: %q, want %q", got, want)
	}
	err = Check(&inv.Signed, community, p.NotBefore.Add(-time.Hour), newLedger())
	if got, want := err.Error(), "this invite becomes valid on 13 Nov 2026 at 14:05 UTC: try again then"; got != want {
		t.Errorf("not yet valid: %q, want %q", got, want)
	}
}

// TestEveryByteChange changes each byte of a valid payload, flipping each of
// its bits (checksum left alone) and in three ways with a recomputed
// checksum: each change must be refused as damaged or forged, never accepted.
func TestEveryByteChange(t *testing.T) {
	inv := issue(t, ownerKey, testParams())
	payload := inv.payload()
	p := make([]byte, len(payload))
	try := func(i int, x byte, fix bool) {
		copy(p, payload)
		p[i] ^= x
		got, err := Parse(textOf(p, fix))
		switch {
		case err == nil:
			t.Fatalf("byte %d ^ %#x (checksum fixed: %v) accepted: %+v", i, x, fix, got)
		case !fix && !errors.Is(err, ErrDamaged):
			t.Fatalf("byte %d ^ %#x without checksum fix: %v, want damaged", i, x, err)
		case !errors.Is(err, ErrDamaged) && !errors.Is(err, ErrForged):
			t.Fatalf("byte %d ^ %#x (checksum fixed): %v, want damaged or forged", i, x, err)
		}
	}
	for i := range payload {
		for bit := range 8 {
			try(i, 1<<bit, false)
		}
		if i < len(payload)-checksumLen { // fixing the checksum would undo a change to it
			for _, x := range []byte{0x01, 0x80, 0xff} {
				try(i, x, true)
			}
		}
	}
}

// TestEveryCharChange replaces each character of a valid invite's text by
// the five base32 characters one bit away and by one further character: all
// must be refused as damaged.
func TestEveryCharChange(t *testing.T) {
	text := []byte(issue(t, ownerKey, testParams()).String())
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	for i := len(Prefix); i < len(text); i++ {
		orig := text[i]
		v := strings.IndexByte(alphabet, orig)
		for _, x := range []int{1, 2, 4, 8, 16, 1 + (i % 31)} {
			text[i] = alphabet[v^x]
			if _, err := Parse(string(text)); !errors.Is(err, ErrDamaged) {
				t.Fatalf("character %d %q→%q: %v, want damaged", i, orig, text[i], err)
			}
		}
		text[i] = orig
	}
}

func TestIssueRefuses(t *testing.T) {
	for name, edit := range map[string]func(*Params){
		"owner role":         func(p *Params) { p.Role = RoleOwner },
		"no role":            func(p *Params) { p.Role = RoleNone },
		"empty name":         func(p *Params) { p.CommunityName = "" },
		"long name":          func(p *Params) { p.CommunityName = strings.Repeat("a", MaxNameLen+1) },
		"control in name":    func(p *Params) { p.CommunityName = "a\nb" },
		"bidi in name":       func(p *Params) { p.CommunityName = "a\u202eb" },
		"invalid utf-8":      func(p *Params) { p.CommunityName = "a\xffb" },
		"expires first":      func(p *Params) { p.Expires = p.NotBefore.Add(-time.Second) },
		"before 1970":        func(p *Params) { p.NotBefore = time.Unix(-5, 0) },
		"nine addresses":     func(p *Params) { p.Bootstrap = make([]string, 9); fillAddrs(p.Bootstrap) },
		"long address":       func(p *Params) { p.Bootstrap = []string{"/" + strings.Repeat("a", MaxBootstrapLen)} },
		"address with space": func(p *Params) { p.Bootstrap = []string{"/ip4/1.2.3.4 /tcp/1"} },
		"not a multiaddr":    func(p *Params) { p.Bootstrap = []string{"1.2.3.4:4001"} },
	} {
		p := testParams()
		edit(&p)
		if inv, err := Issue(keySigner{ownerKey}, p, newDetRand(name)); err == nil {
			t.Errorf("%s: Issue accepted %+v", name, inv.Capability)
		}
	}
	if _, err := Issue(keySigner{ownerKey}, testParams(), strings.NewReader("short")); err == nil {
		t.Error("Issue succeeded with a failing random source")
	}
	if _, err := Issue(badSigner{}, testParams(), nil); err == nil {
		t.Error("Issue accepted a signature that does not verify")
	}
	if _, err := Issue(keySigner{ownerKey}, testParams(), nil); err != nil {
		t.Errorf("Issue with crypto/rand: %v", err)
	}
}

func fillAddrs(a []string) {
	for i := range a {
		a[i] = "/ip4/192.0.2.1/tcp/4001"
	}
}

type badSigner struct{}

func (badSigner) PublicKey() ed25519.PublicKey    { return pub(ownerKey) }
func (badSigner) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(strangerKey, msg), nil }

func TestIssueTruncatesTimes(t *testing.T) {
	p := testParams()
	p.NotBefore = t0.Add(700 * time.Millisecond).In(time.FixedZone("X", 3600))
	inv := issue(t, ownerKey, p)
	if !inv.NotBefore.Equal(t0) || inv.NotBefore.Location() != time.UTC {
		t.Errorf("NotBefore = %v, want %v", inv.NotBefore, t0)
	}
}

func TestDecodeStrict(t *testing.T) {
	inv := issue(t, ownerKey, testParams())
	if _, err := DecodeSigned(inv.Raw, inv.Sig); err != nil {
		t.Fatalf("DecodeSigned: %v", err)
	}
	for name, tc := range map[string]struct {
		raw, sig []byte
		want     error
	}{
		"trailing byte":  {append(bytes.Clone(inv.Raw), 0), inv.Sig, ErrDamaged},
		"truncated":      {inv.Raw[:len(inv.Raw)-1], inv.Sig, ErrDamaged},
		"empty":          {nil, inv.Sig, ErrDamaged},
		"too long":       {make([]byte, MaxRawLen+1), inv.Sig, ErrDamaged},
		"short sig":      {inv.Raw, inv.Sig[:63], ErrForged},
		"no sig":         {inv.Raw, nil, ErrForged},
		"other sig":      {inv.Raw, ed25519.Sign(strangerKey, signedMessage(inv.Raw)), ErrForged},
		"undomained sig": {inv.Raw, ed25519.Sign(ownerKey, inv.Raw), ErrForged},
	} {
		if _, err := DecodeSigned(tc.raw, tc.sig); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	// A non-minimal uvarint length (0x80|x, 0x00...) is not canonical.
	enc := inv.Encode()
	if _, err := Decode(append(enc, 0)); !errors.Is(err, ErrDamaged) {
		t.Errorf("Decode with a trailing byte: %v", err)
	}
	if _, err := Decode(enc[:len(enc)-1]); !errors.Is(err, ErrDamaged) {
		t.Errorf("Decode truncated: %v", err)
	}
	// DecodeSigned copies its input.
	raw := bytes.Clone(inv.Raw)
	s, _ := DecodeSigned(raw, inv.Sig)
	raw[0] ^= 0xff
	if err := s.Verify(); err != nil {
		t.Errorf("Signed shares memory with its input: %v", err)
	}
}

func TestNonCanonicalLength(t *testing.T) {
	inv := issue(t, ownerKey, testParams())
	// Re-encode the Raw length as a 3-byte uvarint: same value, other bytes.
	n := len(inv.Raw)
	p := []byte{payloadVersion, byte(n) | 0x80, byte(n>>7) | 0x80, 0}
	p = append(p, inv.Raw...)
	p = append(p, inv.Sig...)
	p = append(p, inv.Secret[:]...)
	p = append(p, 0, 0, 0, 0)
	if _, err := Parse(textOf(p, true)); !errors.Is(err, ErrDamaged) {
		t.Errorf("non-minimal length: %v, want damaged", err)
	}
	e := append([]byte{byte(n) | 0x80, byte(n>>7) | 0x80, 0}, inv.Raw...)
	if _, err := Decode(append(e, inv.Sig...)); !errors.Is(err, ErrDamaged) {
		t.Errorf("Decode non-minimal length: %v, want damaged", err)
	}
}

func TestRoleAndID(t *testing.T) {
	for _, r := range []Role{RoleMember, RoleModerator, RoleOwner} {
		got, err := ParseRole(strings.ToUpper(" " + r.String()))
		if err != nil || got != r {
			t.Errorf("ParseRole(%v) = %v, %v", r, got, err)
		}
	}
	for _, s := range []string{"", "none", "admin", "role(7)"} {
		if _, err := ParseRole(s); err == nil {
			t.Errorf("ParseRole(%q) succeeded", s)
		}
	}
	if RoleNone.String() != "none" || Role(9).String() != "role(9)" {
		t.Error("String of none or unknown roles")
	}
	id := ID{0xab, 0x01}
	if id.String() != "ab010000000000000000000000000000" {
		t.Errorf("ID.String = %s", id)
	}
	if got, err := ParseID(strings.ToUpper(id.String())); err != nil || got != id {
		t.Errorf("ParseID = %v, %v", got, err)
	}
	for _, s := range []string{"", "ab", strings.Repeat("g", 32)} {
		if _, err := ParseID(s); err == nil {
			t.Errorf("ParseID(%q) succeeded", s)
		}
	}
}

func TestInviteKeyIsDerived(t *testing.T) {
	var a, b [32]byte
	b[31] = 1
	if bytes.Equal(InviteKey(a), InviteKey(b)) {
		t.Fatal("different secrets give the same key")
	}
	if !bytes.Equal(InviteKey(a), InviteKey(a)) {
		t.Fatal("InviteKey is not deterministic")
	}
	if bytes.Equal(InviteKey(a).Seed(), a[:]) {
		t.Fatal("the secret is used as the seed directly")
	}
}
