package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/identity"
)

// Record is an event as the service hands it to the store.
type Record struct {
	Event   *community.Event
	Channel community.Hash // the channel page it belongs to; zero: none
}

// Store is the local storage the service needs (a port: app/localstore adapts the Badger store
// to it, so that this package and the UI above it never import storage).
type Store interface {
	// AppendOwn stores events this install authored and returns once they are durable.
	AppendOwn(ctx context.Context, records ...Record) error
	// Communities lists the communities with anything stored.
	Communities() ([]community.Hash, error)
	// AuthorityEvents calls fn with a community's authority events in (Lamport, ID) order.
	AuthorityEvents(c community.Hash, fn func(*community.Event) error) error
	// Heads returns the latest stored event of each author of a community.
	Heads(c community.Hash) ([]*community.Event, error)
	// Page returns up to limit events of a channel that sort before `before` ((Lamport, ID)
	// order; the zero Position means from the newest), newest first.
	Page(c, channel community.Hash, before community.Position, limit int) ([]*community.Event, error)
	// Append stores events received from others, in one batch, not each synced. An event
	// already stored is skipped; one whose (author, seq) holds another event is refused with
	// an error wrapping ErrEquivocation. It returns how many were new.
	Append(records ...Record) (int, error)
	// Lookup returns what the causal checks need of a stored event.
	Lookup(c, id community.Hash) (community.Known, bool, error)
	// Event returns a stored event (ok false when it is not stored).
	Event(c, id community.Hash) (e *community.Event, ok bool, err error)
	// DropBody keeps a stored event's header and forgets its body (a deleted message): the
	// chain and the fold still verify; the text is gone from what the store returns.
	DropBody(c, id community.Hash) error
	// SetChannel moves a stored event into a channel's page (from the page it was in).
	SetChannel(c, id, channel community.Hash) error
	// Since calls fn with the events stored after local mark `mark`, in the order this
	// install stored them (a causal order), at most limit; it returns the last mark seen.
	Since(c community.Hash, mark uint64, limit int, fn func(*community.Event) error) (uint64, error)
	// LocalMark returns the mark of the latest event stored in a community (0: none).
	LocalMark(c community.Hash) (uint64, error)
	// SyncMark returns how far this install has synced a community from a peer: that peer's
	// local mark (0: never).
	SyncMark(c community.Hash, peer string) (uint64, error)
	// SetSyncMark records how far this install has synced a community from a peer.
	SetSyncMark(c community.Hash, peer string, mark uint64) error
	// AddIssued records the text of an invite this install issued to a community.
	AddIssued(c community.Hash, text string) error
	// Issued returns the invites this install issued to a community, oldest first.
	Issued(c community.Hash) ([]string, error)
	// Index adds and drops postings of a community's search index.
	Index(c community.Hash, add, drop []Posting) error
	// Intersect calls fn with the events that hold every one of terms, the highest Lamport time
	// first, until fn returns false; each by its Lamport time and its ID's first 8 bytes.
	Intersect(c community.Hash, terms []uint64, fn func(lamport uint64, id8 [8]byte) bool) error
	// ResolveID finds the stored events whose IDs start with id8 (almost always one).
	ResolveID(c community.Hash, id8 [8]byte) ([]community.Hash, error)
	// CreateBlob starts a file of one's own of count chunks: its chunks are stored as it is
	// sealed, and it is found under its ID once committed.
	CreateBlob(c community.Hash, count int) (BlobWriter, error)
	// OpenBlob opens (or makes) a file of count chunks to store chunks fetched from others.
	OpenBlob(c, blob community.Hash, count int) (BlobFile, error)
	// ReadBlob opens a file to read its chunks; ok false when none is held.
	ReadBlob(c, blob community.Hash) (r BlobReader, ok bool, err error)
	// FilesUnchecked reports that the last run did not close: chunks it fetched may be marked
	// held and read wrong, until FilesChecked.
	FilesUnchecked() bool
	// FilesChecked says every file was checked since.
	FilesChecked()
	// HasChunks reports, for each of a file's count chunks, whether it is held.
	HasChunks(c, blob community.Hash, count int) ([]bool, error)
	// DropChunks deletes chunks of a file (a damaged one), or the whole file when chunks is nil
	// (a deleted message's), and says how many bytes it freed.
	DropChunks(c, blob community.Hash, chunks []int) (freed int64, err error)
	// ChunkBytes is how many bytes a community's chunks take.
	ChunkBytes(c community.Hash) (int64, error)
	// Pref returns one of this install's local preferences for a community ("" when unset).
	Pref(c community.Hash, name string) (string, error)
	// SetPref sets one of this install's local preferences for a community.
	SetPref(c community.Hash, name, value string) error
	// Forget deletes everything stored of a community (events, pages, sync marks, invites, preferences).
	Forget(c community.Hash) error
}

// ErrEquivocation wraps the error of a store that found two events of one author with one
// sequence number.
var ErrEquivocation = errors.New("app: an author signed two events with the same number")

// Config is what a Service is built from. Identity and Store are required; the Service does not
// own them: the caller closes the store after the Service.
type Config struct {
	Identity *identity.Identity
	Store    Store
	Logger   *slog.Logger     // nil: slog.Default()
	Now      func() time.Time // the wall clock for new events; nil: time.Now
	Rand     io.Reader        // randomness for keys and nonces; nil: crypto/rand
}

// Service holds the use-cases of one install. It is safe for concurrent use. Its methods do disk
// work: views call them from goroutines, never from a tap handler directly.
type Service struct {
	id    *identity.Identity
	store Store
	log   *slog.Logger
	now   func() time.Time
	rand  io.Reader

	done   chan struct{}   // closed by Close
	ctx    context.Context // ends with Close: the runners' work
	cancel context.CancelFunc
	wg     sync.WaitGroup // the runners' goroutines (see spawn); Close waits for them

	floorMu sync.Mutex // serialises changes to OwnFloorFromPref (syncs with several members at once)

	// beforeStore, when set (tests), is called by a runner before it stores a batch.
	beforeStore atomic.Pointer[func(id community.Hash, events int)]

	idsMu sync.Mutex // serialises reading the communities from the store with adding one

	mu        sync.Mutex
	closed    bool                                       // guarded by mu
	rooms     map[community.Hash]*room                   // guarded by mu: communities opened so far
	publisher func(id community.Hash, envelope []byte)   // guarded by mu: see SetPublisher
	subs      map[*subscriber]bool                       // guarded by mu: see Subscribe
	syncs     map[community.Hash]map[string]SyncProgress // guarded by mu: syncs under way
	ids       atomic.Pointer[[]community.Hash]           // the communities stored here (see communityIDs); written under idsMu
	runners   map[community.Hash]*runner                 // guarded by mu: see runner
	net       Network                                    // guarded by mu: what Serve was given, for the runners' syncs
	notices   map[community.Hash]*community.Event        // guarded by mu: removals of this install handed over (see serveNotice)

	due dueTimes // this install's polls waiting for their closing time (see CloseDuePolls)
}

// SetPublisher sets what is called with every event this install writes, once it is stored
// durably: the network gossips it. It must not block for long.
func (s *Service) SetPublisher(p func(id community.Hash, envelope []byte)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.publisher = p
}

// publish hands an own event to the publisher, if any.
func (s *Service) publish(id community.Hash, e *community.Event) {
	s.mu.Lock()
	p := s.publisher
	s.mu.Unlock()
	if p != nil {
		p(id, e.Encode())
	}
}

// ErrClosed is returned by every method after Close.
var ErrClosed = errors.New("app: Kith is shutting down")

// New returns a Service over an open store and a loaded identity.
func New(cfg Config) (*Service, error) {
	if cfg.Identity == nil || cfg.Store == nil {
		return nil, errors.New("app: a Service needs an identity and a store")
	}
	s := &Service{id: cfg.Identity, store: cfg.Store, log: cfg.Logger, now: cfg.Now, rand: cfg.Rand, done: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	return s, nil
}

// Close stops the Service, ends the streams of Subscribe and waits for the runners' work to end
// (the events gossip accepted and not yet stored are left to sync). It is safe to call twice. It
// does not close the store.
func (s *Service) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.cancel()
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *Service) check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}

// CreateParams are the owner's choices for a new community.
type CreateParams struct {
	Name        string
	About       string
	MaxMembers  int // 0 = no cap
	History     community.HistoryPolicy
	DisplayName string // the owner's name in the community
}

// Created is a new community: its ID and the recovery words, to be shown to the owner once.
// Kith does not keep the words.
type Created struct {
	ID            community.Hash
	Name          string
	RecoveryWords string
}

// CreateCommunity creates a community owned by this install and stores its genesis durably
// before returning.
func (s *Service) CreateCommunity(ctx context.Context, p CreateParams) (Created, error) {
	if err := s.check(); err != nil {
		return Created{}, err
	}
	if p.MaxMembers < 0 || p.MaxMembers > community.MaxMembers {
		return Created{}, fmt.Errorf("app: a member cap of %d is out of range: choose 0 (no cap) up to %d", p.MaxMembers, community.MaxMembers)
	}
	name, err := community.LimitCommunityName.CleanName(p.Name)
	if err != nil {
		return Created{}, err
	}
	owner := p.DisplayName
	if strings.TrimSpace(owner) == "" {
		owner = "Owner"
	}
	g, _, words, err := community.NewCommunity(s.id, s.id.X25519Public(), community.GenesisParams{
		Name: name, About: p.About, MaxMembers: uint32(p.MaxMembers),
		History: p.History, OwnerName: owner, Time: s.now(),
	}, s.rand)
	if err != nil {
		return Created{}, err
	}
	if err := s.store.AppendOwn(ctx, Record{Event: g}); err != nil {
		return Created{}, fmt.Errorf("app: saving the new community: %w", err)
	}
	s.log.Info("created a community", "id", g.ID.Short())
	s.Emit(CommunityChanged{Community: g.ID})
	return Created{ID: g.ID, Name: name, RecoveryWords: words}, nil
}

// Summary describes one community of this install for a list.
type Summary struct {
	ID      community.Hash
	Name    string
	About   string
	Members int // active members
	Role    community.Role
}

// Communities lists the communities this install belongs to, by name.
func (s *Service) Communities() ([]Summary, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	ids, err := s.store.Communities()
	if err != nil {
		return nil, err
	}
	out := make([]Summary, 0, len(ids))
	var first error
	for _, id := range ids {
		st, err := s.state(id) // loads the community once; later calls reuse it
		if err != nil {
			s.log.Warn("skipping a community that does not load", "id", id.Short(), "err", err)
			if first == nil {
				first = err
			}
			continue
		}
		out = append(out, Summary{ID: st.ID, Name: st.Name, About: st.About, Members: st.ActiveCount(), Role: st.RoleOf(s.id.PublicKey())})
	}
	slices.SortFunc(out, func(a, b Summary) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	if len(out) == 0 && first != nil {
		// Not "no community": say why the ones stored do not load.
		if len(ids) == 1 {
			return nil, fmt.Errorf("app: the community stored here does not load: %w", first)
		}
		return nil, fmt.Errorf("app: %d communities are stored here but none loads: %w", len(ids), first)
	}
	return out, nil
}
