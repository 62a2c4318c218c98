package app

// What the log says of a community's members and channels, for views and for the network's
// rules (IsMember, RemovedAnywhere, WasAdmitted).

import (
	"bytes"
	"slices"
	"strings"
	"time"

	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/invite"
)

// MemberView is a member as a view shows it.
type MemberView struct {
	Key   []byte
	Name  string // as views show it: the latest profile's name, else the join's, marked when a twin
	About string // the member's about text ("" for none)
	// Provenance: who admitted the member's latest join (its name as shown; "" for the owner who
	// founded it), with which invite, and when (the admitter's countersigned time).
	InvitedBy     []byte
	InvitedByName string
	Invite        invite.ID
	JoinedAt      time.Time
	Role          community.Role
	Active        bool
	You           bool
	// OpenInvites counts the invites the member registered that are neither revoked nor used up
	// (what RevokeBy would revoke).
	OpenInvites int
	// Picture is the member's picture's thumbnail (JPEG or PNG, checked small; nil: none);
	// PictureBlob and PictureEvent name the picture itself (FetchFile, SaveFile).
	Picture      []byte
	PictureBlob  community.Hash
	PictureEvent community.Hash
}

// Members lists a community's members: active ones first, then by name.
func (s *Service) Members(id community.Hash) ([]MemberView, error) {
	r, err := s.room(id)
	if err != nil {
		return nil, err
	}
	st := r.folder.State()
	names := r.shownNames(st)
	me := s.id.PublicKey()
	var out []MemberView
	for _, m := range st.Members() {
		k := string(m.Key)
		mv := MemberView{Key: m.Key, Name: names.names[k], About: names.about[k], Role: m.Role, Active: m.Active, You: bytes.Equal(m.Key, me),
			InvitedBy: m.Admitter, Invite: m.Invite, OpenInvites: st.OpenInvites(m.Key)}
		if len(m.Admitter) > 0 {
			mv.InvitedByName = nameOrNone(names.names[string(m.Admitter)])
		}
		var joined community.Position
		if n := len(m.Stints); n > 0 {
			mv.JoinedAt = m.Stints[n-1].At
			joined = m.Stints[n-1].Join
		}
		if prof := r.profiles.Load(); prof != nil {
			if p, ok := (*prof)[k]; ok && joined.Less(p.at) && p.picture != nil { // a profile of this stay
				mv.Picture, mv.PictureBlob, mv.PictureEvent = p.thumb, p.pictureID, p.event
			}
		}
		out = append(out, mv)
	}
	slices.SortStableFunc(out, func(a, b MemberView) int {
		if a.Active != b.Active {
			if a.Active {
				return -1
			}
			return 1
		}
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return out, nil
}

// state is a community's folded state. It takes no lock: a state never changes once the room's
// folder hands it out, so membership checks (the gossip validator, the connection gater) and
// views never wait behind a write that holds the room through its fsync.
func (s *Service) state(id community.Hash) (*community.State, error) {
	r, err := s.room(id)
	if err != nil {
		return nil, err
	}
	return r.folder.State(), nil
}

// Has reports whether this install has stored an event of a community.
func (s *Service) Has(id, event community.Hash) bool {
	_, ok, err := s.store.Lookup(id, event)
	return ok && err == nil
}

// IsMember reports whether key is an active member of community id; known is false when this
// install does not have that community (it may be about to join it).
func (s *Service) IsMember(id community.Hash, key []byte) (member, known bool) {
	st, err := s.state(id)
	if err != nil {
		return false, false
	}
	return st.RoleOf(key) != community.RoleNone, true
}

// communityIDs lists the communities stored here, from memory after the first call (the
// connection gater asks on every connection): a community stored later is added when its room
// is loaded, which every way of storing one does.
func (s *Service) communityIDs() ([]community.Hash, error) {
	if ids := s.ids.Load(); ids != nil {
		return *ids, nil
	}
	s.idsMu.Lock()
	defer s.idsMu.Unlock()
	if ids := s.ids.Load(); ids != nil {
		return *ids, nil
	}
	ids, err := s.store.Communities()
	if err != nil {
		return nil, err
	}
	s.ids.Store(&ids)
	return ids, nil
}

// noteCommunity adds a community whose room was just loaded to the list communityIDs keeps.
func (s *Service) noteCommunity(id community.Hash) {
	s.idsMu.Lock()
	defer s.idsMu.Unlock()
	if ids := s.ids.Load(); ids != nil && !slices.Contains(*ids, id) {
		more := append(slices.Clone(*ids), id)
		s.ids.Store(&more)
	}
}

// IsMemberAnywhere reports whether key is an active member of any community this install
// belongs to (the network admits such peers).
func (s *Service) IsMemberAnywhere(key []byte) bool {
	ids, err := s.communityIDs()
	if err != nil {
		return false
	}
	for _, id := range ids {
		if member, _ := s.IsMember(id, key); member {
			return true
		}
	}
	return false
}

// RemovedAnywhere reports whether key was removed from a community of this install and is a
// member of none (the network refuses such peers, even as guests).
func (s *Service) RemovedAnywhere(key []byte) bool {
	ids, err := s.communityIDs()
	if err != nil {
		return false
	}
	removed := false
	for _, id := range ids {
		st, err := s.state(id)
		if err != nil {
			continue
		}
		if st.RoleOf(key) != community.RoleNone {
			return false
		}
		removed = removed || st.Removed(key)
	}
	return removed
}

// Role returns this install's role in a community (RoleNone once it is no longer a member).
func (s *Service) Role(id community.Hash) (community.Role, error) {
	st, err := s.state(id)
	if err != nil {
		return community.RoleNone, err
	}
	return st.RoleOf(s.id.PublicKey()), nil
}

// Epoch returns the current content-key epoch of a community (the ID of the rotation that made
// its key; the community's ID before any rotation).
func (s *Service) Epoch(id community.Hash) (community.Hash, error) {
	st, err := s.state(id)
	if err != nil {
		return community.Hash{}, err
	}
	return st.Current, nil
}

// StateHash is a digest of a community's folded membership state: two installs with the same
// log have the same hash (tests and diagnostics compare them).
func (s *Service) StateHash(id community.Hash) (community.Hash, error) {
	st, err := s.state(id)
	if err != nil {
		return community.Hash{}, err
	}
	return st.Hash(), nil
}

// WasAdmitted reports whether the log of community id holds a join of key, valid or void.
func (s *Service) WasAdmitted(id community.Hash, key []byte) bool {
	r, err := s.room(id)
	if err != nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.joiners[string(key)]
}

// removed reports whether key was removed from community id (and is not a member again).
func (s *Service) removed(id community.Hash, key []byte) bool {
	st, err := s.state(id)
	return err == nil && st.Removed(key)
}
