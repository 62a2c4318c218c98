package storage

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// memFilesHolding returns the memtable write-ahead logs (.mem files) of dir/db that contain
// needle, and the newest one (the one db.Sync fsyncs).
func memFilesHolding(t *testing.T, dir string, needle []byte) (holding []string, newest string) {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, "db", "*.mem"))
	sort.Strings(names)
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			continue // flushed and removed meanwhile
		}
		if bytes.Contains(b, needle) {
			holding = append(holding, filepath.Base(n))
		}
	}
	if len(names) > 0 {
		newest = filepath.Base(names[len(names)-1])
	}
	return holding, newest
}

// An own event that first came in through Append (say, echoed back by a peer) and whose log was
// then rotated out must be written again by AppendOwn, into the log that its fsync covers.
func TestAppendOwnMakesAnEarlierCopyDurable(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	c := community(1)
	e := ev(c, author(1), 1, 1, ChannelID{}, false, "own, received back from a peer first")
	if _, err := s.Append(e); err != nil {
		t.Fatal(err)
	}
	filler := make([]Event, 0, 300)
	for i := 1; i <= 300; i++ { // 300 × 32 KiB > the 8 MiB memtable: the log rotates
		f := ev(c, author(2), uint64(i), uint64(i), ChannelID{}, false, "")
		f.Envelope = noiseFor(f.ID, 32<<10)
		filler = append(filler, f)
	}
	if _, err := s.Append(filler...); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendOwn(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	holding, newest := memFilesHolding(t, dir, e.ID[:])
	if len(holding) > 0 && holding[len(holding)-1] != newest {
		t.Fatalf("AppendOwn acknowledged an event held only by %v, not by the synced log %s", holding, newest)
	}
	if m, _ := s.LocalMark(c); m != 301 {
		t.Fatalf("the rewrite counted the event twice: local mark %d", m)
	}
}

// AppendOwn copies what it stores: a caller may reuse its buffer once the call returns, even
// when it stopped waiting early.
func TestAppendOwnCopiesEnvelopes(t *testing.T) {
	s := openTest(t, t.TempDir())
	c := community(1)
	e := ev(c, author(1), 1, 1, ChannelID{}, false, "")
	want := bytes.Clone(e.Envelope)
	s.writeMu.Lock() // stands for a long write holding the lock
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.AppendOwn(ctx, e); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("AppendOwn = %v, want the context's deadline", err)
	}
	copy(e.Envelope, "REUSED BUFFER")
	s.writeMu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for ok := false; !ok; ok, _ = s.Has(c, e.ID) {
		if time.Now().After(deadline) {
			t.Fatal("the event was never stored")
		}
		time.Sleep(5 * time.Millisecond)
	}
	got, err := s.EventByID(c, e.ID)
	if err != nil || !bytes.Equal(got.Envelope, want) {
		t.Fatalf("stored envelope %q, want the bytes given (%v)", got.Envelope[:13], err)
	}
}

// An event too large for a transaction is refused alone: the rest of the batch is stored, and
// a caller of AppendOwn is never failed by another caller's event.
func TestOversizedEventIsRefusedAlone(t *testing.T) {
	s := openTest(t, t.TempDir())
	c := community(1)
	good1 := ev(c, author(1), 1, 1, ChannelID{}, false, "")
	huge := ev(c, author(2), 1, 1, ChannelID{}, false, "")
	huge.Envelope = make([]byte, 8<<20)
	good2 := ev(c, author(3), 1, 1, ChannelID{}, false, "")
	n, err := s.Append(good1, huge, good2)
	if n != 2 || err == nil {
		t.Fatalf("Append = %d, %v; want 2 stored and an error for the large one", n, err)
	}
	for _, g := range []Event{good1, good2} {
		if ok, _ := s.Has(c, g.ID); !ok {
			t.Errorf("event of author %x was not stored", g.Author[:2])
		}
	}
	if err := s.AppendOwn(context.Background(), huge); err == nil {
		t.Fatal("AppendOwn took an event larger than a transaction")
	}
	if err := s.AppendOwn(context.Background(), ev(c, author(4), 1, 1, ChannelID{}, false, "")); err != nil {
		t.Fatal(err)
	}
}

// Large Appends split into transactions and local marks stay gap-free.
func TestHugeAppendSplits(t *testing.T) {
	s := openTest(t, t.TempDir())
	c := community(1)
	evs := make([]Event, 8000)
	for i := range evs {
		evs[i] = ev(c, author(1), uint64(i+1), uint64(i+1), channel(1), i%5 == 0, "")
	}
	if n, err := s.Append(evs...); n != len(evs) || err != nil {
		t.Fatalf("Append(8000) = %d, %v", n, err)
	}
	big := make([]Event, 4)
	for i := range big {
		big[i] = ev(c, author(2), uint64(i+1), 1, channel(1), false, "")
		big[i].Envelope = make([]byte, 500<<10)
	}
	if n, err := s.Append(big...); n != len(big) || err != nil {
		t.Fatalf("Append(4 × 500 KiB) = %d, %v", n, err)
	}
	if m, _ := s.LocalMark(c); m != 8004 {
		t.Fatalf("LocalMark = %d", m)
	}
}

// One's own message does not wait for a whole catch-up to be written: it is stored while a
// 10,000-event Append is still running.
func TestOwnWriteDoesNotWaitForBulkAppend(t *testing.T) {
	s := openTest(t, t.TempDir())
	c := community(1)
	bulk := make([]Event, 10000)
	for i := range bulk {
		bulk[i] = ev(c, author(1), uint64(i+1), uint64(i+1), channel(1), false, "")
		bulk[i].Envelope = noiseFor(bulk[i].ID, 500)
	}
	started, done := make(chan struct{}), make(chan struct{})
	go func() {
		close(started)
		s.Append(bulk...)
		close(done)
	}()
	<-started
	for m := uint64(0); m == 0; m, _ = s.LocalMark(c) { // the bulk write has begun
		time.Sleep(time.Millisecond)
	}
	if err := s.AppendOwn(context.Background(), ev(c, author(2), 1, 1, channel(1), false, "own")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		t.Fatal("the own event was stored only after the whole bulk write")
	default:
	}
	<-done
}
