package community

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEnvelopeRoundTripAndDroppedBody(t *testing.T) {
	c, v := newCommunity(t, 0)
	msg := c.say(v, c.owner, "hello")
	e, err := Decode(msg.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != msg.ID || !bytes.Equal(e.Body, msg.Body) || e.Lamport != msg.Lamport || !bytes.Equal(e.Encode(), msg.Encode()) {
		t.Fatal("round trip changed the event")
	}
	// A dropped body still verifies, keeps the ID and the chain.
	d, err := Decode(msg.EncodeWithoutBody())
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != msg.ID || d.HasBody() || d.BodyHash != msg.BodyHash {
		t.Fatal("dropping the body changed the event")
	}
	// A body that does not match the signed hash is refused.
	raw, sig := msg.RawHeader()
	w := writer{}
	w.byte1(Version)
	w.bytes(raw)
	w.fixed(sig)
	w.bytes(bytes.Repeat([]byte{7}, len(msg.Body)))
	if _, err := Decode(w.b); !errors.Is(err, ErrBodyHash) {
		t.Fatalf("swapped body: %v", err)
	}
	// Genesis: its ID is the community ID.
	g, err := Decode(c.genesis.Encode())
	if err != nil || g.CommunityID() != c.genesis.ID || g.ID != c.genesis.ID {
		t.Fatalf("genesis: %v", err)
	}
}

// TestEveryByteFlipIsRefused: no single changed byte of a signed envelope is accepted.
func TestEveryByteFlipIsRefused(t *testing.T) {
	c, v := newCommunity(t, 0)
	for _, e := range []*Event{c.genesis, c.say(v, c.owner, "flip me")} {
		b := e.Encode()
		for i := range b {
			for _, x := range []byte{0x01, 0x80, 0xff} {
				m := bytes.Clone(b)
				m[i] ^= x
				if got, err := Decode(m); err == nil {
					t.Fatalf("byte %d ^ %#x accepted: %s", i, x, got.ID.Short())
				}
			}
		}
	}
}

func TestHeaderRules(t *testing.T) {
	c, v := newCommunity(t, 0)
	owner := c.owner
	sign := func(h Header) []byte {
		raw := h.encode()
		sig, _ := owner.Sign(signingBytes(raw))
		w := writer{}
		w.byte1(Version)
		w.bytes(raw)
		w.fixed(sig)
		w.bytes(nil)
		return w.b
	}
	base := c.say(v, owner, "x").Header
	cases := map[string]func(h *Header){
		"seq zero":       func(h *Header) { h.Seq = 0 },
		"lamport zero":   func(h *Header) { h.Lamport = 0 },
		"unknown kind":   func(h *Header) { h.Kind = 999 },
		"unsorted deps":  func(h *Header) { h.Deps = []Hash{{2}, {1}} },
		"duplicate deps": func(h *Header) { h.Deps = []Hash{{1}, {1}} },
		"too many deps": func(h *Header) {
			h.Deps = make([]Hash, MaxDeps+1)
			for i := range h.Deps {
				h.Deps[i][0] = byte(i)
			}
		},
		"prev on seq 1":     func(h *Header) { h.Seq = 1 },
		"no prev on seq 2+": func(h *Header) { h.Prev = Hash{} },
		"no community":      func(h *Header) { h.Community = Hash{} },
		"genesis with deps": func(h *Header) { h.Kind = KindGenesis },
		"prev among deps":   func(h *Header) { h.Deps = []Hash{h.Prev} },
		"wrong version":     func(h *Header) { h.Version = 2 },
	}
	for name, mutate := range cases {
		h := base
		h.BodyLen, h.BodyHash = 0, sum(nil)
		mutate(&h)
		if _, err := Decode(sign(h)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A signature by someone else is refused.
	h := base
	h.BodyLen, h.BodyHash = 0, sum(nil)
	raw := h.encode()
	other := newPerson(t, "mallory")
	sig, _ := other.Sign(signingBytes(raw))
	w := writer{}
	w.byte1(Version)
	w.bytes(raw)
	w.fixed(sig)
	w.bytes(nil)
	if _, err := Decode(w.b); !errors.Is(err, ErrSignature) {
		t.Fatalf("signed by another key: %v", err)
	}
	// Oversized input is refused before any work.
	if _, err := Decode(make([]byte, MaxEnvelopeSize+1)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("oversized: %v", err)
	}
}

func TestBuildKeepsNewestDeps(t *testing.T) {
	a := newPerson(t, "a")
	var deps []Position
	for i := range 40 {
		var id Hash
		rand.Read(id[:])
		deps = append(deps, Position{Lamport: uint64(i + 1), ID: id})
	}
	e, err := Build(a, Draft{Community: Hash{1}, Kind: KindMessage, Deps: deps, Time: t0})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Deps) != MaxDeps || e.Lamport != 41 {
		t.Fatalf("deps %d, Lamport %d", len(e.Deps), e.Lamport)
	}
	// An old event that must be cited (a deletion's message) is kept among the newest heads.
	e, err = Build(a, Draft{Community: Hash{1}, Kind: KindDelete, Deps: deps, Cite: []Position{deps[0]}, Time: t0})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Deps) != MaxDeps || !slices.Contains(e.Deps, deps[0].ID) || e.Lamport != 41 {
		t.Fatalf("with a citation: deps %d, cites the old one %v, Lamport %d", len(e.Deps), slices.Contains(e.Deps, deps[0].ID), e.Lamport)
	}
	if _, err := Build(a, Draft{Community: Hash{1}, Kind: KindDelete, Cite: deps[:MaxDeps+1], Time: t0}); err == nil {
		t.Fatal("Build cited more than MaxDeps events")
	}
}

// TestFoldNeverReadsTheClock: no file of this package calls time.Now, time.Since or time.Until;
// time only enters through event headers and parameters. And a join admitted in 2020 with an
// invite that expired in 2020 still counts today: it is checked at its countersigned time.
func TestFoldNeverReadsTheClock(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "time" && (sel.Sel.Name == "Now" || sel.Sel.Name == "Since" || sel.Sel.Name == "Until") {
					t.Errorf("%s: calls time.%s", fset.Position(n.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
	}
	c, v := newCommunity(t, 0)
	a := newPerson(t, "a")
	join := c.admit(v, c.owner, a, RoleMember) // the invite expired 30 days after t0 (2020)
	s1 := v.state(t)
	mustVoid(t, s1, join, false)
	// Refold "a year later": the result is the same, event for event.
	if time.Now().Before(t0.AddDate(1, 0, 0)) {
		t.Fatal("test setup: t0 must lie over a year in the past")
	}
	s2, err := Fold(shuffled(v.authority()))
	if err != nil || s2.Hash() != s1.Hash() {
		t.Fatalf("refold differs: %v", err)
	}
}

// TestFuzzSeedsUpToDate writes the fuzz seed corpus when KITH_WRITE_CORPUS=1.
func TestFuzzSeedsUpToDate(t *testing.T) {
	if os.Getenv("KITH_WRITE_CORPUS") != "1" {
		t.Skip("set KITH_WRITE_CORPUS=1 to rewrite testdata/fuzz/FuzzDecode")
	}
	c, v := newCommunity(t, 0)
	a := newPerson(t, "a")
	c.admit(v, c.owner, a, RoleMember)
	msg := c.say(v, a, "seed")
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	os.MkdirAll(dir, 0o755)
	for i, e := range v.order {
		writeSeed(t, dir, i, e.Encode())
	}
	writeSeed(t, dir, 100, msg.EncodeWithoutBody())
	writeSeed(t, dir, 101, msg.Encode()[:40])
	writeSeed(t, dir, 102, []byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	bdir := filepath.Join("testdata", "fuzz", "FuzzDecodeBody")
	os.MkdirAll(bdir, 0o755)
	for i, e := range v.authority() {
		seed := fmt.Sprintf("go test fuzz v1\nuint16(%d)\n[]byte(%s)\n", e.Kind, strconvQuote(e.Body))
		if err := os.WriteFile(filepath.Join(bdir, fmt.Sprintf("seed%03d", i)), []byte(seed), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func writeSeed(t *testing.T, dir string, i int, b []byte) {
	var sb strings.Builder
	sb.WriteString("go test fuzz v1\n[]byte(")
	sb.WriteString(strconvQuote(b))
	sb.WriteString(")\n")
	if err := os.WriteFile(filepath.Join(dir, "seed"+strings.Repeat("0", 3-len(itoa(i)))+itoa(i)), []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDecodeBatchVouchesByChain: in a batch, the newest event of an author's linked run is
// verified and vouches for the ones it names; a forged head vouches for nothing, and an event
// cannot vouch for another author's or for a number that is not its previous one.
func TestDecodeBatchVouchesByChain(t *testing.T) {
	c, v := newCommunity(t, 0)
	var chain []*Event
	for i := range 5 {
		chain = append(chain, c.say(v, c.owner, fmt.Sprintf("message %d", i)))
	}
	envs := func(evs ...*Event) [][]byte {
		var out [][]byte
		for _, e := range evs {
			out = append(out, e.Encode())
		}
		return out
	}
	withSig := func(e *Event, sig []byte) []byte {
		raw, _ := e.RawHeader()
		w := writer{}
		w.byte1(Version)
		w.bytes(raw)
		w.fixed(sig)
		w.bytes(e.Body)
		return w.b
	}
	// The honest batch passes whole, in its order.
	got, errs := DecodeBatch(envs(chain[2], chain[0], chain[4], chain[1], chain[3]))
	if len(errs) != 0 || len(got) != 5 || got[0].ID != chain[2].ID {
		t.Fatalf("honest batch: %d events, errors %v", len(got), errs)
	}
	// A bad signature on the newest event: nothing it would vouch for passes on its word.
	bad := bytes.Repeat([]byte{1}, 64)
	forgedTop := withSig(chain[4], bad)
	got, errs = DecodeBatch(append(envs(chain[0], chain[1], chain[2], chain[3]), forgedTop))
	if len(got) != 4 || len(errs) != 1 || !errors.Is(errs[0], ErrSignature) {
		t.Fatalf("forged head: %d passed, errors %v", len(got), errs)
	}
	// A predecessor whose signature was swapped has another ID (the ID covers the signature), so
	// its successor does not name it: refused, the successor kept.
	got, errs = DecodeBatch([][]byte{withSig(chain[3], bad), chain[4].Encode()})
	if len(got) != 1 || got[0].ID != chain[4].ID || len(errs) != 1 {
		t.Fatalf("swapped predecessor: %d passed, errors %v", len(got), errs)
	}
	// Another author's event is never vouched for by this chain, even if named.
	m := newPerson(t, "mallory")
	c.admit(v, c.owner, m, RoleMember)
	other := c.say(v, m, "mine")
	if got, _ = DecodeBatch([][]byte{withSig(other, bad), chain[4].Encode()}); len(got) != 1 || got[0].ID != chain[4].ID {
		t.Fatalf("cross-author vouching: %d passed", len(got))
	}
}
