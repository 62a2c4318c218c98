package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
	"github.com/kith-app/kith/app/community"
)

// TestFetchFile: a member fetches a file of several chunks from the sender over the blob
// protocol and saves it byte for byte; a third fetches it from both at once; a removed member
// who still holds the message gets nothing; with nobody to ask, the answer says so.
func TestFetchFile(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ana, bo, cy, dee := apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, ana, "Ana", map[*apptest.Peer]string{bo: "Bo", cy: "Cy", dee: "Dee"})
	chans, _ := ana.Svc.Channels(id)
	doc := make([]byte, 5*community.BlobChunkSize+777)
	rand.Read(doc)
	m, err := ana.Svc.PostFiles(ctx, id, chans[0].ID, "", community.Hash{}, []app.File{memFile("kiln.bin", doc)})
	if err != nil {
		t.Fatal(err)
	}
	blob := m.Attachments[0].Blob
	for _, p := range []*apptest.Peer{bo, cy, dee} {
		syncFrom(t, ctx, p, ana, id)
	}
	if err := bo.Svc.FetchFile(ctx, id, m.ID, blob, nil); !errors.Is(err, app.ErrNobodyHasIt) {
		t.Fatalf("with nobody to ask: %v", err)
	}
	if err := bo.Svc.FetchFile(ctx, id, m.ID, blob, []string{ana.Node.ID()}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := bo.Svc.SaveFile(id, m.ID, blob, &out); err != nil || !bytes.Equal(out.Bytes(), doc) {
		t.Fatalf("Bo's copy: %d bytes, %v", out.Len(), err)
	}
	if got, _, _ := bo.Svc.Message(id, m.ID); !got.Attachments[0].Have {
		t.Fatal("Bo's view does not say he holds it")
	}
	if err := dee.Node.Connect(ctx, bo.Node.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	if err := dee.Svc.FetchFile(ctx, id, m.ID, blob, []string{bo.Node.ID(), ana.Node.ID()}); err != nil {
		t.Fatalf("Dee from both: %v", err)
	}
	out.Reset()
	if err := dee.Svc.SaveFile(id, m.ID, blob, &out); err != nil || !bytes.Equal(out.Bytes(), doc) {
		t.Fatalf("Dee's copy: %d bytes, %v", out.Len(), err)
	}
	// Bo posts a copy of Ana's manifest and deletes it: Ana's file stays, at Ana's and at Dee's.
	copied, err := app.CopyFiles(bo.Svc, id, chans[0].ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := bo.Svc.DeleteMessage(ctx, id, copied); err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, ana, bo, id)
	syncFrom(t, ctx, dee, bo, id)
	for name, p := range map[string]*apptest.Peer{"Ana": ana, "Bo": bo, "Dee": dee} {
		if err := p.Svc.SaveFile(id, m.ID, blob, io.Discard); err != nil {
			t.Fatalf("%s's file after a copy's deletion: %v", name, err)
		}
	}
	if err := ana.Svc.Remove(ctx, id, cy.Member().Key, ""); err != nil {
		t.Fatal(err)
	}
	if err := cy.Svc.FetchFile(ctx, id, m.ID, blob, []string{ana.Node.ID()}); !errors.Is(err, app.ErrNobodyHasIt) {
		t.Fatalf("a removed member's fetch: %v", err)
	}
	if err := cy.Svc.SaveFile(id, m.ID, blob, &out); !errors.Is(err, app.ErrNotHere) {
		t.Fatalf("the removed member holds it: %v", err)
	}
}
