package community

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/kith-app/kith/app/identity"
)

// KeySize is the size of a content (epoch) key.
const KeySize = identity.KeySize

// Key is a content key of one epoch.
type Key [KeySize]byte

// ErrNoKey is returned when an event's epoch key is not held here (yet).
var ErrNoKey = errors.New("community: the key of this event's epoch is not held on this device")

// ErrDecrypt is returned when sealed content does not open with the epoch key.
var ErrDecrypt = errors.New("community: content does not decrypt with its epoch key")

// contentAAD binds sealed content to its community, epoch, author and kind.
func contentAAD(community, epoch Hash, author ed25519.PublicKey, k Kind) []byte {
	b := make([]byte, 0, 32+32+32+2+16)
	b = append(b, "kith content v1"...)
	b = append(b, community[:]...)
	b = append(b, epoch[:]...)
	b = append(b, author...)
	return append(b, byte(k>>8), byte(k))
}

// SealContent encrypts a content body with the epoch key (XChaCha20-Poly1305, random nonce):
// the bytes to put in Draft.Body.
func SealContent(key Key, community, epoch Hash, author ed25519.PublicKey, c *Content, rand io.Reader) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return nil, err
	}
	if err := LimitText.Check(c.Text); err != nil {
		return nil, err
	}
	plain, err := Encode(c)
	if err != nil {
		return nil, err
	}
	out := make([]byte, chacha20poly1305.NonceSizeX, chacha20poly1305.NonceSizeX+len(plain)+aead.Overhead())
	if _, err := io.ReadFull(rand, out); err != nil {
		return nil, fmt.Errorf("community: reading randomness: %w", err)
	}
	return aead.Seal(out, out, plain, contentAAD(community, epoch, author, c.Kind())), nil
}

// openContent decrypts and decodes a content event's body with key.
func openContent(key Key, e *Event) (*Content, error) {
	if !e.Kind.Content() {
		return nil, fmt.Errorf("%w: %s is not a content kind", ErrMalformed, e.Kind)
	}
	if e.Body == nil {
		return nil, fmt.Errorf("community: the body of %s was dropped", e.ID.Short())
	}
	if len(e.Body) < chacha20poly1305.NonceSizeX+chacha20poly1305.Overhead {
		return nil, ErrDecrypt
	}
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return nil, err
	}
	n := chacha20poly1305.NonceSizeX
	plain, err := aead.Open(nil, e.Body[:n], e.Body[n:], contentAAD(e.CommunityID(), e.Epoch, e.Author, e.Kind))
	if err != nil {
		return nil, ErrDecrypt
	}
	c := NewContent(e.Kind)
	if _, err := decodeBodyInto(c, plain); err != nil {
		return nil, err
	}
	return c, nil
}

// sealPrevKey encrypts the previous epoch's key under the new one, so that a holder of the new
// key can read back.
func sealPrevKey(newKey, prevKey Key, prevEpoch Hash, rand io.Reader) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(newKey[:])
	if err != nil {
		return nil, err
	}
	out := make([]byte, chacha20poly1305.NonceSizeX, chacha20poly1305.NonceSizeX+KeySize+aead.Overhead())
	if _, err := io.ReadFull(rand, out); err != nil {
		return nil, fmt.Errorf("community: reading randomness: %w", err)
	}
	return aead.Seal(out, out, prevKey[:], append([]byte("kith prev key v1"), prevEpoch[:]...)), nil
}

func openPrevKey(newKey Key, prevEpoch Hash, sealed []byte) (Key, error) {
	var k Key
	n := chacha20poly1305.NonceSizeX
	if len(sealed) != n+KeySize+chacha20poly1305.Overhead {
		return k, ErrDecrypt
	}
	aead, err := chacha20poly1305.NewX(newKey[:])
	if err != nil {
		return k, err
	}
	if _, err := aead.Open(k[:0], sealed[:n], sealed[n:], append([]byte("kith prev key v1"), prevEpoch[:]...)); err != nil {
		return Key{}, ErrDecrypt
	}
	return k, nil
}

// Recipient is a member a key is sealed to.
type Recipient struct {
	Key    ed25519.PublicKey
	X25519 []byte
}

// NewRotation makes the body of a key rotation: a fresh key sealed to every recipient with one
// ephemeral X25519 key, and the previous epoch's key sealed under the new key. After building
// the event, add the new key to the keyring under the event's ID (the new epoch's name).
func NewRotation(prevEpoch Hash, prevKey Key, to []Recipient, rand io.Reader) (*RotateKey, Key, error) {
	var key Key
	if _, err := io.ReadFull(rand, key[:]); err != nil {
		return nil, key, fmt.Errorf("community: reading randomness: %w", err)
	}
	eph, err := ecdh.X25519().GenerateKey(rand)
	if err != nil {
		return nil, key, err
	}
	body := &RotateKey{PrevEpoch: prevEpoch, EphemeralKey: eph.PublicKey().Bytes(), KeyCheck: KeyCheck(key)}
	if body.PrevKey, err = sealPrevKey(key, prevKey, prevEpoch, rand); err != nil {
		return nil, key, err
	}
	for _, r := range to {
		s, err := identity.SealKey(eph, r.X25519, key)
		if err != nil {
			return nil, key, fmt.Errorf("community: sealing to %x: %w", r.Key[:4], err)
		}
		body.Keys = append(body.Keys, SealedKey{Member: r.Key, Sealed: s})
	}
	return body, key, nil
}

// SealTo seals an epoch key to one recipient with a fresh ephemeral key: the ephemeral public
// key and the sealed key, as Join and ShareKey carry them.
func SealTo(key Key, x25519Pub []byte, rand io.Reader) (eph, sealed []byte, err error) {
	e, err := ecdh.X25519().GenerateKey(rand)
	if err != nil {
		return nil, nil, err
	}
	s, err := identity.SealKey(e, x25519Pub, key)
	if err != nil {
		return nil, nil, err
	}
	return e.PublicKey().Bytes(), s, nil
}

// keyCheckSize is the size of a key commitment.
const keyCheckSize = 16

// KeyCheck is the commitment to an epoch key that the genesis and every rotation carry: a
// keyring accepts a key delivered for an epoch (in a join, a share, a rotation's link to the
// previous key) only when it matches, so a member cannot plant a false key.
func KeyCheck(key Key) []byte {
	h := sum([]byte("kith key check v1"), key[:])
	return h[:keyCheckSize]
}

// maxCandidates bounds the unverified keys a keyring keeps for one epoch while it waits for the
// epoch's commitment.
const maxCandidates = 4

// Keyring holds the epoch keys this device can read with, learnt from the log: the genesis key
// (the owner's), keys sealed to this device in joins, rotations and shares, and previous keys
// unwrapped from rotations. Every key is checked against its epoch's commitment (KeyCheck) from
// the genesis or the rotation that made it; a key that arrives before its commitment waits.
// It is safe for concurrent use.
type Keyring struct {
	me KeyHolder

	mu         sync.Mutex
	keys       map[Hash]Key      // guarded by mu: verified keys
	checks     map[Hash][]byte   // guarded by mu: epoch → commitment
	candidates map[Hash][]Key    // guarded by mu: keys waiting for their epoch's commitment
	prev       map[Hash]prevLink // guarded by mu: epoch → its rotation's link to the previous epoch
}

type prevLink struct {
	epoch  Hash
	sealed []byte
}

// KeyHolder is this device's identity as a keyring needs it: the member key that rotations name
// and the X25519 key they seal to. *identity.Identity is one.
type KeyHolder interface {
	identity.Opener
	PublicKey() ed25519.PublicKey
}

// NewKeyring returns an empty keyring that opens keys sealed to me.
func NewKeyring(me KeyHolder) *Keyring {
	return &Keyring{me: me, keys: map[Hash]Key{}, checks: map[Hash][]byte{},
		candidates: map[Hash][]Key{}, prev: map[Hash]prevLink{}}
}

// Add offers the key of an epoch (for example one this device just made). It is kept once it
// matches the epoch's commitment, now or when the commitment is learnt.
func (k *Keyring) Add(epoch Hash, key Key) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.offerLocked(epoch, key)
}

func (k *Keyring) offerLocked(epoch Hash, key Key) {
	if _, ok := k.keys[epoch]; ok {
		return
	}
	check, ok := k.checks[epoch]
	if !ok {
		if c := k.candidates[epoch]; len(c) < maxCandidates && !slices.Contains(c, key) {
			k.candidates[epoch] = append(c, key)
		}
		return
	}
	if string(KeyCheck(key)) != string(check) {
		return // a false key: ignore it
	}
	k.keys[epoch] = key
	delete(k.candidates, epoch)
	if link, ok := k.prev[epoch]; ok {
		if pk, err := openPrevKey(key, link.epoch, link.sealed); err == nil {
			k.offerLocked(link.epoch, pk)
		}
	}
}

// commitLocked records an epoch's commitment and settles the keys waiting for it.
func (k *Keyring) commitLocked(epoch Hash, check []byte) {
	if _, ok := k.checks[epoch]; ok || len(check) != keyCheckSize {
		return
	}
	k.checks[epoch] = check
	for _, c := range k.candidates[epoch] {
		k.offerLocked(epoch, c)
	}
	delete(k.candidates, epoch)
}

// Key returns the key of an epoch, if held.
func (k *Keyring) Key(epoch Hash) (Key, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	key, ok := k.keys[epoch]
	return key, ok
}

// Epochs returns how many epoch keys are held.
func (k *Keyring) Epochs() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.keys)
}

// Learn takes what an authority event carries for this keyring: an epoch's commitment (genesis,
// rotation), a rotation's link to the previous epoch, and a key sealed to this device (genesis for
// the owner, a join for the joiner, a rotation, a share). It reports whether a new key became
// usable. Callers pass only events the fold accepted; a false key is refused by the commitment
// whatever its source.
func (k *Keyring) Learn(e *Event) (bool, error) {
	switch e.Kind {
	case KindGenesis, KindJoin, KindApprove, KindRotateKey, KindShareKey:
	default:
		return false, nil
	}
	if e.Body == nil {
		return false, nil
	}
	b, err := DecodeBody(e.Kind, e.Body)
	if err != nil {
		return false, err
	}
	self := k.me.PublicKey()
	var epoch Hash
	var eph, sealed []byte
	k.mu.Lock()
	switch b := b.(type) {
	case *Genesis:
		k.commitLocked(e.ID, b.KeyCheck)
		if e.Author.Equal(self) {
			epoch, eph, sealed = e.ID, b.EphemeralKey, b.OwnerKey
		}
	case *Join:
		if b.Joiner.Equal(self) {
			epoch, eph, sealed = e.Epoch, b.EphemeralKey, b.SealedKey
		}
	case *Approve:
		if b.Joiner.Equal(self) {
			epoch, eph, sealed = e.Epoch, b.EphemeralKey, b.SealedKey
		}
	case *RotateKey:
		k.prev[e.ID] = prevLink{epoch: b.PrevEpoch, sealed: b.PrevKey}
		k.commitLocked(e.ID, b.KeyCheck)
		if key, ok := k.keys[e.ID]; ok { // held before the link was known: unwind now
			if pk, err := openPrevKey(key, b.PrevEpoch, b.PrevKey); err == nil {
				k.offerLocked(b.PrevEpoch, pk)
			}
		}
		for _, s := range b.Keys {
			if s.Member.Equal(self) {
				epoch, eph, sealed = e.ID, b.EphemeralKey, s.Sealed
				break
			}
		}
	case *ShareKey:
		if b.Key.Member.Equal(self) {
			epoch, eph, sealed = b.Epoch, b.EphemeralKey, b.Key.Sealed
		}
	}
	k.mu.Unlock()
	if sealed == nil {
		return false, nil
	}
	key, err := k.me.OpenKey(eph, sealed)
	if err != nil {
		if errors.Is(err, identity.ErrNotForMe) {
			return false, nil
		}
		return false, err
	}
	before := k.Epochs()
	k.Add(epoch, key)
	return k.Epochs() > before, nil
}

// Open decrypts a content event with the key of its epoch.
func (k *Keyring) Open(e *Event) (*Content, error) {
	key, ok := k.Key(e.Epoch)
	if !ok {
		return nil, fmt.Errorf("%w (epoch %s)", ErrNoKey, e.Epoch.Short())
	}
	return openContent(key, e)
}
