// Package backup is the file a Kith install's backup travels in: its contents sealed with a key
// derived from a passphrase (Argon2id, then XChaCha20-Poly1305), and read back with a sentence
// for each way it can fail. What goes inside is the caller's.
package backup

import (
	"bytes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/text/unicode/norm"
)

// The file:
//
//	header  = magic "kith-backup\n"[12] | version[1]=1 | kdf[1]=1 (Argon2id) | time[1] | threads[1]
//	          | memory KiB[4, big-endian] | salt[16] | nonce[24] | check[16] | length[4, big-endian]
//	file    = header | XChaCha20-Poly1305(key, nonce, contents, aad = header)[length] | SHA-256(header | sealed)[32]
//	key     = Argon2id(NFC(passphrase), salt, time, memory, threads, 32 bytes)
//	check   = SHA-256("kith backup check v1\0" | key)[:16]
//
// The checksum tells a damaged or cut file from a wrong passphrase before any key is derived;
// the check tells a wrong passphrase from damage the checksum could not see.
const (
	magic      = "kith-backup\n"
	version    = 1
	kdfArgon2  = 1
	headerLen  = 80
	trailerLen = sha256.Size
	// MaxSize bounds a backup file: Open refuses a longer one (a caller reads at most MaxSize+1
	// bytes of a file).
	MaxSize = 16 << 20
	// MinPassphrase is the fewest characters Seal takes.
	MinPassphrase = 8
)

// Params are the key derivation's costs, written in the file.
type Params struct {
	Time      uint8  // passes over the memory
	MemoryKiB uint32 // memory, in KiB
	Threads   uint8
}

// DefaultParams take about a second and 256 MiB on a small computer: what a guess costs.
var DefaultParams = Params{Time: 3, MemoryKiB: 256 << 10, Threads: 4}

// Bounds of Params read from a file, checked before anything is allocated: twice the defaults
// at most, so a crafted file cannot make Open take more than 512 MiB or a few seconds.
const (
	minMemoryKiB = 8 << 10
	maxMemoryKiB = 512 << 10
	maxTime      = 6
	maxThreads   = 8
)

func (p Params) check() error {
	if p.Time < 1 || p.Time > maxTime || p.Threads < 1 || p.Threads > maxThreads || p.MemoryKiB < minMemoryKiB || p.MemoryKiB > maxMemoryKiB {
		return fmt.Errorf("%w: its key derivation asks for %d passes over %d MiB with %d threads, which Kith never writes", ErrDamaged, p.Time, p.MemoryKiB>>10, p.Threads)
	}
	return nil
}

// The ways Open fails; each error's text is a sentence that says what to do.
var (
	ErrNotBackup  = errors.New("this is not a Kith backup: choose the file `kithd backup` or Back up… wrote")
	ErrTruncated  = errors.New("this backup is cut short (copied before it was whole?): copy it again from where it was made")
	ErrDamaged    = errors.New("this backup is damaged: use another copy of it")
	ErrVersion    = errors.New("this backup was made by a newer Kith: update Kith, then restore it")
	ErrPassphrase = errors.New("the passphrase does not open this backup: type it again (capitals and spaces count); nothing was changed")
	// ErrWeakPassphrase is Seal's answer to a passphrase shorter than MinPassphrase.
	ErrWeakPassphrase = fmt.Errorf("a backup's passphrase is %d characters at least: a longer one keeps the key safe if the file is taken", MinPassphrase)
)

// Seal writes contents into a backup file opened by passphrase, with a fresh salt and nonce
// from rand.
func Seal(contents []byte, passphrase string, p Params, rand io.Reader) ([]byte, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	pass := norm.NFC.String(passphrase)
	if utf8.RuneCountInString(pass) < MinPassphrase {
		return nil, ErrWeakPassphrase
	}
	if len(contents) > MaxSize-headerLen-trailerLen-chacha20poly1305.Overhead {
		return nil, fmt.Errorf("backup: the contents (%d bytes) do not fit in a backup", len(contents))
	}
	h := make([]byte, headerLen)
	copy(h, magic)
	h[12], h[13], h[14], h[15] = version, kdfArgon2, p.Time, p.Threads
	binary.BigEndian.PutUint32(h[16:20], p.MemoryKiB)
	if _, err := io.ReadFull(rand, h[20:60]); err != nil { // salt and nonce
		return nil, fmt.Errorf("backup: %w", err)
	}
	key := deriveKey(pass, h)
	c := checkOf(key)
	copy(h[60:76], c[:])
	binary.BigEndian.PutUint32(h[76:80], uint32(len(contents)+chacha20poly1305.Overhead))
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	out := aead.Seal(slices.Clone(h), h[36:60], contents, h) // (the output may not share the header's memory)
	sum := sha256.Sum256(out)
	return append(out, sum[:]...), nil
}

// Open reads a backup file with its passphrase and returns what Seal sealed, or an error
// wrapping one of ErrNotBackup, ErrTruncated, ErrDamaged, ErrVersion and ErrPassphrase.
func Open(file []byte, passphrase string) ([]byte, error) {
	h, sealed, err := check(file)
	if err != nil {
		return nil, err
	}
	key := deriveKey(norm.NFC.String(passphrase), h)
	if c := checkOf(key); !bytes.Equal(c[:16], h[60:76]) {
		return nil, ErrPassphrase
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	contents, err := openSealed(aead, h, sealed)
	if err != nil {
		return nil, fmt.Errorf("%w (it does not decrypt)", ErrDamaged)
	}
	return contents, nil
}

// Check says whether file is a whole backup this Kith can open, without the passphrase (so
// without its cost): nil, or Open's error for anything but the passphrase.
func Check(file []byte) error {
	_, _, err := check(file)
	return err
}

// check reads a backup file's header and checks its length, checksum and costs: what Open
// checks before it derives a key.
func check(file []byte) (h, sealed []byte, err error) {
	switch {
	case len(file) > MaxSize:
		return nil, nil, fmt.Errorf("%w (%d MiB: no backup is over %d)", ErrNotBackup, len(file)>>20, MaxSize>>20)
	case len(file) < len(magic):
		if len(file) > 0 && bytes.HasPrefix([]byte(magic), file) {
			return nil, nil, ErrTruncated
		}
		return nil, nil, ErrNotBackup
	case string(file[:len(magic)]) != magic:
		return nil, nil, ErrNotBackup
	case len(file) <= 12:
		return nil, nil, ErrTruncated
	case file[12] != version:
		return nil, nil, fmt.Errorf("%w (its version is %d)", ErrVersion, file[12])
	case len(file) < headerLen:
		return nil, nil, fmt.Errorf("%w: %d bytes of the header's %d", ErrTruncated, len(file), headerLen)
	case file[13] != kdfArgon2:
		return nil, nil, fmt.Errorf("%w (its key derivation is number %d)", ErrVersion, file[13])
	}
	h = file[:headerLen]
	length := uint64(binary.BigEndian.Uint32(h[76:80])) // (in 64 bits: no sum wraps, even where int is 32)
	if length < chacha20poly1305.Overhead || length > MaxSize {
		return nil, nil, fmt.Errorf("%w (its length field says %d bytes)", ErrDamaged, length)
	}
	total := headerLen + int(length) + trailerLen
	switch {
	case len(file) < total:
		return nil, nil, fmt.Errorf("%w: %d bytes of %d", ErrTruncated, len(file), total)
	case len(file) > total:
		return nil, nil, fmt.Errorf("%w: %d bytes after its end", ErrDamaged, len(file)-total)
	}
	if sum := sha256.Sum256(file[:total-trailerLen]); !bytes.Equal(sum[:], file[total-trailerLen:]) {
		return nil, nil, fmt.Errorf("%w (its checksum does not match)", ErrDamaged)
	}
	p := Params{Time: h[14], Threads: h[15], MemoryKiB: binary.BigEndian.Uint32(h[16:20])}
	if err := p.check(); err != nil {
		return nil, nil, err
	}
	return h, file[headerLen : total-trailerLen], nil
}

func openSealed(aead cipher.AEAD, h, sealed []byte) ([]byte, error) {
	return aead.Open(nil, h[36:60], sealed, h)
}

// deriveKey is the key of the header's salt and costs (h[14:36]).
func deriveKey(pass string, h []byte) []byte {
	return argon2.IDKey([]byte(pass), h[20:36], uint32(h[14]), binary.BigEndian.Uint32(h[16:20]), h[15], chacha20poly1305.KeySize)
}

func checkOf(key []byte) [sha256.Size]byte {
	return sha256.Sum256(append([]byte("kith backup check v1\x00"), key...))
}
