package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"time"

	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/localstore"
)

// signedPrefix is the length of the domain string events are signed under (community's
// signDomain, "kith-event-v1\x00"): the verify baseline signs a message as long as an event's.
const signedPrefix = 14

// cryptoSuite measures, on one core, one Ed25519 verify against the full validation of one
// received message (decode and signature, the Lamport and chain rules against what it cites,
// membership in the folded log, decryption), interleaved so that both see the same noise.
func (b *bench) cryptoSuite(ctx context.Context) (*suite, error) {
	s := &suite{Name: "crypto", Title: "Ed25519 verify on one core against the full validation of one event",
		RatioOf: "validate ÷ verify", Target: "≤ 1.2"}
	b.progress.stepf("crypto: two installs and a message")
	owner, err := openInstall(ctx, "Ana", filepath.Join(b.tmp, "crypto-owner"), true, b.log)
	if err != nil {
		return nil, err
	}
	defer owner.Close()
	member, err := openInstall(ctx, "Bo", filepath.Join(b.tmp, "crypto-member"), true, b.log)
	if err != nil {
		return nil, err
	}
	defer member.Close()
	g, err := newGroup(ctx, owner, "Crypto")
	if err != nil {
		return nil, err
	}
	if err := g.join(ctx, member, owner); err != nil {
		return nil, err
	}
	col := &collector{}
	member.svc.SetPublisher(col.publish)
	if _, err := member.svc.Post(ctx, g.id, g.general, benchText("Bo", 1), community.Hash{}); err != nil {
		return nil, err
	}
	envs := col.take()
	if len(envs) != 1 {
		return nil, fmt.Errorf("the member published %d events, want 1", len(envs))
	}
	wire := envs[0]

	// The receiver's side, as the owner's service holds it: the folded log, its keys, its store.
	var auth []*community.Event
	ls := localstore.Store{S: owner.st}
	if err := ls.AuthorityEvents(g.id, func(e *community.Event) error {
		auth = append(auth, e)
		return nil
	}); err != nil {
		return nil, err
	}
	state, err := community.Fold(auth)
	if err != nil {
		return nil, err
	}
	keys := community.NewKeyring(owner.id)
	for _, e := range auth {
		if _, err := keys.Learn(e); err != nil {
			return nil, err
		}
	}
	// What the message cites is looked up as the app looks it up: in memory, where the service
	// keeps the events it stored last and its authority events (app's room.recent) — and, for the
	// second figure, in the store, as after a restart.
	fromStore := func(id community.Hash) (community.Known, bool) {
		k, ok, err := ls.Lookup(g.id, id)
		return k, ok && err == nil
	}
	recent := map[community.Hash]community.Known{}
	if err := ls.AuthorityEvents(g.id, func(e *community.Event) error {
		recent[e.ID] = community.Known{Author: e.Author, Seq: e.Seq, Lamport: e.Lamport}
		return nil
	}); err != nil {
		return nil, err
	}
	fromMemory := func(id community.Hash) (community.Known, bool) {
		k, ok := recent[id]
		return k, ok
	}
	validateWith := func(lookup func(community.Hash) (community.Known, bool)) func() error {
		return func() error {
			e, err := community.Decode(wire)
			if err != nil {
				return err
			}
			// Receive first asks whether the event is known: for a new one, not in memory, so the
			// store is asked, and answers no.
			if _, known := fromStore(e.ID); known {
				return errors.New("the fixture message is already stored")
			}
			if err := community.CheckCausal(&e.Header, lookup); err != nil {
				return err
			}
			if err := state.CheckContent(e); err != nil {
				return err
			}
			_, err = keys.Open(e)
			return err
		}
	}
	validate, validateStore := validateWith(fromMemory), validateWith(fromStore)
	// What a relaying peer does before it forwards (gossip's validator, app/gossip/gossip.go):
	// decode, skip what is stored, verify, judge the author against the folded log, vouch. The
	// rest (the causal checks, the store, decryption) runs after, in the community's runner.
	relay := func() error {
		e, err := community.DecodeStored(wire)
		if err != nil {
			return err
		}
		if owner.svc.Has(g.id, e.ID) {
			return errors.New("the fixture message is already stored")
		}
		if err := e.Verify(); err != nil {
			return err
		}
		if err := owner.svc.Judge(g.id, e); err != nil {
			return err
		}
		if !owner.svc.Vouched(g.id, e.Author) {
			return errors.New("the fixture message's author is not vouched for")
		}
		return nil
	}
	if err := errors.Join(validate(), validateStore(), relay()); err != nil {
		return nil, fmt.Errorf("the fixture message does not validate: %w", err)
	}
	e, _ := community.Decode(wire)
	raw, _ := e.RawHeader()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, signedPrefix+len(raw))
	copy(msg[signedPrefix:], raw)
	sig := ed25519.Sign(priv, msg)

	b.progress.stepf("crypto: %d rounds of %d", b.size.cryptoRounds, b.size.cryptoIters)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var verifies, validates, ratios, fromStores, relays []float64
	for r := range b.size.cryptoRounds {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var tv, tf, ts, tr time.Duration
		for range b.size.cryptoIters {
			t0 := time.Now()
			ok := ed25519.Verify(pub, msg, sig)
			t1 := time.Now()
			err := validate()
			t2 := time.Now()
			err2 := validateStore()
			t3 := time.Now()
			err3 := relay()
			t4 := time.Now()
			if !ok || err != nil || err2 != nil || err3 != nil {
				return nil, errors.Join(errors.New("a check failed while measuring"), err, err2, err3)
			}
			tv += t1.Sub(t0)
			tf += t2.Sub(t1)
			ts += t3.Sub(t2)
			tr += t4.Sub(t3)
		}
		n := float64(b.size.cryptoIters)
		v, f := float64(tv.Nanoseconds())/n, float64(tf.Nanoseconds())/n
		verifies, validates, ratios = append(verifies, v), append(validates, f), append(ratios, f/v)
		fromStores = append(fromStores, float64(ts.Nanoseconds())/n)
		relays = append(relays, float64(tr.Nanoseconds())/n)
		b.progress.countf("round %d/%d", r+1, b.size.cryptoRounds)
	}
	b.verifyNs = median(verifies)
	b.envelopeBytes = len(wire)
	s.Figures.add("validate_ns", median(validates))
	s.Figures.add("validate_store_lookups_ns", median(fromStores))
	s.Figures.add("relay_ns", median(relays))
	s.Figures.add("relay_of_verify", median(relays)/b.verifyNs)
	s.Figures.add("envelope_bytes", float64(len(wire)))
	s.Figures.add("verify_ceiling_per_s", 1e9/b.verifyNs)
	s.Baseline.add("verify_ns", b.verifyNs)
	s.Ratio = num(median(ratios))
	s.Met = median(ratios) <= 1.2
	if !s.Met {
		s.Why = "validation costs more than a fifth over its signature check (profile: go test -bench ValidateVsVerify -cpuprofile ./app/community)"
	}
	return s, nil
}
