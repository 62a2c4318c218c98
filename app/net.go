package app

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/invite"
)

// Network is what the service needs of the peer-to-peer layer (a port: p2p.Node provides it,
// wired in cmd/*): request/response streams that tell the handler who asks, dialing, and the key
// behind a peer ID and back. A refusal from Request is an error with a method Refused() bool
// that returns true; any other error means the peer could not be reached or failed.
type Network interface {
	Handle(proto string, maxReq int, h func(ctx context.Context, from ed25519.PublicKey, req []byte) ([]byte, error))
	Request(ctx context.Context, peerID, proto string, req []byte, maxResp int) ([]byte, error)
	// HandleStream and RequestStream are Handle and Request for an answer written and read as
	// it goes (files): the handler returns what writes it; the asker reads it to io.EOF, which
	// only a whole answer reaches, and closes it. ctx bounds the reading too.
	HandleStream(proto string, maxReq int, h func(ctx context.Context, from ed25519.PublicKey, req []byte) (func(io.Writer) error, error))
	RequestStream(ctx context.Context, peerID, proto string, req []byte) (io.ReadCloser, error)
	// Dial connects to a peer through any of its addresses (full multiaddrs ending in
	// /p2p/<peerID>, relayed ones included), tried together; a no-op when connected.
	Dial(ctx context.Context, peerID string, addrs []string) error
	KeyOf(peerID string) (ed25519.PublicKey, error)
	PeerID(key ed25519.PublicKey) (string, error)
}

// Protocol IDs of Kith's streams.
const (
	ProtoJoin = "/kith/join/1"
	ProtoSync = "/kith/sync/1"
)

// Limits of the streams.
const (
	maxSyncRequest   = 1 + 32 + 10 + 3 + maxSyncHeads*(syncHeadSize+9)
	maxSyncAnswer    = 8 << 20
	syncAnswerBudget = 4 << 20 // a sync answer stops adding events past this many bytes
	syncBatch        = 500     // events per answer
	syncScan         = 5000    // events read per answer (most may be left out by the heads)
)

// Serve answers join and sync requests from other peers on n, and syncs through n in the
// background (SyncSoon, and the fetches of what early gossiped events wait for).
func (s *Service) Serve(n Network) {
	s.mu.Lock()
	s.net = n
	s.mu.Unlock()
	n.Handle(ProtoJoin, community.MaxJoinRequestSize+64, s.serveJoin)
	n.Handle(ProtoSync, maxSyncRequest, s.serveSync)
	n.Handle(ProtoNotice, community.MaxEnvelopeSize, s.serveNotice)
	n.HandleStream(ProtoBlob, maxBlobRequest, s.serveBlob)
}

// serveJoin admits a joiner: the answer is the join event, so the joiner can sync from it.
func (s *Service) serveJoin(ctx context.Context, from ed25519.PublicKey, b []byte) ([]byte, error) {
	req, err := community.DecodeJoinRequest(b)
	if err != nil {
		return nil, Refuse("this join request is damaged: update Kith and paste the invite again (%v)", err)
	}
	if !req.Joiner.Equal(from) {
		return nil, Refuse("this join request was made for another device")
	}
	e, err := s.Admit(ctx, req.Invite.Community, req)
	var no *JoinRefusal
	switch {
	case err == nil:
		return e.Encode(), nil
	case errors.As(err, &no):
		return nil, err // the joiner's answer: final
	case errors.Is(err, ErrUnknownCommunity):
		// The invite named this install, which is not (or no longer) in the community: another
		// member may admit. The joiner knows the community's ID already; it learns nothing.
		return nil, unavailable{errors.New("this member does not belong to that community (any more), so it cannot admit you: Kith asks the other members")}
	}
	// This install's own trouble (its disk, a missing key): said here, not to the joiner.
	s.log.Warn("a join could not be admitted now", "community", community.Hash(req.Invite.Community).Short(), "err", err)
	return nil, unavailable{errors.New("this member cannot admit you right now: Kith asks another member, or again later")}
}

// Refuse is a stream handler's refusal meant for the asker, final, in a sentence for a person
// (the network sends it as such: see p2p.Handler). A handler's other errors reach the asker
// only as "not now", never in words.
func Refuse(format string, a ...any) error { return refusal{fmt.Errorf(format, a...)} }

type refusal struct{ error }

func (refusal) Refused() bool   { return true }
func (r refusal) Unwrap() error { return r.error }

// unavailable is a handler's "not now" (the network sends it as such: the asker may try again,
// or another peer).
type unavailable struct{ error }

func (unavailable) Unavailable() bool { return true }
func (u unavailable) Unwrap() error   { return u.error }

// serveSync sends a member the events stored after its mark, in the order they were stored,
// leaving out those its heads say it has. An outsider's stream is reset with no answer: it learns
// nothing, not even that the community is here.
func (s *Service) serveSync(_ context.Context, from ed25519.PublicKey, b []byte) ([]byte, error) {
	req, err := decodeSyncRequest(b)
	if err != nil {
		return nil, refusal{err}
	}
	member, _ := s.IsMember(req.community, from)
	if !member && (!s.WasAdmitted(req.community, from) || s.removed(req.community, from)) {
		return nil, ErrOutsider
	}
	// A joiner whose join the log voids (it lost a race for an invite's last use) or a member
	// that left gets the authority events, and content without its body: enough to learn where
	// it stands, no content.
	authorityOnly := !member
	latest, err := s.store.LocalMark(req.community)
	if err != nil {
		return nil, err
	}
	ans := syncAnswer{next: req.mark, latest: latest}
	if req.mark >= latest {
		return ans.encode(), nil // nothing new (or the asker's mark is from another store: it sees latest < mark)
	}
	have := req.have(func(h syncHead) bool {
		k, ok, err := s.store.Lookup(req.community, h.id)
		return err == nil && ok && bytes.Equal(k.Author, h.author[:]) && k.Seq == h.seq
	})
	size := 0
	last, err := s.store.Since(req.community, req.mark, syncScan, func(e *community.Event) error {
		if size > syncAnswerBudget || len(ans.events) >= syncBatch {
			return errStop
		}
		if !have(e) {
			env := e.Encode()
			if authorityOnly && !e.Kind.Authority() {
				// Without its body: the authority events after it cite it, so the asker needs its
				// header to place them; the content stays with the members.
				env = e.EncodeWithoutBody()
			}
			size += len(env)
			ans.events = append(ans.events, env)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	ans.next = last
	ans.more = last < latest
	return ans.encode(), nil
}

// ErrOutsider is what a stream handler returns to an outsider: the network resets the stream
// with no answer (it has ResetStream() true), so the asker learns nothing, not even that the
// community is here.
var ErrOutsider error = resetError{}

type resetError struct{}

func (resetError) Error() string     { return "not a member" }
func (resetError) ResetStream() bool { return true }

var errStop = errors.New("stop")

// Candidate is a member to try when joining: its peer ID and the addresses to dial it on (full
// multiaddrs ending in /p2p/<ID>, relayed ones included).
type Candidate struct {
	PeerID string
	Addrs  []string
}

// Candidates lists the members an invite names, in its order (the most reachable first), each
// with its direct addresses, then its addresses through the members that relay for it, then
// through the relays the invite names only as such. A
// version-1 invite gives its bootstrap addresses, grouped by peer. peerID turns a member's key
// into its peer ID (Network.PeerID).
func Candidates(inv *invite.Invite, peerID func(ed25519.PublicKey) (string, error)) []Candidate {
	var out []Candidate
	ids := make([]string, len(inv.Members))
	for i, m := range inv.Members {
		ids[i], _ = peerID(m.Key)
	}
	for i, m := range inv.Members {
		if ids[i] == "" {
			continue
		}
		c := Candidate{PeerID: ids[i]}
		for _, a := range m.Addrs {
			c.Addrs = append(c.Addrs, a+"/p2p/"+ids[i])
		}
		for _, v := range m.Via {
			if v < 0 || v >= len(inv.Members) || ids[v] == "" {
				continue
			}
			for _, a := range inv.Members[v].Addrs {
				c.Addrs = append(c.Addrs, a+"/p2p/"+ids[v]+"/p2p-circuit/p2p/"+ids[i])
			}
		}
		for _, r := range m.Relays {
			rid, err := peerID(r.Key)
			if err != nil {
				continue
			}
			for _, a := range r.Addrs {
				c.Addrs = append(c.Addrs, a+"/p2p/"+rid+"/p2p-circuit/p2p/"+ids[i])
			}
		}
		out = append(out, c)
	}
	for _, addr := range inv.Bootstrap { // version 1
		i := strings.LastIndex(addr, "/p2p/")
		if i < 0 {
			continue
		}
		id := addr[i+len("/p2p/"):]
		k := slices.IndexFunc(out, func(c Candidate) bool { return c.PeerID == id })
		if k < 0 {
			k = len(out)
			out = append(out, Candidate{PeerID: id})
		}
		out[k].Addrs = append(out[k].Addrs, addr)
	}
	return out
}

// JoinWith joins the community of inv through the members it names, tried in its order: it
// proves it holds the invite to the first that answers, is admitted, then syncs the whole
// history from that member. It returns the community's ID. The error says why, in words: the
// invite's own refusal (expired, used up, ...) or that no member could be reached
// (ErrNoMemberReachable: trying again later, or finding members another way, may work).
//
// With an invite that needs approval, answers are the joiner's answers to its questions, and
// the join ends with ErrAwaitingApproval once a member took the request.
func (s *Service) JoinWith(ctx context.Context, n Network, inv *invite.Invite, name string, answers ...string) (community.Hash, error) {
	id := community.Hash(inv.Community)
	if _, err := CleanAnswers(&inv.Capability, answers); err != nil {
		return id, err // what was typed: before any network work
	}
	cands := Candidates(inv, n.PeerID)
	if len(cands) == 0 {
		return id, fmt.Errorf("app: no member of %q could be reached: %w", inv.CommunityName,
			errors.Join(ErrNoMemberReachable, errors.New("the invite names no member to reach: ask for a new invite")))
	}
	var errs []error
	for k, c := range cands {
		s.Emit(JoinProgress{Community: id, Stage: JoinFinding, Peer: c.PeerID, Tried: k + 1, Of: len(cands), Via: ViaInvite})
		if err := n.Dial(ctx, c.PeerID, c.Addrs); err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		got, err := s.JoinThrough(ctx, n, c.PeerID, inv, name, ViaInvite, answers...)
		if err == nil || Refused(err) || errors.Is(err, ErrAwaitingApproval) || ctx.Err() != nil {
			return got, err
		}
		errs = append(errs, err) // unreachable or gone: try the next member
	}
	return id, fmt.Errorf("app: no member of %q could be reached: %w", inv.CommunityName, errors.Join(append([]error{ErrNoMemberReachable}, errs...)...))
}

// JoinThrough joins the community of inv through one member (peerID, connected or reachable
// from here): it proves it holds the invite, is admitted, then syncs the whole history from that
// member. via says how the member was found, for the progress events. A refusal (see Refused)
// is the invite's own answer; any other error means the member could not be reached or failed.
func (s *Service) JoinThrough(ctx context.Context, n Network, peerID string, inv *invite.Invite, name string, via JoinVia, answers ...string) (community.Hash, error) {
	id := community.Hash(inv.Community)
	key, err := n.KeyOf(peerID)
	if err != nil {
		return id, err
	}
	req, err := s.JoinRequest(inv, key, name, answers)
	if err != nil {
		return id, err
	}
	s.Emit(JoinProgress{Community: id, Stage: JoinVerifying, Peer: peerID, Via: via})
	b, err := n.Request(ctx, peerID, ProtoJoin, req.Encode(), community.MaxEnvelopeSize)
	if err != nil {
		if Refused(err) {
			return id, fmt.Errorf("app: joining %q: %w", inv.CommunityName, err) // the invite's own answer
		}
		return id, err // unreachable, gone, or "not now" (Unavailable): another member may admit
	}
	if inv.Approval {
		if err := s.requestAnswer(inv, b); err != nil {
			return id, err
		}
	}
	s.Emit(JoinProgress{Community: id, Stage: JoinSyncing, Peer: peerID, Via: via})
	if err := s.SyncFrom(ctx, n, peerID, id); err != nil {
		return id, err
	}
	return id, nil
}

// requestAnswer reads a member's answer to a join with an invite that needs approval: the
// request (it waits: ErrAwaitingApproval), the decline (a DeclinedError), or the approval or
// join that admitted this install (nil: sync).
func (s *Service) requestAnswer(inv *invite.Invite, b []byte) error {
	e, err := community.Decode(b)
	if err != nil || e.CommunityID() != community.Hash(inv.Community) {
		return fmt.Errorf("app: the member answered the request to join with a damaged event: another member may answer (%v)", err)
	}
	body, err := community.DecodeBody(e.Kind, e.Body)
	if err != nil {
		return fmt.Errorf("app: the member answered the request to join with a damaged event: %w", err)
	}
	switch b := body.(type) {
	case *community.EntryRequest:
		if !b.Joiner.Equal(s.id.PublicKey()) {
			return errors.New("app: the member answered with another joiner's request: another member may answer")
		}
		return fmt.Errorf("%w: your request to join %q was delivered; the owner or a moderator will answer it", ErrAwaitingApproval, inv.CommunityName)
	case *community.Decline:
		return &DeclinedError{Community: inv.CommunityName, Reason: community.Printable(b.Reason, false), At: e.WallTime()}
	case *community.Approve, *community.Join:
		return nil
	}
	return fmt.Errorf("app: the member answered the request to join with a %s event: another member may answer", e.Kind)
}

// ErrNoMemberReachable: none of an invite's members answered (offline, or not reachable from
// here): trying again later may work.
var ErrNoMemberReachable = errors.New("no member answered")

// SyncFrom fetches from a member what it stored since the last sync from it (its marks are
// remembered per member), in bounded batches, until it has nothing more. On first contact the
// request carries this install's heads, so the member leaves out what is here already. Progress
// goes to subscribers as SyncProgress and shows in SyncState.
func (s *Service) SyncFrom(ctx context.Context, n Network, peerID string, id community.Hash) (err error) {
	if err := s.check(); err != nil {
		return err
	}
	release, err := s.runner(id).hold(ctx, peerID)
	if err != nil {
		return err
	}
	defer release()
	mark, err := s.store.SyncMark(id, peerID)
	if err != nil {
		return err
	}
	start, reset := mark, false
	p := SyncProgress{Community: id, Peer: peerID}
	s.noteSync(p)
	defer func() {
		p.Finished, p.Err = true, err
		s.noteSync(p)
		if err == nil {
			s.syncedForFloor(id, peerID)
		}
	}()
	// The next batch is asked for while this one is verified and stored: the member's reading
	// and the transfer overlap with the work here (measured by kith-bench's catch-up suite).
	rctx, cancel := context.WithCancel(ctx)
	defer cancel() // a batch asked for ahead, not needed after all
	ask := func(mark, start uint64) (syncRequest, <-chan syncReply) {
		req := syncRequest{community: id, mark: mark}
		if start == 0 { // a first contact, every batch of it: the heads leave out what is here
			// (read before the batch ahead of it is stored: the member may send some of that
			// batch's authors' events again, which Receive counts as known)
			if heads, err := s.store.Heads(id); err == nil {
				req.heads = headsOf(heads)
			}
		}
		reply := make(chan syncReply, 1)
		go func() {
			b, err := n.Request(rctx, peerID, ProtoSync, req.encode(), maxSyncAnswer)
			if err != nil {
				reply <- syncReply{err: fmt.Errorf("app: syncing from %s: %w", shortPeer(peerID), err)}
				return
			}
			ans, err := decodeSyncAnswer(b)
			if err != nil {
				err = fmt.Errorf("app: syncing: the member sent a damaged answer: %w", err)
			}
			reply <- syncReply{ans, err}
		}()
		return req, reply
	}
	req, reply := ask(mark, start)
	for {
		r := <-reply // the request ends with rctx
		if r.err != nil {
			return r.err
		}
		ans := r.ans
		if ans.latest < mark { // the member's store is not the one the mark came from: start over
			if reset {
				return errors.New("app: syncing: the member's marks went backwards")
			}
			mark, start, reset = 0, 0, true
			req, reply = ask(mark, start)
			continue
		}
		if ans.next < mark {
			return errors.New("app: syncing: the member's marks went backwards")
		}
		var nextReq syncRequest
		var next <-chan syncReply
		if ans.more && ans.next != req.mark {
			nextReq, next = ask(ans.next, start)
		}
		if len(ans.events) > 0 {
			got, err := s.Receive(id, ans.events)
			if err != nil {
				return err
			}
			if len(got.Rejected) > 0 {
				s.log.Warn("sync: events refused", "from", peerID, "count", len(got.Rejected), "first", got.Rejected[0])
			}
			if got.Held > 0 || got.Dropped > 0 {
				// The member's log order is causal, so events left waiting mean it holds events
				// it did not send (or the waiting buffer is full): keep the mark, so that the
				// next sync asks again.
				return fmt.Errorf("app: syncing: %d events from %s wait for earlier ones it did not send", got.Held+got.Dropped, shortPeer(peerID))
			}
		}
		mark = ans.next
		if err := s.store.SetSyncMark(id, peerID, mark); err != nil {
			return err
		}
		p.Done, p.Total = mark-start, ans.latest-start
		s.noteSync(p)
		if !ans.more {
			return nil
		}
		if next == nil { // ans.next == req.mark
			return errors.New("app: syncing: the member's answer made no progress")
		}
		req, reply = nextReq, next
	}
}

// network is what Serve was given (nil before).
func (s *Service) network() Network {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.net
}

// syncReply is one sync answer, or why there is none.
type syncReply struct {
	ans syncAnswer
	err error
}

// noteSync records a sync's progress for SyncState and tells subscribers.
func (s *Service) noteSync(p SyncProgress) {
	s.mu.Lock()
	if s.syncs == nil {
		s.syncs = map[community.Hash]map[string]SyncProgress{}
	}
	if s.syncs[p.Community] == nil {
		s.syncs[p.Community] = map[string]SyncProgress{}
	}
	if p.Finished {
		delete(s.syncs[p.Community], p.Peer)
	} else {
		s.syncs[p.Community][p.Peer] = p
	}
	s.mu.Unlock()
	s.Emit(p)
}

// SyncState is how far this install is from having what the members it syncs from have.
type SyncState struct {
	Syncing bool
	Done    uint64 // events of the member logs being synced, received so far
	Total   uint64
}

// String is "synced" or "syncing n/N".
func (st SyncState) String() string {
	if !st.Syncing {
		return "synced"
	}
	return fmt.Sprintf("syncing %d/%d", st.Done, st.Total)
}

// Sync returns the sync state of a community: the sum over the syncs under way that have
// something to fetch (a periodic sync that finds nothing new never shows as "syncing 0/0").
func (s *Service) Sync(id community.Hash) SyncState {
	s.mu.Lock()
	defer s.mu.Unlock()
	var st SyncState
	for _, p := range s.syncs[id] {
		if p.Total > p.Done {
			st.Syncing = true
		}
		st.Done += p.Done
		st.Total += p.Total
	}
	if !st.Syncing {
		return SyncState{}
	}
	return st
}

func shortPeer(id string) string {
	if len(id) > 12 {
		return "…" + id[len(id)-8:]
	}
	return id
}
