package peer

// kithd's poll commands: poll, vote, poll-results, polls, poll-close.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// PollJSON is a poll as `kithd polls --json` prints it.
type PollJSON struct {
	ID       string       `json:"id"`
	Channel  string       `json:"channel"`
	Author   string       `json:"author"`
	Question string       `json:"question"`
	Options  []string     `json:"options"`
	Multi    bool         `json:"multi"`
	Results  string       `json:"results"`          // after-close or never
	Closes   string       `json:"closes,omitempty"` // RFC 3339; empty: when closed
	Closed   bool         `json:"closed"`
	Voted    bool         `json:"voted"`
	Mine     []int        `json:"mine,omitempty"` // the options this member chose, from 1
	Count    *ResultsJSON `json:"count,omitempty"`
	Note     string       `json:"note,omitempty"` // why no count shows
}

// ResultsJSON is `kithd poll-results --json`: each option's votes and how many voted.
type ResultsJSON struct {
	Options []ResultJSON `json:"options"`
	Voters  int          `json:"voters"`
}

// ResultJSON is one option's count.
type ResultJSON struct {
	Text  string `json:"text"`
	Votes int    `json:"votes"`
}

func resultsJSON(p app.Poll) *ResultsJSON {
	if p.Results == nil {
		return nil
	}
	out := &ResultsJSON{Options: []ResultJSON{}, Voters: p.Results.Voters}
	for i, o := range p.Options {
		n := 0
		if i < len(p.Results.Votes) {
			n = p.Results.Votes[i]
		}
		out.Options = append(out.Options, ResultJSON{Text: community.Printable(o, false), Votes: n})
	}
	return out
}

func (p *Peer) pollJSON(id community.Hash, v app.Poll) PollJSON {
	channel := ""
	if ch, err := p.channelByID(id, v.Channel); err == nil {
		channel = ch.Name
	}
	return pollJSONIn(channel, v)
}

// pollJSONIn is a poll in channel as kithd prints it.
func pollJSONIn(channel string, v app.Poll) PollJSON {
	j := PollJSON{ID: v.ID.String(), Channel: channel, Author: nameOr(v.Name), Question: community.Printable(v.Question, true), Multi: v.Multi,
		Results: "after-close", Closed: v.Closed, Voted: v.Voted, Count: resultsJSON(v), Note: v.ResultsNote, Options: []string{}}
	for _, o := range v.Options {
		j.Options = append(j.Options, community.Printable(o, false))
	}
	if v.ResultsNever {
		j.Results = "never"
	}
	if !v.Closes.IsZero() {
		j.Closes = v.Closes.UTC().Format(time.RFC3339)
	}
	for _, c := range v.Mine {
		j.Mine = append(j.Mine, c+1)
	}
	return j
}

// pollText is a poll for people: the question, the options numbered, and the count when shown.
func pollText(j PollJSON) string {
	var b strings.Builder
	state := "open"
	if j.Closed {
		state = "closed"
	} else if j.Closes != "" {
		state = "open until " + j.Closes
	}
	fmt.Fprintf(&b, "%s  %s  (%s, by %s)\n", j.ID[:12], j.Question, state, j.Author)
	for i, o := range j.Options {
		line := fmt.Sprintf("  %d. %s", i+1, o)
		if j.Count != nil {
			line += fmt.Sprintf("  — %d", j.Count.Options[i].Votes)
		}
		b.WriteString(line + "\n")
	}
	switch {
	case j.Count != nil:
		fmt.Fprintf(&b, "  %s\n", plural(j.Count.Voters, "1 voter", fmt.Sprintf("%d voters", j.Count.Voters)))
	case j.Note != "":
		fmt.Fprintf(&b, "  (%s)\n", j.Note)
	}
	if j.Voted {
		fmt.Fprintf(&b, "  you voted\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func (p *Peer) doPoll(ctx context.Context, req Request) (Result, error) {
	switch req.Cmd {
	case "poll":
		id, ch, err := p.place(req)
		if err != nil {
			return Result{}, err
		}
		spec := community.PollSpec{Question: req.Text, Options: req.Options, Multi: req.Multi, ResultsNever: req.Results == "never"}
		if req.Closes != "" {
			d, err := time.ParseDuration(req.Closes)
			if err != nil || d <= 0 {
				return Result{}, usage("--closes takes a duration such as 48h or 90m, not %q", req.Closes)
			}
			spec.Closes = time.Now().Add(d)
		}
		v, err := p.Svc.CreatePoll(ctx, id, ch.ID, spec)
		if err != nil {
			return Result{}, asUsage(err)
		}
		return jsonResult(v.ID.String(), p.pollJSON(id, v))
	case "polls":
		id, err := p.community(req.Community)
		if err != nil {
			return Result{}, err
		}
		polls, err := p.Svc.Polls(id, req.Limit)
		if err != nil {
			return Result{}, err
		}
		out := make([]PollJSON, 0, len(polls))
		var texts []string
		for _, v := range polls {
			j := p.pollJSON(id, v)
			out = append(out, j)
			texts = append(texts, pollText(j))
		}
		if len(out) == 0 {
			texts = append(texts, "no polls yet")
		}
		return jsonResult(strings.Join(texts, "\n"), out)
	}
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	poll, err := p.Svc.ParsePollRef(id, req.Poll)
	if err != nil {
		return Result{}, asUsage(err)
	}
	switch req.Cmd {
	case "vote":
		var choices []int
		for _, c := range req.Choices {
			n, err := strconv.Atoi(strings.TrimSpace(c))
			if err != nil || n < 1 {
				return Result{}, usage("vote takes option numbers from 1 (as `kithd polls` shows them), not %q", c)
			}
			choices = append(choices, n-1)
		}
		v, err := p.Svc.Vote(ctx, id, poll, choices)
		if err != nil {
			return Result{}, asUsage(err)
		}
		return jsonResult("voted: your choice is sealed to the owner and moderators", p.pollJSON(id, v))
	case "poll-close":
		v, err := p.Svc.ClosePoll(ctx, id, poll)
		if err != nil {
			return Result{}, err
		}
		return jsonResult(pollText(p.pollJSON(id, v)), p.pollJSON(id, v))
	}
	// poll-results
	v, err := p.Svc.PollOf(id, poll)
	if err != nil {
		return Result{}, err
	}
	if v.Results == nil {
		return Result{}, fmt.Errorf("%s", v.ResultsNote)
	}
	if v.Closed && v.Results != nil && !v.Results.Published && !v.ResultsNever && ownPoll(p, v) {
		if c, err := p.Svc.ClosePoll(ctx, id, poll); err == nil { // its time came: members get the count
			v = c
		}
	}
	j := p.pollJSON(id, v)
	return jsonResult(pollText(j), j.Count)
}

// ownPoll reports whether this install's member asked the poll.
func ownPoll(p *Peer, v app.Poll) bool { return string(v.Author) == string(p.ID.PublicKey()) }
