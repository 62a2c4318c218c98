package app

// The write path of this install's own events: sign on top of what the room knows, store
// durably, fold in, then publish.

import (
	"context"
	"fmt"

	"github.com/kith-app/kith/app/community"
)

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
