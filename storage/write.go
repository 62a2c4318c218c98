package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// ownReq is one AppendOwn call waiting for the committer.
type ownReq struct {
	evs  []Event
	done chan error // buffered: the committer never blocks on it
}

// AppendOwn stores events this peer authored and returns only once they are
// durable (written and fsynced). Concurrent callers are grouped: one committer
// goroutine writes whatever is waiting in one batch followed by one db.Sync(),
// then acknowledges each caller.
//
// Outcomes: nil (every event is stored and synced, or was already stored with
// the same ID); an error wrapping ErrSeqTaken for each event whose
// (community, author, seq) is held by another ID (the others are stored);
// ErrDiskFull; ErrClosed; or ctx's error when ctx ends first, in which case
// the events may still be stored.
func (s *Store) AppendOwn(ctx context.Context, evs ...Event) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inflight.Done()
	if len(evs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: save own events: %w", err)
	}
	if size := ownSize(evs); size > s.maxOwnBatch() || len(evs) > s.maxOwnEvents() {
		return fmt.Errorf("storage: save own events: %d events of %d KiB in all are too many for one durable write (at most %d events, %d KiB): save them in several calls",
			len(evs), size>>10, s.maxOwnEvents(), s.maxOwnBatch()>>10)
	}
	// Copy the envelopes: the caller may reuse its buffers once it stops waiting.
	req := &ownReq{evs: make([]Event, len(evs)), done: make(chan error, 1)}
	for i, e := range evs {
		e.Envelope = append([]byte(nil), e.Envelope...)
		req.evs[i] = e
	}
	select {
	case s.own <- req:
	case <-ctx.Done():
		return fmt.Errorf("storage: save own events: %w (nothing was saved)", ctx.Err())
	case <-s.committerDone:
		return fmt.Errorf("storage: save own events: %w", ErrClosed)
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("storage: stopped waiting for own events to be saved (they may still be saved): %w", ctx.Err())
	case <-s.committerDone:
		select {
		case err := <-req.done:
			return err
		default:
			return fmt.Errorf("storage: save own events: %w", ErrClosed)
		}
	}
}

// commitLoop is the committer: it owns group commits of own events until ctx
// is cancelled by Close, then fails whatever is still queued with ErrClosed.
func (s *Store) commitLoop(ctx context.Context) {
	defer close(s.committerDone)
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case r := <-s.own:
					r.done <- fmt.Errorf("storage: save own events: %w", ErrClosed)
				default:
					return
				}
			}
		case r := <-s.own:
			// A group is written in one transaction, so that it lands in one write-ahead
			// log: the one db.Sync then fsyncs. A request that would overflow the group
			// starts the next one.
			reqs := []*ownReq{r}
			n, size := len(r.evs), ownSize(r.evs)
			var next *ownReq
		gather:
			for {
				select {
				case r := <-s.own:
					if size+ownSize(r.evs) > s.maxOwnBatch() || n+len(r.evs) > s.maxOwnEvents() {
						next = r
						break gather
					}
					reqs = append(reqs, r)
					n, size = n+len(r.evs), size+ownSize(r.evs)
				default:
					break gather
				}
			}
			s.commitGroup(reqs, n)
			if next != nil {
				s.commitGroup([]*ownReq{next}, len(next.evs))
			}
		}
	}
}

// commitGroup writes the events of reqs in one batch, syncs once and
// answers each request.
func (s *Store) commitGroup(reqs []*ownReq, n int) {
	all := make([]Event, 0, n)
	for _, r := range reqs {
		all = append(all, r.evs...)
	}
	// writeMu is held through the fsync: Badger's Sync covers only the active write-ahead log,
	// and another write in between could switch to a new one, leaving this group in the old,
	// unsynced log.
	s.writeMu.Lock()
	_, errs, err := s.writeEventsMode("save own events", all, true)
	if err == nil {
		if serr := s.db.Sync(); serr != nil {
			err = s.writeErr("sync own events to disk", serr)
		}
	}
	s.writeMu.Unlock()
	off := 0
	for _, r := range reqs {
		if err != nil {
			r.done <- err
		} else {
			r.done <- errors.Join(errs[off : off+len(r.evs)]...)
		}
		off += len(r.evs)
	}
}

// Append stores events received from others in one batch, without waiting for
// an fsync. It is idempotent: an event whose (community, author, seq) is
// already stored with the same ID is skipped. An event whose
// (community, author, seq) is held by another ID is not stored and adds an
// error wrapping ErrSeqTaken (a *SeqTakenError naming both IDs); the other
// events of the batch are still stored. It returns how many events were new.
func (s *Store) Append(evs ...Event) (int, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.inflight.Done()
	if len(evs) == 0 {
		return 0, nil
	}
	// In chunks, releasing writeMu in between, so that one's own messages do not wait behind
	// a long catch-up.
	var all []error
	total := 0
	for len(evs) > 0 {
		chunk := evs[:min(len(evs), appendChunk)]
		evs = evs[len(chunk):]
		s.writeMu.Lock()
		n, errs, err := s.writeEvents("save events", chunk)
		s.writeMu.Unlock()
		total += n
		all = append(all, errs...)
		if err != nil {
			all = append(all, err)
			break
		}
	}
	return total, errors.Join(all...)
}

// appendChunk is how many events Append writes under one hold of writeMu.
const appendChunk = 512

// ownSize is what a group of own events adds to a transaction, as eventSize counts it.
func ownSize(evs []Event) int64 {
	var n int64
	for i := range evs {
		n += eventSize(&evs[i])
	}
	return n
}

// maxOwnBatch is the most a group of own events may add to its one transaction, and
// maxOwnEvents the most events it may hold: writeEventsMode splits a write at the same bounds.
func (s *Store) maxOwnBatch() int64 { return s.db.MaxBatchSize() / 2 }
func (s *Store) maxOwnEvents() int  { return int(s.db.MaxBatchCount()/2)/eventEntries - 1 }

// writeEvents stores events received from others (see writeEventsMode).
func (s *Store) writeEvents(op string, evs []Event) (int, []error, error) {
	return s.writeEventsMode(op, evs, false)
}

// writeEvents stores evs, in as few transactions as Badger's batch limits
// allow, each event whole in one transaction. s.writeMu must be held. errs[i]
// is the error of evs[i] alone (sequence taken, invalid); err is an error that
// stopped the write (events of transactions already committed stay stored).
// n counts the new events committed.
//
// own marks events this install authored: one already stored is written again, so that it sits
// in the write-ahead log that the caller's fsync covers (it may have come in by Append before,
// into a log that was never synced).
func (s *Store) writeEventsMode(op string, evs []Event, own bool) (n int, errs []error, err error) {
	if err := s.checkSpace(op); err != nil {
		return 0, nil, err
	}
	defer s.guard(op, &err)
	defer func() {
		if n > 0 {
			s.dirty.Store(true) // the high-water mark is raised later (mark.go)
		}
	}()
	b := &batch{
		s:          s,
		own:        own,
		marks:      make(map[CommunityID]uint64),
		dirty:      make(map[CommunityID]bool),
		heads:      make(map[headRef]uint64),
		maxSize:    s.db.MaxBatchSize() / 2,
		maxEntries: s.db.MaxBatchCount() / 2,
	}
	b.begin()
	defer func() { b.txn.Discard() }()
	errs = make([]error, len(evs))
	for i := range evs {
		e := &evs[i]
		if e.Seq == 0 {
			errs[i] = fmt.Errorf("storage: event %x of author %x has sequence number 0 (sequences start at 1); it was not stored", e.ID, e.Author[:8])
			continue
		}
		if eventSize(e) > b.maxSize {
			errs[i] = fmt.Errorf("storage: event %x of author %x is %d KiB, over the %d KiB an event may take; it was not stored", e.ID, e.Author[:8], len(e.Envelope)>>10, b.maxSize>>10)
			continue
		}
		if b.entries > 0 && (b.size+eventSize(e) > b.maxSize || b.entries+eventEntries > b.maxEntries) {
			if err := b.commit(); err != nil {
				return n, errs, s.writeErr(op, err)
			}
			n += b.added
			if err := s.checkSpace(op); err != nil {
				return n, errs, err
			}
			b.begin()
		}
		if err := b.add(e, &errs[i]); err != nil {
			return n, errs, s.writeErr(op, err)
		}
	}
	if err := b.commit(); err != nil {
		return n, errs, s.writeErr(op, err)
	}
	return n + b.added, errs, nil
}

// eventEntries is the most keys one event writes (record, ID index, page
// index, authority index, local mark, head) plus one community record.
const eventEntries = 7

// eventSize is an upper bound of what one event adds to a transaction, as
// Badger counts it.
func eventSize(e *Event) int64 {
	return int64(eventHdr+len(e.Envelope)) + eventEntries*(128+16)
}

// batch is one write transaction of writeEvents, with the local-mark counters
// of the communities it touches.
type batch struct {
	s                   *Store
	txn                 *badger.Txn
	size, entries       int64 // what Badger will count for txn, estimated
	maxSize, maxEntries int64
	added               int                    // new events in txn
	own                 bool                   // rewrite duplicates (see writeEventsMode)
	marks               map[CommunityID]uint64 // last local number given, per community
	heads               map[headRef]uint64     // highest seq stored, per author, as far as read
	dirty               map[CommunityID]bool   // communities whose record txn must write
}

func (b *batch) begin() {
	if b.txn != nil {
		b.txn.Discard()
	}
	b.txn = b.s.db.NewTransaction(true)
	b.size, b.entries, b.added = 0, 0, 0
}

func (b *batch) set(k, v []byte) error {
	b.size += int64(len(k)+len(v)) + 16
	b.entries++
	return b.txn.Set(k, v)
}

// commit writes the community records of the batch and commits txn.
func (b *batch) commit() error {
	for c := range b.dirty {
		if err := b.set(communityKey(c), encodeCommunity(b.marks[c])); err != nil {
			return err
		}
	}
	clear(b.dirty)
	return b.txn.Commit()
}

// lastLocal returns the last local number given in community c.
func (b *batch) lastLocal(c CommunityID) (uint64, error) {
	if n, ok := b.marks[c]; ok {
		return n, nil
	}
	v, err := getValue(b.txn, communityKey(c))
	var n uint64
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return 0, err
	default:
		if n, err = decodeCommunity(v); err != nil {
			return 0, err
		}
	}
	b.marks[c] = n
	return n, nil
}

// headRef names one author's chain in one community.
type headRef struct {
	c CommunityID
	a AuthorKey
}

// headSeq returns the highest stored seq of author a in community c (0: none).
func (b *batch) headSeq(c CommunityID, a AuthorKey) (uint64, error) {
	if seq, ok := b.heads[headRef{c, a}]; ok {
		return seq, nil
	}
	v, err := getValue(b.txn, headKey(c, a))
	var seq uint64
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return 0, err
	default:
		h, err := decodeHead(a, v)
		if err != nil {
			return 0, err
		}
		seq = h.Seq
	}
	b.heads[headRef{c, a}] = seq
	return seq, nil
}

// add writes event e with all its index entries, unless it is a duplicate
// (nothing to do) or its sequence number is taken (*evErr is set). The
// returned error is a transaction error that stops the whole write.
func (b *batch) add(e *Event, evErr *error) error {
	txn := b.txn
	key := eventKey(e.Community, e.Author, e.Seq)
	item, err := txn.Get(key)
	switch {
	case err == nil:
		// Read the stored ID in place: duplicates are common under gossip, and copying the
		// whole record to compare 32 bytes would be waste.
		var stored EventID
		var rewrite []byte
		if err := item.Value(func(v []byte) error {
			id, err := eventRecordID(v)
			stored = id
			if err == nil && b.own && id == e.ID {
				rewrite = append([]byte(nil), v...)
			}
			return err
		}); err != nil {
			return err
		}
		if stored != e.ID {
			*evErr = &SeqTakenError{Community: e.Community, Author: e.Author, Seq: e.Seq, Stored: stored, New: e.ID}
			return nil
		}
		if rewrite != nil {
			return b.set(key, rewrite)
		}
		return nil
	case !errors.Is(err, badger.ErrKeyNotFound):
		return err
	}
	v, err := getValue(txn, eventIDKey(e.Community, e.ID))
	switch {
	case err == nil:
		a, seq, derr := decodePtr(v)
		if derr != nil {
			return derr
		}
		*evErr = fmt.Errorf("storage: event %x is already stored as seq %d of author %x, not seq %d of author %x; the new copy was not stored",
			e.ID, seq, a[:8], e.Seq, e.Author[:8])
		return nil
	case !errors.Is(err, ErrNotFound):
		return err
	}
	local, err := b.lastLocal(e.Community)
	if err != nil {
		return err
	}
	local++
	ptr := encodePtr(e.Author, e.Seq)
	if err := b.set(eventKey(e.Community, e.Author, e.Seq), encodeEvent(e)); err != nil {
		return err
	}
	if err := b.set(eventIDKey(e.Community, e.ID), ptr); err != nil {
		return err
	}
	if e.Channel != (ChannelID{}) {
		if err := b.set(pageKey(e.Community, e.Channel, e.Lamport, e.ID), ptr); err != nil {
			return err
		}
	}
	if e.Authority {
		if err := b.set(authorityKey(e.Community, e.Lamport, e.ID), ptr); err != nil {
			return err
		}
	}
	if err := b.set(localKey(e.Community, local), ptr); err != nil {
		return err
	}
	head, err := b.headSeq(e.Community, e.Author)
	if err != nil {
		return err
	}
	if e.Seq > head {
		if err := b.set(headKey(e.Community, e.Author), encodeHead(e.Seq, e.ID)); err != nil {
			return err
		}
		b.heads[headRef{e.Community, e.Author}] = e.Seq
	}
	b.marks[e.Community] = local
	b.dirty[e.Community] = true
	b.added++
	return nil
}

// ReplaceEnvelope swaps the stored bytes of event id (used when its body is
// dropped: deletion, pruning). Indexes are unchanged. ErrNotFound when the
// event is not stored.
func (s *Store) ReplaceEnvelope(c CommunityID, id EventID, envelope []byte) error {
	return s.update("replace the stored envelope", func(txn *badger.Txn) error {
		k, e, err := recordByID(txn, c, id)
		if err != nil {
			return err
		}
		e.Envelope = envelope
		return txn.Set(k, encodeEvent(&e))
	})
}

// recordByID finds event id's record through the ID index: its key and the event.
func recordByID(txn *badger.Txn, c CommunityID, id EventID) ([]byte, Event, error) {
	v, err := getValue(txn, eventIDKey(c, id))
	if err != nil {
		return nil, Event{}, fmt.Errorf("event %x in community %x: %w", id, c[:8], err)
	}
	a, seq, err := decodePtr(v)
	if err != nil {
		return nil, Event{}, err
	}
	k := eventKey(c, a, seq)
	v, err = getValue(txn, k)
	if err != nil {
		return nil, Event{}, fmt.Errorf("event %x (seq %d of author %x): %w", id, seq, a[:8], err)
	}
	e, err := decodeEvent(c, a, seq, v)
	return k, e, err
}

// PutState stores the folded state of community c (opaque bytes), replacing
// the previous one.
func (s *Store) PutState(c CommunityID, state []byte) error {
	return s.update("save community state", func(txn *badger.Txn) error {
		if err := txn.Set(stateKey(c), state); err != nil {
			return err
		}
		// Make sure Communities lists c.
		_, err := getValue(txn, communityKey(c))
		if errors.Is(err, ErrNotFound) {
			s.dirty.Store(true) // a new community: the high-water mark is raised later
			return txn.Set(communityKey(c), encodeCommunity(0))
		}
		return err
	})
}

// SetChannel places a stored event in channel ch's page (moving it from the page it was in, if
// any): for content whose channel became known after it was stored (its key came later).
// ErrNotFound when the event is not stored.
func (s *Store) SetChannel(c CommunityID, id EventID, ch ChannelID) error {
	return s.update("place an event in its channel", func(txn *badger.Txn) error {
		k, e, err := recordByID(txn, c, id)
		if err != nil {
			return err
		}
		if e.Channel == ch {
			return nil
		}
		if e.Channel != (ChannelID{}) {
			if err := txn.Delete(pageKey(c, e.Channel, e.Lamport, e.ID)); err != nil {
				return err
			}
		}
		e.Channel = ch
		if err := txn.Set(k, encodeEvent(&e)); err != nil {
			return err
		}
		if ch == (ChannelID{}) {
			return nil
		}
		return txn.Set(pageKey(c, ch, e.Lamport, e.ID), encodePtr(e.Author, e.Seq))
	})
}
