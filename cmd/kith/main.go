// Command kith is the Kith desktop app: it opens the data folder (identity and store), builds the
// application service and shows the window. Wiring only: the screens live in app/ui.
package main

import (
	"errors"
	"flag"
	"log/slog"
	"os"
	"path/filepath"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/identity"
	"github.com/kith-app/kith/app/localstore"
	"github.com/kith-app/kith/app/ui"
	"github.com/kith-app/kith/storage"
)

func main() {
	data := flag.String("data", defaultDataDir(), "the data folder: this install's key and store (use another to run a second Kith)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	a := fyneapp.NewWithID("app.kith.desktop")
	stop, err := start(a, *data, log)
	if err != nil {
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

// start opens the data folder and shows the main window. The returned stop closes everything in
// reverse order of opening.
func start(a fyne.App, dir string, log *slog.Logger) (stop func() error, err error) {
	id, err := identity.LoadOrCreate(dir, log)
	if err != nil {
		return nil, err
	}
	st, err := storage.Open(dir, storage.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	svc, err := app.New(app.Config{Identity: id, Store: localstore.Store{S: st}, Logger: log})
	if err != nil {
		st.Close()
		return nil, err
	}
	w := a.NewWindow("Kith")
	w.SetContent(ui.NewHome(svc, w).Content())
	w.Resize(fyne.NewSize(1000, 640))
	w.SetMaster()
	w.Show()
	return func() error { return errors.Join(svc.Close(), st.Close()) }, nil
}

// showError shows why Kith cannot start, in a window of its own, until it is closed.
func showError(a fyne.App, err error) {
	msg := err.Error()
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

// defaultDataDir is the per-user data folder that the desktop app and kithd share.
func defaultDataDir() string {
	base, err := os.UserConfigDir()
	if err != nil {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".config")
	}
	return filepath.Join(base, "kith")
}
