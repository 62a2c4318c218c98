package app

// The promotion budget: promotional posts (kind promotion) and offers that the owner and
// moderators put out, at most the community's weekly budget of them, and this member's choice to
// mute them.

import (
	"context"
	"fmt"
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

// promotionsOf lists a community's promotions that still carry their text, from the header
// alone (readable here or not): cached in the room until a promotion or a deletion is stored.
// st is the room's state; r.mu need not be held.
func (s *Service) promotionsOf(r *room, st *community.State) ([]*community.Event, error) {
	if p := r.promos.Load(); p != nil {
		return *p, nil
	}
	pages := []community.Hash{unreadable}
	for _, ch := range st.Channels() {
		pages = append(pages, ch.ID)
	}
	var out []*community.Event
	for _, page := range pages {
		before := community.Position{}
		for scanned := 0; scanned < maxScanned; {
			evs, err := s.store.Page(r.id, page, before, 500)
			if err != nil {
				return nil, err
			}
			if len(evs) == 0 {
				break
			}
			for _, e := range evs {
				before = e.Position()
				scanned++
				if community.IsPromotion(e.Kind) && e.HasBody() {
					out = append(out, e)
				}
			}
		}
	}
	r.promos.Store(&out)
	return out, nil
}

// notePromotion forgets the room's list of promotions when e may change it.
func (r *room) notePromotion(e *community.Event) {
	if community.IsPromotion(e.Kind) || e.Kind == community.KindDelete {
		r.promos.Store(nil)
	}
}

// overBudget returns the community's promotions that do not count (see community.OverBudget):
// members do not see them.
func (s *Service) overBudget(r *room, st *community.State) (map[community.Hash]bool, error) {
	all, err := s.promotionsOf(r, st)
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
	all, err := s.promotionsOf(r, st)
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
func (s *Service) checkBudgetLocked(r *room, st *community.State) error {
	p, err := s.promotionsNow(r, st)
	if err != nil {
		return err
	}
	if p.Used < p.PerWeek {
		return nil
	}
	return &sentenceError{kind: ErrNotAllowed, msg: fmt.Sprintf(
		"this week's promotions are used (%d of %d, with offers): the next can go out on %s, or post it without marking it a promotion",
		p.Used, p.PerWeek, p.NextFree.Local().Format("Mon 2 Jan at 15:04"))}
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
		if err != nil {
			o = map[community.Hash]bool{}
		}
		*over = o
	}
	if !(*over)[e.ID] {
		return false, false
	}
	return st.RoleOf(s.id.PublicKey()) < community.RoleModerator, true
}
