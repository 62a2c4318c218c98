package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// CommunityID identifies a community: the hash of its genesis bytes.
type CommunityID [32]byte

// EventID identifies an event: the hash of its signed header.
type EventID [32]byte

// AuthorKey is the Ed25519 public key of an event's author.
type AuthorKey [32]byte

// ChannelID identifies a channel of a community.
type ChannelID [32]byte

// Event is one stored event. Envelope is the signed bytes exactly as they
// travelled; the store never looks inside it. The other fields are the few
// header fields the indexes need, copied out by the caller.
type Event struct {
	Community CommunityID
	ID        EventID
	Author    AuthorKey
	Seq       uint64    // per-author sequence number, starts at 1
	Lamport   uint64    // Lamport clock of the event
	Channel   ChannelID // zero: not in any channel page
	Authority bool      // also listed in the authority index (the membership log)
	Envelope  []byte
}

// Head is the highest stored sequence number of an author and the ID of that event.
type Head struct {
	Author AuthorKey
	Seq    uint64
	ID     EventID
}

// Cursor is a position in (Lamport, ID) order. The zero Cursor means "from the newest".
type Cursor struct {
	Lamport uint64
	ID      EventID
}

// Peer is one entry of the address book.
type Peer struct {
	ID          string // libp2p peer ID, as text
	Addrs       []string
	LastSeen    time.Time // zero: never seen
	Communities []CommunityID
	Relay       bool // it serves a circuit relay (kithd run --relay): the most reachable kind of member
}

// Options configure Open. The zero value is the right choice for the desktop app.
type Options struct {
	// Logger receives the store's messages and Badger's own log (Badger's info
	// and debug at Debug level, its warnings at Warn, its errors at Error).
	// Nil: slog.Default().
	Logger *slog.Logger

	// MinFreeBytes is the free space the store keeps in reserve on the disk
	// holding the data folder: a write that starts with less free space than
	// this fails with ErrDiskFull instead of being attempted. Badger writes
	// through memory-mapped files, and a memory-mapped write on a full disk
	// kills the process (SIGBUS) instead of returning an error, so the reserve
	// must cover what Badger writes on its own after our last write: memtable
	// flushes (8 MB each) and compactions, which write their output before
	// deleting their input (an L0 compaction: up to 4 L0 tables of 8 MB plus
	// the overlapping base-level tables; a deeper one: a table and the ~10
	// tables it overlaps one level down). 0: 128 MiB. Negative: no check
	// (tests only).
	MinFreeBytes int64

	// AcceptLoss opens a store that holds fewer events than its high-water mark says it held
	// (without it, Open fails with ErrDamaged), and lowers the mark to what the store holds:
	// for `kithd resync`, which fetches the history again from other members. Damaged files
	// are refused all the same.
	AcceptLoss bool

	// MarkEvery is how often, while events come in, the high-water mark is raised to what the
	// store holds (0: 30 s). Close raises it too.
	MarkEvery time.Duration
}

const defaultMinFree = 128 << 20

// Errors callers branch on. Errors returned by the store wrap them with %w and
// say what failed; test with errors.Is.
var (
	// ErrAlreadyRunning: another process (or another Store in this process)
	// holds the data folder.
	ErrAlreadyRunning = errors.New("Kith is already running with this data folder")
	// ErrDiskFull: a write failed or was refused because the disk is full.
	// The store is still usable for reads.
	ErrDiskFull error = markedError{"the disk is full; free some space and try again; nothing already saved was lost", "unavailable"}
	// ErrNotFound: the asked-for record is not stored.
	ErrNotFound = errors.New("not found in the local store")
	// ErrSeqTaken: another event with a different ID already holds
	// (community, author, seq). The caller decides what it means
	// (equivocation); errors.As with *SeqTakenError gives both IDs.
	ErrSeqTaken = errors.New("another event already holds this author's sequence number")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("the local store is closed")
	// ErrDamaged: the store's files are damaged (cut short, overwritten, missing) or it holds
	// less than it did (see Options.AcceptLoss). The error names the damaged part and says
	// what to do; Open never panics and never starts an empty store over a damaged one.
	ErrDamaged error = markedError{"the local store is damaged", "damaged"}
)

// markedError is a sentinel that says what kind of trouble it is to layers above that do not
// import this package (app.KindOf): Damaged() for damage, Unavailable() for a full disk, which
// passes once space is freed.
type markedError struct{ msg, mark string }

func (e markedError) Error() string     { return e.msg }
func (e markedError) Damaged() bool     { return e.mark == "damaged" }
func (e markedError) Unavailable() bool { return e.mark == "unavailable" }

// SeqTakenError reports that (Community, Author, Seq) is already held by the
// event Stored, so New was not stored. It matches ErrSeqTaken with errors.Is.
type SeqTakenError struct {
	Community CommunityID
	Author    AuthorKey
	Seq       uint64
	Stored    EventID
	New       EventID
}

func (e *SeqTakenError) Error() string {
	return fmt.Sprintf("storage: author %x seq %d in community %x: stored event %x, new event %x: %v",
		e.Author[:8], e.Seq, e.Community[:8], e.Stored, e.New, ErrSeqTaken)
}

// Unwrap makes errors.Is(err, ErrSeqTaken) true.
func (e *SeqTakenError) Unwrap() error { return ErrSeqTaken }

// Store is the local Badger store of one Kith install. Its methods are safe
// for concurrent use. Callbacks passed to its methods run inside a read
// transaction: they may call other methods of the Store, but not Close.
type Store struct {
	dir     string
	db      *badger.DB
	log     *slog.Logger
	lock    *dirLock
	minFree int64

	// writeMu serialises every write (and the committer's write-then-fsync: Badger's Sync
	// covers only the active write-ahead log, so no other write may switch it in between)
	// that reads before it writes: events and
	// their indexes, heads, local marks, community records, state, envelopes.
	writeMu sync.Mutex

	// blobMu is held shared while blob files are written or deleted, and exclusively while a
	// community's folder of them goes (Forget), so no write lands in a folder being deleted.
	blobMu sync.RWMutex
	// blobLocks serialise what changes a blob's file — making its header, writing a chunk and
	// its mark (and cutting back a write that failed), dropping chunks — one lock a stripe of
	// blob IDs; held after blobMu.
	blobLocks [64]sync.Mutex
	// blobsGone counts blob files (and folders of them) deleted, so that a BlobFile checks that
	// its file is still at its path only when one went.
	blobsGone atomic.Uint64
	// filesUnchecked: the last run did not close (blobs/IN-USE was there), so chunks it fetched
	// may be marked held and read wrong, until FilesChecked.
	filesUnchecked atomic.Bool

	own           chan *ownReq  // AppendOwn requests, read by the committer
	stop          func()        // cancels the committer's and the mark loop's context
	committerDone chan struct{} // closed when the committer has returned

	markEvery time.Duration
	markDone  chan struct{} // closed when the mark loop has returned
	dirty     atomic.Bool   // events or communities were added since the mark was last raised
	markMu    sync.Mutex    // serialises writes of the mark file; guards marked
	marked    holdings      // what the mark file says (nil: there is none)

	mu       sync.Mutex // guards closed and closeErr
	closed   bool
	closeErr error
	inflight sync.WaitGroup // method calls in progress; Close waits for them
	closing  chan struct{}  // closed when Close has finished
}

// Open opens (or creates) the store in dir. The folder is created with mode
// 0700 if missing. It fails with ErrAlreadyRunning when another process, or
// another Store of this process, has the folder open; with ErrDiskFull when
// the disk has less free space than the reserve; with ErrDamaged when the
// store's files are damaged or it holds less than its high-water mark says
// it did (unless opts.AcceptLoss). It never panics on a damaged store.
//
// Layout of dir: LOCK (our exclusive lock, held while open), MARK (the
// high-water mark) and db/ (Badger).
func Open(dir string, opts Options) (*Store, error) {
	if dir == "" {
		return nil, errors.New("storage: open: no data folder given (pass the folder that holds Kith's data)")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger = logger.With("component", "storage")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("storage: create data folder %s: %w (check the folder's permissions or pick another folder)", dir, mapWriteErr(err))
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	minFree := opts.MinFreeBytes
	if minFree == 0 {
		minFree = defaultMinFree
	}
	// Opening replays Badger's write-ahead log through memory-mapped files: on a full disk that
	// kills the process (SIGBUS) instead of failing, so check the reserve first.
	if err := (&Store{dir: dir, minFree: minFree}).checkSpace("open the database"); err != nil {
		_ = lock.unlock()
		return nil, err // ErrDiskFull's sentence says what to do
	}
	dbDir := filepath.Join(dir, "db")
	bopts := badgerOptions(dbDir, logger)
	if err := checkFiles(dbDir, bopts); err != nil {
		_ = lock.unlock()
		return nil, err
	}
	db, err := openBadger(dbDir, bopts)
	if err != nil {
		_ = lock.unlock()
		switch {
		case isDiskFull(err):
			return nil, fmt.Errorf("storage: open database in %s: %w (%w)", dbDir, ErrDiskFull, err)
		case isDamage(err):
			if !errors.Is(err, ErrDamaged) {
				err = damagedDir(dbDir, "the database", "cannot be opened ("+err.Error()+")")
			}
			return nil, err
		}
		return nil, fmt.Errorf("storage: open database in %s: %w (if it keeps failing, restore the data folder from a backup)", dbDir, err)
	}
	s := &Store{
		dir:           dir,
		db:            db,
		log:           logger,
		lock:          lock,
		minFree:       minFree,
		own:           make(chan *ownReq, 256),
		committerDone: make(chan struct{}),
		markEvery:     opts.MarkEvery,
		markDone:      make(chan struct{}),
		closing:       make(chan struct{}),
	}
	if s.markEvery <= 0 {
		s.markEvery = defaultMarkEvery
	}
	if err := s.checkSchema(); err != nil {
		_ = db.Close()
		_ = lock.unlock()
		return nil, err
	}
	if err := s.checkMark(opts.AcceptLoss); err != nil {
		_ = db.Close()
		_ = lock.unlock()
		return nil, err
	}
	if err := s.openBlobs(); err != nil {
		_ = db.Close()
		_ = lock.unlock()
		return nil, s.writeErr("set up the folder of files", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go s.commitLoop(ctx)
	go s.markLoop(ctx)
	return s, nil
}

// badgerOptions are Badger's options sized for a desktop app: Badger's defaults
// take hundreds of MB of memory.
func badgerOptions(dir string, logger *slog.Logger) badger.Options {
	return badger.DefaultOptions(dir).
		WithLogger(badgerLogger{logger.With("component", "badger")}).
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		WithBlockCacheSize(16 << 20).
		WithIndexCacheSize(8 << 20).
		WithValueLogFileSize(64 << 20).
		WithNumCompactors(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(4). // also bounds what an L0 compaction writes (see MinFreeBytes)
		WithNumGoroutines(2).
		WithSyncWrites(false).      // own events are made durable by the committer's db.Sync()
		WithDetectConflicts(false). // every read-then-write runs under writeMu
		WithMetricsEnabled(false).
		WithCompression(options.None) // envelopes are signed and mostly encrypted: they do not compress
}

// checkSchema writes the schema version into a new store and refuses a store
// written by a newer Kith.
func (s *Store) checkSchema() (err error) {
	defer s.guard("read the schema version", &err)
	err = s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(schemaKey())
		if errors.Is(err, badger.ErrKeyNotFound) {
			if err := s.checkSpace("set up a new store"); err != nil {
				return err
			}
			return txn.Set(schemaKey(), []byte{schemaVersion})
		}
		if err != nil {
			return fmt.Errorf("storage: read schema version in %s: %w", s.dir, err)
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return fmt.Errorf("storage: read schema version in %s: %w", s.dir, err)
		}
		if len(v) != 1 || v[0] > schemaVersion {
			return fmt.Errorf("storage: the data folder %s was written by a newer Kith (schema %v, this Kith knows %d); update Kith", s.dir, v, schemaVersion)
		}
		return nil
	})
	if err != nil && isDiskFull(err) && !errors.Is(err, ErrDiskFull) {
		return s.writeErr("set up a new store in "+s.dir, err)
	}
	return err
}

// Close stops the committer (pending AppendOwn calls fail with ErrClosed),
// waits for method calls in progress, closes Badger and releases the lock.
// It is safe to call more than once and from several goroutines; later calls
// wait for the first and return its result. Do not call it from a callback
// passed to the store.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.closing
		return s.closeErr
	}
	s.closed = true
	s.mu.Unlock()

	s.stop()
	<-s.committerDone
	<-s.markDone
	s.inflight.Wait()
	var errs []error
	held, herr := s.readHoldings()
	if err := s.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("storage: close database in %s: %w", s.dir, err))
	} else if herr == nil {
		// Badger's Close flushed every memtable into synced tables: held is durable.
		if err := s.setMark(held); err != nil {
			s.log.Warn("the high-water mark could not be raised", "err", err)
		}
	}
	if !s.filesUnchecked.Load() { // every file fetched is as its marks say: a clean close
		if err := os.Remove(s.inUsePath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("the files' in-use mark could not be removed", "err", err)
		}
	}
	if err := s.lock.unlock(); err != nil {
		errs = append(errs, err)
	}
	s.closeErr = errors.Join(errs...)
	close(s.closing)
	return s.closeErr
}

// enter registers a method call; it fails once Close has started. Every
// successful enter is paired with s.inflight.Done().
func (s *Store) enter() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("storage: %w", ErrClosed)
	}
	s.inflight.Add(1)
	return nil
}

// view runs fn in a read transaction. A panic inside Badger becomes ErrDamaged (see guard).
func (s *Store) view(fn func(txn *badger.Txn) error) (err error) {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inflight.Done()
	defer s.guard("read", &err)
	return s.db.View(fn)
}

// update runs fn in a write transaction after checking free space; op names
// the operation in errors.
func (s *Store) update(op string, fn func(txn *badger.Txn) error) (err error) {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inflight.Done()
	if err := s.checkSpace(op); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	defer s.guard(op, &err)
	if err := s.db.Update(fn); err != nil {
		return s.writeErr(op, err)
	}
	return nil
}

// writeErr wraps a write error: ErrDiskFull when it is one, else with op.
func (s *Store) writeErr(op string, err error) error {
	if isDiskFull(err) && !errors.Is(err, ErrDiskFull) {
		return fmt.Errorf("storage: %s: %w (%w)", op, ErrDiskFull, err)
	}
	return fmt.Errorf("storage: %s: %w", op, err)
}

// checkSpace returns an error wrapping ErrDiskFull when the disk holding the
// store has less free space than the reserve. It lets the write go ahead when
// free space cannot be measured.
func (s *Store) checkSpace(op string) error {
	if s.minFree < 0 {
		return nil
	}
	free, ok := freeBytes(s.dir)
	if !ok || free >= uint64(s.minFree) {
		return nil
	}
	return fmt.Errorf("storage: %s: %w (%d MiB free on the disk holding %s; Kith keeps %d MiB in reserve)",
		op, ErrDiskFull, free>>20, s.dir, s.minFree>>20)
}

// getValue reads the value of k, or ErrNotFound.
func getValue(txn *badger.Txn, k []byte) ([]byte, error) {
	item, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}
