package backup

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"
)

// small are the cheapest costs Open accepts: the tests derive many keys.
var small = Params{Time: 1, MemoryKiB: minMemoryKiB, Threads: 1}

const pass = "glaze and kiln 2026"

func sealed(t testing.TB) ([]byte, []byte) {
	t.Helper()
	contents := []byte(`{"version":1,"identity":"…"}`)
	file, err := Seal(contents, pass, small, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return file, contents
}

// TestSealAndOpen: what Seal sealed opens with its passphrase, typed in either Unicode form, and
// with no other; two seals of the same contents differ (salt and nonce).
func TestSealAndOpen(t *testing.T) {
	file, contents := sealed(t)
	if got, err := Open(file, pass); err != nil || !bytes.Equal(got, contents) {
		t.Fatalf("Open: %q, %v", got, err)
	}
	if _, err := Open(file, "glaze and kiln 2027"); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("a wrong passphrase: %v", err)
	}
	nfc, nfd := "Crème brûlée glaze", "Cre\u0300me bru\u0302le\u0301e glaze"
	f2, err := Seal(contents, nfc, small, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(f2, nfd); err != nil {
		t.Fatalf("the passphrase typed decomposed: %v", err)
	}
	again, _ := Seal(contents, pass, small, rand.Reader)
	if bytes.Equal(again[:headerLen], file[:headerLen]) {
		t.Fatal("two backups share a salt and nonce")
	}
	if _, err := Seal(contents, "short", small, rand.Reader); !errors.Is(err, ErrWeakPassphrase) {
		t.Fatalf("a short passphrase: %v", err)
	}
	if _, err := Seal(contents, pass, Params{Time: 1, MemoryKiB: 4 << 20, Threads: 1}, rand.Reader); err == nil {
		t.Fatal("Seal wrote costs Open refuses")
	}
}

// TestOpenBadFiles: a file cut at any length, with any byte flipped, of another version, or with
// costs past the bounds (and a checksum that matches) fails with its own error, never a panic,
// and never by deriving a key it should not.
func TestOpenBadFiles(t *testing.T) {
	file, _ := sealed(t)
	for n := range len(file) {
		_, err := Open(file[:n], pass)
		if !errors.Is(err, ErrTruncated) && !(n == 0 && errors.Is(err, ErrNotBackup)) {
			t.Fatalf("cut to %d bytes: %v", n, err)
		}
	}
	for i := range file {
		bad := bytes.Clone(file)
		bad[i] ^= 0x20
		_, err := Open(bad, pass)
		switch {
		case i < len(magic):
			if !errors.Is(err, ErrNotBackup) {
				t.Fatalf("byte %d of the magic flipped: %v", i, err)
			}
		case i == 12 || i == 13:
			if !errors.Is(err, ErrVersion) {
				t.Fatalf("byte %d (version, kdf) flipped: %v", i, err)
			}
		case i >= 76 && i < 80: // the length: the file is then short or long
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrDamaged) {
				t.Fatalf("byte %d (length) flipped: %v", i, err)
			}
		default:
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("byte %d flipped: %v", i, err)
			}
		}
	}
	if _, err := Open(append(bytes.Clone(file), 0), pass); !errors.Is(err, ErrDamaged) {
		t.Fatalf("a byte added: %v", err)
	}
	if _, err := Open([]byte("%PDF-1.7 not a backup at all"), pass); !errors.Is(err, ErrNotBackup) {
		t.Fatalf("another file: %v", err)
	}
	if _, err := Open(make([]byte, MaxSize+1), pass); !errors.Is(err, ErrNotBackup) {
		t.Fatalf("a file over the largest: %v", err)
	}
	// A crafted file: 4 GiB of memory asked, the checksum made to match. Refused before any key.
	huge := bytes.Clone(file)
	binary.BigEndian.PutUint32(huge[16:20], 4<<20)
	resum(huge)
	if _, err := Open(huge, pass); !errors.Is(err, ErrDamaged) {
		t.Fatalf("4 GiB asked: %v", err)
	}
	v2 := bytes.Clone(file)
	v2[12] = 2
	resum(v2)
	if _, err := Open(v2, pass); !errors.Is(err, ErrVersion) {
		t.Fatalf("version 2: %v", err)
	}
	// A sealed part changed and the checksum made to match: the passphrase is right, the
	// contents do not decrypt.
	changed := bytes.Clone(file)
	changed[headerLen+3] ^= 1
	resum(changed)
	if _, err := Open(changed, pass); !errors.Is(err, ErrDamaged) {
		t.Fatalf("sealed bytes changed under a good checksum: %v", err)
	}
}

// resum writes a file's checksum again after a change.
func resum(file []byte) {
	n := len(file) - trailerLen
	sum := sha256.Sum256(file[:n])
	copy(file[n:], sum[:])
}
