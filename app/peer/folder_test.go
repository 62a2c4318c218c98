//go:build unix

package peer

import (
	"bufio"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kith-app/kith/app/identity"
	"github.com/kith-app/kith/storage"
)

// otherUID is the user ID the tests hand folders and processes to: another local user.
const otherUID = 65534

func openQuiet(dir string, tweak ...func(*Options)) (*Peer, error) {
	opts := Options{Logger: slog.New(slog.DiscardHandler), MinFreeBytes: -1, NoControl: true, NoMDNS: true, NoNAT: true}
	for _, f := range tweak {
		f(&opts)
	}
	return Open(dir, opts)
}

// mustOpen opens dir and closes it again.
func mustOpen(t *testing.T, dir string, tweak ...func(*Options)) {
	t.Helper()
	p, err := openQuiet(dir, tweak...)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

// refusedUnsafe opens dir, expects ErrUnsafeFolder with a sentence containing want, and checks
// that nothing was written in dir.
func refusedUnsafe(t *testing.T, dir, want string) {
	t.Helper()
	before := entries(t, dir)
	p, err := openQuiet(dir)
	if err == nil {
		p.Close()
		t.Fatalf("Open(%s) succeeded; want ErrUnsafeFolder", dir)
	}
	if !errors.Is(err, ErrUnsafeFolder) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--data") {
		t.Fatalf("Open(%s): %v; want ErrUnsafeFolder saying %q and what to do", dir, err, want)
	}
	if after := entries(t, dir); after != before {
		t.Fatalf("the refused Open wrote in %s: before %q, after %q", dir, before, after)
	}
	t.Logf("%v", err)
}

// entries lists the names in folder dir.
func entries(t *testing.T, dir string) string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return strings.Join(names, " ")
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root, to hand a folder to another user (run the tests as root to include it)")
	}
}

func TestFolderWritableByOthersIsRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []fs.FileMode{0o777, 0o770, 0o702} {
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		refusedUnsafe(t, dir, "can be changed by other users")
	}
	for _, mode := range []fs.FileMode{0o700, 0o750, 0o755} { // readable is ssh's rule too: fine
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		mustOpen(t, dir)
	}
}

func TestFolderOfAnotherUserIsRefused(t *testing.T) {
	needRoot(t)
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, otherUID, otherUID); err != nil {
		t.Fatal(err)
	}
	refusedUnsafe(t, dir, "belongs to another user (uid 65534)")
}

func TestLinkedFolderIsCheckedAtItsTarget(t *testing.T) {
	base := t.TempDir()
	target := filepath.Join(base, "target")
	link := filepath.Join(base, "link")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	mustOpen(t, link)
	if _, err := os.Stat(filepath.Join(target, identity.FileName)); err != nil {
		t.Fatalf("the link was not followed: %v", err)
	}
	if err := os.Chmod(target, 0o777); err != nil {
		t.Fatal(err)
	}
	refusedUnsafe(t, link, "(a link to "+target+") can be changed by other users")
	if os.Geteuid() == 0 {
		if err := os.Chmod(target, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(target, otherUID, otherUID); err != nil {
			t.Fatal(err)
		}
		refusedUnsafe(t, link, "belongs to another user (uid 65534)")
	}
}

func TestFolderUnderAWorldWritableFolderIsRefused(t *testing.T) {
	shared := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(shared, 0o700); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(shared, "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	refusedUnsafe(t, dir, shared+", which holds the data folder")
	// With the sticky bit (as /tmp has), no one else can move the folder away.
	if err := os.Chmod(shared, 0o777|fs.ModeSticky); err != nil {
		t.Fatal(err)
	}
	mustOpen(t, dir)
}

func TestOpenMakesEveryFolder0700(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "a", "b", "data")
	mustOpen(t, dir)
	for _, p := range []string{filepath.Join(base, "a"), filepath.Join(base, "a", "b"), dir, filepath.Join(dir, "db")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o700 {
			t.Errorf("%s has mode %04o; want 0700", p, fi.Mode().Perm())
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, identity.FileName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("identity.key: %v, %v; want mode 0600", fi, err)
	}
}

func TestNoCreateRefusesAFolderWithoutKith(t *testing.T) {
	noCreate := func(o *Options) { o.NoCreate = true }
	missing := filepath.Join(t.TempDir(), "missing")
	_, err := openQuiet(missing, noCreate)
	if !errors.Is(err, ErrNoDataFolder) || !strings.Contains(err.Error(), "there is no Kith data folder at "+missing+": create a community or join one first (or pass the right --data)") {
		t.Fatalf("Open(NoCreate) of a missing folder: %v; want ErrNoDataFolder saying what to do", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open(NoCreate) created %s (%v)", missing, err)
	}
	empty := t.TempDir()
	if _, err := openQuiet(empty, noCreate); !errors.Is(err, ErrNoDataFolder) {
		t.Fatalf("Open(NoCreate) of an empty folder: %v; want ErrNoDataFolder", err)
	}
	if got := entries(t, empty); got != "" {
		t.Fatalf("Open(NoCreate) wrote %q in an empty folder", got)
	}
	mustOpen(t, empty)
	mustOpen(t, empty, noCreate)
}

// createCommunity opens dir, creates a community there and closes it again.
func createCommunity(t *testing.T, dir string) {
	t.Helper()
	p, err := openQuiet(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Do(context.Background(), Request{Cmd: "create", Name: "Makers", DisplayName: "Ana"}); err != nil {
		t.Fatal(err)
	}
}

func TestMissingKeyBesideACommunityIsRefused(t *testing.T) {
	dir := t.TempDir()
	createCommunity(t, dir)
	key := filepath.Join(dir, identity.FileName)
	if err := os.Remove(key); err != nil {
		t.Fatal(err)
	}
	for _, noCreate := range []bool{false, true} {
		_, err := openQuiet(dir, func(o *Options) { o.NoCreate = noCreate })
		if !errors.Is(err, identity.ErrMissing) ||
			!strings.Contains(err.Error(), "missing from "+dir+", which holds a community: restore identity.key from a backup; Kith will not make a new identity here") {
			t.Fatalf("Open (NoCreate %v) without the key: %v; want identity.ErrMissing saying what to do", noCreate, err)
		}
		if _, err := os.Stat(key); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Open made a new identity.key (%v)", err)
		}
	}
	// A store without a community (a key lost before the first community) gets a new key.
	fresh := t.TempDir()
	mustOpen(t, fresh)
	if err := os.Remove(filepath.Join(fresh, identity.FileName)); err != nil {
		t.Fatal(err)
	}
	mustOpen(t, fresh)
}

func TestDamagedKeyOrStoreRefusesOpen(t *testing.T) {
	dir := t.TempDir()
	createCommunity(t, dir)
	key := filepath.Join(dir, identity.FileName)
	good, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), good...)
	bad[40] ^= 0x10
	if err := os.WriteFile(key, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := openQuiet(dir); !errors.Is(err, identity.ErrDamaged) {
		t.Fatalf("Open with a flipped bit in identity.key: %v; want identity.ErrDamaged", err)
	}
	if err := os.WriteFile(key, good, 0o600); err != nil {
		t.Fatal(err)
	}
	// The store loses its MANIFEST: refused, instead of an empty store where every command
	// says "belongs to no community yet".
	if err := os.Remove(filepath.Join(dir, "db", "MANIFEST")); err != nil {
		t.Fatal(err)
	}
	_, err = openQuiet(dir)
	if !errors.Is(err, storage.ErrDamaged) || !strings.Contains(err.Error(), "MANIFEST") {
		t.Fatalf("Open without the store's MANIFEST: %v; want storage.ErrDamaged naming it", err)
	}
}

func TestCheckSocketOwner(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ControlSocket)
	if err := checkSocketOwner(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("no socket: %v; want fs.ErrNotExist", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := checkSocketOwner(path); err != nil {
		t.Fatalf("our own socket: %v", err)
	}
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkServer(conn); err != nil {
		t.Fatalf("a socket we serve: %v", err)
	}
	conn.Close()

	link := filepath.Join(t.TempDir(), ControlSocket)
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if err := checkSocketOwner(link); !errors.Is(err, ErrUnsafeFolder) || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("a link to a socket: %v; want ErrUnsafeFolder", err)
	}
	file := filepath.Join(t.TempDir(), ControlSocket)
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkSocketOwner(file); !errors.Is(err, ErrUnsafeFolder) || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("a file: %v; want ErrUnsafeFolder", err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := checkSocketOwner(path); !errors.Is(err, ErrUnsafeFolder) {
		t.Fatalf("a socket in a folder anyone can write: %v; want ErrUnsafeFolder", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if err := os.Lchown(path, otherUID, otherUID); err != nil {
			t.Fatal(err)
		}
		if err := checkSocketOwner(path); !errors.Is(err, ErrUnsafeFolder) || !strings.Contains(err.Error(), "belongs to another user (uid 65534)") {
			t.Fatalf("another user's socket: %v; want ErrUnsafeFolder", err)
		}
	}
}

// TestAnotherUsersSocketIsRefused is the attack of the issue: another local user made the data
// folder (in the shared temporary folder) and serves a socket in it. A child process running as
// that user listens; the client's checks refuse it before anything is sent, both on the socket
// file and on the connection.
func TestAnotherUsersSocketIsRefused(t *testing.T) {
	needRoot(t)
	// The child runs this test binary as otherUID: a copy it can read and run, in a folder it can
	// reach.
	base, err := os.MkdirTemp("", "kith-other-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "peer.test")
	if err := copyFile(os.Args[0], bin, 0o755); err != nil {
		t.Fatal(err)
	}
	theirs := filepath.Join(base, "kith-b") // the folder the README suggests, made by them
	if err := os.Mkdir(theirs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(theirs, otherUID, otherUID); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(theirs, ControlSocket)
	cmd := exec.Command(bin, "-test.run=^TestSocketListenerChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "KITH_PEER_SOCKET_CHILD="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: otherUID, Gid: otherUID}}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "listening" {
				ready <- true
				io.Copy(io.Discard, out)
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("the child did not listen: %s", stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the child did not listen within 30 s: %s", stderr.String())
	}

	if err := checkSocketOwner(path); !errors.Is(err, ErrUnsafeFolder) || !strings.Contains(err.Error(), "uid 65534") {
		t.Fatalf("checkSocketOwner on another user's socket: %v; want ErrUnsafeFolder naming uid 65534", err)
	}
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := checkServer(conn); !errors.Is(err, ErrUnsafeFolder) || !strings.Contains(err.Error(), "uid 65534") {
		t.Fatalf("checkServer on another user's listener: %v; want ErrUnsafeFolder naming uid 65534", err)
	}
	// And Open refuses the folder itself.
	if _, err := openQuiet(theirs); !errors.Is(err, ErrUnsafeFolder) {
		t.Fatalf("Open of another user's folder: %v; want ErrUnsafeFolder", err)
	}
}

// TestSocketListenerChild is the other user's process of TestAnotherUsersSocketIsRefused.
func TestSocketListenerChild(t *testing.T) {
	path := os.Getenv("KITH_PEER_SOCKET_CHILD")
	if path == "" {
		t.Skip("only runs as the child of TestAnotherUsersSocketIsRefused")
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	os.Stdout.WriteString("listening\n")
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go io.Copy(io.Discard, conn) // what a thief would keep
	}
}

func copyFile(src, dst string, mode fs.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, mode)
}
