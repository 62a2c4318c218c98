package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// The community's info panel (the "i" beside the title): its about text, owner, moderators,
// member count and cap; the owner edits the community from it, and every member its own profile
// here (also from its own entry in the members panel).

// openInfo shows the community's info panel; the service is read off the Fyne thread.
func (v *CommunityView) openInfo() {
	id := v.cur
	go func() {
		in, err := v.s.svc.Info(id)
		e, _ := v.s.svc.Entry(id)
		v.s.do(func() {
			if err != nil {
				v.s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), v.s.win))
				return
			}
			v.showInfo(in, e.Welcome)
		})
	}()
}

// infoText is the panel's text below the name.
func infoText(in app.Info) string {
	var b strings.Builder
	if strings.TrimSpace(in.About) != "" {
		b.WriteString(in.About + "\n\n")
	}
	fmt.Fprintf(&b, "Owner: %s\n", nameOr(in.Owner))
	if len(in.Moderators) > 0 {
		fmt.Fprintf(&b, "Moderators: %s\n", strings.Join(in.Moderators, ", "))
	}
	if in.MaxMembers > 0 {
		fmt.Fprintf(&b, "%s of at most %d", members(in.Members), in.MaxMembers)
	} else {
		fmt.Fprintf(&b, "%s, no cap", members(in.Members))
	}
	return b.String()
}

func (v *CommunityView) showInfo(in app.Info, w app.Welcome) {
	name := widget.NewLabel(in.Name)
	name.TextStyle.Bold = true
	name.Wrapping = fyne.TextWrapWord
	box := container.NewVBox(name, wrapped(infoText(in)), widget.NewSeparator())
	if w.Text != "" || w.Rules != "" {
		box.Add(heading("Welcome"))
		box.Add(welcomeBox(w))
		if w.Intro != "" {
			box.Add(wrapped("Newcomers introduce themselves in #" + w.Intro + "."))
		}
		box.Add(widget.NewSeparator())
	}
	var d dialog.Dialog
	if in.Role == community.RoleOwner {
		box.Add(widget.NewButton("Edit the community…", func() { d.Hide(); v.openEditCommunity(in) }))
		box.Add(widget.NewButton("Entry and welcome…", func() { d.Hide(); v.openEntry() }))
	}
	if in.Role != community.RoleNone {
		box.Add(widget.NewButton("Your profile here…", func() { d.Hide(); v.openProfile() }))
	}
	d = dialog.NewCustom("About this community", "Close", box, v.s.win)
	d.Resize(fyne.NewSize(460, 0))
	v.infoDialog = d
	v.s.show(d)
}

// openEditCommunity is the owner's form: name, about text, member cap.
func (v *CommunityView) openEditCommunity(in app.Info) {
	id := v.cur
	name := widget.NewEntry()
	name.SetText(in.Name)
	about := widget.NewMultiLineEntry()
	about.SetText(in.About)
	about.SetMinRowsVisible(4)
	about.Wrapping = fyne.TextWrapWord
	capEntry := widget.NewEntry()
	capEntry.SetPlaceHolder("0: no cap")
	if in.MaxMembers > 0 {
		capEntry.SetText(strconv.Itoa(in.MaxMembers))
	}
	status := wrapped("")
	var d dialog.Dialog
	save := widget.NewButton("Save", nil)
	save.Importance = widget.HighImportance
	save.OnTapped = func() {
		n := 0
		if t := strings.TrimSpace(capEntry.Text); t != "" {
			var err error
			if n, err = strconv.Atoi(t); err != nil || n < 0 {
				status.SetText("Member cap: a number of members, or empty for no cap.")
				return
			}
		}
		save.Disable()
		status.SetText("Saving…")
		nm, ab := name.Text, about.Text
		v.s.act(func(ctx context.Context) error { return v.s.svc.EditCommunity(ctx, id, nm, ab, n) }, func(err error) {
			if err != nil {
				status.SetText(sentence(err))
				save.Enable()
				return
			}
			d.Hide()
			v.reload(id)
		})
	}
	form := container.NewVBox(widget.NewLabel("Name"), name, widget.NewLabel("About"), about,
		widget.NewLabel("Member cap"), capEntry, status, save)
	d = dialog.NewCustom("Edit "+in.Name, "Cancel", form, v.s.win)
	d.Resize(fyne.NewSize(480, 0))
	v.infoDialog = d
	v.s.show(d)
}

// openProfile is this install's name and about text in the community shown.
func (v *CommunityView) openProfile() {
	id := v.cur
	go func() {
		n, a, err := v.s.svc.MyProfile(id)
		v.s.do(func() {
			if err != nil {
				v.s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), v.s.win))
				return
			}
			v.showProfile(id, n, a)
		})
	}()
}

func (v *CommunityView) showProfile(id community.Hash, n, a string) {
	name := widget.NewEntry()
	name.SetText(n)
	about := widget.NewMultiLineEntry()
	about.SetText(a)
	about.SetPlaceHolder("A line or two about you, for this community's members.")
	about.SetMinRowsVisible(4)
	about.Wrapping = fyne.TextWrapWord
	status := wrapped("")
	var d dialog.Dialog
	save := widget.NewButton("Save", nil)
	save.Importance = widget.HighImportance
	save.OnTapped = func() {
		save.Disable()
		status.SetText("Saving…")
		nm, ab := name.Text, about.Text
		v.s.act(func(ctx context.Context) error { return v.s.svc.SetProfile(ctx, id, nm, ab) }, func(err error) {
			if err != nil {
				status.SetText(sentence(err))
				save.Enable()
				return
			}
			d.Hide()
			v.reload(id)
		})
	}
	note := wrapped("Your name, picture and about text here only: each community has its own.")
	note.Importance = widget.LowImportance
	form := container.NewVBox(note, v.pictureRow(id, status), widget.NewLabel("Name"), name, widget.NewLabel("About you"), about, status, save)
	d = dialog.NewCustom("Your profile", "Cancel", form, v.s.win)
	d.Resize(fyne.NewSize(480, 0))
	v.infoDialog = d
	v.s.show(d)
}

// pictureRow is the profile's picture: the avatar as members see it, "Choose a picture…" (a
// file chosen is sealed and sent at once) and "Remove"; status says how it went.
func (v *CommunityView) pictureRow(id community.Hash, status *widget.Label) fyne.CanvasObject {
	me := v.me()
	av := newAvatar()
	av.set(me.Key, me.Name, v.pictureOf(me.Key))
	big := container.NewGridWrap(fyne.NewSize(64, 64), av)
	remove := widget.NewButton("Remove", nil)
	remove.Hidden = v.pictureOf(me.Key) == nil
	send := func(f *app.File, doing string) {
		status.SetText(doing)
		v.s.actFor(fileTime, func(ctx context.Context) error { return v.s.svc.SetProfilePicture(ctx, id, f) }, func(err error) {
			if err != nil {
				status.SetText(sentence(err))
				return
			}
			status.SetText("")
			go func() { // the avatar as it stands now (the view reloads on the service's event)
				ms, err := v.s.svc.Members(id)
				v.s.do(func() {
					if err == nil && v.cur == id {
						v.setMembers(ms)
					}
					av.set(me.Key, me.Name, v.pictureOf(me.Key))
					remove.Hidden = v.pictureOf(me.Key) == nil
					remove.Refresh()
				})
			}()
		})
	}
	remove.OnTapped = func() { send(nil, "Removing your picture…") }
	choose := widget.NewButton("Choose a picture…", func() {
		d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			u := r.URI()
			r.Close()
			status.SetText("Sending your picture…")
			go func() {
				f, err := uriFile(u)
				v.s.do(func() {
					if err != nil {
						status.SetText(sentence(err))
						return
					}
					send(&f, "Sending your picture…")
				})
			}()
		}, v.s.win)
		d.SetFilter(storage.NewExtensionFileFilter([]string{".jpg", ".jpeg", ".png", ".gif", ".webp"}))
		v.s.show(d)
	})
	return container.NewBorder(nil, nil, big, nil, container.NewVBox(choose, remove))
}

// askForget deletes, after a confirmation, what this device holds of a community it no longer
// belongs to. Until then what it had stays readable ("keep reading" is doing nothing).
func (v *CommunityView) askForget() {
	id := v.cur
	name := "this community"
	if c := v.summary(id); c != nil {
		name = c.Name
	}
	v.askWith("Forget "+name+"?", "Forget", "Its history goes from this device: the messages, the members, the channels. The other members keep theirs. To come back you need a new invite.", nil, func() {
		v.forgetBtn.Disable()
		v.s.act(func(ctx context.Context) error { return v.s.svc.Forget(ctx, id) }, func(err error) {
			v.forgetBtn.Enable()
			if err != nil {
				v.s.show(dialog.NewInformation("Not forgotten", sentence(err), v.s.win))
				return
			}
			go func() {
				cs, err := v.s.svc.Communities()
				v.s.do(func() {
					if err == nil && len(cs) == 0 {
						v.s.hasCommunities = false
						v.s.showWelcome(false)
					}
				})
			}()
		})
	})
}
