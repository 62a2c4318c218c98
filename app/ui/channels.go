package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// Channels in the desktop app: the owner and moderators make a channel from the "+" beside the
// Channels heading, and rename, archive or bring back the one shown from the pencil beside its
// title. The service call runs off the Fyne thread; the list refreshes on CommunityChanged.

// channelLabel is a channel as the list and the header show it.
func channelLabel(c app.Channel) string {
	if c.Archived {
		return "# " + c.Name + " · archived"
	}
	return "# " + c.Name
}

// clashNote says what became of a channel made with a name another channel got first
// (elsewhere, at the same time); "" for none.
func clashNote(c app.Channel) string {
	if c.Asked == "" {
		return ""
	}
	return fmt.Sprintf("Another #%s was made at the same time elsewhere, so this one is shown as #%s at every member. Rename it to tell them apart.", c.Asked, c.Name)
}

// openNewChannel asks for a new channel's name and kind, and makes it.
func (v *CommunityView) openNewChannel() {
	id := v.cur
	name := widget.NewEntry()
	name.SetPlaceHolder("design, help, off-topic…")
	kind := widget.NewRadioGroup([]string{"Chat: every member posts", "Announcements: only the owner and moderators post"}, nil)
	kind.SetSelected("Chat: every member posts")
	status := wrapped("")
	var d dialog.Dialog
	create := widget.NewButton("Create", nil)
	create.Importance = widget.HighImportance
	create.OnTapped = func() {
		t := community.ChannelChat
		if kind.Selected != "Chat: every member posts" {
			t = community.ChannelAnnouncements
		}
		create.Disable()
		status.SetText("Creating…")
		n := name.Text
		v.s.act(func(ctx context.Context) error {
			c, err := v.s.svc.CreateChannel(ctx, id, n, t)
			if err == nil {
				v.s.do(func() { v.curCh = c.ID; v.reload(id) })
			}
			return err
		}, func(err error) {
			if err != nil {
				status.SetText(sentence(err))
				create.Enable()
				return
			}
			d.Hide()
		})
	}
	name.OnSubmitted = func(string) { create.OnTapped() }
	box := container.NewVBox(widget.NewLabel("Name"), name, kind, status, create)
	d = dialog.NewCustom("New channel", "Cancel", box, v.s.win)
	d.Resize(fyne.NewSize(420, 0))
	v.channelDialog = d
	v.s.show(d)
	v.s.win.Canvas().Focus(name)
}

// openEditChannel renames, archives or brings back the channel shown.
func (v *CommunityView) openEditChannel() {
	ch, ok := v.channel()
	if !ok {
		return
	}
	id := v.cur
	name := widget.NewEntry()
	name.SetText(ch.Name)
	status := wrapped(clashNote(ch))
	var d dialog.Dialog
	run := func(label string, newName string, archived bool, btn *widget.Button) {
		btn.Disable()
		status.SetText(label)
		v.s.act(func(ctx context.Context) error {
			_, err := v.s.svc.UpdateChannel(ctx, id, ch.ID, newName, archived)
			return err
		}, func(err error) {
			if err != nil {
				status.SetText(sentence(err))
				btn.Enable()
				return
			}
			d.Hide()
			v.reload(id)
		})
	}
	rename := widget.NewButton("Rename", nil)
	rename.Importance = widget.HighImportance
	rename.OnTapped = func() { run("Renaming…", name.Text, ch.Archived, rename) }
	name.OnSubmitted = func(string) { rename.OnTapped() }
	archive := widget.NewButton("Archive", nil)
	archiveText := "Archiving keeps what #" + ch.Name + " holds readable; nobody posts there any more."
	if ch.Archived {
		archive.SetText("Bring back")
		archiveText = "#" + ch.Name + " is archived. Bringing it back lets members post there again."
	}
	archive.OnTapped = func() { run("Saving…", ch.Name, !ch.Archived, archive) }
	box := container.NewVBox(widget.NewLabel("Name"), name, rename, widget.NewSeparator(), wrapped(archiveText), archive, status)
	d = dialog.NewCustom("#"+ch.Name, "Close", box, v.s.win)
	d.Resize(fyne.NewSize(420, 0))
	v.channelDialog = d
	v.s.show(d)
}
