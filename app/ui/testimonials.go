package ui

// Testimonials in the desktop: an author says whether its message may be quoted (a message's
// menu), and the owner and moderators export the consented ones (Community > Testimonials…).

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/kith-app/kith/app"
)

// The consent choices.
const (
	quoteNo    = "Do not quote it"
	quoteAnon  = "It may be quoted, without my name"
	quoteNamed = "It may be quoted, with my name"
)

// openQuote asks whether the author's message may be quoted as a testimonial.
func (v *CommunityView) openQuote(m app.Message) {
	id := v.cur
	choice := widget.NewRadioGroup([]string{quoteNo, quoteAnon, quoteNamed}, nil)
	choice.SetSelected(quoteAnon)
	note := wrapped("The owner may show what you allow on the community's pages as social proof. You can take it back at any time; nothing else leaves the community.")
	note.Importance = widget.LowImportance
	s := v.s
	d := dialog.NewForm("Quote this message?", "Save", "Cancel", []*widget.FormItem{widget.NewFormItem("", choice), widget.NewFormItem("", note)}, func(ok bool) {
		if !ok {
			return
		}
		sel := choice.Selected
		go func() {
			if err := s.svc.QuoteOK(s.ctx, id, m.ID, sel == quoteNamed, sel == quoteNo); err != nil {
				s.do(func() { s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), s.win)) })
			}
		}()
	}, s.win)
	d.Resize(fyne.NewSize(480, 0))
	s.show(d)
}

// openTestimonials shows the consented messages as Markdown, HTML or JSON, to copy.
func (v *CommunityView) openTestimonials() {
	id := v.cur
	s := v.s
	c := v.summary(id)
	if c == nil {
		return
	}
	name := c.Name
	go func() {
		ts, err := s.svc.Testimonials(id)
		s.do(func() {
			if err != nil {
				s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), s.win))
				return
			}
			text := widget.NewMultiLineEntry()
			text.Wrapping = fyne.TextWrapWord
			text.SetMinRowsVisible(12)
			format := widget.NewSelect([]string{"md", "html", "json"}, func(f string) {
				out, _ := app.ExportTestimonials(name, ts, f)
				text.SetText(out)
			})
			format.SetSelected("md")
			copyIt := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() { s.app.Clipboard().SetContent(text.Text) })
			intro := wrapped(fmt.Sprintf("%s their authors let you quote; names only where they agreed.", plural(len(ts), "1 message", fmt.Sprintf("%d messages", len(ts)))))
			box := container.NewBorder(container.NewVBox(intro, container.NewHBox(widget.NewLabel("Format"), format, copyIt)), nil, nil, nil, text)
			d := dialog.NewCustom("Testimonials", "Close", box, s.win)
			d.Resize(fyne.NewSize(640, 520))
			s.show(d)
		})
	}()
}
