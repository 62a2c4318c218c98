package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestPollsAtTheCommandLine: kithd's poll contract on two running peers: `poll` prints POLL_ID;
// `vote POLL_ID INDEX…` counts options from 1; `poll-results --json` gives the owner
// {"options":[{"text","votes"}],"voters":N} at once, a member exit 1 and a sentence before the
// close and the count after it; voting twice, on a closed poll, or out of range is a sentence.
func TestPollsAtTheCommandLine(t *testing.T) {
	k := makers(t, "Bo")
	owner, bo := k[0], k[1]

	owner(2, "poll", "--question", "Which glaze?", "--option", "Celadon")
	owner(2, "poll", "--question", "Which glaze?", "--option", "A", "--option", "B", "--results", "sometimes")
	poll, _ := owner(0, "poll", "--question", "Which glaze?", "--option", "Celadon", "--option", "Tenmoku", "--closes", "48h")
	if len(poll) != 64 {
		t.Fatalf("poll printed %q, want its ID", poll)
	}
	bo(1, "poll", "--question", "Mine?", "--option", "a", "--option", "b")
	within(t, 20*time.Second, "Bo has the poll", func() bool {
		out, _ := bo(0, "polls", "--json")
		return strings.Contains(out, poll)
	})
	bo(2, "vote", poll[:12], "3")
	bo(2, "vote", poll[:12], "1", "2")
	bo(0, "vote", poll[:12], "2")
	if _, stderr := bo(2, "vote", poll[:12], "1"); !strings.Contains(stderr, "voted on this poll already") {
		t.Fatalf("voting twice: %s", stderr)
	}
	if _, stderr := bo(1, "poll-results", poll); !strings.Contains(stderr, "when the poll closes") {
		t.Fatalf("a member's results before the close: %s", stderr)
	}
	var res struct {
		Options []struct {
			Text  string `json:"text"`
			Votes int    `json:"votes"`
		} `json:"options"`
		Voters int `json:"voters"`
	}
	within(t, 20*time.Second, "the owner counts Bo's vote", func() bool {
		out, _ := owner(0, "poll-results", poll, "--json")
		return json.Unmarshal([]byte(out), &res) == nil && res.Voters == 1
	})
	if res.Options[0].Text != "Celadon" || res.Options[1].Votes != 1 || res.Options[0].Votes != 0 {
		t.Fatalf("the owner's results: %+v", res)
	}
	owner(0, "poll-close", poll)
	within(t, 20*time.Second, "Bo sees the results", func() bool {
		out, _ := bo(anyExit, "poll-results", poll, "--json") // exit 1 until the close reaches Bo
		return json.Unmarshal([]byte(out), &res) == nil && res.Voters == 1 && res.Options[1].Votes == 1
	})
	out, _ := bo(0, "polls", "--json")
	if !strings.Contains(out, `"closed":true`) || !strings.Contains(out, `"voted":true`) || !strings.Contains(out, `"mine":[2]`) {
		t.Fatalf("Bo's polls: %s", out)
	}
}

// TestRecognitionAtTheCommandLine: `helpful MESSAGE_ID` and `kudos MEMBER_ID NOTE`; `recognition
// --json` lists member_id, name, score, kudos and helpful_from; a member's kudos is exit 1, a mark
// on one's own message exit 2.
func TestRecognitionAtTheCommandLine(t *testing.T) {
	k := makers(t, "Bo")
	owner, bo := k[0], k[1]
	owner(0, "post", "Cone 6 works best for this clay")
	var msgs []map[string]any
	within(t, 20*time.Second, "Bo has Ana's message", func() bool {
		out, _ := bo(0, "messages", "--json")
		msgs = nil
		return json.Unmarshal([]byte(out), &msgs) == nil && len(msgs) == 1
	})
	msg := msgs[0]["id"].(string)
	owner(2, "helpful", msg)
	bo(0, "helpful", msg)
	bo(2, "helpful", msg)
	ids := memberIDs(t, owner)
	boID, anaID := ids["Bo"], ids["Ana"]
	bo(1, "kudos", anaID, "thanks")
	owner(0, "kudos", boID, "Great question about kilns")
	within(t, 20*time.Second, "the board at the owner's", func() bool {
		out, _ := owner(0, "recognition", "--json")
		var board []map[string]any
		if json.Unmarshal([]byte(out), &board) != nil || len(board) != 2 {
			return false
		}
		for _, k := range []string{"member_id", "name", "score", "kudos", "helpful_from"} {
			if _, ok := board[0][k]; !ok {
				t.Fatalf("recognition --json lacks %q: %s", k, out)
			}
		}
		return strings.Contains(out, `"helpful_from":1`) && strings.Contains(out, `"kudos":1`)
	})
}

// TestTestimonialsAtTheCommandLine: `quote-ok` by the author (with or without its name, and taken
// back with --revoke); `testimonials --format md|html|json` for the owner holds only the
// consented messages, names only where agreed; a quote-ok on someone else's message is exit 1.
func TestTestimonialsAtTheCommandLine(t *testing.T) {
	k := makers(t, "Bo")
	owner, bo := k[0], k[1]
	named, _ := bo(0, "post", "Best <studio> I know")
	anon, _ := bo(0, "post", "The kiln days changed my work")
	gone, _ := bo(0, "post", "Private: my sales numbers")
	ana, _ := owner(0, "post", "Welcome all")
	bo(0, "quote-ok", "--with-name", named)
	bo(0, "quote-ok", anon)
	bo(0, "quote-ok", gone)
	bo(0, "quote-ok", "--revoke", gone)
	within(t, 20*time.Second, "Bo has Ana's post", func() bool {
		out, _ := bo(0, "messages", "--json")
		return strings.Contains(out, ana)
	})
	bo(1, "quote-ok", ana)
	bo(1, "testimonials", "--format", "md")
	var md string
	within(t, 20*time.Second, "the owner exports both", func() bool {
		md, _ = owner(0, "testimonials", "--format", "md")
		return strings.Contains(md, "The kiln days changed my work") && strings.Contains(md, "Best <studio> I know")
	})
	if !strings.Contains(md, "— Bo,") || !strings.Contains(md, "— a member,") || strings.Contains(md, "sales numbers") {
		t.Fatalf("testimonials md:\n%s", md)
	}
	page, _ := owner(0, "testimonials", "--format", "html")
	if !strings.Contains(page, "Best &lt;studio&gt; I know") || strings.Contains(page, "<studio>") {
		t.Fatalf("testimonials html:\n%s", page)
	}
	js, _ := owner(0, "testimonials", "--format", "json")
	var items []map[string]any
	if err := json.Unmarshal([]byte(js), &items); err != nil || len(items) != 2 {
		t.Fatalf("testimonials json: %v\n%s", err, js)
	}
	owner(2, "testimonials", "--format", "pdf")
}
