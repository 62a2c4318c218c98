package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// RepairFunc rebuilds the data folder's store from other members (app/peer.Resync, wired by
// cmd/kith): it says each step through progress, and returns a summary (what came back, and
// from how many members) or why it could not. A summary with an error says what came and what
// did not.
type RepairFunc func(ctx context.Context, progress func(string)) (summary string, err error)

// Repair is the window shown when the store does not open because it is damaged: what is
// wrong, and a button that fetches the history again from other members, keeping the identity.
// When it is done, or when the person chooses to go on with what came, start opens Kith's
// window (on the Fyne thread) and this one closes.
type Repair struct {
	win    fyne.Window
	fetch  *widget.Button
	goOn   *widget.Button
	status *widget.Label
	ctx    context.Context
	cancel context.CancelFunc
}

// NewRepair shows the repair window for cause. do runs a UI update from another goroutine (nil:
// fyne.Do).
func NewRepair(a fyne.App, cause error, repair RepairFunc, start func() error, do func(func())) *Repair {
	if do == nil {
		do = fyne.Do
	}
	r := &Repair{win: a.NewWindow("Kith: the local store is damaged"), status: wrapped("")}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	why := wrapped(sentence(cause))
	what := wrapped("Kith can fetch the history again from the other members of your communities, as they knew it. " +
		"Your identity stays the same, so they let you in; the damaged files are kept aside, nothing is deleted. " +
		"Members must be online for this.")
	r.goOn = widget.NewButton("Start Kith with what came", func() { r.start(start) })
	r.goOn.Hide()
	r.fetch = widget.NewButton("Fetch the history from other members", nil)
	r.fetch.Importance = widget.HighImportance
	r.fetch.OnTapped = func() {
		r.fetch.Disable()
		r.goOn.Hide()
		r.status.SetText("Looking for members…")
		go func() {
			ctx, cancel := context.WithTimeout(r.ctx, 10*time.Minute)
			defer cancel()
			summary, err := repair(ctx, func(line string) { do(func() { r.status.SetText(line + ".") }) })
			do(func() {
				if err != nil {
					text := sentence(err)
					if summary != "" {
						text = summary + "\n" + text
					}
					r.status.SetText(text)
					r.fetch.SetText("Try again")
					r.fetch.Enable()
					if summary != "" {
						r.goOn.Show()
					}
					return
				}
				r.status.SetText(summary)
				r.start(start)
			})
		}()
	}
	r.win.SetContent(container.NewPadded(container.NewVBox(heading("The local store is damaged"), why, what,
		container.NewHBox(r.fetch, r.goOn), r.status)))
	r.win.Resize(fyne.NewSize(560, 320))
	r.win.SetOnClosed(r.cancel)
	r.win.Show()
	return r
}

// start opens Kith's window; on failure this window says why and stays.
func (r *Repair) start(start func() error) {
	if err := start(); err != nil {
		r.status.SetText(sentence(err))
		r.fetch.Enable()
		return
	}
	r.cancel()
	r.win.SetOnClosed(nil)
	r.win.Close()
}
