package ui

// Entry in the desktop: the owner's and moderators' review of requests to join (the
// "Requests (n)" button, a notification when one arrives), the owner's entry settings (members
// who invite, the welcome, the rules, default questions), and the welcome a newcomer sees.

import (
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// requestsLabel is the header button's text for n waiting requests.
func requestsLabel(n int) string { return fmt.Sprintf("Requests (%d)", n) }

// setRequests shows how many requests wait in the community shown (the owner and moderators).
func (v *CommunityView) setRequests(n int) {
	v.waiting = n
	if n == 0 {
		v.requestsBtn.Hide()
		return
	}
	v.requestsBtn.SetText(requestsLabel(n))
	v.requestsBtn.Show()
}

// requestsDialog is the review panel: each waiting request with its answers, Approve and
// Decline.
type requestsDialog struct {
	v    *CommunityView
	comm community.Hash
	d    dialog.Dialog
	list *fyne.Container
	note *widget.Label
}

// openRequests shows the review panel of the community shown.
func (v *CommunityView) openRequests() {
	if v.myRole() < community.RoleModerator {
		return
	}
	rd := &requestsDialog{v: v, comm: v.cur, list: container.NewVBox(), note: wrapped("")}
	rd.note.Hide()
	intro := wrapped("People who asked to join, with their answers. Approve lets them in the next time they reach any member; Decline tells them why.")
	scroll := container.NewVScroll(rd.list)
	scroll.SetMinSize(fyne.NewSize(600, 380))
	rd.d = dialog.NewCustom("Requests to join", "Close", container.NewBorder(container.NewVBox(intro, rd.note), nil, nil, nil, scroll), v.s.win)
	rd.d.Resize(fyne.NewSize(680, 560))
	v.requests = rd
	v.s.show(rd.d)
	rd.reload()
}

// reload reads the waiting requests off the Fyne thread and shows them.
func (rd *requestsDialog) reload() {
	s := rd.v.s
	go func() {
		rs, err := s.svc.Requests(rd.comm, false)
		s.do(func() {
			rd.list.Objects = nil
			if err != nil {
				rd.say(sentence(err))
				return
			}
			if len(rs) == 0 {
				none := wrapped("No request waits. New ones show here, and Kith tells you when one arrives.")
				none.Importance = widget.LowImportance
				rd.list.Add(none)
			}
			for _, r := range rs {
				rd.list.Add(rd.card(r))
			}
			rd.list.Refresh()
			if rd.v.cur == rd.comm {
				rd.v.setRequests(len(rs))
			}
		})
	}()
}

// say shows a sentence above the list.
func (rd *requestsDialog) say(text string) {
	rd.note.SetText(text)
	rd.note.Show()
}

// card is one request: who, when, through whom, the questions and answers, and the decision.
func (rd *requestsDialog) card(r app.EntryRequest) fyne.CanvasObject {
	name := widget.NewLabelWithStyle(community.Printable(r.Name, false), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	sub := wrapped(fmt.Sprintf("Asked %s · invite by %s · via %s", r.At.Local().Format("2 January at 15:04"), r.InvitedBy, r.ReachedVia))
	sub.Importance = widget.LowImportance
	box := container.NewVBox(name, sub)
	for i, q := range r.Questions {
		ql := widget.NewLabelWithStyle(community.Printable(q, false), fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
		ql.Wrapping = fyne.TextWrapWord
		a := "(" + r.AnswersNote + ")"
		if i < len(r.Answers) {
			a = community.Printable(r.Answers[i], true)
		}
		box.Add(ql)
		box.Add(wrapped(a))
	}
	approve := widget.NewButtonWithIcon("Approve", theme.ConfirmIcon(), nil)
	approve.Importance = widget.HighImportance
	decline := widget.NewButtonWithIcon("Decline…", theme.CancelIcon(), nil)
	said := wrapped("")
	said.Hide()
	say := func(text string) { said.SetText(text); said.Show() }
	approve.OnTapped = func() {
		approve.Disable()
		decline.Disable()
		say("Letting them in…")
		go func() {
			_, err := rd.v.s.svc.Approve(rd.v.s.ctx, rd.comm, r.ID.String())
			rd.v.s.do(func() {
				if err != nil {
					say(sentence(err))
					approve.Enable()
					decline.Enable()
					return
				}
				rd.say(fmt.Sprintf("%s is let in: they join the next time they reach any member.", community.Printable(r.Name, false)))
				rd.reload()
			})
		}()
	}
	decline.OnTapped = func() { rd.askDecline(r) }
	if r.Ended != "" {
		approve.Disable()
		say("This request can no longer be approved: " + r.Ended + ".")
	}
	box.Add(container.NewHBox(approve, decline))
	box.Add(said)
	box.Add(widget.NewSeparator())
	return box
}

// askDecline asks for a reason, then declines.
func (rd *requestsDialog) askDecline(r app.EntryRequest) {
	reason := widget.NewMultiLineEntry()
	reason.Wrapping = fyne.TextWrapWord
	reason.SetMinRowsVisible(3)
	reason.SetPlaceHolder("Why (optional): they see it")
	s := rd.v.s
	form := dialog.NewForm("Decline "+strconv.Quote(community.Printable(r.Name, false))+"?", "Decline", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Reason", reason)}, func(ok bool) {
			if !ok {
				return
			}
			text := reason.Text
			go func() {
				_, err := s.svc.Decline(s.ctx, rd.comm, r.ID.String(), text)
				s.do(func() {
					if err != nil {
						rd.say(sentence(err))
						return
					}
					rd.say(fmt.Sprintf("%s's request is declined: they are told the next time they reach a member.", community.Printable(r.Name, false)))
					rd.reload()
				})
			}()
		}, s.win)
	form.Resize(fyne.NewSize(480, 260))
	s.show(form)
}

// watchRequests notices requests to join that arrive in any community this install owns or
// moderates (a CommunityChanged): it counts them off the Fyne thread and notifies when there
// are more than before.
func (s *Shell) watchRequests(id community.Hash) {
	go func() {
		rs, err := s.svc.Requests(id, false)
		if err != nil {
			return // not the owner or a moderator there
		}
		s.do(func() {
			if s.requestCounts == nil {
				s.requestCounts = map[community.Hash]int{}
			}
			before, known := s.requestCounts[id]
			s.requestCounts[id] = len(rs)
			if id == s.view.cur {
				s.view.setRequests(len(rs))
				if s.view.requests != nil && s.view.requests.comm == id && len(rs) != before {
					s.view.requests.reload()
				}
			}
			if !known || len(rs) <= before || !s.settings.Notifications {
				return
			}
			name := community.Printable(rs[len(rs)-1].Name, false)
			where := ""
			if c := s.view.summary(id); c != nil {
				where = " to " + c.Name
			}
			s.app.SendNotification(fyne.NewNotification("New request"+where, name+" asks to join: open Requests to answer."))
		})
	}()
}

// openEntry is the owner's entry settings: who may invite, approval for members' invites, the
// default questions, the welcome, the rules and the channel where newcomers introduce themselves.
func (v *CommunityView) openEntry() {
	id := v.cur
	if v.myRole() != community.RoleOwner {
		v.s.show(dialog.NewInformation("Entry and welcome", "Only the owner changes who may invite and what newcomers see.", v.s.win))
		return
	}
	go func() {
		e, err := v.s.svc.Entry(id)
		chans, cerr := v.s.svc.Channels(id)
		v.s.do(func() {
			if err == nil {
				err = cerr
			}
			if err != nil {
				v.s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), v.s.win))
				return
			}
			v.showEntry(id, e, chans)
		})
	}()
}

func (v *CommunityView) showEntry(id community.Hash, e app.EntrySettings, chans []app.Channel) {
	perMember := widget.NewEntry()
	perMember.SetText(strconv.Itoa(e.MemberInvites))
	perMember.Validator = func(t string) error {
		if n, err := strconv.Atoi(strings.TrimSpace(t)); err != nil || n < 0 || n > community.MaxMemberInvites {
			return fmt.Errorf("a number from 0 to %d", community.MaxMemberInvites)
		}
		return nil
	}
	approval := widget.NewCheck("Members' invites always need approval", nil)
	approval.SetChecked(e.MemberApproval)
	questions := widget.NewMultiLineEntry()
	questions.SetMinRowsVisible(3)
	questions.SetPlaceHolder("One question a line, up to 5")
	questions.SetText(strings.Join(e.Questions, "\n"))
	welcome := widget.NewMultiLineEntry()
	welcome.Wrapping = fyne.TextWrapWord
	welcome.SetMinRowsVisible(3)
	welcome.SetPlaceHolder("What each newcomer reads first")
	welcome.SetText(e.Welcome.Text)
	rules := widget.NewMultiLineEntry()
	rules.Wrapping = fyne.TextWrapWord
	rules.SetMinRowsVisible(3)
	rules.SetPlaceHolder("The community's rules (optional)")
	rules.SetText(e.Welcome.Rules)
	names := []string{"(none)"}
	for _, c := range chans {
		if !c.Archived {
			names = append(names, c.Name)
		}
	}
	intro := widget.NewSelect(names, nil)
	intro.SetSelected("(none)")
	if e.Welcome.Intro != "" {
		intro.SetSelected(e.Welcome.Intro)
	}
	promos := widget.NewEntry()
	promos.SetText(strconv.Itoa(e.PromotionsPerWeek))
	promos.Validator = func(t string) error {
		if n, err := strconv.Atoi(strings.TrimSpace(t)); err != nil || n < 1 || n > community.MaxPromotionsPerWeek {
			return fmt.Errorf("a number from 1 to %d", community.MaxPromotionsPerWeek)
		}
		return nil
	}
	items := []*widget.FormItem{
		widget.NewFormItem("Members may invite", perMember),
		widget.NewFormItem("", approval),
		widget.NewFormItem("Default questions", questions),
		widget.NewFormItem("Welcome", welcome),
		widget.NewFormItem("Rules", rules),
		widget.NewFormItem("Introductions in", intro),
		widget.NewFormItem("Promotions a week", promos),
	}
	items[0].HintText = "People each member may bring in (0: only you and moderators invite)"
	items[2].HintText = "Asked by invites that need approval, unless the invite has its own"
	items[6].HintText = "Promotional posts and offers by you and moderators; members can mute them"
	s := v.s
	form := dialog.NewForm("Entry and welcome", "Save", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		n, _ := strconv.Atoi(strings.TrimSpace(perMember.Text))
		perWeek, _ := strconv.Atoi(strings.TrimSpace(promos.Text))
		var qs []string
		for _, q := range strings.Split(questions.Text, "\n") {
			if q = strings.TrimSpace(q); q != "" {
				qs = append(qs, q)
			}
		}
		channel := intro.Selected
		if channel == "(none)" {
			channel = ""
		}
		w, r, a := welcome.Text, rules.Text, approval.Checked
		go func() {
			_, err := s.svc.SetEntry(s.ctx, id, func(e *app.EntrySettings) {
				e.MemberInvites, e.MemberApproval, e.Questions, e.PromotionsPerWeek = n, a, qs, perWeek
				e.Welcome = app.Welcome{Text: w, Rules: r, Intro: channel}
			})
			if err != nil {
				s.do(func() { s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), s.win)) })
			}
		}()
	}, s.win)
	form.Resize(fyne.NewSize(620, 680))
	s.show(form)
}

// showArrival greets a newcomer who was just admitted: the welcome and the rules, and a button
// to say hello where the owner asks newcomers to introduce themselves. Nothing when the owner
// wrote none.
func (s *Shell) showArrival(id community.Hash, name string) {
	go func() {
		e, err := s.svc.Entry(id)
		if err != nil || (e.Welcome.Text == "" && e.Welcome.Rules == "") {
			return
		}
		s.do(func() { s.showWelcomeText(id, name, e.Welcome) })
	}()
}

// welcomeBox is the welcome and the rules, as the arrival dialog and the info panel show them.
func welcomeBox(w app.Welcome) *fyne.Container {
	box := container.NewVBox()
	if w.Text != "" {
		box.Add(wrapped(community.Printable(w.Text, true)))
	}
	if w.Rules != "" {
		box.Add(heading("Rules"))
		box.Add(wrapped(community.Printable(w.Rules, true)))
	}
	return box
}

func (s *Shell) showWelcomeText(id community.Hash, name string, w app.Welcome) {
	box := welcomeBox(w)
	var d dialog.Dialog
	if w.Intro != "" {
		hello := widget.NewButton("Introduce yourself in #"+w.Intro, func() {
			d.Hide()
			s.view.openChannelNamed(id, w.Intro)
		})
		hello.Importance = widget.HighImportance
		box.Add(container.NewHBox(hello))
	}
	d = dialog.NewCustom("Welcome to "+strconv.Quote(name), "Close", box, s.win)
	d.Resize(fyne.NewSize(520, 0))
	s.show(d)
}

// openChannelNamed opens a channel of community id by its name, once its channels are read.
func (v *CommunityView) openChannelNamed(id community.Hash, name string) {
	go func() {
		chans, err := v.s.svc.Channels(id)
		if err != nil {
			return
		}
		v.s.do(func() {
			for _, c := range chans {
				if c.Name == name && v.cur == id {
					v.openChannel(c.ID)
					v.selectChannelRow()
					v.s.win.Canvas().Focus(v.composer)
				}
			}
		})
	}()
}
