package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestFeedbackAtTheCommandLine: `ask` prints REQUEST_ID; a member asked `answer`s once; the
// owner's `feedback --json` has the answer, the member's only its own; `feedback-status` by the
// owner is what every member sees, by a member exit 1; a request for moderators, or for members
// who joined before a date, is refused to a member it does not ask.
func TestFeedbackAtTheCommandLine(t *testing.T) {
	k := makers(t, "Bo")
	owner, bo := k[0], k[1]

	owner(2, "ask", "--question", "x", "--role", "everyone")
	owner(2, "ask", "--question", "x", "--joined-before", "last week")
	req, _ := owner(0, "ask", "--question", "What should the spring sale include?", "--closes", "72h")
	mods, _ := owner(0, "ask", "--question", "Moderators only?", "--role", "moderator")
	old, _ := owner(0, "ask", "--question", "Early members only?", "--joined-before", "2020-01-01")
	bo(1, "ask", "--question", "Me?")
	within(t, 20*time.Second, "Bo has the requests", func() bool {
		out, _ := bo(0, "feedback", "--json")
		return strings.Contains(out, req) && strings.Contains(out, old)
	})
	bo(0, "answer", req[:12], "More small cups, please")
	if _, stderr := bo(2, "answer", req[:12], "again"); !strings.Contains(stderr, "answered this request already") {
		t.Fatalf("answering twice: %s", stderr)
	}
	bo(1, "answer", mods, "me too")
	bo(1, "answer", old, "me too")
	bo(1, "feedback-status", req, "done")

	var all []map[string]any
	within(t, 20*time.Second, "the owner reads Bo's answer", func() bool {
		out, _ := owner(0, "feedback", "--json")
		all = nil
		return json.Unmarshal([]byte(out), &all) == nil && strings.Contains(out, "More small cups, please")
	})
	owner(2, "feedback-status", req, "finished")
	owner(0, "feedback-status", "--note", "Small cups are in the sale", req, "done")
	within(t, 20*time.Second, "Bo sees the status", func() bool {
		out, _ := bo(0, "feedback", "--json")
		return strings.Contains(out, `"status":"done"`) && strings.Contains(out, "Small cups are in the sale")
	})
	out, _ := bo(0, "feedback", "--json")
	if strings.Contains(out, `"answers"`) || !strings.Contains(out, `"mine":"More small cups, please"`) {
		t.Fatalf("a member's feedback view: %s", out)
	}
}
