package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// The lab's small internet, all in network namespaces this run creates (named kl<pid>-<name>):
//
//	inet      a switch (bridge) for the internet, 11.0.0.0/24; no route leaves it
//	relay     11.0.0.10  the reachable member (kithd run --relay)
//	boot      11.0.0.11  a DHT node everyone is told about (--bootstrap), like the public
//	                     network's bootstrap nodes (which the lab never dials)
//	home1     router 11.0.0.21, NAT with endpoint-independent, port-preserving mapping;
//	          its LAN 192.168.1.0/24: host a
//	home2     router 11.0.0.22, NAT with random ports for every connection (like a symmetric
//	          NAT); its LAN 192.168.2.0/24: hosts b, e, f
//	home3     router 11.0.0.23, NAT as home1; its LAN 192.168.3.0/24, one bridge: hosts c, d
//
// The internet's addresses are public ones (11.0.0.0/8) on purpose: libp2p treats private ones
// as local (no hole punching to them, no relay through them). They exist only inside the lab's
// namespaces, none of which has an interface outside the lab: nothing can reach the real
// network from here, and nothing outside sees these addresses.

// host is a namespace of the lab with one interface (eth0) on a network.
type host struct {
	name string // short: relay, boot, a, b, ...
	ns   string // the namespace's name
	ip   string // the address on its network, without the prefix length
	lan  string // the home it is in ("" on the internet)
}

// router is a home's router: WAN on the internet, a LAN bridge, a NAT.
type router struct {
	name   string // home1, home2, home3
	ns     string
	wan    string // its internet address
	lan    string // its LAN prefix, e.g. 192.168.1
	random bool   // random ports (symmetric-like) instead of port-preserving
}

// lab is the topology of one run.
type lab struct {
	prefix  string
	hosts   map[string]*host
	routers map[string]*router
	created []string // namespaces created, in order
}

const internet = "11.0.0"

// run runs a command (no shell) and returns its combined output; the error names the command.
func run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// in runs a command inside a namespace.
func (l *lab) in(ctx context.Context, ns string, args ...string) (string, error) {
	return run(ctx, "ip", append([]string{"netns", "exec", ns}, args...)...)
}

// canRun says why the lab cannot run here, or "" when it can: it needs root, ip netns and
// nftables.
func canRun(ctx context.Context) string {
	if os.Geteuid() != 0 {
		return "the lab needs root (it creates network namespaces): run it with sudo, or as root as CI does"
	}
	for _, tool := range []string{"ip", "nft", "tc"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Sprintf("the lab needs %s (apt-get install iproute2 nftables)", tool)
		}
	}
	probe := fmt.Sprintf("kl%d-probe", os.Getpid())
	if _, err := run(ctx, "ip", "netns", "add", probe); err != nil {
		return "this machine does not let the lab create network namespaces: " + firstLine(err.Error())
	}
	defer run(context.Background(), "ip", "netns", "del", probe)
	if _, err := run(ctx, "ip", "netns", "exec", probe, "nft", "list", "ruleset"); err != nil {
		return "nftables does not work in a network namespace here: " + firstLine(err.Error())
	}
	return ""
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// sweepStale deletes the namespaces of earlier runs whose process is gone (a run killed with
// SIGKILL could not clean up after itself). Call it before making any.
func sweepStale(ctx context.Context) {
	out, err := run(ctx, "ip", "netns", "list")
	if err != nil {
		return
	}
	for _, line := range strings.Split(out, "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		rest, ok := strings.CutPrefix(name, "kl")
		if !ok {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil {
			continue
		}
		// This process has made nothing yet: names with its PID are a killed run's (PIDs are
		// reused), and so are those of a PID that is gone.
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); pid == os.Getpid() || errors.Is(err, os.ErrNotExist) {
			_, _ = run(ctx, "ip", "netns", "del", name)
		}
	}
}

// build creates the namespaces, links, addresses, routes and NAT rules.
func build(ctx context.Context) (*lab, error) {
	l := &lab{prefix: fmt.Sprintf("kl%d-", os.Getpid()), hosts: map[string]*host{}, routers: map[string]*router{}}
	ns := func(name string) (string, error) {
		n := l.prefix + name
		if _, err := run(ctx, "ip", "netns", "add", n); err != nil {
			return "", err
		}
		l.created = append(l.created, n)
		_, err := l.in(ctx, n, "ip", "link", "set", "lo", "up")
		return n, err
	}
	inet, err := ns("inet")
	if err != nil {
		return l, err
	}
	steps := [][]string{
		{inet, "ip", "link", "add", "br0", "type", "bridge"},
		{inet, "ip", "link", "set", "br0", "up"},
	}
	if err := l.each(ctx, steps); err != nil {
		return l, err
	}
	// plug links a namespace's eth (named dev there) to a bridge in another namespace.
	plug := func(bridgeNS, bridge, port, target, dev string) error {
		return l.each(ctx, [][]string{
			{bridgeNS, "ip", "link", "add", port, "type", "veth", "peer", "name", dev, "netns", target},
			{bridgeNS, "ip", "link", "set", port, "master", bridge},
			{bridgeNS, "ip", "link", "set", port, "up"},
			{target, "ip", "link", "set", dev, "up"},
		})
	}
	for _, h := range []*host{{name: "relay", ip: internet + ".10"}, {name: "boot", ip: internet + ".11"}} {
		if h.ns, err = ns(h.name); err != nil {
			return l, err
		}
		if err := plug(inet, "br0", "p-"+h.name, h.ns, "eth0"); err != nil {
			return l, err
		}
		if _, err := l.in(ctx, h.ns, "ip", "addr", "add", h.ip+"/24", "dev", "eth0"); err != nil {
			return l, err
		}
		l.hosts[h.name] = h
	}
	homes := []struct {
		r     *router
		hosts []string
	}{
		{&router{name: "home1", wan: internet + ".21", lan: "192.168.1"}, []string{"a"}},
		{&router{name: "home2", wan: internet + ".22", lan: "192.168.2", random: true}, []string{"b", "e", "f"}},
		{&router{name: "home3", wan: internet + ".23", lan: "192.168.3"}, []string{"c", "d"}},
	}
	for _, home := range homes {
		r := home.r
		if r.ns, err = ns(r.name); err != nil {
			return l, err
		}
		masquerade := "masquerade persistent"
		if r.random {
			masquerade = "masquerade random,fully-random"
		}
		nat := fmt.Sprintf("table ip nat { chain post { type nat hook postrouting priority srcnat; policy accept; oifname \"wan\" %s; }; }", masquerade)
		// Like a home router: what comes in from the internet unasked is dropped, not answered
		// with a reset (which would break the simultaneous opens of hole punching).
		firewall := "table inet filter { chain input { type filter hook input priority filter; policy accept; iifname \"wan\" ct state established,related accept; iifname \"wan\" drop; }; chain forward { type filter hook forward priority filter; policy accept; iifname \"wan\" ct state established,related accept; iifname \"wan\" drop; }; }"
		if err := plug(inet, "br0", "p-"+r.name, r.ns, "wan"); err != nil {
			return l, err
		}
		if err := l.each(ctx, [][]string{
			{r.ns, "ip", "addr", "add", r.wan + "/24", "dev", "wan"},
			{r.ns, "ip", "link", "add", "lan", "type", "bridge"},
			{r.ns, "ip", "link", "set", "lan", "up"},
			{r.ns, "ip", "addr", "add", r.lan + ".1/24", "dev", "lan"},
			{r.ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"}, // per namespace
			{r.ns, "nft", nat},
			{r.ns, "nft", firewall},
		}); err != nil {
			return l, err
		}
		l.routers[r.name] = r
		for i, name := range home.hosts {
			h := &host{name: name, ip: fmt.Sprintf("%s.%d", r.lan, 10+i), lan: r.name}
			if h.ns, err = ns(name); err != nil {
				return l, err
			}
			if err := plug(r.ns, "lan", "p-"+name, h.ns, "eth0"); err != nil {
				return l, err
			}
			if err := l.each(ctx, [][]string{
				{h.ns, "ip", "addr", "add", h.ip + "/24", "dev", "eth0"},
				{h.ns, "ip", "route", "add", "default", "via", r.lan + ".1"},
			}); err != nil {
				return l, err
			}
			l.hosts[name] = h
		}
	}
	return l, nil
}

// each runs commands in namespaces: each step is the namespace, then the command.
func (l *lab) each(ctx context.Context, steps [][]string) error {
	for _, s := range steps {
		if _, err := l.in(ctx, s[0], s[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// readdress moves a host to a new address on its network (a new DHCP lease, a new VPS).
func (l *lab) readdress(ctx context.Context, h *host, ip string) error {
	steps := [][]string{
		{h.ns, "ip", "addr", "del", h.ip + "/24", "dev", "eth0"},
		{h.ns, "ip", "addr", "add", ip + "/24", "dev", "eth0"},
	}
	if h.lan != "" {
		steps = append(steps, []string{h.ns, "ip", "route", "replace", "default", "via", l.routers[h.lan].lan + ".1"})
	}
	if err := l.each(ctx, steps); err != nil {
		return err
	}
	h.ip = ip
	return nil
}

// rewan gives a home's router a new internet address (the provider changed it) and drops its
// NAT's mappings.
func (l *lab) rewan(ctx context.Context, r *router, ip string) error {
	if err := l.each(ctx, [][]string{
		{r.ns, "ip", "addr", "del", r.wan + "/24", "dev", "wan"},
		{r.ns, "ip", "addr", "add", ip + "/24", "dev", "wan"},
	}); err != nil {
		return err
	}
	r.wan = ip
	_, _ = l.in(ctx, r.ns, "conntrack", "-F") // best effort: the tool may be missing; mappings time out
	return nil
}

// teardown deletes every namespace the run created (the processes in them are stopped first by
// the caller); it is safe to call twice.
func (l *lab) teardown() {
	if l == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := len(l.created) - 1; i >= 0; i-- {
		_, _ = run(ctx, "ip", "netns", "del", l.created[i])
	}
	l.created = nil
}
