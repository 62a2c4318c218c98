package app_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/invite"
)

// export is everything a service stored for a community, in the order it stored them: what a
// sync would send.
func export(t *testing.T, s *app.Service, st interface {
	Since(community.Hash, uint64, int, func(*community.Event) error) (uint64, error)
}, id community.Hash) [][]byte {
	t.Helper()
	var out [][]byte
	if _, err := st.Since(id, 0, 0, func(e *community.Event) error {
		out = append(out, e.Encode())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestInviteAdmitReceiveAndTalk(t *testing.T) {
	ctx := context.Background()
	owner, ownerStore := newLocal(t)
	member, memberStore := newLocal(t)
	c, err := owner.CreateCommunity(ctx, app.CreateParams{Name: "Makers", DisplayName: "Ana", MaxMembers: 10})
	if err != nil {
		t.Fatal(err)
	}
	chans, _ := owner.Channels(c.ID)
	general := chans[0].ID
	if _, err := owner.Post(ctx, c.ID, general, "welcome, everyone", community.Hash{}); err != nil {
		t.Fatal(err)
	}
	inv, err := owner.Invite(c.ID, app.InviteParams{Uses: 1, Expires: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// The invite travels as text.
	parsed, err := invite.Parse("Join us! " + inv.String())
	if err != nil {
		t.Fatal(err)
	}
	ownerKey := ed25519.PublicKey(parsed.Issuer)
	req, err := member.JoinRequest(parsed, ownerKey, "Bo", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Admit(ctx, c.ID, req); err != nil {
		t.Fatal(err)
	}
	// A second use of a one-use invite is refused, in words.
	other, _ := newLocal(t)
	req2, _ := other.JoinRequest(parsed, ownerKey, "Cy", nil)
	if _, err := owner.Admit(ctx, c.ID, req2); !errors.Is(err, invite.ErrUsedUp) || !strings.Contains(err.Error(), "used up") {
		t.Fatalf("second use: %v", err)
	}
	// The member syncs the whole log: in reverse order, so everything waits at first.
	log := export(t, owner, ownerStore, c.ID)
	for i, j := 0, len(log)-1; i < j; i, j = i+1, j-1 {
		log[i], log[j] = log[j], log[i]
	}
	got, err := member.Receive(c.ID, log)
	if err != nil || len(got.Rejected) != 0 || got.Stored != len(log) || got.Waiting != 0 {
		t.Fatalf("member received %+v, %v", got, err)
	}
	msgs, err := member.Messages(c.ID, general, community.Position{}, 50)
	if err != nil || len(msgs) != 1 || msgs[0].Text != "welcome, everyone" || msgs[0].Name != "Ana" {
		t.Fatalf("member reads %+v, %v", msgs, err)
	}
	if _, err := member.Post(ctx, c.ID, general, "thanks!", community.Hash{}); err != nil {
		t.Fatal(err)
	}
	// The owner receives the member's post (and, again, what it already has).
	back, err := owner.Receive(c.ID, export(t, member, memberStore, c.ID))
	if err != nil || len(back.Rejected) != 0 || back.Stored != 1 {
		t.Fatalf("owner received %+v, %v", back, err)
	}
	msgs, _ = owner.Messages(c.ID, general, community.Position{}, 50)
	if len(msgs) != 2 || msgs[0].Text != "thanks!" || msgs[0].Name != "Bo" || msgs[0].Mine {
		t.Fatalf("owner reads %+v", msgs)
	}
	members, _ := owner.Members(c.ID)
	if len(members) != 2 {
		t.Fatalf("members = %+v", members)
	}
	// A member may not invite; a moderator invite is the owner's to give.
	if _, err := member.Invite(c.ID, app.InviteParams{}); err == nil {
		t.Fatal("a member issued an invite")
	}
}

func TestReceiveRefusesForgeriesAndOutsiders(t *testing.T) {
	ctx := context.Background()
	owner, ownerStore := newLocal(t)
	outsider, _ := newLocal(t)
	c, _ := owner.CreateCommunity(ctx, app.CreateParams{Name: "Makers"})
	chans, _ := owner.Channels(c.ID)
	// The outsider copies the log and writes into it as if it were a member.
	log := export(t, owner, ownerStore, c.ID)
	if got, err := outsider.Receive(c.ID, log); err != nil || got.Stored != len(log) {
		t.Fatalf("outsider copy: %+v %v", got, err)
	}
	if _, err := outsider.Post(ctx, c.ID, chans[0].ID, "let me in", community.Hash{}); err == nil {
		t.Fatal("a non-member posted")
	}
	// A forged envelope (one byte changed) and garbage are refused; nothing is stored.
	msg, _ := owner.Post(ctx, c.ID, chans[0].ID, "hello", community.Hash{})
	var enc []byte
	ownerStore.Since(c.ID, 0, 0, func(e *community.Event) error {
		if e.ID == msg.ID {
			enc = e.Encode()
		}
		return nil
	})
	forged := append([]byte(nil), enc...)
	forged[len(forged)-5] ^= 1
	got, err := outsider.Receive(c.ID, [][]byte{forged, []byte("garbage")})
	if err != nil || got.Stored != 0 || len(got.Rejected) != 2 {
		t.Fatalf("forgeries: %+v, %v", got, err)
	}
	// An early event waits and names what it waits for.
	var early [][]byte
	ownerStore.Since(c.ID, 0, 0, func(e *community.Event) error {
		early = append(early, e.Encode())
		return nil
	})
	fresh, _ := newLocal(t)
	got, err = fresh.Receive(c.ID, early[len(early)-1:])
	if err == nil {
		t.Fatalf("a peer without the genesis took an event: %+v", got)
	}
}

// Content that arrives before the key to read it (a sync in several batches) is placed in its
// channel when the key comes.
func TestContentWaitsForItsKey(t *testing.T) {
	ctx := context.Background()
	owner, ownerStore := newLocal(t)
	member, _ := newLocal(t)
	c, _ := owner.CreateCommunity(ctx, app.CreateParams{Name: "Makers"})
	chans, _ := owner.Channels(c.ID)
	for _, text := range []string{"one", "two", "three"} {
		if _, err := owner.Post(ctx, c.ID, chans[0].ID, text, community.Hash{}); err != nil {
			t.Fatal(err)
		}
	}
	inv, _ := owner.Invite(c.ID, app.InviteParams{Uses: 1})
	req, _ := member.JoinRequest(inv, inv.Issuer, "Bo", nil)
	if _, err := owner.Admit(ctx, c.ID, req); err != nil {
		t.Fatal(err)
	}
	log := export(t, owner, ownerStore, c.ID) // genesis, three posts, the join
	first, err := member.Receive(c.ID, log[:4])
	if err != nil || first.Stored != 4 {
		t.Fatalf("first batch: %+v, %v", first, err)
	}
	if msgs, _ := member.Messages(c.ID, chans[0].ID, community.Position{}, 10); len(msgs) != 0 {
		t.Fatalf("read %d messages without the key", len(msgs))
	}
	if _, err := member.Receive(c.ID, log[4:]); err != nil {
		t.Fatal(err)
	}
	msgs, err := member.Messages(c.ID, chans[0].ID, community.Position{}, 10)
	if err != nil || len(msgs) != 3 || msgs[0].Text != "three" {
		t.Fatalf("after the key came: %+v, %v", msgs, err)
	}
}
