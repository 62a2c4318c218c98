package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the memory suites start this test binary as their child.
func TestMain(m *testing.M) {
	if kind := os.Getenv(childEnv); kind != "" {
		os.Exit(runChild(kind, os.Stdout))
	}
	os.Exit(m.Run())
}

// tinySizes make the smoke run: every suite, every code path, in seconds. No timing is asserted.
var tinySizes = sizes{corpus: 1200, catchup: 400, durable: 100, pageReads: 10, cryptoRounds: 2, cryptoIters: 20,
	chains: []int{1, 2}, mesh: 5, latency: 10, pace: 2 * time.Millisecond, burst: 100, idle: 100 * time.Millisecond}

// TestSmokeRun runs every suite at tiny sizes and checks that each printed all its figures, in the
// table and in the JSON document.
func TestSmokeRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	b := &bench{size: tinySizes, tmp: t.TempDir(), log: slog.New(slog.DiscardHandler), progress: newProgress(os.Stderr)}
	r, err := b.all(ctx, "smoke")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"crypto", "store", "catch-up", "memory", "gossip/chain-1", "gossip/chain-2", "gossip/mesh-5", "burst"}
	var got []string
	for _, s := range r.Suites {
		got = append(got, s.Name)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("suites %v, want %v", got, want)
	}
	figures := map[string][]string{
		"crypto":   {"validate_ns", "validate_store_lookups_ns", "envelope_bytes", "verify_ceiling_per_s", "verify_ns"},
		"store":    {"events", "bulk_import_per_s", "durable_grouped_per_s", "posts_8_authors_per_s", "latest_page_p50_ms", "latest_page_store_p50_ms", "open_ms", "disk_bytes_per_event", "rss_after_open_mib", "rss_first_open_mib", "bare_badger_per_s", "durable_one_by_one_per_s"},
		"catch-up": {"events", "seconds", "per_s", "bulk_import_per_s"},
		"memory":   {"messages", "rss_mib", "rss_first_start_mib", "idle_s", "rss_empty_mib"},
		"burst":    {"messages", "delivered_pct", "per_s", "author_posts_per_s", "of_verify_ceiling", "raw_per_s", "raw_delivered_pct", "verify_ceiling_per_s"},
	}
	for _, s := range r.Suites {
		names := figures[s.Name]
		if strings.HasPrefix(s.Name, "gossip/") {
			names = []string{"p50_ms", "p99_ms", "delivered_pct", "post_p50_ms", "raw_p50_ms", "raw_p99_ms"}
		}
		have := map[string]float64{}
		for _, f := range append(s.Figures, s.Baseline...) {
			have[f.Name] = f.Value
		}
		for _, n := range names {
			v, ok := have[n]
			if !ok || math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
				t.Errorf("%s: figure %s = %v (present: %v), want a positive number", s.Name, n, v, ok)
			}
		}
		if r := float64(s.Ratio); math.IsNaN(r) || math.IsInf(r, 0) || r <= 0 {
			t.Errorf("%s: ratio %v", s.Name, r)
		}
		if s.Target == "" || s.RatioOf == "" || s.Title == "" {
			t.Errorf("%s: target %q, ratio of %q, title %q", s.Name, s.Target, s.RatioOf, s.Title)
		}
	}
	for _, s := range r.Suites {
		if s.Name == "catch-up" && s.Figures[0].Value != float64(tinySizes.catchup) {
			t.Errorf("catch-up synced %v events, want %d", s.Figures[0].Value, tinySizes.catchup)
		}
		if s.Name == "memory" && s.Figures[0].Value != float64(tinySizes.corpus) {
			t.Errorf("the memory suite's peer holds %v messages, want %d", s.Figures[0].Value, tinySizes.corpus)
		}
		if (s.Name == "burst" || strings.HasPrefix(s.Name, "gossip/")) && s.Figures.get("delivered_pct") != 100 {
			t.Errorf("%s: delivered %v%%, want 100", s.Name, s.Figures.get("delivered_pct"))
		}
	}

	// The JSON document has the documented shape.
	doc, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Machine map[string]any `json:"machine"`
		Suites  []struct {
			Name     string             `json:"name"`
			Figures  map[string]float64 `json:"figures"`
			Baseline map[string]float64 `json:"baseline"`
			Ratio    *float64           `json:"ratio"`
			Target   string             `json:"target"`
			Met      *bool              `json:"met"`
		} `json:"suites"`
	}
	if err := json.Unmarshal(doc, &parsed); err != nil {
		t.Fatalf("%v in %s", err, doc)
	}
	if parsed.Machine["cpus"] == nil || parsed.Machine["go"] == nil {
		t.Errorf("machine: %v", parsed.Machine)
	}
	for i, s := range parsed.Suites {
		if s.Name != want[i] || len(s.Figures) == 0 || len(s.Baseline) == 0 || s.Ratio == nil || s.Target == "" || s.Met == nil {
			t.Errorf("suite %d in the JSON: %+v", i, s)
		}
	}

	// The table names every suite and figure.
	var table bytes.Buffer
	writeTable(&table, r)
	for _, s := range r.Suites {
		for _, f := range append(s.Figures, s.Baseline...) {
			if !strings.Contains(table.String(), f.Name) {
				t.Errorf("the table lacks %s's %s:\n%s", s.Name, f.Name, table.String())
			}
		}
	}
	t.Logf("\n%s", table.String())
}

// TestExponent: k is the slope on a log-log plot, and not a number when a cost is not positive.
func TestExponent(t *testing.T) {
	for _, c := range []struct {
		s1, s2 int
		c1, c2 float64
		want   float64
	}{{10, 100, 1, 10, 1}, {10, 100, 1, 100, 2}, {10, 1000, 5, 5, 0}, {100, 1000, 8, 0.8, -1}} {
		if got := exponent(c.s1, c.s2, c.c1, c.c2); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("exponent(%d, %d, %v, %v) = %v, want %v", c.s1, c.s2, c.c1, c.c2, got, c.want)
		}
	}
	for _, c := range [][2]float64{{0, 1}, {1, 0}, {math.NaN(), 1}, {1, math.Inf(1)}} {
		if got := exponent(10, 100, c[0], c[1]); !math.IsNaN(got) {
			t.Errorf("exponent(10, 100, %v, %v) = %v, want NaN", c[0], c[1], got)
		}
	}
	g := newGrowth("members", []int{10, 100, 1000})
	g.set("x_ms", 0, 1)
	g.set("x_ms", 2, 100)
	g.set("x_ms", 1, 10)
	if k := g.Costs[0].K; k[0] != 1 || k[1] != 1 {
		t.Errorf("k %v, want [1 1]", k)
	}
	if h := short(1_000_000) + " " + short(30) + " " + short(10_000); h != "1M 30 10k" {
		t.Errorf("short: %q", h)
	}
	if h := thousands(1_000_000) + " " + thousands(1000) + " " + thousands(999); h != "1,000,000 1,000 999" {
		t.Errorf("thousands: %q", h)
	}
}

// TestUsage: bad flags are usage errors that say what to do.
func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"--only", "disk"}, {"--fast"}, {"extra"}} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "kith-bench") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"--help"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "--quick") {
		t.Errorf("--help: exit %d, %q", code, out.String())
	}
}

// TestFiguresMarshalInOrder: the JSON object keeps the measured order and writes what is not a
// number as null.
func TestFiguresMarshalInOrder(t *testing.T) {
	var f figures
	f.add("zeta", 1.23456)
	f.add("alpha", 1234567)
	f.add("nan", math.NaN())
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"zeta":1.235,"alpha":1235000,"nan":null}` {
		t.Errorf("got %s", b)
	}
	if h := human(1234567); h != "1,235,000" {
		t.Errorf("human(1234567) = %q", h)
	}
}
