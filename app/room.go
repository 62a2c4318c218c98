package app

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/kith-app/kith/app/community"
)

// room is one community as this install holds it in memory: the folded membership log, the
// keys it can read with, and the heads it cites when it writes. Loaded from the store on first
// use; kept up to date by every event the service stores.
type room struct {
	id community.Hash

	mu     sync.Mutex // serialises this install's writes, so its sequence numbers chain
	folder *community.Folder
	keys   *community.Keyring
	heads  map[string]*community.Event // author → its latest stored event (header only is used)
	mine   *community.Event            // this install's latest event here, nil before its first
	// waiting holds events whose earlier events are not known yet (gossipsub marks a message
	// seen before it is validated, so an early event dropped now would never come again).
	waiting      map[community.Hash]*community.Event
	blocked      map[community.Hash][]community.Hash // a missing event → the waiting events that cite it
	waitingBytes int                                 // guarded by mu: the size of the waiting events (see maxWaitingBytes)
	waitingBy    map[string]waitShare                // guarded by mu: each author's share of waiting (see wait)
	charged      map[community.Hash]string           // guarded by mu: the share each waiting event is charged to
	// joiners are the keys of every join event stored, void ones too: a joiner whose admission
	// lost a race (an invite's last use, the member cap) may still sync the log's authority
	// events, to learn that it lost.
	joiners map[string]bool
	// recent remembers what causal checks need of the events stored last and of every authority
	// event (what new events cite: their authors' previous events and the heads, among which the
	// joins and role changes stay for long), so that most checks never read the store. Guarded by mu.
	recent     map[community.Hash]community.Known
	recentRing [recentSize]community.Hash // the order they came in, to forget the oldest
	recentNext int

	profiles atomic.Pointer[profileMap] // the members' latest profiles; written under mu, read without it
	shown    atomic.Pointer[shown]      // the names views show, for the state and profiles it names
	notes    channelNotes               // edits, reactions and pins, per channel (its own lock)
	promos   promoIndex                 // the promotions stored so far (see promotionsOf)
	search   searchIndex                // the search index's progress (see catchUpIndex)

	forgotten bool // guarded by mu: Forget deleted the community; nothing is stored in it any more
}

// recentSize bounds the content events in room.recent (authority events stay).
const recentSize = 4096

// remember adds an event the store holds to recent (never one it may have refused: a fork),
// forgetting the oldest content event past recentSize. r.mu must be held (or the room not shared).
func (r *room) remember(e *community.Event) {
	if r.recent == nil {
		r.recent = make(map[community.Hash]community.Known, recentSize)
	}
	if _, ok := r.recent[e.ID]; ok {
		return
	}
	// A copy of the key: e.Author points into the envelope, or into a whole sync answer.
	k := community.Known{Author: bytes.Clone(e.Author), Seq: e.Seq, Lamport: e.Lamport}
	if e.Kind.Authority() { // few, and cited as heads long after: kept for good
		r.recent[e.ID] = k
		return
	}
	if old := r.recentRing[r.recentNext]; !old.IsZero() {
		delete(r.recent, old)
	}
	r.recentRing[r.recentNext] = e.ID
	r.recentNext = (r.recentNext + 1) % recentSize
	r.recent[e.ID] = k
}

// noteJoiners records the joiners of join and approval events.
func (r *room) noteJoiners(events []*community.Event) {
	for _, e := range events {
		if j, ok := community.JoinerOf(e); ok {
			r.joiners[string(j)] = true
		}
	}
}

// ErrUnknownCommunity is returned for a community this install does not belong to.
var ErrUnknownCommunity = errors.New("app: this install does not belong to that community")

// room returns the loaded community, loading it from the store on first use.
func (s *Service) room(id community.Hash) (*room, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	r, ok := s.rooms[id]
	s.mu.Unlock()
	if ok {
		return r, nil
	}
	r, err := s.loadRoom(id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.rooms == nil {
		s.rooms = map[community.Hash]*room{}
	}
	if prior, ok := s.rooms[id]; ok { // loaded concurrently: keep the first
		s.mu.Unlock()
		return prior, nil
	}
	s.rooms[id] = r
	s.mu.Unlock()
	s.noteCommunity(id) // stored before its room loads: the list may have been read before that
	return r, nil
}

func (s *Service) loadRoom(id community.Hash) (*room, error) {
	var auth []*community.Event
	err := s.store.AuthorityEvents(id, func(e *community.Event) error {
		auth = append(auth, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var genesis *community.Event
	for _, e := range auth {
		if e.Kind == community.KindGenesis {
			genesis = e
		}
	}
	if genesis == nil {
		return nil, fmt.Errorf("%w (%s)", ErrUnknownCommunity, id.Short())
	}
	f, err := community.NewFolder(genesis)
	if err != nil {
		return nil, err
	}
	r := &room{id: id, folder: f, keys: community.NewKeyring(s.id), heads: map[string]*community.Event{}, joiners: map[string]bool{}}
	for _, e := range auth {
		if _, err := f.Add(e); err != nil && !errors.Is(err, community.ErrNoBody) {
			return nil, fmt.Errorf("app: folding %s: %w", id.Short(), err)
		}
	}
	r.learnKeys(auth)
	for _, e := range auth {
		r.remember(e)
	}
	r.noteJoiners(auth)
	if err := s.placeUnreadable(r); err != nil {
		// A write (a full disk, say): the content stays in the holding page, moved on a later
		// load; the community itself is readable.
		s.log.Warn("content whose key came could not be moved into its channels yet", "community", id.Short(), "err", err)
	}
	if err := s.loadProfiles(r); err != nil {
		return nil, err
	}
	heads, err := s.store.Heads(id)
	if err != nil {
		return nil, err
	}
	for _, h := range heads {
		r.noteHead(h, s.id.PublicKey())
		r.remember(h)
	}
	return r, nil
}

// learnKeys feeds the keyring the stored authority events, void ones too: a rotation that the
// log voids later (its author was demoted or removed concurrently) still made the key its
// members wrote with, and every key is checked against its epoch's commitment, which names the
// epoch by the event that made it. It reports whether a key became usable.
func (r *room) learnKeys(events []*community.Event) bool {
	before := r.keys.Epochs()
	for _, e := range events {
		r.keys.Learn(e) // a key not for this device, or false, is simply not learnt
	}
	return r.keys.Epochs() > before
}

// noteHead records e as its author's latest event if it is.
func (r *room) noteHead(e *community.Event, me []byte) {
	if h, ok := r.heads[string(e.Author)]; ok && h.Seq >= e.Seq {
		return
	}
	r.heads[string(e.Author)] = e
	if bytes.Equal(e.Author, me) {
		r.mine = e
	}
}

// deps are the heads this install cites: the latest event of every author it has, the most
// recent first (Build keeps the 16 with the highest Lamport).
func (r *room) deps() []community.Position {
	out := make([]community.Position, 0, len(r.heads))
	for _, h := range r.heads {
		out = append(out, h.Position())
	}
	return out
}
