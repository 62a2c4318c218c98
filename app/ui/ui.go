// Package ui is Kith's desktop interface: Fyne views over app.Service, one file per screen.
// Views never touch the disk or the network in a tap handler: they call the service from a
// goroutine and bring results back to widgets through one bridge (Shell.do: fyne.Do).
//
// It imports app and Fyne only, never p2p or storage: what it needs of the running network is
// the Network port, which app/peer provides.
package ui

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/invite"
)

// Network is what the views need of the running peer (a port: app/peer.Peer provides it,
// wired in cmd/kith). Its methods may wait on the network: views call them from goroutines.
type Network interface {
	// Join joins the community of inv and syncs its history: it starts a join that is kept
	// and tried again until it ends (admitted, refused, expired, cancelled) and waits for it
	// until ctx ends; the join goes on after that while Kith runs, and after a restart.
	// Progress comes as app.JoinProgress and app.SyncProgress events, the end as app.JoinEnded.
	// With an invite that needs approval, answers answer its questions, and Join returns
	// app.ErrAwaitingApproval once a member took the request (the join goes on).
	Join(ctx context.Context, inv *invite.Invite, name string, answers ...string) (community.Hash, error)
	// PendingJoins lists the joins under way (resumed after a restart among them).
	PendingJoins() []app.PendingJoin
	// Declines lists the requests to join that were declined, the latest first.
	Declines() []app.Declined
	// CancelJoin ends the join under way for a community; false when there is none.
	CancelJoin(id community.Hash) bool
	// SetDHT changes how members who moved are found, at once: through the public libp2p
	// network (public) and these bootstrap nodes.
	SetDHT(public bool, bootstrap []string) error
	// Invite issues an invite carrying this install's addresses; warning, when not empty,
	// says why joiners may not reach this install with it.
	Invite(id community.Hash, p app.InviteParams) (inv *invite.Invite, warning string, err error)
	// Online says whether the member with this key is connected now, and how: "direct",
	// "LAN" or "relayed".
	Online(key []byte) (online bool, path string)
	// PathTo is Online for a peer ID.
	PathTo(peerID string) (connected bool, path string)
	// Running reports whether the network is started.
	Running() bool
	// FetchFile fetches what this device lacks of a message's file from the members online.
	FetchFile(ctx context.Context, id, message, blob community.Hash) error
}

// Options configure a Shell.
type Options struct {
	// SettingsFile is where the settings are kept (cmd/kith: settings.json in the data folder).
	SettingsFile string
	// Settings are the settings already read from SettingsFile (nil: the Shell reads them).
	Settings *Settings
	// DataDir is shown in the settings.
	DataDir string
	// Do runs a widget update on the Fyne thread; nil: fyne.Do. Tests pass a queue.
	Do func(func())
	// TrayWorks reports whether the desktop shows tray icons (nil: ask the desktop; see
	// trayWorks). Without one, closing the window quits: nothing would bring it back.
	TrayWorks func() bool
	// Quit ends the app (nil: the app's Quit). Tests pass one that records the call.
	Quit func()
	// Backup seals this install's backup with a passphrase (cmd/kith: app/peer's Backup); nil:
	// no File > Back up….
	Backup func(passphrase string) ([]byte, error)
	// Restore puts a backup file in this install's place and starts Kith again (cmd/kith:
	// app/peer's ReadBackup and Restore, then a new start); it returns only with an error (a
	// wrong passphrase, a refusal). Nil: no "Restore a backup…".
	Restore func(file []byte, passphrase string) error
}

// Shell is the app's one window: the welcome screen until the person belongs to a community,
// then the community view. It owns the bridge from the service's events to the widgets.
type Shell struct {
	svc  Service
	net  Network
	app  fyne.App
	win  fyne.Window
	do   func(func())
	opts Options

	ctx    context.Context
	cancel context.CancelFunc

	// Read and written on the Fyne thread only.
	settings Settings
	focused  bool
	welcome  *Welcome
	view     *CommunityView
	tray     bool
	dialogs  []openDialog  // open, newest last: Escape closes the newest
	backup   *BackupDialog // the last backup dialog opened (tests read it)
	// restoring is the last restore dialog opened (tests read it).
	restoring *RestoreDialog
	// backupNow is the recovery words' button that opens the backup dialog (tests tap it).
	backupNow *widget.Button
	notified  time.Time               // the last notification
	ended     map[community.Hash]bool // joins that ended in this run (a stale list of pending ones is not shown)
	// requestCounts are the requests to join waiting per community this install owns or
	// moderates, as last counted (a notification when there are more).
	requestCounts map[community.Hash]int
	// staffItems and ownerItems are the Community menu's items for the owner and moderators, and
	// for the owner: disabled for the others (setRoleMenus).
	staffItems, ownerItems []*fyne.MenuItem
	menuRole               community.Role
	// listed: the first listing of communities is shown; until then an invite to open waits in
	// openInvite, and hasCommunities is unknown.
	listed         bool
	openInvite     string
	hasCommunities bool
}

// NewShell builds the window's content and starts loading what it shows. Call Close when the
// app stops.
func NewShell(a fyne.App, win fyne.Window, svc Service, net Network, opts Options) *Shell {
	do := opts.Do
	if do == nil {
		do = fyne.Do
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Shell{svc: svc, net: net, app: a, win: win, do: do, opts: opts, ctx: ctx, cancel: cancel, focused: true}
	if opts.Settings != nil {
		s.settings = *opts.Settings
	} else {
		s.settings, _ = LoadSettings(opts.SettingsFile) // a damaged file: the defaults, saved over it on the next change
	}
	applyTheme(a, s.settings.Theme)
	a.Lifecycle().SetOnEnteredForeground(func() { s.focused = true })
	a.Lifecycle().SetOnExitedForeground(func() { s.focused = false })
	s.view = newCommunityView(s)
	if s.settings.MembersHidden {
		s.view.toggleMembers() // as the window was last closed
	}
	s.welcome = newWelcome(s)
	win.SetContent(container.NewStack(widget.NewLabel("")))
	s.installMenu()
	win.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) { // when no widget has the focus
		if k.Name == fyne.KeyEscape {
			s.closeTop()
		}
	})
	events := svc.Subscribe(ctx)
	go s.bridge(events)
	go func() {
		items, err := svc.Communities()
		var pending []app.PendingJoin
		if net != nil {
			pending = net.PendingJoins()
		}
		s.do(func() {
			s.listed, s.hasCommunities = true, len(items) > 0
			for _, j := range pending { // a join that waited when Kith last stopped: it goes on
				if !s.ended[j.Community] {
					s.welcome.resume(j, len(pending)-1, net.Running())
					break
				}
			}
			if err != nil || len(items) == 0 {
				s.showWelcome(false)
				if err != nil {
					s.welcome.createStatus.SetText(sentence(err))
				}
			} else {
				s.showCommunities(items[0].ID)
			}
			if s.openInvite != "" { // a link Kith was started with
				s.OpenInvite(s.openInvite)
			}
		})
	}()
	return s
}

// communityArrived shows the communities when the first one arrives while the first welcome
// screen shows with no join under way: one a restored backup named, synced from its members
// once Kith runs (a join shows its own community when it ends).
func (s *Shell) communityArrived() {
	if !s.listed || s.hasCommunities || s.welcome.joining || s.win.Content() != s.welcome.content {
		return
	}
	go func() {
		items, err := s.svc.Communities()
		if err != nil || len(items) == 0 {
			return
		}
		s.do(func() {
			if !s.hasCommunities && !s.welcome.joining && s.win.Content() == s.welcome.content {
				s.showCommunities(items[0].ID)
			}
		})
	}()
}

// bridge is the one path from the service's events to the widgets: each event is handled on
// the Fyne thread, in order.
func (s *Shell) bridge(events <-chan app.Event) {
	for ev := range events {
		s.do(func() {
			if s.ctx.Err() == nil { // at shutdown fyne.Do may run this here, off the Fyne thread
				s.handle(ev)
			}
		})
	}
}

func (s *Shell) handle(ev app.Event) {
	switch e := ev.(type) {
	case app.JoinProgress, app.SyncProgress:
		s.welcome.progress(e)
	case app.JoinEnded:
		s.joinEnded(e)
	case app.FeedbackStatusChanged:
		s.feedbackChanged(e)
	case app.CommunityChanged:
		s.communityArrived()
	}
	s.view.handle(ev)
	if e, ok := ev.(app.MessageAdded); ok && !e.Message.Mine {
		s.notify(e)
	}
}

// notify shows a desktop notification of a new message while the window is not in front, and of
// one that mentions this member whenever it comes.
func (s *Shell) notify(e app.MessageAdded) {
	// Not for history arriving in a catch-up, and not more than one every few seconds.
	// A mention notifies even while the window is in front (it may be another channel).
	now := time.Now()
	if (s.focused && !e.Message.MentionsMe) || !s.settings.Notifications || now.Sub(e.Message.Time) > 5*time.Minute || now.Sub(s.notified) < 5*time.Second {
		return
	}
	s.notified = now
	title := nameOr(e.Message.Name)
	if e.Message.MentionsMe {
		title += " mentioned you"
	}
	if c := s.view.summary(e.Community); c != nil {
		title += " in " + c.Name
	}
	s.app.SendNotification(fyne.NewNotification(title, clip(e.Message.Text, 200)))
}

// joinEnded follows a join that ended: admitted, it says so (a notification when Kith is in
// the background: the join may have waited for hours) and opens the community when the welcome
// screen shows that join or no community is shown yet; refused or expired, the welcome screen
// says why.
func (s *Shell) joinEnded(e app.JoinEnded) {
	if s.ended == nil {
		s.ended = map[community.Hash]bool{}
	}
	s.ended[e.Community] = true
	onWelcome := s.win.Content() == s.welcome.content
	s.welcome.ended(e)
	switch {
	case e.Err == nil:
		if !s.focused {
			s.app.SendNotification(fyne.NewNotification("You are in "+strconv.Quote(e.Name), "A member admitted you: say hello."))
		}
		if onWelcome { // not while the person is in another community: the sidebar shows it
			s.showCommunities(e.Community)
		} else {
			s.view.reload(community.Hash{})
		}
		s.showArrival(e.Community, e.Name)
	case errors.Is(e.Err, app.ErrJoinCancelled):
	case !s.focused:
		s.app.SendNotification(fyne.NewNotification("Could not join "+strconv.Quote(e.Name), sentence(e.Err)))
	}
}

// setRoleMenus enables the Community menu's items that this install's role in the community
// shown allows, and disables the others.
func (s *Shell) setRoleMenus(role community.Role) {
	if role == s.menuRole || s.win.MainMenu() == nil {
		return
	}
	s.menuRole = role
	for _, it := range s.staffItems {
		it.Disabled = role < community.RoleModerator
	}
	for _, it := range s.ownerItems {
		it.Disabled = role != community.RoleOwner
	}
	s.win.MainMenu().Refresh()
}

// showWelcome shows the welcome screen; back offers a way back to the communities.
// OpenInvite shows the join screen with text filled in (an invite, or a kith://join/ link):
// what clicking a link opens, in this window or, through the control socket, from a second
// start. An invite to a community this install is in opens that community instead. A join
// under way is left as it is, and shown. Fyne thread.
func (s *Shell) OpenInvite(text string) {
	if !s.listed {
		s.openInvite = text
		return
	}
	s.openInvite = ""
	inv, err := invite.Parse(text)
	if err != nil { // the join screen says what is wrong with it
		s.showJoin(text)
		return
	}
	id := community.Hash(inv.Community)
	go func() { // the communities are on the disk: not read on the Fyne thread
		in := false
		if cs, err := s.svc.Communities(); err == nil {
			for _, c := range cs {
				in = in || (c.ID == id && c.Role != community.RoleNone) // one who left may join again
			}
		}
		s.do(func() {
			if in {
				s.showCommunities(id)
			} else {
				s.showJoin(text)
			}
		})
	}()
}

// showJoin shows the join screen with text in its invite entry, unless a join is under way.
func (s *Shell) showJoin(text string) {
	s.showWelcome(s.hasCommunities)
	if s.welcome.joining {
		return
	}
	s.welcome.paste.SetText(strings.TrimSpace(text))
	s.win.Canvas().Focus(s.welcome.paste)
}

func (s *Shell) showWelcome(back bool) {
	s.welcome.back.Hidden = !back
	s.welcome.restore.Hidden = back || s.hasCommunities || s.opts.Restore == nil // (never over a community)
	s.welcome.focus()
	s.win.SetContent(s.welcome.content)
	s.win.Canvas().Focus(s.welcome.firstEntry())
}

// showCommunities shows the community view with community id selected.
func (s *Shell) showCommunities(id community.Hash) {
	s.hasCommunities = true
	s.win.SetContent(s.view.content)
	s.view.reload(id)
}

// installMenu adds the main menu (its shortcuts work wherever the focus is), the window's
// shortcuts and, on desktops that have one, the tray menu.
func (s *Shell) installMenu() {
	invite := fyne.NewMenuItem("Invite people…", func() { s.view.openInvite() })
	invite.Shortcut = &desktop.CustomShortcut{KeyName: fyne.KeyI, Modifier: fyne.KeyModifierShortcutDefault}
	jump := fyne.NewMenuItem("Switch channel…", func() { s.view.openSwitcher() })
	jump.Shortcut = &desktop.CustomShortcut{KeyName: fyne.KeyK, Modifier: fyne.KeyModifierShortcutDefault}
	members := fyne.NewMenuItem("Show or hide members", func() { s.view.toggleMembers() })
	find := fyne.NewMenuItem("Search…", func() { s.view.openSearch() })
	find.Shortcut = &desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault}
	members.Shortcut = &desktop.CustomShortcut{KeyName: fyne.KeyM, Modifier: fyne.KeyModifierShortcutDefault}
	settings := fyne.NewMenuItem("Settings…", func() { s.openSettings() })
	settings.Shortcut = &desktop.CustomShortcut{KeyName: fyne.KeyComma, Modifier: fyne.KeyModifierShortcutDefault}
	quit := fyne.NewMenuItem("Quit", s.Quit)
	quit.IsQuit = true
	quit.Shortcut = &desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierShortcutDefault}
	another := fyne.NewMenuItem("Create or join a community…", func() { s.showWelcome(true) })
	checkCard := fyne.NewMenuItem("Check a badge card…", s.openCheckCard)
	backup := fyne.NewMenuItem("Back up…", s.openBackup)
	backup.Disabled = s.opts.Backup == nil
	about := fyne.NewMenuItem("About this community…", func() { s.view.openInfo() })
	recover := fyne.NewMenuItem("Recover ownership…", func() { s.view.openRecover() })
	requests := fyne.NewMenuItem("Requests to join…", func() { s.view.openRequests() })
	entry := fyne.NewMenuItem("Entry and welcome…", func() { s.view.openEntry() })
	poll := fyne.NewMenuItem("New poll…", func() { s.view.openNewPoll() })
	ask := fyne.NewMenuItem("Ask for feedback…", func() { s.view.openAsk() })
	offer := fyne.NewMenuItem("New offer…", func() { s.view.openNewOffer() })
	board := fyne.NewMenuItem("Recognition…", func() { s.view.openBoard() })
	quotes := fyne.NewMenuItem("Testimonials…", func() { s.view.openTestimonials() })
	promos := fyne.NewMenuItem("Promotions…", func() { s.view.openPromotions() })
	insights := fyne.NewMenuItem("Insights…", func() { s.view.openInsights() })
	files := fyne.NewMenuItem("Files…", func() { s.view.openFiles() })
	s.staffItems = []*fyne.MenuItem{poll, ask, offer, quotes, requests, insights}
	s.ownerItems = []*fyne.MenuItem{entry}
	s.menuRole = community.RoleOwner + 1 // none yet: the first setRoleMenus applies
	s.win.SetMainMenu(fyne.NewMainMenu(
		fyne.NewMenu("File", another, checkCard, fyne.NewMenuItemSeparator(), backup, settings, fyne.NewMenuItemSeparator(), quit),
		fyne.NewMenu("View", jump, find, members),
		fyne.NewMenu("Community", about, invite, poll, ask, offer, promos, board, quotes, insights, files, requests, entry, fyne.NewMenuItemSeparator(), recover),
	))
	for _, it := range []*fyne.MenuItem{invite, jump, find, members, settings, quit} {
		s.win.Canvas().AddShortcut(it.Shortcut, func(fyne.Shortcut) { it.Action() })
	}
	works := s.opts.TrayWorks
	if works == nil {
		works = trayWorks
	}
	if d, ok := s.app.(desktop.App); ok && works() {
		show := fyne.NewMenuItem("Show Kith", func() { s.win.Show(); s.win.RequestFocus() })
		d.SetSystemTrayMenu(fyne.NewMenu("Kith", show)) // Fyne adds Quit
		s.tray = true
	}
	s.win.SetCloseIntercept(s.closeWindow)
	// Files dropped on the window go with what the composer holds, where one can post.
	s.win.SetOnDropped(func(_ fyne.Position, uris []fyne.URI) {
		v := s.view
		if v == nil || v.cur.IsZero() || v.curCh.IsZero() || v.composer.Disabled() || len(uris) == 0 {
			return
		}
		v.sendFiles(v.cur, v.curCh, uris)
	})
}

// closeWindow is what closing the window does: with a tray and "keep in tray" on, the window
// hides and Kith goes on (the laptop stays part of the network), which it says once; without a
// tray shown by the desktop (GNOME without an extension), Kith quits: nothing could bring the
// window back.
func (s *Shell) closeWindow() {
	s.rememberWindow()
	if !s.tray || !s.settings.KeepInTray {
		s.Quit()
		return
	}
	s.win.Hide()
	if !s.settings.TrayTold {
		s.settings.TrayTold = true
		s.saveQuietly()
		s.app.SendNotification(fyne.NewNotification("Kith keeps running",
			"Members can still reach you. Kith's icon by the clock brings the window back; Quit is in its menu."))
	}
}

// Quit remembers the window and ends the app (cmd/kith then stops the network, then the store).
func (s *Shell) Quit() {
	s.rememberWindow()
	if s.opts.Quit != nil {
		s.opts.Quit()
		return
	}
	s.app.Quit()
}

// rememberWindow keeps the window's size and the members panel's state for the next start.
func (s *Shell) rememberWindow() {
	size := s.win.Canvas().Size()
	if size.Width < 1 || size.Height < 1 {
		return
	}
	s.settings.WindowWidth, s.settings.WindowHeight = size.Width, size.Height
	if s.view != nil {
		s.settings.MembersHidden = s.view.hidden
	}
	s.saveQuietly()
}

// saveQuietly writes the settings; a failure is logged, not shown (nothing the person chose is
// lost by it but a window size).
func (s *Shell) saveQuietly() {
	if s.opts.SettingsFile == "" {
		return
	}
	if err := s.settings.Save(s.opts.SettingsFile); err != nil {
		slog.Warn("saving the window's size", "err", err)
	}
}

// Tell shows a message in the window (safe from any goroutine).
func (s *Shell) Tell(title, text string) {
	s.do(func() { s.show(dialog.NewInformation(title, text, s.win)) })
}

// NetworkFailed tells the person that the network did not start, and why (safe from any
// goroutine).
func (s *Shell) NetworkFailed(err error) {
	s.do(func() {
		s.show(dialog.NewInformation("Kith is offline",
			"Kith could not go online: "+sentence(err)+"\n\nIt keeps working offline: what you write is sent once it is online again. If a listen port is set in Settings, choose another or none, then start Kith again.", s.win))
		s.view.refreshPresence()
	})
}

// openDialog is a dialog on screen.
type openDialog struct {
	d      dialog.Dialog
	sticky bool // Escape does not close it (the recovery words: shown once)
}

// show shows a dialog that Escape closes.
func (s *Shell) show(d dialog.Dialog) { s.open(d, false) }

// showSticky shows a dialog that only its own button closes.
func (s *Shell) showSticky(d dialog.Dialog) { s.open(d, true) }

func (s *Shell) open(d dialog.Dialog, sticky bool) {
	s.dialogs = append(s.dialogs, openDialog{d, sticky})
	d.SetOnClosed(func() {
		for i, o := range s.dialogs {
			if o.d == d {
				s.dialogs = append(s.dialogs[:i], s.dialogs[i+1:]...)
				break
			}
		}
	})
	d.Show()
}

// closeTop closes the newest dialog, unless it is sticky (Escape).
func (s *Shell) closeTop() {
	if n := len(s.dialogs); n > 0 && !s.dialogs[n-1].sticky {
		s.dialogs[n-1].d.Hide()
	}
}

// escEntry is an entry in a dialog: Escape closes the dialog (the focused widget gets the keys,
// so the window's handler would not see it).
type escEntry struct {
	widget.Entry
	esc func()
}

func newEscEntry(esc func()) *escEntry {
	e := &escEntry{esc: esc}
	e.ExtendBaseWidget(e)
	return e
}

func (e *escEntry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape {
		e.esc()
		return
	}
	e.Entry.TypedKey(k)
}

// escButton is escEntry's button.
type escButton struct {
	widget.Button
	esc func()
}

func newEscButton(label string, icon fyne.Resource, tapped, esc func()) *escButton {
	b := &escButton{esc: esc}
	b.Text, b.Icon, b.OnTapped = label, icon, tapped
	b.ExtendBaseWidget(b)
	return b
}

func (b *escButton) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape {
		b.esc()
		return
	}
	b.Button.TypedKey(k)
}

// Close stops the bridge. The service and the network are closed by their owner.
func (s *Shell) Close() { s.cancel() }

// Sentence turns an error into what a person reads: the package prefixes go, the first
// letter is upper case.
func Sentence(err error) string { return sentence(err) }

func sentence(err error) string {
	if err == nil {
		return ""
	}
	if errors.Is(err, context.Canceled) {
		return "Cancelled."
	}
	msg := app.Sentence(err)
	r, n := utf8.DecodeRuneInString(msg)
	msg = string(unicode.ToUpper(r)) + msg[n:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

func nameOr(name string) string {
	if strings.TrimSpace(name) == "" {
		return "(no name)"
	}
	return name
}

// clip shortens s to at most n runes, with an ellipsis.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
