package ui

import (
	"context"
	"errors"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// Moderation in the desktop app: a member's actions from the members panel (make moderator or
// member, remove), a message's menu (copy, delete) and ownership recovery from the main menu.
// Every act asks first; the service call runs off the Fyne thread and its outcome shows in the
// window.

// act runs a service call in the background and reports its outcome on the Fyne thread.
func (s *Shell) act(call func(ctx context.Context) error, done func(err error)) {
	s.actFor(time.Minute, call, done)
}

// actFor is act with another bound on the call: sending or fetching a large file takes longer
// than a minute on a slow link.
func (s *Shell) actFor(d time.Duration, call func(ctx context.Context) error, done func(err error)) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		err := call(ctx)
		s.do(func() { done(err) })
	}()
}

// fileTime bounds sending or fetching files from the desktop.
const fileTime = 2 * time.Hour

// memberActions are what this install may do to a member, as (button text, confirmation title,
// confirmation text, confirm button, call).
type memberAction struct {
	label, title, text, confirm string
	extra                       fyne.CanvasObject // shown under the text of the confirmation; nil: none
	call                        func(ctx context.Context) error
	done                        string
	direct                      func() // opens its own dialog instead of asking first (kudos)
}

func (v *CommunityView) memberActions(m app.MemberView) []memberAction {
	mine := v.myRole()
	svc, id, name := v.s.svc, v.cur, nameOr(m.Name)
	if m.You && m.Active && mine != community.RoleOwner {
		title := "this community"
		if c := v.summary(id); c != nil {
			title = c.Name
		}
		return []memberAction{{
			label: "Leave " + title, title: "Leave " + title + "?", confirm: "Leave",
			text: "You will no longer receive or read what is written there. What you already have stays on this device. To come back you need a new invite.",
			call: func(ctx context.Context) error { return svc.Leave(ctx, id) },
			done: "You left " + title + ".",
		}}
	}
	if m.You || !m.Active || mine < community.RoleModerator {
		return nil
	}
	var out []memberAction
	if mine == community.RoleOwner {
		switch m.Role {
		case community.RoleMember:
			out = append(out, memberAction{
				label: "Make moderator", title: "Make " + name + " a moderator?", confirm: "Make moderator",
				text: name + " will be able to invite people, remove members, delete members' messages and revoke invites.",
				call: func(ctx context.Context) error { return svc.SetRole(ctx, id, m.Key, community.RoleModerator) },
				done: name + " is a moderator.",
			})
		case community.RoleModerator:
			out = append(out, memberAction{
				label: "Make member", title: "Make " + name + " a member again?", confirm: "Make member",
				text: "What " + name + " did as a moderator after the last of its events this device has stays undone on every device.",
				call: func(ctx context.Context) error { return svc.SetRole(ctx, id, m.Key, community.RoleMember) },
				done: name + " is a member again.",
			})
		}
	}
	if mine >= community.RoleModerator && m.Active && !m.You {
		out = append(out, memberAction{label: "Give kudos…", direct: func() { v.openKudos(m) }})
	}
	if mine == community.RoleOwner && m.Active && !m.You {
		out = append(out, memberAction{label: "Give a badge…", direct: func() { v.openBadge(m) }})
	}
	if mine >= community.RoleModerator && m.Role < mine && m.OpenInvites > 0 {
		n := m.OpenInvites
		out = append(out, memberAction{
			label: fmt.Sprintf("Revoke their open invites (%d)", n), title: "Revoke the invites " + name + " issued?", confirm: "Revoke",
			text: fmt.Sprintf("Nobody will be able to join with the %s %s issued and that are still open. %s stays a member.", plural(n, "invite", fmt.Sprintf("%d invites", n)), name, name),
			call: func(ctx context.Context) error { _, err := svc.RevokeBy(ctx, id, m.Key); return err },
			done: "Their open invites are revoked.",
		})
	}
	if m.Role < mine {
		revoke := v.revokeCheck(m)
		var extra fyne.CanvasObject
		if revoke != nil {
			extra = revoke
		}
		out = append(out, memberAction{
			label: "Remove from the community", title: "Remove " + name + "?", confirm: "Remove",
			text: name + " will be disconnected and refused by every member, and will not be able to read anything written from now on. What " +
				name + " already read stays on their device. This cannot be undone for this device of theirs.",
			extra: extra,
			call: func(ctx context.Context) error {
				return svc.RemoveMember(ctx, id, m.Key, app.RemoveOptions{RevokeInvite: revoke != nil && revoke.Checked})
			},
			done: name + " was removed.",
		})
	}
	return out
}

// revokeCheck is the removal's choice to revoke the invite the member joined with, saying how
// many more people it could let in; nil when there is nothing to revoke (the owner's, one used
// up or revoked already).
func (v *CommunityView) revokeCheck(m app.MemberView) *widget.Check {
	use, ok, err := v.s.svc.InviteOf(v.cur, m.Key)
	if err != nil || !ok {
		return nil
	}
	var left string
	switch n := use.UsesLeft(); {
	case n == 0:
		return nil
	case n < 0:
		left = "it has no limit on its uses"
	case n == 1:
		left = "it can let 1 more person in"
	default:
		left = fmt.Sprintf("it can let %d more people in", n)
	}
	return widget.NewCheck("Also revoke the invite they joined with ("+left+")", nil)
}

// openMember shows a member with the actions this install may take on it.
func (v *CommunityView) openMember(m app.MemberView) {
	role := m.Role.String()
	if !m.Active {
		role = "no longer a member"
	}
	info := widget.NewLabel(fmt.Sprintf("%s · %s", nameOr(m.Name), role))
	key := widget.NewLabel(fmt.Sprintf("id %x", m.Key))
	key.Wrapping = fyne.TextWrapBreak
	key.SizeName = theme.SizeNameCaptionText
	key.Importance = widget.LowImportance
	key.Selectable = true
	said := wrapped("")
	box := container.NewVBox(info, key)
	if m.About != "" {
		box.Add(wrapped(m.About))
	}
	if p := provenance(m); p != "" {
		pl := wrapped(p)
		pl.Importance = widget.LowImportance
		box.Add(pl)
	}
	if m.You && m.Active {
		box.Add(widget.NewButton("Edit your profile here…", func() { v.openProfile() }))
	}
	fixed := len(box.Objects)
	var d dialog.Dialog
	for _, a := range v.memberActions(m) {
		b := widget.NewButton(a.label, nil)
		if a.confirm == "Remove" || a.confirm == "Leave" {
			b.Importance = widget.DangerImportance
		}
		b.OnTapped = func() {
			if a.direct != nil {
				a.direct()
				return
			}
			v.askWith(a.title, a.confirm, a.text, a.extra, func() {
				said.SetText("Working…")
				b.Disable()
				v.s.act(a.call, func(err error) {
					if err != nil {
						said.SetText(sentence(err))
						b.Enable()
						return
					}
					said.SetText(a.done)
				})
			})
		}
		box.Add(b)
	}
	if len(box.Objects) == fixed {
		switch {
		case m.You && m.Role == community.RoleOwner:
			box.Add(wrapped("This is you, the owner. Ownership moves only with the recovery words (Recover ownership… in the menu, on another member's device)."))
		case m.You:
			box.Add(wrapped("This is you."))
		case m.Active && v.myRole() >= community.RoleModerator:
			box.Add(wrapped("Only the owner acts on moderators."))
		case m.Active:
			box.Add(wrapped("The owner and moderators can make members moderators or remove them here."))
		default:
			// Removed, or left: nothing to act on; what they wrote stays in the channels.
			box.Add(wrapped("No longer a member: what they wrote before stays in the channels. To come back they need a new invite."))
		}
	}
	box.Add(said)
	d = dialog.NewCustom(nameOr(m.Name), "Close", box, v.s.win)
	d.Resize(fyne.NewSize(440, 0))
	v.memberDialog = d
	v.s.show(d)
}

// ask shows a confirmation; yes runs on the Fyne thread if the person confirms.
func (v *CommunityView) ask(title, confirm, text string, yes func()) {
	v.askWith(title, confirm, text, nil, yes)
}

// askWith is ask with more under the text (a choice that goes with the act); extra may be nil.
func (v *CommunityView) askWith(title, confirm, text string, extra fyne.CanvasObject, yes func()) {
	var content fyne.CanvasObject = wrapped(text)
	if extra != nil {
		content = container.NewVBox(content, extra)
	}
	c := dialog.NewCustomConfirm(title, confirm, "Cancel", content, func(ok bool) {
		v.confirm = nil
		if ok {
			yes()
		}
	}, v.s.win)
	v.confirm = c
	v.s.show(c)
}

// canDelete reports whether this install may delete a message (its own, or a member's for a
// moderator or the owner).
func (v *CommunityView) canDelete(m app.Message) bool {
	mine := v.myRole()
	return m.Mine || mine >= community.RoleModerator && mine > m.Role
}

// messageMenu is a message's menu: copy its text, delete it when allowed.
func (l *messageList) messageMenu(r msgRow) *fyne.Menu {
	v := l.v
	var items []*fyne.MenuItem
	if !r.pending && r.failed == "" {
		items = append(items, l.conversationItems(r.m)...)
	}
	items = append(items, fyne.NewMenuItem("Copy text", func() {
		v.s.win.Clipboard().SetContent(r.m.Text)
	}))
	if !r.pending && r.failed == "" && v.canDelete(r.m) {
		items = append(items, fyne.NewMenuItem("Delete message…", func() { l.askDelete(r.m) }))
	}
	return fyne.NewMenu("", items...)
}

// showMenu pops a message's menu up where it was asked for.
func (l *messageList) showMenu(r msgRow, at fyne.Position, to fyne.CanvasObject) {
	widget.ShowPopUpMenuAtRelativePosition(l.messageMenu(r), l.v.s.win.Canvas(), at, to)
}

// askDelete deletes a message after a confirmation.
func (l *messageList) askDelete(m app.Message) {
	v := l.v
	whose := "your message"
	if !m.Mine {
		whose = nameOr(m.Name) + "'s message"
	}
	v.ask("Delete "+whose+"?", "Delete", "Its text goes from every member's device as they receive the deletion; a note that a message was deleted stays in the log.", func() {
		comm := l.comm
		v.s.act(func(ctx context.Context) error { return v.s.svc.DeleteMessage(ctx, comm, m.ID) }, func(err error) {
			if err != nil {
				v.s.show(dialog.NewInformation("The message was not deleted", sentence(err), v.s.win))
				return
			}
			l.remove(m.ID)
		})
	})
}

// remove takes a deleted message out of the list.
func (l *messageList) remove(id community.Hash) {
	i := l.index(id)
	if i < 0 {
		return
	}
	l.rows = append(l.rows[:i], l.rows[i+1:]...)
	l.regroup(max(i-1, 0))
	l.settle(max(i-1, 0))
	l.updateEmpty()
}

// openRecover is the ownership recovery: the recovery words, and where the old owner key stops
// counting (none of its acts, some, or all), then the new words to write down.
func (v *CommunityView) openRecover() {
	s, id := v.s, v.cur
	if id == (community.Hash{}) {
		return
	}
	go func() { // the owner key's acts are read from the store: off the Fyne thread
		acts, err := s.svc.OwnerActs(id)
		latest, lerr := s.svc.OwnerLatest(id)
		s.do(func() {
			if err != nil || lerr != nil {
				s.show(dialog.NewInformation("Cannot recover ownership", sentence(errors.Join(err, lerr)), s.win))
				return
			}
			v.showRecover(id, acts, latest)
		})
	}()
}

// showRecover is the recovery dialog, once the owner key's acts are read.
func (v *CommunityView) showRecover(id community.Hash, acts []app.OwnerAct, latest uint64) {
	s := v.s
	words := widget.NewMultiLineEntry()
	words.SetPlaceHolder("the 18 words you wrote down when the community was created")
	words.Wrapping = fyne.TextWrapWord
	options := []string{"Undo everything the old owner key did (it was stolen before it acted)"}
	cutoffs := []uint64{0}
	for _, a := range acts {
		what := a.Kind.String()
		if a.Target != "" {
			what += " " + a.Target
		}
		options = append(options, fmt.Sprintf("Keep up to #%d: %s, %s (and its messages before it)", a.Seq, what, a.Time.Local().Format("Jan 2 15:04")))
		cutoffs = append(cutoffs, a.Seq)
	}
	options = append(options, "Keep everything it did and wrote (the device was lost, not stolen)")
	cutoffs = append(cutoffs, latest)
	keep := widget.NewSelect(options, nil)
	keep.SetSelectedIndex(len(options) - 1)
	said := wrapped("Ownership moves to this device's key. The old owner key's acts after the point you choose are undone on every device (its removals too), and the key rotates away from it.")
	var d *dialog.CustomDialog
	recover := widget.NewButton("Recover ownership", nil)
	recover.Importance = widget.DangerImportance
	recover.OnTapped = func() {
		text, cutoff := words.Text, cutoffs[keep.SelectedIndex()]
		recover.Disable()
		said.SetText("Recovering…")
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			got, err := s.svc.Recover(ctx, id, text, cutoff)
			s.do(func() {
				if err != nil && got.RecoveryWords == "" {
					said.SetText(sentence(err))
					recover.Enable()
					return
				}
				d.Hide()
				newWords := widget.NewLabel(got.RecoveryWords)
				newWords.Wrapping = fyne.TextWrapWord
				newWords.TextStyle.Monospace = true
				note := "This device owns the community now. Write down the NEW recovery words: the old ones are spent."
				if err != nil {
					note += " " + sentence(err)
				}
				s.show(dialog.NewCustom("New recovery words", "I wrote them down", container.NewVBox(wrapped(note), newWords), s.win))
			})
		}()
	}
	box := container.NewVBox(wrapped("Recovery words"), words, wrapped("The old owner key's acts"), keep, said, recover)
	d = dialog.NewCustom("Recover ownership", "Cancel", box, s.win)
	d.Resize(fyne.NewSize(560, 420))
	v.recoverDialog = d
	s.show(d)
}

// provenance says who admitted a member, with which invite, and when.
func provenance(m app.MemberView) string {
	when := ""
	if !m.JoinedAt.IsZero() {
		when = " on " + m.JoinedAt.Local().Format("2 January 2006")
	}
	if len(m.InvitedBy) == 0 {
		if m.Role == community.RoleOwner && when != "" {
			return "Founded the community" + when + "."
		}
		return ""
	}
	return fmt.Sprintf("Admitted by %s%s, with invite %s.", nameOr(m.InvitedByName), when, m.Invite.String()[:8])
}
