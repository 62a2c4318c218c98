package peer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/localstore"
	"github.com/kith-app/kith/storage"
)

// ResyncResult says what Resync did.
type ResyncResult struct {
	// SetAside is the folder the damaged database moved to; empty when the store opened and
	// was filled in place.
	SetAside    string
	Communities []ResyncedCommunity
}

// ResyncedCommunity is one community of a resync.
type ResyncedCommunity struct {
	ID     community.Hash
	Name   string
	From   []string // the members it synced from (peer IDs)
	Events int      // events stored for it afterwards
	Err    error    // why no member was reached (nil when one was)
}

// Resync rebuilds the store of data folder dir from other members, keeping its identity: when
// the store does not open (storage.ErrDamaged) it moves aside (storage.SetAside: nothing is
// deleted), a new one starts empty, and every community the lifeline lists syncs from the
// members it names, each for at most perMember. A store that opens, or that holds less than it
// did (storage.Options.AcceptLoss), is filled in place, every member asked for everything. The
// network starts with opts (no control socket: nothing else may use the folder meanwhile);
// progress gets a sentence per step, when not nil. It fails with ErrNoLifeline when the folder
// does not say which communities it belonged to, and with storage.ErrAlreadyRunning when Kith
// runs on the folder.
func Resync(ctx context.Context, dir string, opts Options, perMember time.Duration, progress func(string)) (ResyncResult, error) {
	say := func(format string, a ...any) {
		if progress != nil {
			progress(fmt.Sprintf(format, a...))
		}
	}
	var res ResyncResult
	l, err := readLifeline(dir)
	if err != nil {
		if errors.Is(err, ErrNoLifeline) {
			return res, fmt.Errorf("%w: join your communities again with an invite (this identity is kept, so a member who knows it can admit it again only if it was not removed)", err)
		}
		return res, err
	}
	opts.NoControl, opts.AcceptLoss = true, true
	p, err := Open(dir, opts)
	if errors.Is(err, storage.ErrDamaged) {
		aside, aerr := storage.SetAside(dir)
		if aerr != nil {
			return res, fmt.Errorf("peer: the damaged store could not be moved aside: %w", aerr)
		}
		res.SetAside = aside
		say("the damaged store is kept in %s; starting an empty one (your identity stays)", aside)
		p, err = Open(dir, opts)
	}
	if err != nil {
		return res, err
	}
	defer p.Close()
	if err := p.Start(ctx); err != nil {
		return res, err
	}
	node := p.Node()
	members := slices.Clone(l.Members)
	slices.SortStableFunc(members, func(a, b lifelineMember) int { return b.LastSeen.Compare(a.LastSeen) })
	for _, m := range members {
		full := m.fullAddrs()
		_ = node.AddAddrs(full...)
		var cs []community.Hash
		for _, c := range m.Communities {
			if id, err := community.ParseHash(c); err == nil {
				cs = append(cs, id)
			}
		}
		p.remember(m.PeerID, full, cs, false) // the new store's address book, for invites and later syncs
	}
	for _, c := range l.Communities {
		id, err := community.ParseHash(c.ID)
		if err != nil {
			continue
		}
		rc := ResyncedCommunity{ID: id, Name: c.Name}
		for _, m := range members {
			if m.PeerID == node.ID() || !slices.Contains(m.Communities, c.ID) {
				continue
			}
			// A store that lost part of what it held still has its sync marks: ask each member
			// for everything again (what is here already is counted as known).
			if err := (localstore.Store{S: p.Store}).SetSyncMark(id, m.PeerID, 0); err != nil {
				return res, err
			}
			say("%s: syncing from %s…", c.Name, shortID(m.PeerID))
			sctx, cancel := context.WithTimeout(ctx, perMember)
			err := p.Svc.SyncFrom(sctx, node, m.PeerID, id)
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return res, ctx.Err()
				}
				rc.Err = err
				continue
			}
			rc.From = append(rc.From, m.PeerID)
		}
		if len(rc.From) > 0 {
			rc.Err = nil
			rc.Events = p.storedEvents(id)
		} else if rc.Err == nil {
			rc.Err = errors.New("the lifeline names no member of it")
		}
		res.Communities = append(res.Communities, rc)
	}
	return res, nil
}

// Summary says what a resync brought back, a line per community, and an error naming the
// communities no member of which could be reached (nil when every one came back).
func (r ResyncResult) Summary() (string, error) {
	var lines, missed []string
	for _, c := range r.Communities {
		if c.Err != nil {
			missed = append(missed, fmt.Sprintf("%q (%s)", c.Name, app.Sentence(c.Err)))
			lines = append(lines, c.Name+": no member could be reached")
			continue
		}
		lines = append(lines, fmt.Sprintf("%s: %d events back, from %s", c.Name, c.Events, plural(len(c.From), "member", "members")))
	}
	summary := strings.Join(lines, "\n")
	if len(missed) > 0 {
		return summary, fmt.Errorf("no member of %s could be reached: try again when one is online (what came is kept)", strings.Join(missed, ", "))
	}
	return summary, nil
}

// storedEvents counts the events stored for a community.
func (p *Peer) storedEvents(id community.Hash) int {
	n := 0
	_ = p.Store.Since(storage.CommunityID(id), 0, 0, func(uint64, storage.Event) error { n++; return nil })
	return n
}

// fullAddrs are the member's addresses that end in its peer ID (what a dial needs).
func (m lifelineMember) fullAddrs() []string {
	var full []string
	for _, a := range m.Addrs {
		if strings.HasSuffix(a, "/p2p/"+m.PeerID) {
			full = append(full, a)
		}
	}
	return full
}

func shortID(peerID string) string {
	if len(peerID) > 16 {
		return "…" + peerID[len(peerID)-8:]
	}
	return peerID
}
