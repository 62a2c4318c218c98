package ui

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
)

// TestFilesFromTheDesktop: a picture sent from the composer (as the paperclip or a drop sends it)
// shows in the row with its name, size and dimensions, with what was typed; the sender's menu
// shows and saves it; a member who does not hold it yet is told so, is offered no Save but Get,
// and once got, the row says it is here.
func TestFilesFromTheDesktop(t *testing.T) {
	a := test.NewTempApp(t)
	ana, bo, _ := anaAndBo(t, a)
	av, bv := ana.shell.view, bo.shell.view
	eventually(t, "Bo's community window", func() bool {
		return bo.win.Content() == bv.content && len(bv.members) == 2 && bv.curCh == av.curCh
	}, bo.q, ana.q)
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	img.Set(1, 1, color.White)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "glaze test.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
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
	if !strings.Contains(strings.Join(labels, "|"), "Show glaze test.png|Save glaze test.png…") {
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
