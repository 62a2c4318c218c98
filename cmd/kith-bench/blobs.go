package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
)

// blobSize and blobReceivers are the blob suite's file and how many members fetch it.
const (
	blobSize      = 10 << 20
	blobReceivers = 5
)

// blobSuite measures a 10 MiB file sent by one member reaching five others over the blob stream
// (each fetching it from the sender, all at once, every chunk checked and stored), beside the
// same bytes sent over raw libp2p streams from one host to five in the same run, round after
// round (a new file each round; the medians are kept). Then it times text messages the sender
// posts while more files go out, as gossip delivers them to the five, beside the same with no
// transfer.
func (b *bench) blobSuite(ctx context.Context) (*suite, error) {
	s := &suite{Name: "blobs", Title: fmt.Sprintf("a %d MiB file from one member to %d others on loopback", blobSize>>20, blobReceivers),
		RatioOf: "Kith MiB/s ÷ raw libp2p streams MiB/s (medians)", Target: "≥ 0.5 of raw streams; text meanwhile p99 < 100 ms"}
	b.progress.stepf("blobs: %d installs", blobReceivers+1)
	owner, err := openInstall(ctx, "Owner", filepath.Join(b.tmp, "blob-owner"), true, b.log)
	if err != nil {
		return nil, err
	}
	g, err := newGroup(ctx, owner, "Pictures")
	if err != nil {
		owner.Close()
		return nil, err
	}
	defer g.close()
	for i := range blobReceivers {
		in, err := openInstall(ctx, fmt.Sprintf("M%d", i), filepath.Join(b.tmp, fmt.Sprintf("blob-m%d", i)), true, b.log)
		if err != nil {
			return nil, err
		}
		if err := g.join(ctx, in, owner); err != nil {
			in.Close()
			return nil, err
		}
	}
	for _, in := range g.installs {
		if err := in.attach(b.log, g.id); err != nil {
			return nil, err
		}
	}
	if err := waitFor(ctx, func() bool { return len(owner.g.Peers(g.id)) >= blobReceivers }, func() string {
		return fmt.Sprintf("the sender sees %d of %d members on the topic", len(owner.g.Peers(g.id)), blobReceivers)
	}); err != nil {
		return nil, err
	}
	var kithRates, rawRates, cpuPerMiB []float64
	for round := range max(b.size.blobRounds, 1) {
		b.progress.stepf("blobs: round %d of %d: %d members fetch %d MiB", round+1, b.size.blobRounds, blobReceivers, blobSize>>20)
		d, cpu, err := b.blobRound(ctx, g, g.installs[1:], round, nil)
		if err != nil {
			return nil, err
		}
		rawTime, err := rawStreams(ctx, blobReceivers)
		if err != nil {
			return nil, err
		}
		mib := float64(blobSize*blobReceivers) / (1 << 20)
		kithRates = append(kithRates, mib/d.Seconds())
		rawRates = append(rawRates, mib/rawTime.Seconds())
		if cpu > 0 {
			cpuPerMiB = append(cpuPerMiB, cpu*1000/mib)
		}
	}
	b.progress.stepf("blobs: text messages while five members fetch")
	idle, during, err := b.textDuringFiles(ctx, g, g.installs[1:])
	if err != nil {
		return nil, err
	}
	b.progress.stepf("blobs: text messages while one member fetches")
	idle1, during1, err := b.textDuringFiles(ctx, g, g.installs[1:2])
	if err != nil {
		return nil, err
	}
	kithRate, rawRate := median(kithRates), median(rawRates)
	s.Figures.add("mib_per_s", kithRate)
	s.Figures.add("seconds", float64(blobSize*blobReceivers)/(1<<20)/kithRate)
	if len(cpuPerMiB) > 0 {
		s.Figures.add("cpu_ms_per_mib", median(cpuPerMiB))
	}
	s.Figures.add("text_meanwhile_p50_ms", ms(quantile(during, 0.5)))
	s.Figures.add("text_meanwhile_p99_ms", ms(quantile(during, 0.99)))
	s.Figures.add("text_pair_meanwhile_p50_ms", ms(quantile(during1, 0.5)))
	s.Figures.add("text_pair_meanwhile_p99_ms", ms(quantile(during1, 0.99)))
	s.Baseline.add("raw_mib_per_s", rawRate)
	s.Baseline.add("text_idle_p50_ms", ms(quantile(idle, 0.5)))
	s.Baseline.add("text_idle_p99_ms", ms(quantile(idle, 0.99)))
	s.Baseline.add("text_pair_idle_p50_ms", ms(quantile(idle1, 0.5)))
	s.Baseline.add("text_pair_idle_p99_ms", ms(quantile(idle1, 0.99)))
	s.Ratio = num(kithRate / rawRate)
	// The gossip target for a group (DESIGN §8): p99 under 100 ms. The one member fetching is
	// shown beside it: DESIGN's two-peer target (p50 under 1 ms, p99 under 5 ms) is for two
	// installs alone, which six in one process miss even with no transfer.
	groupOK := quantile(during, 0.99) < 100*time.Millisecond
	s.Met = kithRate >= rawRate/2 && groupOK
	switch {
	case kithRate < rawRate/2:
		s.Why = fmt.Sprintf("%.0f MiB/s against %.0f raw", kithRate, rawRate)
	case !groupOK:
		s.Why = fmt.Sprintf("text while five fetch: p99 %.1f ms", ms(quantile(during, 0.99)))
	}
	return s, nil
}

// blobRound posts a new file from the owner, lets every member learn of the message, then times
// fetchers fetching it from the owner all at once, and checks every copy; meanwhile, when not
// nil, runs while the fetches do and is waited for. cpu is the process's CPU seconds over the
// fetches (0 where it cannot be read).
func (b *bench) blobRound(ctx context.Context, g *group, fetchers []*install, round int, meanwhile func(done <-chan struct{})) (d time.Duration, cpu float64, err error) {
	owner := g.installs[0]
	data := make([]byte, blobSize)
	rand.Read(data)
	m, err := owner.svc.PostFiles(ctx, g.id, g.general, "", community.Hash{}, []app.File{{Name: fmt.Sprintf("look-%d.jpg", round), Size: blobSize,
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}})
	if err != nil {
		return 0, 0, err
	}
	blob := m.Attachments[0].Blob
	for _, in := range g.installs[1:] {
		if err := waitFor(ctx, func() bool { _, ok, _ := in.svc.Message(g.id, m.ID); return ok }, func() string {
			return fmt.Sprintf("%s never got the message with the file", in.name)
		}); err != nil {
			return 0, 0, err
		}
	}
	runtime.GC() // what setting up left is not the fetches' to collect (as testing.B does)
	cpu0, cpuOK := cpuSeconds()
	start := time.Now()
	done := make(chan struct{})
	var side sync.WaitGroup
	if meanwhile != nil {
		side.Add(1)
		go func() { defer side.Done(); meanwhile(done) }()
	}
	var wg sync.WaitGroup
	errs := make([]error, len(fetchers))
	for i, in := range fetchers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = in.svc.FetchFile(ctx, g.id, m.ID, blob, []string{owner.node.ID()})
		}()
	}
	wg.Wait()
	d = time.Since(start)
	cpu1, _ := cpuSeconds()
	close(done)
	side.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, 0, err
	}
	want := sha256.Sum256(data)
	for _, in := range fetchers { // every copy whole (hashed: no copy of it in memory)
		h := sha256.New()
		if err := in.svc.SaveFile(g.id, m.ID, blob, h); err != nil || !bytes.Equal(h.Sum(nil), want[:]) {
			return 0, 0, fmt.Errorf("%s's copy differs from the file sent (%v)", in.name, err)
		}
	}
	if cpuOK {
		cpu = cpu1 - cpu0
	}
	return d, cpu, nil
}

// textDuringFiles times text messages from the owner to the members, as gossip delivers them:
// first with nothing else going on, then while fetchers fetch files from the owner; the delays
// are those of the fetchers.
func (b *bench) textDuringFiles(ctx context.Context, g *group, fetchers []*install) (idle, during []time.Duration, err error) {
	owner := g.installs[0]
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	sent := map[string]time.Time{}
	var got []time.Duration
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for _, in := range fetchers {
		events := in.svc.Subscribe(rctx)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range events {
				if m, ok := e.(app.MessageAdded); ok && strings.HasPrefix(m.Message.Text, "text ") {
					now := time.Now()
					mu.Lock()
					if t, ok := sent[m.Message.Text]; ok {
						got = append(got, now.Sub(t))
					}
					mu.Unlock()
				}
			}
		}()
	}
	n := 0
	post := func() error {
		text := fmt.Sprintf("text %d of %d", n, len(fetchers))
		n++
		mu.Lock()
		sent[text] = time.Now()
		mu.Unlock()
		_, err := owner.svc.Post(ctx, g.id, g.general, text, community.Hash{})
		return err
	}
	// collect waits until every member has every message posted so far, and takes the delays.
	collect := func() ([]time.Duration, error) {
		err := waitFor(ctx, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= n*len(fetchers) },
			func() string { return fmt.Sprintf("%d of %d text messages arrived", len(got), n*len(fetchers)) })
		mu.Lock()
		defer mu.Unlock()
		out := slices.Clone(got)
		got = got[:0]
		clear(sent)
		return out, err
	}
	for range blobTexts {
		if err := post(); err != nil {
			return nil, nil, err
		}
		if err := sleep(ctx, blobTextPace); err != nil {
			return nil, nil, err
		}
	}
	if idle, err = collect(); err != nil {
		return nil, nil, err
	}
	n = 0
	for round := range max(b.size.blobRounds, 1) {
		var postErr error
		_, _, err := b.blobRound(ctx, g, fetchers, 1000*len(fetchers)+round, func(done <-chan struct{}) {
			for {
				select {
				case <-done:
					return
				case <-time.After(blobTextPace):
				}
				if postErr = post(); postErr != nil {
					return
				}
			}
		})
		if err == nil {
			err = postErr
		}
		if err != nil {
			return nil, nil, err
		}
	}
	during, err = collect()
	return idle, during, err
}

// blobTexts and blobTextPace: the text messages timed with no transfer, and the pace of those
// posted during one.
const (
	blobTexts    = 40
	blobTextPace = 5 * time.Millisecond
)

// rawStreams sends blobSize bytes from one libp2p host to n others at once over plain streams,
// and returns how long until every receiver read it all.
func rawStreams(ctx context.Context, n int) (time.Duration, error) {
	data := make([]byte, blobSize)
	rand.Read(data)
	mk := func() (host.Host, error) {
		return libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.Transport(tcp.NewTCPTransport),
			libp2p.DefaultSecurity, libp2p.DefaultMuxers, libp2p.DisableMetrics())
	}
	sender, err := mk()
	if err != nil {
		return 0, err
	}
	defer sender.Close()
	var wg sync.WaitGroup
	got := make(chan error, n)
	var receivers []host.Host
	for range n {
		h, err := mk()
		if err != nil {
			return 0, err
		}
		defer h.Close()
		h.SetStreamHandler("/kith-bench/raw/1", func(st network.Stream) {
			defer st.Close()
			k, err := io.Copy(io.Discard, st)
			if err == nil && k != int64(len(data)) {
				err = fmt.Errorf("a raw receiver read %d bytes", k)
			}
			got <- err
		})
		receivers = append(receivers, h)
		if err := sender.Connect(ctx, peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}); err != nil {
			return 0, err
		}
	}
	runtime.GC()
	start := time.Now()
	for _, h := range receivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := sender.NewStream(ctx, h.ID(), "/kith-bench/raw/1")
			if err != nil {
				got <- err
				return
			}
			if _, err := st.Write(data); err != nil {
				got <- err
			}
			st.CloseWrite()
		}()
	}
	for range n {
		if err := <-got; err != nil {
			return 0, err
		}
	}
	d := time.Since(start)
	wg.Wait()
	return d, nil
}
