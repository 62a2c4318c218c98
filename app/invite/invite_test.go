package invite

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	v2 := func(p Params) func(*testing.T) *Invite {
		return func(t *testing.T) *Invite { return issue(t, ownerKey, p) }
	}
	for _, tc := range []struct {
		name string
		make func(*testing.T) *Invite
	}{
		{"typical", v2(testParams())},
		{"minimal", v2(Params{Community: community, CommunityName: "x", Role: RoleModerator})},
		{"largest", v2(validNow(largestParams()))},
		{"version 1", func(t *testing.T) *Invite { return issueV1(t, ownerKey, testParams(), v1Bootstrap) }},
		{"largest version 1", func(t *testing.T) *Invite { return issueV1(t, ownerKey, testParams(), largestBootstrapV1()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := tc.make(t)
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

// largestParams are the largest a version-2 invite can carry: a 100-byte name, the largest
// numbers, three members that are not the issuer, each reached through eight IPv6 addresses,
// over TCP and QUIC, of relays the invite does not name.
func largestParams() Params {
	p := Params{
		Community:     community,
		CommunityName: strings.Repeat("é", MaxNameLen/2),
		Role:          RoleModerator,
		MaxUses:       1<<32 - 1,
		NotBefore:     time.Unix(maxUnix-1, 0),
		Expires:       time.Unix(maxUnix, 0),
	}
	for _, k := range []ed25519.PrivateKey{relayKey, memberKey, moderatorKey} {
		m := Member{Key: pub(k), Relays: []Relay{{Key: pub(strangerKey)}}}
		for i := range MaxMemberAddrs {
			ip := fmt.Sprintf("/ip6/2001:db8:ffff:ffff:ffff:ffff:ffff:ff%02x", i)
			m.Relays[0].Addrs = append(m.Relays[0].Addrs, ip+"/tcp/65535", ip+"/udp/65535/quic-v1")
		}
		p.Members = append(p.Members, m)
	}
	return p
}

// validNow is p valid at t0.
func validNow(p Params) Params {
	p.NotBefore = time.Unix(1, 0)
	return p
}

// largestBootstrapV1 are eight 256-byte addresses, the most a version-1 invite carries.
func largestBootstrapV1() []string {
	var out []string
	for i := 0; i < MaxBootstrap; i++ {
		out = append(out, "/"+strings.Repeat(string(rune('a'+i)), MaxBootstrapLen-1))
	}
	return out
}

func TestLargestInvite(t *testing.T) {
	p := largestParams()
	p.CommunityName = strings.Repeat("é", MaxNameLen/2)
	p.NotBefore = time.Unix(1, 0)
	v1 := issueV1(t, ownerKey, p, largestBootstrapV1())
	if len(v1.Raw) != MaxRawLen {
		t.Errorf("largest Raw is %d bytes, MaxRawLen = %d", len(v1.Raw), MaxRawLen)
	}
	if n := len(v1.String()); n > MaxInviteLen {
		t.Errorf("largest version-1 invite is %d characters, MaxInviteLen = %d", n, MaxInviteLen)
	}
	p3 := largestParams()
	p3.Approval = true
	for i := range MaxQuestions {
		p3.Questions = append(p3.Questions, strings.Repeat(string(rune('a'+i)), MaxQuestionLen))
	}
	v3 := issue(t, ownerKey, p3)
	if len(v3.Raw) != maxRawLenV3 {
		t.Errorf("largest version-3 Raw is %d bytes, maxRawLenV3 = %d", len(v3.Raw), maxRawLenV3)
	}
	if n := len(v3.String()); n != MaxInviteLen {
		t.Errorf("largest invite (version 3) is %d characters, MaxInviteLen = %d", n, MaxInviteLen)
	}
	if n, err := TextLen(ownerKey.Public().(ed25519.PublicKey), p3); err != nil || n != len(v3.String()) {
		t.Errorf("TextLen = %d, %v; the version-3 text has %d characters", n, err, len(v3.String()))
	}
	back, err := Parse(v3.String())
	if err != nil || !back.Approval || !slices.Equal(back.Questions, p3.Questions) {
		t.Fatalf("Parse(largest version 3) = %+v, %v", back, err)
	}
	v2 := issue(t, ownerKey, largestParams())
	if len(v2.Raw) != maxRawLenV2 {
		t.Errorf("largest version-2 Raw is %d bytes, maxRawLenV2 = %d", len(v2.Raw), maxRawLenV2)
	}
	if n := len(v2.payload()) - 1 - 2 - checksumLen; n != maxBodyLenV2 {
		t.Errorf("largest version-2 body is %d bytes, maxBodyLenV2 = %d", n, maxBodyLenV2)
	}
	if n, err := TextLen(ownerKey.Public().(ed25519.PublicKey), largestParams()); err != nil || n != len(v2.String()) {
		t.Errorf("TextLen = %d, %v; the text has %d characters", n, err, len(v2.String()))
	}
	t.Logf("largest version-2 invite: %d characters", len(v2.String()))
}

// TestInviteSize: an invite naming three members with four addresses each (none of them the
// issuer, whose key the invite carries anyway) stays under 700 characters; the same members'
// addresses as a version-1 invite carried them (text multiaddrs with /p2p/<ID>) did not.
func TestInviteSize(t *testing.T) {
	for _, shape := range []struct {
		name  string
		addrs func(i int) []string
	}{
		{"LAN and public IPv4, TCP and QUIC", func(i int) []string {
			return []string{
				fmt.Sprintf("/ip4/192.168.1.%d/tcp/41234", 20+i), fmt.Sprintf("/ip4/192.168.1.%d/udp/41234/quic-v1", 20+i),
				fmt.Sprintf("/ip4/198.51.100.%d/tcp/41234", 7+i), fmt.Sprintf("/ip4/198.51.100.%d/udp/41234/quic-v1", 7+i),
			}
		}},
		{"IPv4 and IPv6, TCP and QUIC", func(i int) []string {
			return []string{
				fmt.Sprintf("/ip4/203.0.113.%d/tcp/4001", 9+i), fmt.Sprintf("/ip4/203.0.113.%d/udp/4001/quic-v1", 9+i),
				fmt.Sprintf("/ip6/2001:db8:4006:812::%x/tcp/4001", 200+i), fmt.Sprintf("/ip6/2001:db8:4006:812::%x/udp/4001/quic-v1", 200+i),
			}
		}},
		{"four IPv4 addresses, TCP and QUIC on different ports", func(i int) []string {
			return []string{
				fmt.Sprintf("/ip4/192.168.1.%d/tcp/41234", 20+i), fmt.Sprintf("/ip4/192.168.1.%d/udp/50111/quic-v1", 20+i),
				fmt.Sprintf("/ip4/198.51.100.%d/tcp/41234", 7+i), fmt.Sprintf("/ip4/198.51.100.%d/udp/50111/quic-v1", 7+i),
			}
		}},
	} {
		p := testParams()
		p.Members = nil
		var v1 []string
		for i, k := range []ed25519.PrivateKey{relayKey, memberKey, moderatorKey} {
			p.Members = append(p.Members, Member{Key: pub(k), Addrs: shape.addrs(i)})
			for _, a := range shape.addrs(i) {
				v1 = append(v1, a+"/p2p/12D3KooWGzh4Lc9nVxUXh7N3mPXR6ktFnpySrUwW5PyQ4HCBmZ9f")
			}
		}
		text := issue(t, ownerKey, p).String()
		if len(text) >= 700 {
			t.Errorf("%s: %d characters, want under 700", shape.name, len(text))
		}
		old := issueV1(t, ownerKey, p, v1[:4]) // version 1 had room for the issuer's four
		t.Logf("%s: %d characters (version 1, the issuer's four addresses only: %d)", shape.name, len(text), len(old.String()))
	}
}

// TestMembers: what Issue is given is what Parse reads back, addresses in canonical text, the
// issuer's key left out of the text, TCP and QUIC on one IP and port sharing an entry.
func TestMembers(t *testing.T) {
	inv := issue(t, ownerKey, testParams())
	want := testParams().Members
	if !reflect.DeepEqual(inv.Members, want) {
		t.Fatalf("Issue kept members\n%+v\nwant\n%+v", inv.Members, want)
	}
	got, err := Parse(inv.String())
	if err != nil || !reflect.DeepEqual(got.Members, want) {
		t.Fatalf("Parse read members %+v, %v", got.Members, err)
	}
	p := testParams()
	p.Members = p.Members[1:2]
	p.Members[0].Via = nil
	with := issue(t, ownerKey, p).String()
	p.Members[0].Key = pub(strangerKey)
	without := issue(t, ownerKey, p).String()
	if len(without)-len(with) < 50 {
		t.Errorf("the issuer's key is in the text: %d characters with it as a member, %d with another key", len(with), len(without))
	}
	p.Members = []Member{{Key: pub(relayKey), Addrs: []string{"/ip6/2001:0db8::1/tcp/1"}}}
	if _, err := Issue(keySigner{ownerKey}, p, nil); err == nil {
		t.Error("an address in non-canonical text was accepted (it would read back differently)")
	}
	for addr, ok := range map[string]bool{
		"/ip4/1.2.3.4/tcp/4001":                   true,
		"/ip4/1.2.3.4/udp/4001/quic-v1":           true,
		"/ip6/::1/tcp/1":                          true,
		"/ip6/2001:db8::1/udp/65535/quic-v1":      true,
		"/ip4/1.2.3.4/tcp/0":                      false,
		"/ip4/1.2.3.4/tcp/65536":                  false,
		"/ip4/1.2.3.4/tcp/04001":                  false,
		"/ip4/1.2.3.4/udp/4001/quic":              false,
		"/ip4/1.2.3.4/udp/4001":                   false,
		"/ip4/::1/tcp/1":                          false,
		"/ip6/1.2.3.4/tcp/1":                      false,
		"/ip6/fe80::1%eth0/tcp/1":                 false,
		"/dns4/example.org/tcp/443":               false,
		"/ip4/1.2.3.4/tcp/4001/p2p/12D3KooWGzh4L": false,
		"/ip4/1.2.3.4/tcp/4001/ws":                false,
		"ip4/1.2.3.4/tcp/4001":                    false,
		"":                                        false,
	} {
		if CanCarry(addr) != ok {
			t.Errorf("CanCarry(%q) = %v", addr, !ok)
		}
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
		"link":             inv.Link(),
		"link, upper case": strings.ToUpper(inv.Link()),
		"link, a slash":    inv.Link() + "/",
		"link in prose":    "Click to join: " + inv.Link() + " (needs Kith)",
		"link, wrapped":    wrap(inv.Link(), 76, "\r\n"),
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
	sigAt, secretAt, membersAt := offsetsV2(t, inv)
	tamperRaw := append([]byte(nil), payload...)
	tamperRaw[3+40] ^= 1 // a byte of the community name
	tamperSig := append([]byte(nil), payload...)
	tamperSig[sigAt+5] ^= 1
	tamperSecret := append([]byte(nil), payload...)
	tamperSecret[secretAt+5] ^= 1
	tamperMembers := append([]byte(nil), payload...)
	tamperMembers[membersAt] = MaxMembers + 1
	newVersion := append([]byte(nil), payload...)
	newVersion[0] = 3
	v1 := issueV1(t, ownerKey, testParams(), v1Bootstrap).payload()
	v1Secret := append([]byte(nil), v1...)
	v1Secret[len(v1Secret)-checksumLen-1] ^= 1

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
		{"members malformed, checksum fixed", textOf(tamperMembers, true), ErrDamaged},
		{"version 1: secret changed, checksum fixed", textOf(v1Secret, true), ErrForged},
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

// offsetsV2 returns where the signature, the secret and the members start in a version-2
// invite's payload.
func offsetsV2(tb testing.TB, inv *Invite) (sig, secret, members int) {
	tb.Helper()
	p := inv.payload()
	_, k := binary.Uvarint(p[1:])
	core, ok := coreLenV2(p[0], p[1+k:])
	if p[0] != payloadVersion2 || !ok {
		tb.Fatalf("not a version-2 payload")
	}
	sig = 1 + k + core
	return sig, sig + ed25519.SignatureSize, sig + ed25519.SignatureSize + secretLen
}

// TestEveryByteChange changes each byte of a valid payload, flipping each of
// its bits (checksum left alone) and in three ways with a recomputed
// checksum: each change must be refused as damaged or forged, never accepted
// — but for the members, which are hints outside what the issuer signs: a
// change there with the checksum fixed may read as other members, never as
// another capability, signature or secret.
func TestEveryByteChange(t *testing.T) {
	for _, inv := range []*Invite{issue(t, ownerKey, testParams()), issueV1(t, ownerKey, testParams(), v1Bootstrap)} {
		everyByteChange(t, inv)
	}
}

func everyByteChange(t *testing.T, inv *Invite) {
	payload := inv.payload()
	membersAt := len(payload)
	if inv.Version == capVersion2 {
		_, _, membersAt = offsetsV2(t, inv)
	}
	p := make([]byte, len(payload))
	try := func(i int, x byte, fix bool) {
		copy(p, payload)
		p[i] ^= x
		got, err := Parse(textOf(p, fix))
		switch {
		case err == nil && fix && i >= membersAt:
			if !bytes.Equal(got.Raw, inv.Raw) || !bytes.Equal(got.Sig, inv.Sig) || got.Secret != inv.Secret {
				t.Fatalf("byte %d ^ %#x of the members changed the signed part", i, x)
			}
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
	for _, inv := range []*Invite{issue(t, ownerKey, testParams()), issueV1(t, ownerKey, testParams(), v1Bootstrap)} {
		everyCharChange(t, inv)
	}
}

func everyCharChange(t *testing.T, inv *Invite) {
	text := []byte(inv.String())
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
		"owner role":      func(p *Params) { p.Role = RoleOwner },
		"no role":         func(p *Params) { p.Role = RoleNone },
		"empty name":      func(p *Params) { p.CommunityName = "" },
		"long name":       func(p *Params) { p.CommunityName = strings.Repeat("a", MaxNameLen+1) },
		"control in name": func(p *Params) { p.CommunityName = "a\nb" },
		"bidi in name":    func(p *Params) { p.CommunityName = "a\u202eb" },
		"invalid utf-8":   func(p *Params) { p.CommunityName = "a\xffb" },
		"expires first":   func(p *Params) { p.Expires = p.NotBefore.Add(-time.Second) },
		"before 1970":     func(p *Params) { p.NotBefore = time.Unix(-5, 0) },
		"four members": func(p *Params) {
			p.Members = append(p.Members, Member{Key: pub(strangerKey), Addrs: []string{"/ip4/192.0.2.1/tcp/4001"}})
		},
		"nine entries":       func(p *Params) { p.Members[0].Addrs = make([]string, 9); fillAddrs(p.Members[0].Addrs) },
		"dns address":        func(p *Params) { p.Members[0].Addrs = []string{"/dns4/relay.example.org/tcp/443"} },
		"address with space": func(p *Params) { p.Members[0].Addrs = []string{"/ip4/1.2.3.4 /tcp/1"} },
		"not a multiaddr":    func(p *Params) { p.Members[0].Addrs = []string{"1.2.3.4:4001"} },
		"full address":       func(p *Params) { p.Members[0].Addrs = []string{v1Bootstrap[0]} },
		"short key":          func(p *Params) { p.Members[0].Key = p.Members[0].Key[:31] },
		"same member twice":  func(p *Params) { p.Members[2].Key = p.Members[0].Key },
		"relayed by itself":  func(p *Params) { p.Members[0].Via = []int{0} },
		"relayed by nobody":  func(p *Params) { p.Members[0].Via = []int{3} },
		"relayed by -1":      func(p *Params) { p.Members[1].Via = []int{-1} },
		"relay without key":  func(p *Params) { p.Members[2].Relays = []Relay{{Addrs: []string{"/ip4/203.0.113.9/tcp/1"}}} },
		"relay without addr": func(p *Params) { p.Members[2].Relays = []Relay{{Key: pub(strangerKey)}} },
		"relay dns address":  func(p *Params) { p.Members[2].Relays[0].Addrs = []string{"/dns4/relay.example.org/tcp/443"} },
	} {
		p := testParams()
		edit(&p)
		if inv, err := Issue(keySigner{ownerKey}, p, newDetRand(name)); err == nil {
			t.Errorf("%s: Issue accepted %+v", name, inv.Capability)
		}
		if n, err := TextLen(pub(ownerKey), p); err == nil {
			t.Errorf("%s: TextLen accepted what Issue refuses (%d characters)", name, n)
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
		a[i] = fmt.Sprintf("/ip4/192.0.2.%d/tcp/4001", i+1)
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
	v2 := issue(t, ownerKey, testParams()).payload()
	_, k := binary.Uvarint(v2[1:])
	long := append([]byte{v2[0]}, v2[1:1+k]...)
	long[k] |= 0x80
	long = append(append(long, 0), v2[1+k:]...)
	if _, err := Parse(textOf(long, true)); !errors.Is(err, ErrDamaged) {
		t.Errorf("version 2, non-minimal length: %v, want damaged", err)
	}
	inv := issueV1(t, ownerKey, testParams(), v1Bootstrap)
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
