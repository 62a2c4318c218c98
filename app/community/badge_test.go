package community

import (
	"errors"
	"strings"
	"testing"
)

// badgeFor signs a badge for member by signer in c.
func badgeFor(t *testing.T, c *community, signer *person, member *person, title string) *Badge {
	t.Helper()
	b := &Badge{Community: c.genesis.ID, CommunityName: "Makers", Member: member.PublicKey(), MemberName: member.name,
		Title: title, Note: "for the kiln notes", Issued: t0.Unix(), Owner: signer.PublicKey()}
	if err := b.Sign(signer); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBadgeCard: a card made of the owner's badge and the genesis checks out after a trip through
// its text; every change to it does not: the badge's words, a genesis of another community, a
// member's signature, a badge by the first owner after ownership moved, a damaged text.
func TestBadgeCard(t *testing.T) {
	c, v := newCommunity(t, 0)
	bo := newPerson(t, "Bo")
	c.admit(v, c.owner, bo, RoleMember)
	card := &Card{Badge: badgeFor(t, c, c.owner, bo, "Kiln master"), Genesis: c.genesis.Encode()}
	text := card.Encode()
	if !strings.HasPrefix(text, CardPrefix) || len(text) > MaxCardLen {
		t.Fatalf("card text of %d characters: %.40s…", len(text), text)
	}
	got, err := DecodeCard(FindCard("<pre>" + text + "</pre>"))
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Check(); err != nil {
		t.Fatalf("a good card: %v", err)
	}
	if got.Badge.Title != "Kiln master" || got.Badge.MemberName != "Bo" {
		t.Fatalf("the card's badge: %+v", got.Badge)
	}

	changed := *got.Badge
	changed.Title = "Kiln grandmaster"
	if err := (&Card{Badge: &changed, Genesis: got.Genesis}).Check(); !errors.Is(err, ErrBadCard) {
		t.Fatalf("a changed title: %v", err)
	}
	other, _ := newCommunity(t, 0)
	if err := (&Card{Badge: got.Badge, Genesis: other.genesis.Encode()}).Check(); !errors.Is(err, ErrBadCard) {
		t.Fatalf("another community's genesis: %v", err)
	}
	if err := (&Card{Badge: badgeFor(t, c, bo, bo, "Self-made"), Genesis: got.Genesis}).Check(); !errors.Is(err, ErrBadCard) {
		t.Fatalf("a member's own badge: %v", err)
	}
	if _, err := DecodeCard(text[:len(text)-5]); err == nil {
		t.Fatal("a cut card decoded")
	}
	if _, err := DecodeCard("kithbadge1!!"); err == nil {
		t.Fatal("garbage decoded")
	}

	// Ownership moves to Cy by the recovery key: Cy's badge checks out with the transfer and not
	// without it; the first owner's badge no longer names the owner the chain ends with.
	cy := newPerson(t, "Cy")
	c.admit(v, c.owner, cy, RoleMember)
	rec, err := RecoverySigner(c.words)
	if err != nil {
		t.Fatal(err)
	}
	tr := c.write(v, rec, KindTransferOwner, &TransferOwner{NewOwner: cy.PublicKey(), NewOwnerX25519: cy.X25519Public(), OldOwnerCutoff: v.lastOf(c.owner.PublicKey()).Seq})
	cyBadge := badgeFor(t, c, cy, bo, "Glaze wizard")
	if err := (&Card{Badge: cyBadge, Genesis: got.Genesis, Transfers: [][]byte{tr.Encode()}}).Check(); err != nil {
		t.Fatalf("the new owner's badge with the transfer: %v", err)
	}
	if err := (&Card{Badge: cyBadge, Genesis: got.Genesis}).Check(); !errors.Is(err, ErrBadCard) {
		t.Fatalf("the new owner's badge without the transfer: %v", err)
	}
	forged := c.write(v, bo, KindTransferOwner, &TransferOwner{NewOwner: bo.PublicKey(), NewOwnerX25519: bo.X25519Public()})
	if err := (&Card{Badge: badgeFor(t, c, bo, cy, "Forged"), Genesis: got.Genesis, Transfers: [][]byte{forged.Encode()}}).Check(); !errors.Is(err, ErrBadCard) {
		t.Fatalf("a transfer a member signed: %v", err)
	}
}
