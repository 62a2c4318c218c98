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
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// FileName is the name of the key file inside the data folder.
const FileName = "identity.key"

// fileMagic starts the key file; it names the format version.
var fileMagic = []byte("kith-identity-v1\n")

// fileSize is the exact size of a key file: magic, Ed25519 seed, X25519 private key.
var fileSize = len(fileMagic) + ed25519.SeedSize + 32

// ErrDamaged is returned when the key file exists but cannot be read as a key.
var ErrDamaged = errors.New("identity: the key file is damaged")

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
// key file (0600) on first start. A key file readable by others is tightened to 0600 with a
// warning. A damaged file is never overwritten: the error says how to recover.
func LoadOrCreate(dir string, log *slog.Logger) (*Identity, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("identity: creating the data folder %s: %w (check its permissions)", dir, err)
	}
	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return load(path, b, log)
	case errors.Is(err, fs.ErrNotExist):
		return create(path, log)
	default:
		return nil, fmt.Errorf("identity: reading %s: %w (check that this user owns the data folder)", path, err)
	}
}

func load(path string, b []byte, log *slog.Logger) (*Identity, error) {
	if len(b) != fileSize || !bytes.HasPrefix(b, fileMagic) {
		return nil, fmt.Errorf("%w: %s is not a Kith key file (restore it from a backup, or move it away to start again as a new member)", ErrDamaged, path)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("identity: key file was readable by others; tightening to 0600", "path", path, "mode", fi.Mode().Perm().String())
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("identity: tightening permissions of %s: %w", path, err)
		}
	}
	rest := b[len(fileMagic):]
	id, err := fromBytes(rest[:ed25519.SeedSize], rest[ed25519.SeedSize:])
	if err != nil {
		return nil, fmt.Errorf("%w (file %s: restore it from a backup)", err, path)
	}
	return id, nil
}

func create(path string, log *slog.Logger) (*Identity, error) {
	id, err := New(nil)
	if err != nil {
		return nil, err
	}
	data := make([]byte, 0, fileSize)
	data = append(data, fileMagic...)
	data = append(data, id.ed.Seed()...)
	data = append(data, id.x.Bytes()...)
	// Write a temporary file of our own, then link it in place: a crash never leaves half a key
	// behind, and when two processes start on a new folder at once, the second one loads the key
	// the first saved instead of replacing it (which would give the install two identities).
	f, err := os.CreateTemp(filepath.Dir(path), FileName+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("identity: creating a key file in %s: %w (check the data folder's permissions)", filepath.Dir(path), err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return nil, fmt.Errorf("identity: writing %s: %w (is the disk full?)", tmp, err)
	}
	if err := os.Link(tmp, path); errors.Is(err, fs.ErrExist) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("identity: reading %s: %w", path, err)
		}
		return load(path, b, log)
	} else if err != nil {
		return nil, fmt.Errorf("identity: saving %s: %w", path, err)
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
