package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestPromotionsAtTheCommandLine: `settings --promotions-per-week` sets the budget; `post
// --promotion` counts in it and the next is refused with the day it frees (exit 1), an offer
// too; members see `"promotion":true` in messages --json; `promotions --mute` hides promotions
// on that device only, `--unmute` shows them again; out-of-range budgets exit 2.
func TestPromotionsAtTheCommandLine(t *testing.T) {
	k := makers(t, "Bo")
	owner, bo := k[0], k[1]

	owner(2, "settings", "--promotions-per-week", "0")
	owner(2, "settings", "--promotions-per-week", "51")
	if out, _ := owner(0, "settings", "--promotions-per-week", "1", "--json"); !strings.Contains(out, `"promotions_per_week":1`) {
		t.Fatalf("settings --json: %s", out)
	}
	bo(1, "post", "--promotion", "Buy my zine")
	owner(0, "post", "--promotion", "The spring drop opens Friday")
	owner(2, "post", "--promotion", "--reply-to", strings.Repeat("ab", 32), "no")
	if _, stderr := owner(1, "post", "--promotion", "One more"); !strings.Contains(stderr, "this week's promotions are used (1 of 1") {
		t.Fatalf("a second promotion: %s", stderr)
	}
	if _, stderr := owner(1, "offer", "--title", "20% off", "--quantity", "3", "--expires", "24h"); !strings.Contains(stderr, "promotions are used") {
		t.Fatalf("an offer past the budget: %s", stderr)
	}
	owner(0, "post", "Hello all")
	out, _ := owner(0, "promotions", "--json")
	var b map[string]any
	if err := json.Unmarshal([]byte(out), &b); err != nil || b["used"] != 1.0 || b["per_week"] != 1.0 || b["can_post"] != true {
		t.Fatalf("promotions --json: %s (%v)", out, err)
	}
	within(t, 20*time.Second, "Bo has the promotion", func() bool {
		out, _ := bo(0, "messages", "--json")
		return strings.Contains(out, `"promotion":true`) && strings.Contains(out, "Hello all")
	})
	if out, _ := bo(0, "messages"); !strings.Contains(out, "(promotion)") {
		t.Fatalf("messages does not mark the promotion: %s", out)
	}
	bo(2, "promotions", "--mute", "--unmute")
	if out, _ := bo(0, "promotions", "--mute"); !strings.Contains(out, "muted here") {
		t.Fatalf("promotions --mute: %s", out)
	}
	out, _ = bo(0, "messages", "--json")
	if strings.Contains(out, "spring drop") || !strings.Contains(out, "Hello all") {
		t.Fatalf("muted, Bo's messages: %s", out)
	}
	if out, _ := owner(0, "messages"); !strings.Contains(out, "spring drop") {
		t.Fatalf("Bo's mute hid the owner's own post: %s", out)
	}
	bo(0, "promotions", "--unmute")
	if out, _ := bo(0, "messages"); !strings.Contains(out, "spring drop") {
		t.Fatalf("unmuted, Bo's messages: %s", out)
	}
}
