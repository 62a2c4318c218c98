package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
	"github.com/kith-app/kith/app/community"
)

// TestProfilesAndTheCommunity: members change their name and about text, and every member shows
// the same names after syncs — two members who take one name on both sides of a partition are
// told apart the same way everywhere (the later naming gets the start of its key) —; a name
// another member goes by is refused; the owner edits the community's name, about text and cap,
// and the info panel says who owns and moderates it.
func TestProfilesAndTheCommunity(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b, c := apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, a, "Ana", map[*apptest.Peer]string{b: "Bo", c: "Cy"})
	sync := func(to, from *apptest.Peer) { t.Helper(); syncFrom(t, ctx, to, from, id) }
	sync(b, a)
	names := func(p *apptest.Peer) map[string]string {
		ms, err := p.Svc.Members(id)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, m := range ms {
			out[string(m.Key)] = m.Name + "|" + m.About
		}
		return out
	}

	if err := b.Svc.SetProfile(ctx, id, " Bob  Lind ", "I glaze\nand fire"); err != nil {
		t.Fatal(err)
	}
	msg, err := b.Svc.Post(ctx, id, mustGeneral(t, b, id), "hello", community.Hash{})
	if err != nil || msg.Name != "Bob Lind" {
		t.Fatalf("b's message after its profile: %+v, %v", msg, err)
	}
	sync(a, b)
	if got := names(a)[string(b.Key)]; got != "Bob Lind|I glaze\nand fire" {
		t.Fatalf("a shows b as %q", got)
	}
	if m, ok, _ := a.Svc.Message(id, msg.ID); !ok || m.Name != "Bob Lind" {
		t.Fatalf("a shows b's message by %q", m.Name)
	}
	if name, about, err := b.Svc.MyProfile(id); err != nil || name != "Bob Lind" || about != "I glaze\nand fire" {
		t.Fatalf("b's own profile: %q %q %v", name, about, err)
	}

	// A name another member goes by is refused where it is known.
	sync(c, a)
	if err := c.Svc.SetProfile(ctx, id, "BOB LIND", ""); !errors.Is(err, community.ErrNameTaken) {
		t.Fatalf("c takes b's name: %v", err)
	}
	if err := c.Svc.SetProfile(ctx, id, "ana", ""); !errors.Is(err, community.ErrNameTaken) {
		t.Fatalf("c takes the owner's name: %v", err)
	}
	// Across a partition, b and c both become "Dee": every member tells them apart the same way.
	if err := b.Svc.SetProfile(ctx, id, "Dee", ""); err != nil {
		t.Fatal(err)
	}
	if err := c.Svc.SetProfile(ctx, id, "DEE", ""); err != nil {
		t.Fatal(err)
	}
	sync(a, b)
	sync(a, c)
	sync(b, a)
	sync(c, a)
	na, nb, nc := names(a), names(b), names(c)
	for k, v := range na {
		if nb[k] != v || nc[k] != v {
			t.Fatalf("the members disagree on a name: %q, %q, %q", v, nb[k], nc[k])
		}
	}
	bn, cn := strings.TrimSuffix(na[string(b.Key)], "|"), strings.TrimSuffix(na[string(c.Key)], "|")
	if (bn == "Dee") == (cn == "DEE") || !(strings.HasPrefix(bn, "Dee [") || strings.HasPrefix(cn, "DEE [")) {
		t.Fatalf("b and c shown as %q and %q: one plain, the other marked", bn, cn)
	}

	// The owner edits the community; the others may not.
	if err := b.Svc.EditCommunity(ctx, id, "Mine", "", 0); app.KindOf(err) != app.KindNotAllowed {
		t.Fatalf("a member edits the community: %v", err)
	}
	if err := a.Svc.EditCommunity(ctx, id, "Makers", "we make", 2); err == nil || !strings.Contains(err.Error(), "3 members are in") {
		t.Fatalf("a cap below the members in: %v", err)
	}
	if err := a.Svc.EditCommunity(ctx, id, "Makers Guild", "we make, together", 10); err != nil {
		t.Fatal(err)
	}
	if err := a.Svc.SetRole(ctx, id, c.Key, community.RoleModerator); err != nil {
		t.Fatal(err)
	}
	sync(b, a)
	in, err := b.Svc.Info(id)
	if err != nil {
		t.Fatal(err)
	}
	if in.Name != "Makers Guild" || in.About != "we make, together" || in.MaxMembers != 10 || in.Members != 3 ||
		in.Owner != "Ana" || len(in.Moderators) != 1 || !strings.HasPrefix(in.Moderators[0], "DEE") || in.Role != community.RoleMember {
		t.Fatalf("b's info: %+v", in)
	}
}

func mustGeneral(t *testing.T, p *apptest.Peer, id community.Hash) community.Hash {
	t.Helper()
	chans, err := p.Svc.Channels(id)
	if err != nil {
		t.Fatal(err)
	}
	return chans[0].ID
}
