package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/kith-app/kith/app"
)

// TestApprovalFromTheDesktop: the owner writes a welcome and makes an invite that asks a
// question; Bo pastes it, sees the question, answers and asks; his window says the request
// waits and what happens next. The owner gets a notification and a "Requests (1)" button; the
// review panel shows Bo's answer and approves him; Bo's window opens the community and greets
// him with the welcome and a button to introduce himself.
func TestApprovalFromTheDesktop(t *testing.T) {
	a := test.NewTempApp(t)
	ana, bo := open(t, a), open(t, a)
	ana.create(t, "Ana", "Clay Studio Friends")
	v := ana.shell.view
	id := v.cur
	if _, err := ana.p.Svc.SetEntry(ana.shell.ctx, id, func(e *app.EntrySettings) {
		e.Welcome = app.Welcome{Text: "Welcome to the studio!", Rules: "Be kind.", Intro: "general"}
	}); err != nil {
		t.Fatal(err)
	}
	// The invite dialog asks for approval with a question.
	v.openInvite()
	in := v.invite
	test.Tap(in.approve)
	if in.asks.Hidden {
		t.Fatal("the questions do not show once approval is ticked")
	}
	test.Type(in.asks, "What do you make?")
	test.Tap(in.make)
	eventually(t, "the invite made", func() bool { return in.current != "" }, ana.q)
	in.d.Hide()

	w := bo.shell.welcome
	eventually(t, "Bo's welcome screen", func() bool { return bo.win.Content() == w.content }, bo.q)
	test.Type(w.you, "Bo")
	test.Type(w.paste, in.current)
	if w.asked.Hidden || len(w.answers) != 1 || w.join.Text != "Ask to join" || !strings.Contains(w.check.Text, "approves each request") {
		t.Fatalf("the pasted invite: questions hidden %v, %d answers, button %q, check %q", w.asked.Hidden, len(w.answers), w.join.Text, w.check.Text)
	}
	test.Tap(w.join) // no answer yet: a sentence, no request
	if !strings.Contains(strings.ToLower(w.joinStatus.Text), "answer 1 is empty") {
		t.Fatalf("asking with no answer says %q", w.joinStatus.Text)
	}
	test.Type(w.answers[0], "Teapots, mostly")
	ana.shell.focused = false
	test.AssertNotificationSent(t, &fyne.Notification{Title: "New request to Clay Studio Friends", Content: "Bo asks to join: open Requests to answer."}, func() {
		test.Tap(w.join)
		eventually(t, "Bo's window says the request waits", func() bool {
			return strings.HasPrefix(w.stage.Text, "Your request to join") && w.cancel.Text == "Stop waiting"
		}, bo.q)
		eventually(t, "the owner's Requests (1)", func() bool {
			return !v.requestsBtn.Hidden && v.requestsBtn.Text == "Requests (1)"
		}, ana.q, bo.q)
	})
	if !strings.Contains(w.stage.Text, "once they approve it, Kith lets you in by itself") {
		t.Fatalf("Bo's window says %q", w.stage.Text)
	}
	// The review panel: Bo's answer, and Approve.
	test.Tap(v.requestsBtn)
	rd := v.requests
	eventually(t, "the review panel", func() bool { return len(rd.list.Objects) == 1 && labelWith(rd.list, "Teapots, mostly") != nil }, ana.q)
	approve := find(rd.list, "Approve")
	if approve == nil {
		t.Fatal("no Approve button")
	}
	test.Tap(approve)
	eventually(t, "the request approved", func() bool {
		return strings.Contains(rd.note.Text, "is let in") && v.requestsBtn.Hidden
	}, ana.q)

	// Bo is let in by his own peer, and greeted.
	eventually(t, "Bo in the community", func() bool {
		return bo.win.Content() == bo.shell.view.content && strings.Contains(bo.shell.view.title.Text, "# general")
	}, bo.q, ana.q)
	eventually(t, "the welcome for Bo", func() bool {
		for _, o := range bo.win.Canvas().Overlays().List() {
			if labelWith(o, "Welcome to the studio!") != nil && find(o, "Introduce yourself in #general") != nil {
				return true
			}
		}
		return false
	}, bo.q)
}

// TestMembersWhoInviteFromTheDesktop: once the owner lets members invite, a member's window
// offers Invite (with approval ticked and fixed when the owner requires it); the owner sees the
// member's open invites among its actions and revokes them at once.
func TestMembersWhoInviteFromTheDesktop(t *testing.T) {
	a := test.NewTempApp(t)
	ana, bo, _ := anaAndBo(t, a)
	id := ana.shell.view.cur
	eventually(t, "Bo's community window", func() bool {
		return bo.win.Content() == bo.shell.view.content && bo.shell.view.cur == id && len(bo.shell.view.members) == 2
	}, bo.q, ana.q)
	if !bo.shell.view.inviteBtn.Hidden {
		t.Fatal("a member sees Invite while members may not invite")
	}
	if _, err := ana.p.Svc.SetEntry(ana.shell.ctx, id, func(e *app.EntrySettings) { e.MemberInvites, e.MemberApproval = 2, true }); err != nil {
		t.Fatal(err)
	}
	bv := bo.shell.view
	eventually(t, "Invite in Bo's window", func() bool { return !bv.inviteBtn.Hidden && bv.entry.MemberApproval }, bo.q, ana.q)
	bv.openInvite()
	in := bv.invite
	if !in.approve.Checked || !in.approve.Disabled() || in.asks.Hidden {
		t.Fatalf("a member's invite dialog: approval checked %v, disabled %v", in.approve.Checked, in.approve.Disabled())
	}
	test.Tap(in.make)
	eventually(t, "Bo's invite made", func() bool { return in.current != "" }, bo.q)
	in.d.Hide()

	av := ana.shell.view
	var boView app.MemberView
	eventually(t, "Bo's open invite at Ana's", func() bool {
		for _, m := range av.members {
			if m.Name == "Bo" && m.OpenInvites == 1 {
				boView = m.MemberView
				return true
			}
		}
		return false
	}, ana.q, bo.q)
	var revoke *memberAction
	for _, act := range av.memberActions(boView) {
		if strings.HasPrefix(act.label, "Revoke their open invites (1)") {
			revoke = &act
		}
	}
	if revoke == nil {
		t.Fatal("no action revokes Bo's invites")
	}
	if err := revoke.call(ana.shell.ctx); err != nil {
		t.Fatal(err)
	}
	ms, _ := ana.p.Svc.Members(id)
	for _, m := range ms {
		if m.Name == "Bo" && m.OpenInvites != 0 {
			t.Fatalf("Bo still has %d open invites", m.OpenInvites)
		}
	}
}
