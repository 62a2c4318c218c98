package main

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/p2p"
)

// shape is how a topology's hosts are linked.
type shape int

const (
	chain shape = iota // each host to the next
	mesh               // a random tree plus two random links a host
	full               // every host to every other
)

// topology is who connects to whom, who publishes and where deliveries are timed.
type topology struct {
	name      string
	shape     shape
	hosts     int
	edges     [][2]int // filled in as the Kith side is built
	publisher int
	receivers []int
	hops      int // for a chain: publisher to receiver; 0 for a mesh
}

// arrivals records when each message reached each receiver.
type arrivals struct {
	mu     sync.Mutex
	at     [][]time.Time // receiver (index in topology.receivers) → message → when; zero: not yet
	count  int
	warm   []bool // receiver got a warm-up message
	lagged bool   // a receiver's event stream skipped events: its arrivals are incomplete
	wake   chan struct{}
}

func newArrivals(receivers, messages int) *arrivals {
	a := &arrivals{at: make([][]time.Time, receivers), warm: make([]bool, receivers), wake: make(chan struct{}, 1)}
	for r := range a.at {
		a.at[r] = make([]time.Time, messages)
	}
	return a
}

func (a *arrivals) record(r, i int, t time.Time) {
	a.mu.Lock()
	if i >= 0 && i < len(a.at[r]) && a.at[r][i].IsZero() {
		a.at[r][i] = t
		a.count++
	}
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

func (a *arrivals) lag() {
	a.mu.Lock()
	a.lagged = true
	a.mu.Unlock()
}

func (a *arrivals) warmed(r int) {
	a.mu.Lock()
	a.warm[r] = true
	a.mu.Unlock()
}

func (a *arrivals) allWarm() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, w := range a.warm {
		if !w {
			return false
		}
	}
	return true
}

// wait returns when every message reached every receiver, or when nothing arrived for quiet.
func (a *arrivals) wait(ctx context.Context, quiet time.Duration) {
	want := len(a.at) * len(a.at[0])
	for {
		a.mu.Lock()
		n := a.count
		a.mu.Unlock()
		if n >= want {
			return
		}
		select {
		case <-a.wake:
		case <-time.After(quiet):
			return
		case <-ctx.Done():
			return
		}
	}
}

// latencies are arrival minus publish time for every delivery, and the share delivered.
func (a *arrivals) latencies(sent []time.Time) (lat []time.Duration, delivered float64, last time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, row := range a.at {
		for i, t := range row {
			if !t.IsZero() {
				lat = append(lat, t.Sub(sent[i]))
				if t.After(last) {
					last = t
				}
			}
		}
	}
	return lat, float64(a.count) / float64(len(a.at)*len(a.at[0])), last
}

// errLagged: the harness read a service's events too slowly and some were dropped for it.
var errLagged = errors.New("the harness fell behind a receiver's events (app.Lagged), so arrivals were not all seen: the machine is overloaded; run again")

func (a *arrivals) isLagged() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lagged
}

// minDelivered is the share of messages the worst-served receiver got.
func (a *arrivals) minDelivered() float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	worst := 1.0
	for _, row := range a.at {
		n := 0
		for _, t := range row {
			if !t.IsZero() {
				n++
			}
		}
		worst = min(worst, float64(n)/float64(len(row)))
	}
	return worst
}

// swarm is one side of a comparison: Kith installs or raw gossipsub hosts, set up on a topology.
type swarm interface {
	// warmUp publishes message k of the warm-up (not timed).
	warmUp(ctx context.Context, k int) error
	// publish publishes timed message i.
	publish(ctx context.Context, i int) error
	close()
}

// kithSwarm is a community over Kith installs: each message is a Post (signed, encrypted, stored
// durably, gossiped) and arrives when the receiver's service has verified and stored it.
type kithSwarm struct {
	g      *group
	pub    *install
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// benchText is timed message i: "lat i", then about 320 characters, some of them two bytes.
func benchText(who string, i int) string {
	return fmt.Sprintf("lat %d %s %s", i, strings.Repeat("·", 60), text(who, i))
}

// newKithSwarm builds topo with Kith installs: install i joins through an earlier one (for a
// chain, the one before it; for a mesh, one at random), which is its only connection; a mesh
// then gets extra random edges. topo.edges is filled in for the raw side to copy.
func (b *bench) newKithSwarm(ctx context.Context, topo *topology, arr *arrivals) (*kithSwarm, error) {
	rng := rand.New(rand.NewPCG(1, uint64(topo.hosts)))
	var ins []*install
	fail := func(err error) (*kithSwarm, error) { return nil, errors.Join(err, closeAll(ins)) }
	for i := range topo.hosts {
		in, err := openInstall(ctx, "P"+strconv.Itoa(i), filepath.Join(b.tmp, topo.name, strconv.Itoa(i)), true, b.log)
		if err != nil {
			return fail(err)
		}
		ins = append(ins, in)
	}
	g, err := newGroup(ctx, ins[0], topo.name)
	if err != nil {
		return fail(err)
	}
	if err := ins[0].attach(b.log, g.id); err != nil {
		return fail(err)
	}
	connected := map[[2]int]bool{}
	edge := func(i, j int) {
		topo.edges = append(topo.edges, [2]int{i, j})
		connected[[2]int{i, j}], connected[[2]int{j, i}] = true, true
	}
	for i := 1; i < topo.hosts; i++ {
		b.progress.countf("%d/%d joined", i, topo.hosts-1)
		via := 0 // full: the owner admits everyone
		switch topo.shape {
		case chain:
			via = i - 1
		case mesh:
			via = rng.IntN(i)
		}
		if err := g.join(ctx, ins[i], ins[via]); err != nil {
			return fail(err)
		}
		edge(i, via)
		if err := ins[i].attach(b.log, g.id); err != nil {
			return fail(err)
		}
	}
	if err := g.knowsAll(ctx); err != nil {
		return fail(err)
	}
	switch topo.shape {
	case full:
		for i := range topo.hosts {
			for j := i + 1; j < topo.hosts; j++ {
				if !connected[[2]int{i, j}] {
					if err := ins[i].connect(ctx, ins[j]); err != nil {
						return fail(err)
					}
					edge(i, j)
				}
			}
		}
	case mesh:
		for i := range topo.hosts {
			var others []int
			for j := range topo.hosts {
				if j != i && !connected[[2]int{i, j}] {
					others = append(others, j)
				}
			}
			rng.Shuffle(len(others), func(a, b int) { others[a], others[b] = others[b], others[a] })
			for _, j := range others[:min(2, len(others))] {
				if err := ins[i].connect(ctx, ins[j]); err != nil {
					return fail(err)
				}
				edge(i, j)
			}
		}
	}
	// Everyone sees its neighbours on the topic before anything is timed.
	degree := make([]int, topo.hosts)
	for _, e := range topo.edges {
		degree[e[0]]++
		degree[e[1]]++
	}
	for i, in := range ins {
		if err := waitFor(ctx, func() bool { return len(in.g.Peers(g.id)) >= degree[i] }, func() string {
			return fmt.Sprintf("%s sees %d of its %d neighbours on the topic", in.name, len(in.g.Peers(g.id)), degree[i])
		}); err != nil {
			return fail(err)
		}
	}
	rctx, cancel := context.WithCancel(ctx)
	k := &kithSwarm{g: g, pub: ins[topo.publisher], cancel: cancel}
	for r, idx := range topo.receivers {
		events := ins[idx].svc.Subscribe(rctx)
		k.wg.Add(1)
		go func() {
			defer k.wg.Done()
			for e := range events {
				if _, ok := e.(app.Lagged); ok {
					arr.lag()
				}
				m, ok := e.(app.MessageAdded)
				if !ok {
					continue
				}
				now := time.Now()
				if strings.HasPrefix(m.Message.Text, "warm ") {
					arr.warmed(r)
				} else if rest, ok := strings.CutPrefix(m.Message.Text, "lat "); ok {
					n, _, _ := strings.Cut(rest, " ")
					if i, err := strconv.Atoi(n); err == nil {
						arr.record(r, i, now)
					}
				}
			}
		}()
	}
	return k, nil
}

func (k *kithSwarm) warmUp(ctx context.Context, n int) error {
	_, err := k.pub.svc.Post(ctx, k.g.id, k.g.general, fmt.Sprintf("warm %d", n), community.Hash{})
	return err
}

func (k *kithSwarm) publish(ctx context.Context, i int) error {
	_, err := k.pub.svc.Post(ctx, k.g.id, k.g.general, benchText(k.pub.name, i), community.Hash{})
	return err
}

func (k *kithSwarm) close() {
	k.cancel()
	k.g.close()
	k.wg.Wait()
}

// rawSwarm is plain gossipsub on plain libp2p hosts, configured as Kith's nodes are (TCP on
// 127.0.0.1, TLS or Noise, yamux; no pubsub signatures, flood publishing, Kith's queue sizes) but
// with no validator, no peer scoring and no storage: a message arrives when the receiver's
// subscription hands it over.
//
// A floor swarm (newFloorSwarm) adds what no design can avoid: every message is signed, every
// host's validator verifies its Ed25519 signature, and the publisher writes each message to disk
// with an fsync before publishing it, as Kith's rule says (durable before published).
type rawSwarm struct {
	hosts  []host.Host
	pub    *pubsub.Topic
	size   int
	cancel context.CancelFunc
	wg     sync.WaitGroup

	key     ed25519.PrivateKey // floor only: signs each message
	durable *os.File           // floor only: each message is written and synced here first
}

func rawMessageID(m *pb.Message) string {
	sum := sha256.Sum256(m.GetData())
	return string(sum[:])
}

// newRawSwarm builds topo's edges with raw hosts; size is each message's length (a Kith
// envelope's, so that both sides move as many bytes).
func newRawSwarm(ctx context.Context, topo *topology, size int, arr *arrivals) (*rawSwarm, error) {
	return newSwarm(ctx, topo, size, arr, "")
}

// newFloorSwarm is newRawSwarm with the floor's signatures, verifies and durable writes (in a
// file in dir).
func newFloorSwarm(ctx context.Context, topo *topology, size int, arr *arrivals, dir string) (*rawSwarm, error) {
	return newSwarm(ctx, topo, size, arr, dir)
}

func newSwarm(ctx context.Context, topo *topology, size int, arr *arrivals, floorDir string) (*rawSwarm, error) {
	rctx, cancel := context.WithCancel(ctx)
	s := &rawSwarm{size: size, cancel: cancel}
	var pub ed25519.PublicKey
	if floorDir != "" {
		var err error
		if pub, s.key, err = ed25519.GenerateKey(nil); err != nil {
			cancel()
			return nil, err
		}
		if s.durable, err = os.CreateTemp(floorDir, "floor-*"); err != nil {
			cancel()
			return nil, err
		}
		s.size = max(size, 5+ed25519.SignatureSize)
	}
	topics := make([]*pubsub.Topic, topo.hosts)
	fail := func(err error) (*rawSwarm, error) {
		s.close()
		return nil, err
	}
	for i := range topo.hosts {
		h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.Transport(tcp.NewTCPTransport),
			libp2p.DefaultSecurity, libp2p.DefaultMuxers, libp2p.DisableMetrics())
		if err != nil {
			return fail(err)
		}
		s.hosts = append(s.hosts, h)
		ps, err := pubsub.NewGossipSub(rctx, h,
			pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign), pubsub.WithNoAuthor(),
			pubsub.WithMessageIdFn(rawMessageID),
			pubsub.WithPeerOutboundQueueSize(p2p.QueueSize), pubsub.WithValidateQueueSize(p2p.QueueSize),
			pubsub.WithMaxMessageSize(p2p.MaxMessageSize), pubsub.WithFloodPublish(true))
		if err != nil {
			return fail(err)
		}
		if pub != nil {
			verify := func(_ context.Context, _ peer.ID, m *pubsub.Message) bool {
				d := m.GetData()
				n := len(d) - ed25519.SignatureSize
				return n > 0 && ed25519.Verify(pub, d[:n], d[n:])
			}
			if err := ps.RegisterTopicValidator("/bench/raw", verify, pubsub.WithValidatorInline(true)); err != nil {
				return fail(err)
			}
		}
		if topics[i], err = ps.Join("/bench/raw"); err != nil {
			return fail(err)
		}
	}
	s.pub = topics[topo.publisher]
	for r, idx := range topo.receivers {
		sub, err := topics[idx].Subscribe(pubsub.WithBufferSize(p2p.SubscriptionBuffer))
		if err != nil {
			return fail(err)
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer sub.Cancel()
			for {
				m, err := sub.Next(rctx)
				if err != nil {
					return
				}
				now := time.Now()
				d := m.GetData()
				if len(d) < 5 {
					continue
				}
				if d[0] == 0 {
					arr.warmed(r)
				} else {
					arr.record(r, int(binary.BigEndian.Uint32(d[1:5])), now)
				}
			}
		}()
	}
	// Relay on every host that does not read, so that it forwards, as Kith's nodes do.
	for i, t := range topics {
		if !slices.Contains(topo.receivers, i) {
			if _, err := t.Relay(); err != nil {
				return fail(err)
			}
		}
	}
	for _, e := range topo.edges {
		a, bh := s.hosts[e[0]], s.hosts[e[1]]
		if err := a.Connect(ctx, peer.AddrInfo{ID: bh.ID(), Addrs: bh.Addrs()}); err != nil {
			return fail(err)
		}
	}
	degree := make([]int, topo.hosts)
	for _, e := range topo.edges {
		degree[e[0]]++
		degree[e[1]]++
	}
	for i, t := range topics {
		if err := waitFor(ctx, func() bool { return len(t.ListPeers()) >= degree[i] }, func() string {
			return fmt.Sprintf("raw host %d sees %d of its %d neighbours on the topic", i, len(t.ListPeers()), degree[i])
		}); err != nil {
			return fail(err)
		}
	}
	return s, nil
}

func (s *rawSwarm) message(kind byte, i int) []byte {
	d := make([]byte, s.size)
	d[0] = kind
	binary.BigEndian.PutUint32(d[1:5], uint32(i))
	for j := 5; j < len(d); j++ {
		d[j] = byte('a' + (i+j)%26)
	}
	if s.key != nil {
		n := len(d) - ed25519.SignatureSize
		copy(d[n:], ed25519.Sign(s.key, d[:n]))
	}
	return d
}

// send publishes d, on a floor swarm after writing it durably.
func (s *rawSwarm) send(ctx context.Context, d []byte) error {
	if s.durable != nil {
		if _, err := s.durable.Write(d); err != nil {
			return err
		}
		if err := s.durable.Sync(); err != nil {
			return err
		}
	}
	return s.pub.Publish(ctx, d)
}

func (s *rawSwarm) warmUp(ctx context.Context, k int) error {
	return s.send(ctx, s.message(0, k))
}

func (s *rawSwarm) publish(ctx context.Context, i int) error {
	return s.send(ctx, s.message(1, i))
}

func (s *rawSwarm) close() {
	s.cancel()
	s.wg.Wait()
	for _, h := range s.hosts {
		h.Close()
	}
	if s.durable != nil {
		s.durable.Close()
		os.Remove(s.durable.Name())
	}
}

// warm publishes warm-up messages until every receiver got one: the gossip mesh forms on
// pubsub's heartbeat, and what is published before it reaches only direct neighbours.
func warm(ctx context.Context, s swarm, arr *arrivals) error {
	deadline := time.Now().Add(30 * time.Second)
	for k := 0; !arr.allWarm(); k++ {
		if time.Now().After(deadline) {
			return errors.New("the warm-up messages did not reach every receiver in 30 s")
		}
		if err := s.warmUp(ctx, k); err != nil {
			return err
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	return sleep(ctx, 1100*time.Millisecond) // a heartbeat more: the mesh settles
}

// measured is one side's latencies over a topology.
type measured struct {
	p50, p99  time.Duration
	delivered float64
	publish   time.Duration // the median time a publish call took (for Kith: until stored durably)
}

// runLatency publishes n messages on s, one every pace, and times their arrivals.
func (b *bench) runLatency(ctx context.Context, s swarm, arr *arrivals, n int, pace time.Duration, label string) (measured, error) {
	if err := warm(ctx, s, arr); err != nil {
		return measured{}, err
	}
	sent := make([]time.Time, n)
	calls := make([]time.Duration, n)
	for i := range n {
		sent[i] = time.Now()
		if err := s.publish(ctx, i); err != nil {
			return measured{}, err
		}
		calls[i] = time.Since(sent[i])
		if i%50 == 0 {
			b.progress.countf("%s %d/%d", label, i, n)
		}
		if err := sleep(ctx, pace); err != nil {
			return measured{}, err
		}
	}
	arr.wait(ctx, 5*time.Second)
	if arr.isLagged() {
		return measured{}, errLagged
	}
	lat, delivered, _ := arr.latencies(sent)
	return measured{p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), delivered: delivered, publish: quantile(calls, 0.5)}, nil
}

// latency compares Kith's pipeline with raw gossipsub on one topology: n messages, one every
// pace, on each side.
func (b *bench) latency(ctx context.Context, topo *topology, n int, pace time.Duration) (kith, raw, floor measured, err error) {
	b.progress.stepf("gossip %s: building %d Kith installs", topo.name, topo.hosts)
	karr := newArrivals(len(topo.receivers), n)
	ks, err := b.newKithSwarm(ctx, topo, karr)
	if err != nil {
		return kith, raw, floor, err
	}
	b.progress.stepf("gossip %s", topo.name)
	kith, err = b.runLatency(ctx, ks, karr, n, pace, "Kith")
	ks.close()
	if err != nil {
		return kith, raw, floor, err
	}
	rarr := newArrivals(len(topo.receivers), n)
	rs, err := newRawSwarm(ctx, topo, b.envelopeBytes, rarr)
	if err != nil {
		return kith, raw, floor, err
	}
	raw, err = b.runLatency(ctx, rs, rarr, n, pace, "raw gossipsub")
	rs.close()
	if err != nil {
		return kith, raw, floor, err
	}
	farr := newArrivals(len(topo.receivers), n)
	fs, err := newFloorSwarm(ctx, topo, b.envelopeBytes, farr, b.tmp)
	if err != nil {
		return kith, raw, floor, err
	}
	floor, err = b.runLatency(ctx, fs, farr, n, pace, "floor")
	fs.close()
	return kith, raw, floor, err
}

// chainTopology is k+1 hosts in a line, timed from one end to the other.
func chainTopology(k int) *topology {
	return &topology{name: fmt.Sprintf("chain-%d", k), shape: chain, hosts: k + 1, publisher: 0, receivers: []int{k}, hops: k}
}

// meshTopology is n hosts, each joined through a random earlier one plus two random links; the
// last to join publishes and every other host is timed.
func meshTopology(n int) *topology {
	t := &topology{name: fmt.Sprintf("mesh-%d", n), shape: mesh, hosts: n, publisher: n - 1}
	for i := range n - 1 {
		t.receivers = append(t.receivers, i)
	}
	return t
}

// gossipSuites runs the chains and the mesh. Extra per hop: for a chain of k > 1 hops, Kith's
// extra median latency over raw gossipsub beyond the one-hop chain's, per added hop (what each
// forwarding peer adds); for the one-hop chain, the whole extra (the author's signing,
// encryption and durable write included).
func (b *bench) gossipSuites(ctx context.Context) ([]*suite, error) {
	var out []*suite
	var firstExtra time.Duration
	for _, k := range b.size.chains {
		start := time.Now()
		topo := chainTopology(k)
		kith, raw, floor, err := b.latency(ctx, topo, b.size.latency, b.size.pace)
		if err != nil {
			return out, fmt.Errorf("%s: %w", topo.name, err)
		}
		s := latencySuite(topo, kith, raw, floor)
		extra := kith.p50 - raw.p50
		perHop := extra
		if k == 1 {
			firstExtra = extra
		} else if firstExtra != 0 {
			perHop = (extra - firstExtra) / time.Duration(k-1)
		}
		s.Figures.add("extra_per_hop_us", us(perHop))
		s.Baseline.add("verify_us", b.verifyNs/1000)
		p99ok := float64(s.Ratio) <= 3 && kith.delivered == 1
		if k == 1 {
			s.Target = "p99 ratio ≤ 3; p50 < 1 ms; p99 < 5 ms"
			s.Met = p99ok && kith.p50 < time.Millisecond && kith.p99 < 5*time.Millisecond
		} else {
			s.Target = "p99 ratio ≤ 3; extra per hop ≤ 2× verify"
			s.Met = p99ok && us(perHop) <= 2*b.verifyNs/1000
		}
		s.Seconds = time.Since(start).Seconds()
		out = append(out, s)
	}
	start := time.Now()
	topo := meshTopology(b.size.mesh)
	kith, raw, floor, err := b.latency(ctx, topo, b.size.latency, b.size.pace)
	if err != nil {
		return out, fmt.Errorf("%s: %w", topo.name, err)
	}
	s := latencySuite(topo, kith, raw, floor)
	s.Target = "p99 ratio ≤ 3; p99 < 100 ms"
	s.Met = float64(s.Ratio) <= 3 && kith.p99 < 100*time.Millisecond && kith.delivered == 1
	s.Seconds = time.Since(start).Seconds()
	return append(out, s), nil
}

// latencySuite reports Kith against raw gossipsub (the ratio) and against the floor (signatures
// verified at every hop, the publisher's fsync): p99_of_floor is what Kith adds beyond them.
func latencySuite(topo *topology, kith, raw, floor measured) *suite {
	title := fmt.Sprintf("publish → stored across %d hop(s), %d hosts in a line", topo.hops, topo.hosts)
	if topo.hops == 0 {
		title = fmt.Sprintf("publish → stored on each of %d hosts of a mesh", topo.hosts-1)
	}
	s := &suite{Name: "gossip/" + topo.name, Title: title, RatioOf: "Kith p99 ÷ raw gossipsub p99 (targets also need every message delivered)"}
	s.Figures.add("p50_ms", ms(kith.p50))
	s.Figures.add("p99_ms", ms(kith.p99))
	s.Figures.add("delivered_pct", 100*kith.delivered)
	s.Figures.add("post_p50_ms", ms(kith.publish))
	s.Baseline.add("raw_p50_ms", ms(raw.p50))
	s.Baseline.add("raw_p99_ms", ms(raw.p99))
	s.Baseline.add("floor_p50_ms", ms(floor.p50))
	s.Baseline.add("floor_p99_ms", ms(floor.p99))
	s.Figures.add("p50_of_floor", float64(kith.p50)/float64(floor.p50))
	s.Figures.add("p99_of_floor", float64(kith.p99)/float64(floor.p99))
	s.Ratio = num(float64(kith.p99) / float64(raw.p99))
	return s
}
