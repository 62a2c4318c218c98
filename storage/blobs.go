package storage

// Blob chunks: the encrypted pieces of files sent with messages, each a file of its own under
// its hash, outside Badger (see doc.go, "Files").

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// MaxChunkSize bounds a chunk file: a longer one is damaged (a chunk is 256 KiB and its tag).
const MaxChunkSize = 1 << 20

// A Chunk is one encrypted piece of a file, named by the SHA-256 of its bytes (the caller checks
// that it is).
type Chunk struct {
	Hash [32]byte
	Data []byte
}

// blobsDir is the folder of every community's chunks; tmp, inside it, holds chunks being written.
func (s *Store) blobsDir() string { return filepath.Join(s.dir, "blobs") }

func (s *Store) communityBlobs(c CommunityID) string {
	return filepath.Join(s.blobsDir(), hex.EncodeToString(c[:]))
}

// chunkPath is a chunk's file: blobs/<community>/<hash>. One folder a community (a file system
// indexes a folder of many files well; a folder made costs more than the chunk's writing).
func (s *Store) chunkPath(c CommunityID, h [32]byte) string {
	return filepath.Join(s.communityBlobs(c), hex.EncodeToString(h[:]))
}

// PutChunks stores chunks of community c, each written whole to a file of its own before it
// takes its name, so a chunk that is there is never half-written. A chunk already there whole is
// left as it is; one left empty or of another size (a crash) is written again. With durable,
// each is on the disk when PutChunks returns (one's own files: the message that names them is
// durable too); chunks fetched from others can be fetched again. added is how many bytes the
// new chunks take. A community this store does not hold (forgotten meanwhile) takes none.
func (s *Store) PutChunks(c CommunityID, chunks []Chunk, durable bool) (added int64, err error) {
	if len(chunks) == 0 {
		return 0, nil
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
	err = s.view(func(txn *badger.Txn) error {
		_, err := txn.Get(communityKey(c))
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, fmt.Errorf("storage: store a file: community %x is not on this device: %w", c[:8], ErrNotFound)
	}
	if err != nil {
		return 0, err
	}
	tmp := filepath.Join(s.blobsDir(), "tmp")
	dirs := map[string]bool{}
	for _, ch := range chunks {
		if len(ch.Data) > MaxChunkSize {
			return added, fmt.Errorf("storage: store a file: a chunk of %d bytes is over the %d-byte limit", len(ch.Data), MaxChunkSize)
		}
		p := s.chunkPath(c, ch.Hash)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Size() == int64(len(ch.Data)) {
			continue
		}
		made, err := writeChunk(tmp, p, ch.Data, durable)
		if err != nil {
			return added, s.writeErr("store a file", err)
		}
		added += int64(len(ch.Data))
		dirs[filepath.Dir(p)] = true
		if made { // the community's first chunk: its folder, and the folders holding it
			dirs[s.blobsDir()], dirs[s.dir] = true, true
		}
	}
	if durable {
		for d := range dirs {
			if err := syncDir(d); err != nil {
				return added, err
			}
		}
	}
	return added, nil
}

// writeChunk writes data to a new file in tmp, then renames it to p; made says the folders
// were missing and made (the first chunk of a community).
func writeChunk(tmp, p string, data []byte, durable bool) (made bool, err error) {
	f, err := os.CreateTemp(tmp, "chunk-*")
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(tmp, 0o700); err == nil {
			f, err = os.CreateTemp(tmp, "chunk-*")
		}
	}
	if err != nil {
		return false, err
	}
	_, err = f.Write(data)
	if err == nil && durable {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
		if errors.Is(err, fs.ErrNotExist) {
			if err = os.MkdirAll(filepath.Dir(p), 0o700); err == nil {
				made = true
				err = os.Rename(f.Name(), p)
			}
		}
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return made, err
}

// Chunk returns a stored chunk, or an error wrapping ErrNotFound. It reads into buf when buf
// has room (a fetch serves many chunks, and fresh memory for each costs more than the reading).
func (s *Store) Chunk(c CommunityID, h [32]byte, buf []byte) ([]byte, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.inflight.Done()
	f, err := openShared(s.chunkPath(c, h))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("storage: read a chunk of community %x: %w", c[:8], ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: read a chunk of community %x: %w", c[:8], err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("storage: read a chunk of community %x: %w", c[:8], err)
	}
	if st.Size() > MaxChunkSize {
		return nil, fmt.Errorf("storage: read a chunk of community %x: %w (%d bytes)", c[:8], ErrDamaged, st.Size())
	}
	data := buf[:0]
	if int64(cap(data)) < st.Size() {
		data = make([]byte, st.Size())
	}
	data = data[:st.Size()]
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("storage: read a chunk of community %x: %w", c[:8], err)
	}
	return data, nil
}

// HasChunks reports, for each hash, whether its chunk is stored.
func (s *Store) HasChunks(c CommunityID, hs [][32]byte) ([]bool, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.inflight.Done()
	have := make([]bool, len(hs))
	for i, h := range hs {
		st, err := os.Stat(s.chunkPath(c, h))
		switch {
		case err == nil:
			have[i] = st.Mode().IsRegular() && st.Size() > 0 && st.Size() <= MaxChunkSize
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("storage: look for a chunk of community %x: %w", c[:8], err)
		}
	}
	return have, nil
}

// DropChunks deletes chunks of community c (a deleted message's files, a damaged chunk) and
// returns how many bytes that freed.
func (s *Store) DropChunks(c CommunityID, hs [][32]byte) (freed int64, err error) {
	if len(hs) == 0 {
		return 0, nil
	}
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.inflight.Done()
	s.blobMu.RLock()
	defer s.blobMu.RUnlock()
	for _, h := range hs {
		p := s.chunkPath(c, h)
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil {
			err = os.Remove(p)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return freed, fmt.Errorf("storage: delete a file of community %x: %w", c[:8], err)
		}
		freed += st.Size()
	}
	return freed, nil
}

// ChunkBytes is how many bytes community c's chunks take.
func (s *Store) ChunkBytes(c CommunityID) (int64, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.inflight.Done()
	var n int64
	err := filepath.WalkDir(s.communityBlobs(c), func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("storage: measure the files of community %x: %w", c[:8], err)
	}
	return n, nil
}

// hideChunks renames a community's folder of chunks out of the way (into tmp/, which Open
// clears), so that no chunk of it is found from then on, and returns where it went ("": there
// was none); removeAll deletes it then, without holding the store's locks. s.blobMu is held.
func (s *Store) hideChunks(c CommunityID) (string, error) {
	dir := s.communityBlobs(c)
	gone := filepath.Join(s.blobsDir(), "tmp", "forgotten-"+hex.EncodeToString(c[:8])+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err := os.MkdirAll(filepath.Dir(gone), 0o700); err != nil {
		return "", err
	}
	if err := os.Rename(dir, gone); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		return "", err
	}
	return gone, nil
}

// openBlobs clears what a crash left half-written, and folders Forget left.
func (s *Store) openBlobs() error {
	if err := os.RemoveAll(filepath.Join(s.blobsDir(), "tmp")); err != nil {
		return fmt.Errorf("storage: clear %s: %w", filepath.Join(s.blobsDir(), "tmp"), err)
	}
	return nil
}
