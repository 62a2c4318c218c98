package storage

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fullChunk is a chunk of ChunkSize bytes of b.
func fullChunk(i int, b byte) Chunk {
	return Chunk{Index: i, Data: bytes.Repeat([]byte{b}, ChunkSize)}
}

// withCommunity opens a store in a temporary folder holding communities cs.
func withCommunity(t *testing.T, cs ...CommunityID) *Store {
	s := openTest(t, t.TempDir())
	for _, c := range cs {
		_, err := s.Append(ev(c, author(1), 1, 1, channel(1), false, "a"))
		must(t, err)
	}
	return s
}

// TestBlobs: chunks come back by blob and place, in any order they came, are reported held or
// not, are counted, and go with DropChunks (one, or the whole blob) and with Forget (the folder
// too); another community's are untouched.
func TestBlobs(t *testing.T) {
	c, other := community(1), community(2)
	s := withCommunity(t, c, other)
	b := BlobID(hash32("blob"))
	last := Chunk{Index: 2, Data: []byte("the end")}
	added, err := s.PutChunks(c, b, 3, []Chunk{last, fullChunk(0, 'a')})
	if err != nil || added != ChunkSize+7 {
		t.Fatalf("PutChunks: %d, %v", added, err)
	}
	if added, err := s.PutChunks(c, b, 3, []Chunk{last}); err != nil || added != 0 {
		t.Fatalf("PutChunks again: %d, %v", added, err)
	}
	if _, err := s.PutChunks(other, b, 3, []Chunk{last}); err != nil {
		t.Fatal(err)
	}
	if have, err := s.HasChunks(c, b, 3); err != nil || !have[0] || have[1] || !have[2] {
		t.Fatalf("HasChunks: %v, %v", have, err)
	}
	if _, err := s.Chunk(c, b, 1, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a chunk not yet here: %v", err)
	}
	if _, err := s.PutChunks(c, b, 3, []Chunk{fullChunk(1, 'b')}); err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]byte{bytes.Repeat([]byte{'a'}, ChunkSize), bytes.Repeat([]byte{'b'}, ChunkSize), []byte("the end")} {
		if got, err := s.Chunk(c, b, i, make([]byte, 3)); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("chunk %d: %d bytes, %v", i, len(got), err)
		}
	}
	if n, err := s.ChunkBytes(c); err != nil || n != 2*ChunkSize+7 {
		t.Fatalf("ChunkBytes: %d, %v", n, err)
	}
	if have, err := s.HasChunks(c, b, 4); err != nil || have[0] {
		t.Fatalf("HasChunks for another count: %v, %v", have, err)
	}
	if freed, err := s.DropChunks(c, b, []int{2, 5}); err != nil || freed != 7 {
		t.Fatalf("DropChunks: %d, %v", freed, err)
	}
	if _, err := s.Chunk(c, b, 2, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a dropped chunk: %v", err)
	}
	if freed, err := s.DropChunks(c, b, []int{0, 1}); err != nil || freed != 2*ChunkSize {
		t.Fatalf("DropChunks of the rest: %d, %v", freed, err)
	}
	if _, err := os.Stat(s.blobPath(c, b)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a blob with no chunk left stays: %v", err)
	}
	if freed, err := s.DropChunks(c, b, nil); err != nil || freed != 0 {
		t.Fatalf("DropChunks of a blob not here: %d, %v", freed, err)
	}
	if _, err := s.PutChunks(c, b, 3, []Chunk{last}); err != nil {
		t.Fatal(err)
	}
	if freed, err := s.DropChunks(c, b, nil); err != nil || freed != 7 {
		t.Fatalf("DropChunks of the whole blob: %d, %v", freed, err)
	}
	if _, err := s.PutChunks(c, b, 3, []Chunk{last}); err != nil {
		t.Fatal(err)
	}
	must(t, s.Forget(c))
	if _, err := s.Chunk(c, b, 2, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a chunk after Forget: %v", err)
	}
	if _, err := os.Stat(s.communityBlobs(c)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the forgotten community's folder: %v", err)
	}
	if got, err := s.Chunk(other, b, 2, nil); err != nil || string(got) != "the end" {
		t.Fatalf("another community's chunk after Forget: %q, %v", got, err)
	}
	if n, err := s.ChunkBytes(c); err != nil || n != 0 {
		t.Fatalf("ChunkBytes after Forget: %d, %v", n, err)
	}
}

// TestOpenBlobFiles: a file open to store chunks and one open to read them, each used for many
// chunks as a fetch and a server do; both are safe to close twice and refuse use after.
func TestOpenBlobFiles(t *testing.T) {
	c := community(1)
	s := withCommunity(t, c)
	b := BlobID(hash32("blob"))
	if _, err := s.ReadBlob(c, b); !errors.Is(err, ErrNotFound) {
		t.Fatalf("reading a blob not here: %v", err)
	}
	w, err := s.OpenBlob(c, b, 3)
	must(t, err)
	for i, ch := range []Chunk{fullChunk(0, 'a'), {Index: 2, Data: []byte("end")}, fullChunk(0, 'a')} {
		added, err := w.Put(ch.Index, ch.Data)
		if want := []int64{ChunkSize, 3, 0}[i]; err != nil || added != want {
			t.Fatalf("Put %d: %d bytes, %v (want %d)", i, added, err, want)
		}
	}
	must(t, w.Close())
	must(t, w.Close())
	if _, err := w.Put(1, fullChunk(1, 'b').Data); err == nil {
		t.Fatal("a Put after Close")
	}
	r, err := s.ReadBlob(c, b)
	must(t, err)
	buf := make([]byte, 0, ChunkSize)
	for i, want := range []string{"a", "", "end"} {
		got, err := r.Chunk(i, buf)
		switch {
		case want == "" && !errors.Is(err, ErrNotFound):
			t.Fatalf("chunk %d, not held: %v", i, err)
		case want == "a" && (err != nil || len(got) != ChunkSize || got[0] != 'a'):
			t.Fatalf("chunk %d: %d bytes, %v", i, len(got), err)
		case want == "end" && (err != nil || string(got) != "end"):
			t.Fatalf("chunk %d: %q, %v", i, got, err)
		}
	}
	must(t, r.Close())
	must(t, r.Close())
	if _, err := r.Chunk(0, nil); err == nil {
		t.Fatal("a read after Close")
	}
}

// TestPutAfterDrop: a chunk stored through a file open since before DropChunks deleted the file
// (its last chunk was damaged) lands in the file at the blob's path, not in the one deleted.
func TestPutAfterDrop(t *testing.T) {
	c := community(1)
	s := withCommunity(t, c)
	b := BlobID(hash32("blob"))
	f, err := s.OpenBlob(c, b, 2)
	must(t, err)
	defer f.Close()
	_, err = f.Put(0, fullChunk(0, 'a').Data)
	must(t, err)
	_, err = s.DropChunks(c, b, []int{0})
	must(t, err)
	if added, err := f.Put(1, []byte("end")); err != nil || added != 3 {
		t.Fatalf("Put: %d, %v", added, err)
	}
	if have, err := s.HasChunks(c, b, 2); err != nil || have[0] || !have[1] {
		t.Fatalf("HasChunks: %v, %v", have, err)
	}
}

// TestFilesUncheckedAfterACrash: a store that was not closed (blobs/IN-USE left) says its files
// are to be checked, and goes on saying so after a clean Close until FilesChecked.
func TestFilesUncheckedAfterACrash(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	if s.FilesUnchecked() {
		t.Fatal("a new store's files are unchecked")
	}
	must(t, s.Close())
	if _, err := os.Stat(filepath.Join(dir, "blobs", "IN-USE")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a clean Close left the in-use mark: %v", err)
	}
	must(t, os.WriteFile(filepath.Join(dir, "blobs", "IN-USE"), nil, 0o600)) // as a crash leaves it
	for range 2 {
		s = openTest(t, dir)
		if !s.FilesUnchecked() {
			t.Fatal("after a crash, the files are not to be checked")
		}
		must(t, s.Close())
	}
	s = openTest(t, dir)
	s.FilesChecked()
	must(t, s.Close())
	s = openTest(t, dir)
	if s.FilesUnchecked() {
		t.Fatal("checked files are to be checked again")
	}
}

// TestBadChunksRefused: a chunk outside its blob, or of the wrong length for its place, is
// refused before anything is written.
func TestBadChunksRefused(t *testing.T) {
	c := community(1)
	s := withCommunity(t, c)
	b := BlobID(hash32("blob"))
	for name, tc := range map[string]struct {
		count int
		ch    Chunk
	}{
		"past the end":    {2, fullChunk(2, 'x')},
		"negative":        {2, Chunk{Index: -1, Data: []byte("x")}},
		"a short middle":  {2, Chunk{Index: 0, Data: []byte("x")}},
		"an empty last":   {2, Chunk{Index: 1}},
		"a long last":     {1, Chunk{Index: 0, Data: make([]byte, ChunkSize+1)}},
		"no chunks":       {0, Chunk{Index: 0, Data: []byte("x")}},
		"too many chunks": {MaxBlobChunks + 1, Chunk{Index: 0, Data: []byte("x")}},
	} {
		if _, err := s.PutChunks(c, b, tc.count, []Chunk{tc.ch}); err == nil {
			t.Errorf("%s: stored", name)
		}
	}
	if _, err := os.Stat(s.blobPath(c, b)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused chunk left a file: %v", err)
	}
}

// TestSealedBlob: a blob written with CreateBlob is found under its ID only once committed,
// whole; one aborted, or committed with a chunk missing, leaves nothing; what a crash left in
// tmp/ is cleared by Open.
func TestSealedBlob(t *testing.T) {
	dir := t.TempDir()
	c := community(1)
	s := openTest(t, dir)
	_, err := s.Append(ev(c, author(1), 1, 1, channel(1), false, "a"))
	must(t, err)
	w, err := s.CreateBlob(c, 2)
	must(t, err)
	must(t, w.Put(0, fullChunk(0, 'a').Data))
	must(t, w.Put(1, []byte("end")))
	b := BlobID(hash32("sealed"))
	if have, _ := s.HasChunks(c, b, 2); have[0] || have[1] {
		t.Fatal("a blob is held before its Commit")
	}
	must(t, w.Commit(b))
	w.Abort() // after Commit: nothing
	if have, _ := s.HasChunks(c, b, 2); !have[0] || !have[1] {
		t.Fatalf("after Commit: %v", have)
	}
	if got, err := s.Chunk(c, b, 1, nil); err != nil || string(got) != "end" {
		t.Fatalf("the last chunk: %q, %v", got, err)
	}
	if err := w.Commit(b); err == nil {
		t.Fatal("a second Commit")
	}

	half, err := s.CreateBlob(c, 2)
	must(t, err)
	must(t, half.Put(0, fullChunk(0, 'a').Data))
	if err := half.Commit(BlobID(hash32("half"))); err == nil {
		t.Fatal("a blob with a chunk missing was committed")
	}
	gone, err := s.CreateBlob(c, 1)
	must(t, err)
	must(t, gone.Put(0, []byte("x")))
	gone.Abort()
	gone.Abort()
	if left, _ := os.ReadDir(filepath.Join(dir, "blobs", "tmp")); len(left) != 0 {
		t.Fatalf("%d files stay in tmp/", len(left))
	}
	if n, err := s.ChunkBytes(c); err != nil || n != ChunkSize+3 {
		t.Fatalf("ChunkBytes: %d, %v", n, err)
	}

	crashed, err := s.CreateBlob(c, 1)
	must(t, err)
	must(t, crashed.Put(0, []byte("x")))
	must(t, s.Close()) // a crash: the file being sealed stays in tmp/
	if left, _ := os.ReadDir(filepath.Join(dir, "blobs", "tmp")); len(left) != 1 {
		t.Fatalf("%d files in tmp/ before Open", len(left))
	}
	s = openTest(t, dir)
	if left, _ := os.ReadDir(filepath.Join(dir, "blobs", "tmp")); len(left) != 0 {
		t.Fatalf("%d files a crash left in tmp/ survived Open", len(left))
	}
	crashed.Abort()
	if got, err := s.Chunk(c, b, 0, nil); err != nil || len(got) != ChunkSize {
		t.Fatalf("a blob after Open: %d bytes, %v", len(got), err)
	}

	forgotten, err := s.CreateBlob(c, 1)
	must(t, err)
	must(t, forgotten.Put(0, []byte("x")))
	must(t, s.Forget(c))
	if err := forgotten.Commit(BlobID(hash32("late"))); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a blob committed after Forget: %v", err)
	}
	if _, err := os.Stat(s.communityBlobs(c)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the forgotten community's folder came back: %v", err)
	}
}

// TestDamagedBlobFiles: a blob file with no whole header (a crash while it was made, or junk)
// holds nothing and is made again by the next chunk stored; a last chunk cut short, or a file
// cut inside a chunk, reads as damaged; a file grown past its last chunk is cut back when the
// chunk is stored again.
func TestDamagedBlobFiles(t *testing.T) {
	c := community(1)
	s := withCommunity(t, c)
	for name, junk := range map[string][]byte{"empty": {}, "half a header": []byte("kithbl"), "junk": bytes.Repeat([]byte("junk"), 5000)} {
		b := BlobID(hash32(name))
		must(t, os.MkdirAll(s.communityBlobs(c), 0o700))
		must(t, os.WriteFile(s.blobPath(c, b), junk, 0o600))
		if have, err := s.HasChunks(c, b, 1); err != nil || have[0] {
			t.Errorf("%s: HasChunks: %v, %v", name, have, err)
		}
		if n, err := s.ChunkBytes(c); err != nil || n != 0 {
			t.Errorf("%s: ChunkBytes: %d, %v", name, n, err)
		}
		added, err := s.PutChunks(c, b, 1, []Chunk{{Index: 0, Data: []byte("the real chunk")}})
		got, gerr := s.Chunk(c, b, 0, nil)
		if err != nil || added != 14 || gerr != nil || string(got) != "the real chunk" {
			t.Errorf("%s: PutChunks added %d (%v); the chunk reads %q (%v)", name, added, err, got, gerr)
		}
		must(t, os.Remove(s.blobPath(c, b)))
	}

	b := BlobID(hash32("cut"))
	_, err := s.PutChunks(c, b, 2, []Chunk{fullChunk(0, 'a'), {Index: 1, Data: []byte("end")}})
	must(t, err)
	p := s.blobPath(c, b)
	must(t, os.Truncate(p, chunkAt(2, 1)))
	if _, err := s.Chunk(c, b, 1, nil); !errors.Is(err, ErrDamaged) {
		t.Fatalf("a last chunk cut away: %v", err)
	}
	must(t, os.Truncate(p, chunkAt(2, 0)+100))
	if _, err := s.Chunk(c, b, 0, nil); !errors.Is(err, ErrDamaged) {
		t.Fatalf("a chunk cut short: %v", err)
	}
	_, err = s.DropChunks(c, b, []int{0, 1})
	must(t, err)
	_, err = s.PutChunks(c, b, 2, []Chunk{fullChunk(0, 'a'), {Index: 1, Data: []byte("end")}})
	must(t, err)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	_, err = f.Write([]byte(" and more"))
	must(t, err)
	must(t, f.Close())
	if got, err := s.Chunk(c, b, 1, nil); err != nil || string(got) != "end and more" {
		t.Fatalf("a grown last chunk reads %q, %v (its reader's hash check drops it)", got, err)
	}
	_, err = s.DropChunks(c, b, []int{1})
	must(t, err)
	if _, err := s.PutChunks(c, b, 2, []Chunk{{Index: 1, Data: []byte("end")}}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Chunk(c, b, 1, nil); err != nil || string(got) != "end" {
		t.Fatalf("the last chunk stored again: %q, %v", got, err)
	}
}

// TestNoChunksAfterForget: a chunk stored after its community was forgotten (a fetch that was
// under way) is refused, and the forgotten community's folder does not come back.
func TestNoChunksAfterForget(t *testing.T) {
	c := community(1)
	s := withCommunity(t, c)
	b := BlobID(hash32("blob"))
	_, err := s.PutChunks(c, b, 2, []Chunk{fullChunk(0, 'a')})
	must(t, err)
	must(t, s.Forget(c))
	if _, err := s.PutChunks(c, b, 2, []Chunk{{Index: 1, Data: []byte("y")}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a chunk after Forget: %v", err)
	}
	if _, err := os.Stat(s.communityBlobs(c)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the forgotten community's folder came back: %v", err)
	}
}
