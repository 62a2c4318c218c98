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
	must(t, s.Postings(c, 7, Cursor{}, func(l uint64, _ [8]byte) bool { got = append(got, l); return true }))
	if want := []uint64{14, 13, 12, 10}; !equalU64(got, want) {
		t.Fatalf("postings of term 7: %v, want %v", got, want)
	}
	got = nil
	must(t, s.Postings(c, 7, Cursor{Lamport: 13, ID: evs[3].ID}, func(l uint64, _ [8]byte) bool { got = append(got, l); return len(got) < 1 }))
	if want := []uint64{12}; !equalU64(got, want) {
		t.Fatalf("postings after the cursor, one: %v, want %v", got, want)
	}
	var id8 [8]byte
	copy(id8[:], evs[2].ID[:8])
	if ok, err := s.HasPosting(c, 9, evs[2].Lamport, id8); err != nil || !ok {
		t.Fatalf("HasPosting of term 9: %v, %v", ok, err)
	}
	if ok, _ := s.HasPosting(c, 9, evs[3].Lamport, id8); ok {
		t.Fatal("a posting at another place")
	}
	if id, ok, err := s.ResolveID(c, id8); err != nil || !ok || id != evs[2].ID {
		t.Fatalf("ResolveID: %x, %v, %v", id[:4], ok, err)
	}
	if _, ok, _ := s.ResolveID(other, id8); ok {
		t.Fatal("an ID resolved in a community that does not hold it")
	}
	must(t, s.Forget(c))
	got = nil
	must(t, s.Postings(c, 7, Cursor{}, func(l uint64, _ [8]byte) bool { got = append(got, l); return true }))
	if len(got) != 0 {
		t.Fatalf("postings after Forget: %v", got)
	}
	got = nil
	must(t, s.Postings(other, 7, Cursor{}, func(l uint64, _ [8]byte) bool { got = append(got, l); return true }))
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
