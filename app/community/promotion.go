package community

// The promotion budget: how many promotional posts and offers count in one week, decided the
// same way by every reader from the log alone.

import (
	"slices"
	"time"
)

// Bounds of the promotion budget.
const (
	// DefaultPromotionsPerWeek is the budget of a community whose owner never set one.
	DefaultPromotionsPerWeek = 3
	// MaxPromotionsPerWeek bounds the setting: past it, promotions would not stay rare.
	MaxPromotionsPerWeek = 50
)

// IsPromotion reports whether events of kind k count against the promotion budget: promotional
// posts and offers.
func IsPromotion(k Kind) bool { return k == KindPromotion || k == KindOffer }

// week is the number of the week (Monday 00:00 UTC to the next) that holds Unix millisecond ms.
func week(ms int64) int64 {
	const monday = 4 * 24 * 3600 * 1000 // 1970-01-05, the first Monday
	const w = 7 * 24 * 3600 * 1000
	d := ms - monday
	if d < 0 {
		return (d - w + 1) / w
	}
	return d / w
}

// WeekOf is the start of the week (Monday 00:00 UTC) that holds t.
func WeekOf(t time.Time) time.Time {
	const monday = 4 * 24 * 3600 * 1000
	return time.UnixMilli(monday + week(t.UnixMilli())*7*24*3600*1000).UTC()
}

// OverBudget returns the promotions among evs that do not count: in each week (Monday to
// Monday, UTC, by the author's clock in the header), the first budget promotions in (Lamport,
// ID) order count and the others are over the budget. evs are the promotions that pass
// CheckContent, in any order; every reader with the same log gets the same answer, also after
// a partition heals.
func OverBudget(evs []*Event, budget int) map[Hash]bool {
	sorted := slices.Clone(evs)
	slices.SortFunc(sorted, func(a, b *Event) int { return a.Position().Compare(b.Position()) })
	used := map[int64]int{}
	over := map[Hash]bool{}
	for _, e := range sorted {
		w := week(e.Time)
		if used[w] >= budget {
			over[e.ID] = true
			continue
		}
		used[w]++
	}
	return over
}
