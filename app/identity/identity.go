// Package identity holds the install's keys: the Ed25519 key that signs its events and is its
// peer identity, and the X25519 key that content keys are sealed to. Private keys never leave
// an Identity: callers get a Signer and an Opener. It imports the standard library and
// golang.org/x/crypto only (never Fyne, libp2p or Badger).
package identity

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
)

// FileName is the name of the key file inside the data folder.
const FileName = "identity.key"

// The key file, version 2: magic, Ed25519 seed, X25519 private key, and the SHA-256 of all
// that, so that a flipped bit is refused instead of loading as another identity. Version 1 (the
// same without the checksum) is still read, and rewritten as version 2 when it loads.
var (
	fileMagic   = []byte("kith-identity-v2\n")
	fileMagicV1 = []byte("kith-identity-v1\n")
)

const keysSize = ed25519.SeedSize + 32

// fileSize and fileSizeV1 are the exact sizes of key files of each version.
var (
	fileSize   = len(fileMagic) + keysSize + sha256.Size
	fileSizeV1 = len(fileMagicV1) + keysSize
)

// Errors callers branch on; the errors returned wrap them with %w and say what to do.
var (
	// ErrDamaged is returned when the key file exists but cannot be read as a key.
	ErrDamaged = errors.New("identity: the key file is damaged")
	// ErrMissing is returned by Load when the data folder has no key file.
	ErrMissing = errors.New("identity: the key file is missing")
	// ErrExists is Install's answer for a data folder that has a key file already (it wraps
	// fs.ErrExist): the file is left as it is.
	ErrExists = fmt.Errorf("identity: this data folder has an identity already: %w", fs.ErrExist)
)

// Signer signs messages with a key it never hands out. *Identity is one.
type Signer interface {
	// PublicKey returns the Ed25519 public key that verifies the signatures.
	PublicKey() ed25519.PublicKey
	// Sign returns an Ed25519 signature of msg.
	Sign(msg []byte) ([]byte, error)
}

// Identity is one install's key pair: Ed25519 for signing, X25519 for receiving sealed keys.
// It is safe for concurrent use.
type Identity struct {
	ed ed25519.PrivateKey
	x  *ecdh.PrivateKey
}

// New makes a fresh identity from rand (crypto/rand when nil). It is not stored anywhere.
func New(r io.Reader) (*Identity, error) {
	if r == nil {
		r = rand.Reader
	}
	var raw [ed25519.SeedSize + 32]byte
	if _, err := io.ReadFull(r, raw[:]); err != nil {
		return nil, fmt.Errorf("identity: reading randomness: %w", err)
	}
	return fromBytes(raw[:ed25519.SeedSize], raw[ed25519.SeedSize:])
}

func fromBytes(seed, xpriv []byte) (*Identity, error) {
	x, err := ecdh.X25519().NewPrivateKey(xpriv)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	return &Identity{ed: ed25519.NewKeyFromSeed(seed), x: x}, nil
}

// LoadOrCreate reads the identity from dir/identity.key, creating the folder (0700) and a new
// key file (0600) on first start: Load, then Create when the key is missing. It never looks at
// what else the folder holds; app/peer.Open refuses to make a new identity in a folder that had
// one.
func LoadOrCreate(dir string, log *slog.Logger) (*Identity, error) {
	id, err := Load(dir, log)
	if errors.Is(err, ErrMissing) {
		return Create(dir, log)
	}
	return id, err
}

// Load reads the identity from dir/identity.key. It fails with an error wrapping ErrMissing
// (and fs.ErrNotExist) when there is no key file, and ErrDamaged when the file is not a whole
// key file or fails its checksum; a damaged file is never overwritten. A key file readable by
// others is tightened to 0600 with a warning, and a version 1 file (no checksum) is rewritten
// as version 2.
func Load(dir string, log *slog.Logger) (*Identity, error) {
	if log == nil {
		log = slog.Default()
	}
	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return load(path, b, log)
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w: there is no %s (%w)", ErrMissing, path, fs.ErrNotExist)
	default:
		return nil, fmt.Errorf("identity: reading %s: %w (check that this user owns the data folder)", path, err)
	}
}

// Create makes a new identity and saves it as dir/identity.key (0600), creating the folder
// (0700) if missing. When the file appeared meanwhile (another process starting on the same
// new folder), it loads that one instead of replacing it.
func Create(dir string, log *slog.Logger) (*Identity, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("identity: creating the data folder %s: %w (check its permissions)", dir, err)
	}
	return create(filepath.Join(dir, FileName), log)
}

// keysOf reads a key file's keys (version 2, checked; or 1); v1 says it has no checksum.
func keysOf(path string, b []byte) (keys []byte, v1 bool, err error) {
	switch {
	case len(b) == fileSize && bytes.HasPrefix(b, fileMagic):
		body := b[:len(b)-sha256.Size]
		sum := sha256.Sum256(body)
		if subtle.ConstantTimeCompare(sum[:], b[len(body):]) != 1 {
			return nil, false, fmt.Errorf("%w: %s fails its checksum: restore it from a backup (Kith will not make a new identity over it)", ErrDamaged, path)
		}
		return body[len(fileMagic):], false, nil
	case len(b) == fileSizeV1 && bytes.HasPrefix(b, fileMagicV1):
		return b[len(fileMagicV1):], true, nil
	}
	return nil, false, fmt.Errorf("%w: %s is not a whole Kith key file (%d bytes): restore it from a backup (Kith will not make a new identity over it)", ErrDamaged, path, len(b))
}

// KeyFile is id's key file (version 2), for a backup only: whoever holds it is this member.
func (id *Identity) KeyFile() []byte { return id.fileBytes() }

// Parse reads a key file's bytes, as Load reads the file (a backup carries one).
func Parse(b []byte) (*Identity, error) {
	keys, _, err := keysOf("the key", b)
	if err != nil {
		return nil, err
	}
	return fromBytes(keys[:ed25519.SeedSize], keys[ed25519.SeedSize:])
}

// Install saves id as dir/identity.key (0600), making the folder (0700) if missing: a restore.
// A key file already there is never replaced, whatever it holds (ErrExists).
func Install(dir string, id *Identity, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("identity: creating the data folder %s: %w (check its permissions)", dir, err)
	}
	path := filepath.Join(dir, FileName)
	tmp, err := writeTemp(path, id.fileBytes())
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w (%s)", ErrExists, path)
	} else if err != nil {
		return fmt.Errorf("identity: saving %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	log.Info("identity: installed a key from a backup", "path", path)
	return nil
}

func load(path string, b []byte, log *slog.Logger) (*Identity, error) {
	keys, v1, err := keysOf(path, b)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("identity: key file was readable by others; tightening to 0600", "path", path, "mode", fi.Mode().Perm().String())
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("identity: tightening permissions of %s: %w", path, err)
		}
	}
	id, err := fromBytes(keys[:ed25519.SeedSize], keys[ed25519.SeedSize:])
	if err != nil {
		return nil, fmt.Errorf("%w (file %s: restore it from a backup)", err, path)
	}
	if v1 {
		if err := replace(path, id.fileBytes()); err != nil {
			log.Warn("identity: the key file could not be rewritten with a checksum; it still works", "path", path, "err", err)
		} else {
			log.Info("identity: the key file now carries a checksum", "path", path)
		}
	}
	return id, nil
}

// fileBytes is the key file (version 2) of id.
func (id *Identity) fileBytes() []byte {
	data := make([]byte, 0, fileSize)
	data = append(data, fileMagic...)
	data = append(data, id.ed.Seed()...)
	data = append(data, id.x.Bytes()...)
	sum := sha256.Sum256(data)
	return append(data, sum[:]...)
}

// writeTemp writes data to a new temporary file (0600) beside path, fsynced, and returns its
// name.
func writeTemp(path string, data []byte) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), FileName+".tmp*")
	if err != nil {
		return "", fmt.Errorf("identity: creating a key file in %s: %w (check the data folder's permissions)", filepath.Dir(path), err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("identity: writing %s: %w (is the disk full?)", tmp, err)
	}
	return tmp, nil
}

// replace replaces the key file at path with data: a temporary file, fsynced, renamed over it,
// and the folder fsynced, so that a crash leaves the old file or the new one.
func replace(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("identity: replacing %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// syncDir fsyncs folder dir, so that a rename or a link in it is durable (not on Windows, which
// cannot sync a folder).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("identity: syncing %s: %w", dir, err)
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("identity: syncing %s: %w", dir, err)
	}
	return nil
}

func create(path string, log *slog.Logger) (*Identity, error) {
	id, err := New(nil)
	if err != nil {
		return nil, err
	}
	// Write a temporary file of our own, then link it in place: a crash never leaves half a key
	// behind, and when two processes start on a new folder at once, the second one loads the key
	// the first saved instead of replacing it (which would give the install two identities).
	tmp, err := writeTemp(path, id.fileBytes())
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); errors.Is(err, fs.ErrExist) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("identity: reading %s: %w", path, err)
		}
		return load(path, b, log)
	} else if err != nil {
		return nil, fmt.Errorf("identity: saving %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		log.Warn("identity: the new key file may not survive a power cut", "path", path, "err", err)
	}
	log.Info("identity: created a new key", "path", path)
	return id, nil
}

// PublicKey returns the Ed25519 public key: the member's author key and peer identity.
func (id *Identity) PublicKey() ed25519.PublicKey {
	return id.ed.Public().(ed25519.PublicKey)
}

// Sign signs msg with the Ed25519 key. It never fails for a loaded identity.
func (id *Identity) Sign(msg []byte) ([]byte, error) {
	return ed25519.Sign(id.ed, msg), nil
}

// X25519Public returns the public half of the key that content keys are sealed to.
func (id *Identity) X25519Public() []byte {
	return id.x.PublicKey().Bytes()
}

// TransportKey hands out the Ed25519 private key for one purpose only: the libp2p host's
// identity, whose handshake (Noise, TLS) must sign with it, so that a peer's ID is its member
// key. Only cmd/* wiring calls it; everything else signs through Signer.
func (id *Identity) TransportKey() ed25519.PrivateKey { return id.ed }
