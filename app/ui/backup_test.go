package ui

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/backup"
	"github.com/kith-app/kith/app/peer"
)

// TestBackUp: beside the recovery words, the owner is asked to back up; the backup dialog
// refuses a short passphrase and two that differ, and writes a file the passphrase opens,
// holding the identity and the community; File > Back up… opens the same dialog.
func TestBackUp(t *testing.T) {
	was := peer.BackupParams
	peer.BackupParams = backup.Params{Time: 1, MemoryKiB: 8 << 10, Threads: 1}
	t.Cleanup(func() { peer.BackupParams = was })
	a := test.NewTempApp(t)
	ana := open(t, a)
	ana.create(t, "Ana", "Clay Studio Friends")
	s := ana.shell
	s.showSticky(s.recoveryWords(app.Created{Name: "Clay Studio Friends", RecoveryWords: "one two three"}))
	if s.backupNow == nil {
		t.Fatal("the recovery words do not offer a backup")
	}
	test.Tap(s.backupNow)
	b := s.backup
	if b == nil || len(s.dialogs) != 1 || s.dialogs[0].d != b.d {
		t.Fatalf("after 'back up now': %d dialogs, backup dialog %v", len(s.dialogs), b)
	}
	test.Type(b.pass, "short")
	test.Type(b.again, "short")
	test.Tap(b.save)
	if !strings.Contains(b.status.Text, "8 characters") || len(s.dialogs) != 1 {
		t.Fatalf("a short passphrase says %q", b.status.Text)
	}
	b.pass.SetText("a long passphrase")
	b.again.SetText("a long passphrase!")
	test.Tap(b.save)
	if !strings.Contains(b.status.Text, "differ") || len(s.dialogs) != 1 {
		t.Fatalf("two passphrases that differ say %q", b.status.Text)
	}
	b.again.SetText("a long passphrase")
	test.Tap(b.save)
	eventually(t, "the file chooser, once the backup is sealed", func() bool {
		return b.status.Text == "" && len(s.dialogs) == 2 && b.sealed != nil
	}, ana.q)
	s.dialogs[1].d.Hide() // the file chooser, answered here:
	path := filepath.Join(t.TempDir(), "kith.kithbackup")
	w, err := storage.Writer(storage.NewFileURI(path))
	if err != nil {
		t.Fatal(err)
	}
	b.write(b.sealed, w)
	eventually(t, "the backup to be saved", func() bool {
		return len(s.dialogs) == 1 && s.dialogs[0].d != b.d
	}, ana.q)
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("the backup file's mode is %v, want 0600", st.Mode().Perm())
	}
	plain, err := backup.Open(file, "a long passphrase")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Identity []byte `json:"identity"`
		Lifeline struct {
			Communities []struct{ Name string } `json:"communities"`
		} `json:"lifeline"`
	}
	if err := json.Unmarshal(plain, &c); err != nil || len(c.Identity) == 0 || len(c.Lifeline.Communities) != 1 || c.Lifeline.Communities[0].Name != "Clay Studio Friends" {
		t.Fatalf("the backup holds %s (%v)", plain, err)
	}
	s.dialogs[0].d.Hide()

	// File > Back up….
	for _, m := range s.win.MainMenu().Items[0].Items {
		if m.Label == "Back up…" {
			m.Action()
		}
	}
	if s.backup == b || len(s.dialogs) != 1 {
		t.Fatal("File > Back up… did not open a backup dialog")
	}
}

// TestRestoreFromTheWelcomeScreen: a fresh install's welcome screen offers to restore a
// backup (not the welcome screen opened from a community); a file that is not a backup is
// refused before any passphrase is asked; a wrong passphrase is said in the dialog, which
// stays; the right one hands the backup over (cmd/kith then restores and starts again).
func TestRestoreFromTheWelcomeScreen(t *testing.T) {
	was := peer.BackupParams
	peer.BackupParams = backup.Params{Time: 1, MemoryKiB: 8 << 10, Threads: 1}
	t.Cleanup(func() { peer.BackupParams = was })
	a := test.NewTempApp(t)
	ana := open(t, a)
	ana.create(t, "Ana", "Clay Studio Friends")
	file, _, err := ana.p.Backup("a long passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if ana.shell.showWelcome(true); !ana.shell.welcome.restore.Hidden {
		t.Error("the welcome screen opened from a community offers a restore")
	}

	bo := open(t, a)
	var restored atomic.Bool
	bo.shell.opts.Restore = func(f []byte, pass string) error {
		if _, err := peer.ReadBackup(f, pass); err != nil {
			return err
		}
		restored.Store(true)
		return nil
	}
	w := bo.shell.welcome
	eventually(t, "Bo's welcome screen with a restore", func() bool {
		bo.shell.showWelcome(false)
		return bo.win.Content() == w.content && !w.restore.Hidden
	}, bo.q)
	bo.shell.askRestore("kith.kithbackup", file)
	r := bo.shell.restoring
	test.Type(r.pass, "not the passphrase")
	test.Tap(r.restore)
	eventually(t, "the wrong passphrase said", func() bool {
		return strings.Contains(r.status.Text, "passphrase does not open") && !r.restore.Disabled()
	}, bo.q)
	r.pass.SetText("a long passphrase")
	test.Tap(r.restore)
	eventually(t, "the backup handed over", func() bool { return restored.Load() && r.status.Text == "Opening the backup…" }, bo.q)
}

// TestRestoredCommunityShows: Kith started on a folder a backup was restored into, while no
// member was online, shows the welcome screen; once the community comes back from a member,
// the window shows it.
func TestRestoredCommunityShows(t *testing.T) {
	was := peer.BackupParams
	peer.BackupParams = backup.Params{Time: 1, MemoryKiB: 8 << 10, Threads: 1}
	t.Cleanup(func() { peer.BackupParams = was })
	a := test.NewTempApp(t)
	ana := open(t, a)
	ana.create(t, "Ana", "Clay Studio Friends")
	bo := open(t, a)
	inv, _, err := ana.p.Invite(ana.shell.view.cur, app.InviteParams{Uses: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := bo.p.Join(ctx, inv, "Bo"); err != nil {
		t.Fatal(err)
	}
	file, _, err := bo.p.Backup("a long passphrase")
	if err != nil {
		t.Fatal(err)
	}
	bo.close()
	b, err := peer.ReadBackup(file, "a long passphrase")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := peer.Restore(ctx, dir, b, peer.Options{Logger: slog.New(slog.DiscardHandler), MinFreeBytes: -1, NoMDNS: true, NoNAT: true},
		peer.RestoreOptions{Offline: true}); err != nil {
		t.Fatal(err)
	}
	anaDir := ana.p.Dir
	ana.close() // no member online when the restored Kith starts
	back := openIn(t, a, dir)
	defer back.close()
	eventually(t, "the welcome screen, while no member is online", func() bool {
		return back.shell.listed && back.win.Content() == back.shell.welcome.content
	}, back.q)
	again := openIn(t, a, anaDir)
	defer again.close()
	eventually(t, "the restored community in the window", func() bool {
		return back.win.Content() == back.shell.view.content && strings.Contains(back.shell.view.title.Text, "Clay Studio Friends")
	}, back.q)
}
