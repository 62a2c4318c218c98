package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// The high-water mark is a small file beside the database (dir/MARK) that records how much the
// store held: the last local number given in each community, which is how many events it
// stores there (numbers are given 1, 2, ... and never taken back). Open refuses a store that
// holds less than its mark with ErrDamaged, whatever took the events away: a MANIFEST cut short
// at a record boundary, tables lost, the db folder emptied or replaced by an older copy.
//
// The mark only ever records what is durable, so that a crash or a power cut never makes it
// claim more than the store can come back with:
//
//   - Close writes it after Badger closed, which flushes every memtable into synced tables.
//   - While the store is open, every Options.MarkEvery after events were added, raiseMark
//     holds writeMu (no write can come in or switch Badger's write-ahead log), reads the
//     holdings and calls db.Sync() — but only when one memtable is left (one .mem file): the
//     data of a memtable waiting to be flushed sits in a log that Sync does not cover.
//
// The file is written whole to a temporary file, fsynced, renamed over the old one and the
// folder fsynced: a crash leaves the old mark or the new one. The mark only rises, except with
// Options.AcceptLoss.

// markFile is the high-water mark's file name in the data folder.
const markFile = "MARK"

// markMagic starts the mark file and names its format version:
//
//	"kith-store-mark-v1\n" | n (4) | n × (community ID (32) | last local number (8)) |
//	CRC-32C of everything before (4)
//
// Integers are big-endian; communities are sorted.
var markMagic = []byte("kith-store-mark-v1\n")

// defaultMarkEvery is how often the mark is raised while events come in.
const defaultMarkEvery = 30 * time.Second

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// holdings is what the store holds: the last local number given in each community.
type holdings map[CommunityID]uint64

// events is the number of events the holdings count.
func (h holdings) events() uint64 {
	var n uint64
	for _, v := range h {
		n += v
	}
	return n
}

func encodeMark(h holdings) []byte {
	ids := make([]CommunityID, 0, len(h))
	for c := range h {
		ids = append(ids, c)
	}
	slices.SortFunc(ids, func(a, b CommunityID) int { return bytes.Compare(a[:], b[:]) })
	b := make([]byte, 0, len(markMagic)+4+len(h)*(hashLen+8)+4)
	b = append(b, markMagic...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(ids)))
	for _, c := range ids {
		b = append(b, c[:]...)
		b = binary.BigEndian.AppendUint64(b, h[c])
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeMark(b []byte) (holdings, error) {
	if len(b) < len(markMagic)+8 || !bytes.HasPrefix(b, markMagic) {
		return nil, errors.New("not a Kith mark file")
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, errors.New("its checksum does not match")
	}
	p := body[len(markMagic):]
	n := binary.BigEndian.Uint32(p)
	p = p[4:]
	if uint64(len(p)) != uint64(n)*(hashLen+8) {
		return nil, fmt.Errorf("%d bytes for %d communities", len(p), n)
	}
	h := make(holdings, n)
	for range n {
		var c CommunityID
		copy(c[:], p)
		h[c] = binary.BigEndian.Uint64(p[hashLen:])
		p = p[hashLen+8:]
	}
	return h, nil
}

// readMark reads dir's mark; ok is false when there is none. A mark that does not decode is an
// error wrapping ErrDamaged.
func readMark(dir string) (h holdings, ok bool, err error) {
	path := filepath.Join(dir, markFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("storage: read %s: %w (check that this user owns the data folder)", path, err)
	}
	h, err = decodeMark(b)
	if err != nil {
		return nil, false, fmt.Errorf("storage: %w: the high-water mark %s is damaged (%v)", ErrDamaged, path, err)
	}
	return h, true, nil
}

// writeMark replaces dir's mark with h, atomically and durably.
func writeMark(dir string, h holdings) error {
	if err := WriteFileAtomic(filepath.Join(dir, markFile), encodeMark(h)); err != nil {
		return fmt.Errorf("storage: write the high-water mark in %s: %w", dir, err)
	}
	return nil
}

// WriteFileAtomic replaces the file at path with b, atomically and durably: a temporary file
// beside it is written and synced, renamed over path, and the folder synced, so that a crash
// leaves the old file or the new one, never half of one. Small files that live beside the store
// (the high-water mark, app/peer's lifeline) use it.
func WriteFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return mapWriteErr(err)
	}
	tmp := f.Name()
	_, werr := f.Write(b)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp)
		return mapWriteErr(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return mapWriteErr(err)
	}
	return syncDir(dir)
}

// readHoldings reads the community records: what the store holds now.
func (s *Store) readHoldings() (h holdings, err error) {
	defer s.guard("read what the store holds", &err)
	h = holdings{}
	err = s.db.View(func(txn *badger.Txn) error {
		prefix := []byte{prefixCommunity}
		it := txn.NewIterator(keysOnly(prefix))
		defer it.Close()
		for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
			item := it.Item()
			var c CommunityID
			copy(c[:], item.Key()[1:])
			if err := item.Value(func(v []byte) error {
				n, err := decodeCommunity(v)
				h[c] = n
				return err
			}); err != nil {
				return fmt.Errorf("community %x: %w", c[:8], err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: read what the store holds: %w", err)
	}
	return h, nil
}

// checkMark compares the store with its mark at Open: ErrDamaged when it holds less, unless
// accept, which lowers the mark to what the store holds. A damaged mark is written again.
func (s *Store) checkMark(accept bool) (err error) {
	defer s.guard("check what the store holds", &err)
	mark, ok, err := readMark(s.dir)
	if errors.Is(err, ErrDamaged) {
		s.log.Warn("the high-water mark is damaged; it will be written again from what the store holds", "err", err)
	} else if err != nil {
		return err
	}
	held, err := s.readHoldings()
	if err != nil {
		return err
	}
	if ok {
		have, want, short, err := s.compare(mark, held)
		if err != nil {
			return err
		}
		if short && !accept {
			what := fmt.Sprintf("%d of %d events", have, want)
			if n := present(mark, held); n < len(mark) {
				what += fmt.Sprintf(", %d of %d communities", n, len(mark))
			}
			return fmt.Errorf("storage: %w: the store in %s holds less than it did (%s): run `kithd resync` to fetch the history again from other members, keeping your identity",
				ErrDamaged, s.dir, what)
		}
		if short {
			s.log.Warn("the store holds less than it did; the high-water mark is lowered (resync)", "dir", s.dir, "events", have, "marked", want)
			if err := writeMark(s.dir, held); err != nil {
				return err
			}
			s.marked = held
			return nil
		}
		s.marked = mark
	}
	// A store from a Kith without marks, or one whose mark was damaged: the next raise writes it.
	if !ok && len(held) > 0 {
		s.dirty.Store(true)
	}
	return nil
}

// compare checks the store against mark: short when a community of the mark is gone, has given
// fewer local numbers, or lost its last marked event (the local index entry of the marked number
// and the event it points at must be there). have counts the marked events still indexed.
func (s *Store) compare(mark, held holdings) (have, want uint64, short bool, err error) {
	for c, n := range mark {
		want += n
		h, present := held[c]
		ok := present && h >= n
		if ok && n > 0 {
			if ok, err = s.hasLocal(c, n); err != nil {
				return 0, 0, false, err
			}
		}
		if ok {
			have += n
			continue
		}
		short = true
		k, err := s.countLocal(c, n)
		if err != nil {
			return 0, 0, false, err
		}
		have += k
	}
	return have, want, short, nil
}

// present counts the communities of mark that held has.
func present(mark, held holdings) int {
	n := 0
	for c := range mark {
		if _, ok := held[c]; ok {
			n++
		}
	}
	return n
}

// hasLocal reports whether local number n of community c is indexed and its event stored.
func (s *Store) hasLocal(c CommunityID, n uint64) (bool, error) {
	found := false
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(localKey(c, n))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = getByPtr(txn, c, item)
		if errors.Is(err, ErrDamaged) {
			return nil
		}
		found = err == nil
		return err
	})
	return found, err
}

// countLocal counts the local index entries 1..n of community c.
func (s *Store) countLocal(c CommunityID, n uint64) (uint64, error) {
	var k uint64
	err := s.db.View(func(txn *badger.Txn) error {
		prefix := localPrefix(c)
		it := txn.NewIterator(keysOnly(prefix))
		defer it.Close()
		for it.Seek(localKey(c, 1)); it.ValidForPrefix(prefix); it.Next() {
			if binary.BigEndian.Uint64(it.Item().Key()[len(prefix):]) > n {
				break
			}
			k++
		}
		return nil
	})
	return k, err
}

// errMarkLater says the mark cannot be raised now (a memtable waits to be flushed).
var errMarkLater = errors.New("storage: a memtable is being flushed; the mark is raised later")

// raiseMark raises the mark to what the store holds now, when that is durable (see the
// comment at the top of this file).
func (s *Store) raiseMark() error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inflight.Done()
	s.writeMu.Lock()
	held, err := s.durableHoldings()
	s.writeMu.Unlock()
	if err != nil {
		return err
	}
	return s.setMark(held)
}

// durableHoldings reads the holdings and makes them durable: with one memtable left, db.Sync()
// covers everything not yet in a table. s.writeMu must be held.
func (s *Store) durableHoldings() (holdings, error) {
	mems, err := memtables(filepath.Join(s.dir, "db"))
	if err != nil {
		return nil, err
	}
	if mems > 1 {
		return nil, errMarkLater
	}
	held, err := s.readHoldings()
	if err != nil {
		return nil, err
	}
	if err := s.db.Sync(); err != nil {
		return nil, s.writeErr("sync before raising the high-water mark", err)
	}
	return held, nil
}

// memtables counts Badger's memtable logs (.mem files) in dbDir.
func memtables(dbDir string) (int, error) {
	entries, err := os.ReadDir(dbDir)
	if err != nil {
		return 0, fmt.Errorf("storage: read %s: %w", dbDir, err)
	}
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".mem") {
			n++
		}
	}
	return n, nil
}

// setMark raises the mark to held (per community, the higher of the two) and writes it when
// that changes it.
func (s *Store) setMark(held holdings) error {
	s.markMu.Lock()
	defer s.markMu.Unlock()
	next := make(holdings, len(s.marked)+len(held))
	for c, n := range s.marked {
		next[c] = n
	}
	changed := s.marked == nil
	for c, n := range held {
		if old, ok := next[c]; !ok || n > old {
			next[c] = n
			changed = true
		}
	}
	if !changed {
		return nil
	}
	if err := writeMark(s.dir, next); err != nil {
		return err
	}
	s.marked = next
	return nil
}

// markLoop raises the mark every s.markEvery after events were added, until ctx ends.
func (s *Store) markLoop(ctx context.Context) {
	defer close(s.markDone)
	t := time.NewTicker(s.markEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if !s.dirty.Swap(false) {
				continue
			}
			if err := s.raiseMark(); err != nil {
				s.dirty.Store(true) // try again next time
				if !errors.Is(err, errMarkLater) && !errors.Is(err, ErrClosed) {
					s.log.Warn("the high-water mark could not be raised", "err", err)
				}
			}
		}
	}
}

// Exists reports whether dir holds a Kith store (its database folder or its high-water mark),
// without opening it.
func Exists(dir string) (bool, error) {
	for _, name := range []string{"db", markFile} {
		_, err := os.Lstat(filepath.Join(dir, name))
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("storage: look for a store in %s: %w (check that this user owns the data folder)", dir, err)
		}
	}
	return false, nil
}

// syncDir fsyncs folder dir, so that a rename in it is durable. Windows cannot sync a folder
// (its renames are durable once the file system says so).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("storage: sync folder %s: %w", dir, err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("storage: sync folder %s: %w", dir, mapWriteErr(err))
	}
	return nil
}
