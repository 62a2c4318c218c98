package peer

// kithd's entry commands: requests, approve, decline, welcome, settings.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// RequestJSON is a request to join as `kithd requests --json` prints it.
type RequestJSON struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Questions   []string `json:"questions"`
	Answers     []string `json:"answers"` // empty when this install cannot read them (answers_note says why)
	AnswersNote string   `json:"answers_note,omitempty"`
	InviteID    string   `json:"invite_id"`
	At          string   `json:"at"` // RFC 3339
	MemberID    string   `json:"member_id"`
	InvitedBy   string   `json:"invited_by"`
	Via         string   `json:"via"`   // the member the joiner reached
	State       string   `json:"state"` // waiting, approved, declined
	DecidedBy   string   `json:"decided_by,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	Ended       string   `json:"ended,omitempty"` // why a waiting request can no longer be approved
}

func requestJSON(r app.EntryRequest) RequestJSON {
	j := RequestJSON{
		ID: r.ID.String(), Name: community.Printable(r.Name, false), Questions: printables(r.Questions), Answers: printables(r.Answers),
		InviteID: r.InviteID.String(), At: r.At.UTC().Format(time.RFC3339), MemberID: fmt.Sprintf("%x", r.Joiner),
		InvitedBy: r.InvitedBy, Via: r.ReachedVia, State: r.State.String(), DecidedBy: r.DecidedBy,
		Reason: community.Printable(r.Reason, true), Ended: r.Ended, AnswersNote: r.AnswersNote,
	}
	return j
}

func printables(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, community.Printable(s, true))
	}
	return out
}

// quoted lists texts in quotes, for a sentence.
func quoted(ss []string) string {
	q := make([]string, 0, len(ss))
	for _, s := range ss {
		q = append(q, strconv.Quote(community.Printable(s, false)))
	}
	return strings.Join(q, ", ")
}

func (p *Peer) doEntry(ctx context.Context, req Request) (Result, error) {
	id, err := p.community(req.Community)
	if err != nil {
		return Result{}, err
	}
	switch req.Cmd {
	case "requests":
		rs, err := p.Svc.Requests(id, req.All)
		if err != nil {
			return Result{}, err
		}
		out := make([]RequestJSON, 0, len(rs))
		var text strings.Builder
		for _, r := range rs {
			j := requestJSON(r)
			out = append(out, j)
			fmt.Fprintf(&text, "%s  %s  asked %s (invited by %s, through %s)", j.ID[:12], j.Name, r.At.Local().Format("2006-01-02 15:04"), j.InvitedBy, j.Via)
			if r.State != community.RequestWaiting {
				fmt.Fprintf(&text, " · %s by %s", j.State, j.DecidedBy)
			} else if r.Ended != "" {
				fmt.Fprintf(&text, " · cannot be approved: %s", r.Ended)
			}
			text.WriteString("\n")
			for i, q := range j.Questions {
				a := "(" + r.AnswersNote + ")"
				if i < len(j.Answers) {
					a = j.Answers[i]
				}
				fmt.Fprintf(&text, "    %s\n    → %s\n", q, indented(a))
			}
		}
		if len(out) == 0 {
			text.WriteString("no request waits for approval")
		}
		return jsonResult(strings.TrimSuffix(text.String(), "\n"), out)
	case "approve":
		r, err := p.Svc.Approve(ctx, id, req.Request)
		if err != nil {
			return Result{}, asUsage(err)
		}
		return jsonResult(fmt.Sprintf("%s is let in: they join the next time they reach any member", community.Printable(r.Name, false)), requestJSON(r))
	case "decline":
		r, err := p.Svc.Decline(ctx, id, req.Request, req.Reason)
		if err != nil {
			return Result{}, asUsage(err)
		}
		return jsonResult(fmt.Sprintf("%s's request is declined: they are told the next time they reach a member", community.Printable(r.Name, false)), requestJSON(r))
	case "welcome":
		e, err := p.Svc.Entry(id)
		if req.SetText || req.SetAbout || req.SetChannel {
			e, err = p.Svc.SetEntry(ctx, id, func(e *app.EntrySettings) {
				if req.SetText {
					e.Welcome.Text = req.Text
				}
				if req.SetAbout {
					e.Welcome.Rules = req.About
				}
				if req.SetChannel {
					e.Welcome.Intro = req.Channel
				}
			})
		}
		if err != nil {
			return Result{}, asUsage(err)
		}
		w := WelcomeJSON{Text: community.Printable(e.Welcome.Text, true), Rules: community.Printable(e.Welcome.Rules, true), Channel: e.Welcome.Intro}
		text := w.Text
		if text == "" {
			text = "(no welcome: the owner sets one with `kithd welcome --text TEXT`)"
		}
		if w.Rules != "" {
			text += "\n\nRules:\n" + w.Rules
		}
		if w.Channel != "" {
			text += "\n\nNewcomers introduce themselves in #" + w.Channel
		}
		return jsonResult(text, w)
	case "settings":
		e, err := p.Svc.Entry(id)
		if req.MemberInvites != nil || req.MemberApproval != "" || len(req.Questions) > 0 || req.Promotions != nil || req.MaxFileMiB != nil || req.KeepFiles != "" {
			e, err = p.Svc.SetEntry(ctx, id, func(e *app.EntrySettings) {
				if req.MemberInvites != nil {
					e.MemberInvites = *req.MemberInvites
				}
				if req.MemberApproval != "" {
					e.MemberApproval = req.MemberApproval == "yes"
				}
				if len(req.Questions) > 0 {
					e.Questions = req.Questions
				}
				if req.Promotions != nil {
					e.PromotionsPerWeek = *req.Promotions
				}
				if req.MaxFileMiB != nil {
					e.MaxFileMiB = *req.MaxFileMiB
				}
				if req.KeepFiles != "" {
					e.KeepFiles = req.KeepFiles == "all"
				}
			})
		}
		if err != nil {
			return Result{}, asUsage(err)
		}
		approval := "no"
		if e.MemberApproval {
			approval = "yes"
		}
		text := fmt.Sprintf("members may bring in: %d each (0: members issue no invites)\nmembers' invites need approval: %s", e.MemberInvites, approval)
		if len(e.Questions) > 0 {
			text += "\ndefault questions: " + quoted(e.Questions)
		}
		text += fmt.Sprintf("\npromotions a week (posts and offers): %d", e.PromotionsPerWeek)
		text += fmt.Sprintf("\nthe largest file: %d MiB\nmembers keep: %s", e.MaxFileMiB, keepWords(e.KeepFiles))
		qs := printables(e.Questions)
		return jsonResult(text, map[string]any{"member_invites": e.MemberInvites, "member_approval": e.MemberApproval, "questions": qs,
			"promotions_per_week": e.PromotionsPerWeek, "max_file_mib": e.MaxFileMiB, "keep_files": keepName(e.KeepFiles)})
	}
	return Result{}, usage("unknown command %q", req.Cmd)
}
