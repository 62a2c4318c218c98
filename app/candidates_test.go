package app_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"testing"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/invite"
)

type keySigner struct{ k ed25519.PrivateKey }

func (s keySigner) PublicKey() ed25519.PublicKey    { return s.k.Public().(ed25519.PublicKey) }
func (s keySigner) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.k, msg), nil }

// TestCandidates: the members an invite names become full addresses to dial, in the invite's
// order: direct ones, then through the members that relay for them, then through relays it
// names only as such.
func TestCandidates(t *testing.T) {
	keys := make([]ed25519.PublicKey, 4)
	for i := range keys {
		keys[i], _, _ = ed25519.GenerateKey(rand.Reader)
	}
	id := func(k ed25519.PublicKey) (string, error) { return "P" + hex.EncodeToString(k[:2]), nil }
	pid := func(i int) string { s, _ := id(keys[i]); return s }
	_, owner, _ := ed25519.GenerateKey(rand.Reader)
	inv, err := invite.Issue(keySigner{owner}, invite.Params{Community: [32]byte{1}, CommunityName: "x", Role: invite.RoleMember, Members: []invite.Member{
		{Key: keys[0], Addrs: []string{"/ip4/203.0.113.9/tcp/4001", "/ip4/203.0.113.9/udp/4001/quic-v1"}},
		{Key: keys[1], Addrs: []string{"/ip4/192.168.1.20/tcp/5000"}, Via: []int{0}},
		{Key: keys[2], Relays: []invite.Relay{{Key: keys[3], Addrs: []string{"/ip4/198.51.100.1/tcp/443"}}}},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := app.Candidates(inv, id)
	want := []app.Candidate{
		{PeerID: pid(0), Addrs: []string{"/ip4/203.0.113.9/tcp/4001/p2p/" + pid(0), "/ip4/203.0.113.9/udp/4001/quic-v1/p2p/" + pid(0)}},
		{PeerID: pid(1), Addrs: []string{
			"/ip4/192.168.1.20/tcp/5000/p2p/" + pid(1),
			"/ip4/203.0.113.9/tcp/4001/p2p/" + pid(0) + "/p2p-circuit/p2p/" + pid(1),
			"/ip4/203.0.113.9/udp/4001/quic-v1/p2p/" + pid(0) + "/p2p-circuit/p2p/" + pid(1),
		}},
		{PeerID: pid(2), Addrs: []string{"/ip4/198.51.100.1/tcp/443/p2p/" + pid(3) + "/p2p-circuit/p2p/" + pid(2)}},
	}
	if !slices.EqualFunc(got, want, func(a, b app.Candidate) bool { return a.PeerID == b.PeerID && slices.Equal(a.Addrs, b.Addrs) }) {
		t.Fatalf("Candidates =\n%+v\nwant\n%+v", got, want)
	}
}
