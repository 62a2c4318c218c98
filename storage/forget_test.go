package storage

import (
	"context"
	"errors"
	"testing"
)

// TestForget: a forgotten community is gone — events, pages, the community list, its settings —
// while the other community and other settings stay; the store opens again (the high-water mark
// dropped the community first, so it does not claim what is gone), and the community can be
// stored again from scratch.
func TestForget(t *testing.T) {
	dir := t.TempDir()
	gone, kept, ch := community(1), community(2), channel(1)
	s, err := Open(dir, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []CommunityID{gone, kept} {
		if err := s.AppendOwn(context.Background(), ev(c, author(1), 1, 1, ChannelID{}, true, "")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(ev(c, author(2), 1, 2, ch, false, ""), ev(c, author(2), 2, 3, ch, false, "")); err != nil {
			t.Fatal(err)
		}
	}
	must(t, s.raiseMark()) // the mark counts both communities
	must(t, s.SetSetting("sync/gone/peer", []byte{1}))
	must(t, s.SetSetting("sync/kept/peer", []byte{2}))
	must(t, s.Forget(gone, "sync/gone/"))
	check := func(s *Store) {
		t.Helper()
		cs, err := s.Communities()
		if err != nil || len(cs) != 1 || cs[0] != kept {
			t.Fatalf("communities after forgetting: %v, %v", cs, err)
		}
		if n, err := s.LocalMark(gone); err != nil || n != 0 {
			t.Fatalf("the forgotten community's local mark: %d, %v", n, err)
		}
		if n, err := s.LocalMark(kept); err != nil || n != 3 {
			t.Fatalf("the other community's local mark: %d, %v", n, err)
		}
		if _, err := s.Setting("sync/gone/peer"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("the forgotten community's setting: %v", err)
		}
		if v, err := s.Setting("sync/kept/peer"); err != nil || v[0] != 2 {
			t.Fatalf("the other setting: %v, %v", v, err)
		}
	}
	check(s)
	must(t, s.Close())
	s, err = Open(dir, Options{Logger: testLogger(t)}) // refused as damaged if the mark still counted it
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check(s)
	if _, err := s.Append(ev(gone, author(1), 1, 1, ChannelID{}, true, "")); err != nil {
		t.Fatalf("storing the forgotten community again: %v", err)
	}
}
