package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// fixtureEvents is how many events buildStore writes: about 14 MB, so that Badger flushes
// memtables and compacts, leaving several table files.
const fixtureEvents = 20000

// buildStore writes n events of one author (authority every 50th, all in channel 1) into a new
// store in a folder of the test, closes it (which writes the high-water mark) and returns the
// folder.
func buildStore(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "kith")
	s, err := Open(dir, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	appendEvents(t, s, 1, n)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// appendEvents stores events from..to-1 of the fixture's author.
func appendEvents(t *testing.T, s *Store, from, to int) {
	t.Helper()
	c, ch := community(1), channel(1)
	for lo := from; lo < to; lo += 500 {
		var batch []Event
		for seq := lo; seq < min(lo+500, to); seq++ {
			e := ev(c, author(1), uint64(seq), uint64(seq), ch, seq%50 == 0, "")
			e.Envelope = noiseFor(e.ID, 600)
			batch = append(batch, e)
		}
		if _, err := s.Append(batch...); err != nil {
			t.Fatal(err)
		}
	}
}

// copyDir copies the files of folder src (and its subfolders) to a new folder of the test.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// tableFiles lists the table files of the store in dir, sorted.
func tableFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "db", "*.sst"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(m)
	return m
}

// fileSizes maps each file of folder dir/db to its size.
func fileSizes(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = fi.Size()
	}
	return out
}

// refused opens dir, expects ErrDamaged whose sentence names part and says what to do, and
// checks that the refused Open deleted no table file.
func refused(t *testing.T, dir, part string) error {
	t.Helper()
	before := tableFiles(t, dir)
	s, err := Open(dir, Options{Logger: testLogger(t)})
	if err == nil {
		_ = s.Close()
		t.Fatalf("Open succeeded; want ErrDamaged naming %s", part)
	}
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("Open: %v; want ErrDamaged", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, part) || !strings.Contains(msg, "kithd resync") || strings.Contains(msg, "\n") {
		t.Fatalf("Open: %q; want one line naming %s and saying what to do", msg, part)
	}
	if after := tableFiles(t, dir); !slices.Equal(before, after) {
		t.Fatalf("the refused Open changed the table files:\n before %v\n after  %v", before, after)
	}
	return err
}

func TestDamagedTableIsRefused(t *testing.T) {
	fixture := buildStore(t, fixtureEvents)
	tables := tableFiles(t, fixture)
	if len(tables) < 3 {
		t.Fatalf("the fixture has %d table files; the test needs 3 or more", len(tables))
	}
	victim := filepath.Base(tables[1])
	size := fileSizes(t, fixture)[victim]
	for _, tc := range []struct {
		name   string
		damage func(path string) error
	}{
		{"cut to half", func(p string) error { return os.Truncate(p, size/2) }},
		{"cut to 10 bytes", func(p string) error { return os.Truncate(p, 10) }},
		{"emptied", func(p string) error { return os.Truncate(p, 0) }},
		{"index overwritten", func(p string) error { return overwrite(p, size-2000, 64) }},
		{"footer overwritten", func(p string) error { return overwrite(p, size-4, 4) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, fixture)
			if err := tc.damage(filepath.Join(dir, "db", victim)); err != nil {
				t.Fatal(err)
			}
			err := refused(t, dir, victim)
			t.Logf("%v", err)
		})
	}
}

// overwrite writes n bytes of 0xFF at off in the file at path.
func overwrite(path string, off int64, n int) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, werr := f.WriteAt([]byte(strings.Repeat("\xff", n)), off)
	return errors.Join(werr, f.Close())
}

func TestMissingTableIsRefused(t *testing.T) {
	dir := buildStore(t, fixtureEvents)
	victim := tableFiles(t, dir)[0]
	if err := os.Remove(victim); err != nil {
		t.Fatal(err)
	}
	refused(t, dir, filepath.Base(victim))
}

func TestMissingManifestIsRefused(t *testing.T) {
	dir := buildStore(t, fixtureEvents)
	if err := os.Remove(filepath.Join(dir, "db", "MANIFEST")); err != nil {
		t.Fatal(err)
	}
	refused(t, dir, "MANIFEST")
}

func TestCutManifestIsRefused(t *testing.T) {
	fixture := buildStore(t, fixtureEvents)
	size := fileSizes(t, fixture)["MANIFEST"]
	for _, cut := range []int64{0, 4, 8, 16, size / 2} {
		t.Run(fmt.Sprintf("cut to %d of %d bytes", cut, size), func(t *testing.T) {
			dir := copyDir(t, fixture)
			if err := os.Truncate(filepath.Join(dir, "db", "MANIFEST"), cut); err != nil {
				t.Fatal(err)
			}
			// A cut that leaves whole records passes Badger's own reading: then the tables it
			// no longer lists give it away.
			s, err := Open(dir, Options{Logger: testLogger(t)})
			if err == nil {
				_ = s.Close()
				t.Fatal("Open succeeded; want ErrDamaged")
			}
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "kithd resync") {
				t.Fatalf("Open: %v; want ErrDamaged saying what to do", err)
			}
			t.Logf("%v", err)
		})
	}
}

func TestDamagedBlockReadsAsDamaged(t *testing.T) {
	dir := buildStore(t, fixtureEvents)
	tables := tableFiles(t, dir)
	victim := tables[len(tables)/2]
	if err := overwrite(victim, 100_000, 8192); err != nil { // data blocks, not the index
		t.Fatal(err)
	}
	s, err := Open(dir, Options{Logger: testLogger(t)})
	if err != nil {
		if !errors.Is(err, ErrDamaged) {
			t.Fatalf("Open: %v; want success or ErrDamaged", err)
		}
		return
	}
	defer s.Close()
	n := 0
	err = s.Since(community(1), 0, 0, func(uint64, Event) error { n++; return nil })
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("reading every event: %d read, err %v; want ErrDamaged", n, err)
	}
	t.Logf("%d events read, then: %v", n, err)
}

func TestPanicInsideBadgerIsDamage(t *testing.T) {
	s := openTest(t, t.TempDir())
	err := s.view(func(*badger.Txn) error { panic("runtime error: slice bounds out of range") })
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "slice bounds out of range") {
		t.Fatalf("view after a panic: %v; want ErrDamaged", err)
	}
	// The store still works.
	if _, err := s.Communities(); err != nil {
		t.Fatal(err)
	}
}

func TestCallbackPanicIsTheCallers(t *testing.T) {
	s := openTest(t, t.TempDir())
	if _, err := s.Append(ev(community(1), author(1), 1, 1, channel(1), true, "")); err != nil {
		t.Fatal(err)
	}
	type mine struct{}
	defer func() {
		if r := recover(); r != (mine{}) {
			t.Fatalf("recovered %v; want the callback's own panic value", r)
		}
	}()
	_ = s.AuthorityEvents(community(1), func(Event) error { panic(mine{}) })
	t.Fatal("AuthorityEvents returned after its callback panicked")
}
