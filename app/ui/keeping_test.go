package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// widgetsIn lists the widgets of type W under o, in the order they are laid out.
func widgetsIn[W fyne.CanvasObject](o fyne.CanvasObject) []W {
	var out []W
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if w, ok := o.(W); ok {
			out = append(out, w)
			return
		}
		switch x := o.(type) {
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
			return
		}
		if w, ok := o.(fyne.Widget); ok {
			for _, c := range test.WidgetRenderer(w).Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return out
}

// TestFileRulesFromTheDesktop: the owner's Community > Files… sets the largest file and "every
// file"; Bo's says those rules in words, shows what his device keeps, and saves his own budget;
// a budget that is not a number is a sentence, not a save.
func TestFileRulesFromTheDesktop(t *testing.T) {
	a := test.NewTempApp(t)
	ana, bo, _ := anaAndBo(t, a)
	av := ana.shell.view
	eventually(t, "Bo's community window", func() bool {
		return bo.win.Content() == bo.shell.view.content && len(bo.shell.view.members) == 2
	}, bo.q, ana.q)
	menuItem(ana.win.MainMenu().Items[2], "Files…").Action()
	eventually(t, "Ana's files dialog", func() bool {
		return labelWith(ana.win.Canvas().Overlays().Top(), "of the 2 GiB it keeps at most") != nil
	}, ana.q, bo.q)
	dlg := ana.win.Canvas().Overlays().Top()
	es := widgetsIn[*widget.Entry](dlg)
	if len(es) != 2 || es[0].Text != "2048" || es[1].Text != "100" {
		t.Fatalf("the owner's entries: %d", len(es))
	}
	es[1].SetText("25")
	widgetsIn[*widget.RadioGroup](dlg)[0].SetSelected(keepOptions[1])
	test.Tap(find(dlg, "Save the rules"))
	eventually(t, "the rules saved", func() bool { return labelWith(dlg, "Saved: every member's Kith follows") != nil }, ana.q, bo.q)
	if k, err := ana.p.Svc.Keeping(av.cur); err != nil || k.MaxFileMiB != 25 || !k.KeepAll {
		t.Fatalf("Ana's keeping: %+v, %v", k, err)
	}

	eventually(t, "Bo reads the rules", func() bool {
		k, err := bo.p.Svc.Keeping(av.cur)
		return err == nil && k.KeepAll && k.MaxFileMiB == 25
	}, bo.q, ana.q)
	menuItem(bo.win.MainMenu().Items[2], "Files…").Action()
	eventually(t, "Bo's files dialog", func() bool {
		return labelWith(bo.win.Canvas().Overlays().Top(), "files of up to 25 MiB; members keep every file") != nil
	}, bo.q, ana.q)
	bdlg := bo.win.Canvas().Overlays().Top()
	if find(bdlg, "Save the rules") != nil || len(widgetsIn[*widget.Entry](bdlg)) != 1 {
		t.Fatal("a member is offered the owner's rules")
	}
	budget := widgetsIn[*widget.Entry](bdlg)[0]
	budget.SetText("lots")
	test.Tap(find(bdlg, "Keep at most this"))
	if labelWith(bdlg, "Say how many MiB") == nil {
		t.Fatal("no sentence for a budget that is not a number")
	}
	budget.SetText("4096")
	test.Tap(find(bdlg, "Keep at most this"))
	eventually(t, "Bo's budget saved", func() bool {
		k, err := bo.p.Svc.Keeping(av.cur)
		return err == nil && k.BudgetMiB == 4096 && labelWith(bdlg, "keeps at most 4 GiB") != nil
	}, bo.q, ana.q)
	if l := labelWith(bdlg, "take"); l == nil || !strings.Contains(l.Text, "on this device") {
		t.Fatal("Bo's dialog does not say what the files take")
	}
}
