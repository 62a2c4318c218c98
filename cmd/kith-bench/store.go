package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/storage"
)

// corpus is the community the store, catch-up and memory suites share: an owner and seven
// members write messages (each post signed, encrypted and stored durably by its author, as the
// app does), and the owner receives the members' events as it would from the network. late is
// a member that joined before the writing began and missed the last part of it.
type corpus struct {
	g        *group
	authors  []*install // the owner first
	late     *install
	written  int     // messages written so far
	postRate float64 // messages a second the eight authors wrote, each post durable
}

// collector keeps an install's own envelopes, as its publisher is handed them.
type collector struct {
	mu   sync.Mutex
	envs [][]byte
}

func (c *collector) publish(_ community.Hash, env []byte) {
	c.mu.Lock()
	c.envs = append(c.envs, env)
	c.mu.Unlock()
}

func (c *collector) take() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	envs := c.envs
	c.envs = nil
	return envs
}

// newCorpus creates the community: eight authors and the late member, all online on 127.0.0.1
// (for joins and sync; no gossip: the owner receives the members' events directly).
func (b *bench) newCorpus(ctx context.Context) (*corpus, error) {
	names := []string{"Ana", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal", "Late"}
	var ins []*install
	for _, n := range names {
		in, err := openInstall(ctx, n, filepath.Join(b.tmp, "corpus-"+n), true, b.log)
		if err != nil {
			for _, in := range ins {
				in.Close()
			}
			return nil, err
		}
		ins = append(ins, in)
	}
	g, err := newGroup(ctx, ins[0], "Corpus")
	if err != nil {
		return nil, errors.Join(err, closeAll(ins))
	}
	for _, in := range ins[1:] {
		if err := g.join(ctx, in, ins[0]); err != nil {
			return nil, errors.Join(err, closeAll(ins))
		}
	}
	// Each member synced the log when it joined, but only the owner saw every join: bring the
	// members up to date, so that all of them know all authors.
	for _, in := range ins[1:] {
		if err := in.svc.SyncFrom(ctx, in.node, ins[0].node.ID(), g.id); err != nil {
			return nil, errors.Join(err, closeAll(ins))
		}
	}
	return &corpus{g: g, authors: ins[:len(ins)-1], late: ins[len(ins)-1]}, nil
}

func closeAll(ins []*install) error {
	var errs []error
	for _, in := range ins {
		errs = append(errs, in.Close())
	}
	return errors.Join(errs...)
}

func (c *corpus) close() { c.g.close() }

// write has the eight authors post n more messages at once, each as fast as its durable
// commits allow, then hands the members' events to the owner in sync-sized batches. It notes the
// rate of the posting alone in postRate.
func (c *corpus) write(ctx context.Context, n int, p *progress) error {
	start := time.Now()
	var done atomic.Int64
	cols := make([]*collector, len(c.authors))
	errs := make([]error, len(c.authors))
	var wg sync.WaitGroup
	for a, in := range c.authors {
		cols[a] = &collector{}
		if a > 0 {
			in.svc.SetPublisher(cols[a].publish)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := a; i < n; i += len(c.authors) {
				if _, err := in.svc.Post(ctx, c.g.id, c.g.general, text(in.name, c.written+i), community.Hash{}); err != nil {
					errs[a] = err
					return
				}
				if d := done.Add(1); d%1000 == 0 {
					p.countf("%d/%d messages written", d, n)
				}
			}
		}()
	}
	wg.Wait()
	c.postRate = float64(n) / time.Since(start).Seconds()
	for _, in := range c.authors[1:] {
		in.svc.SetPublisher(nil)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	owner := c.authors[0]
	for a := 1; a < len(c.authors); a++ {
		envs := cols[a].take()
		for from := 0; from < len(envs); from += 500 {
			got, err := owner.svc.Receive(c.g.id, envs[from:min(from+500, len(envs))])
			if err != nil {
				return err
			}
			if len(got.Rejected) > 0 || got.Held > 0 {
				return fmt.Errorf("the owner refused %d and held %d of %s's events: %v", len(got.Rejected), got.Held, c.authors[a].name, got.Rejected)
			}
		}
	}
	c.written += n
	return nil
}

// storeSuite measures the store with the corpus: Kith's bulk import of every event against bare
// Badger writing the same envelopes, live durable writes grouped and one by one, the latest page,
// open time, disk use and the memory of a process that opened the store.
func (b *bench) storeSuite(ctx context.Context, c *corpus) (*suite, error) {
	s := &suite{Name: "store", Title: fmt.Sprintf("the store with a %s-event community", human(float64(b.size.corpus))),
		RatioOf: "Kith bulk import ÷ bare Badger writes", Target: "latest page p50 < 1 ms (read, decrypted, as the app shows it)"}
	owner := c.authors[0]
	cid := storage.CommunityID(c.g.id)
	var evs []storage.Event
	if err := owner.st.Since(cid, 0, 0, func(_ uint64, e storage.Event) error {
		evs = append(evs, e)
		return nil
	}); err != nil {
		return nil, err
	}

	// Bulk import: the events as a sync delivers them, 500 a batch, into a new store.
	b.progress.stepf("store: bulk import of %d events", len(evs))
	dir := filepath.Join(b.tmp, "bulk")
	st, err := storage.Open(dir, storage.Options{Logger: b.log})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	for from := 0; from < len(evs); from += 500 {
		if _, err := st.Append(evs[from:min(from+500, len(evs))]...); err != nil {
			st.Close()
			return nil, err
		}
	}
	importRate := float64(len(evs)) / time.Since(start).Seconds()
	if err := st.Close(); err != nil {
		return nil, err
	}
	b.bulkRate = importRate

	badgerRate, err := b.bareBadger(evs)
	if err != nil {
		return nil, err
	}

	// Live writes: own events, durable before each writer hears back.
	b.progress.stepf("store: durable writes")
	grouped, each, err := b.durableWrites(evs)
	if err != nil {
		return nil, err
	}

	// Open time and disk use of the imported store (closed: memtables flushed).
	b.progress.stepf("store: open and read")
	alloc, err := dirSize(dir)
	if err != nil {
		return nil, err
	}
	var opens []float64
	for range 3 {
		t := time.Now()
		st, err = storage.Open(dir, storage.Options{Logger: b.log})
		if err != nil {
			return nil, err
		}
		opens = append(opens, ms(time.Since(t)))
		if err := st.Close(); err != nil {
			return nil, err
		}
	}

	// The latest page: the store's 50 newest events of #general, and the same page as the app
	// shows it (read, decrypted, authors named) from the owner's service.
	st, err = storage.Open(dir, storage.Options{Logger: b.log})
	if err != nil {
		return nil, err
	}
	var storePage, appPage []time.Duration
	for range b.size.pageReads {
		t := time.Now()
		page, err := st.Page(cid, storage.ChannelID(c.g.general), storage.Cursor{}, 50)
		if err != nil || len(page) != 50 {
			st.Close()
			return nil, fmt.Errorf("latest page: %d events, %v", len(page), err)
		}
		storePage = append(storePage, time.Since(t))
		t = time.Now()
		msgs, err := owner.svc.Messages(c.g.id, c.g.general, community.Position{}, 50)
		if err != nil || len(msgs) != 50 {
			st.Close()
			return nil, fmt.Errorf("latest page through the app: %d messages, %v", len(msgs), err)
		}
		appPage = append(appPage, time.Since(t))
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	rssFirst, rss, err := b.childTwice(ctx, "store", dir)
	if err != nil {
		return nil, err
	}

	s.Figures.add("events", float64(len(evs)))
	s.Figures.add("bulk_import_per_s", importRate)
	s.Figures.add("durable_grouped_per_s", grouped)
	s.Figures.add("posts_8_authors_per_s", c.postRate)
	s.Figures.add("latest_page_p50_ms", ms(quantile(appPage, 0.5)))
	s.Figures.add("latest_page_store_p50_ms", ms(quantile(storePage, 0.5)))
	s.Figures.add("open_ms", median(opens))
	s.Figures.add("disk_bytes_per_event", float64(alloc)/float64(len(evs)))
	s.Figures.add("rss_after_open_mib", rss)
	s.Figures.add("rss_first_open_mib", rssFirst)
	s.Baseline.add("bare_badger_per_s", badgerRate)
	s.Baseline.add("durable_one_by_one_per_s", each)
	s.Ratio = num(importRate / badgerRate)
	p50 := quantile(appPage, 0.5)
	s.Met = p50 < time.Millisecond
	if !s.Met {
		s.Why = fmt.Sprintf("the app's latest page takes %.2f ms at the median (the store's read %.2f ms)", ms(p50), ms(quantile(storePage, 0.5)))
	}
	return s, nil
}

// bareBadger writes the same envelopes into a Badger with the store's memory and sync options,
// one key (the event ID) per event, 500 a transaction: what Badger does with no index at all.
func (b *bench) bareBadger(evs []storage.Event) (float64, error) {
	b.progress.stepf("store: bare Badger baseline")
	opts := badger.DefaultOptions(filepath.Join(b.tmp, "badger")).
		WithLogger(nil).WithMemTableSize(8 << 20).WithNumMemtables(2).WithBlockCacheSize(16 << 20).
		WithIndexCacheSize(8 << 20).WithValueLogFileSize(64 << 20).WithNumCompactors(2).
		WithNumLevelZeroTables(2).WithNumLevelZeroTablesStall(4).WithNumGoroutines(2).
		WithSyncWrites(false).WithDetectConflicts(false).WithMetricsEnabled(false).
		WithCompression(options.None)
	db, err := badger.Open(opts)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	for from := 0; from < len(evs); from += 500 {
		err := db.Update(func(txn *badger.Txn) error {
			for _, e := range evs[from:min(from+500, len(evs))] {
				if err := txn.Set(e.ID[:], e.Envelope); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			db.Close()
			return 0, err
		}
	}
	rate := float64(len(evs)) / time.Since(start).Seconds()
	return rate, db.Close()
}

// durableWrites stores events as own events (AppendOwn: acknowledged once fsynced) from 16
// writers at once, whose commits the store groups, and from one writer, one fsync each.
func (b *bench) durableWrites(evs []storage.Event) (grouped, each float64, err error) {
	st, err := storage.Open(filepath.Join(b.tmp, "live"), storage.Options{Logger: b.log})
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	n := min(b.size.durable, len(evs)/2)
	var wg sync.WaitGroup
	var werr atomic.Value
	var next atomic.Int64
	start := time.Now()
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := st.AppendOwn(context.Background(), evs[i]); err != nil {
					werr.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	grouped = float64(n) / time.Since(start).Seconds()
	if err, _ := werr.Load().(error); err != nil {
		return 0, 0, err
	}
	m := min(b.size.durable/10, len(evs)-n)
	start = time.Now()
	for _, e := range evs[n : n+m] {
		if err := st.AppendOwn(context.Background(), e); err != nil {
			return 0, 0, err
		}
	}
	each = float64(m) / time.Since(start).Seconds()
	return grouped, each, st.Close()
}
