// Command kith-bench measures Kith on this machine, each figure beside a baseline measured in the
// same run (Ed25519 verify, bare Badger, raw gossipsub, the store's own import rate), because
// figures alone mean little on a noisy machine. Everything is real: libp2p hosts on 127.0.0.1 and
// Badger stores in a temporary folder, removed at the end.
//
//	kith-bench [--quick] [--json] [--only SUITES] [--cpuprofile FILE] [--keep] [--verbose]
//
// --quick takes under four minutes on two cores (fewer timed messages, a 10,000-event catch-up,
// the scale suites without their largest sizes); --json prints one JSON document instead of the
// table; --only runs some suites (crypto, store, catch-up, search, memory, gossip, burst, blobs, scale; the
// crypto floor always runs: the others are compared with it). A progress line goes to stderr. Exit status: 0 when every suite ran (whether or not its
// target was met), 1 when one could not run, 2 on a usage error.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	if kind := os.Getenv(childEnv); kind != "" {
		os.Exit(runChild(kind, os.Stdout))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// sizes are how much each suite does.
type sizes struct {
	corpus       int           // messages in the store suite's community
	catchup      int           // of which the late member misses this many
	durable      int           // own events written durably by 16 writers (a tenth of it by one)
	pageReads    int           // latest-page reads timed
	cryptoRounds int           // rounds of the crypto floor (the median is kept)
	cryptoIters  int           // verify+validate pairs per round
	chains       []int         // hops of the chains
	mesh         int           // hosts of the mesh
	latency      int           // timed messages per topology and side
	pace         time.Duration // between timed messages
	burst        int           // messages of the burst
	idle         time.Duration // how long a memory child idles before it measures
	members      []int         // scale: members of the communities, in increasing order
	messages     []int         // scale: messages in one community's store, in increasing order
	meshes       []int         // scale: hosts of the live meshes, in increasing order
	meshPace     time.Duration // scale: between timed messages on a mesh
	blobRounds   int           // blobs: files sent, timed against raw streams (the medians are kept)
}

var (
	fullSizes = sizes{corpus: 100_000, catchup: 100_000, durable: 4000, pageReads: 500, cryptoRounds: 40, cryptoIters: 500,
		chains: []int{1, 3, 5}, mesh: 20, latency: 1000, pace: 5 * time.Millisecond, burst: 2000, idle: 10 * time.Second,
		members: []int{10, 100, 1000}, messages: []int{10_000, 100_000, 1_000_000}, meshes: []int{10, 30, 50}, meshPace: 20 * time.Millisecond, blobRounds: 7}
	quickSizes = sizes{corpus: 100_000, catchup: 10_000, durable: 2000, pageReads: 200, cryptoRounds: 15, cryptoIters: 300,
		chains: []int{1, 3, 5}, mesh: 20, latency: 200, pace: 5 * time.Millisecond, burst: 2000, idle: 3 * time.Second,
		members: []int{10, 100, 1000}, messages: []int{10_000, 100_000}, meshes: []int{10, 30}, meshPace: 20 * time.Millisecond, blobRounds: 3}
)

// bench is one run: its sizes, its temporary folder, and the floors later suites compare with.
type bench struct {
	size     sizes
	tmp      string
	log      *slog.Logger
	progress *progress
	only     map[string]bool // nil: every suite

	verifyNs      float64 // the crypto floor: one Ed25519 verify
	envelopeBytes int     // a timed message's envelope: raw gossipsub sends as many bytes
	bulkRate      float64 // the store's bulk import, events a second
}

const usageText = `usage: kith-bench [--quick] [--json] [--only SUITES] [--cpuprofile FILE] [--keep] [--verbose]

  --quick          a run under four minutes on two cores (fewer timed messages, 10,000-event
                   catch-up, the scale suites without 1,000,000 messages and 50 hosts)
  --json           print one JSON document instead of the table
  --only SUITES    comma-separated: crypto, store, catch-up, memory, gossip, burst, scale (crypto always runs)
  --cpuprofile F   write a CPU profile of the run to F (go tool pprof F)
  --keep           keep the temporary folder (its path is printed)
  --verbose        log what the installs do (warnings and errors) on stderr
`

var suiteNames = []string{"crypto", "store", "catch-up", "search", "memory", "gossip", "burst", "blobs", "scale"}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kith-bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	quick := fs.Bool("quick", false, "")
	asJSON := fs.Bool("json", false, "")
	only := fs.String("only", "", "")
	cpuprofile := fs.String("cpuprofile", "", "")
	keep := fs.Bool("keep", false, "")
	verbose := fs.Bool("verbose", false, "")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usageText)
			return 0
		}
		if err == nil {
			err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
		}
		fmt.Fprintf(stderr, "kith-bench: %v\n\n%s", err, usageText)
		return 2
	}
	b := &bench{size: fullSizes, progress: newProgress(stderr), log: slog.New(slog.DiscardHandler)}
	mode := "full"
	if *quick {
		b.size, mode = quickSizes, "quick"
	}
	if *verbose {
		b.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	// go-libp2p logs some errors through slog's default logger, outside ours.
	slog.SetDefault(b.log)
	if *only != "" {
		b.only = map[string]bool{}
		for _, s := range strings.Split(*only, ",") {
			s = strings.TrimSpace(s)
			if !slices.Contains(suiteNames, s) {
				fmt.Fprintf(stderr, "kith-bench: --only: no suite %q (choose among %s)\n", s, strings.Join(suiteNames, ", "))
				return 2
			}
			b.only[s] = true
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	if b.tmp, err = os.MkdirTemp("", "kith-bench-"); err != nil {
		fmt.Fprintf(stderr, "kith-bench: a temporary folder: %v\n", err)
		return 1
	}
	if *keep {
		fmt.Fprintf(stderr, "kith-bench: working in %s (kept)\n", b.tmp)
	} else {
		defer os.RemoveAll(b.tmp)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintf(stderr, "kith-bench: --cpuprofile: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "kith-bench: --cpuprofile: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	r, err := b.all(ctx, mode)
	b.progress.done()
	if err != nil {
		fmt.Fprintf(stderr, "kith-bench: %v\n", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			fmt.Fprintf(stderr, "kith-bench: %v\n", err)
			return 1
		}
		return 0
	}
	writeTable(stdout, r)
	return 0
}

// wants reports whether a suite is to run.
func (b *bench) wants(name string) bool { return b.only == nil || b.only[name] }

// all runs the suites in order: the crypto floor first (the others compare with it), then the
// store, catch-up and memory suites on one community, then gossip, the burst and the scale
// suites.
func (b *bench) all(ctx context.Context, mode string) (*report, error) {
	r := &report{Machine: thisMachine(), Mode: mode, Started: time.Now().UTC().Format(time.RFC3339)}
	begin := time.Now()
	timed := func(f func() (*suite, error)) error {
		start := time.Now()
		s, err := f()
		if err != nil {
			return err
		}
		s.Seconds = time.Since(start).Seconds()
		r.Suites = append(r.Suites, s)
		return nil
	}
	if err := timed(func() (*suite, error) { return b.cryptoSuite(ctx) }); err != nil {
		return nil, fmt.Errorf("crypto: %w", err)
	}
	if b.wants("store") || b.wants("catch-up") || b.wants("search") || b.wants("memory") {
		if err := b.corpusSuites(ctx, timed); err != nil {
			return nil, err
		}
	}
	if b.wants("gossip") {
		ss, err := b.gossipSuites(ctx)
		r.Suites = append(r.Suites, ss...)
		if err != nil {
			return nil, fmt.Errorf("gossip: %w", err)
		}
	}
	if b.wants("burst") {
		if err := timed(func() (*suite, error) { return b.burstSuite(ctx) }); err != nil {
			return nil, fmt.Errorf("burst: %w", err)
		}
	}
	if b.wants("blobs") {
		if err := timed(func() (*suite, error) { return b.blobSuite(ctx) }); err != nil {
			return nil, fmt.Errorf("blobs: %w", err)
		}
	}
	if b.wants("scale") {
		if err := b.scaleSuites(ctx, timed); err != nil {
			return nil, err
		}
	}
	r.Seconds = time.Since(begin).Seconds()
	return r, nil
}

// corpusSuites writes the corpus (the late member syncing the part it did not miss), then runs
// the store, catch-up and memory suites on it.
func (b *bench) corpusSuites(ctx context.Context, timed func(func() (*suite, error)) error) error {
	b.progress.stepf("corpus: nine installs join a community")
	c, err := b.newCorpus(ctx)
	if err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	defer c.close()
	start := time.Now()
	if first := b.size.corpus - b.size.catchup; first > 0 {
		b.progress.stepf("corpus: %d authors write %d messages", len(c.authors), first)
		if err := c.write(ctx, first, b.progress); err != nil {
			return fmt.Errorf("corpus: %w", err)
		}
		b.progress.stepf("corpus: the late member syncs them")
		if err := c.late.svc.SyncFrom(ctx, c.late.node, c.authors[0].node.ID(), c.g.id); err != nil {
			return fmt.Errorf("corpus: %w", err)
		}
	}
	b.progress.stepf("corpus: %d authors write %d messages while the late member is away", len(c.authors), b.size.catchup)
	if err := c.write(ctx, b.size.catchup, b.progress); err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	b.log.Debug("corpus written", "seconds", time.Since(start).Seconds())
	// The store suite runs whenever the catch-up suite does: it measures the rate catch-up is
	// compared with.
	if b.wants("store") || b.wants("catch-up") {
		if err := timed(func() (*suite, error) { return b.storeSuite(ctx, c) }); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	if b.wants("catch-up") {
		if err := timed(func() (*suite, error) { return b.catchupSuite(ctx, c) }); err != nil {
			return fmt.Errorf("catch-up: %w", err)
		}
	}
	if b.wants("search") {
		if err := timed(func() (*suite, error) { return b.searchSuite(ctx, c) }); err != nil {
			return fmt.Errorf("search: %w", err)
		}
	}
	if b.wants("memory") {
		if err := timed(func() (*suite, error) { return b.memorySuite(ctx, c) }); err != nil {
			return fmt.Errorf("memory: %w", err)
		}
	}
	return nil
}
