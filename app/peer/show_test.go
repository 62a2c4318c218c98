package peer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kith-app/kith/app/invite"
	"github.com/kith-app/kith/app/peer"
)

// TestShowOpensALink: a second start of the desktop app on a folder asks the running one, through
// the control socket, to show its window with the kith://join/ link it was started with; an
// invite longer than any is refused; a folder kithd runs on (no window) says so.
func TestShowOpensALink(t *testing.T) {
	n := newNet(t)
	shown := make(chan string, 1)
	dir := t.TempDir()
	n.start(dir, 0, func(o *peer.Options) {
		o.NoControl = false
		o.OnShow = func(link string) { shown <- link }
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	link := "kith://join/kith1abc"
	if _, err := peer.Call(ctx, dir, peer.Request{Cmd: "show", Invite: link}); err != nil {
		t.Fatal(err)
	}
	if got := <-shown; got != link {
		t.Fatalf("shown with %q", got)
	}
	if _, err := peer.Call(ctx, dir, peer.Request{Cmd: "show", Invite: strings.Repeat("a", invite.MaxTextLen+1)}); err == nil {
		t.Fatal("an invite over the longest was passed on")
	}
	headless := t.TempDir()
	n.start(headless, 0, func(o *peer.Options) { o.NoControl = false })
	if _, err := peer.Call(ctx, headless, peer.Request{Cmd: "show", Invite: link}); err == nil || !strings.Contains(err.Error(), "no window") {
		t.Fatalf("show on kithd's folder: %v", err)
	}
}
