package app

// Reading the pages that polls, feedback, offers, recognition and testimonials keep: a whole
// page in the log's order, the events of one kind across a community's channels, and an ID typed
// as a prefix.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kith-app/kith/app/community"
)

// maxScanned bounds the events of one channel read when looking for polls, requests or offers.
const maxScanned = 20_000

// pageMemo keeps the pages one call reads (a page of messages, a listing), so that reading n
// polls reads their votes' page once, not n times. nil: read afresh.
type pageMemo map[community.Hash][]*community.Event

// pageIn is pageInOrder through memo.
func (s *Service) pageIn(id, page community.Hash, memo pageMemo) ([]*community.Event, error) {
	if evs, ok := memo[page]; ok {
		return evs, nil
	}
	evs, err := s.pageInOrder(id, page)
	if err == nil && memo != nil {
		memo[page] = evs
	}
	return evs, err
}

// pageInOrder reads a whole store page of a community, in (Lamport, ID) order.
func (s *Service) pageInOrder(id, page community.Hash) ([]*community.Event, error) {
	var all []*community.Event
	before := community.Position{}
	for {
		evs, err := s.store.Page(id, page, before, 500)
		if err != nil {
			return nil, err
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			before = e.Position()
			all = append(all, e)
		}
	}
	slices.SortFunc(all, func(a, b *community.Event) int { return a.Position().Compare(b.Position()) })
	return all, nil
}

// ofKind lists the events of kind in a community's channels (at most maxScanned read per
// channel), the newest first within each channel.
func (s *Service) ofKind(r *room, kind community.Kind) ([]community.Hash, error) {
	var out []community.Hash
	err := s.eachInChannels(r.id, r.folder.State().Channels(), func(e *community.Event) bool {
		if e.Kind == kind {
			out = append(out, e.ID)
		}
		return true
	})
	return out, err
}

// eachInChannels calls fn with the events of channels, the newest first within each, at most
// maxScanned a channel, until fn returns false.
func (s *Service) eachInChannels(id community.Hash, channels []community.Channel, fn func(*community.Event) bool) error {
	for _, ch := range channels {
		before := community.Position{}
		for scanned := 0; scanned < maxScanned; {
			evs, err := s.store.Page(id, ch.ID, before, 500)
			if err != nil {
				return err
			}
			if len(evs) == 0 {
				break
			}
			for _, e := range evs {
				before = e.Position()
				scanned++
				if !fn(e) {
					return nil
				}
			}
		}
	}
	return nil
}

// listOf reads every event of kind in a community's channels through read (each view's pages
// read once, see pageMemo) and returns the views that keep says to keep, the newest first.
func listOf[R any, V any](s *Service, id community.Hash, kind community.Kind,
	read func(r *room, st *community.State, ev community.Hash, memo pageMemo) (R, error),
	view func(r *room, st *community.State, rec R) (V, bool), at func(V) time.Time) ([]V, error) {
	r, err := s.room(id)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	ids, err := s.ofKind(r, kind)
	if err != nil {
		return nil, err
	}
	var out []V
	memo := pageMemo{}
	for _, ev := range ids {
		if rec, err := read(r, st, ev, memo); err == nil {
			if v, keep := view(r, st, rec); keep {
				out = append(out, v)
			}
		}
	}
	slices.SortFunc(out, func(a, b V) int { return at(b).Compare(at(a)) })
	return out, nil
}

// oneOf reads one event through read and returns its view, under the room's lock.
func oneOf[R any, V any](s *Service, id, ev community.Hash,
	read func(r *room, st *community.State, ev community.Hash, memo pageMemo) (R, error),
	view func(r *room, st *community.State, rec R) V) (V, error) {
	var zero V
	r, err := s.room(id)
	if err != nil {
		return zero, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	rec, err := read(r, st, ev, nil)
	if err != nil {
		return zero, err
	}
	return view(r, st, rec), nil
}

// byPrefix finds one of ids by ref: a whole ID, or a unique prefix of 8 hex digits or more. what
// names the thing ("poll") and list the command that lists them, for the sentences.
func byPrefix(ids []community.Hash, ref, what, list string) (community.Hash, error) {
	ref = strings.ToLower(strings.TrimSpace(ref))
	if h, err := community.ParseHash(ref); err == nil {
		return h, nil
	}
	if len(ref) < 8 {
		return community.Hash{}, &sentenceError{msg: fmt.Sprintf("%q is not a %s ID: give at least its first 8 hex digits, as `%s` prints them", ref, what, list), kind: ErrBadInput}
	}
	var found []community.Hash
	for _, id := range ids {
		if strings.HasPrefix(id.String(), ref) {
			found = append(found, id)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return community.Hash{}, &sentenceError{msg: fmt.Sprintf("no %s %s: `%s` lists them", what, ref, list), kind: ErrBadInput}
	}
	return community.Hash{}, &sentenceError{msg: fmt.Sprintf("%s names %d of them: give more of its ID", ref, len(found)), kind: ErrBadInput}
}

// refIn finds an event of kind in a community's channels by its ID or a prefix of it.
func (s *Service) refIn(id community.Hash, kind community.Kind, ref, what, list string) (community.Hash, error) {
	r, err := s.room(id)
	if err != nil {
		return community.Hash{}, err
	}
	r.mu.Lock()
	ids, err := s.ofKind(r, kind)
	r.mu.Unlock()
	if err != nil {
		return community.Hash{}, err
	}
	return byPrefix(ids, ref, what, list)
}
