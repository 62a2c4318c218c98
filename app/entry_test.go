package app_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/invite"
)

// TestApprovalOverTheNetwork: a joiner answers an invite's questions; the member it reaches
// (not the owner) takes the request and the joiner waits. The owner, who was not online then,
// syncs, reads the answers (the member that relayed them cannot) and approves; the joiner gets
// in the next time it reaches any member. Another joiner is declined and told why. Approving
// twice, and approving a request whose invite was revoked meanwhile, say so and admit nobody.
func TestApprovalOverTheNetwork(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	owner, mod, mem, bo, cy, dee := apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, owner, "Ana", map[*apptest.Peer]string{mod: "Mo", mem: "Mel"})
	members, _ := owner.Svc.Members(id)
	for _, m := range members {
		if m.Name == "Mo" {
			if err := owner.Svc.SetRole(ctx, id, m.Key, community.RoleModerator); err != nil {
				t.Fatal(err)
			}
		}
	}
	syncFrom(t, ctx, mem, owner, id)
	syncFrom(t, ctx, mod, owner, id)
	chans, _ := owner.Svc.Channels(id)
	if _, err := owner.Svc.Post(ctx, id, chans[0].ID, "Kiln day is Saturday", community.Hash{}); err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, mem, owner, id)

	inv, err := owner.Svc.Invite(id, app.InviteParams{Uses: 2, Expires: time.Hour, Approval: true,
		Questions: []string{"How did you find us?", "What do you make?"}, Members: []invite.Member{mem.Member()}})
	if err != nil {
		t.Fatal(err)
	}
	if !inv.Approval || len(inv.Questions) != 2 {
		t.Fatalf("invite: approval %v, questions %q", inv.Approval, inv.Questions)
	}
	// Answers that do not match the questions are refused before any network work.
	for _, answers := range [][]string{{"only one"}, {"a", "b", "c"}, {"a", strings.Repeat("x", community.LimitAnswer.Max+1)}, {"", "b"}} {
		_, err := bo.Svc.JoinWith(ctx, bo.Node, inv, "Bo", answers...)
		if app.KindOf(err) != app.KindBadInput {
			t.Fatalf("answers %d: %v (kind %v), want bad input", len(answers), err, app.KindOf(err))
		}
		t.Log(app.Sentence(err))
	}

	// Bo's request reaches Mel, a member; nobody is admitted.
	_, err = bo.Svc.JoinWith(ctx, bo.Node, inv, "Bo", "Mel told me", "Pots")
	if !errors.Is(err, app.ErrAwaitingApproval) {
		t.Fatalf("Bo's join: %v, want ErrAwaitingApproval", err)
	}
	if member, _ := bo.Svc.IsMember(id, bo.Key); member {
		t.Fatal("Bo is a member before any approval")
	}
	// Asking again only says it waits: one request.
	if _, err = bo.Svc.JoinWith(ctx, bo.Node, inv, "Bo", "Mel told me", "Pots"); !errors.Is(err, app.ErrAwaitingApproval) {
		t.Fatalf("Bo again: %v", err)
	}
	if _, err := mem.Svc.Requests(id, false); app.KindOf(err) != app.KindNotAllowed {
		t.Fatalf("a member lists requests: %v", err)
	}
	_, err = cy.Svc.JoinWith(ctx, cy.Node, inv, "Cy", "Search", "Songs")
	if !errors.Is(err, app.ErrAwaitingApproval) {
		t.Fatalf("Cy's join: %v", err)
	}

	// The owner was not there: it syncs from Mel and reads both requests with their answers.
	syncFrom(t, ctx, owner, mem, id)
	reqs, err := owner.Svc.Requests(id, false)
	if err != nil || len(reqs) != 2 {
		t.Fatalf("owner's requests: %d, %v", len(reqs), err)
	}
	var boReq, cyReq app.EntryRequest
	for _, r := range reqs {
		switch r.Name {
		case "Bo":
			boReq = r
		case "Cy":
			cyReq = r
		}
	}
	if !slices.Equal(boReq.Answers, []string{"Mel told me", "Pots"}) || boReq.InvitedBy != "Ana" || boReq.ReachedVia != "Mel" || boReq.InviteID != inv.ID {
		t.Fatalf("Bo's request as the owner sees it: %+v", boReq)
	}
	// Mel relayed the answers and cannot read them (after promotion, it would read later ones).
	if _, err := owner.Svc.Approve(ctx, id, boReq.ID.String()[:4]); app.KindOf(err) != app.KindBadInput {
		t.Fatalf("a 4-digit request ID: %v", err)
	}
	if _, err := owner.Svc.Approve(ctx, id, boReq.ID.String()[:12]); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Svc.Approve(ctx, id, boReq.ID.String()); err == nil || !strings.Contains(err.Error(), "approved already") {
		t.Fatalf("approving twice: %v", err)
	}
	// The moderator declines Cy, with a reason, once it has the request.
	syncFrom(t, ctx, mod, mem, id)
	if _, err := mod.Svc.Decline(ctx, id, cyReq.ID.String(), "We are full this month"); err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, mem, mod, id)
	syncFrom(t, ctx, mem, owner, id)

	// Bo reaches Mel again and is in; Cy learns the reason.
	if _, err := bo.Svc.JoinWith(ctx, bo.Node, inv, "Bo", "Mel told me", "Pots"); err != nil {
		t.Fatalf("Bo after approval: %v", err)
	}
	if member, _ := bo.Svc.IsMember(id, bo.Key); !member {
		t.Fatal("Bo is not a member after the approval")
	}
	ms, _ := bo.Svc.Members(id)
	for _, m := range ms {
		if m.You && (m.InvitedByName != "Ana" || m.Invite != inv.ID) {
			t.Fatalf("Bo's provenance: %+v", m)
		}
	}
	// The approval carried the key: Bo reads what was written before he was let in.
	msgs, err := bo.Svc.Messages(id, chans[0].ID, community.Position{}, 10)
	if err != nil || len(msgs) != 1 || msgs[0].Text != "Kiln day is Saturday" {
		t.Fatalf("Bo reads %+v, %v", msgs, err)
	}
	_, err = cy.Svc.JoinWith(ctx, cy.Node, inv, "Cy", "Search", "Songs")
	var declined *app.DeclinedError
	if !errors.As(err, &declined) || declined.Reason != "We are full this month" || !app.Refused(err) {
		t.Fatalf("Cy after the decline: %v", err)
	}
	t.Log(app.Sentence(err))

	// Dee asks; the invite is revoked before anyone decides: approving says why and admits nobody.
	if _, err := dee.Svc.JoinWith(ctx, dee.Node, inv, "Dee", "x", "y"); !errors.Is(err, app.ErrAwaitingApproval) {
		t.Fatalf("Dee: %v", err)
	}
	syncFrom(t, ctx, owner, mem, id)
	if err := owner.Svc.RevokeInvite(ctx, id, inv.ID); err != nil {
		t.Fatal(err)
	}
	reqs, _ = owner.Svc.Requests(id, true)
	var deeReq app.EntryRequest
	for _, r := range reqs {
		if r.Name == "Dee" {
			deeReq = r
		}
	}
	if deeReq.Ended == "" {
		t.Fatalf("Dee's request after the revocation: %+v", deeReq)
	}
	if _, err := owner.Svc.Approve(ctx, id, deeReq.ID.String()); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("approving after the revocation: %v", err)
	}
	// It still shows, saying why it cannot be approved, until someone declines it.
	if waiting, _ := owner.Svc.Requests(id, false); len(waiting) != 1 || waiting[0].Ended == "" {
		t.Fatalf("waiting after the revocation: %+v", waiting)
	}
	if _, err := owner.Svc.Decline(ctx, id, deeReq.ID.String(), "the invite was withdrawn"); err != nil {
		t.Fatal(err)
	}
	if waiting, _ := owner.Svc.Requests(id, false); len(waiting) != 0 {
		t.Fatalf("%d requests still shown as waiting", len(waiting))
	}
}

// TestMembersWhoInvite: members issue invites only when the owner lets them, up to their number,
// with approval when the owner requires it; their invites are in the log, and the owner revokes
// every open one of a member at once.
func TestMembersWhoInvite(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	owner, mem, bo, cy := apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t), apptest.NewPeer(t)
	id := founded(t, ctx, owner, "Ana", map[*apptest.Peer]string{mem: "Mel"})
	if _, err := mem.Svc.Invite(id, app.InviteParams{}); app.KindOf(err) != app.KindNotAllowed {
		t.Fatalf("a member's invite by default: %v", err)
	}
	if _, err := mem.Svc.SetEntry(ctx, id, func(e *app.EntrySettings) { e.MemberInvites = 2 }); app.KindOf(err) != app.KindNotAllowed {
		t.Fatalf("a member changes the settings: %v", err)
	}
	set, err := owner.Svc.SetEntry(ctx, id, func(e *app.EntrySettings) {
		e.MemberInvites, e.Welcome.Text, e.Welcome.Rules, e.Welcome.Intro = 2, "Welcome to Makers!", "Be kind.", "general"
	})
	if err != nil || set.MemberInvites != 2 || set.Welcome.Intro != "general" {
		t.Fatalf("SetEntry: %+v, %v", set, err)
	}
	if _, err := owner.Svc.SetEntry(ctx, id, func(e *app.EntrySettings) { e.Welcome.Intro = "nowhere" }); app.KindOf(err) != app.KindBadInput {
		t.Fatalf("an intro channel that does not exist: %v", err)
	}
	syncFrom(t, ctx, mem, owner, id)
	inv, err := mem.Svc.Invite(id, app.InviteParams{Uses: 1, Members: []invite.Member{mem.Member()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Svc.Invite(id, app.InviteParams{Role: community.RoleModerator}); app.KindOf(err) != app.KindNotAllowed {
		t.Fatalf("a member invites a moderator: %v", err)
	}
	if _, err := bo.Svc.JoinWith(ctx, bo.Node, inv, "Bo"); err != nil {
		t.Fatal(err)
	}
	ms, _ := bo.Svc.Members(id)
	for _, m := range ms {
		if m.You && m.InvitedByName != "Mel" {
			t.Fatalf("Bo was invited by %q", m.InvitedByName)
		}
	}
	// A welcome for the newcomer.
	if w, err := bo.Svc.Entry(id); err != nil || w.Welcome.Text != "Welcome to Makers!" || w.Welcome.Rules != "Be kind." || w.Welcome.Intro != "general" {
		t.Fatalf("Bo's welcome: %+v, %v", w, err)
	}
	// Two open invites, then the owner revokes them all at once.
	a, _ := mem.Svc.Invite(id, app.InviteParams{Members: []invite.Member{mem.Member()}})
	if _, err := mem.Svc.Invite(id, app.InviteParams{}); app.KindOf(err) != app.KindNotAllowed {
		t.Fatalf("over the number: %v", err)
	}
	syncFrom(t, ctx, owner, mem, id)
	n, err := owner.Svc.RevokeBy(ctx, id, mem.Key)
	if err != nil || n != 1 {
		t.Fatalf("RevokeBy: %d, %v", n, err)
	}
	syncFrom(t, ctx, mem, owner, id)
	if _, err := cy.Svc.JoinWith(ctx, cy.Node, a, "Cy"); !app.Refused(err) || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("a revoked member's invite: %v", err)
	}
	// Approval required: the member's next invite needs it, whatever it asked.
	if _, err := owner.Svc.SetEntry(ctx, id, func(e *app.EntrySettings) { e.MemberApproval = true }); err != nil {
		t.Fatal(err)
	}
	syncFrom(t, ctx, mem, owner, id)
	forced, err := mem.Svc.Invite(id, app.InviteParams{Members: []invite.Member{mem.Member()}})
	if err != nil || !forced.Approval {
		t.Fatalf("a member's invite with approval required: %v, approval %v", err, forced != nil && forced.Approval)
	}
}
