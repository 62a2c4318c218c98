package community

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/kith-app/kith/app/identity"
	"github.com/kith-app/kith/app/invite"
)

// t0 is deliberately long past: nothing in the fold may compare event times with today.
var t0 = time.Date(2020, 3, 1, 12, 0, 0, 0, time.UTC)

// person is a test member: an identity and a name.
type person struct {
	*identity.Identity
	name string
}

func newPerson(t tb, name string) *person {
	t.Helper()
	id, err := identity.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &person{id, name}
}

// view is what one peer knows: a set of events closed under prev and deps.
type view struct {
	known map[Hash]*Event
	cited map[Hash]bool
	order []*Event // in the order this view learnt them (always causal)
}

func newView(events ...*Event) *view {
	v := &view{known: map[Hash]*Event{}, cited: map[Hash]bool{}}
	for _, e := range events {
		v.add(e)
	}
	return v
}

func (v *view) add(e *Event) {
	if _, ok := v.known[e.ID]; ok {
		return
	}
	v.known[e.ID] = e
	v.order = append(v.order, e)
	if !e.Prev.IsZero() {
		v.cited[e.Prev] = true
	}
	for _, d := range e.Deps {
		v.cited[d] = true
	}
}

// merge adds everything o knows, in o's (causal) order.
func (v *view) merge(o *view) {
	for _, e := range o.order {
		v.add(e)
	}
}

func (v *view) clone() *view { return newView(v.order...) }

func (v *view) heads() []Position {
	var hs []Position
	for id, e := range v.known {
		if !v.cited[id] {
			hs = append(hs, e.Position())
		}
	}
	return hs
}

func (v *view) lastOf(k ed25519.PublicKey) *Event {
	var last *Event
	for _, e := range v.known {
		if e.Author.Equal(k) && (last == nil || e.Seq > last.Seq) {
			last = e
		}
	}
	return last
}

func (v *view) authority() []*Event {
	var out []*Event
	for _, e := range v.order {
		if e.Kind.Authority() {
			out = append(out, e)
		}
	}
	return out
}

func (v *view) state(t tb) *State {
	t.Helper()
	s, err := Fold(v.authority())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// community is a test community: its genesis, owner, first key and recovery words.
type community struct {
	t       tb
	owner   *person
	genesis *Event
	key     Key
	words   string
	clock   time.Time
}

func newCommunity(t tb, maxMembers uint32) (*community, *view) {
	t.Helper()
	owner := newPerson(t, "owner")
	g, key, words, err := NewCommunity(owner, owner.X25519Public(), GenesisParams{
		Name: "Makers", About: "a test community", MaxMembers: maxMembers, OwnerName: "owner", Time: t0,
	}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &community{t: t, owner: owner, genesis: g, key: key, words: words, clock: t0}, newView(g)
}

// write signs an event by author on top of what v knows and adds it to v.
func (c *community) write(v *view, author Signer, kind Kind, body Body) *Event {
	c.t.Helper()
	e, err := c.tryWrite(v, author, kind, body)
	if err != nil {
		c.t.Fatal(err)
	}
	return e
}

func (c *community) tryWrite(v *view, author Signer, kind Kind, body Body) (*Event, error) {
	c.clock = c.clock.Add(time.Second)
	var raw []byte
	if kind.Content() {
		var err error
		if raw, err = SealContent(c.key, c.genesis.ID, c.genesis.ID, author.PublicKey(), body.(*Content), rand.Reader); err != nil {
			return nil, err
		}
	} else if body != nil {
		raw = EncodeBody(body)
	}
	e, err := Build(author, Draft{
		Community: c.genesis.ID, Kind: kind, Body: raw, Epoch: c.genesis.ID, Time: c.clock,
		Prev: v.lastOf(author.PublicKey()), Deps: v.heads(),
	})
	if err != nil {
		return nil, err
	}
	// Every event must pass the checks a receiving peer makes.
	e2, err := Decode(e.Encode())
	if err != nil {
		return nil, err
	}
	if err := CheckCausal(&e2.Header, v.lookup); err != nil {
		return nil, err
	}
	v.add(e2)
	return e2, nil
}

func (v *view) lookup(id Hash) (Known, bool) {
	e, ok := v.known[id]
	if !ok {
		return Known{}, false
	}
	return Known{Author: e.Author, Seq: e.Seq, Lamport: e.Lamport}, true
}

// invite issues an invite from issuer, valid around t0.
func (c *community) invite(issuer Signer, role Role, uses uint32) *invite.Invite {
	c.t.Helper()
	inv, err := invite.Issue(issuer, invite.Params{
		Community: c.genesis.ID, CommunityName: "Makers", Role: role, MaxUses: uses,
		NotBefore: t0.Add(-time.Hour), Expires: t0.Add(30 * 24 * time.Hour),
	}, rand.Reader)
	if err != nil {
		c.t.Fatal(err)
	}
	return inv
}

// joinBody is the join of p with inv, admitted by admitter.
func (c *community) joinBody(inv *invite.Invite, p *person, admitter Signer) *Join {
	c.t.Helper()
	j, err := NewJoin(joinRequest(c.t, inv, p, admitter), c.key, rand.Reader)
	if err != nil {
		c.t.Fatal(err)
	}
	return j
}

// joinRequest is p's request to join with inv through admitter.
func joinRequest(t tb, inv *invite.Invite, p *person, admitter Signer) JoinRequest {
	t.Helper()
	sig, err := SignJoin(p, &inv.Signed, p.X25519Public(), admitter.PublicKey(), p.name)
	if err != nil {
		t.Fatal(err)
	}
	return JoinRequest{
		Invite: &inv.Signed, Joiner: p.PublicKey(), X25519: p.X25519Public(), Name: p.name,
		Proof: inv.ProveJoin(p.PublicKey(), p.X25519Public(), admitter.PublicKey()), JoinerSig: sig,
	}
}

// admit has admitter admit p with a fresh member invite from admitter, and p write its first
// event (a message) so that it has something to cite.
func (c *community) admit(v *view, admitter Signer, p *person, role Role) *Event {
	c.t.Helper()
	inv := c.invite(c.owner, role, 1)
	return c.write(v, admitter, KindJoin, c.joinBody(inv, p, admitter))
}

func (c *community) say(v *view, author Signer, text string) *Event {
	c.t.Helper()
	m := NewContent(KindMessage)
	m.Channel, m.Text = ChannelID(c.genesis.ID, 0), text
	return c.write(v, author, KindMessage, m)
}

func mustActive(t tb, s *State, p *person, want bool) {
	t.Helper()
	if m, ok := s.Member(p.PublicKey()); (ok && m.Active) != want {
		t.Fatalf("%s active = %v, want %v (member: %+v)", p.name, ok && m.Active, want, m)
	}
}

func mustVoid(t tb, s *State, e *Event, want bool) {
	t.Helper()
	reason, void := s.Void(e.ID)
	if void != want {
		t.Fatalf("%s %s void = %v (%q), want %v", e.Kind, e.ID.Short(), void, reason, want)
	}
}

func shuffled[T any](xs []T) []T {
	out := slices.Clone(xs)
	for i := len(out) - 1; i > 0; i-- {
		var b [1]byte
		rand.Read(b[:])
		j := int(b[0]) % (i + 1)
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// tb is what the helpers need of a test: both *testing.T and *rapid.T have it.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// SealBlob is SealBlobTo keeping every chunk, for tests.
func SealBlob(epochKey Key, salt [16]byte, name, mime string, size uint64, r io.Reader) (*Manifest, [][]byte, error) {
	var chunks [][]byte
	m, err := SealBlobTo(epochKey, salt, name, mime, size, r, func(_ int, ct []byte) error {
		chunks = append(chunks, ct)
		return nil
	})
	return m, chunks, err
}

// Reassemble is the blob's plaintext from its chunks in order, each checked and opened (tests).
func (m *Manifest) Reassemble(epochKey Key, chunks [][]byte, w io.Writer) error {
	if len(chunks) != len(m.Chunks) {
		return fmt.Errorf("%w: %d chunks of %d", ErrBadChunk, len(chunks), len(m.Chunks))
	}
	for i, ct := range chunks {
		p, err := m.OpenChunk(epochKey, i, ct)
		if err != nil {
			return err
		}
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return nil
}
