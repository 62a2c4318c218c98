package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
	"github.com/kith-app/kith/app/community"
)

// TestBadges: the owner signs a badge for Bo; Bo's install has it once synced, on the board too,
// and exports a card that checks out with nothing but itself — as HTML with the names escaped;
// a changed card does not check out; a moderator cannot sign one, nor the owner for itself.
func TestBadges(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ana, bo, cy := apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, ana, "Ana", map[*apptest.Peer]string{bo: "Bo", cy: "Cy"})
	if err := ana.Svc.SetRole(ctx, id, cy.Member().Key, community.RoleModerator); err != nil {
		t.Fatal(err)
	}
	if _, err := ana.Svc.GiveBadge(ctx, id, ana.Member().Key, "Me", ""); app.KindOf(err) != app.KindBadInput {
		t.Fatalf("a badge for oneself: %v", err)
	}
	if _, err := ana.Svc.GiveBadge(ctx, id, bo.Member().Key, strings.Repeat("x", 61), ""); err == nil {
		t.Fatal("a title over 60 bytes was accepted")
	}
	given, err := ana.Svc.GiveBadge(ctx, id, bo.Member().Key, "Kiln <master>", "For the firing notes & the glaze tests.")
	if err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, bo, ana, id)
	syncFrom(t, ctx, cy, ana, id)
	if _, err := cy.Svc.GiveBadge(ctx, id, bo.Member().Key, "Mod's pick", ""); app.KindOf(err) != app.KindNotAllowed {
		t.Fatalf("a moderator's badge: %v", err)
	}
	bs, err := bo.Svc.Badges(id)
	if err != nil || len(bs) != 1 || bs[0].ID != given.ID || !bs[0].Mine || bs[0].Title != "Kiln <master>" {
		t.Fatalf("Bo's badges: %+v, %v", bs, err)
	}
	board, _ := cy.Svc.RecognitionBoard(id)
	if len(board) != 1 || board[0].Name != "Bo" || len(board[0].Badges) != 1 {
		t.Fatalf("the board at Cy's: %+v", board)
	}
	ref, err := bo.Svc.ParseBadgeRef(id, given.ID.String()[:10])
	if err != nil || ref != given.ID {
		t.Fatalf("the badge by a prefix: %v", err)
	}
	card, v, err := bo.Svc.BadgeCard(id, given.ID)
	if err != nil {
		t.Fatal(err)
	}
	page := app.CardHTML(card, v.Badge())
	if strings.Contains(page, "<master>") || !strings.Contains(page, "Kiln &lt;master&gt;") {
		t.Fatal("the card's page does not escape the title")
	}
	b, err := app.CheckCard(page) // a stranger, with the page alone
	if err != nil {
		t.Fatalf("the card does not check out: %v", err)
	}
	if s := app.BadgeSentence(b); !strings.Contains(s, `gave Bo the badge "Kiln <master>"`) || !strings.Contains(s, `"Makers"`) {
		t.Fatalf("the sentence: %s", s)
	}
	// The same card with another member's name in it.
	c, _ := community.DecodeCard(card)
	c.Badge.MemberName = "Cy"
	if _, err := app.CheckCard(c.Encode()); app.KindOf(err) != app.KindNotAllowed {
		t.Fatalf("a changed card: %v", err)
	}
	if _, err := app.CheckCard("a letter with no card in it"); app.KindOf(err) != app.KindBadInput {
		t.Fatalf("no card: %v", err)
	}
}

// TestBadgeForALongEmojiName: a member's name of 100 bytes whose emoji are joined with
// zero-width joiners (longer once escaped for display) still gets a badge every reader keeps,
// and a card that checks out.
func TestBadgeForALongEmojiName(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	family := strings.Repeat("👨\u200d👩\u200d👧\u200d👦", 4)
	if len(family) != 100 {
		t.Fatalf("the name is %d bytes", len(family))
	}
	ana, dee := apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, ana, "Ana", map[*apptest.Peer]string{dee: family})
	b, err := ana.Svc.GiveBadge(ctx, id, dee.Member().Key, "Family first", "")
	if err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, dee, ana, id)
	bs, err := dee.Svc.Badges(id)
	if err != nil || len(bs) != 1 || bs[0].ID != b.ID {
		t.Fatalf("Dee's badges: %+v, %v", bs, err)
	}
	card, _, err := dee.Svc.BadgeCard(id, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := app.CheckCard(card); err != nil || got.MemberName != family {
		t.Fatalf("the card: %v, %q", err, got.MemberName)
	}
}
