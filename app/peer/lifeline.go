package peer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/storage"
)

// The lifeline is what `kithd resync` needs when the store is damaged and cannot say it: the
// communities this install belongs to and where their members were last seen. It is a small
// JSON file beside the store (the store cannot keep it: it is what may be lost), rewritten
// atomically when the network saves the address book (every minute and at Close) and when the
// set of communities changes, if it changed (last-seen times are kept to the hour).
//
//	{"version":1,"communities":[{"id":"…","name":"…"}],
//	 "members":[{"peer_id":"12D3…","addrs":["/ip4/…/p2p/12D3…"],"communities":["…"],"last_seen":"…"}]}

// LifelineFile is the lifeline's file name in the data folder.
const LifelineFile = "lifeline.json"

// maxLifelineMembers bounds the members the lifeline keeps: the most recently seen.
const maxLifelineMembers = 64

type lifeline struct {
	Version     int                 `json:"version"`
	Communities []lifelineCommunity `json:"communities"`
	Members     []lifelineMember    `json:"members"`
}

type lifelineCommunity struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type lifelineMember struct {
	PeerID      string    `json:"peer_id"`
	Addrs       []string  `json:"addrs"`
	Communities []string  `json:"communities"`
	LastSeen    time.Time `json:"last_seen,omitzero"`
}

// ErrNoLifeline is Resync's answer for a folder with no lifeline: an older Kith made it, or it
// never belonged to a community.
var ErrNoLifeline = errors.New("peer: this data folder does not say which communities it belonged to")

// forgetLifeline takes a forgotten community out of the lifeline: a resync must not bring back
// what the person chose to forget.
func (p *Peer) forgetLifeline(id community.Hash) {
	p.mu.Lock()
	delete(p.lifelined, id)
	p.mu.Unlock()
	if err := p.writeLifeline(id); err != nil {
		p.log.Warn("the lifeline (what `kithd resync` needs) could not be saved", "err", err)
	}
}

// writeLifeline saves the lifeline from the store: its communities and its address book, and
// those it named before that the store lost (a damaged store), but not those forgotten. An empty
// store writes nothing unless a community was just forgotten (the lifeline of a store that came
// back empty stays as it was).
func (p *Peer) writeLifeline(forgotten ...community.Hash) error {
	cs, err := p.Svc.Communities()
	if err != nil || (len(cs) == 0 && len(forgotten) == 0) {
		return err
	}
	path := filepath.Join(p.Dir, LifelineFile)
	was, _ := os.ReadFile(path)
	l, err := p.buildLifeline(cs, was, forgotten...)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(l, "", " ")
	if err != nil {
		return err
	}
	if bytes.Equal(was, b) {
		return nil // unchanged: no write and no fsync each time the address book is saved
	}
	return storage.WriteFileAtomic(path, b)
}

// buildLifeline is the lifeline of the store's communities cs and its address book, with the
// communities the lifeline was (its bytes) names that the store lacks, but not those forgotten.
func (p *Peer) buildLifeline(cs []app.Summary, was []byte, forgotten ...community.Hash) (lifeline, error) {
	l := lifeline{Version: 1, Communities: []lifelineCommunity{}, Members: []lifelineMember{}}
	ids := map[string]bool{}
	for _, c := range cs {
		l.Communities = append(l.Communities, lifelineCommunity{ID: c.ID.String(), Name: c.Name})
		ids[c.ID.String()] = true
	}
	// A community the lifeline names that the store lacks was lost with a damaged store (one
	// left stays stored): it stays named, so that a later resync can still bring it back.
	if old, err := decodeLifeline(was); err == nil {
		for _, c := range old.Communities {
			if !ids[c.ID] && !slices.ContainsFunc(forgotten, func(f community.Hash) bool { return f.String() == c.ID }) {
				l.Communities = append(l.Communities, c)
				ids[c.ID] = true
			}
		}
	}
	saved, err := p.Store.Peers()
	if err != nil {
		return l, err
	}
	slices.SortFunc(saved, func(a, b storage.Peer) int { return b.LastSeen.Compare(a.LastSeen) })
	for _, e := range saved {
		// To the hour: enough to try the most recent first, and the file changes hourly at most.
		m := lifelineMember{PeerID: e.ID, Addrs: e.Addrs, LastSeen: e.LastSeen.Truncate(time.Hour)}
		for _, c := range e.Communities {
			if h := community.Hash(c).String(); ids[h] {
				m.Communities = append(m.Communities, h)
			}
		}
		if len(m.Communities) > 0 && len(m.Addrs) > 0 && len(l.Members) < maxLifelineMembers {
			l.Members = append(l.Members, m)
		}
	}
	return l, nil
}

// lifelineWith writes the lifeline when it does not list community id yet (a community created
// or joined): not only at the next save of the address book, which a crash could prevent.
func (p *Peer) lifelineWith(id community.Hash) {
	p.mu.Lock()
	done := p.lifelined[id]
	if p.lifelined == nil {
		p.lifelined = map[community.Hash]bool{}
	}
	p.lifelined[id] = true
	p.mu.Unlock()
	if done {
		return
	}
	if err := p.writeLifeline(); err != nil {
		p.log.Warn("the lifeline (what `kithd resync` needs) could not be saved", "err", err)
	}
}

// readLifeline reads the lifeline of data folder dir.
func readLifeline(dir string) (lifeline, error) {
	var l lifeline
	b, err := os.ReadFile(filepath.Join(dir, LifelineFile))
	if errors.Is(err, fs.ErrNotExist) {
		return l, ErrNoLifeline
	}
	if err != nil {
		return l, fmt.Errorf("peer: reading %s: %w", LifelineFile, err)
	}
	if l, err = decodeLifeline(b); err != nil {
		return l, fmt.Errorf("peer: %s in %s is damaged (%v): join your communities again with an invite", LifelineFile, dir, err)
	}
	return l, nil
}

// decodeLifeline reads a lifeline's bytes.
func decodeLifeline(b []byte) (lifeline, error) {
	var l lifeline
	if err := json.Unmarshal(b, &l); err != nil {
		return l, err
	}
	if l.Version != 1 {
		return l, fmt.Errorf("version %d (update Kith)", l.Version)
	}
	return l, nil
}

// lifelineLoop brings back the communities the lifeline names that the store lacks (a backup
// restored with `kithd restore --offline` or while no member was online, or a resync cut
// short), every SyncEvery, each community less often while none of its members answers (from
// SyncEvery, doubling, to an hour), until ctx ends. It runs on its own: dials that wait for
// members gone do not hold up the sync loop.
func (p *Peer) lifelineLoop(ctx context.Context) {
	defer p.loops.Done()
	every := p.opts.SyncEvery
	if every <= 0 {
		every = time.Minute
	}
	b := lifelineBackoff{next: map[string]time.Time{}, wait: map[string]time.Duration{}, first: every}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		p.syncLifeline(ctx, &b)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// lifelineBackoff is when lifelineLoop tries each missing community again.
type lifelineBackoff struct {
	next  map[string]time.Time
	wait  map[string]time.Duration
	first time.Duration
}

// maxLifelineWait is the longest lifelineLoop waits between tries of a community.
const maxLifelineWait = time.Hour

// syncLifeline tries each missing community that is due: the members the lifeline names in it
// are dialled at once (those connected already are not), then synced from until one answers.
func (p *Peer) syncLifeline(ctx context.Context, b *lifelineBackoff) {
	node := p.Node()
	l, err := readLifeline(p.Dir)
	if node == nil || err != nil {
		return
	}
	cs, err := p.Svc.Communities()
	if err != nil {
		return
	}
	held := map[string]bool{}
	for _, c := range cs {
		held[c.ID.String()] = true
	}
	now := time.Now()
	for _, c := range l.Communities {
		id, err := community.ParseHash(c.ID)
		if err != nil || held[c.ID] || now.Before(b.next[c.ID]) {
			continue
		}
		if p.bringBack(ctx, l, c, id) {
			delete(b.next, c.ID)
			delete(b.wait, c.ID)
			continue
		}
		if ctx.Err() != nil {
			return
		}
		w := min(max(2*b.wait[c.ID], b.first), maxLifelineWait)
		b.wait[c.ID], b.next[c.ID] = w, time.Now().Add(w)
		p.log.Info("a community this install belongs to is not back yet: none of its members answered", "community", c.Name, "next_try", w)
	}
}

// bringBack syncs a community the store lacks from the members the lifeline names in it.
func (p *Peer) bringBack(ctx context.Context, l lifeline, c lifelineCommunity, id community.Hash) bool {
	node := p.Node()
	if node == nil {
		return false
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var reached []string
	for _, m := range l.Members {
		if m.PeerID == node.ID() || !slices.Contains(m.Communities, c.ID) {
			continue
		}
		if _, ok := node.PathTo(m.PeerID); ok {
			reached = append(reached, m.PeerID)
			continue
		}
		wg.Add(1)
		go func(m lifelineMember) {
			defer wg.Done()
			dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			if err := node.Dial(dctx, m.PeerID, m.fullAddrs()); err != nil {
				p.log.Debug("dial a member of a community to bring back", "peer", m.PeerID, "err", err)
				return
			}
			mu.Lock()
			reached = append(reached, m.PeerID)
			mu.Unlock()
		}(m)
	}
	wg.Wait()
	for _, peerID := range reached {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err := p.Svc.SyncFrom(sctx, node, peerID, id)
		cancel()
		if n := p.storedEvents(id); err == nil && n > 0 {
			p.log.Info("a community of the lifeline is back", "community", c.Name, "from", peerID, "events", n)
			return true
		}
		p.log.Info("a community of the lifeline could not be synced", "community", c.Name, "from", peerID, "err", err)
	}
	return false
}
