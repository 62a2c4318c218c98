// Command kith-lab builds a small internet in network namespaces and runs kithd in it: a
// reachable member that relays, a DHT node, two homes behind NAT routers of two kinds and a
// LAN pair, then checks and times what people do on real networks: joining when no address in
// the invite answers, joining through the relay, talking across two NATs (hole punched where
// the NATs allow it), the relay going away, everyone moving to new addresses and ports, and a
// join that waits for a member to come online. It prints a table and a line of figures.
//
//	kith-lab --kithd PATH [--timeout 12m] [--report FILE] [--json] [--keep] [-v]
//
// It needs root (CI runs as root), iproute2 and nftables; without them it says why and exits 3
// (skipped, not passed). Every address it uses exists only inside the namespaces it creates;
// it deletes them when it ends, also when interrupted, and deletes those of earlier runs that
// were killed. Exit status: 0 every scenario met its target, 1 one did not, 2 usage, 3 skipped.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "hold-port" {
		os.Exit(holdPort(os.Args[2]))
	}
	os.Exit(runLab(os.Args[1:], os.Stdout, os.Stderr))
}

// holdPort binds TCP and UDP port on every address and keeps them until killed (the lab runs it
// inside a namespace to take a member's kept port).
func holdPort(arg string) int {
	p, err := strconv.Atoi(arg)
	if err != nil || p <= 0 {
		return 2
	}
	l, err := net.Listen("tcp4", fmt.Sprintf(":%d", p))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer l.Close()
	u, err := net.ListenPacket("udp4", fmt.Sprintf(":%d", p))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer u.Close()
	fmt.Println("ok")
	select {}
}

func runLab(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kith-lab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kithd := fs.String("kithd", "", "the kithd binary to run (required)")
	timeout := fs.Duration("timeout", 12*time.Minute, "the whole run, at most")
	report := fs.String("report", "", "also write the table as Markdown to this file")
	asJSON := fs.Bool("json", false, "print the rows as JSON")
	keep := fs.Bool("keep", false, "keep the data folders and logs (the namespaces are always deleted)")
	verbose := fs.Bool("v", false, "say what the lab does")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *kithd == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "kith-lab: usage: kith-lab --kithd PATH [--timeout 12m] [--report FILE] [--json] [--keep] [-v]")
		return 2
	}
	bin, err := filepath.Abs(*kithd)
	if err == nil {
		_, err = os.Stat(bin)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kith-lab: no kithd at %s: build it first (go build -o %s ./cmd/kithd)\n", *kithd, *kithd)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if os.Geteuid() == 0 {
		sweepStale(ctx) // before anything is made: a killed run's names may be in the way
	}
	if why := canRun(ctx); why != "" {
		fmt.Fprintln(stdout, "kith-lab: SKIPPED:", why)
		return 3
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "kith-lab:", err)
		return 1
	}
	say := func(format string, a ...any) {
		if *verbose {
			fmt.Fprintf(stderr, "kith-lab: "+format+"\n", a...)
		}
	}
	began := time.Now()
	l, err := build(ctx)
	defer l.teardown()
	if err != nil {
		fmt.Fprintln(stderr, "kith-lab: building the lab:", err)
		return 1
	}
	say("built %d namespaces in %v", len(l.created), time.Since(began).Round(time.Millisecond))
	dir, err := os.MkdirTemp("", "kith-lab-*")
	if err != nil {
		fmt.Fprintln(stderr, "kith-lab:", err)
		return 1
	}
	if *keep {
		fmt.Fprintln(stderr, "kith-lab: data folders and logs in", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	k := &kit{kithd: bin, self: self, lab: l, dir: dir, logLevel: "info"}
	if *verbose {
		k.logLevel = "debug"
	}
	defer k.stopAll()
	w := &world{k: k, verbose: say}
	w.boot = k.newMember("boot", l.hosts["boot"], "--dht-server", "--no-mdns")
	w.boot.listen = []string{"/ip4/0.0.0.0/tcp/4001", "/ip4/0.0.0.0/udp/4001/quic-v1"} // a fixed address, as bootstrap nodes have
	w.relay = k.newMember("relay", l.hosts["relay"], "--relay")
	for _, m := range []struct {
		name string
		slot **member
	}{{"a", &w.a}, {"b", &w.b}, {"c", &w.c}, {"d", &w.d}, {"e", &w.e}, {"f", &w.f}} {
		*m.slot = k.newMember(m.name, l.hosts[m.name])
	}
	if err := w.setup(ctx); err != nil {
		fmt.Fprintln(stderr, "kith-lab: setting up:", firstLine(err.Error()))
		return 1
	}
	for _, step := range []struct {
		name string
		run  func(context.Context)
	}{
		{"LAN pair", w.lanPair},
		{"join through the relay", w.joinThroughRelay},
		{"two homes", w.homes},
		{"relay stops", w.relayStops},
		{"a file over a slow link", w.fileOverASlowLink},
		{"restarts", w.restarts},
		{"waiting join", w.waiting},
	} {
		if ctx.Err() != nil {
			w.fail(step.name, fmt.Errorf("the lab ran out of time (%v) or was interrupted", *timeout))
			break
		}
		say("scenario: %s", step.name)
		t := time.Now()
		step.run(ctx)
		say("  done in %v", time.Since(t).Round(100*time.Millisecond))
	}
	failed := 0
	for _, r := range w.rows {
		if r.Err != "" {
			failed++
		}
	}
	summary := summarize(w.rows, time.Since(began))
	if *asJSON {
		b, _ := json.MarshalIndent(map[string]any{"rows": w.rows, "summary": summary}, "", "  ")
		fmt.Fprintln(stdout, string(b))
	} else {
		fmt.Fprint(stdout, table(w.rows))
		fmt.Fprintln(stdout, summary)
	}
	if *report != "" {
		if err := os.WriteFile(*report, []byte(markdown(w.rows, summary)), 0o644); err != nil {
			fmt.Fprintln(stderr, "kith-lab: writing the report:", err)
			return 1
		}
	}
	if failed > 0 {
		if !*keep {
			fmt.Fprintln(stderr, "kith-lab: run again with --keep -v to keep the members' logs")
		}
		return 1
	}
	return 0
}

// dur prints a duration for the table: "3.2 s", or "-" for none.
func dur(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func status(r row) string {
	if r.Err != "" {
		return "FAIL: " + r.Err
	}
	return "ok"
}

// table is the rows as aligned text.
func table(rows []row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-66s %-8s %-8s %-28s %s\n", "scenario", "join", "message", "path", "result")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-66s %-8s %-8s %-28s %s\n", r.Scenario, dur(r.Join), dur(r.First), r.Path, status(r))
	}
	return b.String()
}

// markdown is the rows as a Markdown table for docs/REACHABILITY.md.
func markdown(rows []row, summary string) string {
	var b strings.Builder
	b.WriteString("| scenario | time to join | time to first message | path | target | result |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.Scenario, dur(r.Join), dur(r.First), r.Path, r.Target, status(r))
	}
	fmt.Fprintf(&b, "\n`%s`\n", summary)
	return b.String()
}

// summarize is the line of figures the lab ends with.
func summarize(rows []row, took time.Duration) string {
	ok := 0
	var figures []string
	for _, r := range rows {
		if r.Err == "" {
			ok++
		}
		switch {
		case strings.HasPrefix(r.Scenario, "LAN pair"):
			figures = append(figures, "LAN join "+dur(r.Join))
		case strings.HasPrefix(r.Scenario, "join through the relay"):
			figures = append(figures, "relay join "+dur(r.Join))
		case strings.HasPrefix(r.Scenario, "every member restarts"):
			figures = append(figures, "talking again after moving "+dur(r.First))
		case strings.HasPrefix(r.Scenario, "no member online"):
			figures = append(figures, "waiting join in "+dur(r.Join)+" after a member came")
		case strings.Contains(r.Scenario, "hole punched"):
			figures = append(figures, "a-c "+r.Path)
		case strings.Contains(r.Scenario, "random ports"):
			figures = append(figures, "a-b "+r.Path)
		case strings.Contains(r.Scenario, "picture over"):
			figures = append(figures, r.Path+", "+dur(r.First)+" while the picture went (the median)")
		}
	}
	return fmt.Sprintf("kith-lab: %d/%d scenarios met their targets in %.0f s; %s", ok, len(rows), took.Seconds(), strings.Join(figures, "; "))
}
