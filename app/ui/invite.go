package ui

import (
	"context"
	"fmt"
	"image"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/invite"
)

// The invite dialog's choices.
var (
	inviteUses    = []string{"1 person", "5 people", "10 people", "25 people", "100 people", "No limit"}
	inviteUsesN   = []int{1, 5, 10, 25, 100, 0}
	inviteExpiry  = []string{"1 hour", "1 day", "7 days", "30 days", "Never"}
	inviteExpiryD = []time.Duration{time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour, 0}
)

// inviteDialog is the owner's and moderators' invite maker: role, uses and expiry; the invite
// text with Copy and a QR code; the invites issued so far with their uses.
type inviteDialog struct {
	v       *CommunityView
	comm    community.Hash
	d       dialog.Dialog
	role    *widget.Select
	uses    *widget.Select
	expiry  *widget.Select
	approve *widget.Check // joins wait for the owner or a moderator
	asks    *widget.Entry // the questions, one a line
	make    *escButton
	text    *widget.Entry
	current string // the invite text shown
	copy    *widget.Button
	qr      *canvas.Image
	// copyLink copies the invite as a kith://join/ link.
	copyLink *widget.Button
	note     *widget.Label
	result   *fyne.Container
	issued   []app.Issued // Fyne thread only
	list     *widget.List
	noneYet  *widget.Label
	said     *widget.Label // what became of a revocation
	confirm  dialog.Dialog // the open "Revoke this invite?", if any
}

// openInvite is Ctrl+I: the invite dialog of the community shown.
func (v *CommunityView) openInvite() {
	c := v.summary(v.cur)
	if c == nil {
		return
	}
	role := v.myRole()
	entry := v.entry // read by the last reload, off the Fyne thread
	if role < community.RoleModerator && entry.MemberInvites == 0 {
		dialog.ShowInformation("Invite people", fmt.Sprintf("In %q the owner and moderators invite people: ask one of them for an invite.", c.Name), v.s.win)
		return
	}
	in := &inviteDialog{v: v, comm: v.cur}
	v.invite = in
	in.asks = widget.NewMultiLineEntry()
	in.asks.SetPlaceHolder("One question a line, up to 5: e.g. How did you find us?")
	in.asks.SetMinRowsVisible(3)
	in.asks.SetText(strings.Join(entry.Questions, "\n"))
	in.asks.Hide()
	in.approve = widget.NewCheck("Ask for approval: joiners answer questions, then wait for the owner or a moderator", func(on bool) {
		if on {
			in.asks.Show()
		} else {
			in.asks.Hide()
		}
	})
	if role < community.RoleModerator && entry.MemberApproval {
		in.approve.SetChecked(true)
		in.approve.Disable() // the owner requires it of members' invites
	}
	roles := []string{"Member"}
	if role == community.RoleOwner {
		roles = append(roles, "Moderator")
	}
	in.role = widget.NewSelect(roles, nil)
	in.role.SetSelected("Member")
	in.uses = widget.NewSelect(inviteUses, nil)
	in.uses.SetSelected(inviteUses[0])
	in.expiry = widget.NewSelect(inviteExpiry, nil)
	in.expiry.SetSelected(inviteExpiry[2])
	in.make = newEscButton("Create invite", theme.ContentAddIcon(), in.create, v.s.closeTop)
	in.make.Importance = widget.HighImportance
	in.text = widget.NewMultiLineEntry()
	in.text.Wrapping = fyne.TextWrapBreak
	in.text.SetMinRowsVisible(5)
	in.text.OnChanged = func(t string) { // read-only, yet selectable: typing puts it back
		if t != in.current {
			in.text.SetText(in.current)
		}
	}
	in.copy = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		v.s.app.Clipboard().SetContent(in.text.Text)
		in.note.SetText("Copied. Send it to the person you invite, by any channel you trust.")
	})
	in.copy.Importance = widget.HighImportance
	in.copyLink = widget.NewButtonWithIcon("Copy link", theme.ContentCopyIcon(), func() {
		v.s.app.Clipboard().SetContent(invite.LinkPrefix + in.current)
		in.note.SetText("Copied as a link (kith://join/…): a click on it opens Kith where Kith is installed. Pasted into Kith, it works as the invite does.")
	})
	in.qr = canvas.NewImageFromImage(image.NewGray(image.Rect(0, 0, 1, 1)))
	in.qr.FillMode = canvas.ImageFillContain
	in.qr.ScaleMode = canvas.ImageScalePixels
	in.qr.SetMinSize(fyne.NewSize(200, 200))
	in.note = wrapped("")
	in.result = container.NewBorder(nil, nil, nil, in.qr, container.NewVBox(in.text, container.NewHBox(in.copy, in.copyLink), in.note))
	in.result.Hide()

	in.noneYet = wrapped("No invites yet.")
	in.noneYet.Importance = widget.LowImportance
	in.said = wrapped("")
	in.said.Hide()
	in.list = widget.NewList(func() int { return len(in.issued) },
		func() fyne.CanvasObject {
			buttons := container.NewHBox(widget.NewButtonWithIcon("", theme.ContentCopyIcon(), nil),
				widget.NewButtonWithIcon("Revoke", theme.CancelIcon(), nil))
			return container.NewBorder(nil, nil, nil, buttons, widget.NewLabel("invite"))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			it := in.issued[i]
			box := o.(*fyne.Container)
			box.Objects[0].(*widget.Label).SetText(describeIssued(it, time.Now()))
			buttons := box.Objects[1].(*fyne.Container).Objects
			copyIt, revoke := buttons[0].(*widget.Button), buttons[1].(*widget.Button)
			copyIt.OnTapped = func() {
				v.s.app.Clipboard().SetContent(it.Invite.String())
				in.showText(it.Invite.String())
				in.note.SetText("Copied an earlier invite.")
			}
			revoke.OnTapped = func() { in.askRevoke(it) }
			if it.Revoked {
				revoke.Disable()
			} else {
				revoke.Enable()
			}
		})
	choices := container.NewGridWithColumns(3,
		widget.NewForm(widget.NewFormItem("Role", in.role)),
		widget.NewForm(widget.NewFormItem("Uses", in.uses)),
		widget.NewForm(widget.NewFormItem("Expires", in.expiry)))
	issued := container.NewBorder(container.NewVBox(widget.NewSeparator(), heading("Invites you issued"), in.noneYet, in.said), nil, nil, nil, in.list)
	intro := fmt.Sprintf("Invite someone to %q: choose who they will be and how long the invite lasts, then send them the text (or let them scan the code).", c.Name)
	if role < community.RoleModerator {
		intro += fmt.Sprintf(" Each member may bring in %s.", plural(entry.MemberInvites, "1 person", fmt.Sprintf("%d people", entry.MemberInvites)))
	}
	top := container.NewVBox(wrapped(intro), choices, in.approve, in.asks, container.NewHBox(in.make), in.result)
	in.d = dialog.NewCustom("Invite people", "Done", container.NewBorder(top, nil, nil, nil, issued), v.s.win)
	in.d.Resize(fyne.NewSize(820, 640))
	v.s.show(in.d)
	v.s.win.Canvas().Focus(in.make) // Space makes one
	in.reloadIssued()
}

// showText shows an invite's text and its QR code.
func (in *inviteDialog) showText(text string) {
	in.current = text
	in.text.SetText(text)
	if img := qrImage(text); img != nil {
		in.qr.Image = img
		in.qr.Show()
	} else {
		in.qr.Hide()
	}
	in.qr.Refresh()
	in.result.Show()
}

// qrImage is the QR code of text, or nil when it does not fit one.
func qrImage(text string) image.Image {
	q := qrCode(text)
	if q == nil {
		return nil
	}
	q.DisableBorder = false
	return q.Image(-4)
}

// qrCode encodes an invite in the smallest QR code that holds it: in upper case, so that it
// takes the alphanumeric mode (5.5 bits a character instead of 8; an invite reads the same in
// either case), and the smallest version at the low error-correction level, which a phone
// reads from a screen. Nil when the text does not fit a QR code.
func qrCode(text string) *qrcode.QRCode {
	q, err := qrcode.New(strings.ToUpper(text), qrcode.Low)
	if err != nil {
		return nil
	}
	return q
}

func (in *inviteDialog) create() {
	p := app.InviteParams{Role: community.RoleMember}
	if in.role.Selected == "Moderator" {
		p.Role = community.RoleModerator
	}
	p.Uses = inviteUsesN[max(in.uses.SelectedIndex(), 0)]
	p.Expires = inviteExpiryD[max(in.expiry.SelectedIndex(), 0)]
	if in.approve.Checked {
		p.Approval = true
		for _, q := range strings.Split(in.asks.Text, "\n") {
			if q = strings.TrimSpace(q); q != "" {
				p.Questions = append(p.Questions, q)
			}
		}
	}
	in.make.Disable()
	in.note.SetText("Making the invite…")
	s := in.v.s
	go func() {
		inv, warning, err := s.net.Invite(in.comm, p)
		s.do(func() {
			in.make.Enable()
			if err != nil {
				in.note.SetText("No invite was made: " + sentence(err))
				return
			}
			in.showText(inv.String())
			in.note.SetText("Press Copy and send it to the person you invite.")
			if warning != "" {
				in.note.SetText(sentence(fmt.Errorf("%s", warning)))
			}
			in.reloadIssued()
		})
	}()
}

func (in *inviteDialog) reloadIssued() {
	s := in.v.s
	go func() {
		issued, err := s.svc.Invites(in.comm)
		s.do(func() {
			if err != nil {
				in.noneYet.SetText("Kith could not read the invites issued: " + sentence(err))
				in.noneYet.Show()
				return
			}
			// Newest first: the one just made is on top.
			in.issued = in.issued[:0]
			for i := len(issued) - 1; i >= 0; i-- {
				in.issued = append(in.issued, issued[i])
			}
			in.noneYet.Hidden = len(in.issued) > 0
			in.noneYet.Refresh()
			in.list.Refresh()
		})
	}()
}

// askRevoke asks before revoking an issued invite, then revokes it off the Fyne thread.
func (in *inviteDialog) askRevoke(it app.Issued) {
	s := in.v.s
	short := it.Invite.ID.String()[:8]
	msg := wrapped(fmt.Sprintf("Nobody will be able to join with invite %s once the members who admit people have the revocation: it reaches them as messages do. People who already joined with it stay.", short))
	in.confirm = dialog.NewCustomConfirm("Revoke this invite?", "Revoke", "Keep it", msg, func(ok bool) {
		in.confirm = nil
		if !ok {
			return
		}
		in.say("Revoking invite " + short + "…")
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := s.svc.RevokeInvite(ctx, in.comm, it.Invite.ID)
			s.do(func() {
				if err != nil {
					in.say("Invite " + short + " was not revoked: " + sentence(err))
					return
				}
				in.say("Invite " + short + " is revoked: joins with it are refused.")
				in.reloadIssued()
			})
		}()
	}, s.win)
	s.show(in.confirm)
}

// say shows what became of a revocation above the list.
func (in *inviteDialog) say(text string) {
	in.said.SetText(text)
	in.said.Show()
}

// describeIssued says what an issued invite is and how far it was used.
func describeIssued(it app.Issued, now time.Time) string {
	inv := it.Invite
	uses := fmt.Sprintf("%d used", it.Uses)
	if inv.MaxUses > 0 {
		uses = fmt.Sprintf("%d of %d used", it.Uses, inv.MaxUses)
	}
	exp := "never expires"
	switch {
	case inv.Expires.IsZero():
	case now.After(inv.Expires):
		exp = "expired"
	default:
		exp = "expires in " + until(inv.Expires.Sub(now))
	}
	if it.Revoked {
		exp = "revoked"
	}
	role := inv.Role.String()
	if inv.Approval {
		role += ", with approval"
	}
	return fmt.Sprintf("%s · %s · %s · %s", inv.ID.String()[:8], role, uses, exp)
}
