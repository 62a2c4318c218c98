package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
	"github.com/kith-app/kith/app/community"
)

// TestExport: a member exports a community as a folder: its channels and messages oldest first,
// with names, replies and files — the picture this device holds written beside them, the file it
// does not hold named only; members' text escaped in the page; JSON for programs. A folder that
// is not empty is refused with a sentence and left as it was.
func TestExport(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ana, bo := apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, ana, "Ana", map[*apptest.Peer]string{bo: "Bo"})
	chans, _ := ana.Svc.Channels(id)
	general := chans[0].ID
	first, err := ana.Svc.Post(ctx, id, general, "Kiln day on Saturday: <script>alert('x')</script> & bring glazes", community.Hash{})
	if err != nil {
		t.Fatal(err)
	}
	pic := pngOf(t, 400, 300)
	withFiles, err := ana.Svc.PostFiles(ctx, id, general, "The new celadon", first.ID, []app.File{memFile("celadon test.png", pic), memFile("notes.txt", []byte("cone 6"))})
	if err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, bo, ana, id)
	if err := bo.Svc.FetchFile(ctx, id, withFiles.ID, withFiles.Attachments[0].Blob, []string{ana.Node.ID()}); err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join(t.TempDir(), "studio export")
	sum, err := bo.Svc.Export(ctx, id, "json", dir)
	if err != nil || sum.Messages != 2 || sum.Files != 1 || sum.FilesMissing != 1 {
		t.Fatalf("export json: %+v, %v", sum, err)
	}
	var doc struct {
		Community struct{ Name string }
		Channels  []struct {
			Name     string
			Messages []struct {
				Name, Text  string
				ReplyTo     string `json:"reply_to"`
				Attachments []struct{ Name, File string }
			}
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "export.json"))
	if err != nil || json.Unmarshal(raw, &doc) != nil || len(doc.Channels) == 0 {
		t.Fatalf("export.json: %v\n%s", err, raw)
	}
	msgs := doc.Channels[0].Messages
	if len(msgs) != 2 || msgs[0].Name != "Ana" || !strings.HasPrefix(msgs[0].Text, "Kiln day") || msgs[1].ReplyTo == "" {
		t.Fatalf("the messages: %+v", msgs)
	}
	atts := msgs[1].Attachments
	if len(atts) != 2 || atts[0].File == "" || atts[1].File != "" {
		t.Fatalf("the files: %+v", atts)
	}
	if got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(atts[0].File))); err != nil || !bytes.Equal(got, pic) {
		t.Fatalf("the picture written: %d bytes, %v", len(got), err)
	}

	if _, err := bo.Svc.Export(ctx, id, "html", dir); app.KindOf(err) != app.KindBadInput || !strings.Contains(app.Sentence(err), "not empty") {
		t.Fatalf("an export into a folder that is not empty: %v", err)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "export.json")); !bytes.Equal(again, raw) {
		t.Fatal("the refused export changed the folder")
	}
	if _, err := os.Stat(filepath.Join(dir, "index.html")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the refused export wrote index.html: %v", err)
	}
	if _, err := bo.Svc.Export(ctx, id, "pdf", t.TempDir()); app.KindOf(err) != app.KindBadInput {
		t.Fatalf("format pdf: %v", err)
	}

	page := t.TempDir() // empty: fine
	if _, err := bo.Svc.Export(ctx, id, "html", page); err != nil {
		t.Fatal(err)
	}
	body, _ := os.ReadFile(filepath.Join(page, "index.html"))
	if strings.Contains(string(body), "<script>") || !strings.Contains(string(body), "&lt;script&gt;") || !strings.Contains(string(body), "celadon%20test.png") {
		t.Fatalf("the page:\n%s", body)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".*part*")); len(left) != 0 {
		t.Fatalf("half exports left beside: %v", left)
	}
	openInChromium(t, filepath.Join(page, "index.html"), "Kiln day on Saturday", "The new celadon")

	// A page sent as a file, under a long name: written as text a browser does not run, under a
	// name every system takes.
	long := strings.Repeat("é", 120) + ".html"
	if _, err := ana.Svc.PostFiles(ctx, id, general, "a page", community.Hash{}, []app.File{memFile(long, []byte("<script>alert(1)</script>"))}); err != nil {
		t.Fatal(err)
	}
	all := t.TempDir()
	if sum, err := ana.Svc.Export(ctx, id, "json", all); err != nil || sum.FilesMissing != 0 || sum.Files != 3 {
		t.Fatalf("Ana's export: %+v, %v", sum, err)
	}
	written, _ := filepath.Glob(filepath.Join(all, "files", "*", "*"))
	pages := 0
	for _, f := range written {
		if base := filepath.Base(f); strings.Contains(base, "é") {
			pages++
			if !strings.HasSuffix(base, ".txt") || len(base) > 200 {
				t.Fatalf("the page's name in the export: %q (%d bytes)", base, len(base))
			}
		}
	}
	if pages != 1 {
		t.Fatalf("files written: %q", written)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	if _, err := ana.Svc.Export(ctx, id, "html", link); app.KindOf(err) != app.KindBadInput || !strings.Contains(app.Sentence(err), "link") {
		t.Fatalf("an export into a link: %v", err)
	}
}

// openInChromium opens a page in headless Chromium (Debian's package; CI installs it) with no
// network, and checks the text it shows.
func openInChromium(t *testing.T, page string, want ...string) {
	t.Helper()
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no chromium: .ci/deps.sh test installs it")
		}
		t.Skip("no chromium here (apt-get install chromium)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--proxy-server=127.0.0.1:9", "--user-data-dir="+t.TempDir(), "--dump-dom", "file://"+page)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	for _, w := range want {
		if !strings.Contains(string(out), w) {
			t.Fatalf("chromium shows no %q:\n%s", w, out)
		}
	}
}
