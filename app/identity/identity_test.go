package identity

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
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
