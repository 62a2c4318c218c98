package ui

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/text/unicode/norm"

	"github.com/kith-app/kith/app/backup"
)

// minPassphrase is the fewest characters a backup's passphrase has.
const minPassphrase = backup.MinPassphrase

// BackupDialog is File > Back up…: a passphrase typed twice, then where to save the file. The
// backup is sealed (about a second of work) off the window's goroutine.
type BackupDialog struct {
	s      *Shell
	d      dialog.Dialog
	pass   *widget.Entry
	again  *widget.Entry
	status *widget.Label
	save   *widget.Button
	sealed []byte // the last backup sealed (tests read it)
}

// openBackup shows the backup dialog.
func (s *Shell) openBackup() {
	if s.opts.Backup == nil {
		return
	}
	b := &BackupDialog{s: s, pass: widget.NewPasswordEntry(), again: widget.NewPasswordEntry(), status: wrapped("")}
	b.pass.SetPlaceHolder(fmt.Sprintf("A passphrase, %d characters or more", minPassphrase))
	b.again.SetPlaceHolder("The same passphrase again")
	b.pass.OnSubmitted = func(string) { s.win.Canvas().Focus(b.again) }
	b.again.OnSubmitted = func(string) { b.choose() }
	b.pass.OnChanged = func(string) { b.status.SetText("") } // what it said was of the last try
	b.again.OnChanged = b.pass.OnChanged
	b.save = widget.NewButton("Save the backup…", b.choose)
	b.save.Importance = widget.HighImportance
	cancel := widget.NewButton("Cancel", func() { b.d.Hide() })
	intro := wrapped("A backup holds your identity (the key that makes you you in every community), " +
		"your communities, the invites you issued and your settings, sealed with a passphrase. " +
		"On a new computer, \"kithd restore FILE\" (it comes with Kith) brings them back before Kith starts there, and the history comes from the other members.")
	warn := wrapped("Keep the file somewhere other than this computer. Nobody can open it without the passphrase: you neither, and Kith cannot reset it.")
	body := container.NewVBox(intro, widget.NewForm(widget.NewFormItem("Passphrase", b.pass), widget.NewFormItem("Again", b.again)),
		warn, b.status, container.NewHBox(layout.NewSpacer(), cancel, b.save))
	b.d = dialog.NewCustomWithoutButtons("Back up Kith", body, s.win)
	b.d.Resize(fyne.NewSize(560, 0))
	s.backup = b
	s.show(b.d)
	s.win.Canvas().Focus(b.pass)
}

// check says what is wrong with the passphrases typed ("" when nothing).
func (b *BackupDialog) check() string {
	p := b.pass.Text
	switch {
	case utf8.RuneCountInString(norm.NFC.String(p)) < minPassphrase:
		return fmt.Sprintf("The passphrase is %d characters at least: a longer one keeps your key safe if the file is taken.", minPassphrase)
	case b.again.Text != p:
		return "The two passphrases differ: type the same one twice."
	}
	return ""
}

// choose checks the passphrases, seals the backup off the window's goroutine, then asks where
// to save it (sealed first: a file chosen, perhaps an older backup, is written only with a
// whole backup in hand).
func (b *BackupDialog) choose() {
	s := b.s
	if msg := b.check(); msg != "" {
		b.status.Importance = widget.DangerImportance
		b.status.SetText(msg)
		return
	}
	pass := b.pass.Text
	b.save.Disable()
	b.status.Importance = widget.MediumImportance
	b.status.SetText("Sealing the backup…")
	go func() {
		file, err := s.opts.Backup(pass)
		s.do(func() {
			b.save.Enable()
			if err != nil {
				b.status.Importance = widget.DangerImportance
				b.status.SetText("The backup could not be made: " + sentence(err))
				return
			}
			b.status.SetText("")
			b.sealed = file
			d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
				if err != nil || w == nil {
					return
				}
				b.write(file, w)
			}, s.win)
			d.SetFileName("kith-" + time.Now().Format("2006-01-02") + ".kithbackup")
			s.show(d)
		})
	}()
}

// write writes the sealed backup to w, off the window's goroutine; a file that could not be
// written whole is removed.
func (b *BackupDialog) write(file []byte, w fyne.URIWriteCloser) {
	s := b.s
	if u := w.URI(); u.Scheme() == "file" {
		_ = os.Chmod(u.Path(), 0o600) // sealed, but nobody else's to copy
	}
	go func() {
		_, err := w.Write(file)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = storage.Delete(w.URI())
		}
		s.do(func() {
			if err != nil {
				b.status.Importance = widget.DangerImportance
				b.status.SetText("The backup was not saved: " + sentence(err))
				return
			}
			b.d.Hide()
			s.show(dialog.NewInformation("Backup saved", "Saved as "+w.URI().Name()+
				". Copy it somewhere other than this computer (a USB stick, a password manager), and keep the passphrase apart from it.", s.win))
		})
	}()
}

// RestoreDialog is the welcome screen's "Restore a backup…": the file, then its passphrase;
// Options.Restore puts the backup in this install's place and starts Kith again.
type RestoreDialog struct {
	s       *Shell
	d       dialog.Dialog
	pass    *widget.Entry
	status  *widget.Label
	restore *widget.Button
}

// openRestore asks for a backup file, checks it, then asks for its passphrase.
func (s *Shell) openRestore() {
	if s.opts.Restore == nil {
		return
	}
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		go func() {
			file, err := io.ReadAll(io.LimitReader(r, backup.MaxSize+1))
			r.Close()
			if err == nil {
				err = backup.Check(file) // what is wrong with it, before a passphrase is asked
			}
			s.do(func() {
				if err != nil {
					s.show(dialog.NewError(fmt.Errorf("%s", sentence(err)), s.win))
					return
				}
				s.askRestore(r.URI().Name(), file)
			})
		}()
	}, s.win)
	s.show(d)
}

// askRestore asks for the passphrase of a backup file that checked out, and restores it.
func (s *Shell) askRestore(name string, file []byte) {
	r := &RestoreDialog{s: s, pass: widget.NewPasswordEntry(), status: wrapped("")}
	r.pass.SetPlaceHolder("The passphrase you chose when you made the backup")
	r.pass.OnSubmitted = func(string) { r.start(file) }
	r.pass.OnChanged = func(string) { r.status.SetText("") }
	r.restore = widget.NewButton("Restore and start again", func() { r.start(file) })
	r.restore.Importance = widget.HighImportance
	cancel := widget.NewButton("Cancel", func() { r.d.Hide() })
	intro := wrapped("Restoring " + strconv.Quote(name) + " makes this computer the one the backup came from: its identity, " +
		"communities, invites and settings. The new identity Kith made here, in no community yet, is kept aside in the data folder. " +
		"Kith then starts again, and the history comes from the other members.")
	warn := wrapped("Use it on one computer at a time: stop Kith for good on the old one.")
	body := container.NewVBox(intro, widget.NewForm(widget.NewFormItem("Passphrase", r.pass)), warn, r.status,
		container.NewHBox(layout.NewSpacer(), cancel, r.restore))
	r.d = dialog.NewCustomWithoutButtons("Restore a backup", body, s.win)
	r.d.Resize(fyne.NewSize(560, 0))
	s.restoring = r
	s.show(r.d)
	s.win.Canvas().Focus(r.pass)
}

// start restores the backup off the window's goroutine; a wrong passphrase or any other
// refusal is said in the dialog, which stays.
func (r *RestoreDialog) start(file []byte) {
	s, pass := r.s, r.pass.Text
	if pass == "" {
		return
	}
	r.restore.Disable()
	r.status.Importance = widget.MediumImportance
	r.status.SetText("Opening the backup…")
	go func() {
		err := s.opts.Restore(file, pass) // (on success, Kith starts again: no return)
		s.do(func() {
			r.restore.Enable()
			if err != nil {
				r.status.Importance = widget.DangerImportance
				r.status.SetText(sentence(err))
			}
		})
	}()
}
