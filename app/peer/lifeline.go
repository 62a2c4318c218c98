package peer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/storage"
)

// The lifeline is what `kithd resync` needs when the store is damaged and cannot say it: the
// communities this install belongs to and where their members were last seen. It is a small
// JSON file beside the store (the store cannot keep it: it is what may be lost), rewritten
// atomically when the network saves the address book (every minute and at Close) and when the
// set of communities changes.
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

// writeLifeline saves the lifeline from the store: its communities and its address book. An
// empty store writes nothing (the lifeline of a store that came back empty stays as it was).
func (p *Peer) writeLifeline() error {
	cs, err := p.Svc.Communities()
	if err != nil || len(cs) == 0 {
		return err
	}
	l := lifeline{Version: 1}
	ids := map[string]bool{}
	for _, c := range cs {
		l.Communities = append(l.Communities, lifelineCommunity{ID: c.ID.String(), Name: c.Name})
		ids[c.ID.String()] = true
	}
	// A community the lifeline names that the store lacks was lost with a damaged store (one
	// left stays stored): it stays named, so that a later resync can still bring it back.
	if old, err := readLifeline(p.Dir); err == nil {
		for _, c := range old.Communities {
			if !ids[c.ID] {
				l.Communities = append(l.Communities, c)
				ids[c.ID] = true
			}
		}
	}
	saved, err := p.Store.Peers()
	if err != nil {
		return err
	}
	slices.SortFunc(saved, func(a, b storage.Peer) int { return b.LastSeen.Compare(a.LastSeen) })
	for _, e := range saved {
		m := lifelineMember{PeerID: e.ID, Addrs: e.Addrs, LastSeen: e.LastSeen}
		for _, c := range e.Communities {
			if h := community.Hash(c).String(); ids[h] {
				m.Communities = append(m.Communities, h)
			}
		}
		if len(m.Communities) > 0 && len(m.Addrs) > 0 && len(l.Members) < maxLifelineMembers {
			l.Members = append(l.Members, m)
		}
	}
	b, err := json.MarshalIndent(l, "", " ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(p.Dir, LifelineFile), b)
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
	if err := json.Unmarshal(b, &l); err != nil || l.Version != 1 {
		return l, fmt.Errorf("peer: %s in %s is damaged (%v): join your communities again with an invite", LifelineFile, dir, err)
	}
	return l, nil
}

// writeFileAtomic replaces path with b: a temporary file written and synced, then renamed, so
// that a crash leaves the old file or the new one, never half of one.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(b)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}
