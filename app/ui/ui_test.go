package ui

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/invite"
	"github.com/kith-app/kith/app/localstore"
	"github.com/kith-app/kith/app/peer"
	"github.com/kith-app/kith/storage"
)

// uiQueue stands in for the Fyne thread in tests: the test driver runs fyne.Do on the calling
// goroutine, so background work queues its widget updates here and the test goroutine runs them.
type uiQueue chan func()

func (q uiQueue) do(f func()) { q <- f }

// eventually runs the queued widget updates of every shell until cond holds, with a deadline.
func eventually(t *testing.T, what string, cond func() bool, qs ...uiQueue) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, q := range qs {
			for drained := false; !drained; {
				select {
				case f := <-q:
					f()
				default:
					drained = true
				}
			}
		}
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kith is one install with its window: a real peer (identity, Badger store, libp2p host on
// 127.0.0.1) and the shell over it.
type kith struct {
	p     *peer.Peer
	shell *Shell
	win   fyne.Window
	q     uiQueue
}

func open(t *testing.T, a fyne.App) *kith {
	t.Helper()
	k := openIn(t, a, t.TempDir())
	t.Cleanup(k.close)
	return k
}

func (k *kith) close() {
	k.shell.Close()
	k.p.Close()
}

// openIn opens the install in dir; the caller closes it. The question about the public DHT
// counts as answered "no" (TestPublicDHTIsAskedOnce asks it).
func openIn(t testing.TB, a fyne.App, dir string) *kith {
	t.Helper()
	file := filepath.Join(dir, "settings.json")
	if st, err := LoadSettings(file); err == nil && st.PublicDHT == nil {
		no := false
		st.PublicDHT = &no
		if err := st.Save(file); err != nil {
			t.Fatal(err)
		}
	}
	return openAsked(t, a, dir)
}

// openAsked is openIn with the settings as they are in dir.
func openAsked(t testing.TB, a fyne.App, dir string) *kith {
	t.Helper()
	p, err := peer.Open(dir, peer.Options{
		Logger: slog.New(slog.DiscardHandler), MinFreeBytes: -1,
		Listen: []string{"/ip4/127.0.0.1/tcp/0"}, NoMDNS: true, NoNAT: true, NoControl: true,
		SyncEvery: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Start(ctx); err != nil {
		p.Close()
		t.Fatal(err)
	}
	k := &kith{p: p, win: a.NewWindow("Kith"), q: make(uiQueue, 1<<14)}
	k.shell = NewShell(a, k.win, p.Svc, p, Options{SettingsFile: filepath.Join(dir, "settings.json"), DataDir: dir, Do: k.q.do,
		Backup: func(pass string) ([]byte, error) { f, _, err := p.Backup(pass); return f, err }})
	k.win.Resize(fyne.NewSize(1180, 760))
	return k
}

// create taps through the welcome screen to create a community.
func (k *kith) create(t *testing.T, you, name string) {
	t.Helper()
	w := k.shell.welcome
	eventually(t, "the welcome screen", func() bool { return k.win.Content() == w.content }, k.q)
	test.Tap(w.create) // nothing typed: a sentence, no community
	if !strings.Contains(w.createStatus.Text, "name") {
		t.Fatalf("create with nothing typed says %q", w.createStatus.Text)
	}
	test.Type(w.you, you)
	test.Type(w.name, name)
	test.Type(w.cap, "1")
	test.Tap(w.create)
	if !strings.Contains(w.createStatus.Text, "Member cap") {
		t.Fatalf("a cap of 1 says %q", w.createStatus.Text)
	}
	w.cap.SetText("")
	test.Type(w.cap, "100")
	test.Tap(w.create)
	v := k.shell.view
	eventually(t, "the community window", func() bool {
		return k.win.Content() == v.content && strings.Contains(v.title.Text, name) && strings.Contains(v.title.Text, "# general")
	}, k.q)
	// The recovery words show once, in front; the composer waits behind them.
	if len(k.shell.dialogs) != 1 {
		t.Fatalf("%d dialogs after creating, want the recovery words", len(k.shell.dialogs))
	}
	if k.win.Canvas().Focused() == v.composer {
		t.Error("the composer has the focus behind the recovery words")
	}
	k.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if len(k.shell.dialogs) != 1 {
		t.Fatal("Escape closed the recovery words, which show only once")
	}
	k.shell.dialogs[0].d.Hide()
}

// send types a message in the composer and presses Enter.
func (k *kith) send(t *testing.T, text string) {
	t.Helper()
	c := k.shell.view.composer
	k.win.Canvas().Focus(c)
	test.Type(c, text)
	c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
}

func (k *kith) rows() []msgRow { return k.shell.view.msgs.rows }

func hasMessage(rows []msgRow, text string, pending bool) bool {
	for _, r := range rows {
		if r.m.Text == text && r.pending == pending {
			return true
		}
	}
	return false
}

func TestCreateCommunityAndWriteByTapping(t *testing.T) {
	a := test.NewTempApp(t)
	k := open(t, a)
	k.create(t, "Ana", "Clay Studio Friends")
	v := k.shell.view
	if got := v.online.Text; got != "1 of 1 online" {
		t.Errorf("header says %q, want 1 of 1 online", got)
	}
	if v.chip.Text != "synced" {
		t.Errorf("chip says %q, want synced", v.chip.Text)
	}
	if v.inviteBtn.Hidden {
		t.Error("the owner has no Invite button")
	}
	eventually(t, "the empty channel's hint", func() bool { return !v.msgs.empty.Hidden && strings.Contains(v.msgs.empty.Text, "say hello") }, k.q)

	// Enter sends; Shift+Enter adds a line.
	c := v.composer
	k.win.Canvas().Focus(c)
	test.Type(c, "first line")
	c.KeyDown(&fyne.KeyEvent{Name: "LeftShift"})
	c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	c.KeyUp(&fyne.KeyEvent{Name: "LeftShift"})
	test.Type(c, "second line")
	if c.Text != "first line\nsecond line" {
		t.Fatalf("composer holds %q after Shift+Enter", c.Text)
	}
	c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if c.Text != "" {
		t.Fatalf("composer still holds %q after Enter", c.Text)
	}
	// Pending at once (before the store answered), then stored.
	if !hasMessage(k.rows(), "first line\nsecond line", true) {
		t.Fatal("the message is not shown as pending at once")
	}
	eventually(t, "the message stored", func() bool { return hasMessage(k.rows(), "first line\nsecond line", false) }, k.q)
	if n := len(k.rows()); n != 1 {
		t.Fatalf("%d rows after one message, want 1 (the pending row becomes the message)", n)
	}
	if !v.msgs.empty.Hidden {
		t.Error("the empty-channel text still shows")
	}
	// The store has it: a new window over the same service reads it back.
	ms, err := k.p.Svc.Messages(v.cur, v.curCh, community.Position{}, 10)
	if err != nil || len(ms) != 1 || ms[0].Text != "first line\nsecond line" {
		t.Fatalf("store has %v, %v", ms, err)
	}
}

func TestPastedInviteIsCheckedAsItIsPasted(t *testing.T) {
	a := test.NewTempApp(t)
	owner, inv := ownerWithInvite(t, a, 2)
	k := open(t, a)
	w := k.shell.welcome
	eventually(t, "the welcome screen", func() bool { return k.win.Content() == w.content }, k.q)

	good := inv.String()
	swap := byte('a') // one character changed, as a mistyped copy would
	if good[40] == 'a' {
		swap = 'b'
	}
	damaged := good[:40] + string(swap) + good[41:]
	expired, err := invite.Issue(owner.p.ID, invite.Params{
		Community: inv.Community, CommunityName: inv.CommunityName, Role: community.RoleMember,
		Expires: time.Now().Add(-time.Hour), Members: inv.Members,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ text, want string }{
		{damaged, "damaged"},
		{good[:len(good)-10], "damaged"},
		{"hello, this is my invite", "not a Kith invite"},
		{expired.String(), "expired"},
	} {
		w.paste.SetText("")
		test.Type(w.paste, c.text)
		if !strings.Contains(w.check.Text, c.want) || w.check.Importance != widget.DangerImportance || !w.join.Disabled() {
			t.Errorf("pasting %.30q… says %q (join disabled: %v), want %q", c.text, w.check.Text, w.join.Disabled(), c.want)
		}
	}
	w.paste.SetText("")
	test.Type(w.paste, "Join us: "+good+" see you there")
	if !strings.Contains(w.check.Text, `"Clay Studio Friends"`) || !strings.Contains(w.check.Text, "up to 2 people") || w.join.Disabled() {
		t.Fatalf("a good invite says %q (join disabled: %v)", w.check.Text, w.join.Disabled())
	}
}

func TestTwoInstallsInviteJoinAndTalk(t *testing.T) {
	a := test.NewTempApp(t)
	ana := open(t, a)
	bo := open(t, a)
	ana.create(t, "Ana", "Clay Studio Friends")

	// Ana: Ctrl+I, Create invite, Copy.
	v := ana.shell.view
	v.openInvite()
	in := v.invite
	if in == nil {
		t.Fatal("no invite dialog")
	}
	in.role.SetSelected("Member")
	in.uses.SetSelected("5 people")
	test.Tap(in.make)
	eventually(t, "the invite text", func() bool { return strings.HasPrefix(in.text.Text, "kith1") }, ana.q)
	if in.qr.Hidden {
		t.Error("no QR code")
	}
	test.Tap(in.copy)
	copied := a.Clipboard().Content()
	if !strings.HasPrefix(copied, "kith1") {
		t.Fatalf("clipboard holds %q", copied)
	}
	eventually(t, "the issued list", func() bool { return len(in.issued) == 1 }, ana.q)
	if got := describeIssued(in.issued[0], time.Now()); !strings.Contains(got, "0 of 5 used") {
		t.Errorf("issued invite reads %q", got)
	}
	in.d.Hide()

	// Bo: paste, name, Join: staged progress, then the community window.
	w := bo.shell.welcome
	eventually(t, "Bo's welcome screen", func() bool { return bo.win.Content() == w.content }, bo.q)
	test.Type(w.you, "Bo")
	test.Type(w.paste, copied)
	if w.join.Disabled() {
		t.Fatalf("join disabled with a good invite: %q", w.check.Text)
	}
	test.Tap(w.join)
	var stages []string
	bv := bo.shell.view
	eventually(t, "Bo in the community", func() bool {
		if s := w.stage.Text; s != "" && (len(stages) == 0 || stages[len(stages)-1] != s) {
			stages = append(stages, s)
		}
		return bo.win.Content() == bv.content && strings.Contains(bv.title.Text, "# general")
	}, ana.q, bo.q)
	if w.joinStatus.Text != "" {
		t.Errorf("join status says %q after joining", w.joinStatus.Text)
	}
	t.Logf("join stages seen: %q", stages)

	// Each sees the other online, with how.
	online := func(k *kith, name string) bool {
		for _, m := range k.shell.view.members {
			if m.Name == name && m.online && m.path != "" {
				return true
			}
		}
		return false
	}
	eventually(t, "each member online in the other's panel", func() bool {
		ana.shell.view.refreshPresence()
		bo.shell.view.refreshPresence()
		return online(ana, "Bo") && online(bo, "Ana") && v.online.Text == "2 of 2 online" && bv.online.Text == "2 of 2 online"
	}, ana.q, bo.q)

	// Typed in one, shown in the other: Bo's window is in the background, so he is notified.
	bo.shell.focused = false
	test.AssertNotificationSent(t, &fyne.Notification{Title: "Ana in Clay Studio Friends", Content: "Welcome, Bo!"}, func() {
		ana.send(t, "Welcome, Bo!")
		eventually(t, "Ana's message in Bo's list", func() bool { return hasMessage(bo.rows(), "Welcome, Bo!", false) }, ana.q, bo.q)
	})
	bo.shell.focused = true
	test.AssertNotificationSent(t, nil, func() { // Ana's window is in front: no notification
		bo.send(t, "Thanks! Glad to be here.")
		eventually(t, "Bo's message in Ana's list", func() bool { return hasMessage(ana.rows(), "Thanks! Glad to be here.", false) }, ana.q, bo.q)
	})
	for _, r := range ana.rows() {
		if r.m.Text == "Thanks! Glad to be here." && (r.m.Name != "Bo" || r.m.Mine) {
			t.Errorf("Bo's message in Ana's list: name %q, mine %v", r.m.Name, r.m.Mine)
		}
	}

	// A message in another channel counts as unread there until it is opened.
	var announcements community.Hash
	for _, c := range v.chans {
		if c.Name == "announcements" {
			announcements = c.ID
		}
	}
	if _, err := ana.p.Svc.Post(context.Background(), v.cur, announcements, "Kiln day on Saturday", community.Hash{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "an unread count on Bo's #announcements", func() bool { return bv.unread[announcements] == 1 }, ana.q, bo.q)
	for i, c := range bv.chans {
		if c.ID == announcements {
			bv.chanList.Select(i)
		}
	}
	eventually(t, "#announcements opened", func() bool { return hasMessage(bo.rows(), "Kiln day on Saturday", false) }, ana.q, bo.q)
	if bv.unread[announcements] != 0 {
		t.Error("the unread count stays after opening the channel")
	}

	// The invite's use shows in Ana's list of issued invites.
	v.openInvite()
	eventually(t, "uses so far", func() bool {
		return len(v.invite.issued) == 1 && strings.Contains(describeIssued(v.invite.issued[0], time.Now()), "1 of 5 used")
	}, ana.q, bo.q)

	// Bo's header: synced while Ana is there; offline, with what it means, once she is gone.
	eventually(t, "Bo synced", func() bool { return bv.chip.Text == "synced" }, ana.q, bo.q)
	ana.close()
	eventually(t, "Bo's header saying he is offline", func() bool {
		return bv.online.Text == "1 of 2 online" && bv.chip.Text == "offline" && strings.Contains(bv.composer.PlaceHolder, "sent when one is")
	}, bo.q)
}

// TestJoinWaitsForAMember: with no member online, the join says so and waits; it goes on after
// Kith restarts, and gets in once the owner is back, with a notification while Kith is in the
// background. Cancel ends a join for good.
func TestJoinWaitsForAMember(t *testing.T) {
	a := test.NewTempApp(t)
	ownerDir, boDir := t.TempDir(), t.TempDir()
	owner := openIn(t, a, ownerDir)
	owner.create(t, "Ana", "Clay Studio Friends")
	inv, _, err := owner.p.Invite(owner.shell.view.cur, app.InviteParams{Role: community.RoleMember, Uses: 2})
	if err != nil {
		t.Fatal(err)
	}
	owner.close() // the only member goes away

	bo := openIn(t, a, boDir)
	w := bo.shell.welcome
	eventually(t, "the welcome screen", func() bool { return bo.win.Content() == w.content }, bo.q)
	test.Type(w.you, "Bo")
	test.Type(w.paste, inv.String())
	test.Tap(w.join)
	eventually(t, "the sentence that says the join waits", func() bool { return w.stage.Text == waitingText }, bo.q)
	if w.cancel.Hidden || !w.join.Disabled() || w.spinner.Visible() {
		t.Errorf("while waiting: cancel hidden %v, join disabled %v, spinner shown %v", w.cancel.Hidden, w.join.Disabled(), w.spinner.Visible())
	}

	// Kith restarts: the join goes on, and the screen says so.
	bo.close()
	bo = openIn(t, a, boDir)
	t.Cleanup(bo.close)
	w = bo.shell.welcome
	eventually(t, "the resumed join on the welcome screen", func() bool {
		return bo.win.Content() == w.content && w.joining && w.stage.Text == waitingText && strings.Contains(w.joinStatus.Text, `Joining "Clay Studio Friends"`)
	}, bo.q)

	// The owner comes back: Bo gets in, notified (his window is in the background).
	bo.shell.focused = false
	test.AssertNotificationSent(t, &fyne.Notification{Title: `You are in "Clay Studio Friends"`, Content: "A member admitted you: say hello."}, func() {
		owner = openIn(t, a, ownerDir)
		t.Cleanup(owner.close)
		eventually(t, "Bo in the community", func() bool {
			return bo.win.Content() == bo.shell.view.content && strings.Contains(bo.shell.view.title.Text, "# general")
		}, bo.q, owner.q)
	})
	if w.joining || !w.cancel.Hidden {
		t.Error("the welcome screen still shows the join")
	}

	// Cancel: a second invite, nobody online for it (the owner and Bo, whom it names too, leave).
	inv2, _, err := owner.p.Invite(owner.shell.view.cur, app.InviteParams{Role: community.RoleMember, Uses: 1})
	if err != nil {
		t.Fatal(err)
	}
	owner.close()
	bo.close()
	cy := open(t, a)
	w = cy.shell.welcome
	eventually(t, "Cy's welcome screen", func() bool { return cy.win.Content() == w.content }, cy.q)
	test.Type(w.you, "Cy")
	test.Type(w.paste, inv2.String())
	test.Tap(w.join)
	eventually(t, "Cy's join to wait", func() bool { return w.stage.Text == waitingText }, cy.q)
	test.Tap(w.cancel)
	eventually(t, "the join cancelled", func() bool { return w.joinStatus.Text == "Join cancelled." && !w.join.Disabled() }, cy.q)
	eventually(t, "no join kept", func() bool { return len(cy.p.PendingJoins()) == 0 }, cy.q)
}

// TestPublicDHTIsAskedOnce: the first create asks whether to use the public network to find
// members who moved, says what it shows to whom, keeps the answer and applies it; the next
// create does not ask again; the settings show and change it.
func TestPublicDHTIsAskedOnce(t *testing.T) {
	a := test.NewTempApp(t)
	dir := t.TempDir()
	k := openAsked(t, a, dir)
	t.Cleanup(k.close)
	w := k.shell.welcome
	eventually(t, "the welcome screen", func() bool { return k.win.Content() == w.content }, k.q)
	test.Type(w.you, "Ana")
	test.Type(w.name, "Clay Studio Friends")
	test.Tap(w.create)
	if len(k.shell.dialogs) != 1 || !k.shell.dialogs[0].sticky {
		t.Fatalf("%d dialogs after the first create, want the question", len(k.shell.dialogs))
	}
	if !strings.Contains(publicDHTText, "Never a community's name") {
		t.Fatal("the question does not say what stays private")
	}
	// "Not now": kept, applied, and the community is created.
	var notNow *widget.Button
	for _, o := range test.LaidOutObjects(k.win.Canvas().Overlays().Top()) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Not now" {
			notNow = b
		}
	}
	if notNow == nil {
		t.Fatal("no Not now button in the question")
	}
	test.Tap(notNow)
	eventually(t, "the community window", func() bool { return k.win.Content() == k.shell.view.content }, k.q)
	eventually(t, "the answer kept", func() bool {
		st, err := LoadSettings(filepath.Join(dir, "settings.json"))
		return err == nil && st.PublicDHT != nil && !*st.PublicDHT
	}, k.q)
	for len(k.shell.dialogs) > 0 {
		k.shell.dialogs[0].d.Hide() // the recovery words
	}
	k.shell.showWelcome(true)
	test.Type(w.name, "Second")
	test.Tap(w.create)
	eventually(t, "the second community, not asked again", func() bool {
		return k.win.Content() == k.shell.view.content && strings.Contains(k.shell.view.title.Text, "Second")
	}, k.q)
	if len(k.shell.dialogs) != 1 { // the recovery words only
		t.Fatalf("%d dialogs after the second create", len(k.shell.dialogs))
	}
}

// ownerWithInvite is Ana's install with a community and an invite for uses people.
func ownerWithInvite(t *testing.T, a fyne.App, uses int) (*kith, *invite.Invite) {
	t.Helper()
	owner := open(t, a)
	owner.create(t, "Ana", "Clay Studio Friends")
	inv, _, err := owner.p.Invite(owner.shell.view.cur, app.InviteParams{Role: community.RoleMember, Uses: uses})
	if err != nil {
		t.Fatal(err)
	}
	return owner, inv
}

// TestKeyboard: Ctrl+I opens the invite dialog and Escape closes it; Ctrl+K finds a channel by
// typing and Enter goes there.
func TestKeyboard(t *testing.T) {
	a := test.NewTempApp(t)
	k := open(t, a)
	k.create(t, "Ana", "Clay Studio Friends")
	v := k.shell.view
	c := k.win.Canvas()
	// The test canvas takes no shortcuts: press them through the main menu, whose items carry
	// them (the real window routes them there wherever the focus is).
	press := func(key fyne.KeyName) {
		t.Helper()
		for _, m := range k.win.MainMenu().Items {
			for _, it := range m.Items {
				if s, ok := it.Shortcut.(*desktop.CustomShortcut); ok && s.KeyName == key && s.Modifier == fyne.KeyModifierShortcutDefault {
					it.Action()
					return
				}
			}
		}
		t.Fatalf("no menu item has the shortcut Ctrl+%s", key)
	}
	escape := func() { // to the focused widget, as the window sends keys; else to the window
		if f := c.Focused(); f != nil {
			f.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
		} else {
			c.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
		}
	}
	press(fyne.KeyI)
	if v.invite == nil || len(k.shell.dialogs) != 1 {
		t.Fatalf("Ctrl+I opened no invite dialog (%d dialogs)", len(k.shell.dialogs))
	}
	escape()
	if len(k.shell.dialogs) != 0 {
		t.Fatal("Escape left the invite dialog open")
	}
	press(fyne.KeyK)
	escape()
	if len(k.shell.dialogs) != 0 {
		t.Fatal("Escape left the switcher open")
	}

	press(fyne.KeyK)
	if len(k.shell.dialogs) != 1 {
		t.Fatal("Ctrl+K opened no switcher")
	}
	filter, ok := c.Focused().(*escEntry)
	if !ok {
		t.Fatalf("the switcher's filter is not focused: %T", c.Focused())
	}
	test.Type(filter, "annou")
	filter.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if ch, _ := v.channel(); ch.Name != "announcements" || !strings.Contains(v.title.Text, "# announcements") {
		t.Fatalf("after Ctrl+K, annou, Enter: channel %q, title %q", ch.Name, v.title.Text)
	}
	if len(k.shell.dialogs) != 0 {
		t.Error("the switcher stays open after Enter")
	}
	if v.composer.Disabled() {
		t.Error("the owner cannot write in #announcements")
	}
}

// TestJoinWhileOfflineSaysWhy: when the network could not start (its port is taken), a join
// says so at once instead of waiting for a member.
func TestJoinWhileOfflineSaysWhy(t *testing.T) {
	a := test.NewTempApp(t)
	_, inv := ownerWithInvite(t, a, 1)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	p, err := peer.Open(dir, peer.Options{
		Logger: slog.New(slog.DiscardHandler), MinFreeBytes: -1, NoMDNS: true, NoNAT: true, NoControl: true,
		Listen: []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", taken.Addr().(*net.TCPAddr).Port)},
	})
	if err != nil {
		t.Fatal(err)
	}
	no := false
	st := DefaultSettings()
	st.PublicDHT = &no // asked already
	k := &kith{p: p, win: a.NewWindow("Kith"), q: make(uiQueue, 1<<14)}
	k.shell = NewShell(a, k.win, p.Svc, p, Options{SettingsFile: filepath.Join(dir, "settings.json"), Settings: &st, DataDir: dir, Do: k.q.do})
	t.Cleanup(k.close)
	if err := p.Start(context.Background()); err == nil {
		t.Fatal("the network started on a port already taken")
	} else {
		k.shell.NetworkFailed(err)
	}
	w := k.shell.welcome
	eventually(t, "the welcome screen", func() bool { return k.win.Content() == w.content }, k.q)
	if len(k.shell.dialogs) != 1 {
		t.Error("no dialog says Kith is offline")
	}
	test.Type(w.you, "Bo")
	test.Type(w.paste, inv.String())
	test.Tap(w.join)
	eventually(t, "the join's answer", func() bool { return w.joinStatus.Text != "" }, k.q)
	if !strings.Contains(w.joinStatus.Text, "could not go online") {
		t.Fatalf("join while offline says %q", w.joinStatus.Text)
	}
}

// TestRefusedInvitesSayWhy: an invite used up, and one signed by someone who may not invite,
// are refused by the member the joiner reaches, and the welcome screen says why.
func TestRefusedInvitesSayWhy(t *testing.T) {
	a := test.NewTempApp(t)
	owner, inv := ownerWithInvite(t, a, 1)
	bo := open(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := bo.p.Join(ctx, inv, "Bo"); err != nil {
		t.Fatal(err)
	}
	stranger := open(t, a) // a valid signature, but not the owner's or a moderator's
	forged, err := invite.Issue(stranger.p.ID, invite.Params{
		Community: inv.Community, CommunityName: inv.CommunityName, Role: community.RoleMember, Members: inv.Members,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cy := open(t, a)
	w := cy.shell.welcome
	eventually(t, "the welcome screen", func() bool { return cy.win.Content() == w.content }, cy.q)
	test.Type(w.you, "Cy")
	for _, c := range []struct {
		inv  *invite.Invite
		want string
	}{{inv, "used"}, {forged, "not a member of the community"}} {
		w.paste.SetText("")
		test.Type(w.paste, c.inv.String())
		if w.join.Disabled() {
			t.Fatalf("join disabled before asking a member: %q", w.check.Text)
		}
		test.Tap(w.join)
		eventually(t, "the member's answer", func() bool { return !w.joining && w.joinStatus.Text != "" }, cy.q, owner.q)
		if !strings.Contains(w.joinStatus.Text, c.want) {
			t.Errorf("joining says %q, want it to say %q", w.joinStatus.Text, c.want)
		}
		t.Logf("refusal shown: %s", w.joinStatus.Text)
	}
}

// find returns the first button labelled text under o, looking into widgets' renderers (a list's
// rows are there).
// findCheck finds the check box with a label under o.
func findCheck(o fyne.CanvasObject, text string) *widget.Check {
	switch x := o.(type) {
	case *widget.Check:
		if x.Text == text {
			return x
		}
		return nil
	case *fyne.Container:
		for _, c := range x.Objects {
			if b := findCheck(c, text); b != nil {
				return b
			}
		}
		return nil
	}
	if w, ok := o.(fyne.Widget); ok {
		for _, c := range test.WidgetRenderer(w).Objects() {
			if b := findCheck(c, text); b != nil {
				return b
			}
		}
	}
	return nil
}

func find(o fyne.CanvasObject, text string) *widget.Button {
	switch x := o.(type) {
	case *widget.Button:
		if x.Text == text {
			return x
		}
	case *fyne.Container:
		for _, c := range x.Objects {
			if b := find(c, text); b != nil {
				return b
			}
		}
		return nil
	}
	if w, ok := o.(fyne.Widget); ok {
		for _, c := range test.WidgetRenderer(w).Objects() {
			if b := find(c, text); b != nil {
				return b
			}
		}
	}
	return nil
}

// TestRevokeAnInviteFromTheList: Revoke on an issued invite asks first; "Keep it" leaves it be,
// "Revoke" revokes it (the log says so, the row says so and its Revoke is disabled).
func TestRevokeAnInviteFromTheList(t *testing.T) {
	a := test.NewTempApp(t)
	k := open(t, a)
	k.create(t, "Ana", "Clay Studio Friends")
	v := k.shell.view
	v.openInvite()
	in := v.invite
	test.Tap(in.make)
	eventually(t, "the issued list", func() bool { return len(in.issued) == 1 }, k.q)
	revoke := find(in.list, "Revoke")
	if revoke == nil || revoke.Disabled() {
		t.Fatalf("no enabled Revoke button on the issued invite (%v)", revoke)
	}
	test.Tap(revoke)
	if in.confirm == nil || len(k.shell.dialogs) != 2 {
		t.Fatalf("Revoke asked nothing (%d dialogs)", len(k.shell.dialogs))
	}
	keep := find(k.win.Canvas().Overlays().Top(), "Keep it")
	if keep == nil {
		t.Fatal("no Keep it button")
	}
	test.Tap(keep)
	if issued, _ := k.p.Svc.Invites(v.cur); issued[0].Revoked {
		t.Fatal("Keep it revoked the invite")
	}
	test.Tap(revoke)
	test.Tap(find(k.win.Canvas().Overlays().Top(), "Revoke"))
	eventually(t, "the invite revoked", func() bool {
		return strings.Contains(describeIssued(in.issued[0], time.Now()), "revoked") && strings.Contains(in.said.Text, "is revoked")
	}, k.q)
	if issued, _ := k.p.Svc.Invites(v.cur); !issued[0].Revoked {
		t.Fatal("the log does not have the revocation")
	}
	in.list.Refresh()
	if b := find(in.list, "Revoke"); b == nil || !b.Disabled() {
		t.Errorf("the revoked invite's Revoke button is still enabled")
	}
}

// labelWith finds a label whose text contains text in a widget tree.
func labelWith(o fyne.CanvasObject, text string) *widget.Label {
	switch x := o.(type) {
	case *widget.Label:
		if strings.Contains(x.Text, text) {
			return x
		}
		return nil
	case *fyne.Container:
		for _, c := range x.Objects {
			if l := labelWith(c, text); l != nil {
				return l
			}
		}
		return nil
	}
	if w, ok := o.(fyne.Widget); ok {
		for _, c := range test.WidgetRenderer(w).Objects() {
			if l := labelWith(c, text); l != nil {
				return l
			}
		}
	}
	return nil
}

// TestModerateFromTheDesktop: the owner deletes a member's message from its menu, makes the
// member a moderator and then removes it from the members panel, each after a confirmation;
// the recovery dialog refuses words that are not the community's.
func TestModerateFromTheDesktop(t *testing.T) {
	a := test.NewTempApp(t)
	ana, bo, ctx := anaAndBo(t, a)
	v := ana.shell.view
	msg, err := bo.p.Svc.Post(ctx, v.cur, v.curCh, "a message to delete", community.Hash{})
	if err != nil {
		t.Fatal(err)
	}
	var boRow msgRow
	eventually(t, "Bo's message and Bo in Ana's window", func() bool {
		for _, r := range ana.rows() {
			if r.m.ID == msg.ID {
				boRow = r
			}
		}
		return boRow.m.ID == msg.ID && len(v.members) == 2
	}, ana.q, bo.q)

	// The message's menu: Copy, and Delete for the owner; Delete asks first.
	menu := v.msgs.messageMenu(boRow)
	del := menuItem(menu, "Delete message…")
	if del == nil || menuItem(menu, "Copy text") == nil || menuItem(menu, "Edit…") != nil {
		t.Fatalf("the menu of a member's message for the owner: %v", menu.Items)
	}
	del.Action()
	if v.confirm == nil {
		t.Fatal("Delete asked nothing")
	}
	test.Tap(find(ana.win.Canvas().Overlays().Top(), "Delete"))
	eventually(t, "the row gone and the text gone from the store", func() bool {
		for _, r := range ana.rows() {
			if r.m.ID == msg.ID {
				return false
			}
		}
		e, ok, err := ana.p.Svc.Message(v.cur, msg.ID)
		return err == nil && ok && e.Text == ""
	}, ana.q, bo.q)
	eventually(t, "the deletion to reach Bo's store", func() bool {
		e, ok, err := bo.p.Svc.Message(v.cur, msg.ID)
		return err == nil && ok && e.Text == ""
	}, ana.q, bo.q)

	// Bo's own entry offers to leave; the owner's own entry does not.
	if acts := v.memberActions(app.MemberView{Key: ana.p.ID.PublicKey(), Name: "Ana", Role: community.RoleOwner, Active: true, You: true}); len(acts) != 0 {
		t.Fatalf("the owner is offered %d actions on itself", len(acts))
	}

	// The members panel: Bo's actions for the owner.
	var bob app.MemberView
	for _, m := range v.members {
		if m.Name == "Bo" {
			bob = m.MemberView
		}
	}
	v.openMember(bob)
	test.Tap(find(ana.win.Canvas().Overlays().Top(), "Make moderator"))
	test.Tap(find(ana.win.Canvas().Overlays().Top(), "Make moderator")) // the confirmation's button
	eventually(t, "Bo a moderator", func() bool {
		st := labelWith(ana.win.Canvas().Overlays().Top(), "is a moderator")
		return st != nil && roleOfIn(v, "Bo") == community.RoleModerator
	}, ana.q, bo.q)
	v.memberDialog.Hide()
	for _, m := range v.members {
		if m.Name == "Bo" {
			bob = m.MemberView
		}
	}
	v.openMember(bob)
	test.Tap(find(ana.win.Canvas().Overlays().Top(), "Remove from the community"))
	cancelBtn := find(ana.win.Canvas().Overlays().Top(), "Cancel")
	test.Tap(cancelBtn)
	if v.confirm != nil || find(ana.win.Canvas().Overlays().Top(), "Remove from the community") == nil {
		t.Fatal("Cancel did not close the confirmation only")
	}
	if l := labelWith(ana.win.Canvas().Overlays().Top(), "Working"); l != nil {
		t.Fatal("Cancel started the removal")
	}
	test.Tap(find(ana.win.Canvas().Overlays().Top(), "Remove from the community"))
	// The confirmation offers to revoke Bo's invite too, saying how many it could still let in.
	revoke := findCheck(ana.win.Canvas().Overlays().Top(), "Also revoke the invite they joined with (it can let 2 more people in)")
	if revoke == nil || revoke.Checked {
		t.Fatalf("the removal's confirmation has no unchecked choice to revoke Bo's invite: %v", revoke)
	}
	test.Tap(revoke)
	test.Tap(find(ana.win.Canvas().Overlays().Top(), "Remove"))
	eventually(t, "Bo removed and the invite revoked", func() bool {
		member, _ := ana.p.Svc.IsMember(v.cur, bob.Key)
		use, _, _ := ana.p.Svc.InviteOf(v.cur, bob.Key)
		return !member && use.Revoked && labelWith(ana.win.Canvas().Overlays().Top(), "was removed") != nil
	}, ana.q, bo.q)
	v.memberDialog.Hide()
	// Bo's window says who removed him and when, instead of a composer, once the removal reaches
	// him (here handed over directly: Ana's peer drops his connection as it removes him).
	var removal []byte
	_ = localstore.Store{S: ana.p.Store}.AuthorityEvents(v.cur, func(e *community.Event) error {
		if e.Kind == community.KindRemove {
			removal = e.Encode()
		}
		return nil
	})
	if _, err := bo.p.Svc.Receive(v.cur, [][]byte{removal}); err != nil {
		t.Fatal(err)
	}
	bv := bo.shell.view
	eventually(t, "Bo's window to say Ana removed him", func() bool {
		return !bv.writeRow.Visible() && strings.HasPrefix(bv.postNote.Text, "Ana removed you on ") && bv.forgetBtn.Visible()
	}, bo.q, ana.q)
	// Bo forgets the community: after a confirmation its history goes from his device.
	test.Tap(bv.forgetBtn)
	test.Tap(find(bo.win.Canvas().Overlays().Top(), "Forget"))
	eventually(t, "Bo's device to hold nothing of the community, and his window the welcome screen", func() bool {
		cs, err := bo.p.Svc.Communities()
		return err == nil && len(cs) == 0 && bo.win.Content() == bo.shell.welcome.content
	}, bo.q, ana.q)

	// Cy, a member, leaves from its own entry, after a confirmation.
	cy := open(t, a)
	inv3, _, err := ana.p.Invite(v.cur, app.InviteParams{Uses: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cy.p.Join(ctx, inv3, "Cy"); err != nil {
		t.Fatal(err)
	}
	cv := cy.shell.view
	eventually(t, "Cy's window on the community", func() bool { return cv.cur == v.cur && cv.myRole() == community.RoleMember }, cy.q, ana.q)
	var me app.MemberView
	for _, m := range cv.members {
		if m.You {
			me = m.MemberView
		}
	}
	cv.openMember(me)
	test.Tap(find(cy.win.Canvas().Overlays().Top(), "Leave Clay Studio Friends"))
	test.Tap(find(cy.win.Canvas().Overlays().Top(), "Leave"))
	eventually(t, "Cy's leave to reach the owner", func() bool {
		member, _ := ana.p.Svc.IsMember(v.cur, cy.p.ID.PublicKey())
		return !member
	}, ana.q, cy.q)
	eventually(t, "Cy's window to say it is no longer a member", func() bool {
		return cv.composer.Disabled() && !cv.writeRow.Visible() && strings.Contains(cv.postNote.Text, "no longer a member")
	}, cy.q)

	// Recovery: words that are not the community's are refused, with what to check.
	v.openRecover()
	eventually(t, "the recovery dialog", func() bool { return v.recoverDialog != nil }, ana.q)
	test.Tap(find(ana.win.Canvas().Overlays().Top(), "Recover ownership"))
	eventually(t, "the recovery to refuse empty words", func() bool {
		return labelWith(ana.win.Canvas().Overlays().Top(), "there should be 18") != nil
	}, ana.q)
}

func roleOfIn(v *CommunityView, name string) community.Role {
	for _, m := range v.members {
		if m.Name == name && m.Active {
			return m.Role
		}
	}
	return community.RoleNone
}

// TestComposerSaysWhatIsTooLong: text over what a message may hold is refused as it is typed
// (by how much; the send button off) and at Enter (nothing posted, the text kept), and so is a
// control character; shortened, it sends.
func TestComposerSaysWhatIsTooLong(t *testing.T) {
	a := test.NewTempApp(t)
	ana := open(t, a)
	ana.create(t, "Ana", "Clay Studio Friends")
	v := ana.shell.view
	c := v.composer
	long := strings.Repeat("a", community.LimitText.Max+10)
	c.SetText(long)
	if v.tooLong.Hidden || !strings.Contains(v.tooLong.Text, "The message is 16,394 characters long: the most is 16,384, so shorten it") || !v.send.Disabled() {
		t.Fatalf("over the limit: note %q (hidden %v), send disabled %v", v.tooLong.Text, v.tooLong.Hidden, v.send.Disabled())
	}
	c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if c.Text != long || len(ana.rows()) != 0 {
		t.Fatalf("Enter on a text over the limit: composer %d bytes, %d rows", len(c.Text), len(ana.rows()))
	}
	c.SetText("bell \x07")
	if !v.tooLong.Hidden || v.send.Disabled() {
		t.Fatal("the note stayed after the text was shortened")
	}
	c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if c.Text != "bell \x07" || v.tooLong.Hidden || !strings.Contains(v.tooLong.Text, "control character") {
		t.Fatalf("a control character: composer %q, note %q", c.Text, v.tooLong.Text)
	}
	c.SetText(long[:community.LimitText.Max])
	c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	eventually(t, "the longest message stored", func() bool { return hasMessage(ana.rows(), long[:community.LimitText.Max], false) }, ana.q)
	if c.Text != "" || !v.tooLong.Hidden {
		t.Fatalf("after sending: composer %d bytes, note %q", len(c.Text), v.tooLong.Text)
	}
}

// TestRepairWindowRebuildsTheStore: Bo's store loses its MANIFEST; the repair window says the
// store is damaged, its button fetches the history again from Ana (a real resync over
// loopback), says what came back, and starts Kith on the rebuilt store, which reads Ana's
// messages with the same identity.
func TestRepairWindowRebuildsTheStore(t *testing.T) {
	a := test.NewTempApp(t)
	ana := open(t, a)
	ana.create(t, "Ana", "Clay Studio Friends")
	v := ana.shell.view
	inv, _, err := ana.p.Invite(v.cur, app.InviteParams{Uses: 1})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bo := openIn(t, a, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := bo.p.Join(ctx, inv, "Bo"); err != nil {
		t.Fatal(err)
	}
	if _, err := ana.p.Svc.Post(ctx, v.cur, v.curCh, "kiln day on Saturday", community.Hash{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Bo to have Ana's message", func() bool {
		ms, _ := bo.p.Svc.Messages(v.cur, v.curCh, community.Position{}, 10)
		return len(ms) == 1
	}, ana.q, bo.q)
	key := bo.p.ID.PublicKey()
	bo.close()
	if err := os.Remove(filepath.Join(dir, "db", "MANIFEST")); err != nil {
		t.Fatal(err)
	}
	opts := peer.Options{Logger: slog.New(slog.DiscardHandler), MinFreeBytes: -1,
		Listen: []string{"/ip4/127.0.0.1/tcp/0"}, NoMDNS: true, NoNAT: true, NoControl: true}
	_, cause := peer.Open(dir, opts)
	if !errors.Is(cause, storage.ErrDamaged) {
		t.Fatalf("opening the damaged store: %v", cause)
	}
	q := make(uiQueue, 1<<10)
	var back *kith
	r := NewRepair(a, cause, func(ctx context.Context, progress func(string)) (string, error) {
		res, err := peer.Resync(ctx, dir, opts, 30*time.Second, progress)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s: %d events back", res.Communities[0].Name, res.Communities[0].Events), res.Communities[0].Err
	}, func() error {
		back = openIn(t, a, dir)
		return nil
	}, q.do)
	if labelWith(r.win.Content(), "Kith can fetch the history again") == nil || labelWith(r.win.Content(), "MANIFEST") == nil {
		t.Fatal("the repair window does not say what is wrong and what the button does")
	}
	test.Tap(r.fetch)
	eventually(t, "the repair to end and Kith to start", func() bool { return back != nil }, q, ana.q)
	defer back.close()
	if !strings.Contains(r.status.Text, "Clay Studio Friends:") || !back.p.ID.PublicKey().Equal(key) {
		t.Fatalf("after the repair: %q; identity kept %v", r.status.Text, back.p.ID.PublicKey().Equal(key))
	}
	ms, err := back.p.Svc.Messages(v.cur, v.curCh, community.Position{}, 10)
	if err != nil || len(ms) != 1 || ms[0].Text != "kiln day on Saturday" {
		t.Fatalf("Bo's messages after the repair: %+v, %v", ms, err)
	}
}

// TestChannelsFromTheDesktop: the owner makes #design from the "+" beside Channels, renames it and
// archives it from the pencil beside its title; the member sees each change, gets no "+" and no
// pencil, and in #announcements reads who posts there and where to reply instead of a composer.
func TestChannelsFromTheDesktop(t *testing.T) {
	a := test.NewTempApp(t)
	ana, bo, _ := anaAndBo(t, a)
	v := ana.shell.view
	bv := bo.shell.view
	eventually(t, "Bo's window on the community", func() bool { return bv.cur == v.cur && len(bv.chans) == 2 }, bo.q)
	if !bv.newChan.Hidden || !bv.editChan.Hidden {
		t.Error("a member is offered to make or edit channels")
	}
	eventually(t, "the owner's + and pencil", func() bool { return !v.newChan.Hidden && !v.editChan.Hidden }, ana.q)

	// The owner makes #design; a second #design is refused with a sentence.
	test.Tap(v.newChan)
	top := ana.win.Canvas().Overlays().Top()
	test.Type(entryIn(t, top), "design")
	test.Tap(find(top, "Create"))
	eventually(t, "#design open in the owner's window", func() bool { return strings.HasSuffix(v.title.Text, "# design") }, ana.q)
	eventually(t, "#design in Bo's list", func() bool { return hasChannel(bv.chans, "design") }, ana.q, bo.q)
	test.Tap(v.newChan)
	top = ana.win.Canvas().Overlays().Top()
	test.Type(entryIn(t, top), "Design")
	test.Tap(find(top, "Create"))
	eventually(t, "a second #design refused", func() bool { return labelWith(top, "#design exists already") != nil }, ana.q)
	v.channelDialog.Hide()

	// Renamed, then archived: the composer gives way to a sentence.
	test.Tap(v.editChan)
	top = ana.win.Canvas().Overlays().Top()
	e := entryIn(t, top)
	e.SetText("")
	test.Type(e, "studio")
	test.Tap(find(top, "Rename"))
	eventually(t, "#studio in both windows", func() bool {
		return strings.HasSuffix(v.title.Text, "# studio") && hasChannel(bv.chans, "studio") && !hasChannel(bv.chans, "design")
	}, ana.q, bo.q)
	test.Tap(v.editChan)
	test.Tap(find(ana.win.Canvas().Overlays().Top(), "Archive"))
	eventually(t, "#studio archived, with a sentence instead of the composer", func() bool {
		ch, _ := v.channel()
		return ch.Archived && !v.writeRow.Visible() && strings.Contains(v.postNote.Text, "archived")
	}, ana.q)

	// Bo in #announcements: a sentence that says where to reply, not a greyed composer.
	for _, c := range bv.chans {
		if c.Type == community.ChannelAnnouncements {
			bo.shell.do(func() { bv.openChannel(c.ID) })
		}
	}
	eventually(t, "Bo's #announcements to say who posts there", func() bool {
		return !bv.writeRow.Visible() && bv.postNote.Text == "Only the owner and moderators post in #announcements; reply in #general."
	}, bo.q)
}

// hasChannel reports whether chans holds an open or archived channel called name.
func hasChannel(chans []app.Channel, name string) bool {
	for _, c := range chans {
		if c.Name == name {
			return true
		}
	}
	return false
}

// entryIn is the first entry in o.
func entryIn(t *testing.T, o fyne.CanvasObject) *widget.Entry {
	t.Helper()
	var found *widget.Entry
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if found != nil {
			return
		}
		switch w := o.(type) {
		case *widget.Entry:
			found = w
			return
		case *fyne.Container:
			for _, c := range w.Objects {
				walk(c)
			}
			return
		}
		if w, ok := o.(fyne.Widget); ok {
			r := test.WidgetRenderer(w)
			for _, c := range r.Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	if found == nil {
		t.Fatal("no entry")
	}
	return found
}

// TestInfoAndProfileFromTheDesktop: the info panel shows the about text, owner and count; the
// owner renames the community and sets a cap from it; the owner's own profile changes the name
// the members panel shows.
func TestInfoAndProfileFromTheDesktop(t *testing.T) {
	a := test.NewTempApp(t)
	ana := open(t, a)
	ana.create(t, "Ana", "Clay Studio Friends")
	v := ana.shell.view
	v.openInfo()
	eventually(t, "the info panel", func() bool { return v.infoDialog != nil }, ana.q)
	top := ana.win.Canvas().Overlays().Top()
	if labelWith(top, "Owner: Ana") == nil || labelWith(top, "1 member of at most 100") == nil {
		t.Fatal("the info panel does not say who owns the community and how many are in")
	}
	test.Tap(find(top, "Edit the community…"))
	top = ana.win.Canvas().Overlays().Top()
	e := entryIn(t, top)
	e.SetText("Clay Studio")
	test.Tap(find(top, "Save"))
	eventually(t, "the new name in the title", func() bool { return strings.HasPrefix(v.title.Text, "Clay Studio  ·") }, ana.q)

	v.infoDialog = nil
	v.openProfile()
	eventually(t, "the profile dialog", func() bool { return v.infoDialog != nil }, ana.q)
	top = ana.win.Canvas().Overlays().Top()
	e = entryIn(t, top)
	e.SetText("Ana Ortiz")
	test.Tap(find(top, "Save"))
	eventually(t, "the new name in the members panel", func() bool {
		return len(v.members) == 1 && v.members[0].Name == "Ana Ortiz"
	}, ana.q)
}

// TestClosingAndQuitting: Quit is in a File menu on Ctrl+Q; without a tray the desktop shows,
// closing the window quits; with one, it hides and says so once; either way the window's size
// and the members panel are remembered for the next start.
func TestClosingAndQuitting(t *testing.T) {
	a := test.NewTempApp(t)
	ana := open(t, a)
	ana.create(t, "Ana", "Clay Studio Friends")
	s := ana.shell
	quits := 0
	s.opts.Quit = func() { quits++ }
	var quit *fyne.MenuItem
	for _, m := range ana.win.MainMenu().Items {
		for _, it := range m.Items {
			if it.IsQuit {
				quit = it
				if m.Label != "File" {
					t.Errorf("Quit is in the %q menu, want File", m.Label)
				}
			}
		}
	}
	if sc, ok := quit.Shortcut.(*desktop.CustomShortcut); quit == nil || !ok || sc.KeyName != fyne.KeyQ || sc.Modifier != fyne.KeyModifierShortcutDefault {
		t.Fatalf("Quit: %+v, want Ctrl+Q", quit)
	}
	s.view.toggleMembers()
	ana.win.Resize(fyne.NewSize(900, 600))
	quit.Action()
	if quits != 1 {
		t.Fatalf("Quit quit %d times", quits)
	}
	saved, err := LoadSettings(s.opts.SettingsFile)
	if err != nil || saved.WindowWidth < 1 || !saved.MembersHidden {
		t.Fatalf("after Quit the settings hold %+v, %v", saved, err)
	}

	s.tray = false // GNOME without an extension: nothing would bring a hidden window back
	s.closeWindow()
	if quits != 2 {
		t.Fatal("closing the window without a tray did not quit")
	}
	s.tray, s.settings.KeepInTray = true, true
	s.closeWindow()
	s.closeWindow()
	if quits != 2 || !s.settings.TrayTold {
		t.Fatalf("closing with a tray: %d quits, told %v", quits, s.settings.TrayTold)
	}
	if saved, _ := LoadSettings(s.opts.SettingsFile); !saved.TrayTold {
		t.Error("that Kith went to the tray is not remembered: it would be said again")
	}
}

// TestSmallThingsThatRead: an invite made for 7 days says 7 days; secondary text reads in both
// themes (4.5:1 against the background or more).
func TestSmallThingsThatRead(t *testing.T) {
	for d, want := range map[time.Duration]string{
		7*24*time.Hour - time.Second: "7 days", 36 * time.Hour: "2 days", 24 * time.Hour: "24 hours",
		time.Hour - time.Second: "60 minutes", 30 * time.Second: "a minute or so",
	} {
		if got := until(d); got != want {
			t.Errorf("until(%v) = %q, want %q", d, got, want)
		}
	}
	for _, v := range []fyne.ThemeVariant{theme.VariantLight, theme.VariantDark} {
		th := kithTheme{Theme: theme.DefaultTheme(), variant: &v}
		if r := contrast(th.Color(theme.ColorNameDisabled, v), th.Color(theme.ColorNameBackground, v)); r < 4.5 {
			t.Errorf("secondary text in variant %d: contrast %.2f, want 4.5 or more", v, r)
		}
	}
}

// contrast is the WCAG contrast ratio of two colours.
func contrast(a, b color.Color) float64 {
	lum := func(c color.Color) float64 {
		r, g, bl, _ := c.RGBA()
		ch := func(v uint32) float64 {
			x := float64(v) / 0xffff
			if x <= 0.03928 {
				return x / 12.92
			}
			return math.Pow((x+0.055)/1.055, 2.4)
		}
		return 0.2126*ch(r) + 0.7152*ch(g) + 0.0722*ch(bl)
	}
	la, lb := lum(a), lum(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// menuItem is the item of menu with that label, or nil.
func menuItem(menu *fyne.Menu, label string) *fyne.MenuItem {
	for _, it := range menu.Items {
		if it.Label == label {
			return it
		}
	}
	return nil
}

// TestConversationFromTheDesktop: Bo replies to Ana's message from its menu (the reply shows
// Ana's words above his, and a tap on them goes to her message), reacts with 🔥, and Ana's window
// shows the count; Ana edits her message and pins it; Bo's window shows it edited and pinned,
// and the pins list has it. Bo's mention of Ana is marked as one.
func TestConversationFromTheDesktop(t *testing.T) {
	a := test.NewTempApp(t)
	ana, bo, _ := anaAndBo(t, a)
	v := ana.shell.view
	bv := bo.shell.view
	eventually(t, "Bo's window on the community", func() bool { return bv.cur == v.cur && bv.curCh == v.curCh }, bo.q)
	ana.send(t, "kiln day is saturday")
	var row msgRow
	eventually(t, "Ana's message in Bo's window", func() bool {
		for _, r := range bo.rows() {
			if r.m.Text == "kiln day is saturday" {
				row = r
				return true
			}
		}
		return false
	}, ana.q, bo.q)

	// Bo replies from the menu, mentioning Ana.
	menuItem(bv.msgs.messageMenu(row), "Reply").Action()
	if bv.replyBar.Hidden || !strings.Contains(bv.replyText.Text, "Replying to Ana") {
		t.Fatalf("the reply bar: hidden %v, %q", bv.replyBar.Hidden, bv.replyText.Text)
	}
	bo.win.Canvas().Focus(bv.composer)
	test.Type(bv.composer, "@A")
	if len(bv.mentionItems) != 1 || bv.mentionItems[0].Label != "@Ana" || bv.suggest.Hidden {
		t.Fatalf("typing @A offers %v", bv.mentionItems)
	}
	bv.mentionItems[0].Action()
	if bv.composer.Text != "@Ana " || !bv.suggest.Hidden {
		t.Fatalf("completing the mention wrote %q", bv.composer.Text)
	}
	bv.composer.SetText("")
	bo.send(t, "@Ana I'll bring the celadon tests")
	var reply msgRow
	eventually(t, "the reply in Ana's window, quoting her", func() bool {
		for _, r := range ana.rows() {
			if r.m.ReplyTo == row.m.ID && !r.pending {
				reply = r
				return strings.HasPrefix(r.quote, "↪ Ana: kiln day")
			}
		}
		return false
	}, ana.q, bo.q)
	if !reply.m.MentionsMe || !bv.replyBar.Hidden {
		t.Errorf("the reply: mentions Ana %v; Bo's reply bar still shown %v", reply.m.MentionsMe, !bv.replyBar.Hidden)
	}
	v.openMentions()
	eventually(t, "Ana's mentions", func() bool { return v.mentionsDialog != nil }, ana.q)
	if find(ana.win.Canvas().Overlays().Top(), "Bo in #general: @Ana I'll bring the celadon tests") == nil {
		t.Error("Ana's mentions do not list Bo's reply")
	}
	v.mentionsDialog.Hide()
	// From another channel, going to a mention opens its channel and its row once the page is read.
	for _, c := range v.chans {
		if c.Type == community.ChannelAnnouncements {
			v.openChannel(c.ID)
		}
	}
	v.goTo(reply.m)
	eventually(t, "Ana back in #general at Bo's reply", func() bool {
		return v.curCh == reply.m.Channel && v.msgs.index(reply.m.ID) >= 0 && v.msgs.jumpAfter.IsZero()
	}, ana.q)

	// Bo reacts; Ana sees the count.
	react := menuItem(bv.msgs.messageMenu(row), "React")
	react.ChildMenu.Items[4].Action() // 🔥
	eventually(t, "🔥 1 under Ana's message in her window", func() bool {
		i := v.msgs.index(row.m.ID)
		return i >= 0 && footOf(v.msgs.rows[i].m) == "🔥 1"
	}, ana.q, bo.q)
	eventually(t, "🔥 first among Bo's recent reactions", func() bool {
		return len(bo.shell.settings.RecentEmoji) == 1 && bv.emojiChoices()[0] == "🔥"
	}, bo.q)

	// Ana edits and pins hers; Bo sees both, and the pins list has it.
	i := v.msgs.index(row.m.ID)
	mine := v.msgs.rows[i]
	menuItem(v.msgs.messageMenu(mine), "Edit…").Action()
	top := ana.win.Canvas().Overlays().Top()
	e := entryIn(t, top)
	e.SetText("kiln day is Saturday, 9:00")
	test.Tap(find(top, "Save"))
	menuItem(v.msgs.messageMenu(mine), "Pin to the channel").Action()
	eventually(t, "the edit and the pin in Bo's window", func() bool {
		j := bv.msgs.index(row.m.ID)
		return j >= 0 && bv.msgs.rows[j].m.Text == "kiln day is Saturday, 9:00" && footOf(bv.msgs.rows[j].m) == "🔥 1   ·   edited · pinned"
	}, ana.q, bo.q)
	if menuItem(bv.msgs.messageMenu(row), "Edit…") != nil || menuItem(bv.msgs.messageMenu(row), "Pin to the channel") != nil {
		t.Error("Bo is offered to edit Ana's message, or to pin")
	}
	bv.openPins()
	eventually(t, "the pins list", func() bool { return bv.pinsDialog != nil }, bo.q)
	if find(bo.win.Canvas().Overlays().Top(), "Ana: kiln day is Saturday, 9:00") == nil {
		t.Error("the pins list does not show Ana's message")
	}
}

// TestNarrowWindow: at 640×480 the members panel gives way and "n of m online" goes, so nothing
// overlaps; widened again, both come back — unless the person hid the panel, which stays hidden.
func TestNarrowWindow(t *testing.T) {
	a := test.NewTempApp(t)
	ana := open(t, a)
	ana.create(t, "Ana", "Clay Studio Friends")
	v := ana.shell.view
	ana.win.Resize(fyne.NewSize(640, 480))
	if v.body.Trailing.Visible() || v.online.Visible() {
		t.Fatalf("at 640 px: members panel shown %v, online shown %v", v.body.Trailing.Visible(), v.online.Visible())
	}
	if min := v.content.MinSize(); min.Width > 640 || min.Height > 480 {
		t.Fatalf("the window cannot be 640×480: it needs %v", min)
	}
	ana.win.Resize(fyne.NewSize(1180, 760))
	if !v.body.Trailing.Visible() || !v.online.Visible() {
		t.Fatal("widened again, the members panel or the online count stayed hidden")
	}
	v.toggleMembers()
	ana.win.Resize(fyne.NewSize(640, 480))
	ana.win.Resize(fyne.NewSize(1180, 760))
	if v.body.Trailing.Visible() {
		t.Fatal("the panel the person hid came back when the window widened")
	}
}

// TestNewMessagesWhileReadingUp: while Ana reads further up, Bo's new message does not pull her
// down: a "New messages" line marks it and a button counts it; the button takes her to the
// latest. The composer grows with what is typed.
func TestNewMessagesWhileReadingUp(t *testing.T) {
	a := test.NewTempApp(t)
	ana, bo, ctx := anaAndBo(t, a)
	v := ana.shell.view
	for i := range 40 {
		if _, err := ana.p.Svc.Post(ctx, v.cur, v.curCh, fmt.Sprintf("earlier %d", i), community.Hash{}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "Ana's 40 messages shown", func() bool { return len(ana.rows()) == 40 }, ana.q)
	v.msgs.list.ScrollToTop()
	if v.msgs.atBottom() {
		t.Fatal("test setup: the list does not scroll")
	}
	m, err := bo.p.Svc.Post(ctx, v.cur, v.curCh, "something new", community.Hash{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the jump button", func() bool { return v.msgs.jump.Visible() && v.msgs.jump.Text == "1 new message" }, ana.q, bo.q)
	i := v.msgs.index(m.ID)
	if i < 0 || !strings.HasSuffix(v.msgs.rows[i].day, "New messages") {
		t.Fatalf("no New messages line above Bo's message: %+v", v.msgs.rows[max(i, 0)])
	}
	test.Tap(v.msgs.jump)
	if v.msgs.jump.Visible() || !v.msgs.atBottom() {
		t.Fatal("the jump button did not take Ana to the latest")
	}

	c := v.composer
	c.SetText("one\ntwo\nthree\nfour")
	if v.composerRows != 4 {
		t.Fatalf("four lines typed, the composer shows %d", v.composerRows)
	}
	c.SetText(strings.Repeat("line\n", 20))
	if v.composerRows != 8 {
		t.Fatalf("twenty lines typed, the composer shows %d (want 8, then it scrolls)", v.composerRows)
	}
}

// anaAndBo opens two installs: Ana creates "Clay Studio Friends" through the welcome screen and
// Bo joins it with an invite of hers; ctx ends with the test (a minute at most).
func anaAndBo(t *testing.T, a fyne.App) (ana, bo *kith, ctx context.Context) {
	t.Helper()
	ana, bo = open(t, a), open(t, a)
	ana.create(t, "Ana", "Clay Studio Friends")
	inv, _, err := ana.p.Invite(ana.shell.view.cur, app.InviteParams{Uses: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	if _, err := bo.p.Join(ctx, inv, "Bo"); err != nil {
		t.Fatal(err)
	}
	return ana, bo, ctx
}

// bosWindow waits until Bo's window shows the community, both members, and Ana's channel.
func bosWindow(t *testing.T, ana, bo *kith) {
	t.Helper()
	av, bv := ana.shell.view, bo.shell.view
	eventually(t, "Bo's community window", func() bool {
		return bo.win.Content() == bv.content && len(bv.members) == 2 && bv.curCh == av.curCh
	}, bo.q, ana.q)
}

// TestProvenanceAndFilters: a member's entry says who admitted it, with which invite and when;
// the members panel lists all, the owner and moderators, or those one member invited.
func TestProvenanceAndFilters(t *testing.T) {
	a := test.NewTempApp(t)
	ana, _, _ := anaAndBo(t, a)
	v := ana.shell.view
	eventually(t, "Bo in Ana's panel", func() bool { return len(v.members) == 2 }, ana.q)
	if !slices.Contains(v.memFilter.Options, "Invited by Ana") {
		t.Fatalf("filters offered: %v", v.memFilter.Options)
	}
	v.memFilter.SetSelected(filterStaff)
	if len(v.listed) != 1 || !v.members[v.listed[0]].You {
		t.Fatalf("owner and moderators: %v", v.listed)
	}
	v.memFilter.SetSelected("Invited by Ana")
	if len(v.listed) != 1 || v.members[v.listed[0]].Name != "Bo" {
		t.Fatalf("invited by Ana: %v", v.listed)
	}
	bo := v.members[v.listed[0]].MemberView
	if p := provenance(bo); !strings.HasPrefix(p, "Admitted by Ana on ") || !strings.Contains(p, "with invite ") {
		t.Fatalf("Bo's provenance: %q", p)
	}
	v.memFilter.SetSelected(filterAll)
	if len(v.listed) != 2 {
		t.Fatalf("all members: %v", v.listed)
	}
}
