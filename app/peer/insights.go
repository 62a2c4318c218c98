package peer

// kithd's insights command: the owner's and moderators' figures, week by week.

import (
	"fmt"
	"strings"
	"time"

	"github.com/kith-app/kith/app/community"
)

// InsightsJSON is `kithd insights --json`.
type InsightsJSON struct {
	Weeks   []WeekJSON `json:"weeks"` // the oldest first
	Members int        `json:"members"`
	// FirstAnswerSeconds is the median time to a first answer over the window (null: none).
	FirstAnswerSeconds *float64      `json:"first_answer_seconds"`
	Polls              []TurnoutJSON `json:"polls"`
	Offers             []UptakeJSON  `json:"offers"`
	Brought            []BroughtJSON `json:"brought"`
}

// WeekJSON is one week of `kithd insights --json`.
type WeekJSON struct {
	Start              string   `json:"start"` // Monday 00:00 UTC, RFC 3339
	ActiveMembers      int      `json:"active_members"`
	Messages           int      `json:"messages"`
	NewMembers         int      `json:"new_members"`
	Questions          int      `json:"questions"`
	Answered           int      `json:"answered"`
	FirstAnswerSeconds *float64 `json:"first_answer_seconds"` // the median; null: none answered
}

// TurnoutJSON is one poll's turnout.
type TurnoutJSON struct {
	ID       string  `json:"id"`
	Question string  `json:"question"`
	Voters   int     `json:"voters"`
	Members  int     `json:"members"`
	Turnout  float64 `json:"turnout"` // voters / members, 0..1
	Closed   bool    `json:"closed"`
}

// UptakeJSON is one offer's claims.
type UptakeJSON struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Quantity int    `json:"quantity"`
	Claimed  int    `json:"claimed"`
	Granted  int    `json:"granted"`
}

// BroughtJSON is one member who brought others in.
type BroughtJSON struct {
	MemberID string `json:"member_id"`
	Name     string `json:"name"`
	Count    int    `json:"count"`
}

func seconds(d time.Duration) *float64 {
	if d == 0 {
		return nil
	}
	s := d.Seconds()
	return &s
}

// wait is a duration as a person reads it: 40s, 14m, 3h 5m, 2d 4h; "–" for none.
func wait(d time.Duration) string {
	switch {
	case d == 0:
		return "–"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}

func turnout(voters, members int) float64 {
	if members == 0 {
		return 0
	}
	return min(1, float64(voters)/float64(members))
}

func (p *Peer) doInsights(req Request) (Result, error) {
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	in, err := p.Svc.Insights(id, req.Weeks)
	if err != nil {
		return Result{}, asUsage(err)
	}
	j := InsightsJSON{Weeks: []WeekJSON{}, Members: in.Members, FirstAnswerSeconds: seconds(in.FirstAnswer),
		Polls: []TurnoutJSON{}, Offers: []UptakeJSON{}, Brought: []BroughtJSON{}}
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s %7s %9s %5s %10s %9s %13s\n", "week of", "active", "messages", "new", "questions", "answered", "first answer")
	for _, w := range in.Weeks {
		j.Weeks = append(j.Weeks, WeekJSON{Start: w.Start.Format(time.RFC3339), ActiveMembers: w.Active, Messages: w.Messages,
			NewMembers: w.NewMembers, Questions: w.Questions, Answered: w.Answered, FirstAnswerSeconds: seconds(w.FirstAnswer)})
		fmt.Fprintf(&b, "%-10s %7d %9d %5d %10d %9d %13s\n", w.Start.Format("2 Jan"), w.Active, w.Messages, w.NewMembers, w.Questions, w.Answered, wait(w.FirstAnswer))
	}
	asked := 0
	for _, w := range in.Weeks {
		asked += w.Questions
	}
	switch {
	case in.FirstAnswer > 0:
		fmt.Fprintf(&b, "\n%d members; a question's first answer comes in %s (the median)", in.Members, wait(in.FirstAnswer))
	case asked > 0:
		fmt.Fprintf(&b, "\n%d members; no question has had an answer yet", in.Members)
	default:
		fmt.Fprintf(&b, "\n%d members; nobody asked a question in these weeks", in.Members)
	}
	if len(in.Polls) > 0 {
		b.WriteString("\n\nPolls:")
	}
	for _, t := range in.Polls {
		j.Polls = append(j.Polls, TurnoutJSON{ID: t.ID.String(), Question: community.Printable(t.Question, false), Voters: t.Voters,
			Members: t.Members, Turnout: turnout(t.Voters, t.Members), Closed: t.Closed})
		fmt.Fprintf(&b, "\n  %q: %d of %d voted (%.0f%%)", community.Printable(t.Question, false), t.Voters, t.Members, 100*turnout(t.Voters, t.Members))
	}
	if len(in.Offers) > 0 {
		b.WriteString("\n\nOffers:")
	}
	for _, o := range in.Offers {
		j.Offers = append(j.Offers, UptakeJSON{ID: o.ID.String(), Title: community.Printable(o.Title, false), Quantity: o.Quantity, Claimed: o.Claimed, Granted: o.Granted})
		fmt.Fprintf(&b, "\n  %q: %d of %d claimed", community.Printable(o.Title, false), o.Claimed, o.Quantity)
	}
	if len(in.Brought) > 0 {
		b.WriteString("\n\nNew members were brought by:")
	}
	for _, br := range in.Brought {
		j.Brought = append(j.Brought, BroughtJSON{MemberID: fmt.Sprintf("%x", br.Key), Name: br.Name, Count: br.Count})
		fmt.Fprintf(&b, "\n  %s: %d", nameOr(br.Name), br.Count)
	}
	return jsonResult(b.String(), j)
}
