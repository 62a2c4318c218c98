package app

// Insights for the owner and moderators: how the community lives week by week — who takes part,
// how much is written, how fast questions get a first answer, who brings new members — and how
// polls and offers were taken up. Computed on request from what this install stores, never from
// anything sent for the purpose.

import (
	"bytes"
	"slices"
	"strings"
	"time"

	"github.com/kith-app/kith/app/community"
)

// Bounds of the insights' window, in weeks.
const (
	DefaultInsightWeeks = 8
	MaxInsightWeeks     = 52
)

// Insights are a community's figures over its last weeks, the current one last.
type Insights struct {
	Weeks   []WeekInsight
	Members int // active members now
	// FirstAnswer is the median time to a first answer over the window's answered questions
	// (0: none answered).
	FirstAnswer time.Duration
	Polls       []PollTurnout // the polls asked in the window, the newest first
	Offers      []OfferUptake // the offers made in the window, the newest first
	Brought     []Brought     // who brought the members who joined in the window, the most first
}

// WeekInsight is one week, Monday 00:00 UTC to the next, by the authors' clocks.
type WeekInsight struct {
	Start time.Time
	// Active counts the members who wrote anything that week: a post, a reply, a reaction, a
	// vote, an answer, a claim, a mark.
	Active     int
	Messages   int // posts and replies that stand (not deleted)
	NewMembers int // members whose current membership began that week
	// Questions are the week's posts (not replies) with a question mark; Answered those that
	// another member replied to (at any time since); FirstAnswer the median wait for that reply.
	Questions   int
	Answered    int
	FirstAnswer time.Duration
}

// PollTurnout is how many of the members who could vote did.
type PollTurnout struct {
	ID       community.Hash
	Question string
	At       time.Time
	Voters   int
	Members  int // active members now who had joined before the poll was asked
	Closed   bool
}

// OfferUptake is how an offer was taken up.
type OfferUptake struct {
	ID       community.Hash
	Title    string
	At       time.Time
	Quantity int
	Claimed  int
	Granted  int
}

// Brought is one member who brought others in with its invites.
type Brought struct {
	Key   []byte
	Name  string
	Count int
}

// takesPart reports whether writing an event of kind k is taking part: what a person does, not
// what an install writes by itself (codes, closes), nor profile changes or deletions.
func takesPart(k community.Kind) bool {
	switch k {
	case community.KindMessage, community.KindPromotion, community.KindEdit, community.KindReaction,
		community.KindPoll, community.KindVote, community.KindFeedbackRequest, community.KindFeedbackStatus,
		community.KindFeedbackAnswer, community.KindKudos, community.KindHelpful, community.KindOffer,
		community.KindOfferClaim, community.KindQuoteOK, community.KindBadge:
		return true
	}
	return false
}

// isQuestion reports whether a post asks something: a question mark in any script.
func isQuestion(text string) bool { return strings.ContainsAny(text, "?？؟") }

// Insights computes a community's figures over its last weeks (1 to MaxInsightWeeks; 0: the
// default), for the owner and moderators.
func (s *Service) Insights(id community.Hash, weeks int) (Insights, error) {
	if weeks == 0 {
		weeks = DefaultInsightWeeks
	}
	if weeks < 1 || weeks > MaxInsightWeeks {
		return Insights{}, &sentenceError{msg: "insights cover 1 to 52 weeks", kind: ErrBadInput}
	}
	r, err := s.room(id)
	if err != nil {
		return Insights{}, err
	}
	r.mu.Lock()
	st := r.folder.State()
	r.mu.Unlock()
	if st.RoleOf(s.id.PublicKey()) < community.RoleModerator {
		return Insights{}, notAllowed("the owner and moderators of %q see its insights", st.Name)
	}
	first := community.WeekOf(s.now()).AddDate(0, 0, -7*(weeks-1))
	out := Insights{Weeks: make([]WeekInsight, weeks), Members: st.ActiveCount()}
	for i := range out.Weeks {
		out.Weeks[i].Start = first.AddDate(0, 0, 7*i)
	}
	weekOf := func(t time.Time) int { // the index in out.Weeks, -1 outside the window
		i := int(community.WeekOf(t).Sub(first) / (7 * 24 * time.Hour))
		if t.Before(first) || i >= weeks {
			return -1
		}
		return i
	}
	active := make([]map[string]bool, weeks)
	for i := range active {
		active[i] = map[string]bool{}
	}
	type question struct {
		week   int
		at     time.Time
		author []byte
		answer time.Time // the first reply by another member (zero: none yet)
	}
	questions := map[community.Hash]*question{}
	type reply struct {
		to     community.Hash
		at     time.Time
		author []byte
	}
	var replies []reply
	mark := uint64(0)
	for {
		n := 0
		last, err := s.store.Since(id, mark, 1000, func(e *community.Event) error {
			n++
			if !e.Kind.Content() || st.CheckContent(e) != nil {
				return nil
			}
			w := weekOf(e.WallTime())
			if w >= 0 && takesPart(e.Kind) {
				active[w][string(e.Author)] = true
			}
			if !isPost(e.Kind) || !e.HasBody() {
				return nil
			}
			if w >= 0 {
				out.Weeks[w].Messages++
			}
			c, err := r.keys.Open(e)
			if err != nil {
				return nil // not readable here: counted, not read
			}
			switch {
			case !c.Target.IsZero():
				replies = append(replies, reply{c.Target, e.WallTime(), bytes.Clone(e.Author)})
			case w >= 0 && e.Kind == community.KindMessage && isQuestion(c.Text):
				questions[e.ID] = &question{week: w, at: e.WallTime(), author: bytes.Clone(e.Author)}
			}
			return nil
		})
		if err != nil {
			return Insights{}, err
		}
		if n == 0 || last == mark {
			break
		}
		mark = last
	}
	for _, rp := range replies {
		q, ok := questions[rp.to]
		if !ok || bytes.Equal(q.author, rp.author) || rp.at.Before(q.at) {
			continue
		}
		if q.answer.IsZero() || rp.at.Before(q.answer) {
			q.answer = rp.at
		}
	}
	waits := make([][]time.Duration, weeks)
	var all []time.Duration
	for _, q := range questions {
		out.Weeks[q.week].Questions++
		if !q.answer.IsZero() {
			out.Weeks[q.week].Answered++
			waits[q.week] = append(waits[q.week], q.answer.Sub(q.at))
			all = append(all, q.answer.Sub(q.at))
		}
	}
	for i := range out.Weeks {
		out.Weeks[i].Active = len(active[i])
		out.Weeks[i].FirstAnswer = median(waits[i])
	}
	out.FirstAnswer = median(all)

	names := r.shownNames(st)
	brought := map[string]int{}
	for _, m := range st.Members() {
		if !m.Active || len(m.Stints) == 0 || m.InviteCap == nil {
			continue
		}
		if w := weekOf(m.Stints[len(m.Stints)-1].At); w >= 0 {
			out.Weeks[w].NewMembers++
			brought[string(m.InviteCap.Issuer)]++
		}
	}
	for k, n := range brought {
		out.Brought = append(out.Brought, Brought{Key: []byte(k), Name: nameOrNone(names.names[k]), Count: n})
	}
	slices.SortFunc(out.Brought, func(a, b Brought) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Name, b.Name)
	})

	polls, err := s.Polls(id, 1000)
	if err != nil {
		return Insights{}, err
	}
	for _, p := range polls {
		if p.At.Before(first) {
			continue
		}
		t := PollTurnout{ID: p.ID, Question: p.Question, At: p.At, Closed: p.Closed}
		if p.Results != nil {
			t.Voters = p.Results.Voters
		}
		for _, m := range st.Members() {
			if m.Active && len(m.Stints) > 0 && m.Stints[len(m.Stints)-1].At.Before(p.At) {
				t.Members++
			}
		}
		out.Polls = append(out.Polls, t)
	}
	offers, err := s.Offers(id)
	if err != nil {
		return Insights{}, err
	}
	for _, o := range offers {
		if o.At.Before(first) {
			continue
		}
		u := OfferUptake{ID: o.ID, Title: o.Title, At: o.At, Quantity: o.Quantity, Claimed: min(o.Claimed, o.Quantity)}
		for _, c := range o.Claimants {
			if c.Granted {
				u.Granted++
			}
		}
		out.Offers = append(out.Offers, u)
	}
	return out, nil
}

// median is the middle of ds (the mean of the two middle ones for an even count; 0 for none).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
