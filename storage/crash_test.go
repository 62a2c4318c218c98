package storage

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// crashAuthor is the author of writer w in round r of the crash test.
func crashAuthor(round, w int) AuthorKey { return AuthorKey(hash32("crash", int64(round), int64(w))) }

// crashEvent is event seq of writer w in round r: the parent can rebuild it
// from its ID's author and seq, and checks the envelope byte for byte.
func crashEvent(round, w int, seq uint64) Event {
	c := community(1)
	a := crashAuthor(round, w)
	id := EventID(hash32("crash-event", a[:], seq))
	e := Event{Community: c, ID: id, Author: a, Seq: seq, Lamport: seq, Authority: seq%10 == 1, Envelope: envelopeFor(id, 300)}
	if w%2 == 0 {
		e.Channel = channel(1)
	}
	return e
}

// TestCrashAcknowledgedOwnEventsSurvive runs TestCrashChild in a child
// process that appends own events from several goroutines, kills it with
// SIGKILL at a random moment and checks, after reopening, that every event
// the child saw acknowledged is stored and readable. The same folder goes
// through every round, so recovery of a recovered store is tested too.
func TestCrashAcknowledgedOwnEventsSurvive(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	dir := t.TempDir()
	const rounds = 20
	acked := map[EventID]Event{}
	var total time.Duration
	var closed uint64 // the high-water mark left by the parent's last Close
	raised := 0       // rounds whose child raised the mark before it was killed
	for round := range rounds {
		start := time.Now()
		killAfter := 5 + rand.IntN(150)
		ids := runCrashChild(t, dir, round, killAfter)
		total += time.Since(start)
		if len(ids) < killAfter {
			t.Fatalf("round %d: child acknowledged %d events before dying; expected at least %d", round, len(ids), killAfter)
		}
		for _, id := range ids {
			acked[id.ID] = id
		}

		if mark, ok, err := readMark(dir); err != nil {
			t.Fatalf("round %d: the child left a damaged high-water mark: %v", round, err)
		} else if ok && mark[community(1)] > closed {
			raised++
		}
		// Open compares the store with the mark the child raised: it must never find less.
		s, err := Open(dir, Options{Logger: testLogger(t)})
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		for _, want := range acked {
			got, err := s.EventByID(want.Community, want.ID)
			if err != nil {
				_ = s.Close()
				t.Fatalf("round %d: acknowledged event %x (seq %d) lost: %v", round, want.ID[:6], want.Seq, err)
			}
			sameEvent(t, got, want)
		}
		// Every author's chain is whole up to its head, and indexes agree.
		heads, err := s.Heads(community(1))
		if err != nil {
			t.Fatal(err)
		}
		stored := 0
		for _, h := range heads {
			next := uint64(1)
			err := s.AuthorRange(community(1), h.Author, 1, h.Seq, func(e Event) error {
				if e.Seq != next {
					return fmt.Errorf("author %x: seq %d after %d", h.Author[:4], e.Seq, next-1)
				}
				next++
				return nil
			})
			if err != nil || next != h.Seq+1 {
				t.Fatalf("round %d: chain check: %v (stopped at %d, head %d)", round, err, next, h.Seq)
			}
			stored += int(h.Seq)
		}
		if m, err := s.LocalMark(community(1)); err != nil || m != uint64(stored) {
			t.Fatalf("round %d: LocalMark = %d, %v; want %d (one number per stored event)", round, m, err, stored)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		closed = uint64(stored)
	}
	t.Logf("%d rounds, %d acknowledged events, all present; children ran %v in all; %d children raised the high-water mark before they were killed",
		rounds, len(acked), total.Round(time.Millisecond), raised)
	if raised == 0 {
		t.Fatal("no child raised the high-water mark: the test did not check the mark against a kill")
	}
}

// runCrashChild starts the child, kills it soon after killAfter
// acknowledgements and returns the events it acknowledged.
func runCrashChild(t *testing.T, dir string, round, killAfter int) []Event {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "KITH_STORAGE_CRASH_DIR="+dir, "KITH_STORAGE_CRASH_ROUND="+strconv.Itoa(round))
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
	watchdog := time.AfterFunc(20*time.Second, kill)
	defer watchdog.Stop()

	var evs []Event
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		var w int
		var seq uint64
		if _, err := fmt.Sscanf(line, "ack %d %d", &w, &seq); err != nil {
			continue // test framework output
		}
		e := crashEvent(round, w, seq)
		if id := strings.Fields(line)[3]; id != hex.EncodeToString(e.ID[:]) {
			t.Fatalf("child acknowledged %s; expected %x", id, e.ID)
		}
		evs = append(evs, e)
		if len(evs) == killAfter {
			// Kill at a random moment a little after this acknowledgement;
			// keep reading: every line printed before death is an ack.
			time.AfterFunc(time.Duration(rand.IntN(3000))*time.Microsecond, kill)
		}
	}
	err = cmd.Wait()
	if len(evs) < killAfter {
		t.Fatalf("round %d: child stopped after %d acks (%v):\n%s", round, len(evs), err, stderr.String())
	}
	return evs
}

// TestCrashChild is the child of TestCrashAcknowledgedOwnEventsSurvive: it
// appends own events from several goroutines and prints each acknowledged
// one until it is killed.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("KITH_STORAGE_CRASH_DIR")
	if dir == "" {
		t.Skip("only runs as the child of TestCrashAcknowledgedOwnEventsSurvive")
	}
	round, _ := strconv.Atoi(os.Getenv("KITH_STORAGE_CRASH_ROUND"))
	// The high-water mark rises every few milliseconds, so that kills land around its writes:
	// the parent's Open checks the store against it.
	s, err := Open(dir, Options{Logger: testLogger(t), MarkEvery: 3 * time.Millisecond})
	if err != nil {
		t.Fatalf("child: open: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second) // the parent kills us long before
	defer cancel()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for seq := uint64(1); ctx.Err() == nil; {
				n := 1 + rand.IntN(3)
				evs := make([]Event, n)
				for i := range evs {
					evs[i] = crashEvent(round, w, seq+uint64(i))
				}
				if err := s.AppendOwn(ctx, evs...); err != nil {
					if ctx.Err() == nil {
						t.Errorf("child: AppendOwn: %v", err)
					}
					return
				}
				for _, e := range evs {
					// One write per line: atomic on a pipe.
					_, _ = os.Stdout.WriteString(fmt.Sprintf("ack %d %d %x\n", w, e.Seq, e.ID))
				}
				seq += uint64(n)
			}
		})
	}
	wg.Wait()
	_ = s.Close()
}
