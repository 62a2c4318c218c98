package storage

import (
	"context"
	"testing"
)

// TestSearchIndex: postings come back newest first, from a cursor on; a removed posting is gone;
// an event is found by its ID's first 8 bytes; other communities and terms do not mix; Forget
// drops a community's postings.
func TestSearchIndex(t *testing.T) {
	s := openTest(t, t.TempDir())
	c, other, ch := community(1), community(2), channel(1)
	var evs []Event
	for i := range 5 {
		evs = append(evs, ev(c, author(1), uint64(i+1), uint64(10+i), ch, false, ""))
	}
	if err := s.AppendOwn(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	var add []Posting
	for _, e := range evs {
		add = append(add, Posting{Term: 7, Lamport: e.Lamport, ID: e.ID})
	}
	add = append(add, Posting{Term: 9, Lamport: evs[2].Lamport, ID: evs[2].ID})
	must(t, s.Index(c, add, nil))
	must(t, s.Index(other, []Posting{{Term: 7, Lamport: 99, ID: evs[0].ID}}, nil))
	must(t, s.Index(c, nil, []Posting{{Term: 7, Lamport: evs[1].Lamport, ID: evs[1].ID}}))

	var got []uint64
	must(t, s.Intersect(c, []uint64{7}, func(l uint64, _ [8]byte) bool { got = append(got, l); return true }))
	if want := []uint64{14, 13, 12, 10}; !equalU64(got, want) {
		t.Fatalf("postings of term 7: %v, want %v", got, want)
	}
	got = nil
	must(t, s.Intersect(c, []uint64{7}, func(l uint64, _ [8]byte) bool { got = append(got, l); return len(got) < 1 }))
	if want := []uint64{14}; !equalU64(got, want) {
		t.Fatalf("postings, stopped after one: %v, want %v", got, want)
	}
	var id8 [8]byte
	copy(id8[:], evs[2].ID[:8])
	if ids, err := s.ResolveID(c, id8); err != nil || len(ids) != 1 || ids[0] != evs[2].ID {
		t.Fatalf("ResolveID: %v, %v", ids, err)
	}
	if ids, _ := s.ResolveID(other, id8); len(ids) != 0 {
		t.Fatal("an ID resolved in a community that does not hold it")
	}
	// Term 9 is on evs[2] only; 7 and 9 together: evs[2]; 7, 9 and 11: none.
	must(t, s.Index(c, []Posting{{Term: 11, Lamport: evs[0].Lamport, ID: evs[0].ID}, {Term: 9, Lamport: evs[0].Lamport, ID: evs[0].ID}}, nil))
	got = nil
	must(t, s.Intersect(c, []uint64{7, 9}, func(l uint64, _ [8]byte) bool { got = append(got, l); return true }))
	if want := []uint64{12, 10}; !equalU64(got, want) {
		t.Fatalf("7 and 9: %v, want %v", got, want)
	}
	got = nil
	must(t, s.Intersect(c, []uint64{11, 7, 9}, func(l uint64, _ [8]byte) bool { got = append(got, l); return true }))
	if want := []uint64{10}; !equalU64(got, want) {
		t.Fatalf("11, 7 and 9: %v, want %v", got, want)
	}
	got = nil
	must(t, s.Intersect(c, []uint64{7, 12345}, func(l uint64, _ [8]byte) bool { got = append(got, l); return true }))
	if len(got) != 0 {
		t.Fatalf("a term nobody holds: %v", got)
	}
	must(t, s.Forget(c))
	got = nil
	must(t, s.Intersect(c, []uint64{7}, func(l uint64, _ [8]byte) bool { got = append(got, l); return true }))
	if len(got) != 0 {
		t.Fatalf("postings after Forget: %v", got)
	}
	got = nil
	must(t, s.Intersect(other, []uint64{7}, func(l uint64, _ [8]byte) bool { got = append(got, l); return true }))
	if len(got) != 1 {
		t.Fatalf("the other community's postings: %v", got)
	}
}

func equalU64(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestIntersectLeapfrogs: one old event holds both words, thousands newer hold one each: the
// intersection finds it whatever the order of the words.
func TestIntersectLeapfrogs(t *testing.T) {
	s := openTest(t, t.TempDir())
	c := community(1)
	var add []Posting
	id := func(n int) EventID { return EventID(hash32("e", int64(n))) }
	add = append(add, Posting{Term: 1, Lamport: 5, ID: id(0)}, Posting{Term: 2, Lamport: 5, ID: id(0)})
	for i := 1; i <= 3000; i++ {
		add = append(add, Posting{Term: 1, Lamport: uint64(10 + 2*i), ID: id(i)})
		add = append(add, Posting{Term: 2, Lamport: uint64(11 + 2*i), ID: id(i + 5000)})
	}
	must(t, s.Index(c, add, nil))
	for _, terms := range [][]uint64{{1, 2}, {2, 1}} {
		var got []uint64
		must(t, s.Intersect(c, terms, func(l uint64, _ [8]byte) bool { got = append(got, l); return true }))
		if !equalU64(got, []uint64{5}) {
			t.Fatalf("%v: %v", terms, got)
		}
	}
}
