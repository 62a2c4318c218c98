package ui

// Promotions (Community > Promotions…): the week's budget, muting promotions on this device, and
// for the owner and moderators a promotional post in the channel shown.

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

// budgetText says how much of the week's promotion budget is used, and when the next is free.
func budgetText(b app.Promotions) string {
	t := fmt.Sprintf("This week: %d of %d promotions (promotional posts and offers by the owner and moderators).", b.Used, b.PerWeek)
	if b.Used >= b.PerWeek && b.CanPost {
		t += " The next can go out on " + b.NextFree.Local().Format("Monday 2 January at 15:04") + "."
	}
	return t
}

// openPromotions shows the budget, a "mute" switch, and for the owner and moderators a composer
// for a promotion in the channel shown. The budget is read off the window's goroutine.
func (v *CommunityView) openPromotions() {
	id := v.cur
	ch, ok := v.channel()
	if id.IsZero() || !ok {
		return
	}
	go func() {
		b, err := v.s.svc.PromotionBudget(id)
		v.s.do(func() {
			if err != nil {
				v.s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), v.s.win))
				return
			}
			v.showPromotions(id, ch, b)
		})
	}()
}

func (v *CommunityView) showPromotions(id community.Hash, ch app.Channel, b app.Promotions) {
	s := v.s
	budget := wrapped(budgetText(b))
	mute := widget.NewCheck("Mute promotions on this device: they do not show and do not notify", nil)
	mute.SetChecked(b.Muted)
	mute.OnChanged = func(on bool) {
		go func() {
			err := s.svc.MutePromotions(id, on)
			s.do(func() {
				if err != nil {
					s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), s.win))
					return
				}
				if v.cur == id {
					v.msgs.reloadLatest()
				}
			})
		}()
	}
	box := container.NewVBox(budget, mute)
	var text *widget.Entry
	if b.CanPost {
		text = widget.NewMultiLineEntry()
		text.Wrapping = fyne.TextWrapWord
		text.SetMinRowsVisible(4)
		text.SetPlaceHolder("A launch, a sale, a first look… members who muted promotions do not see it")
		status := wrapped("")
		status.Importance = widget.DangerImportance
		post := widget.NewButton("Post the promotion in #"+ch.Name, nil)
		post.Importance = widget.HighImportance
		if b.Used >= b.PerWeek {
			post.Disable()
			text.Disable()
		}
		post.OnTapped = func() {
			post.Disable()
			t := text.Text
			s.act(func(ctx context.Context) error {
				_, err := s.svc.PostPromotion(ctx, id, ch.ID, t)
				return err
			}, func(err error) {
				if err != nil {
					status.SetText(sentence(err))
					post.Enable()
					return
				}
				text.SetText("")
				go func() { // the budget as it stands now
					if nb, err := s.svc.PromotionBudget(id); err == nil {
						s.do(func() {
							budget.SetText(budgetText(nb))
							if nb.Used >= nb.PerWeek {
								text.Disable()
								return
							}
							post.Enable()
						})
					}
				}()
			})
		}
		box.Add(widget.NewSeparator())
		box.Add(text)
		box.Add(container.NewHBox(post))
		box.Add(status)
	}
	d := dialog.NewCustom("Promotions", "Close", box, s.win)
	d.Resize(fyne.NewSize(560, 0))
	s.show(d)
	if text != nil && !text.Disabled() {
		s.win.Canvas().Focus(text)
	}
}
