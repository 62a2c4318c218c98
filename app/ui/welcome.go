package ui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/invite"
)

// waitingText is what the welcome screen says while a join waits for a member to come online.
const waitingText = "No member is online yet. Kith keeps trying while it runs; you can close this window."

// Welcome is the first screen: the person's name, then create a community or join one with an
// invite.
type Welcome struct {
	s       *Shell
	content fyne.CanvasObject
	back    *widget.Button
	restore *fyne.Container // "Restore a backup…", while this install is in no community
	you     *widget.Entry

	name         *widget.Entry
	about        *widget.Entry
	cap          *widget.Entry
	history      *widget.RadioGroup
	create       *widget.Button
	createStatus *widget.Label

	paste      *widget.Entry
	check      *widget.Label
	asked      *fyne.Container // the invite's questions and the answer entries (an invite that needs approval)
	answers    []*widget.Entry
	join       *widget.Button
	cancel     *widget.Button
	stage      *widget.Label
	bar        *widget.ProgressBar
	spinner    *widget.ProgressBarInfinite
	joinStatus *widget.Label

	// Fyne thread only.
	requested  time.Time      // when the join's request was delivered (an invite that needs approval)
	inv        *invite.Invite // the pasted invite, when it reads well
	joining    bool           // a join is under way (started here, or resumed after a restart)
	stopJoin   func()
	joinTarget community.Hash
	joinName   string // the community's name, as the invite gives it
}

func newWelcome(s *Shell) *Welcome {
	h := &Welcome{s: s}
	h.back = widget.NewButtonWithIcon("Back to your communities", theme.NavigateBackIcon(), func() { s.showCommunities(community.Hash{}) })
	h.you = widget.NewEntry()
	h.you.SetPlaceHolder("How members will see you, e.g. Ana")
	h.you.SetText(s.settings.DisplayName)

	h.name = widget.NewEntry()
	h.name.SetPlaceHolder("e.g. Clay Studio Friends")
	h.about = widget.NewMultiLineEntry()
	h.about.SetPlaceHolder("What the community is for (optional)")
	h.about.Wrapping = fyne.TextWrapWord
	h.about.SetMinRowsVisible(3)
	h.cap = widget.NewEntry()
	h.cap.SetPlaceHolder("No cap")
	h.cap.Validator = func(t string) error { _, err := parseCap(t); return err }
	h.history = widget.NewRadioGroup([]string{historyFull, historyFromJoin}, nil)
	h.history.SetSelected(historyFull)
	h.createStatus = wrapped("")
	h.create = widget.NewButton("Create community", h.submit)
	h.create.Importance = widget.HighImportance
	form := widget.NewForm(
		widget.NewFormItem("Name", h.name),
		widget.NewFormItem("About", h.about),
		widget.NewFormItem("Member cap", h.cap),
		widget.NewFormItem("History", h.history),
	)
	form.Items[2].HintText = "Small by design: 100 is a good start."
	createCard := widget.NewCard("Create a community", "You own it and invite its members. No account, no server.",
		container.NewVBox(form, container.NewHBox(h.create), h.createStatus))

	h.paste = widget.NewMultiLineEntry()
	h.paste.Wrapping = fyne.TextWrapBreak
	h.paste.SetMinRowsVisible(4)
	h.paste.SetPlaceHolder("Paste the invite you were sent: one line that starts with kith1")
	h.paste.OnChanged = func(string) { h.checkInvite() }
	h.check = wrapped("")
	h.asked = container.NewVBox()
	h.asked.Hide()
	h.join = widget.NewButton("Join", h.startJoin)
	h.join.Importance = widget.HighImportance
	h.join.Disable()
	h.cancel = widget.NewButton("Cancel join", func() {
		if h.stopJoin != nil {
			h.stopJoin()
		}
	})
	h.cancel.Hide()
	h.stage = wrapped("")
	h.bar = widget.NewProgressBar()
	h.bar.Hide()
	h.spinner = widget.NewProgressBarInfinite()
	h.spinner.Hide()
	h.spinner.Stop()
	h.joinStatus = wrapped("")
	joinCard := widget.NewCard("Join with an invite", "An invite from a member lets you in: paste it below.",
		container.NewVBox(h.paste, h.check, h.asked, container.NewHBox(h.join, h.cancel), h.stage, h.spinner, h.bar, h.joinStatus))

	title := widget.NewLabelWithStyle("Welcome to Kith", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = "headingText"
	intro := wrapped("A private space for a small community, run by its members' computers. Choose your name, then create a community or join one.")
	name := widget.NewForm(widget.NewFormItem("Your name", h.you))
	restore := widget.NewButtonWithIcon("Restore a backup…", theme.HistoryIcon(), s.openRestore)
	restore.Importance = widget.LowImportance
	h.restore = container.NewHBox(widget.NewLabel("Moving from another computer?"), restore)
	h.restore.Hide()
	h.content = container.NewVScroll(container.NewPadded(container.NewVBox(
		container.NewHBox(h.back),
		title, intro, name,
		container.NewGridWithColumns(2, createCard, joinCard),
		h.restore,
	)))
	return h
}

const (
	historyFull     = "New members read everything"
	historyFromJoin = "Only from their join on"
)

func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

func (h *Welcome) focus() {
	if strings.TrimSpace(h.you.Text) == "" {
		h.you.SetText(h.s.settings.DisplayName)
	}
}

func (h *Welcome) firstEntry() fyne.Focusable {
	if strings.TrimSpace(h.you.Text) == "" {
		return h.you
	}
	return h.name
}

func members(n int) string {
	if n == 1 {
		return "1 member"
	}
	return fmt.Sprintf("%d members", n)
}

func parseCap(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 2 || n > community.MaxMembers {
		return 0, fmt.Errorf("a whole number from 2 to %d, or empty for no cap", community.MaxMembers)
	}
	return n, nil
}

// yourName is the name typed, remembered as the default for next time; without one, status
// asks for it.
func (h *Welcome) yourName(status *widget.Label) (string, bool) {
	name := strings.TrimSpace(h.you.Text)
	if name == "" {
		status.SetText("Choose your name first: it is how members will see you.")
		h.s.win.Canvas().Focus(h.you)
		return "", false
	}
	if name != h.s.settings.DisplayName {
		h.s.settings.DisplayName = name
		next, file := h.s.settings, h.s.opts.SettingsFile
		go func() { _ = next.Save(file) }() // only a default for next time: losing it loses nothing
	}
	return name, true
}

// submit creates the community from the form, in the background.
func (h *Welcome) submit() {
	maxMembers, err := parseCap(h.cap.Text)
	if err != nil {
		h.createStatus.SetText("Member cap: " + err.Error() + ".")
		return
	}
	you, ok := h.yourName(h.createStatus)
	if !ok {
		return
	}
	if h.s.settings.PublicDHT == nil && strings.TrimSpace(h.name.Text) != "" {
		h.s.askPublicDHT(h.submit)
		return
	}
	if strings.TrimSpace(h.name.Text) == "" {
		h.createStatus.SetText("Give the community a name first.")
		h.s.win.Canvas().Focus(h.name)
		return
	}
	p := app.CreateParams{
		Name: h.name.Text, About: h.about.Text, MaxMembers: maxMembers,
		DisplayName: you, History: community.HistoryFull,
	}
	if h.history.Selected == historyFromJoin {
		p.History = community.HistoryFromJoin
	}
	h.create.Disable()
	h.createStatus.SetText("Creating…")
	go func() {
		created, err := h.s.svc.CreateCommunity(h.s.ctx, p)
		h.s.do(func() {
			h.create.Enable()
			if err != nil {
				h.createStatus.SetText("Could not create the community: " + sentence(err))
				return
			}
			h.createStatus.SetText("")
			h.name.SetText("")
			h.about.SetText("")
			h.cap.SetText("")
			h.s.showCommunities(created.ID)
			h.s.showSticky(h.s.recoveryWords(created))
		})
	}()
}

// recoveryWords is the dialog that shows the recovery words, once, and asks the owner to back
// up this computer's key too (the words move ownership; only a backup keeps the identity).
func (s *Shell) recoveryWords(c app.Created) dialog.Dialog {
	words := strings.Fields(c.RecoveryWords)
	grid := container.NewGridWithColumns(3)
	for i, w := range words {
		grid.Add(widget.NewLabel(fmt.Sprintf("%2d. %s", i+1, w)))
	}
	intro := wrapped("These words can move ownership of " + strconv.Quote(c.Name) +
		" to a new key if this computer is lost or its key is stolen. Write them down on paper and keep them safe. Kith shows them only now and does not keep them.")
	box := container.NewVBox(intro, grid)
	d := dialog.NewCustomWithoutButtons("Write down your recovery words", box, s.win)
	done := widget.NewButton("I have written them down", d.Hide)
	buttons := []fyne.CanvasObject{done}
	if s.opts.Backup != nil {
		box.Add(wrapped("Back up this computer's key too: with a backup, a new computer is you again, in every community, with your invites. " +
			"You can do it later with File > Back up…"))
		backup := widget.NewButton("Written down: back up now…", func() {
			d.Hide()
			s.openBackup()
		})
		backup.Importance = widget.HighImportance
		buttons = append(buttons, backup)
		s.backupNow = backup
	} else {
		done.Importance = widget.HighImportance
	}
	d.SetButtons(buttons)
	d.Resize(fyne.NewSize(600, 460))
	return d
}

// checkInvite reads the pasted text as it changes: no network, no disk.
func (h *Welcome) checkInvite() {
	h.inv = nil
	h.join.Disable()
	h.joinStatus.SetText("")
	text := strings.TrimSpace(h.paste.Text)
	if text == "" {
		h.check.SetText("")
		h.showQuestions(nil)
		return
	}
	inv, err := invite.Parse(text)
	if err != nil {
		h.check.Importance = widget.DangerImportance
		h.check.SetText(sentence(err))
		return
	}
	now := time.Now()
	switch {
	case !inv.Expires.IsZero() && now.After(inv.Expires.Add(invite.ClockSkew)):
		h.check.Importance = widget.DangerImportance
		h.check.SetText(fmt.Sprintf("This invite to %q expired on %s: ask whoever sent it for a new one.", inv.CommunityName, inv.Expires.Local().Format("2 January 2006 at 15:04")))
		return
	case !inv.NotBefore.IsZero() && now.Before(inv.NotBefore.Add(-invite.ClockSkew)):
		h.check.Importance = widget.DangerImportance
		h.check.SetText(fmt.Sprintf("This invite to %q is valid from %s on: try again then.", inv.CommunityName, inv.NotBefore.Local().Format("2 January 2006 at 15:04")))
		return
	}
	if c := h.s.view.summary(community.Hash(inv.Community)); c != nil && c.Role != community.RoleNone { // (one who left may join again)
		h.check.Importance = widget.MediumImportance
		h.check.SetText(fmt.Sprintf("You are in %q already: it is in your communities.", inv.CommunityName))
		h.showQuestions(nil)
		return
	}
	h.inv = inv
	h.check.Importance = widget.SuccessImportance
	h.check.SetText("✓ " + describeInvite(inv, now))
	h.showQuestions(inv)
	if !h.joining {
		h.join.Enable()
		if inv.Approval {
			h.join.SetText("Ask to join")
		} else {
			h.join.SetText("Join")
		}
	}
}

// showQuestions shows an entry under each question of an invite that needs approval (kept as
// typed while the same questions show), or nothing.
func (h *Welcome) showQuestions(inv *invite.Invite) {
	if inv == nil || !inv.Approval || len(inv.Questions) == 0 {
		h.asked.Objects, h.answers = nil, nil
		h.asked.Hide()
		return
	}
	if len(h.answers) == len(inv.Questions) && len(h.asked.Objects) == 2*len(inv.Questions) {
		same := true
		for i, q := range inv.Questions {
			same = same && h.asked.Objects[2*i].(*widget.Label).Text == community.Printable(q, false)
		}
		if same {
			h.asked.Show()
			return
		}
	}
	h.asked.Objects, h.answers = nil, nil
	for _, q := range inv.Questions {
		l := widget.NewLabelWithStyle(community.Printable(q, false), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		l.Wrapping = fyne.TextWrapWord
		a := widget.NewMultiLineEntry()
		a.Wrapping = fyne.TextWrapWord
		a.SetMinRowsVisible(2)
		a.SetPlaceHolder("Your answer")
		h.asked.Add(l)
		h.asked.Add(a)
		h.answers = append(h.answers, a)
	}
	h.asked.Show()
	h.asked.Refresh()
}

// approvalText is what the welcome screen says while a request waits for approval.
func approvalText(name string, since time.Time) string {
	when := ""
	if !since.IsZero() {
		when = " on " + since.Local().Format("2 January at 15:04")
	}
	return fmt.Sprintf("Your request to join %q was delivered%s. It waits for the owner or a moderator: once they approve it, "+
		"Kith lets you in by itself the next time it reaches a member. You can close this window; keep Kith running. "+
		"(Stop waiting ends it here; the request stays with the owner until they answer or the invite ends.)", name, when)
}

// describeInvite says what an invite grants, in one line.
func describeInvite(inv *invite.Invite, now time.Time) string {
	parts := []string{fmt.Sprintf("An invite to %q as a %s", inv.CommunityName, inv.Role)}
	if inv.MaxUses > 0 {
		parts = append(parts, fmt.Sprintf("for up to %d %s", inv.MaxUses, plural(int(inv.MaxUses), "person", "people")))
	}
	if !inv.Expires.IsZero() {
		parts = append(parts, "valid for "+until(inv.Expires.Sub(now)))
	}
	text := strings.Join(parts, ", ") + "."
	if inv.Approval {
		text += " The owner or a moderator approves each request"
		if len(inv.Questions) > 0 {
			text += ": answer the questions below"
		}
		text += "."
	}
	return text
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// until says a duration the way people do: "3 days", "5 hours", "12 minutes".
func until(d time.Duration) string {
	// Rounded, not cut: an invite made for 7 days reads "7 days" a second later, not "6 days".
	switch {
	case d >= 36*time.Hour:
		return fmt.Sprintf("%d days", int(math.Round(d.Hours()/24)))
	case d >= 90*time.Minute:
		return fmt.Sprintf("%d hours", int(math.Round(d.Hours())))
	case d >= 90*time.Second:
		return fmt.Sprintf("%d minutes", int(math.Round(d.Minutes())))
	}
	return "a minute or so"
}

// startJoin joins with the pasted invite in the background; progress comes through the bridge.
// The join is kept and tried again until a member admits this install, the invite's rules
// refuse it, it expires, or the person cancels: members come online at any hour. The first
// join (or create) asks, once, whether to use the public network to find members who moved.
func (h *Welcome) startJoin() {
	inv := h.inv
	if inv == nil || h.joining {
		return
	}
	you, ok := h.yourName(h.joinStatus)
	if !ok {
		return
	}
	var answers []string
	for _, a := range h.answers {
		answers = append(answers, a.Text)
	}
	if _, err := app.CleanAnswers(&inv.Capability, answers); err != nil {
		h.joinStatus.SetText(sentence(err))
		return
	}
	if h.s.settings.PublicDHT == nil {
		h.s.askPublicDHT(h.startJoin)
		return
	}
	ctx, cancel := context.WithCancel(h.s.ctx)
	id := community.Hash(inv.Community)
	h.joining, h.joinTarget, h.joinName = true, id, inv.CommunityName
	h.stopJoin = func() {
		cancel()
		go h.s.net.CancelJoin(id)
	}
	h.join.Disable()
	h.paste.Disable()
	for _, a := range h.answers {
		a.Disable()
	}
	h.cancel.SetText("Cancel join")
	h.cancel.Show()
	h.joinStatus.SetText("")
	h.setStage(fmt.Sprintf("Looking for a member of %q…", inv.CommunityName), -1)
	go func() {
		got, err := h.s.net.Join(ctx, inv, you, answers...)
		cancelled := ctx.Err() != nil
		cancel()
		// Admitted is what counts: a sync cut short goes on in the background, and an invite
		// to a community this install is in already opens it.
		member := h.s.isMember(id)
		h.s.do(func() {
			if h.joinTarget != id {
				return // another join took over the screen
			}
			switch {
			case member || err == nil:
				// JoinEnded opened the community when it ended a join; an invite to a community
				// this install is in already ends here, with no such event.
				onWelcome := h.s.win.Content() == h.content
				h.finish()
				h.paste.SetText("")
				if onWelcome {
					h.s.showCommunities(got)
				}
			case cancelled:
				h.finish()
				h.joinStatus.SetText("Join cancelled.")
			case errors.Is(err, app.ErrAwaitingApproval): // the join goes on: JoinEnded ends it
				h.waitForApproval(time.Now())
			default: // refused by the invite's rules, expired: JoinEnded says it too
				h.finish()
				h.joinStatus.SetText(sentence(err))
			}
		})
	}()
}

// resume shows a join that was under way when Kith last stopped: it goes on in the background
// (the peer resumed it, when online); the screen says so and offers to cancel it. more counts the
// other joins under way.
func (h *Welcome) resume(j app.PendingJoin, more int, online bool) {
	if h.joining {
		return
	}
	id := j.Community
	h.joining, h.joinTarget, h.joinName = true, id, j.Name
	h.stopJoin = func() {
		go h.s.net.CancelJoin(id)
		h.finish()
		h.joinStatus.SetText("Join cancelled.")
	}
	h.join.Disable()
	h.paste.Disable()
	h.cancel.Show()
	status := fmt.Sprintf("Joining %q (since %s).", j.Name, j.Since.Local().Format("2 January at 15:04"))
	if more > 0 {
		status += fmt.Sprintf(" %d more %s waiting too.", more, plural(more, "join is", "joins are"))
	}
	h.joinStatus.SetText(status)
	switch {
	case !j.Requested.IsZero():
		h.waitForApproval(j.Requested)
		if !online {
			h.setStage(approvalText(j.Name, j.Requested)+" Kith is offline now: it asks again once it is online.", 0)
		}
	case online:
		h.setStage(waitingText, 0)
	default:
		h.setStage("Kith is offline: the join goes on once it is online again.", 0)
	}
}

// ended follows the end of a join (JoinEnded): a refused or expired join that this screen
// shows says why; an admitted one clears the screen (the shell opens the community).
func (h *Welcome) ended(e app.JoinEnded) {
	if !h.joining || h.joinTarget != e.Community {
		return
	}
	h.finish()
	switch {
	case e.Err == nil:
		h.paste.SetText("")
	case errors.Is(e.Err, app.ErrJoinCancelled):
		h.joinStatus.SetText("Join cancelled.")
	default:
		h.joinStatus.SetText(sentence(e.Err))
	}
}

// waitForApproval shows a join whose request waits for approval (delivered at since, when it
// was not known yet).
func (h *Welcome) waitForApproval(since time.Time) {
	if h.requested.IsZero() {
		h.requested = since
	}
	h.cancel.SetText("Stop waiting")
	h.setStage(approvalText(h.joinName, h.requested), 0)
}

// finish puts the join card back to its resting state.
func (h *Welcome) finish() {
	h.joining = false
	h.requested = time.Time{}
	h.stopJoin = nil
	h.cancel.Hide()
	h.paste.Enable()
	for _, a := range h.answers {
		a.Enable()
	}
	h.setStage("", 0)
	h.checkInvite()
}

// isMember reports whether this install is an active member of community id (a disk read).
func (s *Shell) isMember(id community.Hash) bool {
	ms, err := s.svc.Members(id)
	if err != nil {
		return false
	}
	for _, m := range ms {
		if m.You {
			return m.Active
		}
	}
	return false
}

// setStage shows a join stage: frac < 0 spins, 0 shows the text alone (a join that waits: no
// animation for hours), else fills the bar.
func (h *Welcome) setStage(text string, frac float64) {
	h.stage.SetText(text)
	switch {
	case frac < 0:
		h.bar.Hide()
		h.spinner.Show()
		h.spinner.Start()
	case frac == 0:
		h.bar.Hide()
		h.spinner.Stop()
		h.spinner.Hide()
	default:
		h.spinner.Stop()
		h.spinner.Hide()
		h.bar.Show()
		h.bar.SetValue(frac)
	}
}

// progress shows the stages of the join under way (DESIGN section 1).
func (h *Welcome) progress(ev app.Event) {
	if !h.joining {
		return
	}
	switch e := ev.(type) {
	case app.JoinProgress:
		if e.Community != h.joinTarget {
			return
		}
		switch e.Stage {
		case app.JoinFinding:
			if h.stage.Text == waitingText || strings.HasPrefix(h.stage.Text, "Your request to join") {
				return // trying again: the sentence stays until something changes
			}
			text := fmt.Sprintf("Looking for a member of %q…", h.joinName)
			if e.Of > 0 {
				text = fmt.Sprintf("Looking for a member of %q: trying the %s the invite names…", h.joinName, plural(e.Of, "member", fmt.Sprintf("%d members", e.Of)))
			}
			h.setStage(text, -1)
		case app.JoinSearching:
			if h.stage.Text == waitingText || strings.HasPrefix(h.stage.Text, "Your request to join") {
				return
			}
			where := "on this network"
			if e.Via == app.ViaRendezvous {
				where = "on this network and through the rendezvous"
			}
			h.setStage("No answer yet. Looking for a member "+where+"…", -1)
		case app.JoinVerifying:
			if strings.HasPrefix(h.stage.Text, "Your request to join") {
				return // asking whether it was approved: the request's sentence stays
			}
			how := ""
			if ok, path := h.s.net.PathTo(e.Peer); ok && path != "" {
				how = " (" + path + ")"
			}
			h.setStage("Found a member"+how+". Verifying the invite…", -1)
		case app.JoinSyncing:
			h.setStage("Admitted. Syncing history…", -1)
		case app.JoinWaiting:
			h.setStage(waitingText, 0)
		case app.JoinApproval: // online again, if it was not: the sentence says only that it waits
			h.waitForApproval(time.Now())
		}
	case app.SyncProgress:
		if e.Community != h.joinTarget || e.Finished || e.Total == 0 {
			return
		}
		h.setStage(fmt.Sprintf("Syncing history %d/%d", e.Done, e.Total), float64(e.Done)/float64(e.Total))
	}
}
