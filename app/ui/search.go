package ui

// Search (View > Search…, Ctrl+F): the words typed, looked up in this install's own index of the
// community shown; a result opens its channel and goes to the message.

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/kith-app/kith/app"
)

// openSearch shows the search dialog for the community shown.
func (v *CommunityView) openSearch() {
	id := v.cur
	if id.IsZero() {
		return
	}
	query := widget.NewEntry()
	query.SetPlaceHolder("Words to find, in any language")
	status := wrapped("Enter searches the messages on this device; nothing leaves it.")
	status.Importance = widget.LowImportance
	results := container.NewVBox()
	var d dialog.Dialog
	asked := 0 // the latest search asked: an older one that answers late is dropped
	search := func(q string) {
		status.SetText("Searching…")
		asked++
		n := asked
		go func() {
			ms, err := v.s.svc.Search(id, q, 50)
			v.s.do(func() {
				if n != asked {
					return
				}
				results.RemoveAll()
				switch {
				case err != nil:
					status.SetText(sentence(err))
				case len(ms) == 0:
					status.SetText("No message here holds every one of those words.")
				default:
					status.SetText(fmt.Sprintf("%d %s, the newest first:", len(ms), plural(len(ms), "message", "messages")))
				}
				for _, m := range ms {
					b := widget.NewButton(v.searchLine(m), func() {
						d.Hide()
						v.goTo(m)
					})
					b.Alignment = widget.ButtonAlignLeading
					results.Add(b)
				}
			})
		}()
	}
	query.OnSubmitted = search
	scroll := container.NewVScroll(results)
	scroll.SetMinSize(fyne.NewSize(600, 320))
	d = dialog.NewCustom("Search", "Close", container.NewBorder(container.NewVBox(query, status), nil, nil, nil, scroll), v.s.win)
	d.Resize(fyne.NewSize(660, 460))
	v.searchDialog, v.searchQuery = d, query
	v.s.show(d)
	v.s.win.Canvas().Focus(query)
}

// searchLine is one result: where, who, when, and the start of the text.
func (v *CommunityView) searchLine(m app.Message) string {
	where := ""
	for _, c := range v.chans {
		if c.ID == m.Channel {
			where = "#" + c.Name + " · "
		}
	}
	return where + nameOr(m.Name) + " · " + m.Time.Local().Format("2 Jan 15:04") + ": " + clip(strings.Join(strings.Fields(m.Text), " "), 90)
}
