package peer

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/invite"
	"github.com/kith-app/kith/app/peer/probe"
	"github.com/kith-app/kith/p2p"
)

// Joins that wait. A join is kept in the store (settingJoins) from the moment it starts until it
// ends: admitted, refused by the invite's rules, expired, or cancelled. While the network runs,
// a runner tries it again and again, and a restart resumes it: fans paste invites at any hour,
// and the member who can admit them may be asleep.
//
// One attempt: the members the invite names, dialled together; then the local network (peers
// mDNS found) and the rendezvous (the community's key on the DHT, when one is configured), where
// a peer that is not named in the invite is first asked, without naming the community, whether
// it is a member (the probe). Between attempts the runner waits 2 s, then twice as long each
// time up to 10 s (30 s after ten minutes, a minute after an hour), or less when a peer
// appears.

// settingJoins holds the joins under way (JSON []savedJoin).
const settingJoins = "joins/pending"

// ProtoProbe is the membership probe's protocol (see package probe).
const ProtoProbe = "/kith/probe/1"

// Timing of joins.
const (
	joinDialTimeout  = 8 * time.Second  // one dial of a member (through a relay: a few seconds)
	joinSearchAfter  = 3 * time.Second  // the LAN and the rendezvous are searched after this, or once every member named was tried
	joinFirstWait    = 2 * time.Second  // between the first attempts
	joinMaxWait      = 10 * time.Second // between attempts, at most, for the first ten minutes (see joinCeiling)
	joinMaxFound     = 16               // peers found on the LAN or at the rendezvous tried per attempt
	joinSearchBudget = 10 * time.Second // the rendezvous lookups of one attempt
	joinProbeTimeout = 5 * time.Second
)

// savedJoin is a join under way as the store keeps it: what the person pasted and typed, and
// when a member took its request (an invite that needs approval).
type savedJoin struct {
	Invite    string    `json:"invite"`
	Name      string    `json:"name"`
	Answers   []string  `json:"answers,omitempty"`
	Since     time.Time `json:"since"`
	Requested time.Time `json:"requested,omitzero"`
}

// settingDeclined holds the requests to join that were declined (JSON []app.Declined), the
// latest maxDeclined.
const (
	settingDeclined = "joins/declined"
	maxDeclined     = 20
)

// read is the join's invite; nil when the record cannot be read (written by a damaged disk, or
// a Kith that knew other invites).
func (s savedJoin) read() *invite.Invite {
	inv, err := invite.Parse(s.Invite)
	if err != nil {
		return nil
	}
	return inv
}

// PendingJoin is a join under way (app.PendingJoin).
type PendingJoin = app.PendingJoin

// joinRun is one join under way.
type joinRun struct {
	inv       *invite.Invite
	name      string
	answers   []string
	stop      context.CancelFunc
	done      chan struct{} // closed when the join ended (admitted, refused, expired, cancelled)
	wake      chan struct{} // capacity 1: try again now (a peer came online)
	requested chan struct{} // closed once a member took the request (an invite that needs approval)
	asked     sync.Once

	mu    sync.Mutex
	err   error // why it ended; guarded by mu, set before done closes
	state PendingJoin
}

func (r *joinRun) set(f func(*PendingJoin)) {
	r.mu.Lock()
	f(&r.state)
	r.mu.Unlock()
}

// Errors that end a join.
var (
	// ErrJoinCancelled ends a join the person cancelled (app.ErrJoinCancelled).
	ErrJoinCancelled = app.ErrJoinCancelled
	// ErrJoinStopped is what Join returns when Kith stops while a join waits: the join is kept
	// and resumes at the next start.
	ErrJoinStopped = errors.New("peer: Kith stopped while the join was waiting; it goes on at the next start")
)

// Join joins the community of inv: it starts a join (or finds the one under way for that
// community), kept until it ends, and waits until it ends or ctx does. When ctx ends first the
// join goes on while the network runs, and after a restart (PendingJoins lists it; a JoinEnded
// event says how it ended). The network must be started, or be starting: Join waits for the
// first Start to end (within ctx), and says why when it failed.
//
// With an invite that needs approval, answers are the joiner's answers to its questions (checked
// before anything else), and Join returns app.ErrAwaitingApproval once a member took the
// request: the join goes on, asking again now and then, until it is approved (it ends admitted),
// declined (an app.DeclinedError, kept for Declines) or the invite expires.
func (p *Peer) Join(ctx context.Context, inv *invite.Invite, name string, answers ...string) (community.Hash, error) {
	id := community.Hash(inv.Community)
	node := p.Node()
	if node == nil { // the desktop app starts the network in the background: wait for it
		select {
		case <-p.tried:
			node = p.Node()
		case <-ctx.Done():
		}
		p.mu.Lock()
		err := p.startErr
		p.mu.Unlock()
		switch {
		case node == nil && err != nil:
			return id, fmt.Errorf("peer: Kith could not go online (%w): if a listen port is set in the settings, choose another or none, then start Kith again", err)
		case node == nil:
			return id, errNotRunning
		}
	}
	if member, _ := p.Svc.IsMember(id, p.ID.PublicKey()); member {
		return id, fmt.Errorf("you are already a member of %q", inv.CommunityName)
	}
	name, err := app.CleanDisplayName(name)
	if err != nil {
		return id, err
	}
	if answers, err = app.CleanAnswers(&inv.Capability, answers); err != nil {
		return id, err
	}
	r, err := p.startJoin(savedJoin{Invite: inv.String(), Name: name, Answers: answers, Since: time.Now()}, inv, true)
	if err != nil {
		return id, err
	}
	select {
	case <-r.done:
		r.mu.Lock()
		defer r.mu.Unlock()
		return id, r.err
	case <-r.requested:
		return id, fmt.Errorf("%w: your request to join %q was delivered; the owner or a moderator will answer it, and Kith gets you in by itself once it is approved", app.ErrAwaitingApproval, inv.CommunityName)
	case <-ctx.Done():
		return id, ctx.Err()
	}
}

// startJoin starts the runner of a join (save: the person started it now; keep it in the store
// first), or returns the one under way for its community with the same invite. A join started
// now with another invite (a fresh one, say) takes the place of the one under way.
func (p *Peer) startJoin(saved savedJoin, inv *invite.Invite, save bool) (*joinRun, error) {
	id := community.Hash(inv.Community)
	p.mu.Lock()
	if r, ok := p.joins[id]; ok {
		p.mu.Unlock()
		if !save || r.inv.String() == inv.String() {
			return r, nil
		}
		r.stop() // the older invite gives way; its record is replaced below
		<-r.done
		p.mu.Lock()
	}
	ctx, closed := p.ctx, p.closed
	p.mu.Unlock()
	if closed || ctx == nil {
		return nil, errNotRunning
	}
	if save {
		if err := p.saveJoin(saved); err != nil {
			return nil, fmt.Errorf("peer: the join could not be kept (%w): free some disk space and try again", err)
		}
		p.dropDeclined(id) // asked again: the old answer no longer stands
	}
	rctx, stop := context.WithCancel(ctx)
	r := &joinRun{inv: inv, name: saved.Name, answers: saved.Answers, stop: stop, done: make(chan struct{}), wake: make(chan struct{}, 1),
		requested: make(chan struct{})}
	r.state = PendingJoin{Community: id, Name: inv.CommunityName, Since: saved.Since, Stage: app.JoinFinding, Expires: inv.Expires, Requested: saved.Requested}
	p.mu.Lock()
	if other, ok := p.joins[id]; ok { // started meanwhile
		p.mu.Unlock()
		stop()
		return other, nil
	}
	p.joins[id] = r
	p.mu.Unlock()
	if !p.spawn(func() { p.runJoin(rctx, r) }) {
		stop()
		p.forgetRun(r)
		r.mu.Lock()
		r.err = errNotRunning
		r.mu.Unlock()
		close(r.done) // whoever picked r up meanwhile does not wait for ever
		return nil, errNotRunning
	}
	return r, nil
}

// runJoin tries a join until it ends or ctx does (Kith stops: the join is kept for the next
// start).
func (p *Peer) runJoin(ctx context.Context, r *joinRun) {
	id := community.Hash(r.inv.Community)
	wait := joinFirstWait
	began := time.Now()
	afterExpiry := false // a delivered request asks on past the invite's expiry: it may have been approved before
	for {
		if err := expired(r.inv, time.Now()); err != nil {
			r.mu.Lock()
			asked := !r.state.Requested.IsZero()
			r.mu.Unlock()
			if !asked || time.Now().After(r.inv.Expires.Add(askAfterExpiry)) {
				if asked {
					err = expiredRequest(r.inv)
				}
				p.endJoin(r, err)
				return
			}
			afterExpiry = true
		}
		r.set(func(s *PendingJoin) {
			s.Attempts++
			s.NextTry = time.Time{}
			if s.Requested.IsZero() {
				s.Stage = app.JoinFinding
			}
		})
		err := p.attemptJoin(ctx, r)
		member, _ := p.Svc.IsMember(id, p.ID.PublicKey())
		switch {
		case member: // admitted: a sync cut short goes on with the periodic one
			p.endJoin(r, nil)
			return
		case err != nil && app.Refused(err) && (!afterExpiry || isDecline(err)):
			p.endJoin(r, err)
			return
		case ctx.Err() != nil:
			p.stopJoin(r)
			return
		case errors.Is(err, app.ErrAwaitingApproval) && !afterExpiry:
			p.requestTaken(r)
		}
		// Past the expiry, a member's "it waits" or "expired" may come from a log that lacks an
		// approval made in time: ask on, until askAfterExpiry, unless declined or admitted.
		next := time.Now().Add(wait)
		stage := app.JoinWaiting
		r.set(func(s *PendingJoin) {
			if !s.Requested.IsZero() {
				stage = app.JoinApproval
			}
			s.Stage, s.NextTry = stage, next
			if err != nil && !errors.Is(err, app.ErrAwaitingApproval) {
				s.LastError = sentenceOf(err)
			} else if err != nil {
				s.LastError = ""
			}
		})
		p.Svc.Emit(app.JoinProgress{Community: id, Stage: stage, Retry: next})
		p.log.Info("not admitted yet; trying again", "community", id.Short(), "in", wait, "why", sentenceOf(err))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			p.stopJoin(r)
			return
		case <-r.wake:
			t.Stop()
			wait = joinFirstWait // something changed: try soon again
		case <-t.C:
			wait = min(2*wait, joinCeiling(time.Since(began)))
		}
	}
}

// isDecline reports whether a join ended with a decline of its request (final, even past the
// invite's expiry).
func isDecline(err error) bool {
	var d *app.DeclinedError
	return errors.As(err, &d)
}

// askAfterExpiry is how long a join whose request was delivered asks on after the invite
// expired: an approval made before the expiry still lets the joiner in, whenever it comes online.
const askAfterExpiry = 7 * 24 * time.Hour

// expiredRequest is how a join whose request was never approved ends.
func expiredRequest(inv *invite.Invite) error {
	return fmt.Errorf("the invite to %q expired on %s before the owner or a moderator approved your request: ask for a new invite", inv.CommunityName, inv.Expires.Local().Format("2 January 2006 at 15:04"))
}

// requestTaken notes that a member took the join's request (the invite needs approval): kept in
// the store, so that the join says so after a restart, and whoever waits in Join is told.
func (p *Peer) requestTaken(r *joinRun) {
	first := false
	now := time.Now()
	r.set(func(s *PendingJoin) {
		if s.Requested.IsZero() {
			s.Requested, first = now, true
		}
	})
	r.asked.Do(func() { close(r.requested) })
	if !first {
		return
	}
	for _, s := range p.savedJoins() {
		if inv := s.read(); inv != nil && inv.Community == r.inv.Community {
			s.Requested = now
			if err := p.saveJoin(s); err != nil {
				p.log.Warn("keeping that the request was delivered", "err", err)
			}
		}
	}
	p.log.Info("the request to join was delivered; it waits for approval", "community", community.Hash(r.inv.Community).Short())
}

// joinCeiling is the longest wait between attempts of a join that has waited this long: a join
// that waits for days tries a few times a minute at first, then once a minute.
func joinCeiling(waited time.Duration) time.Duration {
	switch {
	case waited < 10*time.Minute:
		return joinMaxWait
	case waited < time.Hour:
		return 30 * time.Second
	}
	return time.Minute
}

// expired says why an invite can no longer be used by now, or nil.
func expired(inv *invite.Invite, now time.Time) error {
	if !inv.Expires.IsZero() && now.After(inv.Expires.Add(invite.ClockSkew)) {
		return fmt.Errorf("the invite to %q expired on %s while Kith was waiting for a member to come online: ask for a new one", inv.CommunityName, inv.Expires.Local().Format("2 January 2006 at 15:04"))
	}
	return nil
}

// endJoin ends a join: it is forgotten by the store, waiters learn how it ended, and so do the
// views (JoinEnded).
func (p *Peer) endJoin(r *joinRun, err error) {
	id := community.Hash(r.inv.Community)
	if err == nil {
		p.admitted(id)
	}
	var declined *app.DeclinedError
	if errors.As(err, &declined) {
		p.keepDeclined(app.Declined{Community: id, Name: r.inv.CommunityName, Reason: declined.Reason, At: declined.At})
	}
	if derr := p.dropJoin(id); derr != nil {
		p.log.Warn("a finished join could not be forgotten: it will be tried again at the next start", "community", id.Short(), "err", derr)
	}
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
	p.forgetRun(r)
	close(r.done)
	r.stop()
	if err == nil {
		p.log.Info("joined", "community", id.Short(), "name", r.inv.CommunityName)
	} else {
		p.log.Info("the join ended", "community", id.Short(), "why", sentenceOf(err))
	}
	p.Svc.Emit(app.JoinEnded{Community: id, Name: r.inv.CommunityName, Err: err})
}

// forgetRun takes r out of the joins under way, unless another run took its place.
func (p *Peer) forgetRun(r *joinRun) {
	id := community.Hash(r.inv.Community)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.joins[id] == r {
		delete(p.joins, id)
	}
}

// admitted follows a join that got in: the community's gossip is joined before the joiner hears
// of it (so what it writes next is published), and the members it is connected to (its admitter
// at least) are remembered and asked for the others' addresses.
func (p *Peer) admitted(id community.Hash) {
	if g := p.gossipOf(); g != nil {
		if err := g.Add(id); err != nil {
			p.log.Warn("joining the community's gossip", "community", id.Short(), "err", err)
		}
	}
	node, ctx := p.Node(), p.loopCtx()
	if node == nil || ctx == nil {
		return
	}
	for _, pi := range node.Peers() {
		if member, _ := p.Svc.IsMember(id, pi.Key); member {
			p.remember(pi.ID, node.AddrsOf(pi.ID), []community.Hash{id}, true)
			p.spawn(func() { p.exchangeAddrs(ctx, pi.ID, []community.Hash{id}) })
		}
	}
}

// stopJoin ends a join's runner when Kith stops: the join stays in the store.
func (p *Peer) stopJoin(r *joinRun) {
	p.forgetRun(r)
	r.mu.Lock()
	r.err = ErrJoinStopped
	r.mu.Unlock()
	close(r.done)
}

// CancelJoin ends the join under way for community id (or kept from an earlier run); false
// when there is none, or it ended on its own meanwhile.
func (p *Peer) CancelJoin(id community.Hash) bool {
	p.mu.Lock()
	r, ok := p.joins[id]
	p.mu.Unlock()
	if ok {
		r.stop() // its runner sees ctx end...
		<-r.done
		r.mu.Lock()
		stopped := errors.Is(r.err, ErrJoinStopped)
		r.mu.Unlock()
		if !stopped {
			return false // it ended on its own meanwhile (admitted, refused, expired): JoinEnded said so
		}
	}
	name := ""
	for _, s := range p.savedJoins() {
		if inv := s.read(); inv != nil && community.Hash(inv.Community) == id {
			name = inv.CommunityName
		}
	}
	if name == "" {
		return ok // nothing kept (ok: a run whose record another run had replaced)
	}
	_ = p.dropJoin(id) // ...and stopJoin kept it: forget it now
	p.Svc.Emit(app.JoinEnded{Community: id, Name: name, Err: ErrJoinCancelled})
	return true
}

// PendingJoins lists the joins under way, the oldest first; kept joins that no runner tries
// (Kith is not online) are listed too.
func (p *Peer) PendingJoins() []PendingJoin {
	p.mu.Lock()
	out := make([]PendingJoin, 0, len(p.joins))
	running := map[community.Hash]bool{}
	for id, r := range p.joins {
		r.mu.Lock()
		out = append(out, r.state)
		r.mu.Unlock()
		running[id] = true
	}
	p.mu.Unlock()
	for _, s := range p.savedJoins() {
		inv := s.read()
		if inv == nil || running[community.Hash(inv.Community)] {
			continue
		}
		stage := app.JoinWaiting
		if !s.Requested.IsZero() {
			stage = app.JoinApproval
		}
		out = append(out, PendingJoin{Community: community.Hash(inv.Community), Name: inv.CommunityName, Since: s.Since, Stage: stage, Expires: inv.Expires, Requested: s.Requested})
	}
	slices.SortFunc(out, func(a, b PendingJoin) int { return a.Since.Compare(b.Since) })
	return out
}

// resumeJoins starts a runner for every join kept from an earlier run (Start calls it).
func (p *Peer) resumeJoins() {
	for _, s := range p.savedJoins() {
		inv := s.read()
		if inv == nil {
			p.log.Warn("a kept join cannot be read; it is left out")
			continue
		}
		id := community.Hash(inv.Community)
		if member, _ := p.Svc.IsMember(id, p.ID.PublicKey()); member {
			_ = p.dropJoin(id)
			continue
		}
		if _, err := p.startJoin(s, inv, false); err != nil {
			p.log.Warn("a kept join could not resume", "community", id.Short(), "err", err)
		} else {
			p.log.Info("resuming a join", "community", id.Short(), "name", inv.CommunityName, "since", s.Since)
		}
	}
}

// wakeJoins makes waiting joins try again now (a peer connected, one was found on the LAN).
func (p *Peer) wakeJoins() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.joins {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// Declines lists the requests to join that were declined, the latest first.
func (p *Peer) Declines() []app.Declined {
	var out []app.Declined
	if b, err := p.Store.Setting(settingDeclined); err == nil {
		if err := json.Unmarshal(b, &out); err != nil {
			p.log.Warn("the kept declines are damaged; starting without them", "err", err)
			return nil
		}
	}
	slices.SortFunc(out, func(a, b app.Declined) int { return b.At.Compare(a.At) })
	return out
}

// keepDeclined keeps a declined request (replacing one kept for the same community).
func (p *Peer) keepDeclined(d app.Declined) {
	p.joinsMu.Lock()
	defer p.joinsMu.Unlock()
	kept := slices.DeleteFunc(p.Declines(), func(o app.Declined) bool { return o.Community == d.Community })
	kept = append([]app.Declined{d}, kept...)
	b, _ := json.Marshal(kept[:min(len(kept), maxDeclined)])
	if err := p.Store.SetSetting(settingDeclined, b); err != nil {
		p.log.Warn("keeping a declined request", "err", err)
	}
}

// dropDeclined forgets the decline kept for community id (a new request, or admitted).
func (p *Peer) dropDeclined(id community.Hash) {
	p.joinsMu.Lock()
	defer p.joinsMu.Unlock()
	kept := p.Declines()
	n := len(kept)
	kept = slices.DeleteFunc(kept, func(o app.Declined) bool { return o.Community == id })
	if len(kept) == n {
		return
	}
	b, _ := json.Marshal(kept)
	if err := p.Store.SetSetting(settingDeclined, b); err != nil {
		p.log.Warn("forgetting a declined request", "err", err)
	}
}

// savedJoins reads the joins kept in the store.
func (p *Peer) savedJoins() []savedJoin {
	var out []savedJoin
	if b, err := p.Store.Setting(settingJoins); err == nil {
		if err := json.Unmarshal(b, &out); err != nil {
			p.log.Warn("the kept joins are damaged; starting without them", "err", err)
			return nil
		}
	}
	return out
}

// saveJoin keeps a join (replacing the one kept for the same community).
func (p *Peer) saveJoin(s savedJoin) error {
	inv := s.read()
	if inv == nil {
		return errors.New("peer: the invite of a join to keep does not read")
	}
	p.joinsMu.Lock()
	defer p.joinsMu.Unlock()
	kept := slices.DeleteFunc(p.savedJoins(), func(o savedJoin) bool {
		other := o.read()
		return other == nil || other.Community == inv.Community
	})
	b, _ := json.Marshal(append(kept, s))
	return p.Store.SetSetting(settingJoins, b)
}

// dropJoin forgets the kept join of community id.
func (p *Peer) dropJoin(id community.Hash) error {
	p.joinsMu.Lock()
	defer p.joinsMu.Unlock()
	kept := p.savedJoins()
	n := len(kept)
	kept = slices.DeleteFunc(kept, func(o savedJoin) bool {
		inv := o.read()
		return inv == nil || community.Hash(inv.Community) == id
	})
	if len(kept) == n {
		return nil
	}
	if kept == nil {
		kept = []savedJoin{}
	}
	b, _ := json.Marshal(kept)
	return p.Store.SetSetting(settingJoins, b)
}

// attemptJoin is one attempt of a join: the members the invite names, dialled together, and,
// once they were all tried or joinSearchAfter passed, the LAN and the rendezvous; whoever
// answers first is asked to admit, one at a time. Nil when admitted; else the error is a named
// member's refusal (app.Refused), or says in words where Kith looked.
func (p *Peer) attemptJoin(ctx context.Context, r *joinRun) error {
	id := community.Hash(r.inv.Community)
	node := p.Node()
	if node == nil {
		return errNotRunning
	}
	ctx, cancel := context.WithCancel(ctx) // ends the dials and the search when this returns
	defer cancel()
	cands := app.Candidates(r.inv, PeerID)
	named := map[string]bool{}
	for _, c := range cands {
		named[c.PeerID] = true
	}
	type answer struct {
		peerID string
		via    app.JoinVia
	}
	answers := make(chan answer, 64)
	offer := func(a answer) {
		select {
		case answers <- a:
		case <-ctx.Done():
		}
	}
	var producers, dials sync.WaitGroup
	var answeredAny atomic.Bool

	// The members the invite names.
	p.Svc.Emit(app.JoinProgress{Community: id, Stage: app.JoinFinding, Of: len(cands), Via: app.ViaInvite})
	for _, c := range cands {
		producers.Add(1)
		dials.Add(1)
		go func() {
			defer producers.Done()
			defer dials.Done()
			dctx, cancel := context.WithTimeout(ctx, joinDialTimeout)
			defer cancel()
			_, before := node.PathTo(c.PeerID) // connected already (another community shared)
			if err := node.Dial(dctx, c.PeerID, c.Addrs); err != nil {
				p.log.Debug("join: a member the invite names did not answer", "peer", c.PeerID, "err", err)
				return
			}
			if !before && !reachedAt(node, c) {
				return // at an address the search found (the dials of one peer are shared): it offers it
			}
			answeredAny.Store(true)
			offer(answer{c.PeerID, app.ViaInvite})
		}()
	}
	dialled := make(chan struct{})
	go func() { dials.Wait(); close(dialled) }()

	// The LAN and the rendezvous, once the named members had their time, or sooner when none
	// of them answered.
	var lan, dht int
	var dhtErr error
	producers.Add(1)
	go func() {
		defer producers.Done()
		select {
		case <-dialled:
			if answeredAny.Load() {
				select { // a named member answered: it is being asked
				case <-time.After(joinSearchAfter):
				case <-ctx.Done():
					return
				}
			}
		case <-time.After(joinSearchAfter):
		case <-ctx.Done():
			return
		}
		r.set(func(s *PendingJoin) { s.Stage = app.JoinSearching })
		where := app.ViaLAN
		if node.HasDHT() {
			where = app.ViaRendezvous
		}
		p.Svc.Emit(app.JoinProgress{Community: id, Stage: app.JoinSearching, Via: where})
		var found []candidate
		found, dhtErr = p.discover(ctx, r.inv, cands)
		found = found[:min(len(found), 2*joinMaxFound)]
		var probes sync.WaitGroup
		for _, f := range found {
			if f.ID == node.ID() {
				continue
			}
			if f.via == app.ViaLAN {
				lan++
			} else {
				dht++
			}
			probes.Add(1)
			go func() {
				defer probes.Done()
				dctx, cancel := context.WithTimeout(ctx, joinDialTimeout)
				err := node.Dial(dctx, f.ID, f.Addrs)
				cancel()
				if err != nil {
					p.log.Debug("join: a peer found did not answer", "peer", f.ID, "via", f.via, "err", err)
					return
				}
				if !named[f.ID] && !p.probe(ctx, node, f.ID, id) {
					return // not a member of this community: it never sees the invite
				}
				offer(answer{f.ID, f.via})
			}()
		}
		probes.Wait()
	}()
	go func() { producers.Wait(); close(answers) }()

	tried := map[string]bool{}
	var said error     // a "not now", or an unnamed peer's refusal: why no member admitted
	skipFound := false // an unnamed peer said the request waits: the others found are not asked
	for a := range answers {
		if tried[a.peerID] || (skipFound && !named[a.peerID]) {
			continue
		}
		tried[a.peerID] = true
		_, err := p.Svc.JoinThrough(ctx, node, a.peerID, r.inv, r.name, a.via, r.answers...)
		if member, _ := p.Svc.IsMember(id, p.ID.PublicKey()); member {
			return nil
		}
		switch {
		case err == nil:
			return nil
		case errors.Is(err, app.ErrAwaitingApproval) && named[a.peerID]:
			return err // a member the invite names took the request (or has it): nobody else need be asked now
		case errors.Is(err, app.ErrAwaitingApproval):
			// A peer found on the LAN or at the rendezvous knows the community's ID, which is no
			// proof of membership: its word that the request waits is not taken (the join keeps
			// asking; a member the invite names confirms it), and the other peers found are not
			// asked in this attempt (a real member lacking the request would write another).
			said = fmt.Errorf("a peer found %s says your request waits for approval; Kith asks a member the invite names to confirm it", where(a.via))
			skipFound = true
		case app.Refused(err) && named[a.peerID]:
			return err // a member the invite names speaks for the community: final
		case app.Refused(err):
			// A peer found on the LAN or at the rendezvous knows the community's ID, which is no
			// proof of membership (a former member, anyone with an old invite): its "no" does not
			// end the join, and what it says is shown as its own.
			why := sentenceOf(err)
			if rf := (*p2p.RefusedError)(nil); errors.As(err, &rf) {
				why = rf.Reason // its words, not our wrapping
			}
			said = fmt.Errorf("a peer found %s refused (%s)", where(a.via), why)
		default:
			var u interface{ Unavailable() bool }
			if errors.As(err, &u) {
				said = err // the member answered "not now", in words
			}
		}
		p.log.Debug("join: a member did not admit", "peer", a.peerID, "via", a.via, "err", err)
	}
	// answers is closed: every producer has ended, so lan, dht and dhtErr are theirs no more.
	why := nobody(len(cands), lan, dht, dhtErr, node.HasDHT())
	if said != nil {
		why = sentenceOf(said)
	}
	return fmt.Errorf("%w: %s", app.ErrNoMemberReachable, why)
}

// where says how a peer was found, for a sentence.
func where(via app.JoinVia) string {
	switch via {
	case app.ViaLAN:
		return "on this network"
	case app.ViaRendezvous:
		return "at the rendezvous"
	}
	return "through the invite"
}

// reachedAt reports whether the connection to a candidate goes to one of the addresses the
// invite gives for it.
func reachedAt(node *p2p.Node, c app.Candidate) bool {
	for _, pi := range node.Peers() {
		if pi.ID != c.PeerID {
			continue
		}
		for _, a := range c.Addrs {
			if strings.TrimSuffix(a, "/p2p/"+c.PeerID) == pi.Addr {
				return true
			}
		}
	}
	return false
}

// nobody says where a join attempt looked and found no member, in words.
func nobody(named, lan, dht int, dhtErr error, haveDHT bool) string {
	var parts []string
	switch named {
	case 0:
		parts = append(parts, "the invite names no member")
	case 1:
		parts = append(parts, "the member the invite names did not answer")
	default:
		parts = append(parts, fmt.Sprintf("none of the %d members the invite names answered", named))
	}
	if lan == 0 {
		parts = append(parts, "no member is on this network")
	}
	switch {
	case !haveDHT || errors.Is(dhtErr, p2p.ErrNoDHT):
	case dhtErr != nil:
		parts = append(parts, "the rendezvous (DHT) does not answer")
	case dht == 0:
		parts = append(parts, "no member is announced at the rendezvous")
	}
	return strings.Join(parts, ", ")
}

// candidate is a peer a join may try, found on the LAN or the rendezvous.
type candidate struct {
	p2p.Found
	via app.JoinVia
}

// discover looks for members of the community of inv beyond the invite's addresses: the peers
// mDNS found on the LAN, those announced under the community's rendezvous key, and the invite's
// members by peer ID on the DHT. The error is the DHT's (p2p.ErrNoDHT without one).
func (p *Peer) discover(ctx context.Context, inv *invite.Invite, named []app.Candidate) ([]candidate, error) {
	node := p.Node()
	var out []candidate
	for _, f := range node.LANPeers() {
		out = append(out, candidate{f, app.ViaLAN})
	}
	dctx, cancel := context.WithTimeout(ctx, joinSearchBudget)
	defer cancel()
	providers, err := node.FindProviders(dctx, rendezvous(community.Hash(inv.Community)), 20)
	for _, f := range providers {
		out = append(out, candidate{f, app.ViaRendezvous})
	}
	if err == nil {
		for _, c := range named {
			if _, connected := node.PathTo(c.PeerID); connected {
				continue
			}
			if f, err := node.FindPeer(dctx, c.PeerID); err == nil && len(f.Addrs) > 0 {
				out = append(out, candidate{f, app.ViaRendezvous})
			}
		}
	}
	return out, err
}

// rendezvous is a community's rendezvous key on the DHT: members announce themselves under it,
// and whoever knows the community ID (members and invite holders) can look it up. The key
// reveals neither the ID nor anything else about the community.
func rendezvous(id community.Hash) [32]byte {
	return sha256.Sum256(append([]byte("kith rendezvous v1\x00"), id[:]...))
}

// probe asks a peer whether it is a member of community id, without naming it (see package
// probe); true only with a proof that it knows the community.
func (p *Peer) probe(ctx context.Context, node *p2p.Node, peerID string, id community.Hash) bool {
	key, err := node.KeyOf(peerID)
	if err != nil {
		return false
	}
	var req probe.Request
	if _, err := rand.Read(req.Nonce[:]); err != nil {
		return false
	}
	req.Tag = probe.Tag(id, req.Nonce, key)
	pctx, cancel := context.WithTimeout(ctx, joinProbeTimeout)
	defer cancel()
	b, err := node.Request(pctx, peerID, ProtoProbe, req.Encode(), probe.AnswerSize)
	if err != nil {
		p.log.Debug("probe: no answer (not a member)", "peer", peerID, "err", err)
		return false
	}
	proof, err := probe.DecodeAnswer(b)
	return err == nil && probe.Equal(proof, probe.Proof(id, req.Nonce, p.ID.PublicKey()))
}

// serveProbe answers a probe: the proof when this install is an active member of the community
// the tag names; to anyone else the stream is reset, as to an outsider.
func (p *Peer) serveProbe(_ context.Context, from ed25519.PublicKey, b []byte) ([]byte, error) {
	req, err := probe.DecodeRequest(b)
	if err != nil {
		return nil, app.ErrOutsider
	}
	cs, err := p.Svc.Communities()
	if err != nil {
		return nil, app.ErrOutsider
	}
	me := p.ID.PublicKey()
	for _, c := range cs {
		if !probe.Equal(req.Tag, probe.Tag(c.ID, req.Nonce, me)) {
			continue
		}
		if member, _ := p.Svc.IsMember(c.ID, me); member {
			return probe.EncodeAnswer(probe.Proof(c.ID, req.Nonce, from)), nil
		}
	}
	return nil, app.ErrOutsider
}

// sentenceOf is an error as one sentence for a person: without the package prefixes of the
// layers it went through.
func sentenceOf(err error) string { return app.Sentence(err) }
