package app_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
)

// TestProfilePicture: a member's picture travels as a file named by its profile, its thumbnail in
// the profile: another member shows it at once, fetches the picture itself by the profile, and
// keeps it when the name changes; a file that is not a picture is refused and leaves nothing
// stored; the picture can be taken away.
func TestProfilePicture(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ana, bo := apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, ana, "Ana", map[*apptest.Peer]string{bo: "Bo"})
	pic := pngOf(t, 600, 600)
	f := memFile("me.png", pic)
	if err := ana.Svc.SetProfilePicture(ctx, id, &f); err != nil {
		t.Fatal(err)
	}
	if err := ana.Svc.SetProfile(ctx, id, "Ana O.", "potter"); err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, bo, ana, id)
	anaAt := func(p *apptest.Peer) app.MemberView {
		ms, err := p.Svc.Members(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if bytes.Equal(m.Key, ana.Member().Key) {
				return m
			}
		}
		t.Fatal("Ana is not a member")
		return app.MemberView{}
	}
	m := anaAt(bo)
	if m.Name != "Ana O." || len(m.Picture) == 0 || m.PictureBlob.IsZero() {
		t.Fatalf("Ana at Bo's: %q, picture %d bytes", m.Name, len(m.Picture))
	}
	if th, _, err := image.DecodeConfig(bytes.NewReader(m.Picture)); err != nil || th.Width != 320 {
		t.Fatalf("the thumbnail: %+v, %v", th, err)
	}
	if err := bo.Svc.FetchFile(ctx, id, m.PictureEvent, m.PictureBlob, []string{ana.Node.ID()}); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := bo.Svc.SaveFile(id, m.PictureEvent, m.PictureBlob, &got); err != nil || !bytes.Equal(got.Bytes(), pic) {
		t.Fatalf("the picture at Bo's: %d bytes, %v", got.Len(), err)
	}

	before, _ := ana.Store.ChunkBytes(id)
	notes := memFile("notes.png", []byte("not a picture at all"))
	if err := ana.Svc.SetProfilePicture(ctx, id, &notes); app.KindOf(err) != app.KindBadInput {
		t.Fatalf("a file that is not a picture: %v", err)
	}
	if after, _ := ana.Store.ChunkBytes(id); after != before {
		t.Fatalf("a refused picture left %d bytes", after-before)
	}
	if err := ana.Svc.SetProfilePicture(ctx, id, nil); err != nil {
		t.Fatal(err)
	}
	if m := anaAt(ana); len(m.Picture) != 0 || m.Name != "Ana O." {
		t.Fatalf("after taking the picture away: %q, %d bytes", m.Name, len(m.Picture))
	}
}

// TestPicturesAndFilesSurviveCopies: a member who posts a copy of another's picture manifest and
// deletes it, or posts a copy of a file's manifest with its salt changed (its chunks hash right,
// and do not open) and deletes it, deletes nothing of the originals: a changed copy is another
// file, which nobody holds; a replaced picture's chunks go.
func TestPicturesAndFilesSurviveCopies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ana, bo := apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, ana, "Ana", map[*apptest.Peer]string{bo: "Bo"})
	pic := pngOf(t, 400, 400)
	f := memFile("me.png", pic)
	if err := ana.Svc.SetProfilePicture(ctx, id, &f); err != nil {
		t.Fatal(err)
	}
	chans, _ := ana.Svc.Channels(id)
	m, err := ana.Svc.PostFiles(ctx, id, chans[0].ID, "", [32]byte{}, []app.File{memFile("a.bin", make([]byte, 1000))})
	if err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, bo, ana, id)
	var me app.MemberView
	ms, _ := ana.Svc.Members(id)
	for _, m := range ms {
		if m.You {
			me = m
		}
	}
	copied, err := app.CopyFiles(bo.Svc, id, chans[0].ID, me.PictureEvent)
	if err != nil {
		t.Fatal(err)
	}
	salted, err := app.CopyFilesSalted(bo.Svc, id, chans[0].ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, ana, bo, id)
	fm, _, _ := ana.Svc.Message(id, salted)
	if err := ana.Svc.SaveFile(id, salted, fm.Attachments[0].Blob, &bytes.Buffer{}); !errors.Is(err, app.ErrNotHere) {
		t.Fatalf("opening the salted copy: %v", err)
	}
	if err := bo.Svc.FetchFile(ctx, id, salted, fm.Attachments[0].Blob, []string{ana.Node.ID()}); !errors.Is(err, app.ErrNobodyHasIt) {
		t.Fatalf("fetching the salted copy: %v", err)
	}
	for _, c := range [][32]byte{copied, salted} {
		if err := bo.Svc.DeleteMessage(ctx, id, c); err != nil {
			t.Fatal(err)
		}
	}
	syncFrom(t, ctx, ana, bo, id)
	if err := ana.Svc.SaveFile(id, me.PictureEvent, me.PictureBlob, &bytes.Buffer{}); err != nil {
		t.Fatalf("Ana's picture after a copy's deletion: %v", err)
	}
	if err := ana.Svc.SaveFile(id, m.ID, m.Attachments[0].Blob, &bytes.Buffer{}); err != nil {
		t.Fatalf("Ana's file after she opened a salted copy: %v", err)
	}
	before, _ := ana.Store.ChunkBytes(id)
	g := memFile("new.png", pic)
	if err := ana.Svc.SetProfilePicture(ctx, id, &g); err != nil {
		t.Fatal(err)
	}
	if after, _ := ana.Store.ChunkBytes(id); after != before {
		t.Fatalf("a replaced picture's chunks stayed: %d bytes before, %d after", before, after)
	}
}
