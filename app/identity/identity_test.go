package identity

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreatePersistsWith0600(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	a, err := LoadOrCreate(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, want 0600", fi.Mode().Perm())
	}
	di, _ := os.Stat(dir)
	if di.Mode().Perm() != 0o700 {
		t.Fatalf("data folder mode = %v, want 0700", di.Mode().Perm())
	}
	b, err := LoadOrCreate(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !a.PublicKey().Equal(b.PublicKey()) || !bytes.Equal(a.X25519Public(), b.X25519Public()) {
		t.Fatal("reloaded identity differs from the created one")
	}
	sig, _ := b.Sign([]byte("hello"))
	if !ed25519.Verify(a.PublicKey(), []byte("hello"), sig) {
		t.Fatal("signature does not verify")
	}
}

func TestLoadTightensLoosePermissions(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadOrCreate(dir, nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(dir, nil); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after load = %v, want 0600", fi.Mode().Perm())
	}
}

func TestDamagedFileIsNeverOverwritten(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadOrCreate(dir, nil)
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("err = %v, want ErrDamaged", err)
	}
	b, _ := os.ReadFile(path)
	if string(b) != "not a key" {
		t.Fatal("damaged key file was overwritten")
	}
}

func TestSealOpenKey(t *testing.T) {
	alice, _ := New(nil)
	bob, _ := New(nil)
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var key [KeySize]byte
	rand.Read(key[:])
	sa, err := SealKey(eph, alice.X25519Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := SealKey(eph, bob.X25519Public(), key)
	if bytes.Equal(sa, sb) {
		t.Fatal("one ephemeral key sealed identical bytes to two recipients")
	}
	got, err := alice.OpenKey(eph.PublicKey().Bytes(), sa)
	if err != nil || got != key {
		t.Fatalf("alice opens: %v", err)
	}
	if _, err := bob.OpenKey(eph.PublicKey().Bytes(), sa); !errors.Is(err, ErrNotForMe) {
		t.Fatalf("bob opened alice's key: %v", err)
	}
	sa[3] ^= 1
	if _, err := alice.OpenKey(eph.PublicKey().Bytes(), sa); !errors.Is(err, ErrNotForMe) {
		t.Fatalf("tampered key opened: %v", err)
	}
}

func BenchmarkSign(b *testing.B) {
	id, _ := New(nil)
	msg := make([]byte, 200)
	for b.Loop() {
		id.Sign(msg)
	}
}

func BenchmarkVerify(b *testing.B) {
	id, _ := New(nil)
	msg := make([]byte, 200)
	sig, _ := id.Sign(msg)
	pub := id.PublicKey()
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("verify failed")
		}
	}
}

// TestEveryFlippedBitIsRefused flips each bit of a key file in turn: every one is refused with
// ErrDamaged (none loads as another identity), and the file is left as it was.
func TestEveryFlippedBitIsRefused(t *testing.T) {
	dir := t.TempDir()
	if _, err := Create(dir, nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(good) != fileSize || !bytes.HasPrefix(good, fileMagic) {
		t.Fatalf("a new key file is %d bytes starting %q; want version 2", len(good), good[:min(len(good), 17)])
	}
	for i := range good {
		for bit := range 8 {
			bad := bytes.Clone(good)
			bad[i] ^= 1 << bit
			if err := os.WriteFile(path, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(dir, nil); !errors.Is(err, ErrDamaged) {
				t.Fatalf("byte %d bit %d flipped: Load = %v; want ErrDamaged", i, bit, err)
			}
			if b, _ := os.ReadFile(path); !bytes.Equal(b, bad) {
				t.Fatalf("byte %d bit %d flipped: the damaged file was overwritten", i, bit)
			}
		}
	}
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir, nil); err != nil {
		t.Fatalf("the restored file: %v", err)
	}
}

func TestCutOrLongerKeyFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	if _, err := Create(dir, nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	good, _ := os.ReadFile(path)
	for _, bad := range [][]byte{nil, good[:len(good)-1], good[:fileSizeV1], append(bytes.Clone(good), '\n')} {
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(dir, nil)
		if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "restore it from a backup") {
			t.Fatalf("%d bytes: Load = %v; want ErrDamaged saying what to do", len(bad), err)
		}
	}
}

func TestVersion1IsReadAndRewrittenWithAChecksum(t *testing.T) {
	dir := t.TempDir()
	id, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	v1 := append(append(bytes.Clone(fileMagicV1), id.ed.Seed()...), id.x.Bytes()...)
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, v1, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !got.PublicKey().Equal(id.PublicKey()) || !bytes.Equal(got.X25519Public(), id.X25519Public()) {
		t.Fatal("a version 1 file loaded as another identity")
	}
	b, _ := os.ReadFile(path)
	if len(b) != fileSize || !bytes.HasPrefix(b, fileMagic) {
		t.Fatalf("after loading, the file is %d bytes starting %q; want it rewritten as version 2", len(b), b[:17])
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("rewritten key file mode = %v, want 0600", fi.Mode().Perm())
	}
	again, err := Load(dir, nil)
	if err != nil || !again.PublicKey().Equal(id.PublicKey()) {
		t.Fatalf("reloading the rewritten file: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, FileName+".tmp*")); len(m) != 0 {
		t.Fatalf("temporary files left behind: %v", m)
	}
}

func TestLoadNeverCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	_, err := Load(dir, nil)
	if !errors.Is(err, ErrMissing) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load of a missing folder = %v; want ErrMissing", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load created %s (%v)", dir, err)
	}
}

// TestInstallFromABackup: an identity's key file, read back with Parse, installs into a new
// folder as the same identity (0600, loaded by Load); a folder with a key file already keeps
// its own, byte for byte; a damaged key file does not parse.
func TestInstallFromABackup(t *testing.T) {
	id, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(id.KeyFile())
	if err != nil || !back.PublicKey().Equal(id.PublicKey()) {
		t.Fatalf("Parse(KeyFile()): %v", err)
	}
	dir := filepath.Join(t.TempDir(), "new")
	if err := Install(dir, back, nil); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(dir, nil)
	if err != nil || !loaded.PublicKey().Equal(id.PublicKey()) {
		t.Fatalf("Load after Install: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, FileName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the installed key file: %v, %v", fi.Mode(), err)
	}
	other := t.TempDir()
	mine, err := Create(other, nil)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(other, FileName))
	if err := Install(other, back, nil); !errors.Is(err, ErrExists) || !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Install over a key file: %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(other, FileName)); !bytes.Equal(before, after) {
		t.Fatal("Install changed the folder's key file")
	}
	if again, _ := Load(other, nil); !again.PublicKey().Equal(mine.PublicKey()) {
		t.Fatal("the folder's identity changed")
	}
	if left, _ := filepath.Glob(filepath.Join(other, FileName+".tmp*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	bad := id.KeyFile()
	bad[30] ^= 1
	if _, err := Parse(bad); !errors.Is(err, ErrDamaged) {
		t.Fatalf("a damaged key file: %v", err)
	}
	if _, err := Parse(bad[:40]); !errors.Is(err, ErrDamaged) {
		t.Fatalf("a cut key file: %v", err)
	}
}
