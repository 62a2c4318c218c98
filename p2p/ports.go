package p2p

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"syscall"

	"github.com/libp2p/go-libp2p/core/host"
	ma "github.com/multiformats/go-multiaddr"
)

// Ports are the TCP and UDP port numbers a node listens on (0: none, or not chosen yet).
type Ports struct {
	TCP int `json:"tcp"`
	UDP int `json:"udp"`
}

// autoListen resolves the "automatic" ports of listen addresses (/tcp/0, /udp/0/quic-v1): each
// gets the preferred port of its transport when that port is free on its IP, else one the system
// picks, and QUIC is offered the TCP number first, so that one number reaches both transports (an
// invite then names it once). Addresses with a port of their own are kept as they are. The check
// binds each port a moment and lets it go: another program may take it in between, and New then
// falls back to the addresses as given.
func autoListen(listen []string, prefer Ports) ([]string, error) {
	type slot struct {
		i    int
		host string
		udp  bool
	}
	var slots []slot
	out := make([]string, len(listen))
	for i, s := range listen {
		out[i] = s
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("p2p: start: listen address %q is not a multiaddr (want e.g. /ip4/0.0.0.0/tcp/0): %w", s, err)
		}
		host, err := ipOf(a)
		if err != nil {
			continue // dns or the like: libp2p decides
		}
		if p, err := a.ValueForProtocol(ma.P_TCP); err == nil && p == "0" {
			slots = append(slots, slot{i, host, false})
		} else if p, err := a.ValueForProtocol(ma.P_UDP); err == nil && p == "0" {
			slots = append(slots, slot{i, host, true})
		}
	}
	chosen := Ports{}
	for _, udp := range []bool{false, true} { // TCP first: QUIC is offered its number
		for _, sl := range slots {
			if sl.udp != udp {
				continue
			}
			want := chosen.TCP
			try := []int{prefer.TCP}
			if udp {
				want = chosen.UDP
				try = []int{prefer.UDP, chosen.TCP}
			}
			port := 0
			switch {
			case want != 0 && portFree(sl.host, want, udp):
				port = want // one number for every address of the transport
			default:
				for _, p := range try {
					if p > 0 && p < 1<<16 && portFree(sl.host, p, udp) {
						port = p
						break
					}
				}
				if port == 0 {
					port = freePort(sl.host, udp)
				}
			}
			if port == 0 {
				continue // leave it to libp2p
			}
			if udp {
				chosen.UDP = port
			} else {
				chosen.TCP = port
			}
			out[sl.i] = withPort(listen[sl.i], port, udp)
		}
	}
	return out, nil
}

// ipOf returns the IP of a listen address, for net.Listen.
func ipOf(a ma.Multiaddr) (string, error) {
	if ip, err := a.ValueForProtocol(ma.P_IP4); err == nil {
		return ip, nil
	}
	if ip, err := a.ValueForProtocol(ma.P_IP6); err == nil {
		return ip, nil
	}
	return "", errors.New("no IP")
}

// withPort replaces the first /tcp/0 (or /udp/0) of s with port.
func withPort(s string, port int, udp bool) string {
	proto := "/tcp/0"
	if udp {
		proto = "/udp/0"
	}
	for i := 0; i+len(proto) <= len(s); i++ {
		if s[i:i+len(proto)] == proto && (i+len(proto) == len(s) || s[i+len(proto)] == '/') {
			return s[:i] + proto[:len(proto)-1] + strconv.Itoa(port) + s[i+len(proto):]
		}
	}
	return s
}

// portFree reports whether port can be bound on host now.
func portFree(host string, port int, udp bool) bool {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	if udp {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// inUse returns the first of listen whose port another socket holds now (a fixed port: 0 is
// never in use). libp2p leaves the goroutines of a half-built host running when one of its
// listen addresses fails, so the node looks first.
func inUse(listen []string) (string, bool) {
	for _, s := range listen {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			continue
		}
		host, err := ipOf(a)
		if err != nil {
			continue
		}
		udp := false
		p, err := a.ValueForProtocol(ma.P_TCP)
		if err != nil {
			if p, err = a.ValueForProtocol(ma.P_UDP); err != nil {
				continue
			}
			udp = true
		}
		if p == "0" {
			continue
		}
		addr := net.JoinHostPort(host, p)
		if udp {
			c, err := net.ListenPacket("udp", addr)
			if err == nil {
				_ = c.Close()
			} else if errors.Is(err, syscall.EADDRINUSE) {
				return s, true
			}
			continue
		}
		l, err := net.Listen("tcp", addr)
		if err == nil {
			_ = l.Close()
		} else if errors.Is(err, syscall.EADDRINUSE) {
			return s, true
		}
	}
	return "", false
}

// freePort asks the system for a free port on host; 0 when it has none to give.
func freePort(host string, udp bool) int {
	addr := net.JoinHostPort(host, "0")
	if udp {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return 0
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return 0
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Ports returns the TCP and UDP ports the node listens on (the first of each, when it listens on
// several), for the caller to keep and ask for again at the next start (Config.Ports).
func (n *Node) Ports() Ports {
	var p Ports
	for _, a := range n.host.Network().ListenAddresses() {
		if v, err := a.ValueForProtocol(ma.P_TCP); err == nil && p.TCP == 0 {
			p.TCP, _ = strconv.Atoi(v)
		}
		if v, err := a.ValueForProtocol(ma.P_UDP); err == nil && p.UDP == 0 {
			p.UDP, _ = strconv.Atoi(v)
		}
	}
	return p
}

// relisten listens on the address as given (port 0) wherever a port autoListen chose could not
// be bound after all (another program took it in between): the node then still has every
// transport it was asked for.
func relisten(h host.Host, log *slog.Logger, listen, resolved []string) {
	have := map[string]bool{}
	for _, a := range h.Network().ListenAddresses() {
		have[a.String()] = true
	}
	for i, r := range resolved {
		if r == listen[i] || have[r] {
			continue
		}
		a, err := ma.NewMultiaddr(listen[i])
		if err != nil {
			continue
		}
		if err := h.Network().Listen(a); err != nil {
			log.Warn("cannot listen on this address", "addr", listen[i], "err", err)
		} else {
			log.Debug("a kept port was taken; listening on another", "wanted", r)
		}
	}
}

// CheckListen returns an error naming the first of listen that is not a multiaddr, so that a
// command line can refuse it before starting anything.
func CheckListen(listen []string) error {
	for _, s := range listen {
		if _, err := ma.NewMultiaddr(s); err != nil {
			return fmt.Errorf("listen address %q is not a multiaddr: write it like /ip4/0.0.0.0/tcp/4001 or /ip6/::/udp/4001/quic-v1", s)
		}
	}
	return nil
}
