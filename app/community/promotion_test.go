package community

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"time"
)

func TestWeekOf(t *testing.T) {
	for _, c := range []struct{ at, want string }{
		{"2026-12-07T00:00:00Z", "2026-12-07T00:00:00Z"}, // a Monday
		{"2026-12-13T23:59:59Z", "2026-12-07T00:00:00Z"}, // its Sunday
		{"2026-12-14T00:00:00Z", "2026-12-14T00:00:00Z"},
		{"1970-01-01T00:00:00Z", "1969-12-29T00:00:00Z"}, // before the first Monday of 1970
	} {
		at, _ := time.Parse(time.RFC3339, c.at)
		if got := WeekOf(at).Format(time.RFC3339); got != c.want {
			t.Errorf("WeekOf(%s) = %s, want %s", c.at, got, c.want)
		}
	}
}

// TestOverBudget: the first budget promotions of each week in (Lamport, ID) order count,
// whatever order a reader learnt them in (two sides of a partition meeting).
func TestOverBudget(t *testing.T) {
	monday := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	promo := func(lamport uint64, id byte, at time.Time) *Event {
		return &Event{Header: Header{Lamport: lamport, Time: at.UnixMilli()}, ID: Hash{id}}
	}
	evs := []*Event{
		promo(10, 1, monday),                    // counts
		promo(12, 2, monday.Add(48*time.Hour)),  // counts
		promo(12, 3, monday.Add(time.Hour)),     // the third of the week: over
		promo(11, 4, monday.AddDate(0, 0, 7)),   // next week: counts
		promo(20, 5, monday.Add(-10*time.Hour)), // the Sunday before: its own week, counts
		promo(9, 6, monday.AddDate(0, 0, 6)),    // counts, and sorts first
	}
	want := map[Hash]bool{{2}: true, {3}: true}
	for i := range 5 {
		shuffled := append([]*Event(nil), evs...)
		rand.New(rand.NewPCG(uint64(i), 7)).Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		got := OverBudget(shuffled, 2)
		if len(got) != len(want) {
			t.Fatalf("order %d: over budget %v, want %v", i, got, want)
		}
		for id := range want {
			if !got[id] {
				t.Fatalf("order %d: %s should be over the budget, got %v", i, id.Short(), got)
			}
		}
	}
	if got := OverBudget(evs, 3); len(got) != 1 || !got[Hash{3}] {
		t.Fatalf("with a budget of 3, only the fourth of the week is over: %v", got)
	}
}

// TestSettingsBudgetEncoding: the budget travels only when set, so settings written before it
// decode the same, and a written 0 is refused (it has one encoding: none).
func TestSettingsBudgetEncoding(t *testing.T) {
	old := &Settings{MemberInvites: 2, Welcome: "hi"}
	b := EncodeBody(old)
	got, err := decodeBodyInto(&Settings{}, b)
	if err != nil || got.(*Settings).PromotionBudget() != DefaultPromotionsPerWeek {
		t.Fatalf("settings without a budget: %v %+v", err, got)
	}
	set := &Settings{MemberInvites: 2, Welcome: "hi", PromotionsPerWeek: 7}
	b = EncodeBody(set)
	got, err = decodeBodyInto(&Settings{}, b)
	if err != nil || got.(*Settings).PromotionBudget() != 7 {
		t.Fatalf("settings with a budget of 7: %v %+v", err, got)
	}
	if _, err := decodeBodyInto(&Settings{}, append(EncodeBody(old), 0)); err == nil {
		t.Fatal("a written budget of 0 was accepted")
	}
	if _, err := decodeBodyInto(&Settings{}, append(EncodeBody(old), MaxPromotionsPerWeek+1)); err == nil {
		t.Fatal("a budget past the maximum was accepted")
	}
}

// TestSettingsFileFields: the file limit and "keep every file" travel as tagged fields after the
// budget (written as the budget it stands for when they follow it); settings without them read
// as before; a tag out of order, a limit of 0 or past the maximum, and a tag from a newer Kith
// are refused.
func TestSettingsFileFields(t *testing.T) {
	set := &Settings{MemberInvites: 2, Welcome: "hi", MaxFileMiB: 25, KeepFiles: true}
	got, err := decodeBodyInto(&Settings{}, EncodeBody(set))
	if err != nil {
		t.Fatal(err)
	}
	g := got.(*Settings)
	if g.MaxFileMiB != 25 || !g.KeepFiles || g.FileLimit() != 25<<20 || g.PromotionBudget() != DefaultPromotionsPerWeek {
		t.Fatalf("read back: %+v", g)
	}
	if !bytes.Equal(EncodeBody(g), EncodeBody(set)) {
		t.Fatal("the settings do not encode back to their bytes")
	}
	only := &Settings{KeepFiles: true, PromotionsPerWeek: 9}
	got, err = decodeBodyInto(&Settings{}, EncodeBody(only))
	if g := got.(*Settings); err != nil || !g.KeepFiles || g.MaxFileMiB != 0 || g.FileLimit() != DefaultMaxFileMiB<<20 || g.PromotionBudget() != 9 {
		t.Fatalf("keep files alone: %v %+v", err, got)
	}
	plain := EncodeBody(&Settings{MemberInvites: 2, PromotionsPerWeek: 3})
	for name, tail := range map[string][]byte{
		"out of order":   {settingKeepFiles, settingMaxFile, 5},
		"the same twice": {settingKeepFiles, settingKeepFiles},
		"a limit of 0":   {settingMaxFile, 0},
		"past the max":   binary.AppendUvarint([]byte{settingMaxFile}, MaxFileMiB+1),
		"a newer tag":    {3},
	} {
		if _, err := decodeBodyInto(&Settings{}, append(bytes.Clone(plain), tail...)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
