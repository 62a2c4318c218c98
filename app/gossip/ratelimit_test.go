package gossip

import (
	"testing"
	"time"
)

// TestLimiter: a burst of 2,000 passes; past the bucket an author is held to the refill rate;
// authors and communities have buckets of their own.
func TestLimiter(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := newLimiter(func() time.Time { return now }, rateBurst, rateRefill)
	c, other := [32]byte{1}, [32]byte{2}
	a, b := []byte("author a"), []byte("author b")
	passed := 0
	for range rateBurst + 100 {
		if l.allow(c, a) {
			passed++
		}
	}
	if passed != rateBurst {
		t.Fatalf("%d of a burst passed, want the bucket: %d", passed, rateBurst)
	}
	if !l.allow(c, b) || !l.allow(other, a) {
		t.Fatal("another author, or the same author elsewhere, was limited too")
	}
	now = now.Add(2 * time.Second) // refills 100
	passed = 0
	for range 200 {
		if l.allow(c, a) {
			passed++
		}
	}
	if passed != 2*rateRefill {
		t.Fatalf("%d passed after 2 s, want %d", passed, int(2*rateRefill))
	}
	now = now.Add(time.Hour)
	l.sweepLocked(now)
	if len(l.buckets) != 0 {
		t.Fatalf("%d buckets left after an hour, want 0 (full buckets are forgotten)", len(l.buckets))
	}
}
