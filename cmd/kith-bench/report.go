package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// figure is one measured value; its name carries its unit (rate_per_s, p50_ms, ...).
type figure struct {
	Name  string
	Value float64
}

// figures keep the order they were measured in, in the table and in the JSON object.
type figures []figure

func (f *figures) add(name string, v float64) { *f = append(*f, figure{name, v}) }

// MarshalJSON writes an object whose keys keep their order.
func (f figures) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, x := range f {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(x.Name)
		b.Write(k)
		b.WriteByte(':')
		b.WriteString(number(x.Value))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// number is a float as JSON: rounded to what the machine's noise leaves meaningful.
func number(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "null"
	}
	return strconv.FormatFloat(round(v), 'f', -1, 64)
}

// round keeps four significant digits.
func round(v float64) float64 {
	if v == 0 {
		return 0
	}
	p := math.Pow(10, 3-math.Floor(math.Log10(math.Abs(v))))
	return math.Round(v*p) / p
}

// suite is one suite's result: its figures, the baseline measured in the same run, the ratio
// of the two that its target is about, the target in words, and whether it was met.
type suite struct {
	Name     string  `json:"name"`
	Title    string  `json:"title"`
	Figures  figures `json:"figures"`
	Baseline figures `json:"baseline"`
	Ratio    num     `json:"ratio"`
	RatioOf  string  `json:"ratio_of"` // what the ratio divides, in words
	Target   string  `json:"target"`
	Met      bool    `json:"met"`
	Why      string  `json:"why,omitempty"`    // for a target not met: what bounds it, as measured
	Seconds  float64 `json:"seconds"`          // how long the suite took
	Growth   *growth `json:"growth,omitempty"` // a scale suite's costs at each size
}

// growth is how a scale suite's costs grow with a size (members, messages, hosts): each cost at
// every size, and between neighbouring sizes the exponent k of cost ∝ size^k,
// k = log(cost2/cost1) / log(size2/size1): 0 flat, 1 linear, 2 quadratic, below 0 falling.
type growth struct {
	Of    string  `json:"of"` // what a size counts
	Sizes []int   `json:"sizes"`
	Costs []*cost `json:"costs"` // in the order measured
}

// cost is one cost of a growth table.
type cost struct {
	Name   string `json:"name"`   // with its unit, as a figure's
	Values []num  `json:"values"` // one per size; null where not measured
	K      []num  `json:"k"`      // K[i]: the exponent from Sizes[i] to Sizes[i+1]
}

func newGrowth(of string, sizes []int) *growth { return &growth{Of: of, Sizes: sizes} }

// set records a cost at size i (an index into Sizes) and the exponents next to it.
func (g *growth) set(name string, i int, v float64) {
	var c *cost
	for _, x := range g.Costs {
		if x.Name == name {
			c = x
		}
	}
	if c == nil {
		c = &cost{Name: name, Values: make([]num, len(g.Sizes)), K: make([]num, max(0, len(g.Sizes)-1))}
		for j := range c.Values {
			c.Values[j] = num(math.NaN())
		}
		for j := range c.K {
			c.K[j] = num(math.NaN())
		}
		g.Costs = append(g.Costs, c)
	}
	c.Values[i] = num(v)
	for j := max(0, i-1); j <= i && j < len(c.K); j++ {
		c.K[j] = num(exponent(g.Sizes[j], g.Sizes[j+1], float64(c.Values[j]), float64(c.Values[j+1])))
	}
}

// at returns the cost at size i, NaN when there is none.
func (g *growth) at(name string, i int) float64 {
	for _, c := range g.Costs {
		if c.Name == name {
			return float64(c.Values[i])
		}
	}
	return math.NaN()
}

// exponent is k in cost ∝ size^k between two sizes; NaN when a cost is not a positive number.
func exponent(size1, size2 int, cost1, cost2 float64) float64 {
	if !(cost1 > 0) || !(cost2 > 0) || math.IsInf(cost1, 0) || math.IsInf(cost2, 0) || size1 <= 0 || size2 <= 0 || size1 == size2 {
		return math.NaN()
	}
	return math.Log(cost2/cost1) / math.Log(float64(size2)/float64(size1))
}

// num is a float that marshals as null when it is not a number (a ratio with nothing to divide).
type num float64

func (n num) MarshalJSON() ([]byte, error) { return []byte(number(float64(n))), nil }

// report is the whole run, as --json prints it.
type report struct {
	Machine machine  `json:"machine"`
	Mode    string   `json:"mode"` // "quick" or "full"
	Started string   `json:"started"`
	Seconds float64  `json:"seconds"`
	Suites  []*suite `json:"suites"`
}

// machine describes where the figures were measured.
type machine struct {
	CPU        string `json:"cpu"`
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	MemoryMiB  int    `json:"memory_mib"`
	OS         string `json:"os"`
	Kernel     string `json:"kernel"`
	Go         string `json:"go"`
}

func thisMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version(), CPU: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			m.MemoryMiB = kb / 1024
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// writeTable prints the report for people: one block per suite.
func writeTable(w io.Writer, r *report) {
	m := r.Machine
	fmt.Fprintf(w, "Kith benchmarks (%s run, %s): %d CPUs (%s), %d MiB, %s, %s\n",
		r.Mode, r.Started, m.CPUs, m.CPU, m.MemoryMiB, m.OS, m.Go)
	met := 0
	for _, s := range r.Suites {
		verdict := "met"
		if !s.Met {
			verdict = "NOT met"
		} else {
			met++
		}
		fmt.Fprintf(w, "\n%s — %s (%.1f s)\n", s.Name, s.Title, s.Seconds)
		if s.Growth != nil {
			writeGrowth(w, s.Growth)
		}
		for _, f := range s.Figures {
			fmt.Fprintf(w, "  %-34s %14s\n", f.Name, human(f.Value))
		}
		for _, f := range s.Baseline {
			fmt.Fprintf(w, "  %-34s %14s   (baseline)\n", f.Name, human(f.Value))
		}
		fmt.Fprintf(w, "  ratio %s = %s   target %s: %s\n", s.RatioOf, human(float64(s.Ratio)), s.Target, verdict)
		if s.Why != "" {
			fmt.Fprintf(w, "  why: %s\n", s.Why)
		}
	}
	fmt.Fprintf(w, "\n%d of %d targets met in %.0f s.\n", met, len(r.Suites), r.Seconds)
}

// writeGrowth prints a growth table: a column per size, then a column per exponent between
// neighbouring sizes.
func writeGrowth(w io.Writer, g *growth) {
	fmt.Fprintf(w, "  %-26s", g.Of)
	for _, n := range g.Sizes {
		fmt.Fprintf(w, " %11s", thousands(n))
	}
	for i := 1; i < len(g.Sizes); i++ {
		fmt.Fprintf(w, " %12s", "k "+short(g.Sizes[i-1])+"→"+short(g.Sizes[i]))
	}
	fmt.Fprintln(w)
	for _, c := range g.Costs {
		fmt.Fprintf(w, "  %-26s", c.Name)
		for _, v := range c.Values {
			fmt.Fprintf(w, " %11s", human(float64(v)))
		}
		for _, k := range c.K {
			s := "n/a"
			if !math.IsNaN(float64(k)) {
				s = strconv.FormatFloat(float64(k), 'f', 2, 64)
			}
			fmt.Fprintf(w, " %12s", s)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  (k: cost ∝ %s^k between two sizes; 0 flat, 1 linear, 2 quadratic, below 0 falling)\n", g.Of)
}

// short writes a size with k and M: 10k, 1M.
func short(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// thousands writes a count with its thousands separated, as people read sizes: 1,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// human prints a figure with at most four significant digits and thousands separated.
func human(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	v = round(v)
	if math.Abs(v) >= 10000 {
		s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
		var b strings.Builder
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		return b.String()
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// progress is the line that says what the harness is doing. On a terminal it rewrites one
// line; elsewhere (CI logs) it prints a line per step, at most one a second for counters.
type progress struct {
	w     io.Writer
	tty   bool
	mu    sync.Mutex
	last  time.Time
	step  string
	width int
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// stepf starts a step.
func (p *progress) stepf(format string, a ...any) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.step = fmt.Sprintf(format, a...)
	p.printLocked(p.step, true)
}

// countf reports a count within the current step.
func (p *progress) countf(format string, a ...any) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.tty && time.Since(p.last) < time.Second {
		return
	}
	p.printLocked(p.step+": "+fmt.Sprintf(format, a...), false)
}

func (p *progress) printLocked(line string, force bool) {
	if p.w == nil {
		return
	}
	if p.tty {
		pad := max(0, p.width-len(line))
		fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
		p.width = len(line)
	} else if force || time.Since(p.last) >= time.Second {
		fmt.Fprintln(p.w, line)
	}
	p.last = time.Now()
}

// done clears the line (on a terminal).
func (p *progress) done() {
	if p == nil || !p.tty || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
	p.width = 0
}

// quantile returns the q-quantile (0..1) of durations, by the nearest-rank method.
func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// median of floats.
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// get returns the named figure, NaN when there is none.
func (f figures) get(name string) float64 {
	for _, x := range f {
		if x.Name == name {
			return x.Value
		}
	}
	return math.NaN()
}
