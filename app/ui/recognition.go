package ui

// Recognition in the desktop: "Helpful" on another member's message, "Give kudos…" in a member's
// actions (the owner and moderators), and the board (Community > Recognition…).

import (
	"fmt"
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
		fmt.Fprintf(&b, "%d. %s — %.1f · helpful to %s", i+1, nameOr(r.Name), r.Score, plural(r.HelpfulFrom, "1 member", fmt.Sprintf("%d members", r.HelpfulFrom)))
		if r.Kudos > 0 {
			fmt.Fprintf(&b, " · %d kudos", r.Kudos)
		}
		b.WriteString("\n")
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
		s.do(func() {
			if err != nil {
				s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), s.win))
				return
			}
			intro := wrapped("Who the community finds helpful: marks count once per member who gave them, weighed by that member's own standing, and kudos from the owner and moderators. How much anyone posts does not count.")
			intro.Importance = widget.LowImportance
			scroll := container.NewVScroll(wrapped(boardText(board)))
			scroll.SetMinSize(fyne.NewSize(520, 300))
			s.show(dialog.NewCustom("Recognition", "Close", container.NewBorder(intro, nil, nil, nil, scroll), s.win))
		})
	}()
}
