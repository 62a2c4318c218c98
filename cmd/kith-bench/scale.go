package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/identity"
	"github.com/kith-app/kith/app/invite"
	"github.com/kith-app/kith/app/localstore"
	"github.com/kith-app/kith/storage"
)

// The sizes DESIGN section 8 sets the scale targets at.
const (
	targetMembers  = 1000
	targetMessages = 1_000_000
	targetHosts    = 30
)

// scaleSuites measures how costs grow with size (issue 15): a community of more and more
// members, a store of more and more messages, a live mesh of more and more hosts. Each suite
// prints its costs at every size and the exponent between sizes, beside the figures its target
// is about.
func (b *bench) scaleSuites(ctx context.Context, timed func(func() (*suite, error)) error) error {
	for _, s := range []struct {
		name string
		run  func(context.Context) (*suite, error)
	}{{"scale/members", b.scaleMembers}, {"scale/messages", b.scaleMessages}, {"scale/mesh", b.scaleMesh}} {
		if err := timed(func() (*suite, error) { return s.run(ctx) }); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}

// judged is the index of the size a target is judged at: the largest size measured that is not
// above the target's own size.
func judged(sizes []int, target int) int {
	i := 0
	for j, n := range sizes {
		if n <= target {
			i = j
		}
	}
	return i
}

// targetAt words a target set at one size and judged at another when the run stops short of it.
func targetAt(size, at int, of, bounds string) string {
	if size == at {
		return fmt.Sprintf("at %s %s: %s", thousands(size), of, bounds)
	}
	return fmt.Sprintf("at %s %s: %s (judged at %s, this run's largest)", thousands(size), of, bounds, thousands(at))
}

// sizeList writes sizes as words: "10, 100 and 1,000"; more is what the full run adds when this
// run does fewer sizes of the same series (--quick), in words: " (the full run adds 50)".
func sizeList(sizes, full []int) (list, more string) {
	words := make([]string, len(sizes))
	for i, n := range sizes {
		words[i] = thousands(n)
	}
	list = words[len(words)-1]
	if len(words) > 1 {
		list = strings.Join(words[:len(words)-1], ", ") + " and " + list
	}
	if len(sizes) < len(full) && slices.Equal(sizes, full[:len(sizes)]) {
		var rest []string
		for _, n := range full[len(sizes):] {
			rest = append(rest, thousands(n))
		}
		more = " (the full run adds " + strings.Join(rest, " and ") + ")"
	}
	return list, more
}

// medianOf is the median of durations, in milliseconds.
func medianOf(d []time.Duration) float64 { return ms(quantile(d, 0.5)) }

// joinRequest is what a joiner's install sends to be admitted (app.Service.JoinRequest, for an
// identity that has no install: the members suite's joiners are keys, not installs).
func joinRequest(inv *invite.Invite, id *identity.Identity, admitter ed25519.PublicKey, name string) (community.JoinRequest, error) {
	sig, err := community.SignJoin(id, &inv.Signed, id.X25519Public(), admitter, name)
	if err != nil {
		return community.JoinRequest{}, err
	}
	return community.JoinRequest{
		Invite: &inv.Signed, Joiner: id.PublicKey(), X25519: id.X25519Public(), Name: name,
		Proof: inv.ProveJoin(id.PublicKey(), id.X25519Public(), admitter), JoinerSig: sig,
	}, nil
}

// removalsPerSize is how many removals are timed at each community size; each removed member's
// place is taken by a newcomer, so that every removal happens at the same size.
const removalsPerSize = 3

// scaleMembers grows one community, through its owner's service and real store, to each size
// in turn: at each size it times the last joins (Service.Admit: State.CheckJoin, then the join
// event signed with the key sealed to the joiner and written durably), CheckJoin alone on the
// folded state, removals (the removal and the key rotation to every remaining member, both
// durable) and a full fold of the authority log (community.Fold), with the events' sizes.
func (b *bench) scaleMembers(ctx context.Context) (*suite, error) {
	sizes := b.size.members
	at := judged(sizes, targetMembers)
	list, more := sizeList(sizes, fullSizes.members)
	s := &suite{Name: "scale/members", Title: "joins, removals and the fold in communities of " + list + " members" + more,
		RatioOf: "a full fold's time per authority event ÷ one Ed25519 verify",
		Target:  targetAt(targetMembers, sizes[at], "members", "a removal and its key rotation < 250 ms; the rotation event < 128 KiB")}
	g := newGrowth("members", sizes)
	s.Growth = g

	b.progress.stepf("scale members: a community")
	owner, err := openInstall(ctx, "Owner", filepath.Join(b.tmp, "scale-members"), false, b.log)
	if err != nil {
		return nil, err
	}
	defer owner.Close()
	grp, err := newGroup(ctx, owner, "Scale")
	if err != nil {
		return nil, err
	}
	inv, err := owner.svc.Invite(grp.id, app.InviteParams{}) // any number of uses, no expiry
	if err != nil {
		return nil, err
	}
	admitter := owner.id.PublicKey()
	ls := localstore.Store{S: owner.st}
	serial := 0
	newcomer := func() (*identity.Identity, community.JoinRequest, error) {
		serial++
		id, err := identity.New(nil)
		if err != nil {
			return nil, community.JoinRequest{}, err
		}
		req, err := joinRequest(inv, id, admitter, "Member "+strconv.Itoa(serial))
		return id, req, err
	}
	var joined []*identity.Identity // active members but the owner, in order of joining
	admit := func() (time.Duration, int, error) {
		id, req, err := newcomer()
		if err != nil {
			return 0, 0, err
		}
		t := time.Now()
		e, err := owner.svc.Admit(ctx, grp.id, req)
		d := time.Since(t)
		if err != nil {
			return 0, 0, err
		}
		joined = append(joined, id)
		return d, len(e.Encode()), nil
	}

	for i, n := range sizes {
		b.progress.stepf("scale members: %d members", n)
		// The joins that bring the community to n, timed over the last 20 of them (or all).
		window := min(20, n-1)
		var admits []time.Duration
		var joinBytes []float64
		for members := len(joined) + 1; members < n; members++ {
			d, size, err := admit()
			if err != nil {
				return nil, fmt.Errorf("admitting member %d: %w", members+1, err)
			}
			if members+1 > n-window {
				admits = append(admits, d)
				joinBytes = append(joinBytes, float64(size))
			}
			b.progress.countf("%d/%d joined", members+1, n)
		}

		// Removals at n members, each followed by a newcomer's join.
		var removals []time.Duration
		var rotationBytes []float64
		for range removalsPerSize {
			gone := joined[len(joined)-1]
			joined = joined[:len(joined)-1]
			t := time.Now()
			if err := owner.svc.RemoveMember(ctx, grp.id, gone.PublicKey(), app.RemoveOptions{Reason: "kith-bench"}); err != nil {
				return nil, err
			}
			removals = append(removals, time.Since(t))
			epoch, err := owner.svc.Epoch(grp.id)
			if err != nil {
				return nil, err
			}
			rot, ok, err := ls.Event(grp.id, epoch)
			if err != nil || !ok || rot.Kind != community.KindRotateKey {
				return nil, fmt.Errorf("the removal's key rotation is not in the store (%v)", err)
			}
			rotationBytes = append(rotationBytes, float64(len(rot.Encode())))
			if _, _, err := admit(); err != nil {
				return nil, err
			}
		}

		// The fold of the whole authority log, as a restart or a sync folds it.
		var auth []*community.Event
		if err := ls.AuthorityEvents(grp.id, func(e *community.Event) error {
			auth = append(auth, e)
			return nil
		}); err != nil {
			return nil, err
		}
		var folds []time.Duration
		var st *community.State
		for range 3 {
			t := time.Now()
			st, err = community.Fold(auth)
			if err != nil {
				return nil, err
			}
			folds = append(folds, time.Since(t))
		}
		if got := st.ActiveCount(); got != n {
			return nil, fmt.Errorf("the folded log has %d active members, want %d", got, n)
		}

		// CheckJoin alone, on the folded state, for newcomers not admitted.
		var checks []time.Duration
		for range 20 {
			_, req, err := newcomer()
			if err != nil {
				return nil, err
			}
			t := time.Now()
			if err := st.CheckJoin(req, admitter, time.Now()); err != nil {
				return nil, err
			}
			checks = append(checks, time.Since(t))
		}

		fold := medianOf(folds)
		g.set("admit_ms", i, medianOf(admits))
		g.set("check_join_ms", i, medianOf(checks))
		g.set("join_bytes", i, median(joinBytes))
		g.set("remove_rotate_ms", i, medianOf(removals))
		g.set("rotation_bytes", i, median(rotationBytes))
		g.set("authority_events", i, float64(len(auth)))
		g.set("fold_ms", i, fold)
		g.set("fold_per_event_us", i, 1000*fold/float64(len(auth)))
	}

	s.Figures.add("members", float64(sizes[at]))
	for _, name := range []string{"admit_ms", "join_bytes", "remove_rotate_ms", "rotation_bytes", "fold_ms"} {
		s.Figures.add(name, g.at(name, at))
	}
	s.Baseline.add("verify_us", b.verifyNs/1000)
	s.Ratio = num(g.at("fold_per_event_us", at) / (b.verifyNs / 1000))
	rotate, bytes := g.at("remove_rotate_ms", at), g.at("rotation_bytes", at)
	s.Met = rotate < 250 && bytes < 128<<10
	if !s.Met {
		s.Why = fmt.Sprintf("at %s members a removal and its rotation take %.0f ms and the rotation event is %.0f KiB",
			thousands(sizes[at]), rotate, bytes/1024)
	}
	return s, nil
}

// scaleWriter writes real messages into the message suite's community faster than posting them
// one at a time durably would: eight members admitted by the owner sign and seal their messages
// here, as their installs would (each event citing its author's previous one and every other
// author's latest, as the app cites its heads), and the owner's service receives them in
// batches, as from a sync: verified, checked against the log, stored.
type scaleWriter struct {
	owner   *install
	g       *group
	authors []*identity.Identity
	key     community.Key
	epoch   community.Hash
	base    community.Position // the latest authority event: the authors' first events cite it
	last    []*community.Event // each author's latest event
	written int                // messages written
}

// newScaleWriter admits the eight authors and learns the key they write with.
func newScaleWriter(ctx context.Context, owner *install, g *group) (*scaleWriter, error) {
	inv, err := owner.svc.Invite(g.id, app.InviteParams{})
	if err != nil {
		return nil, err
	}
	w := &scaleWriter{owner: owner, g: g}
	var joins []*community.Event
	for i := range 8 {
		id, err := identity.New(nil)
		if err != nil {
			return nil, err
		}
		req, err := joinRequest(inv, id, owner.id.PublicKey(), "Author "+strconv.Itoa(i+1))
		if err != nil {
			return nil, err
		}
		e, err := owner.svc.Admit(ctx, g.id, req)
		if err != nil {
			return nil, err
		}
		w.authors = append(w.authors, id)
		joins = append(joins, e)
	}
	w.last = make([]*community.Event, len(w.authors))
	w.base = joins[len(joins)-1].Position()
	var auth []*community.Event
	if err := (localstore.Store{S: owner.st}).AuthorityEvents(g.id, func(e *community.Event) error {
		auth = append(auth, e)
		return nil
	}); err != nil {
		return nil, err
	}
	st, err := community.Fold(auth)
	if err != nil {
		return nil, err
	}
	keys := community.NewKeyring(w.authors[0])
	for _, e := range auth {
		if _, err := keys.Learn(e); err != nil {
			return nil, err
		}
	}
	var ok bool
	if w.key, ok = keys.Key(st.Current); !ok {
		return nil, errors.New("an author did not learn the current key from its join")
	}
	w.epoch = st.Current
	return w, nil
}

// round has the first k authors each write one message at once, citing what was written before
// the round.
func (w *scaleWriter) round(k int) ([]*community.Event, error) {
	deps := []community.Position{w.base}
	for _, e := range w.last {
		if e != nil {
			deps = append(deps, e.Position())
		}
	}
	out := make([]*community.Event, k)
	errs := make([]error, k)
	var wg sync.WaitGroup
	for a := range k {
		wg.Go(func() {
			id := w.authors[a]
			c := community.NewContent(community.KindMessage)
			c.Channel, c.Text = w.g.general, text("Author "+strconv.Itoa(a+1), w.written+a)
			body, err := community.SealContent(w.key, w.g.id, w.epoch, id.PublicKey(), c, rand.Reader)
			if err != nil {
				errs[a] = err
				return
			}
			out[a], errs[a] = community.Build(id, community.Draft{
				Community: w.g.id, Kind: community.KindMessage, Body: body, Epoch: w.epoch,
				Time: time.Now(), Prev: w.last[a], Deps: deps,
			})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	copy(w.last, out)
	w.written += k
	return out, nil
}

// grow writes messages until there are n, in batches of 512 that the owner receives; it returns
// the owner's receiving rate (the Receive calls alone).
func (w *scaleWriter) grow(ctx context.Context, n int, p *progress) (float64, error) {
	var busy time.Duration
	from := w.written
	for w.written < n {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		var batch [][]byte
		for len(batch) < 512 && w.written < n {
			evs, err := w.round(min(len(w.authors), n-w.written))
			if err != nil {
				return 0, err
			}
			for _, e := range evs {
				batch = append(batch, e.Encode())
			}
		}
		t := time.Now()
		got, err := w.owner.svc.Receive(w.g.id, batch)
		busy += time.Since(t)
		if err != nil {
			return 0, err
		}
		if len(got.Rejected) > 0 || got.Held > 0 || got.Stored != len(batch) {
			return 0, fmt.Errorf("the owner stored %d of %d messages, held %d, refused %d: %v", got.Stored, len(batch), got.Held, len(got.Rejected), got.Rejected)
		}
		p.countf("%d/%d messages written", w.written, n)
	}
	return float64(w.written-from) / busy.Seconds(), nil
}

// bulkImport writes a community's events, as a sync delivers them, 500 a transaction, into a
// new store in dir (removed after): the store's own import rate, the events read beforehand not
// counted.
func (b *bench) bulkImport(src *storage.Store, cid storage.CommunityID, dir string) (float64, error) {
	st, err := storage.Open(dir, storage.Options{Logger: b.log})
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	var busy time.Duration
	n := 0
	batch := make([]storage.Event, 0, 500)
	flush := func() error {
		t := time.Now()
		_, err := st.Append(batch...)
		busy += time.Since(t)
		n += len(batch)
		batch = batch[:0]
		return err
	}
	err = src.Since(cid, 0, 0, func(_ uint64, e storage.Event) error {
		batch = append(batch, e)
		if len(batch) == cap(batch) {
			return flush()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err = errors.Join(err, st.Close()); err != nil {
		return 0, err
	}
	return float64(n) / busy.Seconds(), nil
}

// scaleMessages grows one community's store to each size in turn (the owner receiving real
// messages from eight members). At each size a member that joined before any message was
// written and has been away since catches up on all of them from the owner over the network;
// the store's own bulk import of the same events is measured beside it. Then, on the caught-up
// member's folder: the RSS of a peer holding it alone in a child process (right after the
// catch-up, and once the store has settled), then its disk size, the store's open time, the time
// from nothing to the first page shown (identity, store, service, the log folded, the latest page
// read and decrypted) and the latest page warm.
func (b *bench) scaleMessages(ctx context.Context) (*suite, error) {
	sizes := b.size.messages
	at := judged(sizes, targetMessages)
	list, more := sizeList(sizes, fullSizes.messages)
	s := &suite{Name: "scale/messages", Title: list + " messages in one community's store" + more,
		RatioOf: "catch-up rate ÷ the store's bulk-import rate (the largest size)",
		Target:  targetAt(targetMessages, sizes[at], "messages", "open to the first page < 1 s; RSS < 200 MiB")}
	g := newGrowth("messages", sizes)
	s.Growth = g
	dir := filepath.Join(b.tmp, "scale-messages")

	b.progress.stepf("scale messages: an owner, %d late members and eight authors", len(sizes))
	owner, err := openInstall(ctx, "Owner", filepath.Join(dir, "owner"), true, b.log)
	if err != nil {
		return nil, err
	}
	ins := []*install{owner}
	defer func() { closeAll(ins) }()
	grp, err := newGroup(ctx, owner, "Scale messages")
	if err != nil {
		return nil, err
	}
	lates := make([]*install, len(sizes))
	for i := range sizes {
		late, err := openInstall(ctx, "Late"+strconv.Itoa(i+1), filepath.Join(dir, "late-"+strconv.Itoa(i+1)), true, b.log)
		if err != nil {
			return nil, err
		}
		ins = append(ins, late)
		if err := grp.join(ctx, late, owner); err != nil {
			return nil, err
		}
		lates[i] = late
	}
	w, err := newScaleWriter(ctx, owner, grp)
	if err != nil {
		return nil, err
	}
	cid, ch := storage.CommunityID(grp.id), storage.ChannelID(grp.general)

	for i, n := range sizes {
		b.progress.stepf("scale messages: writing up to %d", n)
		receive, err := w.grow(ctx, n, b.progress)
		if err != nil {
			return nil, err
		}
		b.progress.stepf("scale messages %d: bulk import", n)
		bulk, err := b.bulkImport(owner.st, cid, filepath.Join(dir, "bulk-"+strconv.Itoa(n)))
		if err != nil {
			return nil, err
		}

		b.progress.stepf("scale messages %d: catch-up", n)
		late := lates[i]
		before, err := late.st.ChannelCount(cid, ch)
		if err != nil {
			return nil, err
		}
		sctx, stop := context.WithCancel(ctx)
		go func(events <-chan app.Event) {
			for e := range events {
				if p, ok := e.(app.SyncProgress); ok && !p.Finished {
					b.progress.countf("%d/%d", p.Done, p.Total)
				}
			}
		}(late.svc.Subscribe(sctx))
		t := time.Now()
		err = late.svc.SyncFrom(ctx, late.node, owner.node.ID(), grp.id)
		took := time.Since(t)
		stop()
		if err != nil {
			return nil, err
		}
		after, err := late.st.ChannelCount(cid, ch)
		if err != nil {
			return nil, err
		}
		if after-before != n {
			return nil, fmt.Errorf("the late member caught up %d messages, want %d", after-before, n)
		}
		catchup := float64(n) / took.Seconds()
		if err := late.Close(); err != nil {
			return nil, err
		}

		b.progress.stepf("scale messages %d: RSS of a peer holding them", n)
		rssFirst, rss, starts, err := b.childSettled(ctx, "peer", late.dir)
		if err != nil {
			return nil, err
		}
		b.progress.stepf("scale messages %d: open, read, disk", n)
		disk, err := dirSize(late.dir)
		if err != nil {
			return nil, err
		}
		var opens []time.Duration
		for range 3 {
			t := time.Now()
			st, err := storage.Open(late.dir, storage.Options{Logger: b.log})
			if err != nil {
				return nil, err
			}
			opens = append(opens, time.Since(t))
			if err := st.Close(); err != nil {
				return nil, err
			}
		}
		firsts, appPage, storePage, err := b.pages(ctx, late.dir, grp)
		if err != nil {
			return nil, err
		}
		if err := os.RemoveAll(late.dir); err != nil {
			return nil, err
		}

		g.set("first_page_ms", i, medianOf(firsts))
		g.set("open_ms", i, medianOf(opens))
		g.set("latest_page_p50_ms", i, medianOf(appPage))
		g.set("latest_page_store_p50_ms", i, medianOf(storePage))
		g.set("catchup_per_s", i, catchup)
		g.set("bulk_import_per_s", i, bulk)
		g.set("catchup_of_bulk", i, catchup/bulk)
		g.set("receive_per_s", i, receive)
		g.set("disk_mib", i, float64(disk)/(1<<20))
		g.set("disk_bytes_per_message", i, float64(disk)/float64(n))
		g.set("rss_mib", i, rss)
		g.set("rss_first_start_mib", i, rssFirst)
		g.set("rss_starts", i, float64(starts))
	}

	s.Figures.add("messages", float64(sizes[at]))
	for _, name := range []string{"first_page_ms", "open_ms", "latest_page_p50_ms", "catchup_per_s", "disk_mib", "rss_mib", "rss_first_start_mib"} {
		s.Figures.add(name, g.at(name, at))
	}
	s.Baseline.add("bulk_import_per_s", g.at("bulk_import_per_s", at))
	s.Ratio = num(g.at("catchup_of_bulk", at))
	first, rss := g.at("first_page_ms", at), g.at("rss_mib", at)
	s.Met = first < 1000 && rss < 200
	if !s.Met {
		s.Why = fmt.Sprintf("at %s messages the first page takes %.0f ms from nothing (the store opens in %.0f ms) and a peer holding them %.0f MiB",
			thousands(sizes[at]), first, g.at("open_ms", at), rss)
	}
	return s, nil
}

// maxStarts bounds the starts of childSettled.
const maxStarts = 6

// childSettled starts a child on dir until one start finds the store settled, at most maxStarts
// times, and returns the RSS of the first start, of the last, and how many starts it took. After
// a large sync Badger compacts what was written for a while, and each start resumes that work
// (its reads and buffers count): the first start shows what a person sees right after catching
// up, the last what an idle peer holds once the store has settled. A start finds it settled when
// the child was nearly idle while it waited (under 5% of a core: no compaction ran), or, where
// its CPU time cannot be read, when its RSS is within a tenth of the start before.
func (b *bench) childSettled(ctx context.Context, kind, dir string) (first, last float64, starts int, err error) {
	for starts < maxStarts {
		res, err := b.childRun(ctx, kind, dir)
		if err != nil {
			return 0, 0, 0, err
		}
		starts++
		if starts == 1 {
			first = res.RSSMiB
		}
		settled := res.IdleCPU >= 0 && res.IdleCPU < 0.05*b.size.idle.Seconds()
		if res.IdleCPU < 0 {
			settled = starts > 1 && math.Abs(res.RSSMiB-last) <= last/10
		}
		last = res.RSSMiB
		if settled {
			break
		}
		b.progress.countf("start %d: %.0f MiB, %.1f s of CPU while idle", starts, res.RSSMiB, res.IdleCPU)
	}
	return first, last, starts, nil
}

// pages opens the install in dir three times, each time timing the whole way to the first page
// shown (identity, store, service, the log folded, the latest page read and decrypted); on the
// last opening it then reads the latest page b.size.pageReads times through the app and the
// store alone.
func (b *bench) pages(ctx context.Context, dir string, grp *group) (firsts, appPage, storePage []time.Duration, err error) {
	cid, ch := storage.CommunityID(grp.id), storage.ChannelID(grp.general)
	for k := range 3 {
		t := time.Now()
		in, err := openInstall(ctx, "Reader", dir, false, b.log)
		if err != nil {
			return nil, nil, nil, err
		}
		msgs, err := in.svc.Messages(grp.id, grp.general, community.Position{}, 50)
		if err != nil || len(msgs) != 50 {
			in.Close()
			return nil, nil, nil, fmt.Errorf("the first page: %d messages, %v", len(msgs), err)
		}
		firsts = append(firsts, time.Since(t))
		if k < 2 {
			if err := in.Close(); err != nil {
				return nil, nil, nil, err
			}
			continue
		}
		for range b.size.pageReads {
			t := time.Now()
			page, err := in.st.Page(cid, ch, storage.Cursor{}, 50)
			if err != nil || len(page) != 50 {
				in.Close()
				return nil, nil, nil, fmt.Errorf("latest page: %d events, %v", len(page), err)
			}
			storePage = append(storePage, time.Since(t))
			t = time.Now()
			msgs, err := in.svc.Messages(grp.id, grp.general, community.Position{}, 50)
			if err != nil || len(msgs) != 50 {
				in.Close()
				return nil, nil, nil, fmt.Errorf("latest page through the app: %d messages, %v", len(msgs), err)
			}
			appPage = append(appPage, time.Since(t))
		}
		if err := in.Close(); err != nil {
			return nil, nil, nil, err
		}
	}
	return firsts, appPage, storePage, nil
}

// scaleMesh runs live meshes of more and more hosts, as the gossip suite runs its mesh: Kith
// installs on 127.0.0.1 in this process, each joined through a random earlier one plus two
// random links, the last to join publishing and every other timed from Post to stored; then raw
// gossipsub on the same edges. Messages are paced at b.size.meshPace, a steady busy chat, so
// that what grows is the mesh, not the load per message.
func (b *bench) scaleMesh(ctx context.Context) (*suite, error) {
	sizes := b.size.meshes
	at := judged(sizes, targetHosts)
	list, more := sizeList(sizes, fullSizes.meshes)
	s := &suite{Name: "scale/mesh", Title: fmt.Sprintf("live meshes of %s hosts in one process, a message every %v%s", list, b.size.meshPace, more),
		RatioOf: "Kith p99 ÷ raw gossipsub p99 (" + thousands(sizes[at]) + " hosts)",
		Target:  targetAt(targetHosts, sizes[at], "hosts", "every message to every host; p99 < 200 ms")}
	g := newGrowth("hosts", sizes)
	s.Growth = g
	for i, n := range sizes {
		topo := meshTopology(n)
		topo.name = "scale-" + topo.name
		kith, raw, floor, err := b.latency(ctx, topo, b.size.latency, b.size.meshPace)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", topo.name, err)
		}
		g.set("p50_ms", i, ms(kith.p50))
		g.set("p99_ms", i, ms(kith.p99))
		g.set("delivered_pct", i, 100*kith.delivered)
		g.set("post_p50_ms", i, ms(kith.publish))
		g.set("raw_p50_ms", i, ms(raw.p50))
		g.set("raw_p99_ms", i, ms(raw.p99))
		g.set("floor_p99_ms", i, ms(floor.p99))
	}
	s.Figures.add("hosts", float64(sizes[at]))
	for _, name := range []string{"p50_ms", "p99_ms", "delivered_pct", "post_p50_ms"} {
		s.Figures.add(name, g.at(name, at))
	}
	s.Baseline.add("raw_p50_ms", g.at("raw_p50_ms", at))
	s.Baseline.add("raw_p99_ms", g.at("raw_p99_ms", at))
	s.Baseline.add("floor_p99_ms", g.at("floor_p99_ms", at))
	s.Ratio = num(g.at("p99_ms", at) / g.at("raw_p99_ms", at))
	p99, delivered := g.at("p99_ms", at), g.at("delivered_pct", at)
	s.Met = delivered == 100 && p99 < 200
	if !s.Met {
		s.Why = fmt.Sprintf("at %d hosts %.1f%% delivered, p99 %.0f ms (raw gossipsub %.1f ms)", sizes[at], delivered, p99, g.at("raw_p99_ms", at))
	}
	return s, nil
}
