package app

import (
	"errors"
	"fmt"
	"slices"

	"github.com/kith-app/kith/app/community"
)

// maxWaiting bounds the events a community keeps while their earlier events are fetched.
const maxWaiting = 10_000

// Received says what Receive did with a batch of envelopes.
type Received struct {
	Stored   int              // new events stored
	Known    int              // events this install already had
	Waiting  int              // events waiting for earlier ones, in all (see Missing)
	Held     int              // events of this call left waiting (Missing names what they wait for)
	Dropped  int              // early events of this call not kept: the waiting buffer is full
	Missing  []community.Hash // events to fetch from the sender: the waiting ones cite them
	Rejected []error          // one per refused envelope: forged, malformed, not a member's, ...

	heldOn  map[community.Hash][]community.Hash // an event of this call left waiting → what it waits for
	refused []*community.Event                  // the decoded events among Rejected
}

// Receive takes envelopes of one community from another peer (gossip or sync), in any order:
// each is decoded and verified (one signature per run of an author's linked events: see
// community.DecodeBatch), checked against the events it cites (Lamport rule, chain) and
// against the membership log, then stored. An event whose earlier events are unknown waits
// (bounded) and is listed under Missing, so the caller can fetch them; it is stored when they
// come. This install's first contact with a community it is joining carries its genesis:
// callers pass only communities this install belongs to or is joining.
//
// Content this install cannot decrypt yet is stored in a page of its own and moved into its
// channel when its key arrives.
func (s *Service) Receive(id community.Hash, envelopes [][]byte) (Received, error) {
	var out Received
	decoded, errs := community.DecodeBatch(envelopes)
	out.Rejected = append(out.Rejected, errs...)
	return s.receive(id, decoded, out)
}

// receive is Receive of decoded events, their signatures verified.
func (s *Service) receive(id community.Hash, decoded []*community.Event, out Received) (Received, error) {
	var fresh []*community.Event
	for _, e := range decoded {
		if e.CommunityID() != id {
			out.Rejected = append(out.Rejected, fmt.Errorf("app: event %s belongs to another community", e.ID.Short()))
			out.refused = append(out.refused, e)
			continue
		}
		fresh = append(fresh, e)
	}
	r, made, err := s.roomFor(id, fresh)
	if err != nil {
		return out, err
	}
	if made {
		out.Stored++ // the genesis
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return s.acceptLocked(r, fresh, out)
}

// roomFor returns the loaded community, or makes it from a genesis among events when this
// install does not have it yet (it is joining); made reports the latter.
func (s *Service) roomFor(id community.Hash, events []*community.Event) (r *room, made bool, err error) {
	r, err = s.room(id)
	if !errors.Is(err, ErrUnknownCommunity) {
		return r, false, err
	}
	for _, e := range events {
		if e.Kind == community.KindGenesis && e.ID == id {
			if _, err := community.NewFolder(e); err != nil {
				return nil, false, fmt.Errorf("app: the community's first event is not valid: %w", err)
			}
			if _, err := s.store.Append(Record{Event: e}); err != nil {
				return nil, false, err
			}
			r, err = s.room(id)
			return r, err == nil, err
		}
	}
	return nil, false, err
}

// Bounds of the waiting buffer, a community: events, and bytes of them; and what one author's
// events may take of it (a sixteenth), so that one member sending events that cite what does not
// exist — which gossip forwards, see docs/PROTOCOL.md, "Early events" — cannot crowd out the
// others' early events.
const (
	maxWaitingBytes       = 64 << 20
	maxWaitingAuthor      = maxWaiting / 16
	maxWaitingAuthorBytes = maxWaitingBytes / 16
)

func waitSize(e *community.Event) int { return len(e.Body) + 512 }

// waitShare is what one author's events take of the waiting buffer.
type waitShare struct{ events, bytes int }

// strangers is the share that the early events of keys never admitted (as far as this install
// knows) are charged to together: a member could sign early events with fresh keys otherwise, a
// share each.
const strangers = ""

// wait puts an early event in the waiting buffer, if the buffer and its author's share of it
// have room; it reports whether it is there.
func (r *room) wait(e *community.Event) bool {
	if r.waiting[e.ID] != nil {
		return true
	}
	charge := string(e.Author)
	if _, ok := r.folder.State().Member(e.Author); !ok {
		charge = strangers
	}
	share := r.waitingBy[charge]
	if len(r.waiting) >= maxWaiting || r.waitingBytes+waitSize(e) > maxWaitingBytes ||
		share.events >= maxWaitingAuthor || share.bytes+waitSize(e) > maxWaitingAuthorBytes {
		return false
	}
	r.waiting[e.ID] = e
	r.waitingBytes += waitSize(e)
	r.waitingBy[charge] = waitShare{share.events + 1, share.bytes + waitSize(e)}
	r.charged[e.ID] = charge
	return true
}

// unwait takes an event out of the waiting buffer, if it is there.
func (r *room) unwait(id community.Hash) {
	e := r.waiting[id]
	if e == nil {
		return
	}
	r.waitingBytes -= waitSize(e)
	delete(r.waiting, id)
	charge := r.charged[id] // as charged then: the author may have joined since
	delete(r.charged, id)
	if share := r.waitingBy[charge]; share.events > 1 {
		r.waitingBy[charge] = waitShare{share.events - 1, share.bytes - waitSize(e)}
	} else {
		delete(r.waitingBy, charge)
	}
}

// acceptLocked validates, stores and folds events, and retries those waiting. r.mu must be held.
func (s *Service) acceptLocked(r *room, fresh []*community.Event, out Received) (Received, error) {
	if r.forgotten {
		// A sync or a gossiped batch that waited for the lock while the community was being
		// forgotten: storing it would bring part of the community back.
		return out, fmt.Errorf("%w (%s, forgotten here)", ErrUnknownCommunity, r.id.Short())
	}
	if r.waiting == nil {
		r.waiting = map[community.Hash]*community.Event{}
		r.waitingBy = map[string]waitShare{}
		r.charged = map[community.Hash]string{}
		r.blocked = map[community.Hash][]community.Hash{}
	}
	batch := map[community.Hash]community.Known{} // accepted in this call, not yet stored
	lookup := func(id community.Hash) (community.Known, bool) {
		if k, ok := batch[id]; ok {
			return k, true
		}
		if k, ok := r.recent[id]; ok {
			return k, true
		}
		k, ok, err := s.store.Lookup(r.id, id)
		return k, ok && err == nil
	}
	var records []Record
	var authority []*community.Event
	missing := map[community.Hash]bool{}
	// The queue holds the fresh events in (Lamport, ID) order — an event's earlier events sort
	// before it, so a causally complete batch goes through in one pass — and then the waiting
	// events that an accepted event unblocks. Waiting events are looked at again only when
	// something they wait for arrives: a full buffer costs nothing per call.
	queue := slices.Clone(fresh)
	isFresh := make(map[community.Hash]bool, len(fresh))
	for _, e := range fresh {
		isFresh[e.ID] = true
	}
	slices.SortFunc(queue, func(a, b *community.Event) int { return a.Position().Compare(b.Position()) })
	for len(queue) > 0 {
		e := queue[0]
		queue = queue[1:]
		id := e.ID
		if _, known := lookup(id); known {
			r.unwait(id) // a duplicate
			out.Known++
			continue
		}
		err := community.CheckCausal(&e.Header, lookup)
		var early *community.MissingError
		if errors.As(err, &early) {
			if !r.wait(e) {
				out.Dropped++ // not an error of the event's: sync brings it again
				continue
			}
			if isFresh[id] {
				out.Held++
				if out.heldOn == nil {
					out.heldOn = map[community.Hash][]community.Hash{}
				}
				out.heldOn[id] = early.IDs
			}
			for _, m := range early.IDs {
				missing[m] = true
				if !slices.Contains(r.blocked[m], id) {
					r.blocked[m] = append(r.blocked[m], id)
				}
			}
			continue
		}
		r.unwait(id)
		if err == nil {
			var rec Record
			rec, err = s.admitLocked(r, e)
			if err == nil {
				records = append(records, rec)
				batch[id] = community.Known{Author: e.Author, Seq: e.Seq, Lamport: e.Lamport}
				if e.Kind.Authority() {
					authority = append(authority, e)
				}
				for _, w := range r.blocked[id] {
					if we := r.waiting[w]; we != nil {
						queue = append(queue, we)
					}
				}
				delete(r.blocked, id)
			}
		}
		if err != nil {
			out.Rejected = append(out.Rejected, fmt.Errorf("app: event %s refused: %w", id.Short(), err))
			out.refused = append(out.refused, e)
		}
	}
	if len(r.waiting) == 0 {
		clear(r.blocked) // entries of events dropped or refused meanwhile
	}
	// Keys first, then channels: content sorts before the join that gives this install the key
	// to read it, so it is placed in its channel only once the batch's keys are learnt. Content
	// still unreadable waits in the unreadable page until its key comes.
	learnt := r.learnKeys(authority)
	r.noteJoiners(authority)
	st := r.folder.State()
	me := s.id.PublicKey()
	var added []Message
	type deletion struct {
		e *community.Event
		c *community.Content
	}
	var deletes []deletion
	var profiles, annotations []opened
	var polls []community.Hash // polls a vote or a close of this batch changed
	type touched struct {
		request community.Hash
		status  bool
	}
	var asked []touched         // feedback requests an answer or a status of this batch changed
	var offers []community.Hash // offers a claim or a code of this batch changed
	claims := false
	for i := range records {
		if e := records[i].Event; e.Kind.Content() && e.HasBody() { // bodiless: deleted, in no page
			records[i].Channel = unreadable
			if c, err := r.keys.Open(e); err == nil {
				records[i].Channel = pageOf(e, c)
				switch e.Kind {
				case community.KindProfile:
					profiles = append(profiles, opened{e, c})
				case community.KindEdit, community.KindReaction, community.KindPin, community.KindUnpin:
					annotations = append(annotations, opened{e, c})
				case community.KindMessage, community.KindPromotion:
					m := r.view(st, e, c, me)
					if len(c.Blobs) > 0 {
						m = s.withAttachments(r.id, m, c)
					}
					added = append(added, m)
				case community.KindPoll:
					m := r.view(st, e, c, me)
					m.Poll = &Poll{ID: e.ID, Channel: c.Channel, Author: e.Author, Name: m.Name, At: e.WallTime()}
					if spec, ok := community.PollOf(c); ok {
						m.Poll.PollSpec = spec
						added = append(added, m)
					}
				case community.KindVote, community.KindPollClose:
					polls = append(polls, c.Target)
				case community.KindFeedbackRequest:
					m := r.view(st, e, c, me)
					if spec, ok := community.FeedbackOf(c); ok {
						m.Feedback = &Feedback{ID: e.ID, Channel: c.Channel, Author: e.Author, Name: m.Name, At: e.WallTime(), FeedbackSpec: spec}
						added = append(added, m)
					}
				case community.KindFeedbackAnswer, community.KindFeedbackStatus:
					asked = append(asked, touched{c.Target, e.Kind == community.KindFeedbackStatus})
				case community.KindOffer:
					m := r.view(st, e, c, me)
					if spec, ok := community.OfferOf(c); ok {
						m.Offer = &Offer{ID: e.ID, Channel: c.Channel, Author: e.Author, Name: m.Name, At: e.WallTime(), OfferSpec: spec}
						added = append(added, m)
					}
				case community.KindOfferClaim, community.KindOfferCode:
					offers = append(offers, c.Target)
					claims = claims || e.Kind == community.KindOfferClaim
				case community.KindDelete:
					records[i].Channel = community.Hash{}
					deletes = append(deletes, deletion{e, c})
				}
			}
		}
	}
	n, err := s.store.Append(records...)
	out.Stored += n
	if err != nil {
		if !errors.Is(err, ErrEquivocation) {
			return out, err
		}
		out.Rejected = append(out.Rejected, err)
		added = nil // which of them were stored is not known: views reload on CommunityChanged
	} else {
		for _, rec := range records {
			r.remember(rec.Event)
		}
	}
	changed := len(authority) > 0 || learnt || len(added) < countMessages(records)
	if err == nil {
		for _, p := range profiles {
			changed = r.noteProfile(p.e, p.c) || changed
		}
		s.noteAnnotations(r, st, annotations)
	}
	for _, rec := range records {
		r.noteHead(rec.Event, me)
	}
	if n > 0 {
		s.indexSoon(r) // the search index catches up in the background
	}
	if learnt {
		if err := s.placeUnreadable(r); err != nil {
			return out, err
		}
	}
	if changed {
		s.Emit(CommunityChanged{Community: r.id})
	}
	memo := pageMemo{}
	muted := s.muted(r.id)
	var over map[community.Hash]bool
	for _, m := range added {
		if m.Promotion {
			e := &community.Event{}
			for _, rec := range records {
				if rec.Event.ID == m.ID {
					e = rec.Event
				}
			}
			hidden, isOver := s.hiddenPromotion(r, st, e, muted, &over)
			if hidden {
				continue // members learn of it in no view, and no notification
			}
			m.OverBudget = isOver
		}
		if m.Poll != nil { // as this install sees it: its vote, the count where shown
			if p := s.pollFor(r, st, m.ID, memo); p != nil {
				m.Poll = p
			}
		}
		if m.Feedback != nil {
			if f := s.feedbackFor(r, st, m.ID, memo); f != nil {
				m.Feedback = f
			}
		}
		if m.Offer != nil {
			if o := s.offerFor(r, st, m.ID, memo); o != nil {
				m.Offer = o
			}
		}
		s.Emit(MessageAdded{Community: r.id, Message: m})
	}
	if err == nil {
		for _, p := range slices.Compact(slices.SortedFunc(slices.Values(polls), community.Hash.Compare)) {
			s.pollUpdated(r, st, p)
		}
		for _, o := range slices.Compact(slices.SortedFunc(slices.Values(offers), community.Hash.Compare)) {
			s.offerUpdated(r, st, o)
		}
		if claims && st.RoleOf(me) >= community.RoleModerator {
			id := r.id // the codes for the claims: written once this batch is stored and the room free
			s.spawn(func() { s.GrantOffers(s.ctx, id) })
		}
		done := map[community.Hash]bool{}
		for _, t := range asked {
			status := t.status || slices.ContainsFunc(asked, func(o touched) bool { return o.request == t.request && o.status })
			if !done[t.request] {
				done[t.request] = true
				s.feedbackUpdated(r, st, t.request, status)
			}
		}
	}
	for _, d := range deletes { // after the batch is stored: a message and its deletion may come together
		if err := s.applyDeleteLocked(r, st, d.e, d.c); err != nil {
			return out, err
		}
	}
	for id := range missing {
		if _, known := lookup(id); !known && r.waiting[id] == nil {
			out.Missing = append(out.Missing, id)
		}
	}
	out.Waiting = len(r.waiting)
	return out, nil
}

// admitLocked decides whether a causally complete event may be stored, and how: authority
// events are folded (a void one is still stored: it is part of the log and its verdict can
// change), content must be a member's at its point.
func (s *Service) admitLocked(r *room, e *community.Event) (Record, error) {
	if e.Kind.Authority() {
		if e.Kind != community.KindGenesis && e.Kind != community.KindTransferOwner {
			st := r.folder.State()
			if _, ok := st.Member(e.Author); !ok {
				return Record{}, fmt.Errorf("%w: its author was never admitted", community.ErrNotMember)
			}
			if need := e.Kind.MinRole(); need > community.RoleMember && !st.EverHeld(e.Author, need) {
				// A member promoting itself, removing someone, rotating keys...: forged authority.
				return Record{}, fmt.Errorf("%w: %s needs the %s role, which its author never held", community.ErrRole, e.Kind, need)
			}
		}
		if _, err := r.folder.Add(e); err != nil {
			return Record{}, err
		}
		return Record{Event: e}, nil
	}
	if err := r.folder.State().CheckContent(e); err != nil {
		return Record{}, err
	}
	return Record{Event: e}, nil
}

// unreadable is the page of content stored before this install held its key: no channel has
// this ID (channel IDs are hashes).
var unreadable = community.Hash{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// placeUnreadable moves the content that waited for a key this install now holds into its
// channel. r.mu must be held (or the room not yet shared).
func (s *Service) placeUnreadable(r *room) error {
	type deletion struct {
		e *community.Event
		c *community.Content
	}
	var deletes []deletion
	var readable []opened // posts and edits, for the search index
	before := community.Position{}
	for {
		evs, err := s.store.Page(r.id, unreadable, before, 500)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			if c, err := r.keys.Open(e); err == nil {
				if err := s.store.SetChannel(r.id, e.ID, pageOf(e, c)); err != nil {
					return err
				}
				if e.Kind == community.KindProfile && r.noteProfile(e, c) {
					s.Emit(CommunityChanged{Community: r.id})
				}
				if isAnnotation(e.Kind) && r.folder.State().CheckContent(e) == nil {
					s.noteAnnotations(r, r.folder.State(), []opened{{e, c}})
				}
				if e.Kind == community.KindDelete {
					deletes = append(deletes, deletion{e, c})
				}
				if isPost(e.Kind) || e.Kind == community.KindEdit {
					readable = append(readable, opened{e, c})
				}
			}
			before = e.Position()
		}
	}
	if len(readable) > 0 {
		s.indexOpened(r, readable)
	}
	// Deletions last: a message and its deletion may both have waited for this key, and the
	// message must not be placed in its page after its deletion took it out.
	for _, d := range deletes {
		if err := s.applyDeleteLocked(r, r.folder.State(), d.e, d.c); err != nil {
			return err
		}
	}
	return nil
}

// opened is a content event with its opened body.
type opened struct {
	e *community.Event
	c *community.Content
}

// countMessages counts the messages among records.
func countMessages(records []Record) int {
	n := 0
	for _, r := range records {
		if r.Event.Kind == community.KindMessage {
			n++
		}
	}
	return n
}
