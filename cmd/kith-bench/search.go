package main

import (
	"context"
	"fmt"
	"time"

	"github.com/kith-app/kith/app/community"
)

// searchSuite measures search over the corpus at the owner's install: the first search (it waits
// for whatever the background indexer has not done yet), then a mix of queries — a word in every
// message, two such words, a word in one message, a word with a number in one message, a word in
// none — each answered as the app shows it (messages read, decrypted, checked against their text).
// The baseline is the latest page read through the app in the same run.
func (b *bench) searchSuite(ctx context.Context, c *corpus) (*suite, error) {
	s := &suite{Name: "search", Title: fmt.Sprintf("search over a %s-message community", human(float64(c.written))),
		RatioOf: "search p50 ÷ latest page p50 (both through the app)", Target: "search p50 < 50 ms"}
	owner := c.authors[0]
	b.progress.stepf("search: %d messages", c.written)
	start := time.Now()
	if _, err := owner.svc.Search(c.g.id, "preview", 1); err != nil {
		return nil, err
	}
	first := time.Since(start)
	queries := []string{"preview", "export shortcut", fmt.Sprint(c.written / 2), "thanks " + fmt.Sprint(c.written/3), "zebra"}
	var times, pages []time.Duration
	for i := range b.size.pageReads {
		q := queries[i%len(queries)]
		t := time.Now()
		if _, err := owner.svc.Search(c.g.id, q, 50); err != nil {
			return nil, fmt.Errorf("search %q: %w", q, err)
		}
		times = append(times, time.Since(t))
		t = time.Now()
		if _, err := owner.svc.Messages(c.g.id, c.g.general, community.Position{}, 50); err != nil {
			return nil, err
		}
		pages = append(pages, time.Since(t))
	}
	p50, p99 := quantile(times, 0.5), quantile(times, 0.99)
	s.Figures.add("first_search_ms", ms(first))
	s.Figures.add("search_p50_ms", ms(p50))
	s.Figures.add("search_p99_ms", ms(p99))
	s.Baseline.add("page_p50_ms", ms(quantile(pages, 0.5)))
	s.Ratio = num(ms(p50) / ms(quantile(pages, 0.5)))
	s.Met = p50 < 50*time.Millisecond
	if !s.Met {
		s.Why = fmt.Sprintf("p50 %.1f ms over %d queries", ms(p50), len(times))
	}
	return s, nil
}
