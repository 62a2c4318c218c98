package invite

import (
	"bytes"
	"crypto/ed25519"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var writeCorpus = flag.Bool("write-corpus", false, "rewrite the seed corpora in testdata/fuzz")

// seedInvites returns valid invites of several shapes for the seed corpora.
func seedInvites(tb testing.TB) []*Invite {
	small := Params{Community: community, CommunityName: "x", Role: RoleModerator}
	return []*Invite{
		issue(tb, ownerKey, testParams()),
		issue(tb, moderatorKey, small),
		issue(tb, ownerKey, largestParams()),
		issueV1(tb, ownerKey, testParams(), v1Bootstrap),
		issueV1(tb, ownerKey, testParams(), largestBootstrapV1()),
		issue(tb, ownerKey, approvalParams()),
	}
}

// approvalParams are testParams for an invite that needs approval and asks two questions.
func approvalParams() Params {
	p := testParams()
	p.Approval, p.Questions = true, []string{"How did you find us?", "What do you make? 🎨"}
	return p
}

// parseSeeds returns the FuzzParse seeds: valid invites, pasted variants,
// truncations, tampering and garbage.
func parseSeeds(tb testing.TB) []string {
	invs := seedInvites(tb)
	text := invs[0].String()
	p := invs[0].payload()
	p[40] ^= 1
	return []string{
		text,
		invs[1].String(),
		"Join us: <" + strings.ToUpper(text[:300]) + "\r\n> " + text[300:] + ">!",
		text[:len(text)-1],
		text[:len(Prefix)+8],
		text[:len(Prefix)+7],
		textOf(p, true),
		textOf(p, false),
		"kith1",
		"kith1aaaaaaaa",
		"kith1ab7777777777",
		"kith1" + strings.Repeat("7", 200),
		"hello, world",
		"",
		"\xff\xfe kith1\u200b\u00a0a",
		invs[3].String(),
		invs[4].String(),
		invs[2].String(),
		invs[5].String(),
		invs[0].Link(),
		"KITH://JOIN/" + strings.ToUpper(text) + "/",
		"kith://join/",
	}
}

// membersSeeds returns the FuzzDecodeMembers seeds: the members parts of valid invites, cut
// and changed.
func membersSeeds(tb testing.TB) [][]byte {
	var out [][]byte
	for _, inv := range seedInvites(tb)[:3] {
		b, err := encodeMembers(inv.Issuer, inv.Members)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
		if len(b) > 4 {
			out = append(out, b[:len(b)-1], append(bytes.Clone(b), 0))
			c := bytes.Clone(b)
			c[2] ^= 0x0c
			out = append(out, c)
		}
	}
	return append(out, nil, []byte{0}, []byte{4}, []byte{1, 1, 1, 3, 0}, []byte{1, 1, 1, 5, 1, 2, 3, 4, 0, 0})
}

// signedSeeds returns the FuzzDecodeSigned seeds as (raw, sig) pairs.
func signedSeeds(tb testing.TB) [][2][]byte {
	invs := seedInvites(tb)
	s := invs[0]
	long := invs[2]
	return [][2][]byte{
		{s.Raw, s.Sig},
		{invs[1].Raw, invs[1].Sig},
		{long.Raw, long.Sig},
		{invs[5].Raw, invs[5].Sig},
		{s.Raw[:len(s.Raw)-1], s.Sig},
		{s.Raw[:40], s.Sig},
		{append(bytes.Clone(s.Raw), 0), s.Sig},
		{s.Raw, s.Sig[:32]},
		{nil, nil},
		{[]byte{1}, make([]byte, 64)},
		{bytes.Repeat([]byte{0xff}, 300), make([]byte, 64)},
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		inv, err := Parse(text)
		if err != nil {
			if inv != nil {
				t.Fatal("Parse returned an invite and an error")
			}
			return
		}
		if !ed25519.Verify(inv.Issuer, signedMessage(inv.Raw), inv.Sig) {
			t.Fatal("parsed invite's signature does not verify")
		}
		if err := inv.Verify(); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		raw, err := inv.Capability.marshal()
		if err != nil || !bytes.Equal(raw, inv.Raw) {
			t.Fatalf("capability re-encodes differently: %v", err)
		}
		again, err := Parse(inv.String())
		if err != nil {
			t.Fatalf("Parse(String()): %v", err)
		}
		if !bytes.Equal(again.Raw, inv.Raw) || !bytes.Equal(again.Sig, inv.Sig) || again.Secret != inv.Secret ||
			!reflect.DeepEqual(again.Members, inv.Members) {
			t.Fatal("String() does not round-trip")
		}
		if !strings.Contains(normalizeString(text), inv.String()) {
			t.Fatal("the parsed invite's text is not in the input")
		}
	})
}

// FuzzDecodeMembers: the members part of a version-2 invite (which the issuer does not sign,
// so a fuzzer reaches its decoder only here) is read strictly and bounded; what it accepts
// re-encodes to the same bytes and names addresses an invite can carry.
func FuzzDecodeMembers(f *testing.F) {
	for _, s := range membersSeeds(f) {
		f.Add(s)
	}
	issuer := pub(ownerKey)
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := decodeMembers(issuer, b)
		if err != nil {
			if ms != nil {
				t.Fatal("decodeMembers returned members and an error")
			}
			return
		}
		if len(ms) > MaxMembers {
			t.Fatalf("%d members", len(ms))
		}
		for _, m := range ms {
			if len(m.Key) != ed25519.PublicKeySize || len(m.Addrs) > 2*MaxMemberAddrs {
				t.Fatalf("member %+v", m)
			}
			for _, a := range m.Addrs {
				if !CanCarry(a) {
					t.Fatalf("decoded an address an invite cannot carry: %q", a)
				}
			}
		}
		again, err := encodeMembers(issuer, ms)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("members re-encode differently: %v", err)
		}
	})
}

func normalizeString(s string) string { return string(normalize(s)) }

func FuzzDecodeSigned(f *testing.F) {
	for _, s := range signedSeeds(f) {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, raw, sig []byte) {
		s, err := DecodeSigned(raw, sig)
		if err != nil {
			if s != nil {
				t.Fatal("DecodeSigned returned a value and an error")
			}
			return
		}
		again, err := s.Capability.marshal()
		if err != nil || !bytes.Equal(again, raw) {
			t.Fatalf("capability re-encodes differently: %v", err)
		}
		if !ed25519.Verify(s.Issuer, signedMessage(s.Raw), s.Sig) || s.Verify() != nil {
			t.Fatal("decoded capability's signature does not verify")
		}
		d, err := Decode(s.Encode())
		if err != nil || !bytes.Equal(d.Raw, raw) || !bytes.Equal(d.Sig, sig) {
			t.Fatalf("Decode(Encode()) = %v", err)
		}
	})
}

// TestWriteSeedCorpus rewrites testdata/fuzz/{FuzzParse,FuzzDecodeSigned}
// when run with -write-corpus (after a format change).
func TestWriteSeedCorpus(t *testing.T) {
	if !*writeCorpus {
		t.Skip("run with -write-corpus to rewrite the seed corpora")
	}
	write := func(target string, i int, values ...any) {
		var b strings.Builder
		b.WriteString("go test fuzz v1\n")
		for _, v := range values {
			switch v := v.(type) {
			case string:
				fmt.Fprintf(&b, "string(%q)\n", v)
			case []byte:
				fmt.Fprintf(&b, "[]byte(%q)\n", v)
			}
		}
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(dir, fmt.Sprintf("seed%02d", i))
		if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range parseSeeds(t) {
		write("FuzzParse", i, s)
	}
	for i, s := range signedSeeds(t) {
		write("FuzzDecodeSigned", i, s[0], s[1])
	}
	for i, s := range membersSeeds(t) {
		write("FuzzDecodeMembers", i, s)
	}
}
