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
	lookupFirst   = 3 * time.Second  // the first lookup of members after the start; again after one was found
	lookupMax     = 5 * time.Minute  // between lookups that find no one new, at most
	dhtBudget     = time.Minute      // one round of announcements
	lookupBudget  = 20 * time.Second // one round of lookups
)

// rendezvousLoop announces this install under its communities' rendezvous keys (at start,
// every announceEvery, within a minute after its addresses changed, and every minute while the
// DHT does not answer) and looks members up there, until ctx ends. A DHT that does not answer
// makes a round last up to a minute: what must not wait for it runs in watchLoop.
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
	// Members whose address book is out of date look each other up: soon after the start, then
	// less and less often while the lookups find no one new, and soon again once one did (two
	// members next door that found each other on the LAN still look for the others).
	wait := lookupFirst
	lookup := time.NewTimer(wait)
	defer lookup.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-lookup.C:
			if node.HasDHT() && p.lookupMembers(ctx, node) {
				wait = lookupFirst
			} else {
				wait = min(2*wait, lookupMax)
			}
			lookup.Reset(wait)
		case <-p.announceNow:
			if node.HasDHT() {
				announce(false) // the communities not announced yet
			}
		case <-p.announceAll:
			if node.HasDHT() {
				announce(true)
			}
		case <-tick.C:
			if node.HasDHT() && (unreachable || time.Since(at) >= announceEvery || !slices.Equal(node.Addrs(), addrs)) {
				announce(true)
			}
		}
	}
}

// watchLoop makes waiting joins try again when a peer appears on the LAN, and renews relayed
// connections (punch.go), until ctx ends.
func (p *Peer) watchLoop(ctx context.Context) {
	defer p.loops.Done()
	node := p.Node()
	if node == nil {
		return
	}
	punch := time.NewTicker(punchCheck)
	defer punch.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-node.LANFound():
			p.wakeJoins()
		case <-punch.C:
			p.renewRelayed(ctx)
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

// lookupMembers looks up, at the rendezvous, every community of which this install is an active
// member with others, and dials the members it finds there that are not connected. It reports
// whether it reached someone new.
func (p *Peer) lookupMembers(ctx context.Context, node *p2p.Node) (reached bool) {
	var ids []community.Hash
	cs, _ := p.Svc.Communities()
	for _, c := range cs {
		if member, _ := p.Svc.IsMember(c.ID, p.ID.PublicKey()); member && c.Members > 1 {
			ids = append(ids, c.ID)
		}
	}
	lctx, cancel := context.WithTimeout(ctx, lookupBudget)
	defer cancel()
	for _, id := range ids {
		found, err := node.FindProviders(lctx, rendezvous(id), 20)
		if err != nil {
			p.log.Debug("looking up members at the rendezvous", "community", id.Short(), "err", err)
			return reached
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
				reached = true
			}
			dcancel()
		}
	}
	return reached
}

// SetDHT changes how members are found beyond the address book and the LAN while Kith runs:
// through the public libp2p network (public) and these bootstrap nodes (full multiaddrs). With
// neither, no DHT runs. Waiting joins try again at once; the communities are announced anew.
// Before Start it only sets what Start will use.
func (p *Peer) SetDHT(public bool, bootstrap []string) error {
	p.startMu.Lock() // after a Start under way, and one change at a time: the last one wins
	defer p.startMu.Unlock()
	p.mu.Lock()
	p.opts.PublicDHT, p.opts.Bootstrap = public, slices.Clone(bootstrap)
	node := p.node
	cfg := p.dhtConfigLocked()
	p.mu.Unlock()
	if node == nil {
		return nil
	}
	if err := node.SetDHT(cfg); err != nil {
		return err
	}
	select { // a new DHT knows none of the earlier announcements
	case p.announceAll <- struct{}{}:
	default:
	}
	p.wakeJoins()
	return nil
}

// dhtConfigLocked is the DHT the options ask for, nil for none. p.mu must be held.
func (p *Peer) dhtConfigLocked() *p2p.DHT {
	if len(p.opts.Bootstrap) == 0 && !p.opts.PublicDHT && !p.opts.DHTServer {
		return nil
	}
	return &p2p.DHT{Bootstrap: slices.Clone(p.opts.Bootstrap), Public: p.opts.PublicDHT, Server: p.opts.DHTServer}
}
