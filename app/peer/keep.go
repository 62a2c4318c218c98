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
)

// keepLoop fetches, for each community whose owner asks members to keep every file, the files
// this device lacks: a new message's as it comes, and the rest after a start, a change of the
// community (its settings, this device's budget), a member coming online, or every keepRetry
// while some wait. One file at a time, newest first; a file no member online holds waits; the
// disk budget stops the community's fetching, said in the log, until the community changes.
func (p *Peer) keepLoop(ctx context.Context, events <-chan app.Event) {
	defer p.loops.Done()
	look := map[community.Hash]bool{}    // communities to look through soon
	waiting := map[community.Hash]bool{} // communities with files nobody online held
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
				switch err := p.keepFiles(ctx, id); {
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
		}
		if len(look) > 0 && !armed {
			soon.Reset(keepQuiet)
			armed = true
		}
	}
}

// errNobodyOnline: some files could not be fetched, for want of a member online holding them.
var errNobodyOnline = errors.New("peer: no member online holds some of the files")

// keepFiles fetches the files of a community this device lacks, when its owner asks members to
// keep them all; it stops at the disk budget (ErrOverBudget's sentence).
func (p *Peer) keepFiles(ctx context.Context, id community.Hash) error {
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
	for _, f := range missing {
		err := p.FetchFile(ctx, id, f.Message, f.Blob)
		switch {
		case err == nil:
		case errors.Is(err, app.ErrOverBudget), ctx.Err() != nil:
			return err
		default:
			p.log.Debug("a file to keep did not come", "community", id.Short(), "file", f.Blob.Short(), "err", err)
			result = errNobodyOnline
		}
	}
	return result
}
