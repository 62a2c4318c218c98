package ui

// Feedback requests in the desktop: a request shows in its channel as a message (the question,
// whom it asks, its status — "you asked → we did" — and this member's answer); its menu answers,
// and for the owner and moderators reads the answers and sets the status; "Ask for feedback…"
// asks one. A member who answered is told when the status changes.

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// feedbackText lays a feedback request out as text.
func feedbackText(f app.Feedback) string {
	var b strings.Builder
	fmt.Fprintf(&b, "💬 %s\n", community.Printable(f.Question, true))
	asks := "Asks everyone"
	switch f.Role {
	case community.RoleMember:
		asks = "Asks the members"
	case community.RoleModerator:
		asks = "Asks the moderators"
	}
	if !f.JoinedBefore.IsZero() {
		asks += " who joined before " + f.JoinedBefore.Local().Format("2 Jan 2006")
	}
	if f.Offer != (community.Hash{}) {
		asks += " granted the offer"
	}
	parts := []string{asks}
	switch {
	case f.Status != "":
		parts = append(parts, "You asked → we "+statusWords(f.Status))
	case f.Closed:
		parts = append(parts, "Closed")
	case !f.Closes.IsZero():
		parts = append(parts, "Open until "+f.Closes.Local().Format("2 Jan at 15:04"))
	}
	if f.Answers != nil {
		parts = append(parts, plural(len(f.Answers), "1 answer", fmt.Sprintf("%d answers", len(f.Answers))))
	}
	switch {
	case f.Answered:
		parts = append(parts, "you answered")
	case f.Asked && !f.Closed:
		parts = append(parts, "answer from this message's menu (only the owner and moderators read it)")
	}
	b.WriteString(strings.Join(parts, " · "))
	if f.Note != "" {
		fmt.Fprintf(&b, "\n→ %s", community.Printable(f.Note, true))
	}
	if f.Mine != "" {
		fmt.Fprintf(&b, "\nYour answer: %s", community.Printable(f.Mine, true))
	}
	return b.String()
}

// statusWords says a status after "we": "planned it", "are doing it", ...
func statusWords(status string) string {
	switch status {
	case "planned":
		return "planned it"
	case "doing":
		return "are doing it"
	case "done":
		return "did it"
	case "declined":
		return "decided against it"
	}
	return status
}

// feedbackItems are a request's menu items.
func (v *CommunityView) feedbackItems(m app.Message) []*fyne.MenuItem {
	f := m.Feedback
	var items []*fyne.MenuItem
	if f.Asked && !f.Answered && !f.Closed {
		items = append(items, fyne.NewMenuItem("Answer…", func() { v.openAnswer(m) }))
	}
	if v.myRole() >= community.RoleModerator {
		items = append(items, fyne.NewMenuItem(fmt.Sprintf("Read the answers (%d)…", len(f.Answers)), func() { v.showAnswers(m) }))
		items = append(items, fyne.NewMenuItem("Set the status…", func() { v.openStatus(m) }))
	}
	return items
}

func (v *CommunityView) openAnswer(m app.Message) {
	f := *m.Feedback
	id := v.cur
	text := widget.NewMultiLineEntry()
	text.Wrapping = fyne.TextWrapWord
	text.SetMinRowsVisible(5)
	note := wrapped("Only the owner and the moderators read your answer.")
	note.Importance = widget.LowImportance
	s := v.s
	d := dialog.NewForm(community.Printable(f.Question, false), "Answer", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("", text), widget.NewFormItem("", note)}, func(ok bool) {
			if !ok {
				return
			}
			answer := text.Text
			go func() {
				if _, err := s.svc.Answer(s.ctx, id, f.ID, answer); err != nil {
					s.do(func() { s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), s.win)) })
				}
			}()
		}, s.win)
	d.Resize(fyne.NewSize(520, 0))
	s.show(d)
}

func (v *CommunityView) showAnswers(m app.Message) {
	f := *m.Feedback
	box := container.NewVBox()
	if len(f.Answers) == 0 {
		box.Add(wrapped("No answer yet."))
	}
	for _, a := range f.Answers {
		who := widget.NewLabelWithStyle(nameOr(a.Name)+" · "+a.At.Local().Format("2 Jan 15:04"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		text := a.Text
		if text == "" {
			text = "(not sealed to this device)"
		}
		box.Add(who)
		box.Add(wrapped(community.Printable(text, true)))
	}
	scroll := container.NewVScroll(box)
	scroll.SetMinSize(fyne.NewSize(520, 320))
	v.s.show(dialog.NewCustom(community.Printable(f.Question, false), "Close", scroll, v.s.win))
}

func (v *CommunityView) openStatus(m app.Message) {
	f := *m.Feedback
	id := v.cur
	status := widget.NewSelect(community.FeedbackStatuses, nil)
	if f.Status != "" {
		status.SetSelected(f.Status)
	} else {
		status.SetSelected("planned")
	}
	note := widget.NewMultiLineEntry()
	note.Wrapping = fyne.TextWrapWord
	note.SetPlaceHolder("What you did with it: everyone who answered is told")
	note.SetText(f.Note)
	s := v.s
	d := dialog.NewForm("You asked → we…", "Save", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Status", status), widget.NewFormItem("Note", note)}, func(ok bool) {
			if !ok {
				return
			}
			st, n := status.Selected, note.Text
			go func() {
				if _, err := s.svc.SetFeedbackStatus(s.ctx, id, f.ID, st, n); err != nil {
					s.do(func() { s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), s.win)) })
				}
			}()
		}, s.win)
	d.Resize(fyne.NewSize(520, 0))
	s.show(d)
}

// The ask dialog's choices.
var (
	askWhom     = []string{"Everyone", "The members", "The moderators"}
	askWhomRole = []community.Role{community.RoleNone, community.RoleMember, community.RoleModerator}
	askCloses   = []string{"In 3 days", "In 7 days", "In 30 days", "When I set it done"}
	askClosesD  = []time.Duration{72 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour, 0}
)

// openAsk asks for feedback in the channel shown (the owner and moderators).
func (v *CommunityView) openAsk() { v.openAskFor(community.Hash{}) }

// openAskFor is openAsk; with an offer, it asks the members granted it.
func (v *CommunityView) openAskFor(offer community.Hash) {
	ch, ok := v.channel()
	if !ok {
		return
	}
	if v.myRole() < community.RoleModerator {
		v.s.show(dialog.NewInformation("Ask for feedback", "The owner and moderators ask for feedback.", v.s.win))
		return
	}
	question := widget.NewMultiLineEntry()
	question.Wrapping = fyne.TextWrapWord
	question.SetPlaceHolder("e.g. What should the spring sale include?")
	whom := widget.NewSelect(askWhom, nil)
	whom.SetSelected(askWhom[0])
	before := widget.NewEntry()
	before.SetPlaceHolder("Optional: only members who joined before 2026-12-01")
	closes := widget.NewSelect(askCloses, nil)
	closes.SetSelected(askCloses[1])
	id, channel := v.cur, ch.ID
	s := v.s
	heading := "Ask for feedback in #" + ch.Name
	if offer != (community.Hash{}) {
		heading = "Ask the members granted the offer, in #" + ch.Name
	}
	d := dialog.NewForm(heading, "Ask", "Cancel", []*widget.FormItem{
		widget.NewFormItem("Question", question),
		widget.NewFormItem("Ask", whom),
		widget.NewFormItem("Joined before", before),
		widget.NewFormItem("Closes", closes),
	}, func(ok bool) {
		if !ok {
			return
		}
		spec := community.FeedbackSpec{Question: question.Text, Role: askWhomRole[max(whom.SelectedIndex(), 0)], Offer: offer}
		if t := strings.TrimSpace(before.Text); t != "" {
			date, err := time.ParseInLocation("2006-01-02", t, time.Local)
			if err != nil {
				s.show(dialog.NewError(fmt.Errorf("%q is not a date: write it as 2026-12-01", t), s.win))
				return
			}
			spec.JoinedBefore = date
		}
		if d := askClosesD[max(closes.SelectedIndex(), 0)]; d > 0 {
			spec.Closes = time.Now().Add(d)
		}
		go func() {
			if _, err := s.svc.Ask(s.ctx, id, channel, spec); err != nil {
				s.do(func() { s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), s.win)) })
			}
		}()
	}, s.win)
	d.Resize(fyne.NewSize(560, 0))
	s.show(d)
}

// feedbackChanged tells a member who answered that the request's status changed.
func (s *Shell) feedbackChanged(e app.FeedbackStatusChanged) {
	if !s.settings.Notifications {
		return
	}
	f := e.Feedback
	text := "We " + statusWords(f.Status)
	if f.Note != "" {
		text += ": " + clip(community.Printable(f.Note, false), 160)
	}
	s.app.SendNotification(fyne.NewNotification("You asked: "+clip(community.Printable(f.Question, false), 60), text))
}
