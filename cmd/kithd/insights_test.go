package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestInsightsAtTheCommandLine: `insights --json` has the weeks with their figures, the polls'
// turnout, the offers' claims and who brought new members; a member gets exit 1 and a sentence;
// --weeks out of range exits 2.
func TestInsightsAtTheCommandLine(t *testing.T) {
	k := makers(t, "Bo")
	owner, bo := k[0], k[1]
	q, _ := owner(0, "post", "Kiln day on Saturday?")
	poll, _ := owner(0, "poll", "--question", "Which glaze?", "--option", "Celadon", "--option", "Tenmoku")
	within(t, 20*time.Second, "Bo has the question and the poll", func() bool {
		out, _ := bo(0, "messages", "--json")
		return strings.Contains(out, q) && strings.Contains(out, poll)
	})
	bo(0, "post", "--reply-to", q, "Saturday works")
	bo(0, "vote", poll, "1")
	var in struct {
		Weeks []struct {
			Start              string   `json:"start"`
			ActiveMembers      int      `json:"active_members"`
			Messages           int      `json:"messages"`
			NewMembers         int      `json:"new_members"`
			Questions          int      `json:"questions"`
			Answered           int      `json:"answered"`
			FirstAnswerSeconds *float64 `json:"first_answer_seconds"`
		} `json:"weeks"`
		Members int `json:"members"`
		Polls   []struct {
			Voters  int     `json:"voters"`
			Members int     `json:"members"`
			Turnout float64 `json:"turnout"`
		} `json:"polls"`
		Offers  []any `json:"offers"`
		Brought []struct {
			Name  string `json:"name"`
			Count int    `json:"count"`
		} `json:"brought"`
	}
	within(t, 20*time.Second, "the owner counts Bo's answer and vote", func() bool {
		out, _ := owner(0, "insights", "--weeks", "2", "--json")
		if err := json.Unmarshal([]byte(out), &in); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return len(in.Weeks) == 2 && in.Weeks[1].Answered == 1 && len(in.Polls) == 1 && in.Polls[0].Voters == 1
	})
	w := in.Weeks[1]
	if w.ActiveMembers != 2 || w.Messages != 2 || w.NewMembers != 1 || w.Questions != 1 || w.FirstAnswerSeconds == nil || in.Members != 2 {
		t.Fatalf("this week: %+v, members %d", w, in.Members)
	}
	if in.Polls[0].Members != 2 || in.Polls[0].Turnout != 0.5 || in.Offers == nil || len(in.Brought) != 1 || in.Brought[0].Name != "Ana" {
		t.Fatalf("polls %+v, offers %v, brought %+v", in.Polls, in.Offers, in.Brought)
	}
	if out, _ := owner(0, "insights"); !strings.Contains(out, "week of") || !strings.Contains(out, `"Which glaze?": 1 of 2 voted (50%)`) {
		t.Fatalf("insights:\n%s", out)
	}
	if _, stderr := bo(1, "insights"); !strings.Contains(stderr, "owner and moderators") {
		t.Fatalf("a member's insights: %s", stderr)
	}
	owner(2, "insights", "--weeks", "0")
	owner(2, "insights", "--weeks", "53")
}
