package ui

// Files (Community > Files…): what this device keeps of the community's files — the space they
// take against its budget, which the person sets here — and the owner's rules: the largest file,
// and whether members keep every file or only those they open.

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

// keepOptions are the owner's two choices, as the dialog says them.
var keepOptions = []string{"Only the files they open", "Every file (each member's Kith fetches them all)"}

// usedText says what the files take against the budget, and what this device lacks.
func usedText(k app.FileKeeping, missing []app.FileRef) string {
	t := fmt.Sprintf("The files of this community take %s on this device, of the %s it keeps at most.",
		app.SizeWords(k.Used), app.SizeWords(int64(k.BudgetMiB)<<20))
	var lack int64
	for _, f := range missing {
		lack += f.Size
	}
	switch {
	case len(missing) == 0:
		t += " Every file sent here is on this device."
	case k.KeepAll:
		t += fmt.Sprintf(" %d file(s) (%s) are not here yet: they come from the members online.", len(missing), app.SizeWords(lack))
	default:
		t += fmt.Sprintf(" %d file(s) (%s) are not here: each comes when you open it.", len(missing), app.SizeWords(lack))
	}
	return t
}

// openFiles reads what this device keeps off the window's goroutine, then shows it.
func (v *CommunityView) openFiles() {
	id := v.cur
	if id.IsZero() {
		return
	}
	owner := v.myRole() == community.RoleOwner
	go func() {
		k, err := v.s.svc.Keeping(id)
		var missing []app.FileRef
		if err == nil {
			missing, err = v.s.svc.MissingFiles(id)
		}
		v.s.do(func() {
			if err != nil {
				v.s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), v.s.win))
				return
			}
			v.showFiles(id, k, missing, owner)
		})
	}()
}

func (v *CommunityView) showFiles(id community.Hash, k app.FileKeeping, missing []app.FileRef, owner bool) {
	s := v.s
	used := wrapped(usedText(k, missing))
	bar := widget.NewProgressBar()
	bar.TextFormatter = func() string {
		return app.SizeWords(k.Used) + " of " + app.SizeWords(int64(bar.Max)) + fmt.Sprintf(" (%.0f%%)", 100*bar.Value/bar.Max)
	}
	bar.Max = float64(int64(k.BudgetMiB) << 20)
	bar.SetValue(min(float64(k.Used), bar.Max))
	budget := widget.NewEntry()
	budget.SetText(strconv.Itoa(k.BudgetMiB))
	budget.Validator = func(t string) error {
		if n, err := strconv.Atoi(strings.TrimSpace(t)); err != nil || n < 1 || n > app.MaxFilesBudgetMiB {
			return fmt.Errorf("a number of MiB from 1 to %d", app.MaxFilesBudgetMiB)
		}
		return nil
	}
	status := wrapped("")
	save := widget.NewButton("Keep at most this", nil)
	save.OnTapped = func() {
		n, err := strconv.Atoi(strings.TrimSpace(budget.Text))
		if err != nil || budget.Validate() != nil {
			status.SetText("Say how many MiB of this community's files this device keeps at most (1024 MiB is 1 GiB).")
			return
		}
		save.Disable()
		s.act(func(context.Context) error { return s.svc.SetFilesBudget(id, n) }, func(err error) {
			save.Enable()
			if err != nil {
				status.SetText(sentence(err))
				return
			}
			status.SetText("Saved: this device keeps at most " + app.SizeWords(int64(n)<<20) + " of this community's files.")
			bar.Max = float64(int64(n) << 20)
			bar.SetValue(min(float64(k.Used), bar.Max))
		})
	}
	box := container.NewVBox(used, bar,
		container.NewBorder(nil, nil, widget.NewLabel("Keep at most (MiB)"), save, budget), status, widget.NewSeparator())
	if !owner {
		box.Add(wrapped(fmt.Sprintf("The owner's rules: files of up to %d MiB; members keep %s.", k.MaxFileMiB, strings.ToLower(keepOptions[boolIndex(k.KeepAll)]))))
	} else {
		largest := widget.NewEntry()
		largest.SetText(strconv.Itoa(k.MaxFileMiB))
		largest.Validator = func(t string) error {
			if n, err := strconv.Atoi(strings.TrimSpace(t)); err != nil || n < 1 || n > community.MaxFileMiB {
				return fmt.Errorf("a number of MiB from 1 to %d", community.MaxFileMiB)
			}
			return nil
		}
		keep := widget.NewRadioGroup(keepOptions, nil)
		keep.SetSelected(keepOptions[boolIndex(k.KeepAll)])
		rulesStatus := wrapped("")
		apply := widget.NewButton("Save the rules", nil)
		apply.Importance = widget.HighImportance
		apply.OnTapped = func() {
			n, err := strconv.Atoi(strings.TrimSpace(largest.Text))
			if err != nil || largest.Validate() != nil {
				rulesStatus.SetText(fmt.Sprintf("The largest file is a number of MiB from 1 to %d.", community.MaxFileMiB))
				return
			}
			all := keep.Selected == keepOptions[1]
			apply.Disable()
			s.act(func(ctx context.Context) error {
				_, err := s.svc.SetEntry(ctx, id, func(e *app.EntrySettings) { e.MaxFileMiB, e.KeepFiles = n, all })
				return err
			}, func(err error) {
				apply.Enable()
				if err != nil {
					rulesStatus.SetText(sentence(err))
					return
				}
				rulesStatus.SetText("Saved: every member's Kith follows these rules once it reads them.")
			})
		}
		box.Add(widget.NewLabelWithStyle("Your rules for every member", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		box.Add(container.NewBorder(nil, nil, widget.NewLabel("Largest file (MiB)"), nil, largest))
		box.Add(widget.NewLabel("Members keep:"))
		box.Add(keep)
		box.Add(container.NewHBox(apply))
		box.Add(rulesStatus)
	}
	d := dialog.NewCustom("Files", "Close", box, s.win)
	d.Resize(fyne.NewSize(560, 0))
	s.show(d)
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}
