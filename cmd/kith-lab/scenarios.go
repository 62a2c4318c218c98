package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// row is one line of the lab's table.
type row struct {
	Scenario string        `json:"scenario"`
	Join     time.Duration `json:"join_ns"`         // time to join (0: none in this scenario)
	First    time.Duration `json:"first_ns"`        // time to the first message read across
	Path     string        `json:"path"`            // direct, LAN, relayed (and how it came about)
	Target   string        `json:"target"`          // what the issue asks of it
	Err      string        `json:"error,omitempty"` // why it failed
}

// Targets (the issue's): join within 10 s on a LAN and 30 s through a relay; talking again
// within 10 s of a restart.
const (
	lanJoinTarget   = 10 * time.Second
	relayJoinTarget = 30 * time.Second
	restartTarget   = 10 * time.Second
)

// world is the lab's state across scenarios.
type world struct {
	k                       *kit
	relay, boot, a, b, c, d *member
	e, f                    *member
	lab, studio             string // community IDs
	inviteBefore            string // Lab invite made before every restart
	rows                    []row
	verbose                 func(format string, args ...any)
}

func (w *world) add(r row) { w.rows = append(w.rows, r) }

// fail records a failed scenario.
func (w *world) fail(name string, err error) {
	w.add(row{Scenario: name, Err: firstLine(err.Error())})
}

// invite makes an invite of community at m, printed on stdout.
func (w *world) invite(ctx context.Context, m *member, community string, extra ...string) (string, error) {
	return w.k.kithdIn(ctx, m, append([]string{"invite", "--community", community, "--uses", "20", "--expires", "24h"}, extra...)...)
}

// join runs `kithd join` for m (in its namespace, no runner on its folder) and returns how long
// it took and what it said on stderr.
func (w *world) join(ctx context.Context, m *member, inv string, extra ...string) (time.Duration, string, error) {
	args := append([]string{"join", "--name", strings.ToUpper(m.name[:1]) + m.name[1:], "--timeout", "90s"}, extra...)
	args = append(args, inv)
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", m.host.ns, w.k.kithd, "--data", m.dir}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	w.verbose("%s's join (%v) said:\n%s", m.name, took.Round(10*time.Millisecond), strings.TrimSpace(stderr.String()))
	if err != nil {
		return took, stderr.String(), fmt.Errorf("%s's join: %v: %s", m.name, err, lastLine(stderr.String()))
	}
	return took, stderr.String(), nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// talk posts text from m in community and returns how long until other reads it.
func (w *world) talk(ctx context.Context, m, other *member, community, text string, within time.Duration) (time.Duration, error) {
	start := time.Now()
	if _, err := w.k.kithdIn(ctx, m, "post", "--community", community, text); err != nil {
		return 0, err
	}
	err := waitFor(ctx, within, other.name+" to read "+m.name+"'s message", func() bool { return w.k.reads(ctx, other, community, text) })
	return time.Since(start), err
}

// connectedPath waits until m reaches other and returns the path (direct, LAN, relayed).
func (w *world) connectedPath(ctx context.Context, m, other *member, community string, within time.Duration, want ...string) (string, error) {
	var path string
	err := waitFor(ctx, within, fmt.Sprintf("%s to reach %s%s", m.name, other.name, orWant(want)), func() bool {
		path = w.k.pathTo(ctx, m, other, community)
		if path == "" {
			return false
		}
		if len(want) == 0 {
			return true
		}
		for _, p := range want {
			if p == path {
				return true
			}
		}
		return false
	})
	return path, err
}

func orWant(want []string) string {
	if len(want) == 0 {
		return ""
	}
	return " (" + strings.Join(want, " or ") + ")"
}

// joinAndTalk lets m join with inv (extra: join's flags), starts its kithd, and records how it
// went: the time to join (within target), the path to other and the time until other reads m.
func (w *world) joinAndTalk(ctx context.Context, name string, m, other *member, community, inv string, target time.Duration, extra ...string) {
	took, _, err := w.join(ctx, m, inv, extra...)
	if err == nil {
		err = w.k.start(ctx, m)
	}
	if err != nil {
		w.fail(name, err)
		return
	}
	path, err := w.connectedPath(ctx, m, other, community, 30*time.Second)
	if err != nil {
		w.fail(name, err)
		return
	}
	first, err := w.talk(ctx, m, other, community, "hello from "+m.name, 30*time.Second)
	r := row{Scenario: name, Join: took, First: first, Path: path, Target: fmt.Sprintf("join < %v", target)}
	if err != nil {
		r.Err = firstLine(err.Error())
	} else if took > target {
		r.Err = fmt.Sprintf("took %v, the target is %v", took.Round(100*time.Millisecond), target)
	}
	w.add(r)
}

// setup starts the DHT node and the reachable member, which creates the community "Lab", and
// lets a (home1) and c (home3) join it through the reachable member's invite.
func (w *world) setup(ctx context.Context) error {
	k := w.k
	if err := k.start(ctx, w.boot); err != nil {
		return err
	}
	st, err := k.status(ctx, w.boot)
	if err != nil {
		return err
	}
	k.boot = fmt.Sprintf("/ip4/%s/tcp/4001/p2p/%s", w.boot.host.ip, st.PeerID)
	if w.lab, err = k.kithdIn(ctx, w.relay, "create", "--name", "Lab", "--display-name", "Relay"); err != nil {
		return err
	}
	if err := k.start(ctx, w.relay); err != nil {
		return err
	}
	inv, err := w.invite(ctx, w.relay, w.lab, "--role", "moderator")
	if err != nil {
		return err
	}
	for _, m := range []*member{w.a, w.c} {
		took, _, err := w.join(ctx, m, inv, "--bootstrap", k.boot)
		if err != nil {
			return err
		}
		w.verbose("%s joined Lab through the reachable member in %v", m.name, took.Round(10*time.Millisecond))
		if err := k.start(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// lanPair: d, on the same LAN as c, joins with an invite none of whose addresses answers (the
// relay and a are off, c has moved to another port) and no DHT: mDNS finds c.
func (w *world) lanPair(ctx context.Context) {
	const name = "LAN pair: found by mDNS when no invite address answers"
	k := w.k
	inv, err := w.invite(ctx, w.relay, w.lab)
	if err != nil {
		w.fail(name, err)
		return
	}
	st, err := k.status(ctx, w.c)
	if err != nil {
		w.fail(name, err)
		return
	}
	k.stop(w.relay)
	k.stop(w.a)
	defer func() { // whatever happened here, the next scenarios need them
		for _, m := range []*member{w.relay, w.a, w.c} {
			if err := k.start(ctx, m); err != nil {
				w.fail("restarting "+m.name, err)
			}
		}
	}()
	k.stop(w.c)
	if err := k.holdPorts(ctx, w.c, portOf(st.Addrs, "tcp"), portOf(st.Addrs, "udp")); err != nil {
		w.fail(name, err)
		return
	}
	if err := k.start(ctx, w.c); err != nil {
		w.fail(name, err)
		return
	}
	w.joinAndTalk(ctx, name, w.d, w.c, w.lab, inv, lanJoinTarget) // no --bootstrap: the LAN only
}

// joinThroughRelay: a (home1) creates "Studio", which the reachable member is not in; b (home2,
// random-port NAT) joins it with a's invite, which names a reachable through the relay.
func (w *world) joinThroughRelay(ctx context.Context) {
	const name = "join through the relay (b, random-port NAT, into a's community)"
	k := w.k
	var err error
	if w.studio, err = k.kithdIn(ctx, w.a, "create", "--name", "Studio", "--display-name", "A"); err != nil {
		w.fail(name, err)
		return
	}
	var inv string
	err = waitFor(ctx, 30*time.Second, "a's invite to name its relayed address", func() bool {
		inv, err = w.invite(ctx, w.a, w.studio, "--json")
		return err == nil && strings.Contains(inv, "/p2p-circuit/")
	})
	if err != nil {
		w.fail(name, fmt.Errorf("%w (invite: %s)", err, inv))
		return
	}
	text := regexp.MustCompile(`"invite":"(kith1[a-z0-9]+)"`).FindStringSubmatch(inv)
	if text == nil {
		w.fail(name, fmt.Errorf("invite --json printed %s", inv))
		return
	}
	w.joinAndTalk(ctx, name, w.b, w.a, w.studio, text[1], relayJoinTarget, "--bootstrap", k.boot)
}

// homes: a member in each home talks to another: a and c (both port-preserving NATs) end on a
// direct connection, punched through their NATs (DCUtR); a and b (random ports on b's side)
// stay on the relay.
func (w *world) homes(ctx context.Context) {
	k := w.k
	name := "a (home1) and c (home3) talk: hole punched"
	// c starts again, with both NATs' mappings forgotten (as after a while), so that the direct
	// connection has to be punched afresh and its time counts from a start.
	k.stop(w.c)
	for _, home := range []string{"home1", "home3"} {
		if _, err := k.lab.in(ctx, k.lab.routers[home].ns, "conntrack", "-F"); err != nil {
			w.fail(name, err)
			return
		}
	}
	start := time.Now()
	if err := k.start(ctx, w.c); err != nil {
		w.fail(name, err)
		return
	}
	path, err := w.connectedPath(ctx, w.a, w.c, w.lab, 60*time.Second, "direct")
	if err != nil {
		w.fail(name, fmt.Errorf("%w: the path is %q", err, k.pathTo(ctx, w.a, w.c, w.lab)))
	} else {
		punched := time.Since(start)
		first, err := w.talk(ctx, w.a, w.c, w.lab, "hello from a to c, across two NATs", 10*time.Second)
		r := row{Scenario: name, First: first, Path: fmt.Sprintf("%s (%.1f s after c started)", path, punched.Seconds()), Target: "direct where the NATs allow it"}
		if err != nil {
			r.Err = firstLine(err.Error())
		}
		w.add(r)
	}
	name = "a (home1) and b (home2, random ports) talk"
	path, err = w.connectedPath(ctx, w.a, w.b, w.studio, 30*time.Second)
	if err != nil {
		w.fail(name, err)
		return
	}
	first, err := w.talk(ctx, w.a, w.b, w.studio, "hello from a to b", 30*time.Second)
	r := row{Scenario: name, First: first, Path: path, Target: "talk; relayed where the NATs defeat punching"}
	if err != nil {
		r.Err = firstLine(err.Error())
	}
	w.add(r)
}

// relayStops: with the relay gone, the punched connection between a and c still carries
// messages.
func (w *world) relayStops(ctx context.Context) {
	const name = "the relay stops: the punched connection keeps working"
	k := w.k
	k.stop(w.relay)
	first, err := w.talk(ctx, w.c, w.a, w.lab, "c to a with the relay off", 10*time.Second)
	r := row{Scenario: name, First: first, Path: k.pathTo(ctx, w.c, w.a, w.lab), Target: "still direct"}
	switch {
	case err != nil:
		r.Err = firstLine(err.Error())
	case r.Path != "direct":
		r.Err = fmt.Sprintf("the path is %q", r.Path)
	}
	w.add(r)
	if err := k.start(ctx, w.relay); err != nil {
		w.fail("restarting the relay", err)
	}
}

// Targets of the file scenario (the issue's: a text sent meanwhile is not held up behind the
// file, as it is in apps that send files like messages).
const (
	fileUplink     = "20mbit" // a's uplink while it serves the file (tc tbf)
	fileUplinkBits = 20e6
	fileSize       = 10 << 20
	textTarget     = time.Second     // the median of the texts sent meanwhile
	textWorst      = 2 * time.Second // the slowest of them
	textsMeanwhile = 5
)

// fileOverASlowLink: a's uplink is held to 20 Mbit/s (tc's token bucket on its eth0, which
// queues up to 400 ms); once a's texts reach c by gossip, c fetches a 10 MiB picture a posted,
// and a posts five texts meanwhile, one after the other. They reach c within a second (the
// median; the slowest within two: one sometimes waits behind the link's queue), counting
// kithd's polling (about 0.2 s), not after the queued file; the file goes at half the link's
// rate or more.
func (w *world) fileOverASlowLink(ctx context.Context) {
	const name = "a 10 MiB picture over a 20 Mbit/s uplink; texts meanwhile"
	k := w.k
	r := row{Scenario: name, Target: fmt.Sprintf("texts within %v (median of %d; the slowest %v); the file at half the link's rate or more", textTarget, textsMeanwhile, textWorst)}
	err := func() error {
		data := make([]byte, fileSize)
		if _, err := rand.Read(data); err != nil {
			return err
		}
		path := filepath.Join(k.dir, "first-look.jpg")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
		if _, err := k.kithdIn(ctx, w.a, "post", "--community", w.lab, "--file", path, "a first look"); err != nil {
			return err
		}
		var blob string
		if err := waitFor(ctx, 20*time.Second, "c to get the message with the picture", func() bool {
			blob = k.blobOf(ctx, w.c, w.lab, "first-look.jpg")
			return blob != ""
		}); err != nil {
			return err
		}
		if _, err := k.lab.in(ctx, w.a.host.ns, "tc", "qdisc", "add", "dev", "eth0", "root", "tbf", "rate", fileUplink, "burst", "32kbit", "latency", "400ms"); err != nil {
			return err
		}
		defer k.lab.in(context.Background(), w.a.host.ns, "tc", "qdisc", "del", "dev", "eth0", "root") //nolint:errcheck // the lab goes anyway
		// Gossip between a and c first (after the relay's restart it can take a few seconds, and a
		// text then comes with the next sync instead): what is timed is the file's effect.
		var idle time.Duration
		for i := range 20 {
			d, err := w.talk(ctx, w.a, w.c, w.lab, fmt.Sprintf("a to c before the picture (%d)", i+1), 10*time.Second)
			if err != nil {
				return err
			}
			idle = d
			if d < 500*time.Millisecond {
				break
			}
		}
		fetched := make(chan error, 1)
		start := time.Now()
		go func() {
			_, err := k.kithdIn(ctx, w.c, "fetch", "--community", w.lab, "--out", filepath.Join(k.dir, "c-first-look.jpg"), blob)
			fetched <- err
		}()
		if err := waitFor(ctx, 10*time.Second, "c to have a part of the picture", func() bool { // the file under way
			return k.filesHeld(ctx, w.c, w.lab) >= 1<<20
		}); err != nil {
			return err
		}
		var texts []time.Duration // while the picture goes
		for i := range textsMeanwhile {
			d, err := w.talk(ctx, w.a, w.c, w.lab, fmt.Sprintf("a to c while the picture goes (%d)", i+1), 30*time.Second)
			if err != nil {
				return err
			}
			texts = append(texts, d)
		}
		slices.Sort(texts)
		during, slowest := texts[len(texts)/2], texts[len(texts)-1]
		r.First = during
		if err := <-fetched; err != nil {
			return fmt.Errorf("c's fetch: %w", err)
		}
		took := time.Since(start)
		rate := float64(fileSize*8) / took.Seconds()
		r.Path = fmt.Sprintf("file in %.1f s (%.1f Mbit/s); text %.2f s idle, the slowest meanwhile %.1f s", took.Seconds(), rate/1e6, idle.Seconds(), slowest.Seconds())
		got, err := os.ReadFile(filepath.Join(k.dir, "c-first-look.jpg"))
		switch {
		case err != nil:
			return err
		case !bytes.Equal(got, data):
			return errors.New("c's copy of the picture differs")
		case during > textTarget:
			return fmt.Errorf("texts took %.1f s (the median) while the picture went", during.Seconds())
		case slowest > textWorst:
			return fmt.Errorf("a text took %.1f s while the picture went", slowest.Seconds())
		case rate < fileUplinkBits/2:
			return fmt.Errorf("the file went at %.1f Mbit/s over a %s link", rate/1e6, fileUplink)
		}
		return nil
	}()
	if err != nil {
		r.Err = firstLine(err.Error())
	}
	w.add(r)
}

// restarts: every member stops; the relay and the homes get new addresses, every member's kept
// ports are taken; they start again. Each finds the others (the DHT node kept its address) and
// talks within the target; an invite made before all this admits e.
func (w *world) restarts(ctx context.Context) {
	k := w.k
	name := "every member restarts on new ports and addresses"
	inv, err := w.invite(ctx, w.relay, w.lab)
	if err != nil {
		w.fail(name, err)
		return
	}
	w.inviteBefore = inv
	everyone := []*member{w.relay, w.a, w.c, w.d}
	var ports [][2]int
	for _, m := range everyone {
		st, err := k.status(ctx, m)
		if err != nil {
			w.fail(name, err)
			return
		}
		ports = append(ports, [2]int{portOf(st.Addrs, "tcp"), portOf(st.Addrs, "udp")})
	}
	k.stop(w.b)
	for _, m := range everyone {
		k.stop(m)
	}
	moves := []error{
		w.k.lab.readdress(ctx, w.relay.host, internet+".110"),
		w.k.lab.rewan(ctx, w.k.lab.routers["home1"], internet+".121"),
		w.k.lab.rewan(ctx, w.k.lab.routers["home3"], internet+".123"),
		w.k.lab.readdress(ctx, w.a.host, "192.168.1.20"),
		w.k.lab.readdress(ctx, w.c.host, "192.168.3.20"),
		w.k.lab.readdress(ctx, w.d.host, "192.168.3.21"),
	}
	for i, m := range everyone {
		moves = append(moves, k.holdPorts(ctx, m, ports[i][0], ports[i][1]))
	}
	for _, err := range moves {
		if err != nil {
			w.fail(name, err)
			return
		}
	}
	var wg sync.WaitGroup
	starts := make([]error, len(everyone))
	began := time.Now()
	for i, m := range everyone {
		wg.Add(1)
		go func() { defer wg.Done(); starts[i] = k.start(ctx, m) }()
	}
	wg.Wait()
	for _, err := range starts {
		if err != nil {
			w.fail(name, err)
			return
		}
	}
	// Talking again: each home member reads a message the relay writes now.
	var worst time.Duration
	for _, m := range []*member{w.a, w.c, w.d} {
		text := "after the move, to " + m.name
		_, err := w.talk(ctx, w.relay, m, w.lab, text, 60*time.Second)
		if err != nil {
			w.fail(name, err)
			return
		}
		worst = max(worst, time.Since(began))
	}
	r := row{Scenario: name, First: worst, Path: "found again at the rendezvous", Target: "every home member reads the relay < 10 s after the restart began"}
	if worst > restartTarget {
		r.Err = fmt.Sprintf("took %v, the target is %v", worst.Round(100*time.Millisecond), restartTarget)
	}
	w.add(r)

	name = "an invite made before every move still admits"
	took, _, err := w.join(ctx, w.e, w.inviteBefore, "--bootstrap", k.boot)
	if err != nil {
		w.fail(name, err)
		return
	}
	if err := k.start(ctx, w.e); err != nil {
		w.fail(name, err)
		return
	}
	path, _ := w.connectedPath(ctx, w.e, w.relay, w.lab, 20*time.Second)
	first, err := w.talk(ctx, w.e, w.relay, w.lab, "e joined with an old invite", 30*time.Second)
	r = row{Scenario: name, Join: took, First: first, Path: path, Target: "admits"}
	if err != nil {
		r.Err = firstLine(err.Error())
	}
	w.add(r)
}

// waiting: no member of Lab is online; f's join says it waits, and gets in once the relay is
// back.
func (w *world) waiting(ctx context.Context) {
	const name = "no member online: the join waits, then gets in"
	k := w.k
	inv, err := w.invite(ctx, w.relay, w.lab)
	if err != nil {
		w.fail(name, err)
		return
	}
	for _, m := range []*member{w.relay, w.a, w.c, w.d, w.e} {
		k.stop(m)
	}
	type result struct {
		stderr string
		err    error
	}
	res := make(chan result, 1)
	said := make(chan struct{})
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", w.f.host.ns, k.kithd, "--data", w.f.dir,
		"join", "--name", "F", "--timeout", "120s", "--bootstrap", k.boot, inv)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	pipe, err := cmd.StderrPipe()
	if err != nil {
		w.fail(name, err)
		return
	}
	if err := cmd.Start(); err != nil {
		w.fail(name, err)
		return
	}
	go func() {
		var all strings.Builder
		sc := bufio.NewScanner(pipe)
		once := sync.Once{}
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "no member is online yet; trying again") {
				once.Do(func() { close(said) })
			}
		}
		res <- result{all.String(), cmd.Wait()}
	}()
	// The join says it waits; then the relay comes back.
	select {
	case <-said:
	case <-time.After(60 * time.Second):
	case <-ctx.Done():
		w.fail(name, ctx.Err())
		return
	}
	back := time.Now()
	if err := k.start(ctx, w.relay); err != nil {
		w.fail(name, err)
		return
	}
	got := <-res
	w.verbose("f's join said:\n%s", strings.TrimSpace(got.stderr))
	r := row{Scenario: name, Join: time.Since(back), Path: "", Target: "says it waits; in once a member is online (time from the relay's start)"}
	switch {
	case got.err != nil:
		r.Err = firstLine(got.err.Error())
	case !strings.Contains(got.stderr, "no member is online yet; trying again"):
		r.Err = "the join did not say it was waiting: " + lastLine(got.stderr)
	default:
		if err := k.start(ctx, w.f); err != nil {
			r.Err = err.Error()
			break
		}
		r.Path, _ = w.connectedPath(ctx, w.f, w.relay, w.lab, 20*time.Second)
		first, err := w.talk(ctx, w.f, w.relay, w.lab, "f got in after waiting", 20*time.Second)
		r.First = first
		if err != nil {
			r.Err = firstLine(err.Error())
		}
	}
	w.add(r)
}

// portOf is the port of the first direct address of a transport (tcp, or udp for QUIC) in
// addrs (a relayed address names the relay's port).
func portOf(addrs []string, proto string) int {
	for _, a := range addrs {
		if strings.Contains(a, "/p2p-circuit") {
			continue
		}
		parts := strings.Split(a, "/")
		for i := 0; i+1 < len(parts); i++ {
			if parts[i] == proto {
				var p int
				fmt.Sscanf(parts[i+1], "%d", &p)
				if p > 0 {
					return p
				}
			}
		}
	}
	return 0
}
