// Command kith is the Kith desktop app: it opens the data folder (identity, store, service),
// shows the window and starts the network in the background (app/peer). Wiring only: the
// screens live in app/ui.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/invite"
	"github.com/kith-app/kith/app/peer"
	"github.com/kith-app/kith/app/ui"
	"github.com/kith-app/kith/storage"
)

func main() {
	data := flag.String("data", peer.DefaultDir(), "the data folder: this install's key and store (use another to run a second Kith)")
	noMDNS := flag.Bool("no-mdns", false, "do not look for members on the local network (tests, labs)")
	noNAT := flag.Bool("no-nat", false, "do not ask the router to forward a port or punch through NATs (tests, labs)")
	showVersion := flag.Bool("version", false, "print which Kith this is, and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("kith", app.ThisBuild())
		return
	}
	// An invite to open, as a clicked kith://join/ link starts Kith (the desktop file's %u).
	link := ""
	switch args := flag.Args(); {
	case len(args) == 1 && len(args[0]) <= invite.MaxTextLen:
		link = args[0]
	case len(args) == 1:
		link = args[0][:invite.MaxTextLen] // longer than any invite: the join screen says it is not one
	case len(args) > 1:
		fmt.Fprintln(os.Stderr, "kith: takes one argument at most: an invite, or a kith://join/ link")
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	a := fyneapp.NewWithID("app.kith.desktop")
	// SIGINT or SIGTERM (a logout, a service manager) quits like the tray's Quit: the network
	// and the store close in order.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		fyne.Do(a.Quit)
	}()
	stop, err := start(a, *data, log, peerFlags{noMDNS: *noMDNS, noNAT: *noNAT, link: link})
	if errors.Is(err, storage.ErrAlreadyRunning) && showRunning(*data, link) {
		log.Info("Kith is already running with this data folder: its window is in front now")
		return
	}
	if errors.Is(err, storage.ErrDamaged) {
		// The damaged store is said in a window that can rebuild it from other members.
		log.Error("the local store is damaged", "err", err)
		stop = repair(a, *data, log, peerFlags{noMDNS: *noMDNS, noNAT: *noNAT, link: link}, err)
	} else if err != nil {
		log.Error("cannot start", "err", err)
		showError(a, err)
		os.Exit(1)
	}
	a.Run()
	if err := stop(); err != nil {
		log.Error("shutting down", "err", err)
		os.Exit(1)
	}
}

// peerFlags are the command line's network switches, and the invite it gave to open.
type peerFlags struct {
	noMDNS, noNAT bool
	link          string
}

// start opens the data folder and shows the main window; the network starts in the background
// (the window never waits for it). The returned stop closes everything in reverse order.
func start(a fyne.App, dir string, log *slog.Logger, flags peerFlags) (stop func() error, err error) {
	settingsFile := filepath.Join(dir, peer.SettingsFile)
	settings, err := ui.LoadSettings(settingsFile)
	if err != nil {
		log.Warn("settings", "err", err)
	}
	var w fyne.Window // made once the folder is ours; show runs after Start, on the Fyne thread
	var shell *ui.Shell
	show := func(invite string) { // a second start of Kith on this folder, perhaps with a link
		fyne.Do(func() {
			if w != nil {
				w.Show()
				w.RequestFocus()
			}
			if shell != nil && invite != "" {
				shell.OpenInvite(invite)
			}
		})
	}
	p, err := peer.Open(dir, peer.Options{
		Logger: log, Listen: settings.Listen(), Relay: settings.Relay, OnShow: show,
		NoMDNS: flags.noMDNS, NoNAT: flags.noNAT,
		Bootstrap: settings.Bootstrap, PublicDHT: settings.PublicDHT != nil && *settings.PublicDHT,
	})
	if err != nil {
		return nil, err
	}
	w = a.NewWindow("Kith")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	started := make(chan struct{})
	stop = func() error {
		shell.Close()
		cancel()
		<-started
		return p.Close()
	}
	var stopped atomic.Bool // by a restore that could not start Kith again
	restore := func(file []byte, pass string) error {
		if stopped.Load() {
			return errors.New("Kith stopped for the restore but could not start again: quit it, then start it again")
		}
		return restoreHere(p, dir, log, flags, file, pass, func() error { stopped.Store(true); return stop() })
	}
	shell = ui.NewShell(a, w, p.Svc, p, ui.Options{SettingsFile: settingsFile, Settings: &settings, DataDir: dir,
		Backup:  func(pass string) ([]byte, error) { f, _, err := p.Backup(pass); return f, err },
		Restore: restore})
	if flags.link != "" {
		shell.OpenInvite(flags.link)
	}
	if msg := os.Getenv(restoreFailedEnv); msg != "" { // said by the start before this one
		os.Unsetenv(restoreFailedEnv)
		shell.Tell("The restore did not finish", msg+"\n\nKith started with what its data folder holds. Try the restore again, or run kithd restore.")
	}
	w.Resize(settings.WindowSize()) // as it was last closed
	w.SetMaster()
	w.Show()
	go func() {
		defer close(started)
		defer cancel()
		if err := p.Start(ctx); err != nil && !errors.Is(err, app.ErrClosed) {
			log.Error("the network did not start: Kith works offline until the next start", "err", err)
			shell.NetworkFailed(err)
		}
	}()
	return stop, nil
}

// restoreHere is the welcome screen's restore: the backup is opened (a wrong passphrase
// returns, and nothing changed), this install stops (stop: the network, then the store), the
// backup takes its place (what it held moves aside: it is in no community), and Kith starts
// again. The communities come back from their members once it runs (offline restore: the
// window is not held while members are looked for).
func restoreHere(p *peer.Peer, dir string, log *slog.Logger, flags peerFlags, file []byte, pass string, stop func() error) error {
	b, err := peer.ReadBackup(file, pass)
	if err != nil {
		return err
	}
	if cs, err := p.Svc.Communities(); err != nil || len(cs) > 0 {
		return errors.New("this install belongs to a community: restore into another data folder (kith --data DIR), or with kithd restore --replace")
	}
	if len(p.PendingJoins()) > 0 {
		return errors.New("a join is under way here: cancel it first (the restore would set it aside)")
	}
	if err := stop(); err != nil {
		log.Error("stopping for the restore", "err", err)
	}
	res, err := peer.Restore(context.Background(), dir, b, peer.Options{Logger: log, NoMDNS: flags.noMDNS, NoNAT: flags.noNAT},
		peer.RestoreOptions{Replace: true, Offline: true})
	if err != nil {
		log.Error("the restore did not finish: Kith starts again with what the folder holds", "err", err)
		os.Setenv(restoreFailedEnv, ui.Sentence(err))
	} else {
		log.Info("restored a backup: Kith starts again", "peer", b.Holds().PeerID, "moved_aside", res.MovedAside)
	}
	// The same flags, but not an invite link Kith was started with: it was for the install
	// that just went aside.
	args := os.Args
	if flags.link != "" && len(args) > 0 && args[len(args)-1] == flags.link {
		args = args[:len(args)-1]
	}
	return startAgain(args)
}

// restoreFailedEnv carries why a restore from the welcome screen did not finish to the start
// of Kith that follows it, which says so.
const restoreFailedEnv = "KITH_RESTORE_FAILED"

// repair shows the repair window for a damaged store: peer.Resync with the settings' network
// options, then the usual start. The returned stop closes what started, if anything did.
func repair(a fyne.App, dir string, log *slog.Logger, flags peerFlags, cause error) (stop func() error) {
	var (
		mu      sync.Mutex
		started func() error
	)
	settings, _ := ui.LoadSettings(filepath.Join(dir, peer.SettingsFile))
	fix := func(ctx context.Context, progress func(string)) (string, error) {
		res, err := peer.Resync(ctx, dir, peer.Options{
			Logger: log, Listen: settings.Listen(), NoMDNS: flags.noMDNS, NoNAT: flags.noNAT,
			Bootstrap: settings.Bootstrap, PublicDHT: settings.PublicDHT != nil && *settings.PublicDHT,
		}, time.Minute, progress)
		if err != nil {
			return "", err
		}
		return res.Summary()
	}
	ui.NewRepair(a, cause, fix, func() error {
		s, err := start(a, dir, log, flags)
		if err == nil {
			mu.Lock()
			started = s
			mu.Unlock()
		}
		return err
	}, nil)
	return func() error {
		mu.Lock()
		defer mu.Unlock()
		if started == nil {
			return nil
		}
		return started()
	}
}

// showRunning asks the Kith running on dir to bring its window to the front (the usual desktop
// answer to a second start), with the invite link this start was given, if any, filled in;
// false when none answers or it has no window (kithd).
func showRunning(dir, link string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, err := peer.Call(ctx, dir, peer.Request{Cmd: "show", Invite: link})
		if !errors.Is(err, peer.ErrNoControl) {
			return err == nil
		}
		select { // it may be starting: its socket comes with its network
		case <-ctx.Done():
			return false
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// showError shows why Kith cannot start, in a window of its own, until it is closed.
func showError(a fyne.App, err error) {
	msg := ui.Sentence(err)
	if errors.Is(err, storage.ErrAlreadyRunning) {
		msg = "Kith is already running with this data folder. Switch to the open Kith window, or close it and start Kith again."
	}
	w := a.NewWindow("Kith cannot start")
	l := widget.NewLabel(msg)
	l.Wrapping = fyne.TextWrapWord
	w.SetContent(l)
	w.Resize(fyne.NewSize(480, 160))
	w.ShowAndRun()
}
