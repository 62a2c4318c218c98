package peer

import (
	"fmt"
	"slices"
	"testing"
)

// TestBootstrap: an invite carries at most 8 addresses, direct ones first, and keeps room for
// two relayed ones however many direct addresses the host has.
func TestBootstrap(t *testing.T) {
	var addrs []string
	for i := range 12 {
		addrs = append(addrs, fmt.Sprintf("/ip4/10.0.0.%d/tcp/4001/p2p/QmPeer", i))
	}
	circuit := []string{"/ip4/1.2.3.4/tcp/4001/p2p/QmRelay/p2p-circuit/p2p/QmPeer", "/ip4/5.6.7.8/udp/1/quic-v1/p2p/QmR2/p2p-circuit/p2p/QmPeer", "/ip4/9.9.9.9/tcp/1/p2p/QmR3/p2p-circuit/p2p/QmPeer"}
	got := bootstrap(append(slices.Clone(circuit[:1]), append(addrs, circuit[1:]...)...))
	if len(got) != 8 || !slices.Equal(got[:6], addrs[:6]) || !slices.Equal(got[6:], circuit[:2]) {
		t.Fatalf("bootstrap: %v", got)
	}
	if got := bootstrap(addrs[:3]); !slices.Equal(got, addrs[:3]) {
		t.Fatalf("few addresses: %v", got)
	}
}
