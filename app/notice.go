package app

// The notice of a removal: the member who removes someone hands the removal to it, on a stream
// of its own, before its connections are dropped — a removed member is refused afterwards, so
// without it the removed member would never learn that, or why, it was removed.

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/kith-app/kith/app/community"
)

// ProtoNotice is the stream that hands a removed member its removal.
const ProtoNotice = "/kith/notice/1"

// noticeTimeout bounds handing a removal over before the connection is dropped.
const noticeTimeout = 3 * time.Second

// removalOf returns the latest valid removal of target in a community, as stored.
func (s *Service) removalOf(id community.Hash, target ed25519.PublicKey) (*community.Event, *community.Remove, error) {
	st, err := s.state(id)
	if err != nil {
		return nil, nil, err
	}
	var last *community.Event
	var body *community.Remove
	err = s.store.AuthorityEvents(id, func(e *community.Event) error {
		if e.Kind != community.KindRemove {
			return nil
		}
		if _, void := st.Void(e.ID); void {
			return nil
		}
		b, err := community.DecodeBody(e.Kind, e.Body)
		if rm, ok := b.(*community.Remove); err == nil && ok && rm.Target.Equal(target) {
			last, body = e, rm
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if last == nil {
		return nil, nil, fmt.Errorf("app: no removal of %x in %s", []byte(target[:4]), id.Short())
	}
	return last, body, nil
}

// NoticeRemoval hands a removed member (peerID, still connected) its removal, waiting at most
// noticeTimeout; the caller drops the connection after.
func (s *Service) NoticeRemoval(ctx context.Context, n Network, peerID string, id community.Hash, target ed25519.PublicKey) error {
	e, _, err := s.removalOf(id, target)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, noticeTimeout)
	defer cancel()
	_, err = n.Request(ctx, peerID, ProtoNotice, e.Encode(), 16)
	return err
}

// serveNotice takes a removal of this install: signed, of a community it belongs to, by a member
// who held the moderator's role there. It is received like any event (stored and folded when
// what it cites is here; else it waits, and the notice still says who removed this install and
// why: Departure).
func (s *Service) serveNotice(_ context.Context, from ed25519.PublicKey, b []byte) ([]byte, error) {
	e, err := community.Decode(b)
	if err != nil {
		return nil, Refuse("this notice is damaged: %v", err)
	}
	id := e.CommunityID()
	st, err := s.state(id)
	if err != nil {
		return nil, Refuse("this install does not belong to that community")
	}
	if e.Kind != community.KindRemove {
		return nil, Refuse("a notice carries a removal")
	}
	body, err := community.DecodeBody(e.Kind, e.Body)
	rm, ok := body.(*community.Remove)
	switch {
	case err != nil || !ok:
		return nil, Refuse("this notice's removal is damaged")
	case !rm.Target.Equal(s.id.PublicKey()):
		return nil, Refuse("this removal is of another member")
	case !st.EverHeld(e.Author, community.RoleModerator):
		return nil, Refuse("its author never held the moderator's role here")
	}
	if _, err := s.Receive(id, [][]byte{b}); err != nil {
		s.log.Warn("storing the removal of this install", "community", id.Short(), "err", err)
	}
	s.mu.Lock()
	if s.notices == nil {
		s.notices = map[community.Hash]*community.Event{}
	}
	s.notices[id] = e
	s.mu.Unlock()
	s.Emit(CommunityChanged{Community: id})
	return []byte{1}, nil
}

// notice is the removal of this install a member handed over for a community, if any.
func (s *Service) notice(id community.Hash) (*community.Event, *community.Remove, bool) {
	s.mu.Lock()
	e := s.notices[id]
	s.mu.Unlock()
	if e == nil {
		return nil, nil, false
	}
	b, err := community.DecodeBody(e.Kind, e.Body)
	rm, ok := b.(*community.Remove)
	if err != nil || !ok {
		return nil, nil, false
	}
	return e, rm, true
}
