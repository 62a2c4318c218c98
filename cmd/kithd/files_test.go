package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
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
