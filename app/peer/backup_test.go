package peer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/backup"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/identity"
	"github.com/kith-app/kith/app/localstore"
	"github.com/kith-app/kith/app/peer"
	"github.com/kith-app/kith/storage"
)

// cheapBackups makes the backups of a test quick to seal and open (the defaults take 256 MiB).
func cheapBackups(t *testing.T) {
	was := peer.BackupParams
	peer.BackupParams = backup.Params{Time: 1, MemoryKiB: 8 << 10, Threads: 1}
	t.Cleanup(func() { peer.BackupParams = was })
}

const pass = "correct horse battery"

func restoreOpts() peer.Options {
	return peer.Options{Logger: slog.New(slog.DiscardHandler), MinFreeBytes: -1,
		Listen: []string{"/ip4/127.0.0.1/tcp/0"}, NoMDNS: true, NoNAT: true}
}

// TestBackupAndRestore: the owner backs up (identity, communities, the invites it issued, its
// choices, its settings), and restores the backup into a new folder while a member is online:
// the same identity, still the owner, the history back from the member, the invites and
// choices back, the settings written. The owner's next message continues its chain.
func TestBackupAndRestore(t *testing.T) {
	cheapBackups(t)
	n := newNet(t)
	ana := n.start("", 0)
	id := create(t, ana, "Makers")
	inv := inviteOf(t, ana, id, 0)
	bo := n.start("", 0)
	join(t, bo, inv, "Bo")
	connected(t, id, ana, bo)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, text := range []string{"Ana: one", "Ana: two"} {
		if _, err := ana.Do(ctx, peer.Request{Cmd: "post", Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	budget := 123
	if _, err := ana.Do(ctx, peer.Request{Cmd: "files", Budget: &budget}); err != nil {
		t.Fatal(err)
	}
	settings := `{"display_name":"Ana","listen_port":4001,"theme":"dark","window_width":900,"bootstrap":["/ip4/127.0.0.1/tcp/1/p2p/12D3KooWx"]}`
	if err := os.WriteFile(filepath.Join(ana.Dir, peer.SettingsFile), []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "Bo to have Ana's messages", func() bool { return texts(bo, id, 20)["Ana: two"] })
	issued, err := localstore.Store{S: ana.Store}.Issued(id)
	if err != nil || len(issued) != 1 {
		t.Fatalf("issued = %v, %v", issued, err)
	}

	res, err := ana.Do(ctx, peer.Request{Cmd: "backup", Passphrase: "short"})
	var u *peer.UsageError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "8 characters") {
		t.Fatalf("a backup with a short passphrase: %v", err)
	}
	res, err = ana.Do(ctx, peer.Request{Cmd: "backup", Passphrase: pass})
	if err != nil {
		t.Fatal(err)
	}
	var ans peer.BackupAnswer
	if err := json.Unmarshal(res.JSON, &ans); err != nil {
		t.Fatal(err)
	}
	anaID, _ := peer.PeerID(ana.ID.PublicKey())
	if ans.PeerID != anaID || len(ans.Communities) != 1 || ans.Communities[0].Name != "Makers" || len(ans.File) == 0 {
		t.Fatalf("backup answer = %+v", ans)
	}
	if bytes.Contains(ans.File, ana.ID.KeyFile()[20:40]) {
		t.Fatal("the backup holds the key in the clear")
	}
	if _, err := peer.ReadBackup(ans.File, "wrong horse battery"); !errors.Is(err, backup.ErrPassphrase) {
		t.Fatalf("a wrong passphrase: %v", err)
	}
	b, err := peer.ReadBackup(ans.File, pass)
	if err != nil {
		t.Fatal(err)
	}
	// Ana's laptop is gone.
	if err := ana.Close(); err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join(t.TempDir(), "new-laptop")
	var said []string
	got, err := peer.Restore(ctx, dir, b, restoreOpts(), peer.RestoreOptions{PerMember: 30 * time.Second, Progress: func(s string) { said = append(said, s) }})
	if err != nil {
		t.Fatalf("Restore: %v (said %q)", err, said)
	}
	if !got.Synced || len(got.Resync.Communities) != 1 || got.Resync.Communities[0].Err != nil || got.MovedAside != "" {
		t.Fatalf("Restore = %+v", got)
	}
	back := n.start(dir, 0)
	if !back.ID.PublicKey().Equal(ana.ID.PublicKey()) {
		t.Fatal("another identity came back")
	}
	if role, err := back.Svc.Role(id); err != nil || role != community.RoleOwner {
		t.Fatalf("the role after the restore: %v, %v", role, err)
	}
	if ts := texts(back, id, 20); !ts["Ana: one"] || !ts["Ana: two"] {
		t.Fatalf("after the restore Ana reads %v", ts)
	}
	ls := localstore.Store{S: back.Store}
	if again, err := ls.Issued(id); err != nil || !slices.Equal(again, issued) {
		t.Fatalf("the invites issued after the restore: %v, %v (want %v)", again, err, issued)
	}
	if v, err := ls.Pref(id, "files-budget"); err != nil || v != "123" {
		t.Fatalf("the files budget after the restore: %q, %v", v, err)
	}
	var s map[string]any
	raw, err := os.ReadFile(filepath.Join(dir, peer.SettingsFile))
	if err != nil || json.Unmarshal(raw, &s) != nil {
		t.Fatalf("settings after the restore: %v\n%s", err, raw)
	}
	if s["display_name"] != "Ana" || s["theme"] != "dark" || s["bootstrap"] == nil || s["listen_port"] != nil || s["window_width"] != nil {
		t.Fatalf("settings after the restore: %s (the computer's own should stay out)", raw)
	}
	if _, err := back.Do(ctx, peer.Request{Cmd: "post", Text: "Ana: back"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "Bo to accept Ana's next message", func() bool { return texts(bo, id, 20)["Ana: back"] })
	if member, _ := bo.Svc.IsMember(id, back.ID.PublicKey()); !member {
		t.Fatal("Ana's next message forked her chain")
	}
}

// TestRestoreRefusals: a folder holding another identity is refused and left as it was; with
// Replace its contents move aside, nothing deleted; a folder Kith runs on is refused; a
// restore into the same identity's folder adds to it.
func TestRestoreRefusals(t *testing.T) {
	cheapBackups(t)
	ctx := context.Background()
	ana, err := peer.Open(t.TempDir(), restoreOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer ana.Close()
	file, _, err := ana.Backup(pass)
	if err != nil {
		t.Fatal(err)
	}
	b, err := peer.ReadBackup(file, pass)
	if err != nil {
		t.Fatal(err)
	}
	// Kith runs on the folder.
	if _, err := peer.Restore(ctx, ana.Dir, b, restoreOpts(), peer.RestoreOptions{Offline: true, Replace: true}); !errors.Is(err, storage.ErrAlreadyRunning) {
		t.Fatalf("a restore into a running folder: %v", err)
	}

	// Another identity's folder.
	other := t.TempDir()
	op, err := peer.Open(other, restoreOpts())
	if err != nil {
		t.Fatal(err)
	}
	create(t, op, "Theirs")
	if err := op.Close(); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(other, identity.FileName)
	was, _ := os.ReadFile(key)
	_, err = peer.Restore(ctx, other, b, restoreOpts(), peer.RestoreOptions{Offline: true})
	if !errors.Is(err, peer.ErrOtherIdentity) || !strings.Contains(err.Error(), "--replace") {
		t.Fatalf("a restore over another identity: %v", err)
	}
	if now, _ := os.ReadFile(key); !bytes.Equal(now, was) {
		t.Fatal("the refused restore changed the key file")
	}
	got, err := peer.Restore(ctx, other, b, restoreOpts(), peer.RestoreOptions{Offline: true, Replace: true})
	if err != nil {
		t.Fatal(err)
	}
	if got.MovedAside == "" || got.Synced {
		t.Fatalf("Restore with Replace = %+v", got)
	}
	if kept, _ := os.ReadFile(filepath.Join(got.MovedAside, identity.FileName)); !bytes.Equal(kept, was) {
		t.Fatal("the replaced identity is not kept aside")
	}
	if _, err := os.Stat(filepath.Join(got.MovedAside, "db")); err != nil {
		t.Fatalf("the replaced store is not kept aside: %v", err)
	}
	now, err := identity.Load(other, nil)
	if err != nil || !now.PublicKey().Equal(ana.ID.PublicKey()) {
		t.Fatalf("after the restore the folder's identity is not the backup's: %v", err)
	}

	// The same identity's folder: added to.
	if err := ana.Close(); err != nil {
		t.Fatal(err)
	}
	got, err = peer.Restore(ctx, ana.Dir, b, restoreOpts(), peer.RestoreOptions{Offline: true})
	if err != nil || !got.Same || got.MovedAside != "" {
		t.Fatalf("a restore into the same identity's folder: %+v, %v", got, err)
	}
}

// TestRestoreOfflineComesBackLater: a backup restored while no member is online brings the
// community back once Kith runs and a member is: the running peer syncs the communities of
// its lifeline that its store lacks, and follows their gossip.
func TestRestoreOfflineComesBackLater(t *testing.T) {
	cheapBackups(t)
	n := newNet(t)
	ana := n.start("", 0)
	id := create(t, ana, "Makers")
	inv := inviteOf(t, ana, id, 0)
	bo := n.start("", 0)
	join(t, bo, inv, "Bo")
	connected(t, id, ana, bo)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := bo.Do(ctx, peer.Request{Cmd: "post", Text: "Bo: before"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "Ana to have Bo's message", func() bool { return texts(ana, id, 20)["Bo: before"] })
	file, _, err := bo.Backup(pass)
	if err != nil {
		t.Fatal(err)
	}
	if err := bo.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := peer.ReadBackup(file, pass)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	got, err := peer.Restore(ctx, dir, b, restoreOpts(), peer.RestoreOptions{Offline: true})
	if err != nil || got.Synced {
		t.Fatalf("Restore offline = %+v, %v", got, err)
	}
	back := n.start(dir, 0)
	eventually(t, 60*time.Second, "the community to come back", func() bool { return texts(back, id, 20)["Bo: before"] })
	if _, err := ana.Do(ctx, peer.Request{Cmd: "post", Text: "Ana: live"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "Ana's next message to reach Bo", func() bool { return texts(back, id, 20)["Ana: live"] })
}

// TestForgottenStaysForgotten: a community left, then forgotten with kithd while no Kith runs
// on the folder, is not brought back from the lifeline at the next start.
func TestForgottenStaysForgotten(t *testing.T) {
	n := newNet(t)
	ana := n.start("", 0)
	id := create(t, ana, "Makers")
	inv := inviteOf(t, ana, id, 0)
	bo := n.start("", 0)
	join(t, bo, inv, "Bo")
	connected(t, id, ana, bo)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := bo.Do(ctx, peer.Request{Cmd: "leave"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "Bo's leave to reach Ana", func() bool { return !isActive(ana, id, bo.ID.PublicKey()) })
	dir := bo.Dir
	if err := bo.Close(); err != nil {
		t.Fatal(err)
	}
	p, err := peer.Open(dir, peer.Options{Logger: slog.New(slog.DiscardHandler), MinFreeBytes: -1, NoControl: true, NoMDNS: true, NoNAT: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Do(ctx, peer.Request{Cmd: "forget", Community: id.String()}); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if l, _ := os.ReadFile(filepath.Join(dir, peer.LifelineFile)); strings.Contains(string(l), id.String()) {
		t.Fatal("the lifeline still names the forgotten community")
	}
	back := n.start(dir, 0)
	time.Sleep(3 * time.Second) // ten rounds of the sync loops
	cs, _ := back.Svc.Communities()
	for _, c := range cs {
		if c.ID == id {
			t.Fatalf("the forgotten community %q came back", c.Name)
		}
	}
}

// TestRestoredWritesAfterItsOwnHead: a backup made after an event that only one member got
// (Ana, offline at the restore) is restored from another (Cy): the restored install refuses to
// write until it holds its own latest event again (its next would reuse that number: a fork),
// then writes on top of it once Ana is back, and stays a member everywhere.
func TestRestoredWritesAfterItsOwnHead(t *testing.T) {
	cheapBackups(t)
	n := newNet(t)
	ana := n.start("", 0)
	id := create(t, ana, "Makers")
	inv := inviteOf(t, ana, id, 0)
	bo := n.start("", 0)
	cy := n.start("", 1)
	join(t, bo, inv, "Bo")
	join(t, cy, inv, "Cy")
	connected(t, id, ana, bo, cy)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	post(t, bo, id, "Bo: seen by all")
	eventually(t, 30*time.Second, "Cy to have it", func() bool { return texts(cy, id, 20)["Bo: seen by all"] })
	n.split(ana, bo, cy)
	post(t, bo, id, "Bo: last")
	eventually(t, 30*time.Second, "Ana to have Bo's last", func() bool { return texts(ana, id, 20)["Bo: last"] })
	file, _, err := bo.Backup(pass)
	if err != nil {
		t.Fatal(err)
	}
	bo.Close()
	anaDir := ana.Dir
	ana.Close()
	n.partitioned.Store(false)
	b, err := peer.ReadBackup(file, pass)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := peer.Restore(ctx, dir, b, restoreOpts(), peer.RestoreOptions{Offline: true}); err != nil {
		t.Fatal(err)
	}
	back := n.start(dir, 0)
	eventually(t, 60*time.Second, "the community to come back from Cy", func() bool { return texts(back, id, 20)["Bo: seen by all"] })
	if _, err := back.Do(ctx, peer.Request{Cmd: "post", Text: "Bo: new"}); !errors.Is(err, app.ErrRestoredBehind) {
		t.Fatalf("a post before Bo's own last event is back: %v, want app.ErrRestoredBehind", err)
	}
	ana2 := n.start(anaDir, 0)
	eventually(t, 60*time.Second, "Bo's last event back from Ana", func() bool { return texts(back, id, 20)["Bo: last"] })
	if _, err := back.Do(ctx, peer.Request{Cmd: "post", Text: "Bo: new"}); err != nil {
		t.Fatalf("a post once Bo's own last event is back: %v", err)
	}
	eventually(t, 30*time.Second, "Ana and Cy to read Bo's new post", func() bool {
		return texts(ana2, id, 20)["Bo: new"] && texts(cy, id, 20)["Bo: new"]
	})
	for name, p := range map[string]*peer.Peer{"Ana": ana2, "Cy": cy} {
		if member, _ := p.Svc.IsMember(id, back.ID.PublicKey()); !member {
			t.Fatalf("%s voided Bo: his chain forked", name)
		}
	}
}

// TestRestoreIntoOwnStoreWithoutKey: a folder whose key file was lost but whose store is this
// identity's (its communities are the backup's) gets its key back and keeps its store.
func TestRestoreIntoOwnStoreWithoutKey(t *testing.T) {
	cheapBackups(t)
	ctx := context.Background()
	dir := t.TempDir()
	ana, err := peer.Open(dir, restoreOpts())
	if err != nil {
		t.Fatal(err)
	}
	id := create(t, ana, "Makers")
	if _, err := ana.Do(ctx, peer.Request{Cmd: "post", Text: "kept"}); err != nil {
		t.Fatal(err)
	}
	file, _, err := ana.Backup(pass)
	if err != nil {
		t.Fatal(err)
	}
	ana.Close()
	if err := os.Remove(filepath.Join(dir, identity.FileName)); err != nil {
		t.Fatal(err)
	}
	b, _ := peer.ReadBackup(file, pass)
	got, err := peer.Restore(ctx, dir, b, restoreOpts(), peer.RestoreOptions{Offline: true})
	if err != nil || got.MovedAside != "" || !got.Same {
		t.Fatalf("restoring the folder's own identity: %+v, %v", got, err)
	}
	again, err := peer.Open(dir, restoreOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if !texts(again, id, 20)["kept"] {
		t.Fatal("the store was not kept")
	}
}

// TestRestoredAfterAnUnsentEvent: an event written while offline, never sent, then backed up
// and the computer lost, is gone for good: the restored install writes again once it has
// synced with every member it knew (none of them has that event, so nothing forks).
func TestRestoredAfterAnUnsentEvent(t *testing.T) {
	cheapBackups(t)
	n := newNet(t)
	ana := n.start("", 0)
	id := create(t, ana, "Makers")
	inv := inviteOf(t, ana, id, 0)
	bo := n.start("", 0)
	join(t, bo, inv, "Bo")
	connected(t, id, ana, bo)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := bo.Dir
	if err := bo.Close(); err != nil {
		t.Fatal(err)
	}
	off, err := peer.Open(dir, restoreOpts()) // offline: never started
	if err != nil {
		t.Fatal(err)
	}
	if _, err := off.Do(ctx, peer.Request{Cmd: "post", Text: "Bo: never sent"}); err != nil {
		t.Fatal(err)
	}
	file, _, err := off.Backup(pass)
	if err != nil {
		t.Fatal(err)
	}
	off.Close()
	b, err := peer.ReadBackup(file, pass)
	if err != nil {
		t.Fatal(err)
	}
	newDir := t.TempDir()
	if _, err := peer.Restore(ctx, newDir, b, restoreOpts(), peer.RestoreOptions{Offline: true}); err != nil {
		t.Fatal(err)
	}
	back := n.start(newDir, 0)
	eventually(t, 60*time.Second, "the restored Bo to write again, after syncing with Ana", func() bool {
		_, err := back.Do(ctx, peer.Request{Cmd: "post", Text: "Bo: back"})
		return err == nil
	})
	eventually(t, 30*time.Second, "Ana to read it", func() bool { return texts(ana, id, 20)["Bo: back"] })
	if member, _ := ana.Svc.IsMember(id, back.ID.PublicKey()); !member {
		t.Fatal("Ana voided Bo")
	}
}

// TestRestoreCutShortKeepsTheFloor: a restore that stops after the key went in (here the store
// cannot open: the disk is full) still leaves the floor, which the next start applies: the
// restored install does not write before its own latest event is back.
func TestRestoreCutShortKeepsTheFloor(t *testing.T) {
	cheapBackups(t)
	n := newNet(t)
	ana := n.start("", 0)
	id := create(t, ana, "Makers")
	inv := inviteOf(t, ana, id, 0)
	bo := n.start("", 0)
	cy := n.start("", 1)
	join(t, bo, inv, "Bo")
	join(t, cy, inv, "Cy")
	connected(t, id, ana, bo, cy)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	post(t, bo, id, "Bo: seen by all")
	eventually(t, 30*time.Second, "Cy to have it", func() bool { return texts(cy, id, 20)["Bo: seen by all"] })
	n.split(ana, bo, cy)
	post(t, bo, id, "Bo: last")
	eventually(t, 30*time.Second, "Ana to have Bo's last", func() bool { return texts(ana, id, 20)["Bo: last"] })
	file, _, err := bo.Backup(pass)
	if err != nil {
		t.Fatal(err)
	}
	bo.Close()
	ana.Close()
	n.partitioned.Store(false)
	b, err := peer.ReadBackup(file, pass)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	full := restoreOpts()
	full.MinFreeBytes = 1 << 62
	if _, err := peer.Restore(ctx, dir, b, full, peer.RestoreOptions{Offline: true}); err == nil {
		t.Fatal("a restore onto a full disk went through")
	}
	back := n.start(dir, 0) // space freed
	eventually(t, 60*time.Second, "the community back from Cy", func() bool {
		role, err := back.Svc.Role(id)
		return err == nil && role == community.RoleMember && texts(back, id, 20)["Bo: seen by all"]
	})
	if _, err := back.Do(ctx, peer.Request{Cmd: "post", Text: "Bo: new"}); !errors.Is(err, app.ErrRestoredBehind) {
		t.Fatalf("wrote before its own last event is back: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, peer.RestoreFloorFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the floor file stays after it was applied: %v", err)
	}
}

// TestFloorGoesAfterPatience: a member the restored install knew never comes back; the floor
// says how many are awaited, and goes three days after the restore.
func TestFloorGoesAfterPatience(t *testing.T) {
	cheapBackups(t)
	n := newNet(t)
	ana := n.start("", 0)
	id := create(t, ana, "Makers")
	inv := inviteOf(t, ana, id, 0)
	bo := n.start("", 0)
	cy := n.start("", 0)
	join(t, bo, inv, "Bo")
	join(t, cy, inv, "Cy")
	connected(t, id, ana, bo, cy)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	post(t, bo, id, "Bo: to all")
	eventually(t, 30*time.Second, "Cy to have it", func() bool { return texts(cy, id, 20)["Bo: to all"] })
	cy.Close() // gone for good
	dir := bo.Dir
	bo.Close()
	off, err := peer.Open(dir, restoreOpts())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := off.Do(ctx, peer.Request{Cmd: "post", Text: "Bo: never sent"}); err != nil {
		t.Fatal(err)
	}
	file, _, err := off.Backup(pass)
	if err != nil {
		t.Fatal(err)
	}
	off.Close()
	b, err := peer.ReadBackup(file, pass)
	if err != nil {
		t.Fatal(err)
	}
	newDir := t.TempDir()
	if _, err := peer.Restore(ctx, newDir, b, restoreOpts(), peer.RestoreOptions{Offline: true}); err != nil {
		t.Fatal(err)
	}
	back := n.start(newDir, 0)
	eventually(t, 60*time.Second, "the community back from Ana", func() bool { return texts(back, id, 20)["Bo: to all"] })
	var err2 error
	eventually(t, 30*time.Second, "the refusal to name one member awaited", func() bool {
		_, err2 = back.Do(ctx, peer.Request{Cmd: "post", Text: "Bo: now"})
		return errors.Is(err2, app.ErrRestoredBehind) && strings.Contains(err2.Error(), "1 of the members")
	})
	back.Close()
	later := n.start(newDir, 0, func(o *peer.Options) { o.Now = func() time.Time { return time.Now().Add(73 * time.Hour) } })
	if _, err := later.Do(ctx, peer.Request{Cmd: "post", Text: "Bo: three days on"}); err != nil {
		t.Fatalf("three days after the restore: %v", err)
	}
}

// TestAShortVisitLeavesAddresses: a member greeted before its addresses were known (identify
// comes after an inbound connection) and gone before the next save of the address book is in
// the book with the addresses the node learned once it goes offline: the lifeline (so a backup
// made then) can find it again. Here the saves are an hour apart.
func TestAShortVisitLeavesAddresses(t *testing.T) {
	n := newNet(t)
	hourly := func(o *peer.Options) { o.SyncEvery = time.Hour }
	ana := n.start("", 0)
	id := create(t, ana, "Makers")
	inv := inviteOf(t, ana, id, 0)
	bo := n.start("", 0, hourly)
	join(t, bo, inv, "Bo")
	cy := n.start("", 0)
	join(t, cy, inv, "Cy")
	connected(t, id, ana, bo, cy)
	cyID := cy.Node().ID()
	entry := func() (storage.Peer, bool) {
		book, err := bo.Store.Peers()
		if err != nil {
			return storage.Peer{}, false
		}
		i := slices.IndexFunc(book, func(e storage.Peer) bool { return e.ID == cyID })
		if i < 0 {
			return storage.Peer{}, false
		}
		return book[i], true
	}
	eventually(t, 30*time.Second, "Bo to know where Cy listens", func() bool {
		e, ok := entry()
		return ok && len(e.Addrs) > 0 && len(bo.Node().AddrsOf(cyID)) > 0
	})
	// As the book is when Cy was greeted before identify ran, and no save came since.
	e, _ := entry()
	e.Addrs = nil
	if err := bo.Store.PutPeer(e); err != nil {
		t.Fatal(err)
	}
	cy.Close()
	eventually(t, 30*time.Second, "Bo to have Cy's addresses in the book", func() bool {
		e, ok := entry()
		return ok && len(e.Addrs) > 0 && slices.Contains(e.Communities, storage.CommunityID(id))
	})
}
