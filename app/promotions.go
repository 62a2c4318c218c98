package app

// The promotion budget: promotional posts (kind promotion) and offers that the owner and
// moderators put out, at most the community's weekly budget of them, and this member's choice to
// mute them.

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/kith-app/kith/app/community"
)

// mutePref is the name of this install's local preference that hides promotions.
const mutePref = "mute-promotions"

// Promotions is the promotion budget as this install sees it.
type Promotions struct {
	PerWeek  int       // the community's budget
	Used     int       // promotions that count this week (Monday to Monday, UTC)
	Week     time.Time // the start of this week
	NextFree time.Time // when the next promotion can go out: now, or next week's start
	Muted    bool      // this install hides promotions (its member's choice)
	CanPost  bool      // this install's member is the owner or a moderator
}

// promoIndex is a room's promotions, read from the whole log in the order this install stored
// it: each call reads on from the local mark it had reached (one seek when nothing is new), and a
// deletion takes its promotion out. Its own lock: views call it without the room's.
type promoIndex struct {
	mu   sync.Mutex
	mark uint64             // the local mark read up to
	evs  []*community.Event // headers only (no body), still carrying their text when read
}

// promotionsOf returns a community's promotions that still carry their text — from the headers,
// whatever page they are in and whether or not this install can read them.
func (s *Service) promotionsOf(r *room) ([]*community.Event, error) {
	p := &r.promos
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		n := 0
		last, err := s.store.Since(r.id, p.mark, 1000, func(e *community.Event) error {
			n++
			if community.IsPromotion(e.Kind) && e.HasBody() {
				h := &community.Event{Header: e.Header, ID: e.ID} // what CheckContent and the order need
				p.evs = append(p.evs, h)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if n == 0 || last == p.mark {
			break
		}
		p.mark = last
	}
	return slices.Clone(p.evs), nil
}

// dropPromotion takes a deleted event out of the room's promotions (a deleted promotion no
// longer counts). Events stored later that arrive without their body are never taken in.
func (r *room) dropPromotion(id community.Hash) {
	p := &r.promos
	p.mu.Lock()
	defer p.mu.Unlock()
	p.evs = slices.DeleteFunc(p.evs, func(e *community.Event) bool { return e.ID == id })
}

// overBudget returns the community's promotions that do not count (see community.OverBudget):
// members do not see them.
func (s *Service) overBudget(r *room, st *community.State) (map[community.Hash]bool, error) {
	all, err := s.promotionsOf(r)
	if err != nil {
		return nil, err
	}
	valid := make([]*community.Event, 0, len(all))
	for _, e := range all {
		if st.CheckContent(e) == nil {
			valid = append(valid, e)
		}
	}
	return community.OverBudget(valid, st.Settings.PromotionBudget()), nil
}

// promotionsNow counts the promotions that count in this install's current week.
func (s *Service) promotionsNow(r *room, st *community.State) (Promotions, error) {
	now := s.now()
	p := Promotions{PerWeek: st.Settings.PromotionBudget(), Week: community.WeekOf(now), CanPost: st.RoleOf(s.id.PublicKey()) >= community.RoleModerator}
	all, err := s.promotionsOf(r)
	if err != nil {
		return p, err
	}
	over, err := s.overBudget(r, st)
	if err != nil {
		return p, err
	}
	for _, e := range all {
		if !over[e.ID] && st.CheckContent(e) == nil && community.WeekOf(e.WallTime()).Equal(p.Week) {
			p.Used++
		}
	}
	p.NextFree = now
	if p.Used >= p.PerWeek {
		p.NextFree = p.Week.AddDate(0, 0, 7)
	}
	p.Muted = s.muted(r.id)
	return p, nil
}

// PromotionBudget returns the community's promotion budget and how much of it this week used.
func (s *Service) PromotionBudget(id community.Hash) (Promotions, error) {
	r, err := s.room(id)
	if err != nil {
		return Promotions{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return s.promotionsNow(r, r.folder.State())
}

// checkBudgetLocked refuses a promotion when this week's budget is used. r.mu must be held.
// instead says what else to do ("" for an offer: it is always a promotion).
func (s *Service) checkBudgetLocked(r *room, st *community.State, instead string) error {
	p, err := s.promotionsNow(r, st)
	if err != nil {
		return err
	}
	if p.Used < p.PerWeek {
		return nil
	}
	msg := fmt.Sprintf("this week's promotions are used (%d of %d, with offers): the next can go out on %s",
		p.Used, p.PerWeek, p.NextFree.Local().Format("Mon 2 Jan at 15:04"))
	if instead != "" {
		msg += ", or " + instead
	}
	return &sentenceError{kind: ErrNotAllowed, msg: msg}
}

// PostPromotion posts a promotional message (the owner and moderators): it counts against the
// community's weekly promotion budget, and members who muted promotions do not see it.
func (s *Service) PostPromotion(ctx context.Context, id, channel community.Hash, text string) (Message, error) {
	return s.post(ctx, id, channel, text, community.Hash{}, community.KindPromotion)
}

// muted reports whether this install hides a community's promotions.
func (s *Service) muted(id community.Hash) bool {
	v, err := s.store.Pref(id, mutePref)
	return err == nil && v == "yes"
}

// MutePromotions hides (or shows again) a community's promotional posts and offers in the
// conversation, with no notification for them. It is this install's choice: nothing is written
// to the log.
func (s *Service) MutePromotions(id community.Hash, mute bool) error {
	if _, err := s.room(id); err != nil {
		return err
	}
	v := "no"
	if mute {
		v = "yes"
	}
	if err := s.store.SetPref(id, mutePref, v); err != nil {
		return err
	}
	s.Emit(CommunityChanged{Community: id})
	return nil
}

// hiddenPromotion reports whether a view of this install leaves promotion e out: it is over the
// budget and this member is not the owner or a moderator, or this member muted promotions and
// did not write it. over is read once per call through *over.
func (s *Service) hiddenPromotion(r *room, st *community.State, e *community.Event, muted bool, over *map[community.Hash]bool) (hidden, isOver bool) {
	if !community.IsPromotion(e.Kind) {
		return false, false
	}
	mine := string(e.Author) == string(s.id.PublicKey())
	if muted && !mine {
		return true, false
	}
	if *over == nil {
		o, err := s.overBudget(r, st)
		if err != nil { // the store failed: shown, rather than a view that fails
			s.log.Warn("reading the promotions", "community", r.id.Short(), "err", err)
			o = map[community.Hash]bool{}
		}
		*over = o
	}
	if !(*over)[e.ID] {
		return false, false
	}
	return st.RoleOf(s.id.PublicKey()) < community.RoleModerator, true
}
