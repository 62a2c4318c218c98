package peer_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/peer"
	"github.com/kith-app/kith/storage"
)

// TestResyncRebuildsADamagedStore: a member's store loses its MANIFEST (the store would come
// back empty). Opening says so (storage.ErrDamaged) instead of serving an empty store; Resync
// moves the damaged database aside, starts an empty store, and syncs every community of the
// lifeline from the members it names: the history is back, readable, with the same identity,
// and the member's next message continues its own chain (no fork: the owner accepts it).
func TestResyncRebuildsADamagedStore(t *testing.T) {
	n := newNet(t)
	owner := n.start("", 0)
	id := create(t, owner, "Makers")
	inv := inviteOf(t, owner, id, 0)
	bo := n.start("", 0)
	join(t, bo, inv, "Bo")
	connected(t, id, owner, bo)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, text := range []string{"one", "two", "three"} {
		if _, err := bo.Do(ctx, peer.Request{Cmd: "post", Text: "Bo: " + text}); err != nil {
			t.Fatal(err)
		}
		if _, err := owner.Do(ctx, peer.Request{Cmd: "post", Text: "Ana: " + text}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 30*time.Second, "each to have the other's messages", func() bool {
		return texts(bo, id, 20)["Ana: three"] && texts(owner, id, 20)["Bo: three"]
	})
	// A community of Bo's alone: nobody else holds it.
	solo := create(t, bo, "Solo")
	dir, key := bo.Dir, bo.ID.PublicKey()
	if err := bo.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, peer.LifelineFile)); err != nil {
		t.Fatalf("no lifeline after a run: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "db", "MANIFEST")); err != nil {
		t.Fatal(err)
	}
	opts := peer.Options{Logger: slog.New(slog.DiscardHandler), MinFreeBytes: -1,
		Listen: []string{"/ip4/127.0.0.1/tcp/0"}, NoMDNS: true, NoNAT: true, NoControl: true}
	if _, err := peer.Open(dir, opts); !errors.Is(err, storage.ErrDamaged) || !strings.Contains(err.Error(), "kithd resync") {
		t.Fatalf("opening a store without its MANIFEST: %v, want storage.ErrDamaged naming kithd resync", err)
	}

	var said []string
	res, err := peer.Resync(ctx, dir, opts, 30*time.Second, func(s string) { said = append(said, s) })
	if err != nil {
		t.Fatalf("Resync: %v (said %q)", err, said)
	}
	var makers, lost *peer.ResyncedCommunity
	for i := range res.Communities {
		switch res.Communities[i].ID {
		case id:
			makers = &res.Communities[i]
		case solo:
			lost = &res.Communities[i]
		}
	}
	if res.SetAside == "" || len(res.Communities) != 2 || makers == nil || makers.Err != nil || len(makers.From) != 1 || makers.Events < 8 {
		t.Fatalf("Resync = %+v", res)
	}
	if lost == nil || lost.Err == nil {
		t.Fatalf("Solo, which no other member holds, came back: %+v", lost)
	}
	// The lifeline still names Solo, so that a later resync can try again.
	if b, err := os.ReadFile(filepath.Join(dir, peer.LifelineFile)); err != nil || !strings.Contains(string(b), solo.String()) {
		t.Fatalf("after the resync the lifeline does not name Solo: %v\n%s", err, b)
	}
	if _, err := os.Stat(filepath.Join(res.SetAside, "db")); err != nil {
		t.Fatalf("the damaged database is not kept: %v", err)
	}
	back := n.start(dir, 0)
	if !back.ID.PublicKey().Equal(key) {
		t.Fatal("the identity changed")
	}
	got := texts(back, id, 20)
	for _, want := range []string{"Ana: one", "Ana: three", "Bo: one", "Bo: three"} {
		if !got[want] {
			t.Fatalf("after the resync Bo reads %v, want %q among them", got, want)
		}
	}
	if _, err := back.Do(ctx, peer.Request{Cmd: "post", Text: "Bo: back"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the owner to accept Bo's next message", func() bool { return texts(owner, id, 20)["Bo: back"] })
	if member, _ := owner.Svc.IsMember(id, key); !member {
		t.Fatal("Bo's next message forked its chain: the owner voided Bo")
	}
	if role, err := back.Svc.Role(id); err != nil || role != community.RoleMember {
		t.Fatalf("Bo's role after the resync: %v, %v", role, err)
	}
}
