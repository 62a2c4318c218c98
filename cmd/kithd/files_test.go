package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFilesAtTheCommandLine: `post --file PATH [TEXT]` sends files (several, text optional);
// `messages --json` lists them under attachments with name, size, mime, blob_id and have; the
// sender's `fetch BLOB_ID --out PATH` saves one byte for byte and never over a file; a member
// who does not hold it fetches it from the sender; a folder or a missing file is refused.
func TestFilesAtTheCommandLine(t *testing.T) {
	k := makers(t, "Bo")
	owner, bo := k[0], k[1]
	dir := t.TempDir()
	doc := make([]byte, 600<<10)
	rand.Read(doc)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "notes.bin"), doc, 0o644))
	must(os.WriteFile(filepath.Join(dir, "readme.txt"), []byte("kiln notes"), 0o644))
	owner(0, "post", "--file", filepath.Join(dir, "notes.bin"), "--file", filepath.Join(dir, "readme.txt"), "Two files")
	owner(0, "post", "--file", filepath.Join(dir, "readme.txt"))
	if _, stderr := owner(1, "post", "--file", filepath.Join(dir, "nothing.bin"), "x"); !strings.Contains(stderr, "cannot send") {
		t.Fatalf("a missing file: %s", stderr)
	}
	owner(2, "post", "--file", dir, "a folder")

	out, _ := owner(0, "messages", "--json")
	var ms []struct {
		Text        string `json:"text"`
		Attachments []struct {
			Name   string `json:"name"`
			Size   int64  `json:"size"`
			Mime   string `json:"mime"`
			BlobID string `json:"blob_id"`
			Have   bool   `json:"have"`
		} `json:"attachments"`
	}
	must(json.Unmarshal([]byte(out), &ms))
	if len(ms) != 2 || len(ms[0].Attachments) != 2 || len(ms[1].Attachments) != 1 || ms[1].Text != "" {
		t.Fatalf("messages --json: %s", out)
	}
	a := ms[0].Attachments[0]
	if a.Name != "notes.bin" || a.Size != int64(len(doc)) || a.Mime != "application/octet-stream" || !a.Have || len(a.BlobID) != 64 {
		t.Fatalf("the first file: %+v", a)
	}
	if txt := ms[0].Attachments[1]; !strings.HasPrefix(txt.Mime, "text/plain") {
		t.Fatalf("the second file's type: %q", txt.Mime)
	}
	saved := filepath.Join(dir, "saved.bin")
	owner(0, "fetch", "--out", saved, a.BlobID[:12])
	got, err := os.ReadFile(saved)
	if err != nil || !bytes.Equal(got, doc) {
		t.Fatalf("the saved file: %d bytes, %v", len(got), err)
	}
	if _, stderr := owner(1, "fetch", "--out", saved, a.BlobID); !strings.Contains(stderr, "exists already") {
		t.Fatalf("fetch over a file: %s", stderr)
	}
	within(t, 20*time.Second, "Bo has the message", func() bool {
		out, _ := bo(0, "messages", "--json")
		return strings.Contains(out, a.BlobID)
	})
	if out, _ := bo(0, "messages", "--json"); !strings.Contains(out, `"have":false`) {
		t.Fatalf("Bo's view: %s", out)
	}
	bo(0, "fetch", "--out", filepath.Join(dir, "bo.bin"), a.BlobID) // from the owner, over the blob protocol
	if got, err := os.ReadFile(filepath.Join(dir, "bo.bin")); err != nil || !bytes.Equal(got, doc) {
		t.Fatalf("Bo's copy: %d bytes, %v", len(got), err)
	}
	if out, _ := bo(0, "messages", "--json"); !strings.Contains(out, `"have":true`) {
		t.Fatalf("Bo's view after the fetch: %s", out)
	}
	owner(2, "fetch", a.BlobID)
}

// TestFileSettingsAtTheCommandLine: the owner's `settings --max-file-mib N --keep-files
// all|opened` (a member may not); a file over the limit is refused in a sentence; `files
// [--budget MIB] [--json]` says what this device keeps (used_bytes, budget_mib, keep_files,
// max_file_mib, missing_files, missing_bytes); with every file kept, Bo's kithd fetches a file by
// itself; a bad budget is a usage error.
func TestFileSettingsAtTheCommandLine(t *testing.T) {
	k := makers(t, "Bo")
	owner, bo := k[0], k[1]
	dir := t.TempDir()
	big := filepath.Join(dir, "big.bin")
	if err := os.WriteFile(big, make([]byte, 1<<20+1), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := owner(0, "settings", "--max-file-mib", "1", "--json")
	var set map[string]any
	if err := json.Unmarshal([]byte(out), &set); err != nil || set["max_file_mib"] != 1.0 || set["keep_files"] != "opened" {
		t.Fatalf("settings --json: %s", out)
	}
	if _, stderr := owner(2, "post", "--file", big, "too big"); !strings.Contains(stderr, "larger than the 1 MiB a file may be") {
		t.Fatalf("a file over the limit: %s", stderr)
	}
	owner(2, "settings", "--max-file-mib", "0")
	owner(2, "settings", "--keep-files", "some")
	within(t, 20*time.Second, "Bo learns the limit", func() bool {
		out, _ := bo(0, "files", "--json")
		return strings.Contains(out, `"max_file_mib":1`)
	})
	bo(1, "settings", "--keep-files", "all") // a member: not allowed
	owner(0, "settings", "--keep-files", "all", "--max-file-mib", "5")
	owner(0, "post", "--file", big, "a first look")
	within(t, 30*time.Second, "Bo's kithd keeps the file by itself", func() bool {
		out, _ := bo(0, "messages", "--json")
		return strings.Contains(out, `"have":true`)
	})
	out, _ = bo(0, "files", "--budget", "64", "--json")
	var files struct {
		Used         int64  `json:"used_bytes"`
		Budget       int    `json:"budget_mib"`
		Keep         string `json:"keep_files"`
		MaxFile      int    `json:"max_file_mib"`
		Missing      *int   `json:"missing_files"`
		MissingBytes *int64 `json:"missing_bytes"`
	}
	if err := json.Unmarshal([]byte(out), &files); err != nil || files.Used < 1<<20 || files.Budget != 64 || files.Keep != "all" ||
		files.MaxFile != 5 || files.Missing == nil || *files.Missing != 0 || files.MissingBytes == nil {
		t.Fatalf("files --json: %s (%v)", out, err)
	}
	bo(2, "files", "--budget", "0")
	if out, _ := bo(0, "files"); !strings.Contains(out, "of a budget of 64 MiB") {
		t.Fatalf("files: %s", out)
	}
}

// TestProfilePictureAtTheCommandLine: `profile --picture PATH` sets your picture (a file that is
// not a picture is refused), `profile --json` and `members --json` give its blob ID under
// "picture", another member's `fetch` saves it byte for byte, and `--no-picture` takes it away.
func TestProfilePictureAtTheCommandLine(t *testing.T) {
	k := makers(t, "Bo")
	owner, bo := k[0], k[1]
	dir := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 400, 300))
	img.Set(10, 10, color.RGBA{R: 255, A: 255})
	var pic bytes.Buffer
	if err := png.Encode(&pic, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ana.png")
	if err := os.WriteFile(path, pic.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.png"), []byte("not a picture"), 0o644); err != nil {
		t.Fatal(err)
	}
	owner(2, "profile", "--picture", filepath.Join(dir, "notes.png"))
	owner(2, "profile", "--picture", path, "--no-picture")
	out, _ := owner(0, "profile", "--picture", path, "--json")
	var prof struct {
		Picture string `json:"picture"`
	}
	if err := json.Unmarshal([]byte(out), &prof); err != nil || len(prof.Picture) != 64 {
		t.Fatalf("profile --json: %s", out)
	}
	within(t, 20*time.Second, "Bo sees the owner's picture", func() bool {
		out, _ := bo(0, "members", "--json")
		return strings.Contains(out, `"picture":"`+prof.Picture+`"`)
	})
	saved := filepath.Join(dir, "saved.png")
	bo(0, "fetch", "--out", saved, prof.Picture[:12])
	if got, err := os.ReadFile(saved); err != nil || !bytes.Equal(got, pic.Bytes()) {
		t.Fatalf("the picture at Bo's: %d bytes, %v", len(got), err)
	}
	out, _ = owner(0, "profile", "--no-picture", "--json")
	if !strings.Contains(out, `"picture":""`) {
		t.Fatalf("after --no-picture: %s", out)
	}
}

// TestExportAtTheCommandLine: `kithd export` writes a community as a folder (a relative --out is
// the caller's, not the running peer's), says what it wrote, and refuses a folder that is not
// empty (exit 1, a sentence), a format it does not write and a missing --out (exit 2).
func TestExportAtTheCommandLine(t *testing.T) {
	k := makers(t, "Bo")
	owner := k[0]
	owner(0, "post", "Kiln day on Saturday")
	dir := t.TempDir()
	t.Chdir(dir)
	out, _ := owner(0, "export", "--format", "json", "--out", "studio", "--json")
	var sum struct {
		Dir      string `json:"dir"`
		Messages int    `json:"messages"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Dir != filepath.Join(dir, "studio") || sum.Messages < 1 {
		t.Fatalf("export --json: %s", out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "studio", "export.json")); err != nil || !strings.Contains(string(b), "Kiln day on Saturday") {
		t.Fatalf("export.json: %v\n%s", err, b)
	}
	if _, stderr := owner(1, "export", "--format", "html", "--out", "studio"); !strings.Contains(stderr, "not empty") {
		t.Fatalf("into a folder that is not empty: %s", stderr)
	}
	owner(2, "export", "--format", "pdf", "--out", "other")
	owner(2, "export", "--format", "html")
	if out, _ := owner(0, "export", "--format", "html", "--out", "page"); !strings.Contains(out, "index.html") {
		t.Fatalf("export html says %q", out)
	}
}
