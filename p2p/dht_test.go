package p2p

import (
	"context"
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDHTRendezvous: a DHT server on 127.0.0.1 and two clients that know only its address: one
// announces itself under a key, the other finds it there, with addresses it can dial, and finds
// it by peer ID too. A node that did not announce is not found.
func TestDHTRendezvous(t *testing.T) {
	server := newNodeWith(t, newKey(t), func(c *Config) { c.DHT = &DHT{Server: true} })
	boot := []string{server.Addrs()[0]}
	a := newNodeWith(t, newKey(t), func(c *Config) { c.DHT = &DHT{Bootstrap: boot} })
	b := newNodeWith(t, newKey(t), func(c *Config) { c.DHT = &DHT{Bootstrap: boot} })
	key := sha256.Sum256([]byte("kith rendezvous test"))
	other := sha256.Sum256([]byte("another key"))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Provide(ctx, key); err != nil {
		t.Fatalf("announce: %v", err)
	}
	// The announcement is sent, not acknowledged: the server may store it a moment later.
	var got []Found
	i := -1
	waitFor(t, 10*time.Second, "the announcement at the server", func() bool {
		var err error
		if got, err = b.FindProviders(ctx, key, 10); err != nil {
			t.Fatalf("look up: %v", err)
		}
		i = slices.IndexFunc(got, func(f Found) bool { return f.ID == a.ID() })
		return i >= 0
	})
	if len(got[i].Addrs) == 0 {
		t.Fatalf("found %+v, want %s with its addresses", got, a.ID())
	}
	if err := b.Dial(ctx, a.ID(), got[i].Addrs); err != nil {
		t.Fatalf("dialling what the DHT gave: %v", err)
	}
	if got, err := b.FindProviders(ctx, other, 10); err != nil || len(got) != 0 {
		t.Fatalf("a key nobody announced: %+v, %v", got, err)
	}
	if f, err := b.FindPeer(ctx, a.ID()); err != nil || f.ID != a.ID() || len(f.Addrs) == 0 {
		t.Fatalf("find by peer ID: %+v, %v", f, err)
	}
	if a.DHTPeers() == 0 || server.DHTPeers() != 0 {
		t.Errorf("routing tables: a client holds %d peers, the server %d; want the server in the client's, no client in the server's", a.DHTPeers(), server.DHTPeers())
	}
}

// TestDHTUnreachable: a bootstrap node that does not answer, or none at all, gives a sentence
// within the caller's time, not a hang or a stack of dial errors.
func TestDHTUnreachable(t *testing.T) {
	dead := newNodeWith(t, newKey(t), func(c *Config) { c.DHT = &DHT{Server: true} })
	boot := dead.Addrs()[0]
	if err := dead.Close(); err != nil {
		t.Fatal(err)
	}
	n := newNodeWith(t, newKey(t), func(c *Config) { c.DHT = &DHT{Bootstrap: []string{boot}} })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	key := sha256.Sum256([]byte("k"))
	if err := n.Provide(ctx, key); !errors.Is(err, ErrDHTUnreachable) {
		t.Fatalf("announce with a dead bootstrap node: %v", err)
	}
	if _, err := n.FindProviders(ctx, key, 5); !errors.Is(err, ErrDHTUnreachable) {
		t.Fatalf("look up with a dead bootstrap node: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("took %v", took)
	}
	none := newNode(t)
	if err := none.Provide(context.Background(), key); !errors.Is(err, ErrNoDHT) {
		t.Fatalf("without a DHT: %v", err)
	}
	if _, err := New(context.Background(), Config{PrivateKey: newKey(t), ListenAddrs: []string{tcpLoopback}, DHT: &DHT{Bootstrap: []string{"not an address"}}}); err == nil || !strings.Contains(err.Error(), "bootstrap address") {
		t.Fatalf("a bootstrap address that is not one: %v", err)
	}
}
