package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBadgesAtTheCommandLine: the owner's `badge MEMBER_ID --title` prints BADGE_ID; the member's
// `badges --json` marks it mine; `badge-card --out` writes a page (and never over a file);
// `verify-badge` checks it with no Kith running and no data folder (exit 0), refuses a changed
// one (exit 1), and a member cannot sign a badge.
func TestBadgesAtTheCommandLine(t *testing.T) {
	k := makers(t, "Bo")
	owner, bo := k[0], k[1]
	ids := memberIDs(t, owner)
	boID, anaID := ids["Bo"], ids["Ana"]
	owner(2, "badge", boID)
	bo(1, "badge", "--title", "Me", anaID)
	id, _ := owner(0, "badge", "--title", "Kiln master", "--note", "For the firing notes.", boID)
	within(t, 20*time.Second, "Bo has the badge", func() bool {
		out, _ := bo(0, "badges", "--json")
		return strings.Contains(out, id) && strings.Contains(out, `"mine":true`)
	})
	if out, _ := bo(0, "recognition", "--json"); !strings.Contains(out, `"badges":["Kiln master"]`) {
		t.Fatalf("recognition --json: %s", out)
	}
	if _, stderr := owner(1, "badge-card", id[:12]); !strings.Contains(stderr, "only its member") {
		t.Fatalf("the owner exports Bo's card: %s", stderr)
	}
	card := filepath.Join(t.TempDir(), "card.html")
	bo(0, "badge-card", "--out", card, id[:12])
	if _, stderr := bo(1, "badge-card", "--out", card, id[:12]); !strings.Contains(stderr, "exists already") {
		t.Fatalf("a card over a file: %s", stderr)
	}
	page, err := os.ReadFile(card)
	if err != nil || !strings.Contains(string(page), "Kiln master") {
		t.Fatalf("the card's page: %v", err)
	}

	stranger := kithdIn(t, filepath.Join(t.TempDir(), "nothing-here"))
	out, _ := stranger(0, "verify-badge", card)
	if !strings.Contains(out, `Valid: the owner of "Makers"`) || !strings.Contains(out, `gave Bo the badge "Kiln master"`) {
		t.Fatalf("verify-badge: %s", out)
	}
	if out, _ := stranger(0, "verify-badge", "--json", card); !strings.Contains(out, `"valid":true`) || !strings.Contains(out, `"member_id":"`+boID) {
		t.Fatalf("verify-badge --json: %s", out)
	}
	if !strings.Contains(out, "Owner key ") {
		t.Fatalf("verify-badge does not name the owner key: %s", out)
	}
	community := out[strings.Index(out, "Community ")+len("Community "):][:64]
	stranger(0, "verify-badge", "--community", community[:10], card)
	if _, stderr := stranger(1, "verify-badge", "--community", strings.Repeat("0", 64), card); !strings.Contains(stderr, "not given there") {
		t.Fatalf("a card of another community: %s", stderr)
	}
	stranger(2, "verify-badge", "--community", "12ab", card)
	changed := filepath.Join(t.TempDir(), "changed.html")
	os.WriteFile(changed, []byte(strings.Replace(string(page), "kithbadge1A", "kithbadge1B", 1)), 0o644)
	if _, stderr := stranger(1, "verify-badge", changed); !strings.Contains(stderr, "not valid") {
		t.Fatalf("a changed card: %s", stderr)
	}
	stranger(1, "verify-badge", filepath.Join(t.TempDir(), "missing.html"))
	stranger(2, "verify-badge")
}
