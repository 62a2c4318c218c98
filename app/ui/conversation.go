package ui

import (
	"context"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// Conversation in the desktop app: a message's menu replies, reacts, edits and pins; a
// channel's pinned messages open from the pin button beside the title.

// quickEmoji are the reactions the menu offers first.
var quickEmoji = []string{"👍", "❤️", "😂", "🎉", "🔥", "👀", "🙏"}

// conversationItems are a stored message's menu items for conversation: reply, react (a
// reaction this install put there already is taken back), who reacted, edit (its own), pin or
// unpin (the owner and moderators).
func (l *messageList) conversationItems(m app.Message) []*fyne.MenuItem {
	v := l.v
	if v.postingNote() != "" {
		return nil // removed, archived, announcements for a member: nothing to answer with
	}
	var items []*fyne.MenuItem
	if p := m.Poll; p != nil {
		if !p.Closed && !p.Voted {
			items = append(items, fyne.NewMenuItem("Vote…", func() { v.openVote(m) }))
		}
		if v.myRole() >= community.RoleModerator && (!p.Closed || (p.Results != nil && !p.Results.Published && !p.ResultsNever)) {
			items = append(items, fyne.NewMenuItem("Close the poll and show the results", func() { v.closePoll(m) }))
		}
	}
	if m.Feedback != nil {
		items = append(items, v.feedbackItems(m)...)
	}
	if m.Offer != nil {
		items = append(items, v.offerItems(m)...)
	}
	items = append(items, v.fileItems(m)...)
	items = append(items, fyne.NewMenuItem("Reply", func() { v.setReply(m) }))
	mine := map[string]bool{}
	for _, r := range m.Reactions {
		mine[r.Emoji] = r.Mine
	}
	react := fyne.NewMenuItem("React", nil)
	var sub []*fyne.MenuItem
	for _, e := range v.emojiChoices() {
		label := e
		if mine[e] {
			label = e + "  (take back)"
		}
		sub = append(sub, fyne.NewMenuItem(label, func() { v.react(m, e, mine[e]) }))
	}
	sub = append(sub, fyne.NewMenuItemSeparator(), fyne.NewMenuItem("Another emoji…", func() { v.askEmoji(m) }))
	react.ChildMenu = fyne.NewMenu("", sub...)
	items = append(items, react)
	if len(m.Reactions) > 0 {
		items = append(items, fyne.NewMenuItem("Who reacted…", func() { v.showReactions(m) }))
	}
	plain := m.Poll == nil && m.Feedback == nil && m.Offer == nil
	if !m.Mine && plain && !m.Promotion {
		items = append(items, fyne.NewMenuItem("Helpful", func() { v.markHelpful(m) }))
	}
	if m.Mine && plain {
		items = append(items, fyne.NewMenuItem("Edit…", func() { v.openEdit(m) }))
		if !m.Promotion {
			items = append(items, fyne.NewMenuItem("OK to quote…", func() { v.openQuote(m) }))
		}
	}
	if v.myRole() >= community.RoleModerator {
		label := "Pin to the channel"
		if m.Pinned {
			label = "Unpin"
		}
		items = append(items, fyne.NewMenuItem(label, func() { v.pin(m, !m.Pinned) }))
	}
	return items
}

// postingNote is why this install cannot post in the channel shown ("" when it can).
func (v *CommunityView) postingNote() string {
	ch, ok := v.channel()
	if !ok {
		return ""
	}
	return v.s.svc.PostingNote(v.cur, ch.ID)
}

// maxRecentEmoji bounds the reactions remembered as recent.
const maxRecentEmoji = 6

// emojiChoices are the reactions the menu offers: the person's recent ones, then the common ones.
func (v *CommunityView) emojiChoices() []string {
	out := slices.Clone(v.s.settings.RecentEmoji)
	for _, e := range quickEmoji {
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out[:min(len(out), 10)]
}

// react puts an emoji on a message or takes it back; the row updates from MessageUpdated.
func (v *CommunityView) react(m app.Message, emoji string, remove bool) {
	id := v.cur
	v.s.act(func(ctx context.Context) error {
		_, err := v.s.svc.React(ctx, id, m.ID, emoji, remove)
		return err
	}, func(err error) {
		if err != nil {
			v.s.show(dialog.NewInformation("Reaction not sent", sentence(err), v.s.win))
			return
		}
		if !remove {
			r := slices.DeleteFunc(slices.Clone(v.s.settings.RecentEmoji), func(e string) bool { return e == emoji })
			v.s.settings.RecentEmoji = append([]string{emoji}, r...)[:min(len(r)+1, maxRecentEmoji)]
			v.s.saveQuietly()
		}
	})
}

// askEmoji reacts with any emoji the person types (or picks with the system's emoji picker).
func (v *CommunityView) askEmoji(m app.Message) {
	e := widget.NewEntry()
	e.SetPlaceHolder("an emoji, e.g. 🫶")
	status := wrapped("")
	var d dialog.Dialog
	send := func() {
		emoji, err := app.CleanEmoji(e.Text)
		if err != nil {
			status.SetText(sentence(err))
			return
		}
		d.Hide()
		v.react(m, emoji, false)
	}
	e.OnSubmitted = func(string) { send() }
	d = dialog.NewCustomConfirm("React with", "React", "Cancel", container.NewVBox(e, status), func(ok bool) {
		if ok {
			send()
		}
	}, v.s.win)
	v.s.show(d)
	v.s.win.Canvas().Focus(e)
}

// pin pins or unpins a message.
func (v *CommunityView) pin(m app.Message, pinned bool) {
	id := v.cur
	v.s.act(func(ctx context.Context) error {
		_, err := v.s.svc.Pin(ctx, id, m.ID, pinned)
		return err
	}, func(err error) {
		if err != nil {
			v.s.show(dialog.NewInformation("Not pinned", sentence(err), v.s.win))
		}
	})
}

// showReactions lists who put each emoji on a message.
func (v *CommunityView) showReactions(m app.Message) {
	var lines []string
	for _, r := range m.Reactions {
		lines = append(lines, r.Emoji+"  "+strings.Join(r.Who, ", "))
	}
	v.s.show(dialog.NewCustom("Reactions", "Close", wrapped(strings.Join(lines, "\n")), v.s.win))
}

// openEdit changes the text of one of this install's messages.
func (v *CommunityView) openEdit(m app.Message) {
	id := v.cur
	text := widget.NewMultiLineEntry()
	text.SetText(m.Text)
	text.Wrapping = fyne.TextWrapWord
	text.SetMinRowsVisible(4)
	status := wrapped("Everyone sees the new text, marked \"edited\".")
	status.Importance = widget.LowImportance
	var d dialog.Dialog
	save := widget.NewButton("Save", nil)
	save.Importance = widget.HighImportance
	save.OnTapped = func() {
		save.Disable()
		t := text.Text
		v.s.act(func(ctx context.Context) error {
			_, err := v.s.svc.EditMessage(ctx, id, m.ID, t)
			return err
		}, func(err error) {
			if err != nil {
				status.SetText(sentence(err))
				status.Importance = widget.DangerImportance
				status.Refresh()
				save.Enable()
				return
			}
			d.Hide()
		})
	}
	d = dialog.NewCustom("Edit your message", "Cancel", container.NewVBox(text, status, save), v.s.win)
	d.Resize(fyne.NewSize(520, 0))
	v.editDialog = d
	v.s.show(d)
	v.s.win.Canvas().Focus(text)
}

// openPins lists the channel's pinned messages; a tap on one goes to it when it is loaded.
func (v *CommunityView) openPins() {
	id, ch := v.cur, v.curCh
	go func() {
		pins, err := v.s.svc.Pins(id, ch)
		v.s.do(func() {
			if err != nil {
				v.s.show(dialog.NewInformation("Pinned messages", sentence(err), v.s.win))
				return
			}
			box := container.NewVBox()
			if len(pins) == 0 {
				box.Add(wrapped("Nothing is pinned here yet. The owner and moderators pin messages from a message's menu."))
			}
			var d dialog.Dialog
			for _, m := range pins {
				b := widget.NewButton(nameOr(m.Name)+": "+clip(strings.Join(strings.Fields(m.Text), " "), 80), func() {
					if v.msgs.jumpTo(m.ID) {
						d.Hide()
					}
				})
				b.Alignment = widget.ButtonAlignLeading
				box.Add(b)
			}
			d = dialog.NewCustom("Pinned in #"+v.channelName(), "Close", container.NewVScroll(box), v.s.win)
			d.Resize(fyne.NewSize(520, 360))
			v.pinsDialog = d
			v.s.show(d)
		})
	}()
}

// channelName is the name of the channel shown.
func (v *CommunityView) channelName() string {
	if ch, ok := v.channel(); ok {
		return ch.Name
	}
	return ""
}

// openMentions lists the messages that mention this member in the community shown; a tap opens
// the message's channel and goes to it.
func (v *CommunityView) openMentions() {
	id := v.cur
	go func() {
		ms, err := v.s.svc.Mentions(id, 100)
		v.s.do(func() {
			if err != nil {
				v.s.show(dialog.NewInformation("Mentions", sentence(err), v.s.win))
				return
			}
			box := container.NewVBox()
			if len(ms) == 0 {
				box.Add(wrapped("Nobody has mentioned you here yet. A mention is your name after an @, like @" + v.myName() + "."))
			}
			var d dialog.Dialog
			for _, m := range ms {
				where := ""
				for _, c := range v.chans {
					if c.ID == m.Channel {
						where = " in #" + c.Name
					}
				}
				b := widget.NewButton(nameOr(m.Name)+where+": "+clip(strings.Join(strings.Fields(m.Text), " "), 80), func() {
					d.Hide()
					v.goTo(m)
				})
				b.Alignment = widget.ButtonAlignLeading
				box.Add(b)
			}
			d = dialog.NewCustom("Your mentions", "Close", container.NewVScroll(box), v.s.win)
			d.Resize(fyne.NewSize(560, 380))
			v.mentionsDialog = d
			v.s.show(d)
		})
	}()
}

// goTo shows a message: its channel, then the message once its page is read (openChannel
// reads the latest page in the background; applyLatest honours the jump asked for).
func (v *CommunityView) goTo(m app.Message) {
	if m.Channel != v.curCh {
		v.openChannel(m.Channel)
	}
	if !v.msgs.jumpTo(m.ID) {
		v.msgs.jumpAfter = m.ID
	}
}

// completeMention offers, over the composer, the members whose name starts with what follows
// the last @ typed; a tap writes the whole name. The offer takes no focus: typing goes on.
func (v *CommunityView) completeMention(text string) {
	v.mentionItems = nil
	v.suggest.Objects = nil
	defer func() {
		v.suggest.Hidden = len(v.mentionItems) == 0
		v.suggest.Refresh()
	}()
	at := strings.LastIndex(text, "@")
	if at < 0 || (at > 0 && !strings.ContainsAny(text[at-1:at], " \n\t(")) {
		return
	}
	typed := text[at+1:]
	if typed == "" || strings.ContainsAny(typed, " \n\t") || len(typed) > 40 {
		return
	}
	for _, m := range v.members {
		if !m.Active || m.You || m.Name == "" || !strings.HasPrefix(strings.ToLower(m.Name), strings.ToLower(typed)) {
			continue
		}
		name := m.Name
		complete := func() {
			v.composer.SetText(text[:at] + "@" + name + " ")
			v.composer.CursorRow = strings.Count(v.composer.Text, "\n")
			lines := strings.Split(v.composer.Text, "\n")
			v.composer.CursorColumn = len([]rune(lines[len(lines)-1]))
			v.s.win.Canvas().Focus(v.composer)
		}
		v.mentionItems = append(v.mentionItems, fyne.NewMenuItem("@"+name, complete))
		b := widget.NewButton("@"+name, complete)
		b.Importance = widget.LowImportance
		v.suggest.Add(b)
		if len(v.mentionItems) == 5 {
			break
		}
	}
}
