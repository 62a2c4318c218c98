package app_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

// blobServer replaces a peer's answers to chunk requests: serve says, for each chunk asked (in
// the order asked), what to send (nil: "not here").
func blobServer(p *apptest.Peer, serve func(i int) []byte) {
	p.Node.HandleStream(app.ProtoBlob, 1024, func(_ context.Context, _ ed25519.PublicKey, req []byte) (func(io.Writer) error, error) {
		n := int(req[65]) // 2 | community | blob | n (one byte: at most 8) | places
		return func(w io.Writer) error {
			for i := range n {
				c := serve(i)
				b := []byte{0}
				if c != nil {
					b = append(binary.AppendUvarint([]byte{1}, uint64(len(c))), c...)
				}
				if _, err := w.Write(b); err != nil {
					return err
				}
			}
			return nil
		}, nil
	})
}

// asked counts the chunks a peer asks others for.
type asked struct {
	app.Network
	mu     sync.Mutex
	chunks int
}

func (a *asked) RequestStream(ctx context.Context, peerID, proto string, req []byte) (io.ReadCloser, error) {
	if proto == app.ProtoBlob {
		a.mu.Lock()
		a.chunks += int(req[65])
		a.mu.Unlock()
	}
	return a.Network.RequestStream(ctx, peerID, proto, req)
}

// TestFetchFromBadServers: a member serving garbage of the right size, and one that holds only
// part of a file, cost the fetcher nothing: what they sent wrong is never stored, what one holds
// is kept, and the next fetch asks only for the rest.
func TestFetchFromBadServers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ana, bo, liar, half := apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, ana, "Ana", map[*apptest.Peer]string{bo: "Bo", liar: "Liar", half: "Half"})
	chans, _ := ana.Svc.Channels(id)
	doc := make([]byte, 6*community.BlobChunkSize)
	rand.Read(doc)
	m, err := ana.Svc.PostFiles(ctx, id, chans[0].ID, "", community.Hash{}, []app.File{memFile("glaze.bin", doc)})
	if err != nil {
		t.Fatal(err)
	}
	blob := m.Attachments[0].Blob
	syncFrom(t, ctx, bo, ana, id)
	wrapped := &asked{Network: bo.Node}
	bo.Svc.Serve(wrapped)
	for _, p := range []*apptest.Peer{liar, half} {
		if err := bo.Node.Connect(ctx, p.Node.Addrs()[0]); err != nil {
			t.Fatal(err)
		}
	}
	blobServer(liar, func(int) []byte {
		junk := make([]byte, community.SealedChunkSize)
		rand.Read(junk)
		return junk
	})
	if err := bo.Svc.FetchFile(ctx, id, m.ID, blob, []string{liar.Node.ID()}); !errors.Is(err, app.ErrNobodyHasIt) {
		t.Fatalf("from a member serving garbage: %v", err)
	}
	if err := bo.Svc.SaveFile(id, m.ID, blob, io.Discard); !errors.Is(err, app.ErrNotHere) {
		t.Fatalf("after garbage: %v, want nothing here", err)
	}
	// Half holds the first two chunks (it answers any request with them first).
	first := map[int][]byte{}
	for i := range 2 {
		c, ok, err := ana.Local.Store.Chunk(id, blob, i, nil)
		if !ok || err != nil {
			t.Fatalf("Ana's chunk %d: %v", i, err)
		}
		first[i] = c
	}
	blobServer(half, func(i int) []byte { return first[i] })
	if err := bo.Svc.FetchFile(ctx, id, m.ID, blob, []string{half.Node.ID()}); !errors.Is(err, app.ErrNobodyHasIt) {
		t.Fatalf("from a member holding part: %v", err)
	}
	have, err := bo.Local.Store.HasChunks(id, blob, 6)
	if err != nil || !have[0] || !have[1] || have[2] {
		t.Fatalf("after part of the file: %v, %v", have, err)
	}
	wrapped.mu.Lock()
	wrapped.chunks = 0
	wrapped.mu.Unlock()
	if err := bo.Svc.FetchFile(ctx, id, m.ID, blob, []string{liar.Node.ID(), ana.Node.ID()}); err != nil {
		t.Fatalf("from the liar and Ana: %v", err)
	}
	var out bytes.Buffer
	if err := bo.Svc.SaveFile(id, m.ID, blob, &out); err != nil || !bytes.Equal(out.Bytes(), doc) {
		t.Fatalf("Bo's copy: %d bytes, %v", out.Len(), err)
	}
	wrapped.mu.Lock()
	defer wrapped.mu.Unlock()
	if wrapped.chunks < 4 || wrapped.chunks > 8 { // the four missing, some asked of the liar first
		t.Fatalf("Bo asked for %d chunks, want the 4 missing (and the liar's share again from Ana)", wrapped.chunks)
	}
}

// damageChunks changes chunks of a file in p's blob file as damage would (from holds them
// whole).
func damageChunks(t *testing.T, p, from *apptest.Peer, id, blob community.Hash, damage func([]byte), chunks ...int) {
	t.Helper()
	path := filepath.Join(p.Dir, "blobs", fmt.Sprintf("%x", id[:]), fmt.Sprintf("%x", blob[:]))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range chunks {
		c, _, err := from.Local.Store.Chunk(id, blob, i, nil)
		at := bytes.Index(data, c)
		if err != nil || at < 0 {
			t.Fatalf("chunk %d is not in the blob file (%v)", i, err)
		}
		damage(data[at : at+len(c)])
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// fetchedFile founds a community of Ana and Bo, in which Ana posts a file of three chunks of
// random bytes (doc) and Bo fetches it.
func fetchedFile(t *testing.T, ctx context.Context, ana, bo *apptest.Peer) (id community.Hash, m app.Message, doc []byte) {
	t.Helper()
	id = founded(t, ctx, ana, "Ana", map[*apptest.Peer]string{bo: "Bo"})
	chans, _ := ana.Svc.Channels(id)
	doc = make([]byte, 3*community.BlobChunkSize)
	rand.Read(doc)
	m, err := ana.Svc.PostFiles(ctx, id, chans[0].ID, "", community.Hash{}, []app.File{memFile("kiln.bin", doc)})
	if err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, bo, ana, id)
	if err := bo.Svc.FetchFile(ctx, id, m.ID, m.Attachments[0].Blob, []string{ana.Node.ID()}); err != nil {
		t.Fatal(err)
	}
	return id, m, doc
}

// TestDamagedChunkOnDisk: chunks damaged on this device's disk after they were stored make
// SaveFile fail with a sentence, having written nothing past the first damaged chunk; the
// damaged chunks are all dropped, the view says the file is not here, and one fetch mends it.
func TestDamagedChunkOnDisk(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ana, bo := apptest.NewPeer(t), apptest.NewPeer(t)
	id, m, doc := fetchedFile(t, ctx, ana, bo)
	blob := m.Attachments[0].Blob
	damageChunks(t, bo, ana, id, blob, func(c []byte) { c[100] ^= 1 }, 1, 2)
	var out bytes.Buffer
	err := bo.Svc.SaveFile(id, m.ID, blob, &out)
	if app.KindOf(err) != app.KindDamaged || !strings.Contains(app.Sentence(err), "get the file again") || out.Len() > community.BlobChunkSize {
		t.Fatalf("saving over a damaged chunk: %d bytes written, %v", out.Len(), err)
	}
	if v, _, _ := bo.Svc.Message(id, m.ID); v.Attachments[0].Have {
		t.Fatal("the view says the damaged file is here")
	}
	if err := bo.Svc.FetchFile(ctx, id, m.ID, blob, []string{ana.Node.ID()}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := bo.Svc.SaveFile(id, m.ID, blob, &out); err != nil || !bytes.Equal(out.Bytes(), doc) {
		t.Fatalf("after fetching again: %d bytes, %v", out.Len(), err)
	}
}

// TestDeletedWhileItsFileCame: a message deleted while a member fetches its file leaves nothing
// of the file there: the fetch ends with a sentence and drops what came.
func TestDeletedWhileItsFileCame(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ana, bo, half := apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, ana, "Ana", map[*apptest.Peer]string{bo: "Bo", half: "Half"})
	chans, _ := ana.Svc.Channels(id)
	doc := make([]byte, 4*community.BlobChunkSize)
	rand.Read(doc)
	m, err := ana.Svc.PostFiles(ctx, id, chans[0].ID, "", community.Hash{}, []app.File{memFile("draft.bin", doc)})
	if err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, bo, ana, id)
	blob := m.Attachments[0].Blob
	var chunks [][]byte
	for i := range 4 {
		c, _, _ := ana.Local.Store.Chunk(id, blob, i, nil)
		chunks = append(chunks, c)
	}
	// Half serves the chunks, but first Ana deletes the message and Bo learns of it.
	var once sync.Once
	half.Node.HandleStream(app.ProtoBlob, 1024, func(_ context.Context, _ ed25519.PublicKey, req []byte) (func(io.Writer) error, error) {
		once.Do(func() {
			if err := ana.Svc.DeleteMessage(ctx, id, m.ID); err != nil {
				t.Error(err)
			}
			syncFrom(t, ctx, bo, ana, id)
		})
		n, places := int(req[65]), req[66:]
		return func(w io.Writer) error {
			for range n {
				i, k := binary.Uvarint(places)
				places = places[k:]
				c := chunks[i]
				if _, err := w.Write(append(binary.AppendUvarint([]byte{1}, uint64(len(c))), c...)); err != nil {
					return err
				}
			}
			return nil
		}, nil
	})
	if err := bo.Node.Connect(ctx, half.Node.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	err = bo.Svc.FetchFile(ctx, id, m.ID, blob, []string{half.Node.ID()})
	if app.KindOf(err) != app.KindBadInput || !strings.Contains(app.Sentence(err), "deleted while its file came") {
		t.Fatalf("a fetch of a message deleted meanwhile: %v", err)
	}
	if n, _ := bo.Local.Store.ChunkBytes(id); n != 0 {
		t.Fatalf("%d bytes of the deleted message's file stay", n)
	}
}

// TestFilesCheckedAfterACrash: after a run that did not close (a power cut can leave chunks
// fetched from others marked held and empty), the next start checks every file held, drops the
// chunks that read wrong, and says the files are not here; once checked, it does not check
// again, and one fetch mends the file.
func TestFilesCheckedAfterACrash(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ana, bo := apptest.NewPeer(t), apptest.NewPeer(t)
	id, m, doc := fetchedFile(t, ctx, ana, bo)
	blob := m.Attachments[0].Blob
	if n, err := bo.Svc.CheckFilesAfterCrash(ctx); n != 0 || err != nil {
		t.Fatalf("a check after a clean start: %d dropped, %v", n, err)
	}
	if err := bo.Close(); err != nil {
		t.Fatal(err)
	}
	damageChunks(t, bo, ana, id, blob, func(c []byte) { clear(c) }, 0, 2)
	if err := os.WriteFile(filepath.Join(bo.Dir, "blobs", "IN-USE"), nil, 0o600); err != nil { // as a power cut leaves it
		t.Fatal(err)
	}
	bo = apptest.OpenPeer(t, bo.Dir)
	if n, err := bo.Svc.CheckFilesAfterCrash(ctx); n != 2 || err != nil {
		t.Fatalf("the check after a crash: %d dropped, %v (want 2)", n, err)
	}
	if v, _, _ := bo.Svc.Message(id, m.ID); v.Attachments[0].Have {
		t.Fatal("the view says the damaged file is here")
	}
	if n, err := bo.Svc.CheckFilesAfterCrash(ctx); n != 0 || err != nil {
		t.Fatalf("a second check: %d dropped, %v", n, err)
	}
	if err := bo.Node.Connect(ctx, ana.Node.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	if err := bo.Svc.FetchFile(ctx, id, m.ID, blob, []string{ana.Node.ID()}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := bo.Svc.SaveFile(id, m.ID, blob, &out); err != nil || !bytes.Equal(out.Bytes(), doc) {
		t.Fatalf("after fetching again: %d bytes, %v", out.Len(), err)
	}
	if err := bo.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(bo.Dir, "blobs", "IN-USE")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after a clean close, the files are still marked in use: %v", err)
	}
}
