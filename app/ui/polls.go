package ui

// Polls in the desktop: a poll shows in its channel as a message (the question, the options and,
// where shown, the count); its menu votes and, for the owner and moderators, closes it; "New
// poll…" asks one.

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// shownText is a message's text as its row shows it: a poll's question, options and state.
func shownText(m app.Message) string {
	switch {
	case m.Poll != nil:
		return pollText(*m.Poll)
	case m.Feedback != nil:
		return feedbackText(*m.Feedback)
	case m.Offer != nil:
		return offerText(*m.Offer)
	case len(m.Attachments) > 0:
		return withFiles(m)
	}
	return m.Text
}

// pollText lays a poll out as text.
func pollText(p app.Poll) string {
	var b strings.Builder
	fmt.Fprintf(&b, "📊 %s\n", community.Printable(p.Question, true))
	mine := map[int]bool{}
	for _, c := range p.Mine {
		mine[c] = true
	}
	for i, o := range p.Options {
		line := fmt.Sprintf("   %d. %s", i+1, community.Printable(o, false))
		if p.Results != nil && i < len(p.Results.Votes) {
			n := p.Results.Votes[i]
			pct := 0
			if p.Results.Voters > 0 {
				pct = 100 * n / p.Results.Voters
			}
			line += fmt.Sprintf("  —  %s (%d%%)", plural(n, "1 vote", fmt.Sprintf("%d votes", n)), pct)
		}
		if mine[i] {
			line += "  ✓ your vote"
		}
		b.WriteString(line + "\n")
	}
	var state []string
	switch {
	case p.Closed:
		state = append(state, "Closed")
	case !p.Closes.IsZero():
		state = append(state, "Open until "+p.Closes.Local().Format("2 Jan at 15:04"))
	default:
		state = append(state, "Open")
	}
	if p.Multi {
		state = append(state, "several choices")
	}
	switch {
	case p.Results != nil:
		state = append(state, plural(p.Results.Voters, "1 voter", fmt.Sprintf("%d voters", p.Results.Voters)))
	case !p.Closed && !p.ResultsNever:
		state = append(state, "results when it closes") // its time is said already
	case p.ResultsNote != "":
		state = append(state, p.ResultsNote)
	}
	if !p.Closed && !p.Voted {
		state = append(state, "vote from this message's menu")
	}
	if p.ResultsNever && p.Results != nil {
		state = append(state, "members never see the count")
	}
	b.WriteString(strings.Join(state, " · "))
	return b.String()
}

// openVote asks for a poll's choices, then votes.
func (v *CommunityView) openVote(m app.Message) {
	p := *m.Poll
	id := v.cur
	var pick func() []int
	var choice fyne.CanvasObject
	if p.Multi {
		g := widget.NewCheckGroup(p.Options, nil)
		choice = g
		pick = func() []int { return indexes(p.Options, g.Selected) }
	} else {
		g := widget.NewRadioGroup(p.Options, nil)
		choice = g
		pick = func() []int { return indexes(p.Options, []string{g.Selected}) }
	}
	note := wrapped("Your choice is sealed to the owner and the moderators: other members see that you voted, not what.")
	note.Importance = widget.LowImportance
	s := v.s
	d := dialog.NewForm(community.Printable(p.Question, false), "Vote", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("", choice), widget.NewFormItem("", note)}, func(ok bool) {
			if !ok {
				return
			}
			choices := pick()
			go func() {
				_, err := s.svc.Vote(s.ctx, id, p.ID, choices)
				if err != nil {
					s.do(func() { s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), s.win)) })
				}
			}()
		}, s.win)
	d.Resize(fyne.NewSize(480, 0))
	s.show(d)
}

// indexes are the positions of the chosen texts among options.
func indexes(options, chosen []string) []int {
	var out []int
	for i, o := range options {
		for _, c := range chosen {
			if c == o {
				out = append(out, i)
			}
		}
	}
	return out
}

// closePoll closes a poll now; the close carries the count to the members.
func (v *CommunityView) closePoll(m app.Message) {
	id, poll := v.cur, m.Poll.ID
	s := v.s
	go func() {
		if _, err := s.svc.ClosePoll(s.ctx, id, poll); err != nil {
			s.do(func() { s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), s.win)) })
		}
	}()
}

// The new-poll dialog's closing choices.
var (
	pollCloses  = []string{"In 1 day", "In 2 days", "In 7 days", "When I close it"}
	pollClosesD = []time.Duration{24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour, 0}
)

// openNewPoll asks a poll in the channel shown (the owner and moderators).
func (v *CommunityView) openNewPoll() {
	ch, ok := v.channel()
	if !ok {
		return
	}
	if v.myRole() < community.RoleModerator {
		v.s.show(dialog.NewInformation("New poll", "The owner and moderators ask polls.", v.s.win))
		return
	}
	question := widget.NewEntry()
	question.SetPlaceHolder("e.g. Which glaze for the spring sale?")
	options := widget.NewMultiLineEntry()
	options.SetPlaceHolder("One option a line: 2 to 20")
	options.SetMinRowsVisible(4)
	multi := widget.NewCheck("Members may choose several options", nil)
	closes := widget.NewSelect(pollCloses, nil)
	closes.SetSelected(pollCloses[1])
	never := widget.NewCheck("Never show the results to members (you and moderators see them)", nil)
	id, channel := v.cur, ch.ID
	s := v.s
	var d dialog.Dialog
	d = dialog.NewForm("New poll in #"+ch.Name, "Ask", "Cancel", []*widget.FormItem{
		widget.NewFormItem("Question", question),
		widget.NewFormItem("Options", options),
		widget.NewFormItem("", multi),
		widget.NewFormItem("Closes", closes),
		widget.NewFormItem("", never),
	}, func(ok bool) {
		if !ok {
			return
		}
		spec := community.PollSpec{Question: question.Text, Multi: multi.Checked, ResultsNever: never.Checked}
		for _, o := range strings.Split(options.Text, "\n") {
			if o = strings.TrimSpace(o); o != "" {
				spec.Options = append(spec.Options, o)
			}
		}
		if d := pollClosesD[max(closes.SelectedIndex(), 0)]; d > 0 {
			spec.Closes = time.Now().Add(d)
		}
		go func() {
			if _, err := s.svc.CreatePoll(s.ctx, id, channel, spec); err != nil {
				s.do(func() { s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), s.win)) })
			}
		}()
	}, s.win)
	d.Resize(fyne.NewSize(560, 0))
	s.show(d)
}
