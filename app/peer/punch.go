package peer

import (
	"context"
	"time"

	"github.com/kith-app/kith/p2p"
)

// Hole punching, again. libp2p punches through two NATs when a relayed connection comes in
// (DCUtR), once: when the other side was not ready (it had not learnt its public address yet,
// as after a start) the two members stay on the relay for good, and lose each other when the
// relay goes. So of two members that reach each other only through a relay, the one that dialled
// that connection renews it now and then (closes it and dials again the same way), unless a
// sync with the other runs: the other side's hole punching starts again on the new connection.
// After punchTries renewals the pair stays relayed (their NATs do not allow a direct connection)
// until one of them reconnects.
const (
	punchFirst = 10 * time.Second // the first renewal, after the relayed connection opened
	punchTries = 4                // renewals at 10 s, 20 s, 40 s and 80 s (or a little later)
	punchCheck = 5 * time.Second  // how often renewals are looked at
)

// punchState is where renewals stand for one member.
type punchState struct {
	tries int
	next  time.Time
}

// renewRelayed renews the relayed connections that are due (the watch loop calls it).
func (p *Peer) renewRelayed(ctx context.Context) {
	node := p.Node()
	if node == nil || !node.HolePunching() {
		return
	}
	now := time.Now()
	relayed := map[string]bool{}
	for _, pi := range node.Peers() {
		if pi.Path != p2p.PathRelayed || !pi.Dialed || len(p.sharedWith(pi.Key)) == 0 {
			continue
		}
		relayed[pi.ID] = true
		syncing := p.Svc.SyncingWith(pi.ID)
		p.mu.Lock()
		st, ok := p.punches[pi.ID]
		if !ok {
			st = &punchState{next: now.Add(punchFirst)}
			p.punches[pi.ID] = st
		}
		due := st.tries < punchTries && now.After(st.next) && !syncing
		if due {
			st.tries++
			st.next = now.Add(punchFirst << st.tries)
		}
		p.mu.Unlock()
		if !due {
			continue
		}
		addrs := node.AddrsOf(pi.ID)
		p.log.Debug("renewing a relayed connection so that hole punching starts again", "peer", pi.ID, "try", st.tries)
		_ = node.Disconnect(pi.ID)
		p.spawn(func() {
			dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			if err := node.Dial(dctx, pi.ID, addrs); err != nil {
				p.log.Debug("renewing a relayed connection", "peer", pi.ID, "err", err)
			}
		})
	}
	p.mu.Lock()
	for id := range p.punches { // punched, or gone: a later relayed connection starts over
		if !relayed[id] {
			delete(p.punches, id)
		}
	}
	p.mu.Unlock()
}
