package app

// The write path of this install's own events: sign on top of what the room knows, store
// durably, fold in, then publish.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kith-app/kith/app/community"
)

// OwnFloorPref is a community's preference that holds the number of this install's own latest
// event when it was backed up: a restored install writes there only once it holds that event
// again (fetched from the members), or its next event would contradict one they have (the same
// number twice: members would void the identity, as for a stolen key). DESIGN §3.
const OwnFloorPref = "own-floor"

// OwnFloorFromPref names the members (peer IDs, comma-separated) a restored install has not
// synced from since the restore: once it has synced from every one of them still in the
// community, none has an own event it lacks (one written offline before the backup and never
// sent is lost, not forked), and the floor goes.
const OwnFloorFromPref = "own-floor-from"

// OwnFloorSincePref is when the floor was set (Unix seconds): after OwnFloorPatience it goes
// even while members are not reached (one gone for good must not silence the install).
const OwnFloorSincePref = "own-floor-since"

// OwnFloorPatience is how long a restored install waits for members it has not reached (the
// refusal's sentence says 3 days).
const OwnFloorPatience = 72 * time.Hour

// ErrRestoredBehind is the refusal of a write by an install restored from a backup that has
// not got its own latest events back yet (KindTryAgain).
var ErrRestoredBehind = errors.New("this device was restored from a backup and has not got back its own last messages in this community yet " +
	"(writing now would contradict them): Kith fetches them from the members by itself")

// OwnSeq is the number of this install's latest event in a community that it holds (0: none).
func (s *Service) OwnSeq(id community.Hash) (uint64, error) {
	r, err := s.room(id)
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mine == nil {
		return 0, nil
	}
	return r.mine.Seq, nil
}

// syncedForFloor notes a sync from peerID that ended well, for a restored install's floor.
func (s *Service) syncedForFloor(id community.Hash, peerID string) {
	s.floorMu.Lock()
	defer s.floorMu.Unlock()
	v, err := s.store.Pref(id, OwnFloorFromPref)
	if err != nil || v == "" {
		return
	}
	left := slices.DeleteFunc(strings.Split(v, ","), func(p string) bool { return p == peerID })
	if len(left) == 0 {
		left = []string{"-"} // every one reached: checkOwnFloor lifts the floor at the next write
	}
	_ = s.store.SetPref(id, OwnFloorFromPref, strings.Join(left, ","))
}

// checkOwnFloor refuses a write below the floor a restore set (OwnFloorPref), and lifts the
// floor once this install holds its own events up to it, has synced from every member named
// with it that is still in the community, or waited OwnFloorPatience. r.mu must be held.
func (s *Service) checkOwnFloor(r *room) error {
	s.floorMu.Lock()
	defer s.floorMu.Unlock()
	v, err := s.store.Pref(r.id, OwnFloorPref)
	if err != nil || v == "" {
		return err
	}
	floor, _ := strconv.ParseUint(v, 10, 64)
	lift := func(why string) error {
		s.log.Info("a restored install writes in the community again", "community", r.id, "because", why)
		return errors.Join(s.store.SetPref(r.id, OwnFloorPref, ""), s.store.SetPref(r.id, OwnFloorFromPref, ""),
			s.store.SetPref(r.id, OwnFloorSincePref, ""))
	}
	if r.mine != nil && r.mine.Seq >= floor {
		return lift("its own latest event is back")
	}
	from, _ := s.store.Pref(r.id, OwnFloorFromPref)
	var waiting []string
	st, n := r.folder.State(), s.network()
	for _, p := range strings.Split(from, ",") {
		if p == "" || p == "-" {
			continue
		}
		if n != nil {
			if k, err := n.KeyOf(p); err == nil && st.RoleOf(k) == community.RoleNone {
				continue // left or removed since: it cannot hold this install back
			}
		}
		waiting = append(waiting, p)
	}
	if len(waiting) == 0 {
		return lift("synced with every member it knew")
	}
	since, _ := s.store.Pref(r.id, OwnFloorSincePref)
	if at, err := strconv.ParseInt(since, 10, 64); err == nil && s.now().Sub(time.Unix(at, 0)) > OwnFloorPatience {
		return lift("waited long enough for the members not reached")
	}
	return fmt.Errorf("%w (%d of the members it knew not reached yet: it writes once they are, or 3 days after the restore at the latest)",
		ErrRestoredBehind, len(waiting))
}

// writeOwnLocked signs an event of this install on top of what the room knows, stores it
// durably and folds it in. r.mu must be held.
func (s *Service) writeOwnLocked(ctx context.Context, r *room, kind community.Kind, body []byte, channel community.Hash, cite ...community.Position) (*community.Event, error) {
	if kind.Authority() || kind.MinRole() >= community.RoleModerator {
		// The grant of this install's role, however old: receivers judge the act knowing it
		// (a revocation, say, which a member may write for its own invites and a moderator for
		// any).
		if at, ok := r.folder.State().RoleGrant(s.id.PublicKey()); ok {
			cite = append(cite, at)
		}
	}
	if err := s.checkOwnFloor(r); err != nil {
		return nil, err
	}
	return s.writeAsLocked(ctx, r, s.id, r.mine, kind, body, channel, cite...)
}

// writeAsLocked is writeOwnLocked with another signer (the recovery key), whose latest event in
// the community is prev. r.mu must be held.
func (s *Service) writeAsLocked(ctx context.Context, r *room, signer community.Signer, prev *community.Event, kind community.Kind, body []byte, channel community.Hash, cite ...community.Position) (*community.Event, error) {
	st := r.folder.State()
	e, err := community.Build(signer, community.Draft{
		Community: r.id, Kind: kind, Body: body, Epoch: st.Current, Time: s.now(),
		Prev: prev, Deps: r.deps(), Cite: cite,
	})
	if err != nil {
		return nil, err
	}
	if err := s.store.AppendOwn(ctx, Record{Event: e, Channel: channel}); err != nil {
		return nil, fmt.Errorf("app: saving: %w", err)
	}
	r.noteHead(e, s.id.PublicKey())
	r.remember(e)
	if isPost(kind) || kind == community.KindEdit {
		s.indexSoon(r)
	}
	if kind.Authority() {
		if _, err := r.folder.Add(e); err != nil {
			return nil, err
		}
		r.learnKeys([]*community.Event{e})
		r.noteJoiners([]*community.Event{e})
		s.Emit(CommunityChanged{Community: r.id})
	}
	s.publish(r.id, e)
	return e, nil
}
