package p2p

import (
	"crypto/ed25519"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// TestRefusedSubscriptionIsRemembered: a subscription the PeerFilter refuses keeps the peer off
// the topic even once the filter would admit it (pubsub looks at subscriptions once);
// SubscriptionRefused says so, and a renewed connection brings the peer onto the topic.
func TestRefusedSubscriptionIsRemembered(t *testing.T) {
	var admit atomic.Bool
	a := newNodeWith(t, newKey(t), func(c *Config) {
		c.PeerFilter = func(ed25519.PublicKey, string) bool { return admit.Load() }
	})
	b := newNode(t)
	ta := join(t, a, acceptAll)
	join(t, b, acceptAll)
	connect(t, b, a)
	waitFor(t, 10*time.Second, "a to refuse b's subscription", func() bool { return a.SubscriptionRefused(b.ID(), testTopic) })
	if len(ta.Peers()) != 0 {
		t.Fatal("a lists b on the topic though it refused it")
	}
	admit.Store(true) // b became a member: not looked at again on this connection
	time.Sleep(50 * time.Millisecond)
	if len(ta.Peers()) != 0 || !a.SubscriptionRefused(b.ID(), testTopic) {
		t.Fatal("the refusal was forgotten without a new connection")
	}
	if err := a.Disconnect(b.ID()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the refusal to be forgotten with the connection", func() bool { return !a.SubscriptionRefused(b.ID(), testTopic) })
	connect(t, a, b)
	waitFor(t, 10*time.Second, "b on a's topic after the renewal", func() bool { return slices.Contains(ta.Peers(), b.ID()) })
}
