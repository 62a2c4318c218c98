package peer

// kithd's feedback commands: ask, answer, feedback, feedback-status.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// FeedbackJSON is a feedback request as `kithd feedback --json` prints it.
type FeedbackJSON struct {
	ID           string       `json:"id"`
	Channel      string       `json:"channel"`
	Author       string       `json:"author"`
	Question     string       `json:"question"`
	Role         string       `json:"role,omitempty"`          // whom it asks: member, moderator; empty: everyone
	Offer        string       `json:"offer,omitempty"`         // it asks the members granted this offer
	JoinedBefore string       `json:"joined_before,omitempty"` // RFC 3339
	Closes       string       `json:"closes,omitempty"`
	Closed       bool         `json:"closed"`
	Status       string       `json:"status,omitempty"`
	Note         string       `json:"note,omitempty"`
	Asked        bool         `json:"asked"` // this member is among those asked
	Answered     bool         `json:"answered"`
	Mine         string       `json:"mine,omitempty"`    // this member's answer
	Answers      []AnswerJSON `json:"answers,omitempty"` // the owner and moderators
}

// AnswerJSON is one answer, for the owner and moderators.
type AnswerJSON struct {
	Member string `json:"member_id"`
	Name   string `json:"name"`
	At     string `json:"at"`
	Text   string `json:"text"`
}

func feedbackJSON(channel string, f app.Feedback) FeedbackJSON {
	j := FeedbackJSON{ID: f.ID.String(), Channel: channel, Author: nameOr(f.Name), Question: community.Printable(f.Question, true),
		Closed: f.Closed, Status: f.Status, Note: community.Printable(f.Note, true), Asked: f.Asked, Answered: f.Answered,
		Mine: community.Printable(f.Mine, true)}
	if f.Role != community.RoleNone {
		j.Role = f.Role.String()
	}
	if !f.JoinedBefore.IsZero() {
		j.JoinedBefore = f.JoinedBefore.UTC().Format(time.RFC3339)
	}
	if f.Offer != (community.Hash{}) {
		j.Offer = f.Offer.String()
	}
	if !f.Closes.IsZero() {
		j.Closes = f.Closes.UTC().Format(time.RFC3339)
	}
	for _, a := range f.Answers {
		j.Answers = append(j.Answers, AnswerJSON{Member: fmt.Sprintf("%x", a.Author), Name: nameOr(a.Name), At: a.At.UTC().Format(time.RFC3339), Text: community.Printable(a.Text, true)})
	}
	if f.Answers != nil && j.Answers == nil {
		j.Answers = []AnswerJSON{}
	}
	return j
}

func feedbackText(j FeedbackJSON) string {
	var b strings.Builder
	state := "open"
	if j.Closed {
		state = "closed"
	}
	if j.Status != "" {
		state += ", " + j.Status
	}
	fmt.Fprintf(&b, "%s  %s  (%s, by %s)\n", j.ID[:12], j.Question, state, j.Author)
	if j.Note != "" {
		fmt.Fprintf(&b, "  → %s\n", indented(j.Note))
	}
	if j.Mine != "" {
		fmt.Fprintf(&b, "  your answer: %s\n", indented(j.Mine))
	}
	for _, a := range j.Answers {
		fmt.Fprintf(&b, "  %s: %s\n", a.Name, indented(a.Text))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func (p *Peer) doFeedback(ctx context.Context, req Request) (Result, error) {
	if req.Cmd == "ask" {
		id, ch, err := p.place(req)
		if err != nil {
			return Result{}, err
		}
		spec := community.FeedbackSpec{Question: req.Text}
		switch req.Role {
		case "member":
			spec.Role = community.RoleMember
		case "moderator":
			spec.Role = community.RoleModerator
		}
		if req.JoinedBefore != "" {
			t, err := time.Parse("2006-01-02", req.JoinedBefore)
			if err != nil {
				if t, err = time.Parse(time.RFC3339, req.JoinedBefore); err != nil {
					return Result{}, usage("%q is not a date: write it as 2026-12-01", req.JoinedBefore)
				}
			}
			spec.JoinedBefore = t
		}
		if req.Closes != "" {
			d, err := time.ParseDuration(req.Closes)
			if err != nil || d <= 0 {
				return Result{}, usage("--closes takes a duration such as 72h, not %q", req.Closes)
			}
			spec.Closes = time.Now().Add(d)
		}
		if req.Offer != "" {
			if spec.Offer, err = p.Svc.ParseOfferRef(id, req.Offer); err != nil {
				return Result{}, asUsage(err)
			}
		}
		f, err := p.Svc.Ask(ctx, id, ch.ID, spec)
		if err != nil {
			return Result{}, asUsage(err)
		}
		return jsonResult(f.ID.String(), feedbackJSON(ch.Name, f))
	}
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	if req.Cmd == "feedback" {
		all, err := p.Svc.Feedbacks(id)
		if err != nil {
			return Result{}, err
		}
		out := make([]FeedbackJSON, 0, len(all))
		var texts []string
		for _, f := range all {
			ch, _ := p.channelByID(id, f.Channel)
			j := feedbackJSON(ch.Name, f)
			out = append(out, j)
			texts = append(texts, feedbackText(j))
		}
		if len(out) == 0 {
			texts = append(texts, "no feedback requests yet")
		}
		return jsonResult(strings.Join(texts, "\n"), out)
	}
	request, err := p.Svc.ParseFeedbackRef(id, req.Request)
	if err != nil {
		return Result{}, asUsage(err)
	}
	var f app.Feedback
	if req.Cmd == "answer" {
		f, err = p.Svc.Answer(ctx, id, request, req.Text)
	} else {
		f, err = p.Svc.SetFeedbackStatus(ctx, id, request, req.Status, req.Note)
	}
	if err != nil {
		return Result{}, asUsage(err)
	}
	ch, _ := p.channelByID(id, f.Channel)
	j := feedbackJSON(ch.Name, f)
	if req.Cmd == "answer" {
		return jsonResult("answered: only the owner and moderators read it", j)
	}
	return jsonResult(feedbackText(j), j)
}
