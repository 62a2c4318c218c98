package storage

import (
	"context"
	"testing"
	"time"
)

// benchEvent is event seq of author a in channel 1, with a 500-byte
// incompressible envelope (the size measured in NOTES.md).
func benchEvent(a AuthorKey, seq uint64) Event {
	e := ev(community(1), a, seq, seq, channel(1), false, "bench")
	e.Envelope = noiseFor(e.ID, 500)
	return e
}

func benchEvents(a AuthorKey, from uint64, n int) []Event {
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = benchEvent(a, from+uint64(i))
	}
	return evs
}

func BenchmarkAppendOwn1(b *testing.B) {
	s := openTest(b, b.TempDir())
	evs := benchEvents(author(1), 1, b.N)
	b.ResetTimer()
	for i := range b.N {
		if err := s.AppendOwn(context.Background(), evs[i]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendOwnBatch100(b *testing.B) {
	s := openTest(b, b.TempDir())
	evs := benchEvents(author(1), 1, 100*b.N)
	b.ResetTimer()
	for i := range b.N {
		if err := s.AppendOwn(context.Background(), evs[100*i:100*(i+1)]...); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendBulk100(b *testing.B) {
	s := openTest(b, b.TempDir())
	evs := benchEvents(author(1), 1, 100*b.N)
	b.ResetTimer()
	for i := range b.N {
		if n, err := s.Append(evs[100*i : 100*(i+1)]...); err != nil || n != 100 {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkAppendBulk100Mark10ms is BenchmarkAppendBulk100 with the high-water mark raised
// every 10 ms instead of every 30 s: what the mark costs the write path at its worst.
func BenchmarkAppendBulk100Mark10ms(b *testing.B) {
	s, err := Open(b.TempDir(), Options{Logger: testLogger(b), MarkEvery: 10 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	evs := benchEvents(author(1), 1, 100*b.N)
	b.ResetTimer()
	for i := range b.N {
		if n, err := s.Append(evs[100*i : 100*(i+1)]...); err != nil || n != 100 {
			b.Fatal(n, err)
		}
	}
}

// buildChannel stores n events of five authors in channel 1, in batches of
// 1,000, with Lamport 1..n.
func buildChannel(b *testing.B, s *Store, n int) []Event {
	all := make([]Event, n)
	for g := range all {
		all[g] = benchEvent(author(g%5), uint64(g/5+1))
		all[g].Lamport = uint64(g + 1)
	}
	for from := 0; from < n; from += 1000 {
		if _, err := s.Append(all[from:min(from+1000, n)]...); err != nil {
			b.Fatal(err)
		}
	}
	return all
}

// reopened closes s and opens its folder again, as the app does on its next
// start: the memtables are flushed into tables.
func reopened(b *testing.B, s *Store) *Store {
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	return openTest(b, s.dir)
}

func BenchmarkPageLatest50Of100k(b *testing.B) {
	s := openTest(b, b.TempDir())
	buildChannel(b, s, 100_000)
	s = reopened(b, s)
	c, ch := community(1), channel(1)
	b.ResetTimer()
	for b.Loop() { // b.Loop: the 100k-event store is built once, not once per b.N round
		page, err := s.Page(c, ch, Cursor{}, 50)
		if err != nil || len(page) != 50 {
			b.Fatal(len(page), err)
		}
	}
}

func BenchmarkEventByID(b *testing.B) {
	s := openTest(b, b.TempDir())
	all := buildChannel(b, s, 100_000)
	s = reopened(b, s)
	c := community(1)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		i++
		if _, err := s.EventByID(c, all[(i*7919)%len(all)].ID); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLocate(b *testing.B) {
	s := openTest(b, b.TempDir())
	all := buildChannel(b, s, 100_000)
	s = reopened(b, s)
	c := community(1)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		i++
		if _, _, _, err := s.Locate(c, all[(i*7919)%len(all)].ID); err != nil {
			b.Fatal(err)
		}
	}
}
