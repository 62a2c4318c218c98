package invite

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"
)

// keySigner is a test Signer holding its key in memory.
type keySigner struct{ key ed25519.PrivateKey }

func (k keySigner) PublicKey() ed25519.PublicKey    { return k.key.Public().(ed25519.PublicKey) }
func (k keySigner) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(k.key, msg), nil }

// testKey returns a fixed key named by seed.
func testKey(seed byte) ed25519.PrivateKey {
	var s [32]byte
	for i := range s {
		s[i] = seed
	}
	return ed25519.NewKeyFromSeed(s[:])
}

var (
	ownerKey     = testKey(1)
	moderatorKey = testKey(2)
	memberKey    = testKey(3)
	joinerKey    = testKey(4)
	admitterKey  = testKey(5)
	strangerKey  = testKey(6)
	relayKey     = testKey(7)

	community = [32]byte{0xc0, 0x11, 0x3c, 0x7e}

	// t0 is the fake clock's "now".
	t0 = time.Date(2026, 11, 13, 14, 5, 0, 0, time.UTC)
)

func pub(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

// detRand is a deterministic random stream so that tests and seed corpora
// are reproducible.
type detRand struct {
	seed [32]byte
	n    uint64
	buf  []byte
}

func newDetRand(label string) *detRand { return &detRand{seed: sha256.Sum256([]byte(label))} }

func (r *detRand) Read(p []byte) (int, error) {
	for i := range p {
		if len(r.buf) == 0 {
			var b [40]byte
			copy(b[:], r.seed[:])
			binary.BigEndian.PutUint64(b[32:], r.n)
			r.n++
			s := sha256.Sum256(b[:])
			r.buf = s[:]
		}
		p[i], r.buf = r.buf[0], r.buf[1:]
	}
	return len(p), nil
}

// testParams are typical invite parameters: a week-long member invite.
func testParams() Params {
	return Params{
		Community:     community,
		CommunityName: "Allotment Society — Plot 7",
		Role:          RoleMember,
		MaxUses:       3,
		NotBefore:     t0,
		Expires:       t0.Add(7 * 24 * time.Hour),
		Members: []Member{
			{Key: pub(relayKey), Addrs: []string{"/ip4/203.0.113.9/tcp/4001", "/ip4/203.0.113.9/udp/4001/quic-v1"}},
			{Key: pub(ownerKey), Addrs: []string{
				"/ip4/192.168.1.20/tcp/41234", "/ip4/192.168.1.20/udp/41234/quic-v1",
				"/ip6/2001:db8::20/udp/41234/quic-v1", "/ip4/198.51.100.7/tcp/41234",
			}, Via: []int{0}},
			{Key: pub(memberKey), Addrs: []string{"/ip4/10.0.0.5/tcp/4001"}, Via: []int{0},
				Relays: []Relay{{Key: pub(strangerKey), Addrs: []string{"/ip4/198.51.100.99/tcp/443", "/ip4/198.51.100.99/udp/443/quic-v1"}}}},
		},
	}
}

// v1Bootstrap are the addresses of a version-1 invite.
var v1Bootstrap = []string{
	"/ip4/192.0.2.10/tcp/4001/p2p/12D3KooWGzh4Lc9nVxUXh7N3mPXR6ktFnpySrUwW5PyQ4HCBmZ9f",
	"/ip4/198.51.100.7/udp/4001/quic-v1/p2p/12D3KooWGzh4Lc9nVxUXh7N3mPXR6ktFnpySrUwW5PyQ4HCBmZ9f",
	"/dns4/relay.example.org/tcp/443/wss/p2p/12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK/p2p-circuit",
}

// issueV1 makes a version-1 invite (the format before members were named outside the signed
// part) with p's capability and these bootstrap addresses, signed by key: what earlier versions
// of Kith issued, which this one still reads.
func issueV1(tb testing.TB, key ed25519.PrivateKey, p Params, bootstrap []string) *Invite {
	tb.Helper()
	var secret [32]byte
	if _, err := newDetRand(tb.Name() + "v1").Read(secret[:]); err != nil {
		tb.Fatal(err)
	}
	c := Capability{
		Version: capVersion1, Community: p.Community, CommunityName: p.CommunityName, Issuer: pub(key),
		Role: p.Role, MaxUses: p.MaxUses, NotBefore: unixTime(p.NotBefore), Expires: unixTime(p.Expires),
		ID: ID{0x11, byte(len(bootstrap))}, InviteKey: InviteKey(secret).Public().(ed25519.PublicKey), Bootstrap: bootstrap,
	}
	return resign(tb, &Invite{Secret: secret}, c, key)
}

// issue issues an invite with p signed by key, failing the test on error.
func issue(tb testing.TB, key ed25519.PrivateKey, p Params) *Invite {
	tb.Helper()
	inv, err := Issue(keySigner{key}, p, newDetRand(tb.Name()+string(pub(key))))
	if err != nil {
		tb.Fatalf("Issue: %v", err)
	}
	return inv
}

// textOf encodes payload as invite text, recomputing its checksum first
// when fix is set.
func textOf(payload []byte, fix bool) string {
	p := append([]byte(nil), payload...)
	if fix {
		sum := sha256.Sum256(p[:len(p)-checksumLen])
		copy(p[len(p)-checksumLen:], sum[:checksumLen])
	}
	return Prefix + b32.EncodeToString(p)
}

// resign returns a copy of inv whose capability is c, signed by key.
func resign(tb testing.TB, inv *Invite, c Capability, key ed25519.PrivateKey) *Invite {
	tb.Helper()
	raw, err := c.marshal()
	if err != nil {
		tb.Fatalf("marshal: %v", err)
	}
	out := &Invite{Signed: Signed{Capability: c, Raw: raw, Sig: ed25519.Sign(key, signedMessage(raw))}, Secret: inv.Secret}
	return out
}

// ledger is an in-memory Ledger.
type ledger struct {
	roles      map[string]Role
	revoked    map[ID]bool
	uses       map[ID]int
	members    int
	maxMembers int
	perMember  int
	approval   bool
	registered map[ID]string
	brought    map[string]int
}

func newLedger() *ledger {
	return &ledger{
		roles: map[string]Role{
			string(pub(ownerKey)):     RoleOwner,
			string(pub(moderatorKey)): RoleModerator,
			string(pub(memberKey)):    RoleMember,
		},
		revoked: map[ID]bool{},
		uses:    map[ID]int{},
		members: 3,
	}
}

func (l *ledger) RoleOf(m ed25519.PublicKey) Role { return l.roles[string(m)] }
func (l *ledger) Revoked(id ID) bool              { return l.revoked[id] }
func (l *ledger) Uses(id ID) int                  { return l.uses[id] }
func (l *ledger) Members() int                    { return l.members }
func (l *ledger) MaxMembers() int                 { return l.maxMembers }
func (l *ledger) MemberInvites() (int, bool)      { return l.perMember, l.approval }
func (l *ledger) Registered(id ID, issuer ed25519.PublicKey) bool {
	return l.registered[id] == string(issuer)
}
func (l *ledger) BroughtIn(m ed25519.PublicKey) int { return l.brought[string(m)] }
