package ui

import (
	"fmt"
	"os"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/text/unicode/norm"
)

// minPassphrase is the fewest characters a backup's passphrase has (app/backup.MinPassphrase).
const minPassphrase = 8

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
