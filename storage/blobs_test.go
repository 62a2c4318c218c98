package storage

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestChunks: chunks come back by hash, are reported held or not, are counted, and go with
// DropChunks and with Forget (the folder too); another community's are untouched.
func TestChunks(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	c, other := community(1), community(2)
	for _, cc := range []CommunityID{c, other} {
		_, err := s.Append(ev(cc, author(1), 1, 1, channel(1), false, "a"))
		must(t, err)
	}
	a, b := Chunk{Hash: hash32("a"), Data: []byte("first")}, Chunk{Hash: hash32("b"), Data: make([]byte, 300<<10)}
	added, err := s.PutChunks(c, []Chunk{a, b}, true)
	if err != nil || added != 5+300<<10 {
		t.Fatalf("PutChunks: %d, %v", added, err)
	}
	if added, err := s.PutChunks(c, []Chunk{a}, false); err != nil || added != 0 {
		t.Fatalf("PutChunks again: %d, %v", added, err)
	}
	if _, err := s.PutChunks(other, []Chunk{a}, false); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Chunk(c, a.Hash, nil); err != nil || string(got) != "first" {
		t.Fatalf("chunk a: %q, %v", got, err)
	}
	if got, err := s.Chunk(c, b.Hash, nil); err != nil || len(got) != 300<<10 {
		t.Fatalf("chunk b: %d bytes, %v", len(got), err)
	}
	have, err := s.HasChunks(c, [][32]byte{a.Hash, hash32("x"), b.Hash})
	if err != nil || !have[0] || have[1] || !have[2] {
		t.Fatalf("HasChunks: %v, %v", have, err)
	}
	if n, err := s.ChunkBytes(c); err != nil || n != 5+300<<10 {
		t.Fatalf("ChunkBytes: %d, %v", n, err)
	}
	if freed, err := s.DropChunks(c, [][32]byte{a.Hash, hash32("never")}); err != nil || freed != 5 {
		t.Fatalf("DropChunks: %d, %v", freed, err)
	}
	if _, err := s.Chunk(c, a.Hash, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a dropped chunk: %v", err)
	}
	must(t, s.Forget(c))
	if _, err := s.Chunk(c, b.Hash, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a chunk after Forget: %v", err)
	}
	if _, err := os.Stat(s.communityBlobs(c)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the forgotten community's folder: %v", err)
	}
	if got, err := s.Chunk(other, a.Hash, make([]byte, 2)); err != nil || string(got) != "first" {
		t.Fatalf("another community's chunk after Forget: %q, %v", got, err)
	}
	if n, err := s.ChunkBytes(c); err != nil || n != 0 {
		t.Fatalf("ChunkBytes after Forget: %d, %v", n, err)
	}
}

// TestChunkFilesOnOpen: what a crash left half-written in tmp/ is cleared, and an oversized chunk
// file reads as damaged and does not count as held.
func TestChunkFilesOnOpen(t *testing.T) {
	dir := t.TempDir()
	c := community(1)
	a := Chunk{Hash: hash32("a"), Data: []byte("whole")}
	s := openTest(t, dir)
	_, err := s.Append(ev(c, author(1), 1, 1, channel(1), false, "a"))
	must(t, err)
	_, err = s.PutChunks(c, []Chunk{a}, false)
	must(t, err)
	must(t, os.MkdirAll(filepath.Join(dir, "blobs", "tmp"), 0o700))
	must(t, os.WriteFile(filepath.Join(dir, "blobs", "tmp", "chunk-123"), []byte("half"), 0o600))
	big := hash32("big")
	must(t, os.MkdirAll(filepath.Dir(s.chunkPath(c, big)), 0o700))
	must(t, os.WriteFile(s.chunkPath(c, big), make([]byte, MaxChunkSize+1), 0o600))
	must(t, s.Close())

	s = openTest(t, dir)
	if got, err := s.Chunk(c, a.Hash, nil); err != nil || string(got) != string(a.Data) {
		t.Fatalf("a chunk after Open: %q, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "blobs", "tmp", "chunk-123")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a half-written chunk survived Open: %v", err)
	}
	if _, err := s.Chunk(c, big, nil); !errors.Is(err, ErrDamaged) {
		t.Fatalf("an oversized chunk: %v", err)
	}
	if have, err := s.HasChunks(c, [][32]byte{big, a.Hash}); err != nil || have[0] || !have[1] {
		t.Fatalf("HasChunks: %v, %v", have, err)
	}
	if _, err := s.PutChunks(c, []Chunk{{Hash: hash32("x"), Data: make([]byte, MaxChunkSize+1)}}, false); err == nil {
		t.Fatal("an oversized chunk was stored")
	}
}

// TestChunkFilesRepaired: a chunk file left empty or of another size (a crash after the rename
// of a chunk that was not synced) reads as not held, and storing its bytes again mends it.
func TestChunkFilesRepaired(t *testing.T) {
	s := openTest(t, t.TempDir())
	c := community(1)
	_, err0 := s.Append(ev(c, author(1), 1, 1, channel(1), false, "a"))
	must(t, err0)
	for name, junk := range map[string][]byte{"empty": {}, "shorter": []byte("the re"), "oversized": make([]byte, MaxChunkSize+1)} {
		h := hash32(name)
		must(t, os.MkdirAll(s.communityBlobs(c), 0o700))
		must(t, os.WriteFile(s.chunkPath(c, h), junk, 0o600))
		added, err := s.PutChunks(c, []Chunk{{Hash: h, Data: []byte("the real chunk")}}, false)
		got, gerr := s.Chunk(c, h, nil)
		if err != nil || added != 14 || gerr != nil || string(got) != "the real chunk" {
			t.Errorf("%s: PutChunks added %d (%v); the chunk reads %q (%v)", name, added, err, got, gerr)
		}
	}
}

// TestNoChunksAfterForget: a chunk stored after its community was forgotten (a fetch that was
// under way) is refused, and the forgotten community's folder does not come back.
func TestNoChunksAfterForget(t *testing.T) {
	s := openTest(t, t.TempDir())
	c := community(1)
	_, err0 := s.Append(ev(c, author(1), 1, 1, channel(1), false, "a"))
	must(t, err0)
	_, err := s.PutChunks(c, []Chunk{{Hash: hash32("a"), Data: []byte("x")}}, false)
	must(t, err)
	must(t, s.Forget(c))
	if _, err := s.PutChunks(c, []Chunk{{Hash: hash32("b"), Data: []byte("y")}}, false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a chunk after Forget: %v", err)
	}
	if _, err := os.Stat(s.communityBlobs(c)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the forgotten community's folder came back: %v", err)
	}
}
