package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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
	for _, cut := range []int64{0, 4, 8, 16, size / 2, size - 1} {
		t.Run(fmt.Sprintf("cut to %d of %d bytes", cut, size), func(t *testing.T) {
			dir := copyDir(t, fixture)
			if err := os.Truncate(filepath.Join(dir, "db", "MANIFEST"), cut); err != nil {
				t.Fatal(err)
			}
			// A cut that leaves whole records passes Badger's own reading: then the tables it
			// no longer lists, or the high-water mark, give it away.
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

func TestStoreHoldingLessThanItsMarkIsRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kith")
	s, err := Open(dir, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	appendEvents(t, s, 1, 5001)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	older := copyDir(t, filepath.Join(dir, "db")) // the database as it was at 5,000 events
	s, err = Open(dir, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	appendEvents(t, s, 5001, 10001)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Half the data goes: the database is replaced by its older copy, the mark stays.
	if err := os.RemoveAll(filepath.Join(dir, "db")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(older, filepath.Join(dir, "db")); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, Options{Logger: testLogger(t)})
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "holds less than it did (5000 of 10000 events)") ||
		!strings.Contains(err.Error(), "kithd resync") {
		t.Fatalf("Open: %v; want ErrDamaged saying it holds 5000 of 10000 events and what to do", err)
	}

	// kithd resync accepts the loss: the mark comes down to what the store holds.
	s, err = Open(dir, Options{Logger: testLogger(t), AcceptLoss: true})
	if err != nil {
		t.Fatalf("Open with AcceptLoss: %v", err)
	}
	if n, err := s.LocalMark(community(1)); err != nil || n != 5000 {
		t.Fatalf("LocalMark = %d, %v; want 5000", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	openTest(t, dir)
}

func TestEmptiedDatabaseIsRefused(t *testing.T) {
	dir := buildStore(t, 1000)
	if err := os.RemoveAll(filepath.Join(dir, "db")); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, Options{Logger: testLogger(t)})
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "(0 of 999 events, 0 of 1 communities)") {
		t.Fatalf("Open: %v; want ErrDamaged saying it holds 0 of 999 events in 0 of 1 communities", err)
	}
}

func TestLostCommunityIsRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kith")
	s, err := Open(dir, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutState(community(7), []byte("state")); err != nil { // a community with no event yet
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The database is replaced by an empty one; the mark stays.
	empty := filepath.Join(t.TempDir(), "empty")
	if s, err = Open(empty, Options{Logger: testLogger(t)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "db")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(empty, "db"), filepath.Join(dir, "db")); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, Options{Logger: testLogger(t)})
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "0 of 1 communities") {
		t.Fatalf("Open: %v; want ErrDamaged saying it holds 0 of 1 communities", err)
	}
}

func TestMarkAllowsNormalUse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kith")
	// A fresh folder, then clean restarts, each adding events.
	for round := range 3 {
		s, err := Open(dir, Options{Logger: testLogger(t), MarkEvery: 10 * time.Millisecond})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		appendEvents(t, s, 1+round*100, 1+(round+1)*100)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		mark, ok, err := readMark(dir)
		if err != nil || !ok || mark[community(1)] != uint64((round+1)*100) {
			t.Fatalf("round %d: mark %v, %v, %v; want %d events", round, mark, ok, err, (round+1)*100)
		}
	}
}

func TestMarkRisesWhileOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kith")
	s, err := Open(dir, Options{Logger: testLogger(t), MarkEvery: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for seq := uint64(1); seq <= 50; seq++ {
		if err := s.AppendOwn(ctx, ev(community(1), author(1), seq, seq, channel(1), false, "")); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mark, ok, err := readMark(dir)
		if err != nil {
			t.Fatal(err)
		}
		if ok && mark[community(1)] == 50 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mark did not rise to 50 events while the store was open: %v", mark)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDamagedMarkIsWrittenAgain(t *testing.T) {
	dir := buildStore(t, 100)
	if err := overwrite(filepath.Join(dir, markFile), 20, 1); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("a damaged mark refuses the store: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	mark, ok, err := readMark(dir)
	if err != nil || !ok || mark[community(1)] != 99 {
		t.Fatalf("mark after Close: %v, %v, %v; want 99 events", mark, ok, err)
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

func TestSetAsideStartsAnEmptyStore(t *testing.T) {
	dir := buildStore(t, 1000)
	if err := os.Remove(filepath.Join(dir, "db", "MANIFEST")); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{Logger: testLogger(t)}); !errors.Is(err, ErrDamaged) {
		t.Fatalf("Open: %v; want ErrDamaged", err)
	}
	aside, err := SetAside(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"db", markFile} {
		if _, err := os.Stat(filepath.Join(aside, name)); err != nil {
			t.Fatalf("%s was not kept in %s: %v", name, aside, err)
		}
	}
	s := openTest(t, dir)
	if cs, err := s.Communities(); err != nil || len(cs) != 0 {
		t.Fatalf("Communities after SetAside = %v, %v; want an empty store", cs, err)
	}
	if _, err := SetAside(dir); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("SetAside of an open store: %v; want ErrAlreadyRunning", err)
	}
}
