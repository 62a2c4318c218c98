package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestSearchAtTheCommandLine: `search TEXT --json` finds the messages holding every word, newest
// first, with the keys of messages --json; a search with no word exits 2; nothing found says so.
func TestSearchAtTheCommandLine(t *testing.T) {
	k := makers(t, "Bo")
	owner, bo := k[0], k[1]
	owner(0, "post", "Kiln day is Saturday")
	owner(0, "post", "釉薬のテスト: kiln notes")
	within(t, 20*time.Second, "Bo finds both", func() bool {
		out, _ := bo(0, "search", "--json", "KILN")
		var ms []map[string]any
		return json.Unmarshal([]byte(out), &ms) == nil && len(ms) == 2 && ms[0]["channel"] == "general"
	})
	if out, _ := bo(0, "search", "釉薬"); !strings.Contains(out, "釉薬のテスト") || strings.Contains(out, "Saturday") {
		t.Fatalf("search 釉薬: %s", out)
	}
	if out, _ := bo(0, "search", "kiln sunday"); !strings.Contains(out, "no message here holds every word") {
		t.Fatalf("search with no match: %s", out)
	}
	bo(2, "search", "?!")
	bo(2, "search", "--limit", "0", "kiln")
}
