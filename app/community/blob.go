package community

// Blobs: files and pictures sent with a message. A blob is cut into chunks, each encrypted with a
// key derived from the epoch key and a salt of the blob's own, and named by the SHA-256 of its
// ciphertext, so that any member can serve chunks it cannot tell apart and the fetcher checks each
// chunk as it comes. The manifest — name, type, size, salt, the chunks' hashes and a small
// thumbnail — travels sealed inside the message; the blob's ID is the hash of the manifest.

import (
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/hkdf"
	"lukechampine.com/blake3"
)

// Bounds of blobs.
const (
	// BlobChunkSize is the size of every chunk but the last.
	BlobChunkSize = 256 << 10
	// SealedChunkSize is a whole chunk sealed: its bytes and the AEAD's tag.
	SealedChunkSize = BlobChunkSize + chacha20poly1305.Overhead
	// MaxBlobSize bounds one blob whatever a community allows (its owner sets a lower limit).
	MaxBlobSize = 2 << 30
	// MaxThumbSize bounds the thumbnail a sender makes of a picture.
	MaxThumbSize = 48 << 10
	// MaxBlobChunks is how many chunks MaxBlobSize makes.
	MaxBlobChunks = MaxBlobSize / BlobChunkSize
	// MaxFiles is how many files one post carries.
	MaxFiles = 10
	// maxManifestLen bounds one manifest's bytes.
	maxManifestLen = 1 + 2 + 255 + 2 + 100 + 10 + 16 + 3 + MaxBlobChunks*32 + 6 + 3 + MaxThumbSize
)

// LimitFileName bounds a file's name.
var LimitFileName = Limit{"file name", 255}

// ErrBadChunk is the answer to a chunk whose bytes do not match its hash, or do not open.
var ErrBadChunk = errors.New("community: a chunk of the file does not match its hash")

// Manifest describes a blob. The chunks' hashes are of their ciphertext.
type Manifest struct {
	Name          string
	Mime          string
	Size          uint64
	Salt          [16]byte
	Chunks        []Hash
	Width, Height uint32 // a picture's, else 0
	Thumb         []byte // a small picture the sender made (JPEG or PNG), or none
}

func (m *Manifest) encode(w *writer) {
	w.byte1(1)
	w.str(m.Name)
	w.str(m.Mime)
	w.uvarint(m.Size)
	w.fixed(m.Salt[:])
	w.uvarint(uint64(len(m.Chunks)))
	for _, c := range m.Chunks {
		w.hash(c)
	}
	w.uvarint(uint64(m.Width))
	w.uvarint(uint64(m.Height))
	w.bytes(m.Thumb)
}

// Encode is the manifest's canonical bytes.
func (m *Manifest) Encode() []byte {
	w := writer{}
	m.encode(&w)
	return w.b
}

// ID is the blob's name: the hash of its manifest.
func (m *Manifest) ID() Hash {
	return sha256.Sum256(append([]byte("kith blob v1\x00"), m.Encode()...))
}

// DecodeManifest reads a manifest (bounded) and checks that its chunks add up to its size.
func DecodeManifest(b []byte) (*Manifest, error) {
	r := reader{b: b}
	m := &Manifest{}
	if v := r.byte1(); r.err == nil && v != 1 {
		r.fail("manifest version (update Kith)")
	}
	m.Name = r.str(LimitFileName.Max)
	m.Mime = r.str(100)
	m.Size = r.upTo(MaxBlobSize)
	copy(m.Salt[:], r.fixed(16))
	n := r.count(MaxBlobChunks, 32)
	for range n {
		m.Chunks = append(m.Chunks, r.hash())
	}
	m.Width = uint32(r.upTo(1 << 16))
	m.Height = uint32(r.upTo(1 << 16))
	m.Thumb = r.bytes(MaxThumbSize)
	if err := r.done(); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if want := ChunksFor(m.Size); len(m.Chunks) != want {
		return nil, fmt.Errorf("%w: a manifest of %d bytes in %d chunks (want %d)", ErrMalformed, m.Size, len(m.Chunks), want)
	}
	if clean, err := CleanFileName(m.Name); err != nil || clean != m.Name {
		return nil, fmt.Errorf("%w: a file name no writer sends (%q)", ErrMalformed, m.Name)
	}
	return m, nil
}

// ChunksFor is how many chunks a blob of size bytes has (an empty blob has one, empty).
func ChunksFor(size uint64) int {
	if size == 0 {
		return 1
	}
	return int((size + BlobChunkSize - 1) / BlobChunkSize)
}

// chunkLen is the plaintext length of chunk i of a blob of size bytes.
func chunkLen(size uint64, i int) int {
	last := ChunksFor(size) - 1
	if i < last {
		return BlobChunkSize
	}
	return int(size - uint64(last)*BlobChunkSize)
}

// blobAEAD is the blob's cipher: its key derived from the epoch key and the blob's salt.
func blobAEAD(epochKey Key, salt [16]byte) (cipher.AEAD, error) {
	k := make([]byte, chacha20poly1305.KeySize)
	if _, err := io.ReadFull(hkdf.New(sha256.New, epochKey[:], salt[:], []byte("kith blob v1")), k); err != nil {
		return nil, err
	}
	return chacha20poly1305.NewX(k)
}

// chunkNonce is chunk i's nonce: its index (a blob's key is its own, so indexes never repeat).
func chunkNonce(i int) []byte {
	n := make([]byte, chacha20poly1305.NonceSizeX)
	binary.BigEndian.PutUint64(n[len(n)-8:], uint64(i))
	return n
}

// SealBlobTo reads a file of size bytes from r and returns its manifest, handing each encrypted
// chunk to emit as it is made (a file is never whole in memory; the sender stores them, members
// fetch them); an error from emit stops it. salt is random, from the caller.
func SealBlobTo(epochKey Key, salt [16]byte, name, mime string, size uint64, r io.Reader, emit func(i int, ct []byte) error) (*Manifest, error) {
	if size > MaxBlobSize {
		return nil, fieldErr(ErrTooLong, "a file of %d MiB is over the %d MiB any file may be", size>>20, MaxBlobSize>>20)
	}
	aead, err := blobAEAD(epochKey, salt)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Name: name, Mime: mime, Size: size, Salt: salt}
	n := ChunksFor(size)
	buf := make([]byte, BlobChunkSize)
	for i := range n {
		p := buf[:chunkLen(size, i)]
		if _, err := io.ReadFull(r, p); err != nil {
			return nil, fmt.Errorf("reading the file: %w (it changed while it was being sent?)", err)
		}
		ct := aead.Seal(nil, chunkNonce(i), p, nil)
		m.Chunks = append(m.Chunks, ChunkHash(ct))
		if err := emit(i, ct); err != nil {
			return nil, err
		}
	}
	if extra, _ := r.Read(buf[:1]); extra > 0 {
		return nil, errors.New("reading the file: it grew while it was being sent: send it again")
	}
	return m, nil
}

// ChunkHash names a sealed chunk: the BLAKE3-256 of its bytes. Every member that fetches a chunk
// checks it against its name, so the hash is on the path of every byte of every file: BLAKE3 is
// made for it, and takes half SHA-256's time here (SHA-NI; 3.2 against 1.6 GB/s on one core of
// the machine in docs/PERFORMANCE.md), and far less where SHA-256 has no instructions of its own
// (a Raspberry Pi 4).
func ChunkHash(ct []byte) Hash { return blake3.Sum256(ct) }

// CheckChunk reports whether ct is chunk i of the blob (its hash), without opening it: what a
// fetcher checks of each chunk a member serves, and what a server checks before it stores one.
func (m *Manifest) CheckChunk(i int, ct []byte) error {
	if i < 0 || i >= len(m.Chunks) {
		return fmt.Errorf("%w: no chunk %d", ErrBadChunk, i)
	}
	if ChunkHash(ct) != m.Chunks[i] {
		return ErrBadChunk
	}
	return nil
}

// OpenChunk checks chunk i and decrypts it.
func (m *Manifest) OpenChunk(epochKey Key, i int, ct []byte) ([]byte, error) {
	if err := m.CheckChunk(i, ct); err != nil {
		return nil, err
	}
	aead, err := blobAEAD(epochKey, m.Salt)
	if err != nil {
		return nil, err
	}
	p, err := aead.Open(nil, chunkNonce(i), ct, nil)
	if err != nil || len(p) != chunkLen(m.Size, i) {
		return nil, fmt.Errorf("%w: it does not open with this community's key", ErrBadChunk)
	}
	return p, nil
}

// CleanFileName is a file's name as Kith sends it: its last element, trimmed, in normal form,
// refused with a sentence when it is empty, over the limit, or holds a path separator or a
// control character (a name never names a folder on the receiver's disk).
func CleanFileName(name string) (string, error) {
	if strings.ContainsAny(name, "/\\") {
		return "", fieldErr(ErrBadText, "a file name holds no / or \\: %q names a folder", name)
	}
	if !utf8.ValidString(name) {
		return "", fieldErr(ErrBadText, "the file name is not valid text")
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == '\u202e' || r == '\u202d' {
			return "", fieldErr(ErrBadText, "the file name holds a control character (%U): rename the file", r)
		}
	}
	clean, err := LimitFileName.CleanName(name)
	if err != nil {
		return "", err
	}
	if clean == "." || clean == ".." || filepath.Base(clean) != clean {
		return "", fieldErr(ErrBadText, "%q is not a file name", clean)
	}
	return clean, nil
}
