package app

// A community's runner: the work on it that the network asks for, owned in one place.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/kith-app/kith/app/community"
)

// runner owns the work on one community that comes from the network rather than from a person:
// the events gossip accepted, stored in batches by one goroutine; the syncs from each peer (one
// at a time per peer, run once more when asked for meanwhile); the fetches of what early events
// wait for; and the key repair timer. Gossip's validator never waits for it: it checks what needs
// no lock (the envelope, the signature, the membership, the rate) and hands the event over (see
// Service.Gossiped, and docs/PROTOCOL.md, "Accepted").
type runner struct {
	s    *Service
	id   community.Hash
	wake chan struct{} // capacity 1: the inbox has events
	loop sync.Once     // starts the goroutine that stores the inbox

	mu         sync.Mutex
	inbox      []inbound                // guarded by mu: accepted, not yet stored
	inboxBytes int                      // guarded by mu
	pairs      map[string]chan struct{} // guarded by mu: peer → closed when the sync from it ends (see hold)
	asked      map[string]bool          // guarded by mu: peers with a sync scheduled; true: asked again meanwhile
	later      map[string]*awaited      // guarded by mu: what early events from a peer wait for
	distrust   map[string]time.Time     // guarded by mu: authors whose gossiped events were refused, until when
	joining    map[string]time.Time     // guarded by mu: joiners of accepted joins not yet stored, until when
	repairing  bool                     // guarded by mu: a key repair is scheduled
}

// inbound is an event gossip accepted, and whom to fetch what it cites from if it is early.
type inbound struct {
	e         *community.Event
	fetchFrom string // a member peer; "" for none
}

// Bounds of a runner's inbox: past them, accepted events are left to sync (they were forwarded
// already; the next sync from any member brings them here too).
const (
	maxInbox      = 8192
	maxInboxBytes = 64 << 20
	runnerBatch   = 512 // events stored in one batch, at most
)

// How long an author's gossip goes unforwarded after one of its events was refused here, and how
// long the joiner of an accepted join counts as a member for forwarding before its join is stored.
const (
	distrustFor = time.Minute
	joiningFor  = time.Minute
)

// runner returns a community's runner, made on first use.
func (s *Service) runner(id community.Hash) *runner {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.runners[id]
	if r == nil {
		if s.runners == nil {
			s.runners = map[community.Hash]*runner{}
		}
		r = &runner{s: s, id: id, wake: make(chan struct{}, 1), pairs: map[string]chan struct{}{},
			asked: map[string]bool{}, later: map[string]*awaited{}, distrust: map[string]time.Time{}, joining: map[string]time.Time{}}
		s.runners[id] = r
	}
	return r
}

// spawn runs f in a goroutine that Close waits for, unless the service is closed (false).
func (s *Service) spawn(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// Gossiped hands an event that gossip accepted — decoded, its signature verified, its author a
// member or at the strangers' rate — to its community's runner, which stores it with others in
// one batch; fetchFrom is a member peer to fetch from what it cites if it is early ("" for none).
// It never blocks on the disk or on the room's lock: it runs on pubsub's validation workers. It
// reports false when the inbox is full and the event is left to sync.
func (s *Service) Gossiped(id community.Hash, fetchFrom string, e *community.Event) bool {
	r := s.runner(id)
	now := time.Now()
	r.mu.Lock()
	if len(r.inbox) >= maxInbox || r.inboxBytes+waitSize(e) > maxInboxBytes {
		r.mu.Unlock()
		return false
	}
	r.inbox = append(r.inbox, inbound{e, fetchFrom})
	r.inboxBytes += waitSize(e)
	if len(r.joining) < maxInbox {
		if j, ok := community.JoinerOf(e); ok {
			r.joining[string(j)] = now.Add(joiningFor)
		}
	}
	r.mu.Unlock()
	r.loop.Do(func() {
		if !s.spawn(r.run) {
			s.log.Debug("an accepted event after Close", "community", id.Short())
		}
	})
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return true
}

// Vouched reports whether gossip may forward an event of key in community id before it is
// stored: key is an active member here (or the joiner of a join accepted and not yet stored),
// and none of its gossiped events was refused in the last distrustFor. It takes no lock that a
// write holds.
func (s *Service) Vouched(id community.Hash, key []byte) bool {
	member, _ := s.IsMember(id, key)
	r := s.runner(id)
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if until, ok := r.distrust[string(key)]; ok {
		if now.Before(until) {
			return false
		}
		delete(r.distrust, string(key))
	}
	if member {
		return true
	}
	until, ok := r.joining[string(key)]
	if ok && !now.Before(until) {
		delete(r.joining, string(key))
	}
	return ok && now.Before(until)
}

// run stores the inbox in batches until the service closes.
func (r *runner) run() {
	for {
		select {
		case <-r.s.ctx.Done():
			return
		case <-r.wake:
		}
		for r.s.ctx.Err() == nil {
			batch := r.take()
			if len(batch) == 0 {
				break
			}
			r.store(batch)
		}
	}
}

// take removes up to runnerBatch events from the inbox.
func (r *runner) take() []inbound {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := min(len(r.inbox), runnerBatch)
	batch := slices.Clone(r.inbox[:n])
	r.inbox = slices.Delete(r.inbox, 0, n)
	for _, in := range batch {
		r.inboxBytes -= waitSize(in.e)
	}
	if len(r.inbox) == 0 {
		r.inbox = nil // let a burst's backing array go
	}
	return batch
}

// store stores a batch of accepted events, distrusts the authors of those refused and fetches
// what early ones wait for.
func (r *runner) store(batch []inbound) {
	if hook := r.s.beforeStore.Load(); hook != nil {
		(*hook)(r.id, len(batch))
	}
	events := make([]*community.Event, len(batch))
	for i, in := range batch {
		events[i] = in.e
	}
	got, err := r.s.receive(r.id, events, Received{})
	if err != nil {
		// This install's own trouble (a full disk): the events were forwarded already, and the
		// next sync from any member brings them again.
		r.s.log.Warn("storing gossiped events", "community", r.id.Short(), "events", len(batch), "err", err)
		return
	}
	now := time.Now()
	r.mu.Lock()
	for _, e := range got.refused {
		r.distrust[string(e.Author)] = now.Add(distrustFor)
	}
	for _, in := range batch { // stored, or refused: no longer joining
		if j, ok := community.JoinerOf(in.e); ok {
			delete(r.joining, string(j))
		}
	}
	r.mu.Unlock()
	for _, e := range got.refused {
		r.s.log.Debug("refused a gossiped event", "community", r.id.Short(), "event", e.ID.Short())
	}
	for _, in := range batch {
		if missing := got.heldOn[in.e.ID]; len(missing) > 0 && in.fetchFrom != "" {
			r.fetchLater(in.fetchFrom, missing)
		}
	}
}

// SyncSoon syncs a community from a peer in the background, through the network Serve was given:
// one sync per community and peer at a time, and once more after it when asked for meanwhile
// (what was stored there during the sync is fetched too).
func (s *Service) SyncSoon(id community.Hash, peerID string) { s.runner(id).syncSoon(peerID) }

func (r *runner) syncSoon(peerID string) {
	r.mu.Lock()
	if _, busy := r.asked[peerID]; busy {
		r.asked[peerID] = true
		r.mu.Unlock()
		return
	}
	r.asked[peerID] = false
	r.mu.Unlock()
	ok := r.s.spawn(func() {
		for {
			r.syncNow(peerID)
			r.mu.Lock()
			if again := r.asked[peerID]; again && r.s.ctx.Err() == nil {
				r.asked[peerID] = false
				r.mu.Unlock()
				continue
			}
			delete(r.asked, peerID)
			r.mu.Unlock()
			return
		}
	})
	if !ok {
		r.mu.Lock()
		delete(r.asked, peerID)
		r.mu.Unlock()
	}
}

// syncTimeout bounds one background sync.
const syncTimeout = 10 * time.Minute

func (r *runner) syncNow(peerID string) {
	n := r.s.network()
	if n == nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.s.ctx, syncTimeout)
	defer cancel()
	if err := r.s.SyncFrom(ctx, n, peerID, r.id); err != nil && r.s.ctx.Err() == nil {
		r.s.log.Debug("sync", "community", r.id.Short(), "peer", peerID, "err", err)
	}
}

// hold waits until no other sync from peerID is under way (or ctx ends), then holds the pair
// until release: two syncs of one pair at once would both read the mark and could write it back
// behind the other.
func (r *runner) hold(ctx context.Context, peerID string) (release func(), err error) {
	for {
		r.mu.Lock()
		busy, held := r.pairs[peerID]
		if !held {
			done := make(chan struct{})
			r.pairs[peerID] = done
			r.mu.Unlock()
			return func() {
				r.mu.Lock()
				delete(r.pairs, peerID)
				r.mu.Unlock()
				close(done)
			}, nil
		}
		r.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-r.s.done:
			return nil, ErrClosed
		}
	}
}

// Early events wait this long for what they cite to come by gossip before it is fetched, then
// twice as long after each fetch that did not bring it, earlyTries times; past that, the periodic
// sync repairs. In a mesh, an author's messages take different paths and often arrive out of order
// by a few milliseconds: fetching at once ran a sync per reordering (measured on a 20-host mesh:
// three syncs for every ten messages, which slowed every peer and reordered more). Retrying
// matters when the peer asked lacked it too (it was early there as well).
const (
	earlyGrace = 200 * time.Millisecond
	earlyTries = 4
)

// awaited is what early events from one peer wait for.
type awaited struct {
	ids   map[community.Hash]bool
	fresh bool // ids were added since the last sync
}

// fetchLater fetches from a member what its early events wait for, unless gossip brings it first.
// One wait per peer gathers the events of a burst.
func (r *runner) fetchLater(from string, missing []community.Hash) {
	r.mu.Lock()
	w := r.later[from]
	waiting := w != nil
	if !waiting {
		w = &awaited{ids: map[community.Hash]bool{}}
		r.later[from] = w
	}
	for _, m := range missing {
		w.ids[m] = true
	}
	w.fresh = true
	r.mu.Unlock()
	if waiting {
		return
	}
	ok := r.s.spawn(func() {
		wait := earlyGrace
		for tries := 0; ; {
			t := time.NewTimer(wait)
			select {
			case <-r.s.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			left := r.stillMissing(w)
			r.mu.Lock()
			switch {
			case len(w.ids) == 0: // checked under mu: nothing added since is lost
				delete(r.later, from)
				r.mu.Unlock()
				return
			case tries == earlyTries && !w.fresh:
				delete(r.later, from) // given up: the periodic sync repairs
				r.mu.Unlock()
				return
			case tries == earlyTries: // more came since the last sync: they get their own tries
				tries, wait = 0, earlyGrace
			}
			if left {
				w.fresh = false // what comes during the sync is fresh again
			}
			r.mu.Unlock()
			if left {
				r.syncSoon(from)
				tries++
				wait *= 2
			}
		}
	})
	if !ok {
		r.mu.Lock()
		delete(r.later, from)
		r.mu.Unlock()
	}
}

// stillMissing forgets what w waits for that is stored now, and reports whether anything is left.
func (r *runner) stillMissing(w *awaited) bool {
	r.mu.Lock()
	ids := slices.Collect(maps.Keys(w.ids))
	r.mu.Unlock()
	left := false
	for _, m := range ids {
		if r.s.Has(r.id, m) {
			r.mu.Lock()
			delete(w.ids, m)
			r.mu.Unlock()
		} else {
			left = true
		}
	}
	return left
}

// RepairSoon runs the key repair of a community (a rotation when a former member holds the
// current key, key shares for members that lack it: see Repair) after wait, once for any number
// of calls meanwhile.
func (s *Service) RepairSoon(id community.Hash, wait time.Duration) {
	r := s.runner(id)
	r.mu.Lock()
	busy := r.repairing
	r.repairing = true
	r.mu.Unlock()
	if busy {
		return
	}
	ok := s.spawn(func() {
		t := time.NewTimer(wait)
		select {
		case <-s.ctx.Done():
			t.Stop()
		case <-t.C:
		}
		r.mu.Lock()
		r.repairing = false
		r.mu.Unlock()
		if s.ctx.Err() != nil {
			return
		}
		ctx, cancel := context.WithTimeout(s.ctx, time.Minute)
		defer cancel()
		if n, err := s.Repair(ctx, id); err != nil {
			s.log.Warn("repairing the community's keys", "community", id.Short(), "err", err)
		} else if n > 0 {
			s.log.Info("repaired the community's keys", "community", id.Short(), "events", n)
		}
	})
	if !ok {
		r.mu.Lock()
		r.repairing = false
		r.mu.Unlock()
	}
}

// SyncingWith reports whether a sync from peerID runs now, in any community.
func (s *Service) SyncingWith(peerID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, peers := range s.syncs {
		if _, ok := peers[peerID]; ok {
			return true
		}
	}
	return false
}

// Judge says what gossip's validator can know of an event without the room's lock or a write:
// whether the folded log refuses its author for good. An authority event needs an author once
// admitted and the role its kind asks for; a content event, an author who was a member with the
// role at its point (State.CheckContent). An event the log refuses now but that cites events not
// stored here is early, not refused (a re-admitted member's first message, say: its new join is on
// its way): nil, and the runner decides once what it cites arrives. A refused event is refused at
// every member that holds the same log, so its forwarder is to blame.
func (s *Service) Judge(id community.Hash, e *community.Event) error {
	st, err := s.state(id)
	if err != nil {
		return nil // a community this install does not have: the runner says so
	}
	var verdict error
	switch {
	case e.Kind == community.KindGenesis || e.Kind == community.KindTransferOwner:
		return nil // judged by the fold, which needs the lock
	case e.Kind.Authority():
		if _, ok := st.Member(e.Author); !ok {
			verdict = fmt.Errorf("%w: its author was never admitted", community.ErrNotMember)
		} else if need := e.Kind.MinRole(); need > community.RoleMember && !st.EverHeld(e.Author, need) {
			verdict = fmt.Errorf("%w: %s needs the %s role, which its author never held", community.ErrRole, e.Kind, need)
		}
	default:
		verdict = st.CheckContent(e)
	}
	if verdict == nil {
		return nil
	}
	lookup := func(h community.Hash) (community.Known, bool) {
		k, ok, err := s.store.Lookup(id, h)
		return k, ok && err == nil
	}
	var early *community.MissingError
	if err := community.CheckCausal(&e.Header, lookup); errors.As(err, &early) {
		return nil
	} else if err != nil {
		return err
	}
	return verdict
}
