package ui

// Recognition in the desktop: "Helpful" on another member's message, "Give kudos…" in a member's
// actions (the owner and moderators), "Give a badge…" (the owner), the board with a member's own
// badges and their cards (Community > Recognition…), and checking a card (File menu).

import (
	"fmt"
	"io"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// markHelpful marks a message helpful.
func (v *CommunityView) markHelpful(m app.Message) {
	id := v.cur
	s := v.s
	go func() {
		if err := s.svc.Helpful(s.ctx, id, m.ID); err != nil {
			s.do(func() { s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), s.win)) })
		}
	}()
}

// openKudos gives a member kudos with a note.
func (v *CommunityView) openKudos(m app.MemberView) {
	id := v.cur
	note := widget.NewMultiLineEntry()
	note.Wrapping = fyne.TextWrapWord
	note.SetPlaceHolder("What was good: they and everyone see it")
	s := v.s
	d := dialog.NewForm("Kudos to "+nameOr(m.Name), "Give kudos", "Cancel", []*widget.FormItem{widget.NewFormItem("Note", note)}, func(ok bool) {
		if !ok {
			return
		}
		text := note.Text
		go func() {
			if err := s.svc.Kudos(s.ctx, id, m.Key, text); err != nil {
				s.do(func() { s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), s.win)) })
			}
		}()
	}, s.win)
	d.Resize(fyne.NewSize(480, 0))
	s.show(d)
}

// boardText lays the board out.
func boardText(board []app.Recognition) string {
	if len(board) == 0 {
		return "Nobody is on the board yet. Mark the messages that helped you (a message's menu), and give kudos."
	}
	var b strings.Builder
	for i, r := range board {
		fmt.Fprintf(&b, "%d. %s", i+1, nameOr(r.Name))
		if r.Score > 0 {
			fmt.Fprintf(&b, " — %.1f", r.Score)
		}
		if r.HelpfulFrom > 0 {
			fmt.Fprintf(&b, " · helpful to %s", plural(r.HelpfulFrom, "1 member", fmt.Sprintf("%d members", r.HelpfulFrom)))
		}
		if r.Kudos > 0 {
			fmt.Fprintf(&b, " · %d kudos", r.Kudos)
		}
		b.WriteString("\n")
		for _, t := range r.Badges {
			fmt.Fprintf(&b, "    🏅 %s\n", community.Printable(t, false))
		}
		if len(r.Notes) > 0 {
			fmt.Fprintf(&b, "    “%s”\n", clip(community.Printable(r.Notes[0], false), 120))
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// openBoard shows the recognition board.
func (v *CommunityView) openBoard() {
	id := v.cur
	s := v.s
	go func() {
		board, err := s.svc.RecognitionBoard(id)
		var badges []app.BadgeView
		if err == nil {
			badges, err = s.svc.Badges(id)
		}
		s.do(func() {
			if err != nil {
				s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), s.win))
				return
			}
			intro := wrapped("Who the community finds helpful: marks count once per member who gave them, weighed by that member's own standing, and kudos from the owner and moderators. How much anyone posts does not count.")
			intro.Importance = widget.LowImportance
			box := container.NewVBox(wrapped(boardText(board)))
			for _, b := range badges {
				if !b.Mine {
					continue
				}
				box.Add(widget.NewSeparator())
				box.Add(wrapped(fmt.Sprintf("Your badge 🏅 %s, from the owner on %s. Its card is a page anyone can check, with no network.",
					community.Printable(b.Title, false), b.At.Local().Format("2 January 2006"))))
				box.Add(container.NewHBox(widget.NewButton("Save its card…", func() { v.saveCardAs(id, b) })))
			}
			scroll := container.NewVScroll(box)
			scroll.SetMinSize(fyne.NewSize(520, 300))
			s.show(dialog.NewCustom("Recognition", "Close", container.NewBorder(intro, nil, nil, nil, scroll), s.win))
		})
	}()
}

// openBadge signs a badge for a member (the owner): a title and a note.
func (v *CommunityView) openBadge(m app.MemberView) {
	id := v.cur
	title := widget.NewEntry()
	title.SetPlaceHolder("e.g. Kiln master")
	note := widget.NewMultiLineEntry()
	note.Wrapping = fyne.TextWrapWord
	note.SetPlaceHolder("Optional: what it is for")
	s := v.s
	items := []*widget.FormItem{widget.NewFormItem("Title", title), widget.NewFormItem("Note", note)}
	items[0].HintText = "Signed with your key: " + nameOr(m.Name) + " can show it anywhere, and anyone can check it"
	d := dialog.NewForm("A badge for "+nameOr(m.Name), "Sign the badge", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		t, n := title.Text, note.Text
		go func() {
			if _, err := s.svc.GiveBadge(s.ctx, id, m.Key, t, n); err != nil {
				s.do(func() { s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), s.win)) })
			}
		}()
	}, s.win)
	d.Resize(fyne.NewSize(520, 0))
	s.show(d)
	s.win.Canvas().Focus(title)
}

// saveCardAs asks where to save one of this member's badge cards, then writes it.
func (v *CommunityView) saveCardAs(id community.Hash, b app.BadgeView) {
	s := v.s
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		go func() {
			err := v.writeCard(id, b.ID, w)
			s.do(func() {
				if err != nil {
					s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), s.win))
					return
				}
				s.show(dialog.NewInformation("Card saved", "Anyone can open it in a browser, and check it with Kith (File > Check a badge card…) or `kithd verify-badge`.", s.win))
			})
		}()
	}, s.win)
	d.SetFileName("badge-" + strings.Map(func(r rune) rune {
		if r == ' ' || r == '/' || r == '\\' {
			return '-'
		}
		return r
	}, strings.ToLower(b.Title)) + ".html")
	s.show(d)
}

// writeCard writes a badge's card page to w and closes it.
func (v *CommunityView) writeCard(id, badge community.Hash, w io.WriteCloser) error {
	card, b, err := v.s.svc.BadgeCard(id, badge)
	if err != nil {
		w.Close()
		return err
	}
	if _, err := io.WriteString(w, app.CardHTML(card, b.Badge())); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// checkCard reads a card from r and says whether it checks out, in a sentence.
func checkCard(r io.Reader) (string, bool) {
	text, err := io.ReadAll(io.LimitReader(r, 4<<20))
	if err != nil {
		return sentence(err), false
	}
	b, err := app.CheckCard(string(text))
	if err != nil {
		return "Not valid: " + sentence(err), false
	}
	return app.BadgeSentence(b), true
}

// openCheckCard checks a badge card file anyone sent (File > Check a badge card…).
func (s *Shell) openCheckCard() {
	s.show(dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		go func() {
			defer r.Close()
			text, ok := checkCard(r)
			s.do(func() {
				title := "The badge checks out"
				if !ok {
					title = "The badge does not check out"
				}
				s.show(dialog.NewCustom(title, "Close", wrapped(text), s.win))
			})
		}()
	}, s.win))
}
