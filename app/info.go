package app

// The community as a whole: what its info panel shows, and the owner's edits of it.

import (
	"context"
	"fmt"
	"time"

	"github.com/kith-app/kith/app/community"
)

// Info is a community as its info panel shows it.
type Info struct {
	ID         community.Hash
	Name       string
	About      string
	Owner      string   // the owner's name as shown
	OwnerKey   []byte   // nil when the log names no owner (never for a community that loads)
	Moderators []string // their names as shown, in the log's order of joining
	Members    int      // active members, the owner included
	MaxMembers int      // 0: no cap
	Role       community.Role
}

// Info returns what a community's info panel shows.
func (s *Service) Info(id community.Hash) (Info, error) {
	r, err := s.room(id)
	if err != nil {
		return Info{}, err
	}
	st := r.folder.State()
	names := r.shownNames(st)
	in := Info{ID: id, Name: st.Name, About: st.About, Members: st.ActiveCount(), MaxMembers: st.MaxMembers,
		Role: st.RoleOf(s.id.PublicKey())}
	for _, m := range st.Members() {
		switch {
		case !m.Active:
		case m.Role == community.RoleOwner:
			in.Owner, in.OwnerKey = names.names[string(m.Key)], m.Key
		case m.Role == community.RoleModerator:
			in.Moderators = append(in.Moderators, names.names[string(m.Key)])
		}
	}
	return in, nil
}

// EditCommunity changes a community's name, about text and member cap (the owner). A cap below
// the members already in is refused: nobody is put out by a cap.
func (s *Service) EditCommunity(ctx context.Context, id community.Hash, name, about string, maxMembers int) error {
	name, err := community.LimitCommunityName.CleanName(name)
	if err != nil {
		return err
	}
	if about, err = community.LimitAbout.CleanText(about); err != nil {
		return err
	}
	if maxMembers < 0 || maxMembers > community.MaxMembers {
		return &community.FieldError{Err: community.ErrTooLong, Msg: fmt.Sprintf("the member cap is 0 (no cap) up to %d, not %d", community.MaxMembers, maxMembers)}
	}
	r, err := s.room(id)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	if st.RoleOf(s.id.PublicKey()) != community.RoleOwner {
		return notAllowed("only the owner of %q edits its name, about text and member cap", st.Name)
	}
	if n := st.ActiveCount(); maxMembers != 0 && maxMembers < n {
		return &community.FieldError{Err: community.ErrTooLong, Msg: fmt.Sprintf("%d members are in %q already: the cap is %d or more, or 0 for none", n, st.Name, n)}
	}
	if name == st.Name && about == st.About && maxMembers == st.MaxMembers {
		return nil
	}
	body, err := community.Encode(&community.CommunityEdit{Name: name, About: about, MaxMembers: uint32(maxMembers)})
	if err != nil {
		return err
	}
	_, err = s.writeOwnLocked(ctx, r, community.KindCommunityEdit, body, community.Hash{})
	return err
}

// Departure is how this install stopped being a member of a community.
type Departure struct {
	Removed bool      // removed by a moderator or the owner (else it left, or its join lost a race)
	By      string    // who removed it, as shown
	At      time.Time // the remover's clock when it did
	Reason  string    // the remover's reason ("" for none)
}

// Departure says who removed this install from a community, when and why, once the log says
// so, or once a member handed it the removal (a notice: the removal may wait here for what it
// cites, which a removed member cannot fetch); ok is false while it is a member.
func (s *Service) Departure(id community.Hash) (d Departure, ok bool, err error) {
	r, err := s.room(id)
	if err != nil {
		return Departure{}, false, err
	}
	st := r.folder.State()
	me := s.id.PublicKey()
	if ne, rm, noticed := s.notice(id); noticed && (st.RoleOf(me) != community.RoleNone || st.Removed(me)) {
		if _, void := st.Void(ne.ID); !void {
			return Departure{Removed: true, By: r.nameOf(st, ne.Author), At: ne.WallTime(), Reason: rm.Reason}, true, nil
		}
	}
	if st.RoleOf(me) != community.RoleNone {
		return Departure{}, false, nil
	}
	if !st.Removed(me) {
		return Departure{}, true, nil
	}
	e, rm, err := s.removalOf(id, me)
	if err != nil {
		return Departure{Removed: true}, true, nil
	}
	return Departure{Removed: true, By: r.nameOf(st, e.Author), At: e.WallTime(), Reason: rm.Reason}, true, nil
}

// Forget deletes what this install holds of a community it no longer belongs to (removed, or
// left): its history goes from this device; the other members keep theirs. A member is told to
// leave first.
func (s *Service) Forget(ctx context.Context, id community.Hash) error {
	r, err := s.room(id)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	if st.RoleOf(s.id.PublicKey()) != community.RoleNone {
		if _, _, noticed := s.notice(id); !noticed {
			return notAllowed("you are a member of %q: leave it first, then it can be forgotten here", st.Name)
		}
	}
	if err := s.store.Forget(id); err != nil {
		return fmt.Errorf("app: forgetting %q: %w", st.Name, err)
	}
	r.forgotten = true // a sync or batch waiting for r.mu stores nothing
	r.forgetIndex()
	s.mu.Lock()
	delete(s.rooms, id)
	delete(s.runners, id)
	delete(s.notices, id)
	delete(s.syncs, id)
	s.mu.Unlock()
	s.idsMu.Lock()
	s.ids.Store(nil) // read the list again
	s.idsMu.Unlock()
	s.Emit(CommunityForgotten{Community: id})
	return nil
}
