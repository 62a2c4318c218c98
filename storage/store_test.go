package storage

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	s := openTest(t, t.TempDir())
	c1, c2 := community(1), community(2)
	a1, a2 := author(1), author(2)
	ch := channel(1)
	evs := []Event{
		ev(c1, a1, 1, 1, ChannelID{}, true, ""),
		ev(c1, a1, 2, 2, ch, false, ""),
		ev(c1, a2, 1, 2, ch, false, ""),
		ev(c1, a2, 2, 3, ChannelID{}, true, ""),
		ev(c1, a1, 3, 4, ch, false, ""),
		ev(c2, a1, 1, 1, ch, false, ""),
	}
	evs[3].Envelope = nil // an empty envelope round-trips too
	if n, err := s.Append(evs...); err != nil || n != len(evs) {
		t.Fatalf("Append = %d, %v; want %d, nil", n, err, len(evs))
	}

	for _, want := range evs {
		got, err := s.EventBySeq(want.Community, want.Author, want.Seq)
		if err != nil {
			t.Fatalf("EventBySeq: %v", err)
		}
		sameEvent(t, got, want)
		got, err = s.EventByID(want.Community, want.ID)
		if err != nil {
			t.Fatalf("EventByID: %v", err)
		}
		sameEvent(t, got, want)
		if ok, err := s.Has(want.Community, want.ID); !ok || err != nil {
			t.Fatalf("Has = %v, %v; want true", ok, err)
		}
		if a, seq, lamport, err := s.Locate(want.Community, want.ID); err != nil || a != want.Author || seq != want.Seq || lamport != want.Lamport {
			t.Fatalf("Locate = %x, %d, %d, %v; want %x, %d, %d", a[:4], seq, lamport, err, want.Author[:4], want.Seq, want.Lamport)
		}
	}
	if _, _, _, err := s.Locate(c2, evs[0].ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Locate(other community) error = %v; want ErrNotFound", err)
	}
	if _, err := s.EventBySeq(c1, a1, 9); !errors.Is(err, ErrNotFound) {
		t.Fatalf("EventBySeq(missing) error = %v; want ErrNotFound", err)
	}
	if _, err := s.EventByID(c2, evs[0].ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("EventByID(other community) error = %v; want ErrNotFound", err)
	}
	if ok, err := s.Has(c2, evs[0].ID); ok || err != nil {
		t.Fatalf("Has(other community) = %v, %v; want false, nil", ok, err)
	}

	heads, err := s.Heads(c1)
	if err != nil {
		t.Fatal(err)
	}
	wantHeads := []Head{{a1, 3, evs[4].ID}, {a2, 2, evs[3].ID}}
	slices.SortFunc(wantHeads, func(x, y Head) int { return bytes.Compare(x.Author[:], y.Author[:]) })
	if !slices.Equal(heads, wantHeads) {
		t.Fatalf("Heads = %v; want %v", heads, wantHeads)
	}

	var got []Event
	collect := func(e Event) error { got = append(got, e); return nil }
	if err := s.AuthorRange(c1, a1, 0, 2, collect); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got), []EventID{evs[0].ID, evs[1].ID}) {
		t.Fatalf("AuthorRange(0..2) = %x", ids(got))
	}
	got = nil
	if err := s.AuthorRange(c1, a1, 2, 100, collect); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got), []EventID{evs[1].ID, evs[4].ID}) {
		t.Fatalf("AuthorRange(2..100) = %x", ids(got))
	}
	stop := errors.New("stop")
	if err := s.AuthorRange(c1, a1, 1, 3, func(Event) error { return stop }); err != stop {
		t.Fatalf("AuthorRange with failing callback = %v; want the callback's error", err)
	}

	if n, err := s.ChannelCount(c1, ch); n != 3 || err != nil {
		t.Fatalf("ChannelCount = %d, %v; want 3", n, err)
	}
	page, err := s.Page(c1, ch, Cursor{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	// (Lamport, ID): evs[4] (4) then evs[1] and evs[2] (both 2) by ID, descending.
	want := []Event{evs[4], evs[1], evs[2]}
	if bytes.Compare(evs[1].ID[:], evs[2].ID[:]) < 0 {
		want[1], want[2] = want[2], want[1]
	}
	if !slices.Equal(ids(page), ids(want)) {
		t.Fatalf("Page = %x; want %x", ids(page), ids(want))
	}
	for i := range page {
		sameEvent(t, page[i], want[i])
	}

	got = nil
	if err := s.AuthorityEvents(c1, collect); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got), []EventID{evs[0].ID, evs[3].ID}) {
		t.Fatalf("AuthorityEvents = %x", ids(got))
	}

	if m, err := s.LocalMark(c1); m != 5 || err != nil {
		t.Fatalf("LocalMark(c1) = %d, %v; want 5", m, err)
	}
	if m, err := s.LocalMark(community(99)); m != 0 || err != nil {
		t.Fatalf("LocalMark(unknown) = %d, %v; want 0, nil", m, err)
	}

	if _, err := s.State(c1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("State before PutState: %v; want ErrNotFound", err)
	}
	if err := s.PutState(c1, []byte("state-1")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutState(c1, []byte("state-2")); err != nil {
		t.Fatal(err)
	}
	if st, err := s.State(c1); err != nil || string(st) != "state-2" {
		t.Fatalf("State = %q, %v", st, err)
	}
	c3 := community(3) // state only
	if err := s.PutState(c3, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if m, err := s.LocalMark(c1); m != 5 || err != nil {
		t.Fatalf("LocalMark after PutState = %d, %v; want 5", m, err)
	}
	comms, err := s.Communities()
	if err != nil {
		t.Fatal(err)
	}
	wantComms := []CommunityID{c1, c2, c3}
	slices.SortFunc(wantComms, func(x, y CommunityID) int { return bytes.Compare(x[:], y[:]) })
	if !slices.Equal(comms, wantComms) {
		t.Fatalf("Communities = %x; want %x", comms, wantComms)
	}

	// Peers and settings.
	seen := time.Date(2026, 11, 20, 10, 0, 0, 123, time.UTC)
	peers := []Peer{
		{ID: "12D3KooWB", Addrs: []string{"/ip4/127.0.0.1/tcp/4001", "/ip4/10.0.0.2/udp/4001/quic-v1"}, LastSeen: seen, Communities: []CommunityID{c1, c2}, Relay: true},
		{ID: "12D3KooWA"},
	}
	for _, p := range peers {
		if err := s.PutPeer(p); err != nil {
			t.Fatal(err)
		}
	}
	gotPeers, err := s.Peers()
	if err != nil {
		t.Fatal(err)
	}
	if len(gotPeers) != 2 || gotPeers[0].ID != "12D3KooWA" || !samePeer(gotPeers[1], peers[0]) || !samePeer(gotPeers[0], peers[1]) {
		t.Fatalf("Peers = %+v", gotPeers)
	}
	if err := s.DeletePeer("12D3KooWA"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePeer("absent"); err != nil {
		t.Fatalf("DeletePeer(absent) = %v; want nil", err)
	}
	if gotPeers, _ = s.Peers(); len(gotPeers) != 1 || gotPeers[0].ID != "12D3KooWB" {
		t.Fatalf("Peers after delete = %+v", gotPeers)
	}
	if err := s.PutPeer(Peer{}); err == nil {
		t.Fatal("PutPeer without ID succeeded")
	}

	if _, err := s.Setting("theme"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Setting(unset) = %v; want ErrNotFound", err)
	}
	if err := s.SetSetting("theme", []byte("dark")); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Setting("theme"); err != nil || string(v) != "dark" {
		t.Fatalf("Setting = %q, %v", v, err)
	}
}

func samePeer(a, b Peer) bool {
	return a.ID == b.ID && slices.Equal(a.Addrs, b.Addrs) && a.LastSeen.Equal(b.LastSeen) &&
		a.LastSeen.IsZero() == b.LastSeen.IsZero() && slices.Equal(a.Communities, b.Communities) && a.Relay == b.Relay
}

func TestSince(t *testing.T) {
	s := openTest(t, t.TempDir())
	c, other := community(1), community(2)
	var all []Event
	for i := 1; i <= 30; i++ {
		e := ev(c, author(i%3), uint64(i/3+1), uint64(i), channel(1), false, "")
		all = append(all, e)
		if _, err := s.Append(e, ev(other, author(1), uint64(i), 1, ChannelID{}, false, "")); err != nil {
			t.Fatal(err)
		}
	}
	// A duplicate gets no new number.
	if n, err := s.Append(all[0]); n != 0 || err != nil {
		t.Fatalf("Append(duplicate) = %d, %v", n, err)
	}
	if m, _ := s.LocalMark(c); m != 30 {
		t.Fatalf("LocalMark = %d; want 30", m)
	}
	var locals []uint64
	var got []EventID
	err := s.Since(c, 10, 5, func(local uint64, e Event) error {
		locals = append(locals, local)
		got = append(got, e.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(locals, []uint64{11, 12, 13, 14, 15}) || !slices.Equal(got, ids(all[10:15])) {
		t.Fatalf("Since(10, 5) = %v", locals)
	}
	locals = nil
	if err := s.Since(c, 25, 0, func(local uint64, _ Event) error { locals = append(locals, local); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(locals, []uint64{26, 27, 28, 29, 30}) {
		t.Fatalf("Since(25, all) = %v", locals)
	}
	locals = nil
	if err := s.Since(c, 30, 0, func(local uint64, _ Event) error { locals = append(locals, local); return nil }); err != nil || len(locals) != 0 {
		t.Fatalf("Since(30) = %v, %v; want nothing", locals, err)
	}
}

func TestPageCursorsWithLamportTies(t *testing.T) {
	s := openTest(t, t.TempDir())
	c, ch := community(1), channel(1)
	var evs []Event
	seq := map[AuthorKey]uint64{}
	for lamport := uint64(1); lamport <= 20; lamport++ {
		for k := range int(lamport%4) + 1 { // 1 to 4 events share each Lamport
			a := author(k)
			seq[a]++
			evs = append(evs, ev(c, a, seq[a], lamport, ch, false, ""))
		}
	}
	// Neighbouring channels must not leak into the page.
	for _, other := range []ChannelID{channel(2), channel(3)} {
		a := author(9)
		seq[a]++
		evs = append(evs, ev(c, a, seq[a], 100, other, false, ""))
	}
	if _, err := s.Append(evs...); err != nil {
		t.Fatal(err)
	}
	var want []Event
	for _, e := range evs {
		if e.Channel == ch {
			want = append(want, e)
		}
	}
	slices.SortFunc(want, func(x, y Event) int { // newest first
		if r := cmp.Compare(y.Lamport, x.Lamport); r != 0 {
			return r
		}
		return bytes.Compare(y.ID[:], x.ID[:])
	})
	for _, limit := range []int{1, 3, 7, 1000} {
		var got []Event
		cur := Cursor{}
		for {
			page, err := s.Page(c, ch, cur, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			if len(page) > limit {
				t.Fatalf("Page returned %d events; limit %d", len(page), limit)
			}
			got = append(got, page...)
			last := page[len(page)-1]
			cur = Cursor{last.Lamport, last.ID}
		}
		if !slices.Equal(ids(got), ids(want)) {
			t.Fatalf("limit %d: paged order differs from (Lamport, ID) descending", limit)
		}
	}
	// A cursor that is not a stored event: strictly before (5, 0xFF...) is
	// everything with Lamport <= 5; before (5, 0x00...) is Lamport <= 4.
	var maxID EventID
	for i := range maxID {
		maxID[i] = 0xFF
	}
	page, err := s.Page(c, ch, Cursor{5, maxID}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) == 0 || page[0].Lamport != 5 || page[len(page)-1].Lamport != 1 {
		t.Fatalf("Page before (5, max) starts at Lamport %d", page[0].Lamport)
	}
	page, _ = s.Page(c, ch, Cursor{5, EventID{}}, 1000)
	if len(page) == 0 || page[0].Lamport != 4 {
		t.Fatalf("Page before (5, zero) starts at Lamport %d; want 4", page[0].Lamport)
	}
	if page, _ := s.Page(c, ch, Cursor{}, 0); len(page) != 0 {
		t.Fatalf("Page with limit 0 returned %d events", len(page))
	}
	if page, _ := s.Page(c, channel(7), Cursor{}, 10); len(page) != 0 {
		t.Fatalf("Page of an empty channel returned %d events", len(page))
	}
}

func TestPageLatest50Of10000(t *testing.T) {
	s := openTest(t, t.TempDir())
	c, ch := community(1), channel(1)
	const n = 10000
	batch := make([]Event, 0, 1000)
	for i := 1; i <= n; i++ {
		batch = append(batch, ev(c, author(i%7), uint64(i/7+1), uint64(i), ch, false, ""))
		if len(batch) == cap(batch) {
			if _, err := s.Append(batch...); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	// Events in the next channel's prefix, written last, with higher Lamports.
	if _, err := s.Append(ev(c, author(8), 1, n+5, channel(2), false, "")); err != nil {
		t.Fatal(err)
	}
	page, err := s.Page(c, ch, Cursor{}, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 50 {
		t.Fatalf("Page returned %d events; want 50", len(page))
	}
	for i, e := range page {
		if want := uint64(n - i); e.Lamport != want || e.Channel != ch {
			t.Fatalf("page[%d] has Lamport %d; want %d", i, e.Lamport, want)
		}
	}
	// A page from the middle, after the cursor of the first.
	last := page[49]
	page, err = s.Page(c, ch, Cursor{last.Lamport, last.ID}, 50)
	if err != nil || len(page) != 50 || page[0].Lamport != n-50 || page[49].Lamport != n-99 {
		t.Fatalf("second page: %d events, %v", len(page), err)
	}
	if cnt, err := s.ChannelCount(c, ch); cnt != n || err != nil {
		t.Fatalf("ChannelCount = %d, %v; want %d", cnt, err, n)
	}
}

func TestAppendIdempotentAndSeqTaken(t *testing.T) {
	s := openTest(t, t.TempDir())
	c, a := community(1), author(1)
	e1 := ev(c, a, 1, 1, channel(1), true, "")
	e2 := ev(c, a, 2, 2, channel(1), false, "")
	if n, err := s.Append(e1, e2); n != 2 || err != nil {
		t.Fatalf("Append = %d, %v", n, err)
	}
	// The same events again, and twice within one batch: nothing new.
	if n, err := s.Append(e1, e2, e2); n != 0 || err != nil {
		t.Fatalf("Append(again) = %d, %v; want 0, nil", n, err)
	}
	e3 := ev(c, a, 3, 3, channel(1), false, "")
	if n, err := s.Append(e3, e3); n != 1 || err != nil {
		t.Fatalf("Append(e3, e3) = %d, %v; want 1, nil", n, err)
	}
	// A fork at seq 2, with a new event in the same batch.
	fork := ev(c, a, 2, 2, channel(1), false, "fork")
	e4 := ev(c, a, 4, 4, channel(1), false, "")
	n, err := s.Append(fork, e4)
	if n != 1 || !errors.Is(err, ErrSeqTaken) {
		t.Fatalf("Append(fork, e4) = %d, %v; want 1, ErrSeqTaken", n, err)
	}
	var st *SeqTakenError
	if !errors.As(err, &st) || st.Stored != e2.ID || st.New != fork.ID || st.Seq != 2 || st.Author != a {
		t.Fatalf("error %v does not name both IDs", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, fmt.Sprintf("%x", e2.ID)) || !strings.Contains(msg, fmt.Sprintf("%x", fork.ID)) {
		t.Fatalf("message %q does not name both IDs", msg)
	}
	if got, _ := s.EventBySeq(c, a, 2); got.ID != e2.ID {
		t.Fatal("the stored event at seq 2 changed")
	}
	if ok, _ := s.Has(c, fork.ID); ok {
		t.Fatal("the forked event was indexed")
	}
	if ok, _ := s.Has(c, e4.ID); !ok {
		t.Fatal("the other event of the batch was not stored")
	}
	if cnt, _ := s.ChannelCount(c, channel(1)); cnt != 4 {
		t.Fatalf("ChannelCount = %d; want 4", cnt)
	}
	if m, _ := s.LocalMark(c); m != 4 {
		t.Fatalf("LocalMark = %d; want 4", m)
	}
	// AppendOwn reports the same.
	if err := s.AppendOwn(context.Background(), fork); !errors.Is(err, ErrSeqTaken) {
		t.Fatalf("AppendOwn(fork) = %v; want ErrSeqTaken", err)
	}
	if err := s.AppendOwn(context.Background(), e1, e4); err != nil {
		t.Fatalf("AppendOwn(stored events) = %v; want nil", err)
	}
	// Sequence 0 is refused.
	if n, err := s.Append(ev(c, a, 0, 1, ChannelID{}, false, "")); n != 0 || err == nil {
		t.Fatalf("Append(seq 0) = %d, %v; want an error", n, err)
	}
	// A lower seq stored late does not move the head back.
	b := author(2)
	if _, err := s.Append(ev(c, b, 5, 5, ChannelID{}, false, ""), ev(c, b, 3, 3, ChannelID{}, false, "")); err != nil {
		t.Fatal(err)
	}
	heads, _ := s.Heads(c)
	for _, h := range heads {
		if h.Author == b && h.Seq != 5 {
			t.Fatalf("head of b = %d; want 5", h.Seq)
		}
	}
}

func TestAppendOwnConcurrent(t *testing.T) {
	s := openTest(t, t.TempDir())
	c := community(1)
	const writers, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := 1; i <= each; i++ {
				if err := s.AppendOwn(context.Background(), ev(c, author(w), uint64(i), uint64(i), channel(w%2), w == 0, "")); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if m, _ := s.LocalMark(c); m != writers*each {
		t.Fatalf("LocalMark = %d; want %d", m, writers*each)
	}
	heads, _ := s.Heads(c)
	if len(heads) != writers {
		t.Fatalf("%d heads; want %d", len(heads), writers)
	}
	for _, h := range heads {
		if h.Seq != each {
			t.Fatalf("head %x at %d; want %d", h.Author[:4], h.Seq, each)
		}
	}
	// A context that is already done.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.AppendOwn(ctx, ev(c, author(99), 1, 1, ChannelID{}, false, "")); !errors.Is(err, context.Canceled) {
		t.Fatalf("AppendOwn(cancelled) = %v; want context.Canceled", err)
	}
}

func TestReplaceEnvelope(t *testing.T) {
	s := openTest(t, t.TempDir())
	c, ch := community(1), channel(1)
	e := ev(c, author(1), 1, 7, ch, true, "")
	if _, err := s.Append(e); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceEnvelope(c, e.ID, []byte("header only")); err != nil {
		t.Fatal(err)
	}
	e.Envelope = []byte("header only")
	got, err := s.EventByID(c, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameEvent(t, got, e)
	page, _ := s.Page(c, ch, Cursor{}, 5)
	if len(page) != 1 {
		t.Fatalf("page has %d events", len(page))
	}
	sameEvent(t, page[0], e)
	var auth []Event
	_ = s.AuthorityEvents(c, func(x Event) error { auth = append(auth, x); return nil })
	if len(auth) != 1 || !bytes.Equal(auth[0].Envelope, e.Envelope) {
		t.Fatal("authority index lost the event")
	}
	if m, _ := s.LocalMark(c); m != 1 {
		t.Fatalf("LocalMark = %d after ReplaceEnvelope; want 1", m)
	}
	if err := s.ReplaceEnvelope(c, EventID{1}, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ReplaceEnvelope(missing) = %v; want ErrNotFound", err)
	}
}

func TestReopenPersistsEverything(t *testing.T) {
	dir := t.TempDir()
	c, ch := community(1), channel(1)
	evs := []Event{
		ev(c, author(1), 1, 1, ChannelID{}, true, ""),
		ev(c, author(1), 2, 2, ch, false, ""),
		ev(c, author(2), 1, 2, ch, false, ""),
	}
	s, err := Open(dir, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AppendOwn(context.Background(), evs[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(evs[1:]...); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceEnvelope(c, evs[2].ID, []byte("pruned")); err != nil {
		t.Fatal(err)
	}
	evs[2].Envelope = []byte("pruned")
	must(t, s.PutState(c, []byte("folded")))
	must(t, s.PutPeer(Peer{ID: "p1", Addrs: []string{"/ip4/1.2.3.4/tcp/1"}, Communities: []CommunityID{c}}))
	must(t, s.SetSetting("name", []byte("Ada")))
	must(t, s.Close())

	s = openTest(t, dir)
	for _, want := range evs {
		got, err := s.EventByID(c, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameEvent(t, got, want)
	}
	if page, _ := s.Page(c, ch, Cursor{}, 10); len(page) != 2 {
		t.Fatalf("page after reopen has %d events", len(page))
	}
	if m, _ := s.LocalMark(c); m != 3 {
		t.Fatalf("LocalMark after reopen = %d; want 3", m)
	}
	// Numbering continues after reopen.
	if _, err := s.Append(ev(c, author(1), 3, 3, ChannelID{}, false, "")); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.LocalMark(c); m != 4 {
		t.Fatalf("LocalMark = %d; want 4", m)
	}
	if st, err := s.State(c); err != nil || string(st) != "folded" {
		t.Fatalf("State = %q, %v", st, err)
	}
	if ps, _ := s.Peers(); len(ps) != 1 || ps[0].ID != "p1" || len(ps[0].Communities) != 1 {
		t.Fatalf("Peers = %+v", ps)
	}
	if v, err := s.Setting("name"); err != nil || string(v) != "Ada" {
		t.Fatalf("Setting = %q, %v", v, err)
	}
	if cs, _ := s.Communities(); len(cs) != 1 || cs[0] != c {
		t.Fatalf("Communities = %x", cs)
	}
	heads, _ := s.Heads(c)
	if len(heads) != 2 {
		t.Fatalf("Heads = %v", heads)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenCreatesPrivateFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "kith")
	s := openTest(t, dir)
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		t.Fatalf("data folder mode %o; want 0700", perm)
	}
	if _, err := os.Stat(filepath.Join(dir, "LOCK")); err != nil {
		t.Fatalf("no LOCK file: %v", err)
	}
	if ok, err := s.Has(community(1), EventID{}); ok || err != nil {
		t.Fatalf("Has on a new store = %v, %v", ok, err)
	}
}

func TestCloseTwiceAndErrClosed(t *testing.T) {
	s, err := Open(t.TempDir(), Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	c := community(1)
	// Writers running while Close happens get nil or ErrClosed, never a panic.
	var wg, started sync.WaitGroup
	started.Add(4)
	for w := range 4 {
		wg.Go(func() {
			for i := uint64(1); ; i++ {
				if i == 2 {
					started.Done() // one write has gone through
				}
				var err error
				if w%2 == 0 {
					err = s.AppendOwn(context.Background(), ev(c, author(w), i, i, ChannelID{}, false, ""))
				} else {
					_, err = s.Append(ev(c, author(w), i, i, ChannelID{}, false, ""))
				}
				if err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Errorf("write during Close: %v", err)
					}
					if i == 1 {
						started.Done()
					}
					return
				}
			}
		})
	}
	started.Wait() // every writer is running
	var cw sync.WaitGroup
	for range 3 {
		cw.Go(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	cw.Wait()
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatalf("third Close: %v", err)
	}
	checks := map[string]error{}
	_, checks["EventByID"] = s.EventByID(c, EventID{})
	_, checks["Append"] = s.Append(ev(c, author(1), 1, 1, ChannelID{}, false, ""))
	checks["AppendOwn"] = s.AppendOwn(context.Background(), ev(c, author(1), 1, 1, ChannelID{}, false, ""))
	_, checks["Page"] = s.Page(c, ChannelID{}, Cursor{}, 1)
	checks["PutState"] = s.PutState(c, nil)
	checks["SetSetting"] = s.SetSetting("x", nil)
	_, checks["Peers"] = s.Peers()
	checks["ReplaceEnvelope"] = s.ReplaceEnvelope(c, EventID{}, nil)
	for name, err := range checks {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v; want ErrClosed", name, err)
		}
	}
	// The folder can be opened again.
	s2, err := Open(s.dir, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("reopen after Close: %v", err)
	}
	must(t, s2.Close())
}

const wantRunning = "Kith is already running with this data folder"

func TestSecondOpenSameProcess(t *testing.T) {
	dir := t.TempDir()
	openTest(t, dir)
	_, err := Open(dir, Options{Logger: testLogger(t)})
	if !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second Open = %v; want ErrAlreadyRunning", err)
	}
	if !strings.HasPrefix(err.Error(), wantRunning) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second Open message %q; want it to start with %q and name %s", err, wantRunning, dir)
	}
}

// TestSecondOpenChildProcess runs TestLockChild in a child process while
// this process holds the store.
func TestSecondOpenChildProcess(t *testing.T) {
	dir := t.TempDir()
	openTest(t, dir)
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "KITH_STORAGE_LOCK_CHILD="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "open error: "+wantRunning+" (close the other Kith window or kithd using "+dir+", then try again)") {
		t.Fatalf("child output:\n%s", out)
	}
}

// TestLockChild is the child of TestSecondOpenChildProcess.
func TestLockChild(t *testing.T) {
	dir := os.Getenv("KITH_STORAGE_LOCK_CHILD")
	if dir == "" {
		t.Skip("only runs as the child of TestSecondOpenChildProcess")
	}
	s, err := Open(dir, Options{Logger: testLogger(t)})
	if err == nil {
		_ = s.Close()
		fmt.Println("open succeeded")
		return
	}
	fmt.Printf("open error: %s\n", err)
	if !errors.Is(err, ErrAlreadyRunning) {
		fmt.Println("not ErrAlreadyRunning")
	}
}

func TestPeerRecordDamaged(t *testing.T) {
	p := Peer{ID: "x", Addrs: []string{"a", "bb"}, LastSeen: time.Unix(5, 6), Communities: []CommunityID{community(1)}}
	v := encodePeer(&p)
	got, err := decodePeer(v)
	if err != nil || !samePeer(got, p) {
		t.Fatalf("decodePeer = %+v, %v", got, err)
	}
	for i := range len(v) { // every truncation fails cleanly
		if _, err := decodePeer(v[:i]); err == nil {
			t.Fatalf("decodePeer of %d of %d bytes succeeded", i, len(v))
		}
	}
	v[0] = 9
	if _, err := decodePeer(v); err == nil || !strings.Contains(err.Error(), "update Kith") {
		t.Fatalf("decodePeer(version 9) = %v", err)
	}
	// A version-1 record (no flags byte), as earlier versions wrote it, still reads.
	v1 := encodePeer(&p)
	v1 = v1[:len(v1)-1]
	v1[0] = peerRecordV1
	if got, err := decodePeer(v1); err != nil || !samePeer(got, p) {
		t.Fatalf("decodePeer(version 1) = %+v, %v", got, err)
	}
	p.Relay = true
	if got, err := decodePeer(encodePeer(&p)); err != nil || !got.Relay {
		t.Fatalf("the relay flag did not come back: %+v, %v", got, err)
	}
}

func TestKeyOrderIsNumericOrder(t *testing.T) {
	c, ch := community(1), channel(1)
	var hi EventID
	hi[0] = 0xFF
	keys := [][]byte{
		pageKey(c, ch, 1, hi),
		pageKey(c, ch, 2, EventID{}),
		pageKey(c, ch, 255, EventID{}),
		pageKey(c, ch, 256, EventID{}),
		pageKey(c, ch, 1<<40, EventID{}),
	}
	for i := 1; i < len(keys); i++ {
		if bytes.Compare(keys[i-1], keys[i]) >= 0 {
			t.Fatalf("page key %d sorts after key %d", i-1, i)
		}
	}
	if bytes.Compare(pageKey(c, ch, ^uint64(0), hi), pageEnd(c, ch)) > 0 {
		t.Fatal("pageEnd is not after every page key")
	}
	if !bytes.HasPrefix(pageEnd(c, ch), pagePrefix(c, ch)) {
		t.Fatal("pageEnd is outside the channel prefix")
	}
	if bytes.Compare(eventKey(c, author(1), 255), eventKey(c, author(1), 256)) >= 0 {
		t.Fatal("event keys are not in seq order")
	}
}

func TestSetChannelMovesAnEventBetweenPages(t *testing.T) {
	s := openTest(t, t.TempDir())
	c, pending, general := community(1), channel(9), channel(1)
	e := ev(c, author(1), 1, 5, pending, false, "")
	if _, err := s.Append(e); err != nil {
		t.Fatal(err)
	}
	if err := s.SetChannel(c, e.ID, general); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Page(c, pending, Cursor{}, 10); len(p) != 0 {
		t.Fatalf("still in the old page: %d", len(p))
	}
	p, err := s.Page(c, general, Cursor{}, 10)
	if err != nil || len(p) != 1 || p[0].ID != e.ID || p[0].Channel != general {
		t.Fatalf("new page = %+v, %v", p, err)
	}
	if got, _ := s.EventByID(c, e.ID); got.Channel != general {
		t.Fatal("the record keeps the old channel")
	}
	if err := s.SetChannel(c, EventID{1}, general); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown event: %v", err)
	}
}
