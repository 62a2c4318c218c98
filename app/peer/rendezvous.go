package peer

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/p2p"
)

// The rendezvous: with a DHT (Options.Bootstrap, PublicDHT, DHTServer), each member announces
// itself under the rendezvous key of each of its communities, and members whose address book is
// out of date (everyone moved) look each other up there, as joiners do.
const (
	announceEvery = 30 * time.Minute // provider records last a day or two; addresses change
	lookupEvery   = 2 * time.Minute  // members looked up at most this often
	dhtBudget     = time.Minute      // one round of announcements or lookups
)

// rendezvousLoop announces this install under its communities' rendezvous keys (at start,
// every announceEvery, and within a minute after its addresses changed) and makes waiting joins
// try again when a peer appears on the LAN, until ctx ends.
func (p *Peer) rendezvousLoop(ctx context.Context) {
	defer p.loops.Done()
	node := p.Node()
	if node == nil {
		return
	}
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	var (
		addrs       []string
		at          time.Time
		unreachable bool
		announced   = map[community.Hash]bool{} // since the last full round
	)
	announce := func(all bool) {
		if all {
			addrs, at = node.Addrs(), time.Now()
			clear(announced)
		}
		err := p.announce(ctx, node, announced)
		switch {
		case err != nil && !unreachable && ctx.Err() == nil:
			p.log.Warn("the rendezvous (DHT) does not answer: members who moved are found through the address book and the LAN meanwhile; Kith tries again", "err", err)
			unreachable = true
		case err == nil && unreachable:
			p.log.Info("the rendezvous (DHT) answers again")
			unreachable = false
		}
	}
	if node.HasDHT() {
		announce(true)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-node.LANFound():
			p.wakeJoins()
		case <-p.announceNow:
			if node.HasDHT() {
				announce(false) // the communities not announced yet
			}
		case <-tick.C:
			if node.HasDHT() && (time.Since(at) >= announceEvery || !slices.Equal(node.Addrs(), addrs)) {
				announce(true)
			}
		}
	}
}

// announceSoon has the rendezvous loop announce this install now (it became a member of a
// community).
func (p *Peer) announceSoon() {
	select {
	case p.announceNow <- struct{}{}:
	default:
	}
}

// announce announces this install under the rendezvous key of every community it is an active
// member of and that done does not list, and adds them to done.
func (p *Peer) announce(ctx context.Context, node *p2p.Node, done map[community.Hash]bool) error {
	cs, err := p.Svc.Communities()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, dhtBudget)
	defer cancel()
	var errs []error
	for _, c := range cs {
		if member, _ := p.Svc.IsMember(c.ID, p.ID.PublicKey()); !member || done[c.ID] {
			continue
		}
		if err := node.Provide(ctx, rendezvous(c.ID)); err != nil {
			errs = append(errs, err)
			if errors.Is(err, p2p.ErrDHTUnreachable) {
				break // the next ones would wait as long
			}
		} else {
			done[c.ID] = true
			p.log.Debug("announced at the rendezvous", "community", c.ID.Short())
		}
	}
	return errors.Join(errs...)
}

// lookupMembers looks up, at the rendezvous, the communities of which no other member is
// online, and dials the members it finds there (at most every lookupEvery, which is longer than
// a lookup may take, so one runs at a time; in the background).
func (p *Peer) lookupMembers(ctx context.Context) {
	node := p.Node()
	if node == nil || !node.HasDHT() {
		return
	}
	p.mu.Lock()
	due := time.Since(p.lookedUp) >= lookupEvery
	if due {
		p.lookedUp = time.Now()
	}
	p.mu.Unlock()
	if !due {
		return
	}
	var lonely []community.Hash
	cs, _ := p.Svc.Communities()
	for _, c := range cs {
		if member, _ := p.Svc.IsMember(c.ID, p.ID.PublicKey()); member && c.Members > 1 && !p.anyoneOnline(c.ID) {
			lonely = append(lonely, c.ID)
		}
	}
	if len(lonely) == 0 {
		return
	}
	p.spawn(func() {
		lctx, cancel := context.WithTimeout(ctx, dhtBudget)
		defer cancel()
		for _, id := range lonely {
			found, err := node.FindProviders(lctx, rendezvous(id), 20)
			if err != nil {
				p.log.Debug("looking up members at the rendezvous", "community", id.Short(), "err", err)
				return
			}
			for _, f := range found {
				key, err := node.KeyOf(f.ID)
				if err != nil {
					continue
				}
				if member, _ := p.Svc.IsMember(id, key); !member {
					continue // announced under the key but not a member here: ignored
				}
				if _, ok := node.PathTo(f.ID); ok {
					continue
				}
				dctx, dcancel := context.WithTimeout(lctx, joinDialTimeout)
				if err := node.Dial(dctx, f.ID, f.Addrs); err == nil {
					p.log.Info("found a member at the rendezvous", "community", id.Short(), "peer", f.ID)
				}
				dcancel()
			}
		}
	})
}

// anyoneOnline reports whether another active member of community id is connected now.
func (p *Peer) anyoneOnline(id community.Hash) bool {
	node := p.Node()
	if node == nil {
		return false
	}
	for _, pi := range node.Peers() {
		if pi.Key.Equal(p.ID.PublicKey()) {
			continue
		}
		if member, _ := p.Svc.IsMember(id, pi.Key); member {
			return true
		}
	}
	return false
}
