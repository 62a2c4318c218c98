package ui

import (
	"crypto/ed25519"
	"fmt"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/kith-app/kith/app/invite"
)

// TestQRCodeIsTheSmallestThatFits: an invite's QR code holds the invite in upper case (the
// alphanumeric mode, which the invite parser reads as well) at the smallest version that holds
// it, smaller than the same text in lower case would need.
func TestQRCodeIsTheSmallestThatFits(t *testing.T) {
	// A typical invite: three members with four addresses each.
	p := invite.Params{Community: [32]byte{1}, CommunityName: "Clay Studio Friends", Role: invite.RoleMember, MaxUses: 5}
	for i := range 3 {
		_, key, _ := ed25519.GenerateKey(nil)
		p.Members = append(p.Members, invite.Member{Key: key.Public().(ed25519.PublicKey), Addrs: []string{
			fmt.Sprintf("/ip4/192.168.1.%d/tcp/41234", 20+i), fmt.Sprintf("/ip4/192.168.1.%d/udp/41234/quic-v1", 20+i),
			fmt.Sprintf("/ip4/198.51.100.%d/tcp/41234", 7+i), fmt.Sprintf("/ip4/198.51.100.%d/udp/41234/quic-v1", 7+i),
		}})
	}
	_, owner, _ := ed25519.GenerateKey(nil)
	inv, err := invite.Issue(signer{owner}, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	text := inv.String()
	q := qrCode(text)
	if q == nil {
		t.Fatalf("no QR code for a %d-character invite", len(text))
	}
	if q.Content != strings.ToUpper(text) {
		t.Fatalf("the code holds %q…", q.Content[:20])
	}
	lower, err := qrcode.New(text, qrcode.Low)
	if err != nil {
		t.Fatal(err)
	}
	if q.VersionNumber >= lower.VersionNumber {
		t.Fatalf("version %d, the lower-case text needs %d: upper case should be smaller", q.VersionNumber, lower.VersionNumber)
	}
	for v := 1; v < q.VersionNumber; v++ {
		if _, err := qrcode.NewWithForcedVersion(q.Content, v, qrcode.Low); err == nil {
			t.Fatalf("version %d holds the invite, but the code is version %d", v, q.VersionNumber)
		}
	}
	t.Logf("a %d-character invite: QR version %d (lower case: %d)", len(text), q.VersionNumber, lower.VersionNumber)
	if got, err := invite.Parse(q.Content); err != nil || got.String() != text {
		t.Fatalf("the code's text does not read as the invite: %v", err)
	}
}

type signer struct{ key ed25519.PrivateKey }

func (s signer) PublicKey() ed25519.PublicKey    { return s.key.Public().(ed25519.PublicKey) }
func (s signer) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.key, msg), nil }
