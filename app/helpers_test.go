package app_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/invite"
)

// founded is a community made by owner ("Makers", the owner called ownerName) with the members
// named joined through the owner, each with an invite of its own.
func founded(t *testing.T, ctx context.Context, owner *apptest.Peer, ownerName string, members map[*apptest.Peer]string) community.Hash {
	t.Helper()
	created, err := owner.Svc.CreateCommunity(ctx, app.CreateParams{Name: "Makers", About: "we make", DisplayName: ownerName})
	if err != nil {
		t.Fatal(err)
	}
	for p, name := range members {
		joinThrough(t, ctx, owner, p, created.ID, name)
	}
	return created.ID
}

// joinThrough admits p, called name, to community id through admitter.
func joinThrough(t *testing.T, ctx context.Context, admitter, p *apptest.Peer, id community.Hash, name string) {
	t.Helper()
	inv, err := admitter.Svc.Invite(id, app.InviteParams{Uses: 1, Members: []invite.Member{admitter.Member()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Svc.JoinWith(ctx, p.Node, inv, name); err != nil {
		t.Fatal(err)
	}
}

// syncFrom connects to and syncs community id from another peer.
func syncFrom(t *testing.T, ctx context.Context, to, from *apptest.Peer, id community.Hash) {
	t.Helper()
	if err := to.Node.Connect(ctx, from.Node.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	if err := to.Svc.SyncFrom(ctx, to.Node, from.Node.ID(), id); err != nil {
		t.Fatal(err)
	}
}

// pngOf is a w×h PNG picture with a diagonal line (a picture a thumbnail can be made of).
func pngOf(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range min(w, h) {
		img.Set(x, x, color.RGBA{G: 180, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
