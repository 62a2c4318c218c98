package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"path/filepath"
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
// same bytes sent over raw libp2p streams from one host to five in the same run.
func (b *bench) blobSuite(ctx context.Context) (*suite, error) {
	s := &suite{Name: "blobs", Title: fmt.Sprintf("a %d MiB file from one member to %d others on loopback", blobSize>>20, blobReceivers),
		RatioOf: "Kith MiB/s ÷ raw libp2p streams MiB/s", Target: "≥ 0.5 of raw streams"}
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
	data := make([]byte, blobSize)
	rand.Read(data)
	m, err := owner.svc.PostFiles(ctx, g.id, g.general, "", community.Hash{}, []app.File{{Name: "first-look.jpg", Size: blobSize,
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}})
	if err != nil {
		return nil, err
	}
	blob := m.Attachments[0].Blob
	for _, in := range g.installs[1:] {
		if err := in.svc.SyncFrom(ctx, in.node, owner.node.ID(), g.id); err != nil {
			return nil, err
		}
	}
	b.progress.stepf("blobs: %d members fetch %d MiB", blobReceivers, blobSize>>20)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, blobReceivers)
	for i, in := range g.installs[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = in.svc.FetchFile(ctx, g.id, m.ID, blob, []string{owner.node.ID()})
		}()
	}
	wg.Wait()
	kithTime := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	for _, in := range g.installs[1:] { // every copy whole
		var out bytes.Buffer
		if err := in.svc.SaveFile(g.id, m.ID, blob, &out); err != nil || !bytes.Equal(out.Bytes(), data) {
			return nil, fmt.Errorf("%s's copy: %d bytes, %v", in.name, out.Len(), err)
		}
	}
	b.progress.stepf("blobs: raw libp2p streams")
	rawTime, err := rawStreams(ctx, data, blobReceivers)
	if err != nil {
		return nil, err
	}
	mib := float64(blobSize*blobReceivers) / (1 << 20)
	kithRate, rawRate := mib/kithTime.Seconds(), mib/rawTime.Seconds()
	s.Figures.add("mib_per_s", kithRate)
	s.Figures.add("seconds", kithTime.Seconds())
	s.Baseline.add("raw_mib_per_s", rawRate)
	s.Ratio = num(kithRate / rawRate)
	s.Met = kithRate >= rawRate/2
	if !s.Met {
		s.Why = fmt.Sprintf("%.0f MiB/s against %.0f raw", kithRate, rawRate)
	}
	return s, nil
}

// rawStreams sends data from one libp2p host to n others at once over plain streams, and
// returns how long until every receiver read it all.
func rawStreams(ctx context.Context, data []byte, n int) (time.Duration, error) {
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
