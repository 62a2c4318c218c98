package gossip

import (
	"sync"
	"time"
)

// Per-author rate limit of gossip (DESIGN 6): each author of a community has a bucket of
// rateBurst events that refills at rateRefill a second. A burst of 2,000 messages passes; a
// member that keeps flooding is ignored past the refill rate (its events are not forwarded; sync,
// which is not rate limited, brings them to whoever still wants them).
const (
	rateBurst  = 2500
	rateRefill = 50.0 // events a second
	maxBuckets = 1 << 16

	// A peer not known as a member (a new member whose join is not here yet, or an outsider) has
	// its own events looked at, a few, then one a minute.
	strangerBurst  = 8
	strangerRefill = 1.0 / 60
)

type bucketKey struct {
	community [32]byte
	author    string
}

type bucket struct {
	tokens float64
	last   time.Time
}

// limiter holds the buckets. It is safe for concurrent use.
type limiter struct {
	now    func() time.Time
	burst  float64
	refill float64 // tokens a second

	mu      sync.Mutex
	buckets map[bucketKey]*bucket // guarded by mu
}

func newLimiter(now func() time.Time, burst, refill float64) *limiter {
	return &limiter{now: now, burst: burst, refill: refill, buckets: map[bucketKey]*bucket{}}
}

// allow takes one token of author's bucket in community, if it has one.
func (l *limiter) allow(community [32]byte, author []byte) bool {
	now := l.now()
	k := bucketKey{community, string(author)}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[k]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.sweepLocked(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[k] = b
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(l.burst, b.tokens+dt*l.refill)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweepLocked forgets full buckets (a new bucket starts full anyway). l.mu must be held.
func (l *limiter) sweepLocked(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.refill >= l.burst {
			delete(l.buckets, k)
		}
	}
}
