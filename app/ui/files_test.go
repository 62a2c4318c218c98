package ui

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/kith-app/kith/app"
)

// TestFilesFromTheDesktop: a picture sent from the composer (as the paperclip or a drop sends it)
// shows in the row with its name, size and dimensions, with what was typed; the sender's menu
// shows and saves it; a member who does not hold it yet is told so, is offered no Save but Get,
// and once got, the row says it is here.
func TestFilesFromTheDesktop(t *testing.T) {
	a := test.NewTempApp(t)
	ana, bo, _ := anaAndBo(t, a)
	av, bv := ana.shell.view, bo.shell.view
	bosWindow(t, ana, bo)
	path := filepath.Join(t.TempDir(), "glaze test.png")
	if err := os.WriteFile(path, pngOf(t, 640, 480), 0o644); err != nil {
		t.Fatal(err)
	}
	test.Type(av.composer, "First look")
	av.sendFiles(av.cur, av.curCh, []fyne.URI{storage.NewFileURI(path)})
	eventually(t, "the picture in Ana's row", func() bool {
		r := rowWith(ana, "glaze test.png")
		return r != nil && strings.Contains(shownText(r.m), "First look\n🖼 glaze test.png") && strings.Contains(shownText(r.m), "640×480")
	}, ana.q, bo.q)
	if av.composer.Text != "" {
		t.Fatalf("the composer still holds %q", av.composer.Text)
	}
	var labels []string
	for _, it := range av.msgs.conversationItems(rowWith(ana, "glaze test.png").m) {
		labels = append(labels, it.Label)
	}
	if !strings.Contains(strings.Join(labels, "|"), "Open glaze test.png|Save glaze test.png…") {
		t.Fatalf("Ana's menu: %v", labels)
	}
	eventually(t, "the picture at Bo's, not held", func() bool {
		r := rowWith(bo, "glaze test.png")
		return r != nil && strings.Contains(shownText(r.m), "not on this device yet")
	}, bo.q, ana.q)
	var get func()
	for _, it := range bv.msgs.conversationItems(rowWith(bo, "glaze test.png").m) {
		if strings.HasPrefix(it.Label, "Save ") {
			t.Fatal("Bo is offered to save what he does not hold")
		}
		if it.Label == "Get glaze test.png from the members online" {
			get = it.Action
		}
	}
	if get == nil {
		t.Fatal("Bo is not offered to get the picture")
	}
	get()
	eventually(t, "the picture at Bo's, held", func() bool {
		r := rowWith(bo, "glaze test.png")
		return r != nil && !strings.Contains(shownText(r.m), "not on this device yet")
	}, bo.q, ana.q)
}

// TestPicturesInTheConversation: a picture's thumbnail shows in the row at Bo's before he holds
// the picture; a tap opens it with the thumbnail at once, fetches the full picture from the
// members online, then shows it at its own size, with Save.
func TestPicturesInTheConversation(t *testing.T) {
	a := test.NewTempApp(t)
	ana, bo, ctx := anaAndBo(t, a)
	av := ana.shell.view
	bosWindow(t, ana, bo)
	if _, err := ana.p.Svc.PostFiles(ctx, av.cur, av.curCh, "The kiln, loaded", [32]byte{}, []app.File{memPicture(t, "kiln.png", 900, 600)}); err != nil {
		t.Fatal(err)
	}
	var tv *thumbView
	eventually(t, "the thumbnail in Bo's row", func() bool {
		tv = nil
		for _, w := range widgetsIn[*thumbView](bo.win.Content()) {
			if w.Visible() && w.a.Name == "kiln.png" && w.img.Image != nil {
				tv = w
			}
		}
		return tv != nil && !tv.a.Have
	}, bo.q, ana.q)
	if sz := tv.Size(); sz.Height != picHeight || sz.Width < 200 || sz.Width > picMaxWidth {
		t.Fatalf("the thumbnail's size: %v", sz)
	}
	test.Tap(tv)
	dlg := bo.win.Canvas().Overlays().Top()
	if dlg == nil || len(widgetsIn[*canvas.Image](dlg)) == 0 {
		t.Fatal("no picture opened")
	}
	shown := widgetsIn[*canvas.Image](dlg)[0]
	if b := shown.Image.Bounds(); b.Dx() != 320 {
		t.Fatalf("the picture opens with %v, want the thumbnail first", b)
	}
	eventually(t, "the full picture at Bo's", func() bool {
		save := find(dlg, "Save…")
		return shown.Image.Bounds().Dx() == 900 && save != nil && save.Visible()
	}, bo.q, ana.q)
}

// TestPasteIntoTheComposer: text pasted into the composer is pasted (the clipboard here holds no
// picture); a picture pasted is sent with what is typed, named for when it was pasted. (The
// desktop smoke test pastes a real picture from the X clipboard into the real window.)
func TestPasteIntoTheComposer(t *testing.T) {
	a := test.NewTempApp(t)
	ana, _, _ := anaAndBo(t, a)
	av := ana.shell.view
	cb := ana.win.Clipboard()
	cb.SetContent("kiln at six")
	av.composer.TypedShortcut(&fyne.ShortcutPaste{Clipboard: cb})
	eventually(t, "the text pasted", func() bool { return av.composer.Text == "kiln at six" }, ana.q)
	av.pastePicture(pngOf(t, 200, 100))
	eventually(t, "the pasted picture sent with the text", func() bool {
		r := rowWith(ana, "kiln at six")
		return r != nil && len(r.m.Attachments) == 1 && strings.HasPrefix(r.m.Attachments[0].Name, "Pasted picture ") &&
			r.m.Attachments[0].Mime == "image/png" && r.m.Attachments[0].Width == 200
	}, ana.q)
	if av.composer.Text != "" {
		t.Fatalf("the composer still holds %q", av.composer.Text)
	}
}

// TestProfilePictureFromTheDesktop: Ana's picture shows as her avatar at Bo's, in the members
// panel and beside her messages; Ana's profile dialog shows it with Remove, which takes it away
// at both.
func TestProfilePictureFromTheDesktop(t *testing.T) {
	a := test.NewTempApp(t)
	ana, bo, ctx := anaAndBo(t, a)
	av, bv := ana.shell.view, bo.shell.view
	bosWindow(t, ana, bo)
	av.msgs.post("my kiln", [32]byte{})
	f := memPicture(t, "me.png", 300, 300)
	if err := ana.p.Svc.SetProfilePicture(ctx, av.cur, &f); err != nil {
		t.Fatal(err)
	}
	anaKey := av.me().Key
	shows := func(w fyne.Window, v *CommunityView, want bool) bool {
		if (v.pictureOf(anaKey) != nil) != want {
			return false
		}
		seen := 0
		for _, it := range widgetsIn[*avatar](w.Content()) {
			if it.Visible() && it.pic.Visible() {
				seen++
			}
		}
		return (seen >= 2) == want // the members panel and a message row
	}
	eventually(t, "Ana's picture at Bo's", func() bool { return rowWith(bo, "my kiln") != nil && shows(bo.win, bv, true) }, bo.q, ana.q)
	av.openProfile()
	eventually(t, "Ana's profile dialog with her picture", func() bool {
		top := ana.win.Canvas().Overlays().Top()
		return top != nil && find(top, "Remove") != nil && find(top, "Remove").Visible()
	}, ana.q, bo.q)
	test.Tap(find(ana.win.Canvas().Overlays().Top(), "Remove"))
	eventually(t, "the picture gone at Bo's", func() bool { return shows(bo.win, bv, false) }, bo.q, ana.q)
}

// pngOf is a w×h PNG picture with a line across it.
func pngOf(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, x%h, color.RGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// memPicture is a w×h PNG picture to send, in memory.
func memPicture(t testing.TB, name string, w, h int) app.File {
	b := pngOf(t, w, h)
	return app.File{Name: name, Size: int64(len(b)), Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
}

// TestFileButtonsInTheConversation: a file that is not a picture has a button in its row: Save
// at the sender's, Get at Bo's, where a tap fetches it from the members online and the button
// becomes Save; Save opens the save dialog.
func TestFileButtonsInTheConversation(t *testing.T) {
	a := test.NewTempApp(t)
	ana, bo, ctx := anaAndBo(t, a)
	av := ana.shell.view
	bosWindow(t, ana, bo)
	notes := make([]byte, 300<<10)
	if _, err := ana.p.Svc.PostFiles(ctx, av.cur, av.curCh, "the kiln log", [32]byte{}, []app.File{{Name: "kiln-log.csv", Size: int64(len(notes)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(notes)), nil }}}); err != nil {
		t.Fatal(err)
	}
	button := func(w fyne.Window, prefix string) *widget.Button {
		for _, b := range widgetsIn[*widget.Button](w.Content()) {
			if b.Visible() && strings.HasPrefix(b.Text, prefix) {
				return b
			}
		}
		return nil
	}
	eventually(t, "Ana's Save button", func() bool { return button(ana.win, "Save kiln-log.csv (300 KiB)") != nil }, ana.q, bo.q)
	eventually(t, "Bo's Get button", func() bool { return button(bo.win, "Get kiln-log.csv (300 KiB)") != nil }, bo.q, ana.q)
	test.Tap(button(bo.win, "Get kiln-log.csv"))
	eventually(t, "Bo's Save button once the file is here", func() bool { return button(bo.win, "Save kiln-log.csv") != nil }, bo.q, ana.q)
	test.Tap(button(bo.win, "Save kiln-log.csv"))
	eventually(t, "the save dialog", func() bool { return bo.win.Canvas().Overlays().Top() != nil }, bo.q, ana.q)
}
