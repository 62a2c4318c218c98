package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kith-app/kith/app/peer"
)

// member is a Kith install in the lab: a data folder, the host it runs on, and its kithd run
// while it runs.
type member struct {
	name   string // how tables call it: relay, a, b, ...
	host   *host
	dir    string
	flags  []string // kithd run's flags beyond the lab's own
	listen []string // kithd run's --listen (nil: automatic ports on every interface, TCP and QUIC)

	mu   sync.Mutex
	cmd  *exec.Cmd     // nil while stopped
	done chan struct{} // closed when cmd ends
}

// kit is what the lab's members share: the kithd binary, the lab, the folder with the data.
type kit struct {
	kithd    string
	self     string // this binary, for hold-port
	lab      *lab
	dir      string
	boot     string // the boot node's address, once it runs
	logLevel string // kithd run's --log-level

	mu      sync.Mutex
	members []*member
	holders []*exec.Cmd // hold-port processes
}

func (k *kit) newMember(name string, h *host, flags ...string) *member {
	m := &member{name: name, host: h, dir: filepath.Join(k.dir, name), flags: flags}
	k.mu.Lock()
	k.members = append(k.members, m)
	k.mu.Unlock()
	return m
}

// kithdIn runs a kithd command in m's namespace on m's folder and returns its stdout; the error
// carries its stderr.
func (k *kit) kithdIn(ctx context.Context, m *member, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", m.host.ns, k.kithd, "--data", m.dir}, args...)...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("kithd %s (%s): %v: %s", strings.Join(args, " "), m.name, err, strings.TrimSpace(errOut.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// start runs `kithd run` for m in its namespace, logging to <dir>.log, and waits until its
// control socket answers.
func (k *kit) start(ctx context.Context, m *member) error {
	m.mu.Lock()
	if m.cmd != nil {
		m.mu.Unlock()
		return nil
	}
	listen := m.listen
	if listen == nil {
		listen = []string{"/ip4/0.0.0.0/tcp/0", "/ip4/0.0.0.0/udp/0/quic-v1"}
	}
	args := []string{"netns", "exec", m.host.ns, k.kithd, "--data", m.dir, "run",
		"--sync-every", "2s", "--log-format", "json", "--log-level", k.logLevel}
	for _, l := range listen {
		args = append(args, "--listen", l)
	}
	if k.boot != "" {
		args = append(args, "--bootstrap", k.boot)
	}
	args = append(args, m.flags...)
	log, err := os.OpenFile(m.dir+".log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		m.mu.Unlock()
		return err
	}
	cmd := exec.Command("ip", args...)
	cmd.Stdout, cmd.Stderr = log, log
	// libp2p's own logs of what the lab is about, in the same file.
	cmd.Env = append(os.Environ(), "GOLOG_LOG_LEVEL=error,p2p-holepunch=debug,autorelay=info,relay=info,p2p-circuit=info,basichost=info", "GOLOG_LOG_FORMAT=json")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives the lab
	if err := cmd.Start(); err != nil {
		log.Close()
		m.mu.Unlock()
		return fmt.Errorf("starting %s: %w", m.name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); log.Close(); close(done) }()
	m.cmd, m.done = cmd, done
	m.mu.Unlock()
	err = waitFor(ctx, 30*time.Second, m.name+" to come online", func() bool {
		select {
		case <-done:
			return true // it ended: said below
		default:
		}
		st, err := k.status(ctx, m)
		return err == nil && st.Running
	})
	select {
	case <-done:
		m.mu.Lock()
		m.cmd = nil
		m.mu.Unlock()
		return fmt.Errorf("%s's kithd ended as it started (see %s.log)", m.name, m.dir)
	default:
	}
	return err
}

// stop stops m's kithd (SIGTERM, then SIGKILL after 10 s) and waits for it.
func (k *kit) stop(m *member) {
	m.mu.Lock()
	cmd, done := m.cmd, m.done
	m.cmd = nil
	m.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// stopAll stops every member and every port holder.
func (k *kit) stopAll() {
	k.mu.Lock()
	members, holders := k.members, k.holders
	k.holders = nil
	k.mu.Unlock()
	var wg sync.WaitGroup
	for _, m := range members {
		wg.Add(1)
		go func() { defer wg.Done(); k.stop(m) }()
	}
	wg.Wait()
	for _, h := range holders {
		_ = h.Process.Kill()
		_ = h.Wait()
	}
}

// holdPorts binds TCP and UDP port in m's namespace (as another program would) until the lab
// releases it: m's kept port is taken, so its next start picks a new one.
func (k *kit) holdPorts(ctx context.Context, m *member, ports ...int) error {
	held := map[int]bool{}
	for _, p := range ports {
		if p == 0 || held[p] {
			continue // one holder takes TCP and UDP
		}
		held[p] = true
		cmd := exec.Command("ip", "netns", "exec", m.host.ns, k.self, "hold-port", fmt.Sprint(p))
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		var errOut strings.Builder
		cmd.Stderr = &errOut
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		line, _ := bufio.NewReader(out).ReadString('\n')
		if line != "ok\n" {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return fmt.Errorf("holding port %d in %s failed: %q %s", p, m.name, line, errOut.String())
		}
		k.mu.Lock()
		k.holders = append(k.holders, cmd)
		k.mu.Unlock()
	}
	return nil
}

// status is `kithd status --json` of m.
func (k *kit) status(ctx context.Context, m *member) (peer.StatusJSON, error) {
	var st peer.StatusJSON
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := k.kithdIn(sctx, m, "status", "--json")
	if err != nil {
		return st, err
	}
	err = json.Unmarshal([]byte(out), &st)
	return st, err
}

// members is `kithd members --json` of m in community.
func (k *kit) membersOf(ctx context.Context, m *member, community string) ([]peer.MemberJSON, error) {
	var ms []peer.MemberJSON
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := k.kithdIn(sctx, m, "members", "--json", "--community", community)
	if err != nil {
		return nil, err
	}
	err = json.Unmarshal([]byte(out), &ms)
	return ms, err
}

// pathTo is how m reaches other (direct, LAN, relayed), "" when not connected.
func (k *kit) pathTo(ctx context.Context, m, other *member, community string) string {
	ms, err := k.membersOf(ctx, m, community)
	if err != nil {
		return ""
	}
	id := k.keyOf(ctx, other, community)
	for _, x := range ms {
		if x.ID == id && x.Online {
			return x.Path
		}
	}
	return ""
}

// keyOf is m's member key in community, as members --json prints it.
func (k *kit) keyOf(ctx context.Context, m *member, community string) string {
	out, err := k.kithdIn(ctx, m, "members", "--json", "--community", community)
	if err == nil {
		var ms []peer.MemberJSON
		if json.Unmarshal([]byte(out), &ms) == nil {
			for _, x := range ms {
				if x.You {
					return x.ID
				}
			}
		}
	}
	return ""
}

// reads reports whether m's channel holds a message with text, in community.
func (k *kit) reads(ctx context.Context, m *member, community, text string) bool {
	out, err := k.kithdIn(ctx, m, "messages", "--json", "--community", community, "--limit", "200")
	if err != nil {
		return false
	}
	var msgs []peer.MessageJSON
	if json.Unmarshal([]byte(out), &msgs) != nil {
		return false
	}
	for _, x := range msgs {
		if x.Text == text {
			return true
		}
	}
	return false
}

// blobOf is the blob ID of the file named name in m's messages ("" when it has none yet).
func (k *kit) blobOf(ctx context.Context, m *member, community, name string) string {
	out, err := k.kithdIn(ctx, m, "messages", "--json", "--community", community, "--limit", "200")
	if err != nil {
		return ""
	}
	var msgs []peer.MessageJSON
	if json.Unmarshal([]byte(out), &msgs) != nil {
		return ""
	}
	for _, x := range msgs {
		for _, a := range x.Attachments {
			if a.Name == name {
				return a.BlobID
			}
		}
	}
	return ""
}

// filesHeld is how many bytes of a community's files m holds (kithd files), -1 when it cannot say.
func (k *kit) filesHeld(ctx context.Context, m *member, community string) int64 {
	out, err := k.kithdIn(ctx, m, "files", "--json", "--community", community)
	if err != nil {
		return -1
	}
	var f struct {
		Used int64 `json:"used_bytes"`
	}
	if json.Unmarshal([]byte(out), &f) != nil {
		return -1
	}
	return f.Used
}

// waitFor polls cond every 100 ms until it holds, within d (and ctx).
func waitFor(ctx context.Context, d time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no %s within %s", what, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

var errSkipped = errors.New("skipped")
