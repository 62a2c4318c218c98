// Package ui is Kith's desktop interface: Fyne views over app.Service, one file per screen.
// Views never touch the disk or the network in a tap handler: they call the service from a
// goroutine and bring results back to widgets with fyne.Do.
//
// It imports app and Fyne only, never p2p or storage.
package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// Home is the first screen: the person's communities and the form that creates one.
type Home struct {
	svc *app.Service
	win fyne.Window
	do  func(func()) // runs a widget update on the Fyne thread: fyne.Do, or a test's queue

	list    *widget.List
	empty   *widget.Label
	items   []app.Summary // read and written on the Fyne thread only
	form    *widget.Form
	you     *widget.Entry
	name    *widget.Entry
	about   *widget.Entry
	cap     *widget.Entry
	history *widget.RadioGroup
	status  *widget.Label
	create  *widget.Button
}

// NewHome builds the home screen in win and starts loading the list of communities.
func NewHome(svc *app.Service, win fyne.Window) *Home { return newHome(svc, win, fyne.Do) }

func newHome(svc *app.Service, win fyne.Window, do func(func())) *Home {
	h := &Home{svc: svc, win: win, do: do}
	h.list = widget.NewList(
		func() int { return len(h.items) },
		func() fyne.CanvasObject {
			title := widget.NewLabel("community")
			title.TextStyle.Bold = true
			return container.NewVBox(title, widget.NewLabel("details"))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			box := o.(*fyne.Container)
			it := h.items[i]
			box.Objects[0].(*widget.Label).SetText(it.Name)
			box.Objects[1].(*widget.Label).SetText(fmt.Sprintf("%s · %s", it.Role, members(it.Members)))
		},
	)
	h.empty = widget.NewLabel("No communities yet. Create one on the right: it takes a minute, and no account or server.")
	h.empty.Wrapping = fyne.TextWrapWord

	h.you = widget.NewEntry()
	h.you.SetPlaceHolder("How members will see you")
	h.name = widget.NewEntry()
	h.name.SetPlaceHolder("e.g. Clay Studio Friends")
	h.about = widget.NewMultiLineEntry()
	h.about.SetPlaceHolder("What the community is for (optional)")
	h.about.Wrapping = fyne.TextWrapWord
	h.about.SetMinRowsVisible(3)
	h.cap = widget.NewEntry()
	h.cap.SetPlaceHolder("No cap")
	h.cap.Validator = func(s string) error {
		if _, err := parseCap(s); err != nil {
			return err
		}
		return nil
	}
	h.history = widget.NewRadioGroup([]string{historyFull, historyFromJoin}, nil)
	h.history.SetSelected(historyFull)
	h.history.Horizontal = true
	h.status = widget.NewLabel("")
	h.status.Wrapping = fyne.TextWrapWord
	h.create = widget.NewButton("Create community", h.submit)
	h.create.Importance = widget.HighImportance
	h.form = widget.NewForm(
		widget.NewFormItem("Your name", h.you),
		widget.NewFormItem("Community name", h.name),
		widget.NewFormItem("About", h.about),
		widget.NewFormItem("Member cap", h.cap),
		widget.NewFormItem("History", h.history),
	)
	h.form.Items[3].HintText = "Kith communities are small by design: 100 is a good start."
	h.form.Items[4].HintText = "Whether new members can read what was written before they joined."
	h.refresh()
	return h
}

const (
	historyFull     = "New members read everything"
	historyFromJoin = "Only from their join on"
)

func members(n int) string {
	if n == 1 {
		return "1 member"
	}
	return fmt.Sprintf("%d members", n)
}

func parseCap(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 2 || n > 1<<20 {
		return 0, fmt.Errorf("a whole number from 2 up, or empty for no cap")
	}
	return n, nil
}

// Content is the screen's layout.
func (h *Home) Content() fyne.CanvasObject {
	left := container.NewBorder(
		widget.NewLabelWithStyle("Your communities", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		nil, nil, nil,
		container.NewStack(h.list, container.NewVBox(h.empty)),
	)
	right := container.NewVBox(
		widget.NewLabelWithStyle("Create a community", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		widget.NewLabel("You will own it: you invite members, and no company sits in between."),
		h.form,
		container.NewHBox(h.create),
		h.status,
	)
	split := container.NewHSplit(container.NewPadded(left), container.NewPadded(container.NewVScroll(right)))
	split.Offset = 0.35
	return split
}

// refresh reloads the list of communities in the background.
func (h *Home) refresh() {
	go func() {
		items, err := h.svc.Communities()
		h.do(func() {
			if err != nil {
				h.status.SetText("Could not read your communities: " + err.Error())
				return
			}
			h.items = items
			h.empty.Hidden = len(items) > 0
			h.empty.Refresh()
			h.list.Refresh()
		})
	}()
}

// submit creates the community from the form, in the background.
func (h *Home) submit() {
	maxMembers, err := parseCap(h.cap.Text)
	if err != nil {
		h.status.SetText("Member cap: " + err.Error() + ".")
		return
	}
	if strings.TrimSpace(h.name.Text) == "" {
		h.status.SetText("Give the community a name first.")
		h.win.Canvas().Focus(h.name)
		return
	}
	p := app.CreateParams{
		Name: h.name.Text, About: h.about.Text, MaxMembers: maxMembers,
		DisplayName: h.you.Text, History: community.HistoryFull,
	}
	if h.history.Selected == historyFromJoin {
		p.History = community.HistoryFromJoin
	}
	h.create.Disable()
	h.status.SetText("Creating…")
	go func() {
		created, err := h.svc.CreateCommunity(context.Background(), p)
		h.do(func() {
			h.create.Enable()
			if err != nil {
				h.status.SetText("Could not create the community: " + err.Error())
				return
			}
			h.status.SetText(fmt.Sprintf("%q is ready.", created.Name))
			h.name.SetText("")
			h.about.SetText("")
			h.showRecoveryWords(created)
			h.refresh()
		})
	}()
}

// showRecoveryWords shows the recovery words once.
func (h *Home) showRecoveryWords(c app.Created) {
	words := strings.Fields(c.RecoveryWords)
	grid := container.NewGridWithColumns(3)
	for i, w := range words {
		grid.Add(widget.NewLabel(fmt.Sprintf("%2d. %s", i+1, w)))
	}
	intro := widget.NewLabel("These words can move ownership of " + strconv.Quote(c.Name) +
		" to a new key if this computer is lost or its key is stolen. Write them down on paper and keep them safe. Kith shows them only now and does not keep them.")
	intro.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustom("Write down your recovery words", "I have written them down",
		container.NewVBox(intro, grid), h.win)
	d.Resize(fyne.NewSize(560, 420))
	d.Show()
}
