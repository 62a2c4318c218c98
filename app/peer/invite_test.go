package peer

import (
	"slices"
	"testing"
	"time"
)

// TestDirectAddrs: an invite names public addresses first, then the LAN's, loopback only when
// there is nothing else, never link-local or unspecified ones, and what it cannot carry (DNS,
// relayed, another peer's) is left out.
func TestDirectAddrs(t *testing.T) {
	const id = "12D3KooWSMEfp23nkXx9UuyF5nykDUwxJD1usCzaazYwjQL1tYcA"
	got := directAddrs(id, []string{
		"/ip4/127.0.0.1/tcp/4001/p2p/" + id,
		"/ip6/::1/tcp/4001/p2p/" + id,
		"/ip4/192.168.1.20/tcp/4001/p2p/" + id,
		"/ip6/fe80::1/tcp/4001/p2p/" + id,
		"/ip4/0.0.0.0/tcp/4001/p2p/" + id,
		"/dns4/example.org/tcp/443/p2p/" + id,
		"/ip4/203.0.113.9/tcp/4001/p2p/QmOther",
		"/ip4/11.0.0.10/tcp/4001/p2p/QmRelay/p2p-circuit/p2p/" + id,
		"/ip4/198.51.100.7/udp/4001/quic-v1/p2p/" + id,
		"/ip4/198.51.100.7/tcp/4001",
	}, 4)
	want := []string{"/ip4/198.51.100.7/udp/4001/quic-v1", "/ip4/198.51.100.7/tcp/4001", "/ip4/192.168.1.20/tcp/4001"}
	if !slices.Equal(got, want) {
		t.Fatalf("directAddrs = %v, want %v", got, want)
	}
	loop := directAddrs(id, []string{"/ip4/127.0.0.1/tcp/1/p2p/" + id, "/ip6/::1/tcp/1/p2p/" + id}, 4)
	if !slices.Equal(loop, []string{"/ip4/127.0.0.1/tcp/1", "/ip6/::1/tcp/1"}) {
		t.Fatalf("loopback only: %v", loop)
	}
	if relay, addr, ok := relayOf("/ip4/11.0.0.10/tcp/4001/p2p/QmRelay/p2p-circuit/p2p/"+id, id); !ok || relay != "QmRelay" || addr != "/ip4/11.0.0.10/tcp/4001" {
		t.Fatalf("relayOf = %q %q %v", relay, addr, ok)
	}
}

func TestSpell(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 4 * time.Second: "4s", 10 * time.Second: "10s", 20 * time.Second: "20s",
		time.Minute: "1m", 90 * time.Second: "1m30s", 2 * time.Hour: "2h", 90 * time.Minute: "1h30m",
	} {
		if got := spell(d); got != want {
			t.Errorf("spell(%v) = %q, want %q", d, got, want)
		}
	}
}
