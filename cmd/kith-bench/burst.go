package main

import (
	"context"
	"fmt"
	"time"
)

// burstResult is one side of the burst: how many arrived, and how fast.
type burstResult struct {
	delivered float64 // share of messages the worst-served receiver got
	rate      float64 // messages the worst-served receiver got, a second from the first publish to the last arrival anywhere
	published float64 // messages a second the author got out
}

// runBurst publishes n messages as fast as the publisher can, then waits for them.
func (b *bench) runBurst(ctx context.Context, s swarm, arr *arrivals, n int, label string) (burstResult, error) {
	if err := warm(ctx, s, arr); err != nil {
		return burstResult{}, err
	}
	sent := make([]time.Time, n)
	start := time.Now()
	for i := range n {
		sent[i] = time.Now()
		if err := s.publish(ctx, i); err != nil {
			return burstResult{}, err
		}
		if i%200 == 0 {
			b.progress.countf("%s %d/%d published", label, i, n)
		}
	}
	published := float64(n) / time.Since(start).Seconds()
	arr.wait(ctx, 10*time.Second)
	if arr.isLagged() {
		return burstResult{}, errLagged
	}
	_, _, last := arr.latencies(sent)
	r := burstResult{delivered: arr.minDelivered(), published: published}
	if !last.IsZero() {
		r.rate = r.delivered * float64(n) / last.Sub(start).Seconds()
	}
	return r, nil
}

// burstSuite: one member of a five-host community, every host linked to every other, publishes
// b.size.burst messages as fast as it can; the other four must get all of them.
func (b *bench) burstSuite(ctx context.Context) (*suite, error) {
	n := b.size.burst
	s := &suite{Name: "burst", Title: fmt.Sprintf("%s messages published as fast as possible, 5 hosts", human(float64(n))),
		RatioOf: "Kith messages/s ÷ raw gossipsub messages/s", Target: "delivered = 100%"}
	topo := &topology{name: "burst", shape: full, hosts: 5, publisher: 1, receivers: []int{0, 2, 3, 4}}
	b.progress.stepf("burst: building 5 Kith installs")
	karr := newArrivals(len(topo.receivers), n)
	ks, err := b.newKithSwarm(ctx, topo, karr)
	if err != nil {
		return nil, err
	}
	b.progress.stepf("burst")
	kith, err := b.runBurst(ctx, ks, karr, n, "Kith")
	ks.close()
	if err != nil {
		return nil, err
	}
	rarr := newArrivals(len(topo.receivers), n)
	rs, err := newRawSwarm(ctx, topo, b.envelopeBytes, rarr)
	if err != nil {
		return nil, err
	}
	raw, err := b.runBurst(ctx, rs, rarr, n, "raw gossipsub")
	rs.close()
	if err != nil {
		return nil, err
	}
	ceiling := 1e9 / b.verifyNs
	s.Figures.add("messages", float64(n))
	s.Figures.add("delivered_pct", 100*kith.delivered)
	s.Figures.add("per_s", kith.rate)
	s.Figures.add("author_posts_per_s", kith.published)
	s.Figures.add("of_verify_ceiling", kith.rate/ceiling)
	s.Baseline.add("raw_per_s", raw.rate)
	s.Baseline.add("raw_delivered_pct", 100*raw.delivered)
	s.Baseline.add("verify_ceiling_per_s", ceiling)
	s.Ratio = num(kith.rate / raw.rate)
	s.Met = kith.delivered == 1
	if !s.Met {
		s.Why = fmt.Sprintf("the worst-served member got %.1f%% (sync would bring the rest; gossip lost them)", 100*kith.delivered)
	}
	return s, nil
}
