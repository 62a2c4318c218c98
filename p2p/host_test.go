package p2p

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pb "github.com/libp2p/go-libp2p-pubsub/pb"
)

const (
	tcpLoopback  = "/ip4/127.0.0.1/tcp/0"
	quicLoopback = "/ip4/127.0.0.1/udp/0/quic-v1"
	testTopic    = "kith-test"
)

// newNode starts a Node listening on addrs (loopback TCP by default) and
// closes it when the test ends.
func newNode(t *testing.T, addrs ...string) *Node {
	t.Helper()
	if len(addrs) == 0 {
		addrs = []string{tcpLoopback}
	}
	return newNodeWith(t, newKey(t), func(c *Config) { c.ListenAddrs = addrs })
}

// newNodeWith starts a Node with key on loopback TCP, after edit (if not nil)
// has changed its Config, and closes it when the test ends.
func newNodeWith(t *testing.T, key ed25519.PrivateKey, edit func(*Config)) *Node {
	t.Helper()
	cfg := Config{
		PrivateKey:  key,
		ListenAddrs: []string{tcpLoopback},
		MessageID:   func(d []byte) (string, error) { return string(d), nil },
		Logger:      slog.New(slog.DiscardHandler),
	}
	if edit != nil {
		edit(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// newKey returns a fresh Ed25519 private key.
func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func acceptAll(context.Context, string, []byte) Verdict { return Accept }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	waitForStatus(t, timeout, what, func() string { return "" }, cond)
}

// waitForStatus is waitFor that reports status() on timeout.
func waitForStatus(t *testing.T, timeout time.Duration, what string, status func() string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s %s", timeout, what, status())
		}
		<-tick.C
	}
}

// connect dials b from a, over b's first address.
func connect(t *testing.T, a, b *Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Connect(ctx, b.Addrs()[0]); err != nil {
		t.Fatalf("connect: %v", err)
	}
}

func join(t *testing.T, n *Node, v Validator) *Topic {
	t.Helper()
	tp, err := n.Join(testTopic, v)
	if err != nil {
		t.Fatalf("join: %v", err)
	}
	return tp
}

// waitPeers waits until each topic sees want other peers in the topic.
func waitPeers(t *testing.T, want int, topics ...*Topic) {
	t.Helper()
	waitFor(t, 15*time.Second, "topic peers", func() bool {
		for _, tp := range topics {
			if len(tp.Peers()) < want {
				return false
			}
		}
		return true
	})
}

// collector reads a Messages channel into a set.
type collector struct {
	mu     sync.Mutex
	seen   map[string]int
	locals int
}

func collect(t *testing.T, tp *Topic) *collector {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch, err := tp.Messages(ctx)
	if err != nil {
		t.Fatalf("messages: %v", err)
	}
	c := &collector{seen: make(map[string]int)}
	go func() {
		for m := range ch {
			c.mu.Lock()
			c.seen[string(m.Data)]++
			if m.Local {
				c.locals++
			}
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *collector) count(prefix string) (unique, dups int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, n := range c.seen {
		if strings.HasPrefix(k, prefix) {
			unique++
			dups += n - 1
		}
	}
	return unique, dups
}

func payload(prefix string, i int) []byte {
	// Realistic size for a small signed event.
	return fmt.Appendf(nil, "%s%05d:%s", prefix, i, bytes.Repeat([]byte{'x'}, 300))
}

func publishBurst(t *testing.T, tp *Topic, prefix string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range n {
		if err := tp.Publish(ctx, payload(prefix, i)); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
}

func TestBurstOf2000ReachesEveryPeerTCP(t *testing.T) {
	a, b, c := newNode(t), newNode(t), newNode(t)
	connect(t, a, b)
	connect(t, a, c)
	connect(t, b, c)
	ta, tb, tc := join(t, a, acceptAll), join(t, b, acceptAll), join(t, c, acceptAll)
	cb, cc := collect(t, tb), collect(t, tc)
	waitPeers(t, 2, ta, tb, tc)

	const n = 2000
	start := time.Now()
	publishBurst(t, ta, "m", n)
	status := func() string {
		ub, _ := cb.count("m")
		uc, _ := cc.count("m")
		return fmt.Sprintf("b has %d, c has %d", ub, uc)
	}
	waitForStatus(t, 60*time.Second, "2,000 messages at both peers", status, func() bool {
		ub, _ := cb.count("m")
		uc, _ := cc.count("m")
		return ub == n && uc == n
	})
	t.Logf("burst of %d delivered to 2 peers in %v", n, time.Since(start))
	for name, col := range map[string]*collector{"b": cb, "c": cc} {
		if _, dups := col.count("m"); dups != 0 {
			t.Errorf("%s: %d duplicate deliveries, want 0 (message ID dedup)", name, dups)
		}
		if col.locals != 0 {
			t.Errorf("%s: %d messages marked Local, want 0", name, col.locals)
		}
	}
}

func TestBurstOverQUIC(t *testing.T) {
	a, b := newNode(t, quicLoopback), newNode(t, quicLoopback)
	for _, addr := range b.Addrs() {
		if !strings.Contains(addr, "/quic-v1/p2p/"+b.ID()) {
			t.Fatalf("address %q: want a QUIC address ending in /p2p/<id>", addr)
		}
	}
	connect(t, a, b)
	ta, tb := join(t, a, acceptAll), join(t, b, acceptAll)
	ca, cb := collect(t, ta), collect(t, tb)
	waitPeers(t, 1, ta, tb)

	const n = 2000
	publishBurst(t, ta, "q", n)
	status := func() string {
		ua, _ := ca.count("q")
		ub, _ := cb.count("q")
		return fmt.Sprintf("a has %d, b has %d", ua, ub)
	}
	waitForStatus(t, 60*time.Second, "2,000 messages over QUIC", status, func() bool {
		u, _ := cb.count("q")
		return u == n
	})
	// The publisher's own subscription sees its messages, marked Local.
	waitFor(t, 10*time.Second, "own messages delivered locally", func() bool {
		u, _ := ca.count("q")
		return u == n
	})
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if ca.locals != n {
		t.Errorf("publisher: %d messages marked Local, want %d", ca.locals, n)
	}
}

func TestValidatorRejectDropsMessages(t *testing.T) {
	// rejectBad rejects data starting with "bad" and counts the rejections.
	rejectBad := func(count *atomic.Int64) Validator {
		return func(_ context.Context, _ string, data []byte) Verdict {
			if bytes.HasPrefix(data, []byte("bad")) {
				count.Add(1)
				return Reject
			}
			return Accept
		}
	}
	a, b, c := newNode(t), newNode(t), newNode(t)
	connect(t, a, b)
	connect(t, a, c)
	connect(t, b, c)
	var rejB, rejC atomic.Int64
	ta := join(t, a, acceptAll) // a careless (or malicious) publisher
	tb, tc := join(t, b, rejectBad(&rejB)), join(t, c, rejectBad(&rejC))
	cb, cc := collect(t, tb), collect(t, tc)
	waitPeers(t, 2, ta, tb, tc)

	const good, bad = 100, 5
	ctx := context.Background()
	for i := range good {
		if i < bad {
			if err := ta.Publish(ctx, payload("bad", i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := ta.Publish(ctx, payload("good", i)); err != nil {
			t.Fatal(err)
		}
	}
	// Once the validators have rejected every bad message, pubsub has
	// dropped them: nothing later can deliver them.
	waitFor(t, 30*time.Second, "good messages delivered and bad ones rejected", func() bool {
		ub, _ := cb.count("good")
		uc, _ := cc.count("good")
		return ub == good && uc == good && rejB.Load() == bad && rejC.Load() == bad
	})
	if u, _ := cb.count("bad"); u != 0 {
		t.Errorf("b received %d rejected messages", u)
	}
	if u, _ := cc.count("bad"); u != 0 {
		t.Errorf("c received %d rejected messages", u)
	}

	// Our own validator guards our own publications.
	if err := tb.Publish(ctx, []byte("bad-local")); !errors.Is(err, ErrRejected) {
		t.Errorf("publish of data our validator rejects: err = %v, want ErrRejected", err)
	}
}

func TestValidatorPanicAndZeroVerdictReject(t *testing.T) {
	n := newNode(t)
	tp, err := n.Join("panics", func(_ context.Context, _ string, data []byte) Verdict {
		if string(data) == "zero" {
			return 0
		}
		panic("validator bug")
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"zero", "boom"} {
		if err := tp.Publish(context.Background(), []byte(d)); !errors.Is(err, ErrRejected) {
			t.Errorf("publish %q: err = %v, want ErrRejected", d, err)
		}
	}
}

func TestVerdictMapping(t *testing.T) {
	for v, want := range map[Verdict]string{Accept: "accept", Reject: "reject", Ignore: "ignore", 0: "invalid(0)", 9: "invalid(9)"} {
		if v.String() != want {
			t.Errorf("Verdict(%d).String() = %q, want %q", int(v), v.String(), want)
		}
	}
	if Verdict(0).result() != Reject.result() || Verdict(42).result() != Reject.result() {
		t.Error("unknown verdicts must map to Reject")
	}
}

func TestMessageIDFallback(t *testing.T) {
	f := messageIDFunc(func(d []byte) (string, error) {
		if len(d) == 0 {
			return "", errors.New("empty")
		}
		return "ev:" + string(d), nil
	})
	msg := func(d string) *pb.Message { return &pb.Message{Data: []byte(d)} }
	if got := f(msg("x")); got != "ev:x" {
		t.Errorf("id = %q, want ev:x", got)
	}
	if got := f(msg("")); !strings.HasPrefix(got, "sha256:") {
		t.Errorf("id on error = %q, want a sha256: fallback", got)
	}
	if a, b := messageIDFunc(nil)(msg("1")), messageIDFunc(nil)(msg("2")); a == b {
		t.Error("default IDs of different data are equal")
	}
}

func TestConfigAndCallErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := New(ctx, Config{PrivateKey: make([]byte, 10)}); err == nil || !strings.Contains(err.Error(), "ed25519.GenerateKey") {
		t.Errorf("short key: err = %v", err)
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := New(ctx, Config{PrivateKey: key, ListenAddrs: []string{"127.0.0.1:4001"}}); err == nil {
		t.Error("non-multiaddr listen address accepted")
	}

	n := newNode(t)
	if err := n.Connect(ctx, "/ip4/127.0.0.1/tcp/1"); err == nil || !strings.Contains(err.Error(), "/p2p/") {
		t.Errorf("connect without peer ID: err = %v", err)
	}
	if err := n.Connect(ctx, n.Addrs()[0]); err == nil {
		t.Error("connect to self accepted")
	}
	if _, err := n.Join("t", nil); err == nil {
		t.Error("nil validator accepted")
	}
	tp := join(t, n, acceptAll)
	if _, err := n.Join(testTopic, acceptAll); err == nil {
		t.Error("second join of the same topic accepted")
	}
	if err := tp.Publish(ctx, make([]byte, MaxMessageSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized publish: err = %v, want ErrTooLarge", err)
	}
}

func TestCloseTwiceAndNoGoroutineLeft(t *testing.T) {
	// Everything this test starts must be gone after Close: nodes, pubsub,
	// readers, and with them b's relay service, mDNS, guest janitor and
	// event goroutines, and a's AutoRelay. (Measured: 2 goroutines before,
	// about 100 while running, 2 after.)
	baseline := runtime.NumGoroutine()

	aKey, bKey := newKey(t), newKey(t)
	b := newNodeWith(t, bKey, func(c *Config) {
		c.ListenAddrs = []string{tcpLoopback, quicLoopback}
		c.Relay, c.MDNS = true, true
		c.Member = func(k ed25519.PublicKey) bool { return bytes.Equal(k, aKey.Public().(ed25519.PublicKey)) }
	})
	a := newNodeWith(t, aKey, func(c *Config) {
		c.ListenAddrs = []string{tcpLoopback, quicLoopback}
		c.RelayCandidates = b.Addrs
		c.Member = func(k ed25519.PublicKey) bool { return bytes.Equal(k, bKey.Public().(ed25519.PublicKey)) }
	})
	var notified atomic.Int64
	a.Notify(func(string, bool) { notified.Add(1) })
	addrB := b.Addrs()[0]
	connect(t, a, b)
	// a holds a reservation on b's relay.
	waitFor(t, 20*time.Second, "a's relay reservation", func() bool {
		info := b.host.ConnManager().GetTagInfo(a.host.ID())
		return info != nil && info.Tags["relay-reservation"] > 0
	})
	waitFor(t, 10*time.Second, "a Notify call", func() bool { return notified.Load() > 0 })
	ta, tb := join(t, a, acceptAll), join(t, b, acceptAll)
	ctx, cancel := context.WithCancel(context.Background())
	chB, err := tb.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	chB2, err := tb.Messages(context.Background()) // ended by Close, not by ctx
	if err != nil {
		t.Fatal(err)
	}
	waitPeers(t, 1, ta, tb)
	if err := ta.Publish(ctx, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if m := <-chB; string(m.Data) != "hello" || m.From != a.ID() || m.ID != "hello" {
		t.Errorf("got %+v, want hello from a", m)
	}
	cancel()
	waitClosed(t, chB)

	if err := ta.Close(); err != nil {
		t.Errorf("topic close: %v", err)
	}
	if err := ta.Close(); err != nil {
		t.Errorf("second topic close: %v", err)
	}
	if err := ta.Publish(context.Background(), []byte("late")); !errors.Is(err, ErrClosed) {
		t.Errorf("publish on closed topic: err = %v, want ErrClosed", err)
	}
	if _, err := a.Join(testTopic, acceptAll); err != nil {
		t.Errorf("rejoin after topic close: %v", err)
	}
	for _, n := range []*Node{a, b} {
		if err := n.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := n.Close(); err != nil {
			t.Errorf("second close: %v", err)
		}
	}
	waitClosed(t, chB2)
	if _, err := a.Join("other", acceptAll); !errors.Is(err, ErrClosed) {
		t.Errorf("join after close: err = %v, want ErrClosed", err)
	}
	if err := a.Connect(context.Background(), addrB); !errors.Is(err, ErrClosed) {
		t.Errorf("connect after close: err = %v, want ErrClosed", err)
	}

	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines still running, baseline %d:\n%s", runtime.NumGoroutine(), baseline, buf)
		}
		<-tick.C
	}
}

func waitClosed(t *testing.T, ch <-chan Message) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("Messages channel not closed")
		}
	}
}

// TestImportsNoKithPackage keeps p2p a leaf: it moves bytes and must not
// depend on app/ or storage/.
func TestImportsNoKithPackage(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for dep := range strings.FieldsSeq(string(out)) {
		if strings.HasPrefix(dep, "github.com/kith-app/kith/") && dep != "github.com/kith-app/kith/p2p" {
			t.Errorf("p2p imports %s; it must import no Kith package (declare an interface instead)", dep)
		}
		if slices.Contains([]string{"fyne.io/fyne/v2", "github.com/dgraph-io/badger/v4"}, dep) {
			t.Errorf("p2p imports %s", dep)
		}
	}
}
