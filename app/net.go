package app

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"

	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/invite"
)

// Network is what the service needs of the peer-to-peer layer (a port: p2p.Node provides it,
// wired in cmd/*): request/response streams that tell the handler who asks, dialing, and the key
// behind a peer ID. A refusal from Request is an error with a method Refused() bool that
// returns true; any other error means the peer could not be reached or failed.
type Network interface {
	Handle(proto string, maxReq int, h func(ctx context.Context, from ed25519.PublicKey, req []byte) ([]byte, error))
	Request(ctx context.Context, peerID, proto string, req []byte, maxResp int) ([]byte, error)
	Connect(ctx context.Context, addr string) error
	KeyOf(peerID string) (ed25519.PublicKey, error)
}

// Protocol IDs of Kith's streams.
const (
	ProtoJoin = "/kith/join/1"
	ProtoSync = "/kith/sync/1"
)

// Limits of the streams.
const (
	maxSyncRequest   = 128
	maxSyncAnswer    = 8 << 20
	syncAnswerBudget = 4 << 20 // a sync answer stops adding events past this many bytes
	syncBatch        = 500
)

// Serve answers join and sync requests from other peers on n.
func (s *Service) Serve(n Network) {
	n.Handle(ProtoJoin, community.MaxJoinRequestSize+64, s.serveJoin)
	n.Handle(ProtoSync, maxSyncRequest, s.serveSync)
}

// serveJoin admits a joiner: the answer is the join event, so the joiner can sync from it.
func (s *Service) serveJoin(ctx context.Context, from ed25519.PublicKey, b []byte) ([]byte, error) {
	req, err := community.DecodeJoinRequest(b)
	if err != nil {
		return nil, fmt.Errorf("this join request is damaged: update Kith and paste the invite again (%v)", err)
	}
	if !req.Joiner.Equal(from) {
		return nil, errors.New("this join request was made for another device")
	}
	e, err := s.Admit(ctx, req.Invite.Community, req)
	if err != nil {
		return nil, err
	}
	return e.Encode(), nil
}

// serveSync sends a member the events stored after its mark, in the order they were stored.
func (s *Service) serveSync(_ context.Context, from ed25519.PublicKey, b []byte) ([]byte, error) {
	req, err := decodeSyncRequest(b)
	if err != nil {
		return nil, err
	}
	st, err := s.state(req.community)
	if err != nil || st.RoleOf(from) == community.RoleNone {
		return nil, errors.New("only members of this community can sync it")
	}
	ans := syncAnswer{next: req.mark}
	size := 0
	last, err := s.store.Since(req.community, req.mark, syncBatch, func(e *community.Event) error {
		if size > syncAnswerBudget {
			return errStop
		}
		env := e.Encode()
		size += len(env)
		ans.events = append(ans.events, env)
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	ans.next = last
	ans.more = len(ans.events) > 0
	return ans.encode(), nil
}

var errStop = errors.New("stop")

// JoinWith joins the community of inv through the first of its bootstrap members that answers:
// it proves it holds the invite, is admitted, then syncs the whole history from that member.
// It returns the community's ID. The error says why, in words: the invite's own refusal
// (expired, used up, ...) or that no member could be reached.
func (s *Service) JoinWith(ctx context.Context, n Network, inv *invite.Invite, name string) (community.Hash, error) {
	id := community.Hash(inv.Community)
	if len(inv.Bootstrap) == 0 {
		return id, errors.New("app: this invite names no member to reach: ask for a new invite")
	}
	var errs []error
	for _, addr := range inv.Bootstrap {
		i := strings.LastIndex(addr, "/p2p/")
		if i < 0 {
			continue
		}
		peerID := addr[i+len("/p2p/"):]
		if err := n.Connect(ctx, addr); err != nil {
			errs = append(errs, err)
			continue
		}
		key, err := n.KeyOf(peerID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		req, err := s.JoinRequest(inv, key, name)
		if err != nil {
			return id, err
		}
		if _, err := n.Request(ctx, peerID, ProtoJoin, req.Encode(), community.MaxEnvelopeSize); err != nil {
			var no interface{ Refused() bool }
			if errors.As(err, &no) && no.Refused() {
				return id, fmt.Errorf("app: joining %q: %w", inv.CommunityName, err) // the invite's own answer
			}
			errs = append(errs, err) // unreachable or gone: try the next member
			continue
		}
		if err := s.SyncFrom(ctx, n, peerID, id); err != nil {
			return id, err
		}
		return id, nil
	}
	return id, fmt.Errorf("app: no member of %q could be reached: %w", inv.CommunityName, errors.Join(errs...))
}

// SyncFrom fetches from a member everything it stored that this install has not seen from it,
// in bounded batches, until it has nothing more.
func (s *Service) SyncFrom(ctx context.Context, n Network, peerID string, id community.Hash) error {
	var mark uint64
	for {
		b, err := n.Request(ctx, peerID, ProtoSync, syncRequest{community: id, mark: mark}.encode(), maxSyncAnswer)
		if err != nil {
			return fmt.Errorf("app: syncing: %w", err)
		}
		ans, err := decodeSyncAnswer(b)
		if err != nil {
			return fmt.Errorf("app: syncing: the member sent a damaged answer: %w", err)
		}
		if !ans.more {
			return nil
		}
		got, err := s.Receive(id, ans.events)
		if err != nil {
			return err
		}
		if len(got.Rejected) > 0 {
			s.log.Warn("sync: events refused", "from", peerID, "count", len(got.Rejected), "first", got.Rejected[0])
		}
		if ans.next <= mark {
			return errors.New("app: syncing: the member's marks went backwards")
		}
		mark = ans.next
	}
}
