package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"time"

	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/peer"
	"github.com/kith-app/kith/storage"
)

// A child is this program started again to measure the memory of one thing alone in its process:
// the environment says what.
const (
	childEnv = "KITH_BENCH_CHILD" // "store" or "peer"
	dirEnv   = "KITH_BENCH_DIR"   // the data folder
	idleEnv  = "KITH_BENCH_IDLE"  // how long to stay idle before measuring (a Go duration)
)

// childResult is what a child prints on stdout.
type childResult struct {
	RSSMiB  float64 `json:"rss_mib"`
	IdleCPU float64 `json:"idle_cpu_s"` // CPU time used while idle; negative: unknown
	Err     string  `json:"err,omitempty"`
}

// runChild is main for a child: it opens what it was asked to, stays idle, and prints its RSS.
func runChild(kind string, stdout io.Writer) int {
	res := childResult{}
	if err := child(kind, os.Getenv(dirEnv), os.Getenv(idleEnv), &res); err != nil {
		res.Err = err.Error()
	}
	json.NewEncoder(stdout).Encode(res)
	if res.Err != "" {
		return 1
	}
	return 0
}

func child(kind, dir, idle string, res *childResult) error {
	wait, err := time.ParseDuration(idle)
	if err != nil {
		return fmt.Errorf("%s=%q: %w", idleEnv, idle, err)
	}
	quiet := slog.New(slog.DiscardHandler)
	switch kind {
	case "store":
		st, err := storage.Open(dir, storage.Options{Logger: quiet})
		if err != nil {
			return err
		}
		defer st.Close()
		res.IdleCPU = idleFor(wait)
		res.RSSMiB = rssMiB()
		return st.Close()
	case "peer":
		// The peer as kithd runs it, minus LAN and NAT discovery (there is nothing to find here),
		// with the latest page of each community's first channel read, as the app shows it.
		p, err := peer.Open(dir, peer.Options{Logger: quiet, Listen: []string{"/ip4/127.0.0.1/tcp/0"}, NoMDNS: true, NoNAT: true})
		if err != nil {
			return err
		}
		defer p.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Start(ctx); err != nil {
			return err
		}
		cs, err := p.Svc.Communities()
		if err != nil {
			return err
		}
		for _, c := range cs {
			chans, err := p.Svc.Channels(c.ID)
			if err != nil {
				return err
			}
			if _, err := p.Svc.Messages(c.ID, chans[0].ID, community.Position{}, 50); err != nil {
				return err
			}
		}
		res.IdleCPU = idleFor(wait)
		res.RSSMiB = rssMiB()
		return p.Close()
	}
	return fmt.Errorf("%s=%q: want store or peer", childEnv, kind)
}

// idleFor waits d and returns the CPU time this process used meanwhile (its background work:
// Badger's compactions, the network's timers), -1 when it cannot be read.
func idleFor(d time.Duration) float64 {
	before, ok := cpuSeconds()
	time.Sleep(d)
	after, _ := cpuSeconds()
	if !ok {
		return -1
	}
	return after - before
}

// rssMiB is this process's resident set size, from /proc where there is one, else what the Go
// runtime holds from the system.
func rssMiB() float64 {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range strings.Lines(string(b)) {
			var kb float64
			if _, err := fmt.Sscanf(line, "VmRSS: %f kB", &kb); err == nil {
				return kb / 1024
			}
		}
	}
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	return float64(s[0].Value.Uint64()) / (1 << 20)
}

// child starts this program again on dir (its store closed by the caller) and returns the RSS
// it reports.
func (b *bench) child(ctx context.Context, kind, dir string) (float64, error) {
	res, err := b.childRun(ctx, kind, dir)
	return res.RSSMiB, err
}

// childRun starts this program again on dir and returns what it reports.
func (b *bench) childRun(ctx context.Context, kind, dir string) (childResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return childResult{}, err
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), childEnv+"="+kind, dirEnv+"="+dir, idleEnv+"="+b.size.idle.String())
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	runErr := cmd.Run()
	var res childResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return res, fmt.Errorf("the %s child said nothing readable (%v): %s", kind, errors.Join(runErr, err), strings.TrimSpace(errOut.String()))
	}
	if res.Err != "" {
		return res, fmt.Errorf("the %s child: %s", kind, res.Err)
	}
	return res, nil
}

// childTwice runs a child on dir twice and returns the RSS of each: the first start after the
// folder was written may find Badger compacting what was just imported (its table reads and
// buffers count), the second is the steady state.
func (b *bench) childTwice(ctx context.Context, kind, dir string) (first, second float64, err error) {
	if first, err = b.child(ctx, kind, dir); err != nil {
		return 0, 0, err
	}
	second, err = b.child(ctx, kind, dir)
	return first, second, err
}

// memorySuite measures a peer alone in its process holding the corpus (the late member's folder,
// the whole community synced), against the same peer holding an empty community.
func (b *bench) memorySuite(ctx context.Context, c *corpus) (*suite, error) {
	held, err := c.late.st.ChannelCount(storage.CommunityID(c.g.id), storage.ChannelID(c.g.general))
	if err != nil {
		return nil, err
	}
	if held < c.written { // the catch-up suite did not run
		b.progress.stepf("memory: the late member syncs")
		if err := c.late.svc.SyncFrom(ctx, c.late.node, c.authors[0].node.ID(), c.g.id); err != nil {
			return nil, err
		}
		held = c.written
	}
	s := &suite{Name: "memory", Title: fmt.Sprintf("one peer holding a %s-message community, idle (its second start)", human(float64(held))),
		RatioOf: "RSS with the community ÷ RSS with an empty one", Target: "RSS ≤ 150 MiB"}
	b.progress.stepf("memory: an empty community")
	emptyDir := filepath.Join(b.tmp, "empty")
	in, err := openInstall(ctx, "Solo", emptyDir, false, b.log)
	if err != nil {
		return nil, err
	}
	if _, err := newGroup(ctx, in, "Empty"); err != nil {
		in.Close()
		return nil, err
	}
	if err := in.Close(); err != nil {
		return nil, err
	}
	empty, err := b.child(ctx, "peer", emptyDir)
	if err != nil {
		return nil, err
	}
	b.progress.stepf("memory: the corpus")
	if err := c.late.Close(); err != nil {
		return nil, err
	}
	first, full, err := b.childTwice(ctx, "peer", c.late.dir)
	if err != nil {
		return nil, err
	}
	s.Figures.add("messages", float64(held))
	s.Figures.add("rss_mib", full)
	s.Figures.add("rss_first_start_mib", first)
	s.Figures.add("idle_s", b.size.idle.Seconds())
	s.Baseline.add("rss_empty_mib", empty)
	s.Ratio = num(full / empty)
	s.Met = full <= 150
	if !s.Met {
		s.Why = fmt.Sprintf("%.0f MiB with the community (%.0f MiB on the first start after the sync), %.0f MiB with an empty one", full, first, empty)
	}
	return s, nil
}
