package peer_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/invite"
	"github.com/kith-app/kith/app/peer"
)

// The kill -9 rows of the threat model: a peer killed while it writes hard, and while it syncs,
// loses nothing it acknowledged, and its log verifies when it starts again.

// killChild runs TestKillChild in a child process in mode, with env, and kills it with SIGKILL
// when stop says so of a line it printed. It returns the lines printed before the kill.
func killChild(t *testing.T, mode string, env []string, stop func(line string, n int) bool) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), "KITH_PEER_KILL_MODE="+mode), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	kill := func() { once.Do(func() { _ = cmd.Process.Kill() }) }
	defer kill()
	watchdog := time.AfterFunc(90*time.Second, kill)
	defer watchdog.Stop()
	var lines []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "kill-child ") {
			continue // the test framework's own output
		}
		lines = append(lines, strings.TrimPrefix(line, "kill-child "))
		if stop(lines[len(lines)-1], len(lines)) {
			// A random moment a little later: keep reading, every line before death counts.
			time.AfterFunc(time.Duration(rand.IntN(3000))*time.Microsecond, kill)
		}
	}
	_ = cmd.Wait()
	if len(lines) == 0 {
		t.Fatalf("the child printed nothing:\n%s", stderr.String())
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the child was not killed but ended on its own (%v):\n%s", cmd.ProcessState, stderr.String())
	}
	return lines
}

// TestKillChild is the child of the kill tests: "write" posts from four goroutines and prints
// each message the service acknowledged; "sync" joins with an invite and prints the sync's
// progress. Both run until killed.
func TestKillChild(t *testing.T) {
	mode := os.Getenv("KITH_PEER_KILL_MODE")
	if mode == "" {
		t.Skip("only runs as the child of the kill tests")
	}
	say := func(format string, a ...any) {
		_, _ = os.Stdout.WriteString("kill-child " + fmt.Sprintf(format, a...) + "\n")
	}
	p, err := peer.Open(os.Getenv("KITH_PEER_KILL_DIR"), peer.Options{
		Logger: slog.New(slog.DiscardHandler), MinFreeBytes: -1, NoControl: true, NoMDNS: true, NoNAT: true,
		Listen: []string{"/ip4/127.0.0.1/tcp/0"}, SyncEvery: time.Hour,
	})
	if err != nil {
		t.Fatalf("child: open: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second) // the parent kills us long before
	defer cancel()
	switch mode {
	case "write":
		id, err := community.ParseHash(os.Getenv("KITH_PEER_KILL_COMMUNITY"))
		if err != nil {
			t.Fatal(err)
		}
		chans, err := p.Svc.Channels(id)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := 0; ctx.Err() == nil; i++ {
					m, err := p.Svc.Post(ctx, id, chans[0].ID, fmt.Sprintf("writer %d, message %d", w, i), community.Hash{})
					if err != nil {
						return
					}
					say("ack %s", m.ID)
				}
			})
		}
		wg.Wait()
	case "sync":
		inv, err := invite.Parse(os.Getenv("KITH_PEER_KILL_INVITE"))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Start(ctx); err != nil {
			t.Fatal(err)
		}
		events := p.Svc.Subscribe(ctx)
		go func() {
			for ev := range events {
				if s, ok := ev.(app.SyncProgress); ok {
					say("sync %d of %d", s.Done, s.Total)
				}
			}
		}()
		if _, err := p.Join(ctx, inv, "Kit"); err != nil {
			say("join failed: %v", err)
		}
		<-ctx.Done()
	}
}

// verifyLog reads every event a folder stores for a community and checks each as a stranger's
// would be checked (signature included), and every author's chain: sequence numbers from 1 with
// no gap, each event naming the one before it.
func verifyLog(t *testing.T, p *peer.Peer, id community.Hash) int {
	t.Helper()
	type link struct {
		seq  uint64
		id   community.Hash
		prev community.Hash
	}
	chains := map[string][]link{}
	n := 0
	for _, env := range envelopes(t, p, id) {
		e, err := community.Decode(env) // the signature too
		if err != nil {
			t.Fatalf("a stored event does not verify: %v", err)
		}
		chains[string(e.Author)] = append(chains[string(e.Author)], link{e.Seq, e.ID, e.Prev})
		n++
	}
	for _, c := range chains {
		byseq := map[uint64]link{}
		for _, l := range c {
			byseq[l.seq] = l
		}
		for seq := uint64(1); seq <= uint64(len(c)); seq++ {
			l, ok := byseq[seq]
			if !ok {
				t.Fatalf("an author's chain has a gap at %d of %d", seq, len(c))
			}
			if seq > 1 && l.prev != byseq[seq-1].id {
				t.Fatalf("an author's event %d does not name event %d", seq, seq-1)
			}
		}
	}
	return n
}

// TestKilledWhileWriting: a peer posting from four goroutines is killed at random moments,
// five times, on one folder; after each, every message it acknowledged is there, the log
// verifies, and it writes on.
func TestKilledWhileWriting(t *testing.T) {
	if testing.Short() {
		t.Skip("kill test skipped in -short mode")
	}
	dir := t.TempDir()
	p, err := peer.Open(dir, peer.Options{Logger: slog.New(slog.DiscardHandler), MinFreeBytes: -1, NoControl: true})
	if err != nil {
		t.Fatal(err)
	}
	id := create(t, p, "Makers")
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	var acked []community.Hash
	for round := range 5 {
		killAfter := 20 + rand.IntN(200)
		lines := killChild(t, "write", []string{"KITH_PEER_KILL_DIR=" + dir, "KITH_PEER_KILL_COMMUNITY=" + id.String()},
			func(_ string, n int) bool { return n == killAfter })
		for _, l := range lines {
			if h, err := community.ParseHash(strings.TrimPrefix(l, "ack ")); err == nil {
				acked = append(acked, h)
			}
		}
		p := offline(t, dir)
		for _, m := range acked {
			if msg, ok, err := p.Svc.Message(id, m); err != nil || !ok || msg.Text == "" {
				t.Fatalf("round %d: acknowledged message %s is lost (%v)", round, m.Short(), err)
			}
		}
		stored := verifyLog(t, p, id)
		if _, err := p.Svc.Post(context.Background(), id, general(t, p, id), fmt.Sprintf("after round %d", round), community.Hash{}); err != nil {
			t.Fatalf("round %d: writing after the restart: %v", round, err)
		}
		t.Logf("round %d: killed after %d acknowledgements; %d acknowledged in all, %d events stored", round, len(lines), len(acked), stored)
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestKilledWhileSyncing: a joiner is killed while it syncs 3,000 events from the owner; started
// again, its log verifies, and it finishes the sync with the owner's log exactly.
func TestKilledWhileSyncing(t *testing.T) {
	if testing.Short() {
		t.Skip("kill test skipped in -short mode")
	}
	n := newNet(t)
	owner := n.start("", 0)
	id := create(t, owner, "Makers")
	postMany(t, owner, id, 3000, "history")
	inv := inviteOf(t, owner, id, 0)
	dir := t.TempDir()
	lines := killChild(t, "sync", []string{"KITH_PEER_KILL_DIR=" + dir, "KITH_PEER_KILL_INVITE=" + inv.String()},
		func(line string, _ int) bool {
			return strings.HasPrefix(line, "sync ") && !strings.HasPrefix(line, "sync 0 ")
		})
	p := offline(t, dir)
	stored := verifyLog(t, p, id)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed with %d of the owner's %d events stored (lines: %q)", stored, len(logOf(t, owner, id)), lines)
	if stored >= len(logOf(t, owner, id)) {
		t.Fatal("the kill came after the sync had finished: nothing was tested")
	}
	j := n.start(dir, 0)
	want := logOf(t, owner, id)
	eventually(t, 60*time.Second, "the restarted joiner to hold the owner's whole log", func() bool {
		return len(logOf(t, j, id)) == len(want)
	})
	if got := logOf(t, j, id); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatal("the restarted joiner's log differs from the owner's")
	}
	verifyLog(t, j, id)
}
