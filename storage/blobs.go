package storage

// Blobs: the encrypted files sent with messages, one file each outside Badger, with its chunks
// at fixed places and a byte a chunk saying which are held (see doc.go, "Files").

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

const (
	// ChunkSize is the size of every chunk of a blob but its last: 256 KiB of a file and its tag.
	ChunkSize = 256<<10 + 16
	// MaxBlobChunks bounds a blob's chunks (2 GiB of a file).
	MaxBlobChunks = 8192
)

// A BlobID names a blob (the ID of its manifest).
type BlobID [32]byte

// A Chunk is one encrypted piece of a blob, by its place in it (the caller has checked its bytes
// against its hash).
type Chunk struct {
	Index int
	Data  []byte
}

// A blob file is its header, a byte a chunk (1: held), then its chunks, chunk i at
// blobStart(count) + i×ChunkSize.
const (
	blobMagic  = "kithblob"
	blobHeader = 16 // magic[8] | version[1] = 1 | 0[3] | count[4, big-endian]
)

// blobStart is where a blob of count chunks keeps its first: after its header and its bytes of
// presence, on a 4 KiB boundary.
func blobStart(count int) int64 { return (int64(blobHeader+count) + 4095) &^ 4095 }

// chunkAt is where chunk i of a blob of count chunks starts.
func chunkAt(count, i int) int64 { return blobStart(count) + int64(i)*ChunkSize }

// newBlobHeader is the header of a blob of count chunks, none held.
func newBlobHeader(count int) []byte {
	h := make([]byte, blobHeader+count)
	copy(h, blobMagic)
	h[8] = 1
	binary.BigEndian.PutUint32(h[12:16], uint32(count))
	return h
}

// readBlobHeader reads a blob file's chunk count and its bytes of presence; ok is false when it
// has no whole header (a crash while it was made, or not a blob file): none of it is held.
func readBlobHeader(f *os.File) (count int, held []byte, ok bool, err error) {
	var h [blobHeader]byte
	if _, err := f.ReadAt(h[:], 0); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil, false, nil
		}
		return 0, nil, false, err
	}
	n := binary.BigEndian.Uint32(h[12:16])
	if string(h[:8]) != blobMagic || h[8] != 1 || n == 0 || n > MaxBlobChunks {
		return 0, nil, false, nil
	}
	held = make([]byte, n)
	if _, err := f.ReadAt(held, blobHeader); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil, false, nil
		}
		return 0, nil, false, err
	}
	return int(n), held, true, nil
}

// heldBytes is how many bytes the held chunks of a blob file of size bytes take.
func heldBytes(count int, held []byte, size int64) int64 {
	var n int64
	for i, h := range held {
		if h != 1 {
			continue
		}
		if i < count-1 {
			n += ChunkSize
		} else if last := size - chunkAt(count, i); last > 0 && last <= ChunkSize {
			n += last
		}
	}
	return n
}

// checkChunks checks chunks against a blob of count chunks: each in it, every one but the last
// ChunkSize long, the last 1 to ChunkSize.
func checkChunks(count int, chunks []Chunk) error {
	if count < 1 || count > MaxBlobChunks {
		return fmt.Errorf("storage: store a file: %d chunks (1 to %d)", count, MaxBlobChunks)
	}
	for _, ch := range chunks {
		switch {
		case ch.Index < 0 || ch.Index >= count:
			return fmt.Errorf("storage: store a file: no chunk %d in %d", ch.Index, count)
		case ch.Index < count-1 && len(ch.Data) != ChunkSize,
			ch.Index == count-1 && (len(ch.Data) < 1 || len(ch.Data) > ChunkSize):
			return fmt.Errorf("storage: store a file: chunk %d of %d is %d bytes", ch.Index, count, len(ch.Data))
		}
	}
	return nil
}

// blobsDir is the folder of every community's blobs; tmp, inside it, holds files being sealed.
func (s *Store) blobsDir() string { return filepath.Join(s.dir, "blobs") }

func (s *Store) communityBlobs(c CommunityID) string {
	return filepath.Join(s.blobsDir(), hex.EncodeToString(c[:]))
}

// blobPath is a blob's file: blobs/<community>/<blob>.
func (s *Store) blobPath(c CommunityID, b BlobID) string {
	return filepath.Join(s.communityBlobs(c), hex.EncodeToString(b[:]))
}

// holds checks that the store holds community c (a fetch may outlive Forget). s.blobMu is held.
func (s *Store) holds(c CommunityID, op string) error {
	err := s.view(func(txn *badger.Txn) error {
		_, err := txn.Get(communityKey(c))
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return fmt.Errorf("storage: %s: community %x is not on this device: %w", op, c[:8], ErrNotFound)
	}
	return err
}

// A BlobFile is a blob's file open to store chunks fetched from others: a fetch stores a
// request's chunks through one, as they arrive. It is not safe for concurrent use.
type BlobFile struct {
	s     *Store
	c     CommunityID
	blob  BlobID
	f     *os.File
	count int
	held  []byte
	gone  uint64 // Store.blobsGone when f was known to be the file at the blob's path
}

// OpenBlob opens (or makes) the file of a blob of count chunks of community c, to store chunks
// fetched from others. A community this store does not hold (forgotten meanwhile) takes none.
func (s *Store) OpenBlob(c CommunityID, blob BlobID, count int) (*BlobFile, error) {
	if err := checkChunks(count, nil); err != nil {
		return nil, err
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.inflight.Done()
	s.blobMu.RLock()
	defer s.blobMu.RUnlock()
	if err := s.holds(c, "store a file"); err != nil {
		return nil, err
	}
	s.blobLock(blob).Lock()
	defer s.blobLock(blob).Unlock()
	gone := s.blobsGone.Load()
	f, held, err := s.openBlobToWrite(c, blob, count)
	if err != nil {
		return nil, s.writeErr("store a file", err)
	}
	return &BlobFile{s: s, c: c, blob: blob, f: f, count: count, held: held, gone: gone}, nil
}

// Put stores chunk i, marked held once written, and says how many bytes it took (0: it was
// held already, and is left as it is). Chunks are not synced: after a crash a chunk marked held
// may read wrong (see FilesUnchecked).
func (b *BlobFile) Put(i int, data []byte) (added int64, err error) {
	ch := Chunk{Index: i, Data: data}
	if err := checkChunks(b.count, []Chunk{ch}); err != nil {
		return 0, err
	}
	s := b.s
	if b.f == nil {
		return 0, errors.New("storage: store a file: the file is closed")
	}
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.inflight.Done()
	if err := s.checkSpace("store a file"); err != nil {
		return 0, err
	}
	s.blobMu.RLock()
	defer s.blobMu.RUnlock()
	s.blobLock(b.blob).Lock()
	defer s.blobLock(b.blob).Unlock()
	if gen := s.blobsGone.Load(); gen != b.gone { // a blob file went since: this one?
		if err := b.reopenIfGone(); err != nil {
			return 0, err
		}
		b.gone = gen
	}
	if b.held[i] == 1 {
		return 0, nil
	}
	if err := writeChunk(b.f, b.count, ch); err != nil {
		return 0, s.writeErr("store a file", err)
	}
	b.held[i] = 1
	return int64(len(data)), nil
}

// reopenIfGone opens the blob's file again when the one open is no longer at its path (its last
// chunks were dropped meanwhile: a chunk written there would be lost), unless its community was
// forgotten (its folder is gone too). s.blobMu and the blob's lock are held.
func (b *BlobFile) reopenIfGone() error {
	at, err := os.Stat(b.s.blobPath(b.c, b.blob))
	if err == nil {
		var open os.FileInfo
		if open, err = b.f.Stat(); err == nil && os.SameFile(at, open) {
			return nil
		}
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return b.s.writeErr("store a file", err)
	}
	if err := b.s.holds(b.c, "store a file"); err != nil {
		return err
	}
	f, held, err := b.s.openBlobToWrite(b.c, b.blob, b.count)
	if err != nil {
		return b.s.writeErr("store a file", err)
	}
	b.f.Close()
	b.f, b.held = f, held
	return nil
}

// Close closes the file. It is safe to call twice.
func (b *BlobFile) Close() error {
	if b.f == nil {
		return nil
	}
	err := b.f.Close()
	b.f = nil
	return err
}

// PutChunks stores chunks of a blob of count chunks of community c (see BlobFile.Put), and says
// how many bytes the new ones take.
func (s *Store) PutChunks(c CommunityID, blob BlobID, count int, chunks []Chunk) (added int64, err error) {
	if err := checkChunks(count, chunks); err != nil {
		return 0, err
	}
	b, err := s.OpenBlob(c, blob, count)
	if err != nil {
		return 0, err
	}
	defer b.Close()
	for _, ch := range chunks {
		n, err := b.Put(ch.Index, ch.Data)
		added += n
		if err != nil {
			return added, err
		}
	}
	return added, b.Close()
}

// writeChunk writes a chunk in its place, then marks it held; the last chunk ends the file (a
// file left longer by damage is cut back). A write that fails (a full disk) gives back what it
// took past the file's end, so that the store's own writes still fit.
func writeChunk(f *os.File, count int, ch Chunk) error {
	at := chunkAt(count, ch.Index)
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(ch.Data, at); err != nil {
		if at+int64(len(ch.Data)) > st.Size() {
			_ = f.Truncate(st.Size())
		}
		return err
	}
	if end := at + int64(len(ch.Data)); ch.Index == count-1 && st.Size() > end {
		if err := f.Truncate(end); err != nil { // longer than its last chunk: damaged
			return err
		}
	}
	_, err = f.WriteAt([]byte{1}, blobHeader+int64(ch.Index))
	return err
}

// blobLock is the lock of a blob's stripe (see Store.blobLocks).
func (s *Store) blobLock(blob BlobID) *sync.Mutex { return &s.blobLocks[blob[0]%64] }

// openBlobToWrite opens a blob's file to write chunks in it, making it (and its community's
// folder) when missing, and gives its bytes of presence. A file with no whole header, or one
// for another count of chunks (damaged), starts again empty. s.blobMu and the blob's lock are
// held.
func (s *Store) openBlobToWrite(c CommunityID, blob BlobID, count int) (*os.File, []byte, error) {
	p := s.blobPath(c, blob)
	f, err := openSharedRW(p, true)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(filepath.Dir(p), 0o700); err == nil {
			f, err = openSharedRW(p, true)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	n, held, ok, err := readBlobHeader(f)
	if err == nil && (!ok || n != count) {
		held = make([]byte, count)
		// A damaged file is emptied first; a new one is not (a file truncated to nothing is
		// written to the disk when it is closed, on ext4: a fetch would wait for it).
		var st os.FileInfo
		if st, err = f.Stat(); err == nil && st.Size() > 0 {
			err = f.Truncate(0)
		}
		if err == nil {
			_, err = f.WriteAt(newBlobHeader(count), 0)
		}
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, held, nil
}

// A BlobWriter writes a blob of one's own while it is sealed, in tmp/, until Commit moves it
// into place under its ID (the ID names the whole sealed file, so it is known last).
type BlobWriter struct {
	s     *Store
	c     CommunityID
	f     *os.File
	count int
	held  []byte
	done  bool
}

// CreateBlob starts a blob of count chunks of community c.
func (s *Store) CreateBlob(c CommunityID, count int) (*BlobWriter, error) {
	if count < 1 || count > MaxBlobChunks {
		return nil, fmt.Errorf("storage: store a file: %d chunks (1 to %d)", count, MaxBlobChunks)
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.inflight.Done()
	if err := s.checkSpace("store a file"); err != nil {
		return nil, err
	}
	tmp := filepath.Join(s.blobsDir(), "tmp")
	f, err := os.CreateTemp(tmp, "seal-*")
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(tmp, 0o700); err == nil {
			f, err = os.CreateTemp(tmp, "seal-*")
		}
	}
	if err == nil {
		if _, err = f.WriteAt(newBlobHeader(count), 0); err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}
	if err != nil {
		return nil, s.writeErr("store a file", err)
	}
	return &BlobWriter{s: s, c: c, f: f, count: count, held: make([]byte, count)}, nil
}

// Put writes chunk i.
func (w *BlobWriter) Put(i int, data []byte) error {
	ch := Chunk{Index: i, Data: data}
	if err := checkChunks(w.count, []Chunk{ch}); err != nil {
		return err
	}
	if w.done {
		return errors.New("storage: store a file: written already")
	}
	if err := w.s.enter(); err != nil {
		return err
	}
	defer w.s.inflight.Done()
	if err := w.s.checkSpace("store a file"); err != nil {
		return err
	}
	if err := writeChunk(w.f, w.count, ch); err != nil {
		return w.s.writeErr("store a file", err)
	}
	w.held[i] = 1
	return nil
}

// Commit puts the blob, every chunk written, in its place as blob id, on the disk when Commit
// returns (the message that names it is durable too). The BlobWriter is done with either way.
func (w *BlobWriter) Commit(id BlobID) error {
	if w.done {
		return errors.New("storage: store a file: written already")
	}
	defer w.Abort()
	for i, h := range w.held {
		if h != 1 {
			return fmt.Errorf("storage: store a file: chunk %d of %d was not written", i, w.count)
		}
	}
	s := w.s
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inflight.Done()
	if err := w.f.Sync(); err != nil {
		return s.writeErr("store a file", err)
	}
	if err := w.f.Close(); err != nil {
		return s.writeErr("store a file", err)
	}
	s.blobMu.RLock()
	defer s.blobMu.RUnlock()
	if err := s.holds(w.c, "store a file"); err != nil {
		return err
	}
	p := s.blobPath(w.c, id)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return s.writeErr("store a file", err)
	}
	if err := os.Rename(w.f.Name(), p); err != nil {
		return s.writeErr("store a file", err)
	}
	// The file's name, and the community's folder's (a fetch may have made it, unsynced); blobs/
	// itself is synced by Open.
	for _, d := range []string{filepath.Dir(p), s.blobsDir()} {
		if err := syncDir(d); err != nil {
			_ = os.Remove(p) // not durable: not a file of one's own the message could name
			return s.writeErr("store a file", err)
		}
	}
	w.done = true
	return nil
}

// Abort drops what was written, unless Commit put it in place. It is safe to call twice.
func (w *BlobWriter) Abort() {
	if w.f == nil {
		return
	}
	_ = w.f.Close()
	if !w.done {
		_ = os.Remove(w.f.Name())
	}
	w.done, w.f = true, nil
}

// A BlobReader is a blob's file open to read its chunks (served to others, or saved).
type BlobReader struct {
	s     *Store
	c     CommunityID
	f     *os.File
	count int
	held  []byte
}

// ReadBlob opens a blob's file of community c to read its chunks; an error wrapping ErrNotFound
// when it holds none.
func (s *Store) ReadBlob(c CommunityID, blob BlobID) (*BlobReader, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.inflight.Done()
	fail := func(err error) (*BlobReader, error) {
		return nil, fmt.Errorf("storage: read a file of community %x: %w", c[:8], err)
	}
	f, err := openShared(s.blobPath(c, blob))
	if errors.Is(err, fs.ErrNotExist) {
		return fail(ErrNotFound)
	}
	if err != nil {
		return fail(err)
	}
	count, held, ok, err := readBlobHeader(f)
	if err == nil && !ok {
		err = ErrNotFound
	}
	if err != nil {
		f.Close()
		return fail(err)
	}
	return &BlobReader{s: s, c: c, f: f, count: count, held: held}, nil
}

// Chunk returns chunk i, or an error wrapping ErrNotFound when it is not held (as the file said
// when it was opened) and ErrDamaged when the file says it is but cannot hold it. It reads into
// buf when buf has room (a fetch serves many chunks, and fresh memory for each costs more than
// the reading).
func (r *BlobReader) Chunk(i int, buf []byte) ([]byte, error) {
	fail := func(err error) ([]byte, error) {
		return nil, fmt.Errorf("storage: read a chunk of community %x: %w", r.c[:8], err)
	}
	if r.f == nil {
		return fail(errors.New("the file is closed"))
	}
	if err := r.s.enter(); err != nil {
		return nil, err
	}
	defer r.s.inflight.Done()
	if i < 0 || i >= r.count || r.held[i] != 1 {
		return fail(ErrNotFound)
	}
	n := int64(ChunkSize)
	if i == r.count-1 {
		st, err := r.f.Stat()
		if err != nil {
			return fail(err)
		}
		if n = st.Size() - chunkAt(r.count, i); n < 1 || n > ChunkSize {
			return fail(fmt.Errorf("%w (its last chunk is %d bytes)", ErrDamaged, n))
		}
	}
	data := buf[:0]
	if int64(cap(data)) < n {
		data = make([]byte, n)
	}
	data = data[:n]
	if _, err := r.f.ReadAt(data, chunkAt(r.count, i)); err != nil {
		if errors.Is(err, io.EOF) {
			return fail(fmt.Errorf("%w (chunk %d is cut short)", ErrDamaged, i))
		}
		return fail(err)
	}
	return data, nil
}

// Close closes the file. It is safe to call twice.
func (r *BlobReader) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

// Chunk returns chunk i of a blob of community c (see BlobReader.Chunk).
func (s *Store) Chunk(c CommunityID, blob BlobID, i int, buf []byte) ([]byte, error) {
	r, err := s.ReadBlob(c, blob)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Chunk(i, buf)
}

// HasChunks reports, for each chunk of a blob of count chunks, whether it is held.
func (s *Store) HasChunks(c CommunityID, blob BlobID, count int) ([]bool, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.inflight.Done()
	have := make([]bool, max(count, 0))
	f, err := openShared(s.blobPath(c, blob))
	if errors.Is(err, fs.ErrNotExist) {
		return have, nil
	}
	if err != nil {
		return nil, fmt.Errorf("storage: look for a file of community %x: %w", c[:8], err)
	}
	defer f.Close()
	n, held, ok, err := readBlobHeader(f)
	if err != nil {
		return nil, fmt.Errorf("storage: look for a file of community %x: %w", c[:8], err)
	}
	if ok && n == count {
		for i, h := range held {
			have[i] = h == 1
		}
	}
	return have, nil
}

// DropChunks deletes chunks of a blob of community c (a damaged chunk), or the whole blob when
// chunks is nil (a deleted message's file), and says how many bytes that freed. A blob left
// with none is deleted.
func (s *Store) DropChunks(c CommunityID, blob BlobID, chunks []int) (freed int64, err error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.inflight.Done()
	s.blobMu.RLock()
	defer s.blobMu.RUnlock()
	s.blobLock(blob).Lock()
	defer s.blobLock(blob).Unlock()
	fail := func(err error) (int64, error) {
		return freed, fmt.Errorf("storage: delete a file of community %x: %w", c[:8], err)
	}
	p := s.blobPath(c, blob)
	f, err := openSharedRW(p, false)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return fail(err)
	}
	count, held, ok, err := readBlobHeader(f)
	var size int64
	if err == nil {
		var st os.FileInfo
		if st, err = f.Stat(); err == nil {
			size = st.Size()
		}
	}
	if err != nil {
		f.Close()
		return fail(err)
	}
	left := false
	if ok && chunks != nil {
		before := heldBytes(count, held, size)
		for _, i := range chunks {
			if i >= 0 && i < count && held[i] == 1 {
				if _, err := f.WriteAt([]byte{0}, blobHeader+int64(i)); err != nil {
					f.Close()
					return fail(err)
				}
				held[i] = 0
			}
		}
		freed = before - heldBytes(count, held, size)
		for _, h := range held {
			left = left || h == 1
		}
	} else if ok {
		freed = heldBytes(count, held, size)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if !left {
		s.blobsGone.Add(1)
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fail(err)
		}
	}
	return freed, nil
}

// ChunkBytes is how many bytes community c's blobs hold.
func (s *Store) ChunkBytes(c CommunityID) (int64, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.inflight.Done()
	fail := func(err error) (int64, error) {
		return 0, fmt.Errorf("storage: measure the files of community %x: %w", c[:8], err)
	}
	entries, err := os.ReadDir(s.communityBlobs(c))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return fail(err)
	}
	var n int64
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		f, err := openShared(filepath.Join(s.communityBlobs(c), e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted meanwhile
		}
		if err != nil {
			return fail(err)
		}
		count, held, ok, err := readBlobHeader(f)
		st, serr := f.Stat()
		f.Close()
		if err == nil {
			err = serr
		}
		if err != nil {
			return fail(err)
		}
		if ok {
			n += heldBytes(count, held, st.Size())
		}
	}
	return n, nil
}

// hideBlobs renames a community's folder of blobs out of the way (into tmp/, which Open clears),
// so that no blob of it is found from then on, and returns where it went ("": there was none);
// removeAll deletes it then, without holding the store's locks. s.blobMu is held.
func (s *Store) hideBlobs(c CommunityID) (string, error) {
	s.blobsGone.Add(1)
	dir := s.communityBlobs(c)
	gone := filepath.Join(s.blobsDir(), "tmp", "forgotten-"+hex.EncodeToString(c[:8])+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err := os.MkdirAll(filepath.Dir(gone), 0o700); err != nil {
		return "", err
	}
	if err := os.Rename(dir, gone); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		// Windows refuses to rename a folder while a file in it is open (one being served):
		// delete the files where they are (they are open so that they can be), then the folder.
		entries, rerr := os.ReadDir(dir)
		if rerr != nil {
			return "", err
		}
		for _, e := range entries {
			if rerr := os.Remove(filepath.Join(dir, e.Name())); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				return "", fmt.Errorf("%w (and deleting its files: %w)", err, rerr)
			}
		}
		_ = os.Remove(dir) // a file still open goes when it is closed; the folder is empty then
		return "", nil
	}
	return gone, nil
}

// inUsePath is the mark that the store is open: made by Open, removed by a clean Close.
func (s *Store) inUsePath() string { return filepath.Join(s.blobsDir(), "IN-USE") }

// openBlobs clears what a crash left half-written (files being sealed), and folders Forget
// left, and marks the files in use: found there, the last run did not close, and what it
// fetched is to be checked (FilesUnchecked).
func (s *Store) openBlobs() error {
	if err := os.RemoveAll(filepath.Join(s.blobsDir(), "tmp")); err != nil {
		return fmt.Errorf("storage: clear %s: %w", filepath.Join(s.blobsDir(), "tmp"), err)
	}
	if _, err := os.Stat(s.inUsePath()); err == nil {
		s.filesUnchecked.Store(true)
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(s.blobsDir(), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(s.inUsePath(), nil, 0o600); err != nil {
		return err
	}
	if err := syncDir(s.blobsDir()); err != nil { // on the disk before any chunk is
		return err
	}
	return syncDir(s.dir)
}

// FilesUnchecked reports that the last run did not close (a crash, a power cut): chunks it
// fetched from others were not synced, and some may be marked held yet read wrong. The caller
// checks them against their hashes, drops the bad ones, and calls FilesChecked.
func (s *Store) FilesUnchecked() bool { return s.filesUnchecked.Load() }

// FilesChecked says the files were checked after FilesUnchecked: the next clean Close marks
// the files closed.
func (s *Store) FilesChecked() { s.filesUnchecked.Store(false) }
