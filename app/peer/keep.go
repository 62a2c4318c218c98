package peer

// Keeping every file: in a community whose owner asks members to keep them all, this install
// fetches the files it lacks in the background, within its disk budget.

import (
	"context"
	"errors"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// Timing of the keeper.
const (
	keepQuiet = time.Second     // after a change, before the communities it names are looked through
	keepRetry = 2 * time.Minute // between looks at communities whose files nobody online held
	// keepBackoff is how long a file nobody online held waits before it is asked for again, the
	// first time (a member coming online sooner does not hurry it).
	keepBackoff = 10 * time.Second
)

// keepLoop fetches, for each community whose owner asks members to keep every file, the files
// this device lacks: a new message's as it comes, and the rest after a start, a change of the
// community (its settings, this device's budget), a member coming online, or every keepRetry
// while some wait. One file at a time, newest first; a file no member online holds waits; the
// disk budget stops the community's fetching, said in the log, until the community changes.
func (p *Peer) keepLoop(ctx context.Context, events <-chan app.Event) {
	defer p.loops.Done()
	look := map[community.Hash]bool{}     // communities to look through soon
	waiting := map[community.Hash]bool{}  // communities with files nobody online held
	tries := map[community.Hash]keepTry{} // files nobody online held: when to ask again
	all := func() {
		if cs, err := p.Svc.Communities(); err == nil {
			for _, c := range cs {
				look[c.ID] = true
			}
		}
	}
	all()
	// The look waits keepQuiet after the first change, never pushed back by later ones (events
	// keep coming while a community is busy).
	soon := time.NewTimer(keepQuiet)
	defer soon.Stop()
	armed := true
	retry := time.NewTicker(keepRetry)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			switch ev := ev.(type) {
			case app.MessageAdded:
				for _, a := range ev.Message.Attachments {
					if !a.Have {
						look[ev.Community] = true
					}
				}
			case app.CommunityChanged:
				look[ev.Community] = true
			case app.PeersChanged:
				for id := range waiting {
					look[id] = true
				}
			case app.Lagged:
				all()
			case app.CommunityForgotten:
				delete(look, ev.Community)
				delete(waiting, ev.Community)
			}
		case <-retry.C:
			for id := range waiting {
				look[id] = true
			}
		case <-soon.C:
			armed = false
			for id := range look {
				delete(look, id)
				switch err := p.keepFiles(ctx, id, tries); {
				case err == nil:
					delete(waiting, id)
				case errors.Is(err, errNobodyOnline):
					waiting[id] = true
				case ctx.Err() != nil:
					return
				default:
					delete(waiting, id)
					p.log.Info("files of a community are not kept", "community", id.Short(), "why", app.Sentence(err))
				}
			}
			p.keepLooks.Add(1)
		}
		if len(look) > 0 && !armed {
			soon.Reset(keepQuiet)
			armed = true
		}
	}
}

// errNobodyOnline: some files could not be fetched, for want of a member online holding them.
var errNobodyOnline = errors.New("peer: no member online holds some of the files")

// keepTry is a file no member online held: how often it was asked for, and when to ask again
// (each time twice as late, keepBackoff to an hour: a message may name a file nobody holds).
type keepTry struct {
	n    int
	next time.Time
}

// keepFiles fetches the files of a community this device lacks, when its owner asks members to
// keep them all, but those whose next try (tries) has not come; it stops at the disk budget
// (ErrOverBudget's sentence).
func (p *Peer) keepFiles(ctx context.Context, id community.Hash, tries map[community.Hash]keepTry) error {
	if keep, err := p.Svc.KeepsAll(id); err != nil || !keep {
		return nil // not here (any more), or the owner asks for nothing
	}
	if member, _ := p.Svc.IsMember(id, p.ID.PublicKey()); !member {
		return nil
	}
	missing, err := p.Svc.MissingFiles(id)
	if err != nil {
		return err
	}
	var result error
	now := time.Now()
	for _, f := range missing {
		t, ok := tries[f.Blob]
		if ok && now.Before(t.next) {
			result = errNobodyOnline // still missing: looked at again later
			continue
		}
		err := p.FetchFile(ctx, id, f.Message, f.Blob)
		switch {
		case err == nil:
			delete(tries, f.Blob)
		case errors.Is(err, app.ErrOverBudget), ctx.Err() != nil:
			return err
		default:
			p.log.Debug("a file to keep did not come", "community", id.Short(), "file", f.Blob.Short(), "err", err)
			t.n++
			tries[f.Blob] = keepTry{n: t.n, next: now.Add(min(keepBackoff<<min(t.n-1, 10), time.Hour))}
			result = errNobodyOnline
		}
	}
	if len(tries) > 10_000 { // files that never came, of communities long gone: start over
		clear(tries)
	}
	return result
}
