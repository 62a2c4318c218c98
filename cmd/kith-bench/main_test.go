package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain lets the memory suites start this test binary as their child, and fails the tests
// when a goroutine they started outlives them.
func TestMain(m *testing.M) {
	if kind := os.Getenv(childEnv); kind != "" {
		os.Exit(runChild(kind, os.Stdout))
	}
	goleak.VerifyTestMain(m)
}

// tinySizes make the smoke run: every suite, every code path, in seconds. No timing is asserted.
var tinySizes = sizes{corpus: 1200, catchup: 400, durable: 100, pageReads: 10, cryptoRounds: 2, cryptoIters: 20,
	chains: []int{1, 2}, mesh: 5, latency: 10, pace: 2 * time.Millisecond, burst: 100, idle: 100 * time.Millisecond,
	members: []int{4, 8}, messages: []int{300, 600}, meshes: []int{3, 5}, meshPace: 2 * time.Millisecond, blobRounds: 1}

// TestSmokeRun runs every suite but the scale suites (TestScaleSuite runs those) at tiny sizes
// and checks that each printed all its figures, in the table and in the JSON document.
func TestSmokeRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	only := map[string]bool{}
	for _, n := range suiteNames {
		only[n] = n != "scale"
	}
	b := &bench{size: tinySizes, tmp: t.TempDir(), log: slog.New(slog.DiscardHandler), progress: newProgress(os.Stderr), only: only}
	r, err := b.all(ctx, "smoke")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"crypto", "store", "catch-up", "search", "memory", "gossip/chain-1", "gossip/chain-2", "gossip/mesh-5", "burst", "blobs"}
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
		"blobs":    {"mib_per_s", "seconds", "text_meanwhile_p50_ms", "text_meanwhile_p99_ms", "raw_mib_per_s", "text_idle_p50_ms", "text_idle_p99_ms"},
		"burst":    {"messages", "delivered_pct", "per_s", "author_posts_per_s", "of_verify_ceiling", "raw_per_s", "raw_delivered_pct", "verify_ceiling_per_s"},
	}
	for _, s := range r.Suites {
		names := figures[s.Name]
		if strings.HasPrefix(s.Name, "gossip/") {
			names = []string{"p50_ms", "p99_ms", "delivered_pct", "post_p50_ms", "raw_p50_ms", "raw_p99_ms", "floor_p99_ms"}
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

// TestScaleSuite runs the scale suites at tiny sizes and checks that each measured every cost at
// every size, with a finite exponent between neighbouring sizes, in the table and in the JSON
// document. No timing is asserted; event sizes and counts, which do not depend on the machine,
// must grow as they do.
func TestScaleSuite(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	b := &bench{size: tinySizes, tmp: t.TempDir(), log: slog.New(slog.DiscardHandler), progress: newProgress(os.Stderr),
		only: map[string]bool{"scale": true}}
	r, err := b.all(ctx, "smoke")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"crypto", "scale/members", "scale/messages", "scale/mesh"}
	var got []string
	for _, s := range r.Suites {
		got = append(got, s.Name)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("suites %v, want %v", got, want)
	}
	type check struct {
		sizes   []int
		costs   []string
		figures []string
		growing []string // costs whose exponent must be clearly positive
	}
	checks := map[string]check{
		"scale/members": {tinySizes.members,
			[]string{"admit_ms", "check_join_ms", "join_bytes", "remove_rotate_ms", "rotation_bytes", "authority_events", "fold_ms", "fold_per_event_us"},
			[]string{"members", "admit_ms", "join_bytes", "remove_rotate_ms", "rotation_bytes", "fold_ms", "verify_us"},
			[]string{"rotation_bytes", "authority_events"}},
		"scale/messages": {tinySizes.messages,
			[]string{"first_page_ms", "open_ms", "latest_page_p50_ms", "latest_page_store_p50_ms", "catchup_per_s", "bulk_import_per_s", "catchup_of_bulk", "receive_per_s", "disk_mib", "disk_bytes_per_message", "rss_mib", "rss_first_start_mib", "rss_starts"},
			[]string{"messages", "first_page_ms", "open_ms", "latest_page_p50_ms", "catchup_per_s", "disk_mib", "rss_mib", "rss_first_start_mib", "bulk_import_per_s"},
			nil},
		"scale/mesh": {tinySizes.meshes,
			[]string{"p50_ms", "p99_ms", "delivered_pct", "post_p50_ms", "raw_p50_ms", "raw_p99_ms", "floor_p99_ms"},
			[]string{"hosts", "p50_ms", "p99_ms", "delivered_pct", "post_p50_ms", "raw_p50_ms", "raw_p99_ms", "floor_p99_ms"},
			nil},
	}
	sane := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	for _, s := range r.Suites[1:] {
		c := checks[s.Name]
		g := s.Growth
		if g == nil || !slices.Equal(g.Sizes, c.sizes) {
			t.Errorf("%s: growth %+v, want sizes %v", s.Name, g, c.sizes)
			continue
		}
		var names []string
		for _, x := range g.Costs {
			names = append(names, x.Name)
			if len(x.Values) != len(g.Sizes) || len(x.K) != len(g.Sizes)-1 {
				t.Errorf("%s %s: %d values and %d exponents for %d sizes", s.Name, x.Name, len(x.Values), len(x.K), len(g.Sizes))
				continue
			}
			for i, v := range x.Values {
				if !sane(float64(v)) || v <= 0 {
					t.Errorf("%s %s at %d: %v, want a positive number", s.Name, x.Name, g.Sizes[i], v)
				}
			}
			for i, k := range x.K {
				if !sane(float64(k)) {
					t.Errorf("%s %s: exponent %d→%d is %v", s.Name, x.Name, g.Sizes[i], g.Sizes[i+1], k)
				}
				if slices.Contains(c.growing, x.Name) && k < 0.3 {
					t.Errorf("%s %s: exponent %d→%d is %v, want it to grow", s.Name, x.Name, g.Sizes[i], g.Sizes[i+1], k)
				}
			}
		}
		if !slices.Equal(names, c.costs) {
			t.Errorf("%s: costs %v, want %v", s.Name, names, c.costs)
		}
		have := map[string]float64{}
		for _, f := range append(s.Figures, s.Baseline...) {
			have[f.Name] = f.Value
		}
		for _, n := range c.figures {
			if v, ok := have[n]; !ok || !sane(v) || v <= 0 {
				t.Errorf("%s: figure %s = %v (present: %v), want a positive number", s.Name, n, v, ok)
			}
		}
		if r := float64(s.Ratio); !sane(r) || r <= 0 || s.Target == "" || s.RatioOf == "" {
			t.Errorf("%s: ratio %v of %q, target %q", s.Name, r, s.RatioOf, s.Target)
		}
	}
	for _, s := range r.Suites {
		if s.Name == "scale/mesh" && s.Figures.get("delivered_pct") != 100 {
			t.Errorf("%s: delivered %v%%, want 100", s.Name, s.Figures.get("delivered_pct"))
		}
	}

	// The JSON document carries each growth table whole.
	doc, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Suites []struct {
			Name   string `json:"name"`
			Growth *struct {
				Of    string `json:"of"`
				Sizes []int  `json:"sizes"`
				Costs []struct {
					Name   string     `json:"name"`
					Values []*float64 `json:"values"`
					K      []*float64 `json:"k"`
				} `json:"costs"`
			} `json:"growth"`
		} `json:"suites"`
	}
	if err := json.Unmarshal(doc, &parsed); err != nil {
		t.Fatalf("%v in %s", err, doc)
	}
	for _, s := range parsed.Suites[1:] {
		if s.Growth == nil || s.Growth.Of == "" || len(s.Growth.Costs) != len(checks[s.Name].costs) {
			t.Errorf("%s in the JSON: %+v", s.Name, s.Growth)
			continue
		}
		for _, c := range s.Growth.Costs {
			if slices.Contains(c.Values, nil) || slices.Contains(c.K, nil) || len(c.K) != len(s.Growth.Sizes)-1 {
				t.Errorf("%s %s in the JSON: values %v, k %v", s.Name, c.Name, c.Values, c.K)
			}
		}
	}

	// The table shows every cost and the exponent columns.
	var table bytes.Buffer
	writeTable(&table, r)
	for _, s := range r.Suites[1:] {
		for _, c := range s.Growth.Costs {
			if !strings.Contains(table.String(), c.Name) {
				t.Errorf("the table lacks %s's %s", s.Name, c.Name)
			}
		}
		if k := "k " + short(s.Growth.Sizes[0]) + "→" + short(s.Growth.Sizes[1]); !strings.Contains(table.String(), k) {
			t.Errorf("the table lacks the column %q", k)
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
