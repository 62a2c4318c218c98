package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/ristretto/v2/z"
)

// A damaged store is refused with one sentence, never a stack trace and never by silently
// starting empty. Three things stand between Badger and a damaged folder:
//
//   - checkFiles reads Badger's MANIFEST and opens every table it lists, in this goroutine,
//     before Badger does: Badger opens tables in goroutines of its own, where a table cut short
//     panics beyond any recover, and it silently drops a table whose index checksum fails. It
//     also refuses a folder whose MANIFEST is missing or lists only part of the tables present,
//     where Badger would start an empty store and delete the tables it does not know.
//   - openBadger, guard and the recover in writeEventsMode turn a panic inside Badger, while it
//     opens or while a method of the Store reads or writes, into ErrDamaged.
//   - the high-water mark (mark.go) catches what still comes back smaller than it was.
//
// Panics in Badger's own background goroutines (compactions reading a damaged table) cannot be
// recovered by anyone: checkFiles makes them unlikely, since every table is read once at open.

// repair is what to do about a damaged store.
const repair = "restore the data folder from a backup, or run `kithd resync` to fetch the history again from other members, keeping your identity"

// damagedDir returns the error for a store in dir that cannot be used as it is: part names the
// damaged part (a file, a record), what says what is wrong with it ("is cut short (…)").
func damagedDir(dir, part, what string) error {
	return fmt.Errorf("storage: %w: %s in %s %s: %s", ErrDamaged, part, dir, oneLine(what), repair)
}

// errDamaged is the error of a record that does not decode or an index entry that leads
// nowhere; callers wrap it with what they were reading.
func errDamaged(what, detail string) error {
	return fmt.Errorf("%w: %s (%s): %s", ErrDamaged, what, detail, repair)
}

func errVersion(what string, v byte) error {
	return fmt.Errorf("storage: %s has version %d, which this Kith does not know; update Kith", what, v)
}

// oneLine is s on one line of at most 300 bytes: Badger's messages span many lines.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// panicText is a panic value as one short line.
func panicText(r any) string { return oneLine(fmt.Sprint(r)) }

// callerPanic carries a panic of a caller's callback through guard, which then lets it go on:
// it is a bug of the caller, not a sign of a damaged store.
type callerPanic struct{ v any }

// call runs a caller's callback (passed to AuthorityEvents, AuthorRange, Since) inside a
// transaction. A panic in it goes on as a callerPanic, so that guard does not mistake it for
// damage; the deferred re-panic runs before the stack unwinds, so the trace still shows where
// the callback panicked.
func call[T any](fn func(T) error, v T) error {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(callerPanic); ok {
				panic(r)
			}
			panic(callerPanic{r})
		}
	}()
	return fn(v)
}

// call2 is call for a callback of two arguments.
func call2[A, B any](fn func(A, B) error, a A, b B) error {
	return call(func(struct{}) error { return fn(a, b) }, struct{}{})
}

// guard turns a panic raised while Badger reads or writes into an error wrapping ErrDamaged,
// stored in *err; op says what the store was doing. A caller's panic goes on unchanged. Use it
// as `defer s.guard(op, &err)`.
func (s *Store) guard(op string, err *error) {
	r := recover()
	if r == nil {
		return
	}
	if cp, ok := r.(callerPanic); ok {
		panic(cp.v)
	}
	s.log.Warn("Badger panicked: the store is damaged", "op", op, "panic", panicText(r))
	*err = damagedDir(s.dir, "the database", "made Badger fail to "+op+" ("+panicText(r)+")")
}

// isDamage reports whether an error from Badger says its files are damaged. Badger flattens
// most of its errors to text (y.Wrap), so the text is what is left to recognise them.
func isDamage(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrDamaged) {
		return true
	}
	msg := strings.ToLower(err.Error())
	for _, t := range damageTexts {
		if strings.Contains(msg, t) {
			return true
		}
	}
	return false
}

// damageTexts are fragments of Badger's errors about damaged files.
var damageTexts = []string{
	"checksum mismatch",
	"checksum_mismatch",
	"manifest has bad magic",
	"manifest file might be corrupted",
	"manifest invalid",
	"invalid manifestchange op",
	"file does not exist for table",
	"sanity text", // KEYREGISTRY
	"block out of index",
	"invalid checksum length",
	"failed to read index",
	"failed to initialize table",
	"level validation",
	"while opening memtables",
	"unexpected eof",
}

// openBadger opens Badger, turning a panic while it opens (a damaged write-ahead log, replayed
// in this goroutine) into ErrDamaged.
func openBadger(dir string, opts badger.Options) (db *badger.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, damagedDir(dir, "the database", "made Badger fail to open it ("+panicText(r)+")")
		}
	}()
	return badger.Open(opts)
}

// orphanAllowance is how many more bytes of tables than the MANIFEST lists a crash can leave
// behind: the table of a memtable flush that was written but not yet recorded (one memtable of
// 8 MB), twice over. A compaction cut short leaves no more than its input, which stays listed.
const orphanAllowance = 16 << 20

// checkFiles looks at Badger's files in dbDir before Badger opens them (see the comment at the
// top of this file). A folder without Badger's files (a new store) passes.
func checkFiles(dbDir string, opts badger.Options) error {
	entries, err := os.ReadDir(dbDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("storage: read the database folder %s: %w (check that this user owns the data folder)", dbDir, err)
	}
	tables := map[uint64]int64{} // table file ID → size
	manifest, other := false, ""
	for _, e := range entries {
		name := e.Name()
		switch {
		case name == badger.ManifestFilename:
			manifest = true
		case strings.HasSuffix(name, ".sst"):
			id, ok := table.ParseFileID(name)
			if !ok {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				return fmt.Errorf("storage: read %s: %w", filepath.Join(dbDir, name), err)
			}
			tables[id] = fi.Size()
			other = name
		case strings.HasSuffix(name, ".vlog"), strings.HasSuffix(name, ".mem"), name == "KEYREGISTRY":
			other = name
		}
	}
	if !manifest {
		// Badger writes its MANIFEST before any other file: without it, these files are a
		// store whose table list was lost, and Badger would start an empty one over them.
		if other != "" {
			return damagedDir(dbDir, badger.ManifestFilename, "is missing, while the store's other files, such as "+other+", are there")
		}
		return nil
	}
	path := filepath.Join(dbDir, badger.ManifestFilename)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("storage: read %s: %w (check that this user owns the data folder)", path, err)
	}
	m, _, err := badger.ReplayManifestFile(f, opts.ExternalMagicVersion, opts)
	_ = f.Close()
	if err != nil {
		return damagedDir(dbDir, badger.ManifestFilename, "cannot be read ("+err.Error()+")")
	}
	var listed, orphans int64
	for id := range m.Tables {
		size, ok := tables[id]
		if !ok {
			return damagedDir(dbDir, table.IDToFilename(id), "is missing (the MANIFEST lists it)")
		}
		listed += size
	}
	if err := checkTables(dbDir, m.Tables); err != nil {
		return err
	}
	n := 0
	for id, size := range tables {
		if _, ok := m.Tables[id]; !ok {
			orphans += size
			n++
		}
	}
	if orphans > listed+orphanAllowance {
		return damagedDir(dbDir, badger.ManifestFilename, fmt.Sprintf("lists %d of the %d table files (%d MiB of %d MiB): it was cut short or replaced",
			len(m.Tables), len(tables), listed>>20, (listed+orphans)>>20))
	}
	return nil
}

// checkTables runs checkTable on every table of the MANIFEST, three at a time (as Badger opens
// them), and returns the error of the first damaged one in file order.
func checkTables(dbDir string, listed map[uint64]badger.TableManifest) error {
	ids := make([]uint64, 0, len(listed))
	for id := range listed {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	errs := make([]error, len(ids))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(3, len(ids)) {
		wg.Go(func() {
			for i := range next {
				errs[i] = checkTable(table.NewFilename(ids[i], dbDir), listed[ids[i]])
			}
		})
	}
	for i := range ids {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		path := table.NewFilename(ids[i], dbDir)
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("storage: read %s: %w (check that this user owns the data folder)", path, err)
		} else if err != nil {
			return damagedDir(dbDir, table.IDToFilename(ids[i]), err.Error())
		}
	}
	return nil
}

// checkTable opens the table file at path as Badger does (its index, checksummed, and its first
// and last keys) and closes it again. Badger reads a table cut short by panicking: here the
// panic is in a goroutine of ours, which recovers it and returns it as an error.
func checkTable(path string, tm badger.TableManifest) (err error) {
	if tm.KeyID != 0 {
		return nil // encrypted: Kith never encrypts, and it would take the key registry
	}
	if fi, err := os.Stat(path); err == nil && fi.Size() == 0 {
		return errors.New("is empty (0 bytes)")
	}
	mf, err := z.OpenMmapFile(path, os.O_RDONLY, 0)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("cannot be read (%w)", err)
		}
		return fmt.Errorf("cannot be opened (%v)", err)
	}
	size := len(mf.Data)
	var t *table.Table
	defer func() {
		if r := recover(); r != nil {
			// Badger's message here is a dump of the table's footer: the size says enough.
			err = fmt.Errorf("is cut short or overwritten (%d bytes; its index cannot be found)", size)
		}
		if t == nil {
			_ = mf.Close(-1)
		}
	}()
	t, err = table.OpenTable(mf, table.Options{Compression: tm.Compression, BlockSize: 4 << 10, ChkMode: options.NoVerification})
	if err != nil {
		t = nil
		if strings.Contains(strings.ToLower(err.Error()), "checksum") {
			return fmt.Errorf("is overwritten (%d bytes; its index fails its checksum)", size)
		}
		return fmt.Errorf("is cut short or overwritten (%v)", err)
	}
	return t.Close(-1) // the MmapFile's Close: unmaps and closes; never deletes the file
}
