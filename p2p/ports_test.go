package p2p

import (
	"fmt"
	"net"
	"testing"
)

func TestWithPort(t *testing.T) {
	for _, c := range []struct {
		in   string
		port int
		udp  bool
		want string
	}{
		{"/ip4/0.0.0.0/tcp/0", 4001, false, "/ip4/0.0.0.0/tcp/4001"},
		{"/ip4/0.0.0.0/udp/0/quic-v1", 4001, true, "/ip4/0.0.0.0/udp/4001/quic-v1"},
		{"/ip6/::/tcp/0/ws", 9, false, "/ip6/::/tcp/9/ws"},
		{"/ip4/10.0.0.1/tcp/01", 9, false, "/ip4/10.0.0.1/tcp/01"},
	} {
		if got := withPort(c.in, c.port, c.udp); got != c.want {
			t.Errorf("withPort(%q, %d) = %q, want %q", c.in, c.port, got, c.want)
		}
	}
}

// TestAutoListen: automatic ports get the preferred ones when free, one number for TCP and
// QUIC on a first start, a free one when the preferred is taken; explicit ports stay.
func TestAutoListen(t *testing.T) {
	auto := []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
	got, err := autoListen(auto, Ports{})
	if err != nil {
		t.Fatal(err)
	}
	var tcp, udp int
	if _, err := fmt.Sscanf(got[0], "/ip4/127.0.0.1/tcp/%d", &tcp); err != nil || tcp == 0 {
		t.Fatalf("first start: %v", got)
	}
	if _, err := fmt.Sscanf(got[1], "/ip4/127.0.0.1/udp/%d/quic-v1", &udp); err != nil || udp == 0 {
		t.Fatalf("first start: %v", got)
	}
	if tcp != udp {
		t.Logf("TCP %d, UDP %d: the TCP number was taken for UDP", tcp, udp)
	}
	again, err := autoListen(auto, Ports{TCP: tcp, UDP: udp})
	if err != nil || again[0] != got[0] || again[1] != got[1] {
		t.Fatalf("kept ports %d/%d: %v, %v", tcp, udp, again, err)
	}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", tcp))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	moved, err := autoListen(auto, Ports{TCP: tcp, UDP: udp})
	if err != nil || moved[0] == got[0] || moved[0] == auto[0] || moved[1] != got[1] {
		t.Fatalf("kept TCP port taken: %v, %v", moved, err)
	}
	explicit := []string{"/ip4/127.0.0.1/tcp/1234", "/dns4/localhost/tcp/0"}
	if same, err := autoListen(explicit, Ports{TCP: tcp}); err != nil || same[0] != explicit[0] || same[1] != explicit[1] {
		t.Fatalf("explicit: %v, %v", same, err)
	}
	if _, err := autoListen([]string{"not an address"}, Ports{}); err == nil {
		t.Fatal("a listen address that is not a multiaddr was accepted")
	}
}
