package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
)

// TestForget: a member cannot forget a community it belongs to (leave first); once it left, it
// forgets it — nothing of it stays listed or readable here — and the community goes on at the
// others.
func TestForget(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b := apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, a, "Ana", map[*apptest.Peer]string{b: "Bo"})
	if err := b.Svc.Forget(ctx, id); app.KindOf(err) != app.KindNotAllowed {
		t.Fatalf("a member forgets: %v", err)
	}
	events := b.Svc.Subscribe(ctx)
	if err := b.Svc.Leave(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := b.Svc.Forget(ctx, id); err != nil {
		t.Fatal(err)
	}
	if cs, err := b.Svc.Communities(); err != nil || len(cs) != 0 {
		t.Fatalf("b's communities after forgetting: %+v, %v", cs, err)
	}
	if _, err := b.Svc.Channels(id); err == nil {
		t.Fatal("the forgotten community's channels still read")
	}
	forgotten := false
	for !forgotten {
		select {
		case ev := <-events:
			_, forgotten = ev.(app.CommunityForgotten)
		case <-ctx.Done():
			t.Fatal("no CommunityForgotten event")
		}
	}
	if cs, _ := a.Svc.Communities(); len(cs) != 1 {
		t.Fatal("the owner lost the community")
	}
}
