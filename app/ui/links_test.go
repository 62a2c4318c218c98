package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/kith-app/kith/app/invite"
)

// TestInviteLinkOpensTheJoinScreen: an invite copied as a kith://join/ link opens the join screen
// with it filled in and ready, when Kith starts with it (before its communities are even listed)
// and in a window that shows communities (with the way back); a join under way is kept.
func TestInviteLinkOpensTheJoinScreen(t *testing.T) {
	a := test.NewTempApp(t)
	ana := open(t, a)
	ana.create(t, "Ana", "Clay Studio Friends")
	v := ana.shell.view
	v.openInvite()
	in := v.invite
	test.Tap(in.make)
	eventually(t, "the invite text", func() bool { return strings.HasPrefix(in.text.Text, "kith1") }, ana.q)
	test.Tap(in.copyLink)
	link := a.Clipboard().Content()
	if link != invite.LinkPrefix+in.text.Text {
		t.Fatalf("Copy link copied %q", link)
	}
	in.d.Hide()

	bo := open(t, a)
	bo.shell.OpenInvite(link) // as Kith started with the link does, at once
	w := bo.shell.welcome
	eventually(t, "Bo's join screen with the link", func() bool {
		return bo.win.Content() == w.content && w.paste.Text == link
	}, bo.q)
	if w.join.Disabled() || !strings.HasPrefix(w.check.Text, "✓") || !w.back.Hidden {
		t.Fatalf("the link reads %q; join disabled %v, back shown %v", w.check.Text, w.join.Disabled(), !w.back.Hidden)
	}

	ana.shell.OpenInvite("  " + link + "\n") // a window that shows a community: the way back too
	aw := ana.shell.welcome
	if ana.win.Content() != aw.content || aw.paste.Text != link || aw.back.Hidden {
		t.Fatalf("Ana's window: join screen %v, %q, back hidden %v", ana.win.Content() == aw.content, aw.paste.Text, aw.back.Hidden)
	}

	aw.joining = true // a join under way keeps its invite
	ana.shell.OpenInvite("kith://join/kith1other")
	if aw.paste.Text != link {
		t.Fatalf("a join under way lost its invite: %q", aw.paste.Text)
	}
	aw.joining = false
}
