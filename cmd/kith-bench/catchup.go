package main

import (
	"context"
	"fmt"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/storage"
)

// catchupSuite has the late member, which missed the corpus's last b.size.catchup messages,
// sync them from the owner over the network (the sync protocol, verification, decryption, the
// store), and compares its rate with the store's bulk import of the same kind of events.
func (b *bench) catchupSuite(ctx context.Context, c *corpus) (*suite, error) {
	s := &suite{Name: "catch-up", Title: fmt.Sprintf("a member that missed %s events syncs from one online member", human(float64(b.size.catchup))),
		RatioOf: "catch-up rate ÷ the store's bulk-import rate", Target: "≥ 0.5"}
	owner, late := c.authors[0], c.late
	cid, ch := storage.CommunityID(c.g.id), storage.ChannelID(c.g.general)
	before, err := late.st.ChannelCount(cid, ch)
	if err != nil {
		return nil, err
	}
	b.progress.stepf("catch-up: %d events", b.size.catchup)
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	events := late.svc.Subscribe(sctx)
	go func() {
		for e := range events {
			if p, ok := e.(app.SyncProgress); ok && !p.Finished {
				b.progress.countf("%d/%d", p.Done, p.Total)
			}
		}
	}()
	start := time.Now()
	if err := late.svc.SyncFrom(ctx, late.node, owner.node.ID(), c.g.id); err != nil {
		return nil, err
	}
	took := time.Since(start)
	after, err := late.st.ChannelCount(cid, ch)
	if err != nil {
		return nil, err
	}
	if got := after - before; got != b.size.catchup {
		return nil, fmt.Errorf("the late member caught up %d messages, want %d", got, b.size.catchup)
	}
	rate := float64(b.size.catchup) / took.Seconds()
	s.Figures.add("events", float64(b.size.catchup))
	s.Figures.add("seconds", took.Seconds())
	s.Figures.add("per_s", rate)
	s.Baseline.add("bulk_import_per_s", b.bulkRate)
	s.Ratio = num(rate / b.bulkRate)
	s.Met = rate >= 0.5*b.bulkRate
	if !s.Met {
		s.Why = fmt.Sprintf("%.0f events/s against the store's %.0f (profile with --cpuprofile)", rate, b.bulkRate)
	}
	return s, nil
}
