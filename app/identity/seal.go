package identity

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the size of a content key.
const KeySize = 32

// SealedKeySize is the size of one content key sealed to one recipient.
const SealedKeySize = KeySize + chacha20poly1305.Overhead

// ErrNotForMe is returned by OpenKey when a sealed key was not sealed to this identity or was
// altered.
var ErrNotForMe = errors.New("identity: this key was not sealed to this device")

// Opener opens content keys sealed to its X25519 key. *Identity is one.
type Opener interface {
	// X25519Public returns the public key that keys are sealed to.
	X25519Public() []byte
	// OpenKey opens a key sealed with SealKey to this opener.
	OpenKey(ephemeralPublic, sealed []byte) ([KeySize]byte, error)
}

// wrapKey derives the key-wrapping key of one (ephemeral, recipient) pair.
func wrapKey(shared, ephPub, recipientPub []byte) ([]byte, error) {
	info := make([]byte, 0, 64+16)
	info = append(info, "kith key wrap v1"...)
	info = append(info, ephPub...)
	info = append(info, recipientPub...)
	return hkdf.Key(sha256.New, shared, nil, string(info), chacha20poly1305.KeySize)
}

// SealKey seals a content key to the recipient's X25519 public key with the ephemeral private
// key eph. One ephemeral key can seal to many recipients (a key rotation does), because each
// (ephemeral, recipient) pair derives its own wrapping key; the nonce can then be fixed.
func SealKey(eph *ecdh.PrivateKey, recipientPub []byte, key [KeySize]byte) ([]byte, error) {
	pub, err := ecdh.X25519().NewPublicKey(recipientPub)
	if err != nil {
		return nil, fmt.Errorf("identity: recipient key: %w", err)
	}
	shared, err := eph.ECDH(pub)
	if err != nil {
		return nil, fmt.Errorf("identity: recipient key: %w", err)
	}
	kw, err := wrapKey(shared, eph.PublicKey().Bytes(), recipientPub)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.New(kw)
	if err != nil {
		return nil, err
	}
	var nonce [chacha20poly1305.NonceSize]byte
	return aead.Seal(nil, nonce[:], key[:], nil), nil
}

// OpenKey opens a key sealed to this identity by SealKey.
func (id *Identity) OpenKey(ephemeralPublic, sealed []byte) ([KeySize]byte, error) {
	var key [KeySize]byte
	if len(sealed) != SealedKeySize {
		return key, ErrNotForMe
	}
	pub, err := ecdh.X25519().NewPublicKey(ephemeralPublic)
	if err != nil {
		return key, ErrNotForMe
	}
	shared, err := id.x.ECDH(pub)
	if err != nil {
		return key, ErrNotForMe
	}
	kw, err := wrapKey(shared, ephemeralPublic, id.X25519Public())
	if err != nil {
		return key, err
	}
	aead, err := chacha20poly1305.New(kw)
	if err != nil {
		return key, err
	}
	var nonce [chacha20poly1305.NonceSize]byte
	out, err := aead.Open(key[:0], nonce[:], sealed, nil)
	if err != nil || len(out) != KeySize {
		return [KeySize]byte{}, ErrNotForMe
	}
	return key, nil
}
