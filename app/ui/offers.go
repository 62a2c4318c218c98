package ui

// Offers in the desktop: an offer shows in its channel as a message (title, text, how many are
// left, until when, and a granted member's code); its menu claims it, and for the owner and
// moderators lists who claimed and asks the granted members for feedback; "New offer…" makes one.

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// offerText lays an offer out as text.
func offerText(o app.Offer) string {
	var b strings.Builder
	fmt.Fprintf(&b, "🎁 %s\n", community.Printable(o.Title, false))
	if o.Text != "" {
		b.WriteString(community.Printable(o.Text, true) + "\n")
	}
	left := max(o.Quantity-o.Claimed, 0)
	parts := []string{fmt.Sprintf("%d of %d left", left, o.Quantity)}
	if o.Expired {
		parts = append(parts, "ended "+o.Expires.Local().Format("2 Jan at 15:04"))
	} else {
		parts = append(parts, "until "+o.Expires.Local().Format("2 Jan at 15:04"))
	}
	switch {
	case o.Granted && o.Code != "":
		parts = append(parts, "yours: your code is "+community.Printable(o.Code, false))
	case o.Granted && o.HasCode:
		parts = append(parts, "yours: the code comes once the owner or a moderator is online")
	case o.Granted:
		parts = append(parts, "yours")
	case o.Mine:
		parts = append(parts, "others claimed before you")
	case !o.Expired && left > 0:
		parts = append(parts, "claim it from this message's menu")
	}
	b.WriteString(strings.Join(parts, " · "))
	return b.String()
}

// offerItems are an offer's menu items.
func (v *CommunityView) offerItems(m app.Message) []*fyne.MenuItem {
	o := m.Offer
	var items []*fyne.MenuItem
	if !o.Mine && !o.Expired && o.Claimed < o.Quantity {
		items = append(items, fyne.NewMenuItem("Claim", func() { v.claim(m) }))
	}
	if v.myRole() >= community.RoleModerator {
		items = append(items, fyne.NewMenuItem(fmt.Sprintf("Who claimed (%d)…", len(o.Claimants)), func() { v.showClaimants(m) }))
		items = append(items, fyne.NewMenuItem("Ask the granted members for feedback…", func() { v.openAskFor(o.ID) }))
	}
	return items
}

func (v *CommunityView) claim(m app.Message) {
	id, offer := v.cur, m.Offer.ID
	s := v.s
	go func() {
		o, err := s.svc.Claim(s.ctx, id, offer)
		s.do(func() {
			switch {
			case err != nil:
				s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), s.win))
			case !o.Granted:
				s.show(dialog.NewInformation("Not this time", "Others claimed all of it before your claim reached them.", s.win))
			}
		})
	}()
}

func (v *CommunityView) showClaimants(m app.Message) {
	o := *m.Offer
	box := container.NewVBox()
	if len(o.Claimants) == 0 {
		box.Add(wrapped("Nobody claimed it yet."))
	}
	for _, c := range o.Claimants {
		state := "granted"
		if !c.Granted {
			state = "after the last one: not granted"
		} else if o.HasCode && !c.Coded {
			state = "granted; the code is on its way"
		}
		box.Add(wrapped(fmt.Sprintf("%s · %s · %s", nameOr(c.Name), c.At.Local().Format("2 Jan 15:04"), state)))
	}
	v.s.show(dialog.NewCustom("Who claimed "+strconv.Quote(community.Printable(o.Title, false)), "Close", box, v.s.win))
}

// openNewOffer makes an offer in the channel shown (the owner and moderators).
func (v *CommunityView) openNewOffer() {
	ch, ok := v.channel()
	if !ok {
		return
	}
	if v.myRole() < community.RoleModerator {
		v.s.show(dialog.NewInformation("New offer", "The owner and moderators make offers.", v.s.win))
		return
	}
	title := widget.NewEntry()
	title.SetPlaceHolder("e.g. Early access to the spring sale")
	text := widget.NewMultiLineEntry()
	text.Wrapping = fyne.TextWrapWord
	text.SetPlaceHolder("What it is, and how to use it")
	quantity := widget.NewEntry()
	quantity.SetText("10")
	expires := widget.NewSelect([]string{"In 1 day", "In 3 days", "In 7 days", "In 30 days"}, nil)
	expires.SetSelected("In 7 days")
	days := map[string]int{"In 1 day": 1, "In 3 days": 3, "In 7 days": 7, "In 30 days": 30}
	code := widget.NewEntry()
	code.SetPlaceHolder("Optional: a code only the granted members read")
	id, channel := v.cur, ch.ID
	s := v.s
	d := dialog.NewForm("New offer in #"+ch.Name, "Offer", "Cancel", []*widget.FormItem{
		widget.NewFormItem("Title", title),
		widget.NewFormItem("Text", text),
		widget.NewFormItem("How many", quantity),
		widget.NewFormItem("Ends", expires),
		widget.NewFormItem("Code", code),
	}, func(ok bool) {
		if !ok {
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(quantity.Text))
		if err != nil || n < 1 {
			s.show(dialog.NewError(fmt.Errorf("how many: a number, 1 or more"), s.win))
			return
		}
		spec := community.OfferSpec{Title: title.Text, Text: text.Text, Quantity: n, Expires: time.Now().Add(time.Duration(days[expires.Selected]) * 24 * time.Hour)}
		secret := code.Text
		go func() {
			if _, err := s.svc.CreateOffer(s.ctx, id, channel, spec, secret); err != nil {
				s.do(func() { s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), s.win)) })
			}
		}()
	}, s.win)
	d.Resize(fyne.NewSize(560, 0))
	s.show(d)
}
