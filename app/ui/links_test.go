package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/invite"
)

// TestInviteLinkOpensTheJoinScreen: an invite copied as a kith://join/ link opens the join screen
// with it filled in and ready, when Kith starts with it (before its communities are even listed)
// and in a window that shows communities (with the way back); a link to a community this install
// is in opens that community, and pasted, such an invite says so; a join under way is kept.
func TestInviteLinkOpensTheJoinScreen(t *testing.T) {
	a := test.NewTempApp(t)
	ana := open(t, a)
	ana.create(t, "Ana", "Clay Studio Friends")
	link := copiedLink(t, a, ana)

	bo := open(t, a)
	bo.shell.OpenInvite(link) // as Kith started with the link does, at once
	w := bo.shell.welcome
	eventually(t, "Bo's join screen with the link", func() bool {
		return bo.win.Content() == w.content && w.paste.Text == link
	}, bo.q)
	if w.join.Disabled() || !strings.HasPrefix(w.check.Text, "✓") || !w.back.Hidden {
		t.Fatalf("the link reads %q; join disabled %v, back shown %v", w.check.Text, w.join.Disabled(), !w.back.Hidden)
	}

	// Ana, in a community of her own, opens a link to Bo's: the join screen, with the way back.
	bo.create(t, "Bo", "Wood Fire Club")
	bosLink := copiedLink(t, a, bo)
	aw := ana.shell.welcome
	ana.shell.OpenInvite("  " + bosLink + "\n")
	eventually(t, "Ana's join screen with Bo's link", func() bool {
		return ana.win.Content() == aw.content && aw.paste.Text == bosLink
	}, ana.q)
	if aw.back.Hidden || aw.join.Disabled() {
		t.Fatalf("Ana's join screen: back hidden %v, join disabled %v (%q)", aw.back.Hidden, aw.join.Disabled(), aw.check.Text)
	}
	aw.paste.SetText(link) // pasted: her own community's invite
	if !strings.Contains(aw.check.Text, "already") || !aw.join.Disabled() {
		t.Fatalf("her own community's invite, pasted: %q, join disabled %v", aw.check.Text, aw.join.Disabled())
	}

	ana.shell.OpenInvite(link) // clicked: her community opens
	eventually(t, "Ana's community", func() bool {
		return ana.win.Content() == ana.shell.view.content && strings.Contains(ana.shell.view.title.Text, "Clay Studio Friends")
	}, ana.q)

	aw.joining = true // a join under way keeps its invite
	ana.shell.OpenInvite("kith://join/kith1other")
	eventually(t, "the join screen", func() bool { return ana.win.Content() == aw.content }, ana.q)
	if aw.paste.Text != link {
		t.Fatalf("a join under way lost its invite: %q", aw.paste.Text)
	}
	aw.joining = false
}

// copiedLink makes an invite to k's community in the invite dialog and copies it as a link.
func copiedLink(t *testing.T, a fyne.App, k *kith) string {
	t.Helper()
	v := k.shell.view
	v.openInvite()
	in := v.invite
	test.Tap(in.make)
	eventually(t, "the invite text", func() bool { return strings.HasPrefix(in.text.Text, "kith1") }, k.q)
	test.Tap(in.copyLink)
	link := a.Clipboard().Content()
	if link != invite.LinkPrefix+in.text.Text {
		t.Fatalf("Copy link copied %q", link)
	}
	in.d.Hide()
	return link
}

// TestLinkAfterLeaving: a member who left a community may join it again: its invite, pasted or
// clicked, shows the join screen with Join on (the community is still listed, with no role).
func TestLinkAfterLeaving(t *testing.T) {
	a := test.NewTempApp(t)
	ana, bo, ctx := anaAndBo(t, a)
	bosWindow(t, ana, bo)
	id := ana.shell.view.cur
	if err := bo.p.Svc.Leave(ctx, id); err != nil {
		t.Fatal(err)
	}
	bo.shell.view.reload(id)
	eventually(t, "Bo has left", func() bool {
		s := bo.shell.view.summary(id)
		return s != nil && s.Role == community.RoleNone
	}, bo.q)
	link := copiedLink(t, a, ana)
	bo.shell.OpenInvite(link)
	w := bo.shell.welcome
	eventually(t, "Bo's join screen", func() bool { return bo.win.Content() == w.content && w.paste.Text == link }, bo.q)
	if w.join.Disabled() || strings.Contains(w.check.Text, "already") {
		t.Fatalf("one who left, with a new invite: %q, join disabled %v", w.check.Text, w.join.Disabled())
	}
}
