package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestOffersAtTheCommandLine: `offer` prints OFFER_ID; the first claim is granted and prints
// `granted` and the code, which only the granted member reads; the next is told "all 1 were
// claimed" (exit 1); a second claim is a mistake (exit 2); an expired offer says so (exit 1);
// `offers --json` has id, title, quantity, claimed, expires, mine, granted and the code where
// granted.
func TestOffersAtTheCommandLine(t *testing.T) {
	k := makers(t, "Bo", "Cy")
	owner, bo, cy := k[0], k[1], k[2]

	owner(2, "offer", "--title", "Early access", "--quantity", "0", "--expires", "24h")
	owner(2, "offer", "--title", "Early access", "--quantity", "1")
	offer, _ := owner(0, "offer", "--title", "Early access to the spring sale", "--text", "One member gets 20% off.",
		"--quantity", "1", "--expires", "24h", "--code", "SPRING-20")
	short, _ := owner(0, "offer", "--title", "Flash", "--quantity", "5", "--expires", "1s")
	bo(1, "offer", "--title", "Mine", "--quantity", "1", "--expires", "1h")
	within(t, 20*time.Second, "Bo and Cy have the offer", func() bool {
		a, _ := bo(0, "offers", "--json")
		b, _ := cy(0, "offers", "--json")
		return strings.Contains(a, offer) && strings.Contains(b, offer)
	})
	out, _ := bo(0, "claim", offer[:12])
	if out != "granted\nSPRING-20" {
		t.Fatalf("Bo's claim printed %q", out)
	}
	bo(2, "claim", offer[:12])
	within(t, 20*time.Second, "Cy sees Bo's claim", func() bool {
		out, _ := cy(0, "offers", "--json")
		return strings.Contains(out, `"claimed":1`)
	})
	if _, stderr := cy(1, "claim", offer[:12]); !strings.Contains(stderr, "all 1 were claimed") {
		t.Fatalf("Cy's claim: %s", stderr)
	}
	within(t, 10*time.Second, "the one-second offer expires", func() bool {
		out, _ := cy(0, "offers", "--json")
		return strings.Contains(out, `"expired":true`)
	})
	if _, stderr := cy(1, "claim", short[:12]); !strings.Contains(stderr, "this offer expired") {
		t.Fatalf("an expired offer: %s", stderr)
	}
	out, _ = bo(0, "offers", "--json")
	var offers []map[string]any
	if err := json.Unmarshal([]byte(out), &offers); err != nil {
		t.Fatal(err)
	}
	for _, o := range offers {
		if o["id"] != offer {
			continue
		}
		for _, k := range []string{"id", "title", "quantity", "claimed", "expires", "mine", "granted", "code"} {
			if _, ok := o[k]; !ok {
				t.Fatalf("offers --json lacks %q: %s", k, out)
			}
		}
		if o["code"] != "SPRING-20" || o["granted"] != true {
			t.Fatalf("Bo's offer: %v", o)
		}
	}
	if out, _ := cy(0, "offers", "--json"); strings.Contains(out, "SPRING-20") {
		t.Fatalf("Cy reads the code: %s", out)
	}

	// In one step, the owner asks the granted members: Bo answers, Cy is not asked.
	req, _ := owner(0, "ask", "--offer", offer[:12], "--question", "How was the early access?")
	within(t, 20*time.Second, "Bo and Cy have the request", func() bool {
		a, _ := bo(0, "feedback", "--json")
		b, _ := cy(0, "feedback", "--json")
		return strings.Contains(a, req) && strings.Contains(b, req)
	})
	bo(0, "answer", req, "Loved it")
	if _, stderr := cy(1, "answer", req, "me too"); !strings.Contains(stderr, "granted the offer") {
		t.Fatalf("Cy answers a request for the granted: %s", stderr)
	}
}
