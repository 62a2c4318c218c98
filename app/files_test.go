package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
	"github.com/kith-app/kith/app/community"
)

// memFile is a file to send from memory.
func memFile(name string, data []byte) app.File {
	return app.File{Name: name, Size: int64(len(data)), Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
}

// TestPostFiles: a picture and a file go with a message: the picture has its size and a small
// thumbnail, both save back byte for byte from the sender's device; a member who synced the
// message sees them, not yet held; bad names and a file over the limit are refused with a
// sentence and write nothing; deleting the message deletes its files.
func TestPostFiles(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ana, bo := apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, ana, "Ana", map[*apptest.Peer]string{bo: "Bo"})
	chans, _ := ana.Svc.Channels(id)
	ch := chans[0].ID

	img := image.NewRGBA(image.Rect(0, 0, 800, 600))
	for x := range 800 {
		for y := range 600 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x + y), 255})
		}
	}
	var pic bytes.Buffer
	if err := png.Encode(&pic, img); err != nil {
		t.Fatal(err)
	}
	doc := make([]byte, community.BlobChunkSize*2+123)
	rand.Read(doc)
	m, err := ana.Svc.PostFiles(ctx, id, ch, "First look at the spring glazes", community.Hash{}, []app.File{memFile("glazes.png", pic.Bytes()), memFile("notes.bin", doc)})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 2 {
		t.Fatalf("attachments: %+v", m.Attachments)
	}
	p, f := m.Attachments[0], m.Attachments[1]
	if p.Mime != "image/png" || p.Width != 800 || p.Height != 600 || len(p.Thumb) == 0 || len(p.Thumb) > community.MaxThumbSize || !p.Have {
		t.Fatalf("the picture: %s %dx%d thumb %d have %v", p.Mime, p.Width, p.Height, len(p.Thumb), p.Have)
	}
	if th, _, err := image.DecodeConfig(bytes.NewReader(p.Thumb)); err != nil || th.Width != 320 || th.Height != 240 {
		t.Fatalf("the thumbnail: %+v, %v", th, err)
	}
	if f.Name != "notes.bin" || f.Size != int64(len(doc)) || len(f.Thumb) != 0 {
		t.Fatalf("the file: %+v", f)
	}
	for _, c := range []struct {
		a    app.Attachment
		want []byte
	}{{p, pic.Bytes()}, {f, doc}} {
		var out bytes.Buffer
		if err := ana.Svc.SaveFile(id, m.ID, c.a.Blob, &out); err != nil || !bytes.Equal(out.Bytes(), c.want) {
			t.Fatalf("saving %s: %d bytes, %v", c.a.Name, out.Len(), err)
		}
	}
	if msg, blob, err := ana.Svc.FindFile(id, f.Blob.String()[:10]); err != nil || msg != m.ID || blob != f.Blob {
		t.Fatalf("FindFile: %v", err)
	}

	syncFrom(t, ctx, bo, ana, id)
	got, ok, err := bo.Svc.Message(id, m.ID)
	if err != nil || !ok || len(got.Attachments) != 2 || got.Attachments[0].Have || got.Attachments[0].Name != "glazes.png" {
		t.Fatalf("Bo's view: %+v, %v, %v", got.Attachments, ok, err)
	}
	if err := bo.Svc.SaveFile(id, m.ID, f.Blob, io.Discard); !errors.Is(err, app.ErrNotHere) {
		t.Fatalf("saving what Bo does not hold: %v", err)
	}

	for _, bad := range []app.File{memFile("../../.ssh/id", []byte("x")), memFile("evil\u202egnp.exe", []byte("x")),
		{Name: "huge.mov", Size: community.DefaultMaxFileMiB<<20 + 1, Open: func() (io.ReadCloser, error) { t.Fatal("read a file over the limit"); return nil, nil }}} {
		if _, err := ana.Svc.PostFiles(ctx, id, ch, "", community.Hash{}, []app.File{bad}); app.KindOf(err) != app.KindBadInput {
			t.Fatalf("%q: %v", bad.Name, err)
		}
	}
	// The owner lowers the limit to 1 MiB: a file over it is refused, at every member, before
	// anything is read; ten large files that would not fit in one message are refused too.
	if _, err := ana.Svc.SetEntry(ctx, id, func(e *app.EntrySettings) { e.MaxFileMiB = 0 }); err == nil {
		t.Fatal("a file limit of 0 MiB was taken")
	}
	if _, err := ana.Svc.SetEntry(ctx, id, func(e *app.EntrySettings) { e.MaxFileMiB = 1 }); err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, bo, ana, id)
	unread := func() (io.ReadCloser, error) { t.Fatal("read a file over the limit"); return nil, nil }
	_, err = bo.Svc.PostFiles(ctx, id, ch, "", community.Hash{}, []app.File{{Name: "kiln.mov", Size: 1<<20 + 1, Open: unread}})
	if app.KindOf(err) != app.KindBadInput || !strings.Contains(app.Sentence(err), "larger than the 1 MiB") {
		t.Fatalf("a file over the owner's limit: %v", err)
	}
	if _, err := ana.Svc.SetEntry(ctx, id, func(e *app.EntrySettings) { e.MaxFileMiB = community.MaxFileMiB }); err != nil {
		t.Fatal(err)
	}
	var many []app.File
	for i := range community.MaxFiles {
		many = append(many, app.File{Name: fmt.Sprintf("take-%d.png", i), Size: 200 << 20, Open: unread})
	}
	if _, err := ana.Svc.PostFiles(ctx, id, ch, "", community.Hash{}, many); app.KindOf(err) != app.KindBadInput || !strings.Contains(app.Sentence(err), "two or more") {
		t.Fatalf("files too large for one message: %v", err)
	}

	mans, err := app.ManifestsOf(ana.Svc, id, m.ID)
	if err != nil || len(mans) != 2 || len(mans[0].Chunks)+len(mans[1].Chunks) != 1+3 { // the picture's one chunk, the file's three
		t.Fatalf("the message's files: %d, %v", len(mans), err)
	}
	if err := ana.Svc.DeleteMessage(ctx, id, m.ID); err != nil {
		t.Fatal(err)
	}
	for _, man := range mans {
		have, err := ana.Store.HasChunks(id, man.ID(), len(man.Chunks))
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(have, true) {
			t.Fatal("a deleted message's chunk is still stored")
		}
	}
}

// TestThumbnailsFromPeers: a thumbnail a peer sent is kept only when it is a small JPEG or PNG;
// one whose header claims more than 320 pixels a side (whose decoding could take all the memory)
// or that is no picture is dropped, and the file stays.
func TestThumbnailsFromPeers(t *testing.T) {
	pic := func(w, h int) []byte {
		var b bytes.Buffer
		png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h)))
		return b.Bytes()
	}
	if got := app.SafeThumb(pic(320, 200)); got == nil {
		t.Fatal("a 320×200 thumbnail was dropped")
	}
	for name, b := range map[string][]byte{"too wide": pic(321, 10), "not a picture": []byte("<svg onload=alert(1)>"), "empty": nil} {
		if app.SafeThumb(b) != nil {
			t.Fatalf("%s: kept", name)
		}
	}
}
