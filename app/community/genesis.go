package community

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// RecoveryWords is how many words a recovery phrase has: 16 random bytes and 2 checksum bytes,
// one byte a word.
const RecoveryWords = 18

// ErrRecoveryWords is returned for a recovery phrase that is mistyped or incomplete.
var ErrRecoveryWords = errors.New("community: these recovery words are not right")

// GenesisParams are the owner's choices when creating a community.
type GenesisParams struct {
	Name       string
	About      string
	MaxMembers uint32 // 0 = no cap
	History    HistoryPolicy
	OwnerName  string
	Time       time.Time // the owner's clock
}

// NewCommunity creates a community: the genesis event signed by owner, the first content key
// (its epoch is the community ID, and it is also sealed to the owner inside the genesis), and the
// recovery phrase, to be shown to the owner once and never stored.
func NewCommunity(owner Signer, ownerX25519 []byte, p GenesisParams, rand io.Reader) (*Event, Key, string, error) {
	var key Key
	var err error
	if p.Name, err = LimitCommunityName.CleanName(p.Name); err != nil {
		return nil, key, "", err
	}
	if strings.TrimSpace(p.OwnerName) == "" {
		p.OwnerName = ""
	} else if p.OwnerName, err = LimitDisplayName.CleanName(p.OwnerName); err != nil {
		return nil, key, "", err
	}
	if p.About, err = LimitAbout.CleanText(p.About); err != nil {
		return nil, key, "", err
	}
	if p.History != HistoryFull && p.History != HistoryFromJoin {
		p.History = HistoryFull
	}
	var secret [16]byte
	if _, err := io.ReadFull(rand, secret[:]); err != nil {
		return nil, key, "", fmt.Errorf("community: reading randomness: %w", err)
	}
	if _, err := io.ReadFull(rand, key[:]); err != nil {
		return nil, key, "", fmt.Errorf("community: reading randomness: %w", err)
	}
	g := &Genesis{
		Name: p.Name, About: p.About, MaxMembers: p.MaxMembers, History: p.History,
		OwnerX25519: ownerX25519, OwnerName: p.OwnerName,
		Recovery: recoveryKey(secret).Public().(ed25519.PublicKey),
		Channels: []ChannelSpec{{"general", ChannelChat}, {"announcements", ChannelAnnouncements}},
		KeyCheck: KeyCheck(key),
	}
	if _, err := io.ReadFull(rand, g.Nonce[:]); err != nil {
		return nil, key, "", fmt.Errorf("community: reading randomness: %w", err)
	}
	if g.EphemeralKey, g.OwnerKey, err = SealTo(key, ownerX25519, rand); err != nil {
		return nil, key, "", err
	}
	ev, err := Build(owner, Draft{Kind: KindGenesis, Body: EncodeBody(g), Time: p.Time})
	if err != nil {
		return nil, key, "", err
	}
	return ev, key, wordsOf(secret), nil
}

// checkName is the fold's check of a name in the log: not blank, within its limit. (Writers
// check more: Limit.CleanName.)
func checkName(l Limit, s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("community: the %s is empty: type one", l.Field)
	}
	return l.Check(s)
}

func recoveryKey(secret [16]byte) ed25519.PrivateKey {
	seed, err := hkdf.Key(sha256.New, secret[:], nil, "kith recovery key v1", ed25519.SeedSize)
	if err != nil { // only for lengths HKDF cannot produce; ours is fixed
		return nil
	}
	return ed25519.NewKeyFromSeed(seed)
}

func wordsOf(secret [16]byte) string {
	c := sha256.Sum256(secret[:])
	ws := make([]string, 0, RecoveryWords)
	for _, b := range append(secret[:], c[0], c[1]) {
		ws = append(ws, wordList[b])
	}
	return strings.Join(ws, " ")
}

// RecoverySigner turns a recovery phrase back into the recovery key's Signer. Words are matched
// by their first four letters, case-insensitively, so small typos at a word's end still work.
func RecoverySigner(phrase string) (Signer, error) {
	fields := strings.Fields(strings.ToLower(phrase))
	if len(fields) != RecoveryWords {
		return nil, fmt.Errorf("%w: there should be %d words and there are %d", ErrRecoveryWords, RecoveryWords, len(fields))
	}
	var all [RecoveryWords]byte
	for i, f := range fields {
		b, ok := wordIndex(f)
		if !ok {
			return nil, fmt.Errorf("%w: word %d, %q, is not in the list: check it against what you wrote down", ErrRecoveryWords, i+1, f)
		}
		all[i] = b
	}
	var secret [16]byte
	copy(secret[:], all[:16])
	c := sha256.Sum256(secret[:])
	if c[0] != all[16] || c[1] != all[17] {
		return nil, fmt.Errorf("%w: a word is wrong or two are swapped: check them in order", ErrRecoveryWords)
	}
	return keySigner{recoveryKey(secret)}, nil
}

func wordIndex(w string) (byte, bool) {
	p := w[:min(4, len(w))]
	for i, x := range wordList {
		if x == w || (len(p) == 4 && strings.HasPrefix(x, p)) {
			return byte(i), true
		}
	}
	return 0, false
}

// keySigner keeps a private key behind the Signer interface.
type keySigner struct{ k ed25519.PrivateKey }

func (s keySigner) PublicKey() ed25519.PublicKey    { return s.k.Public().(ed25519.PublicKey) }
func (s keySigner) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.k, msg), nil }

// NewRecovery makes a fresh recovery key: its public half (for TransferOwner.NewRecovery) and
// the words that give it back (shown once, to be written down).
func NewRecovery(rand io.Reader) (ed25519.PublicKey, string, error) {
	var secret [16]byte
	if _, err := io.ReadFull(rand, secret[:]); err != nil {
		return nil, "", fmt.Errorf("community: reading randomness: %w", err)
	}
	return recoveryKey(secret).Public().(ed25519.PublicKey), wordsOf(secret), nil
}
