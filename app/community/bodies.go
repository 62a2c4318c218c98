package community

import (
	"crypto/ed25519"
	"fmt"

	"github.com/kith-app/kith/app/invite"
)

// bodyVersion starts every body encoding, so each kind's body can evolve on its own.
const bodyVersion = 1

// A Body is the decoded payload of one kind.
type Body interface {
	// Kind is the event kind this body belongs to.
	Kind() Kind
	encode(w *writer)
	decode(r *reader)
}

// EncodeBody returns the canonical bytes of b.
func EncodeBody(b Body) []byte {
	w := writer{}
	w.byte1(bodyVersion)
	b.encode(&w)
	return w.b
}

// Encode returns the canonical bytes of b after checking that every reader decodes them: the
// writers' guard (they check each field against its Limit first, with a sentence of their own).
func Encode(b Body) ([]byte, error) {
	enc := EncodeBody(b)
	fresh := newBody(b.Kind())
	if fresh == nil {
		return nil, fmt.Errorf("%w: kind %s has no body Kith can write", ErrMalformed, b.Kind())
	}
	if _, err := decodeBodyInto(fresh, enc); err != nil {
		return nil, fieldErr(ErrTooLong, "this %s is not one every member could read (%v): shorten what you wrote, or update Kith", b.Kind(), err)
	}
	return enc, nil
}

// newBody returns an empty body of kind k, or nil for kinds with no body of their own.
func newBody(k Kind) Body {
	switch k {
	case KindGenesis:
		return &Genesis{}
	case KindJoin:
		return &Join{}
	case KindLeave:
		return &Leave{}
	case KindRemove:
		return &Remove{}
	case KindSetRole:
		return &SetRole{}
	case KindRevokeInvite:
		return &RevokeInvite{}
	case KindRotateKey:
		return &RotateKey{}
	case KindShareKey:
		return &ShareKey{}
	case KindTransferOwner:
		return &TransferOwner{}
	case KindEquivocation:
		return &Equivocation{}
	case KindChannelCreate:
		return &ChannelCreate{}
	case KindChannelUpdate:
		return &ChannelUpdate{}
	case KindCommunityEdit:
		return &CommunityEdit{}
	case KindRegisterInvite:
		return &RegisterInvite{}
	case KindRevokeBy:
		return &RevokeBy{}
	case KindSettings:
		return &Settings{}
	case KindJoinRequest:
		return &EntryRequest{}
	case KindApprove:
		return &Approve{}
	case KindDecline:
		return &Decline{}
	}
	if k.Content() && k.Known() {
		return &Content{kind: k}
	}
	return nil
}

// DecodeBody decodes the body of an authority event (content bodies are sealed: use OpenContent).
func DecodeBody(k Kind, b []byte) (Body, error) {
	body := newBody(k)
	if body == nil || k.Content() {
		return nil, fmt.Errorf("%w: kind %s has no clear body", ErrMalformed, k)
	}
	return decodeBodyInto(body, b)
}

func decodeBodyInto(body Body, b []byte) (Body, error) {
	r := reader{b: b}
	if v := r.byte1(); r.err == nil && v != bodyVersion {
		return nil, fmt.Errorf("%w: %s body version %d (update Kith)", ErrMalformed, body.Kind(), v)
	}
	body.decode(&r)
	if err := r.done(); err != nil {
		return nil, fmt.Errorf("%s body: %w", body.Kind(), err)
	}
	return body, nil
}

func (r *reader) key() ed25519.PublicKey { return ed25519.PublicKey(r.fixed(ed25519.PublicKeySize)) }

// SealedKey is one content key sealed to one member's X25519 key (see identity.SealKey).
type SealedKey struct {
	Member ed25519.PublicKey
	Sealed []byte
}

// ChannelSpec names a channel made at genesis.
type ChannelSpec struct {
	Name string
	Kind ChannelKind
}

// Genesis is the first event: the community and its owner.
type Genesis struct {
	Name         string
	About        string
	MaxMembers   uint32 // 0 = no cap
	History      HistoryPolicy
	OwnerX25519  []byte            // the owner's key for sealed content keys
	OwnerName    string            // the owner's display name
	Recovery     ed25519.PublicKey // may transfer ownership (see TransferOwner)
	Nonce        [16]byte
	Channels     []ChannelSpec
	EphemeralKey []byte // X25519 public key that sealed the first content key
	OwnerKey     []byte // the first content key sealed to the owner (epoch = community ID)
	KeyCheck     []byte // commitment to the first content key (see KeyCheck)
}

func (*Genesis) Kind() Kind { return KindGenesis }
func (g *Genesis) encode(w *writer) {
	w.str(g.Name)
	w.str(g.About)
	w.uvarint(uint64(g.MaxMembers))
	w.byte1(byte(g.History))
	w.bytes(g.OwnerX25519)
	w.str(g.OwnerName)
	w.fixed(g.Recovery)
	w.fixed(g.Nonce[:])
	w.uvarint(uint64(len(g.Channels)))
	for _, c := range g.Channels {
		w.str(c.Name)
		w.byte1(byte(c.Kind))
	}
	w.bytes(g.EphemeralKey)
	w.bytes(g.OwnerKey)
	w.bytes(g.KeyCheck)
}
func (g *Genesis) decode(r *reader) {
	g.Name = r.str(LimitCommunityName.Max)
	g.About = r.str(LimitAbout.Max)
	g.MaxMembers = uint32(r.upTo(maxMembersCap))
	g.History = HistoryPolicy(r.byte1())
	if g.History != HistoryFull && g.History != HistoryFromJoin {
		r.fail("unknown history policy")
	}
	g.OwnerX25519 = r.bytes(maxX25519)
	g.OwnerName = r.str(LimitDisplayName.Max)
	g.Recovery = r.key()
	copy(g.Nonce[:], r.fixed(16))
	n := r.count(maxChannels, 2)
	for range n {
		g.Channels = append(g.Channels, ChannelSpec{Name: r.str(LimitChannelName.Max), Kind: r.channelKind()})
	}
	g.EphemeralKey = r.bytes(maxX25519)
	g.OwnerKey = r.bytes(64)
	g.KeyCheck = r.bytes(keyCheckSize)
}

// maxMembersCap bounds a member cap.
const maxMembersCap = 1 << 20

func (r *reader) channelKind() ChannelKind {
	k := ChannelKind(r.byte1())
	if k != ChannelChat && k != ChannelAnnouncements {
		r.fail("unknown channel kind")
	}
	return k
}

// Join is written by the admitting member: its signature over the event is the countersignature
// of the join, and the event's header time is the countersigned time the invite is checked at.
type Join struct {
	InviteRaw    []byte // the signed capability, exactly as signed
	InviteSig    []byte
	Joiner       ed25519.PublicKey
	JoinerX25519 []byte
	Name         string // the joiner's display name
	Proof        []byte // the joiner's signature with the invite key (invite.VerifyJoin)
	JoinerSig    []byte // the joiner's signature with its own key: it holds Joiner (see joinerMessage)
	EphemeralKey []byte // X25519 public key that sealed the current content key to the joiner
	SealedKey    []byte // the current content key (of the header's epoch) sealed to the joiner
}

func (*Join) Kind() Kind { return KindJoin }
func (j *Join) encode(w *writer) {
	w.bytes(j.InviteRaw)
	w.bytes(j.InviteSig)
	w.fixed(j.Joiner)
	w.bytes(j.JoinerX25519)
	w.str(j.Name)
	w.bytes(j.Proof)
	w.bytes(j.JoinerSig)
	w.bytes(j.EphemeralKey)
	w.bytes(j.SealedKey)
}
func (j *Join) decode(r *reader) {
	j.InviteRaw = r.bytes(4096)
	j.InviteSig = r.bytes(ed25519.SignatureSize)
	j.Joiner = r.key()
	j.JoinerX25519 = r.bytes(maxX25519)
	j.Name = r.str(LimitDisplayName.Max)
	j.Proof = r.bytes(ed25519.SignatureSize)
	j.JoinerSig = r.bytes(ed25519.SignatureSize)
	j.EphemeralKey = r.bytes(maxX25519)
	j.SealedKey = r.bytes(64)
}

// Invite decodes and verifies the capability the joiner presented.
func (j *Join) Invite() (*invite.Signed, error) { return invite.DecodeSigned(j.InviteRaw, j.InviteSig) }

// Leave is a member leaving on its own; its own sequence number is its cutoff.
type Leave struct{}

func (*Leave) Kind() Kind       { return KindLeave }
func (*Leave) encode(w *writer) {}
func (*Leave) decode(r *reader) {}

// Remove removes a member. CutoffSeq is the highest sequence number of the target the remover
// had seen: the target's events above it are void everywhere, whatever deps they cite.
// TargetPrev is the last act on the target the remover knew of (see the conflict rule).
type Remove struct {
	Target     ed25519.PublicKey
	CutoffSeq  uint64
	TargetPrev Hash
	Reason     string
}

func (*Remove) Kind() Kind { return KindRemove }
func (m *Remove) encode(w *writer) {
	w.fixed(m.Target)
	w.uvarint(m.CutoffSeq)
	w.hash(m.TargetPrev)
	w.str(m.Reason)
}
func (m *Remove) decode(r *reader) {
	m.Target = r.key()
	m.CutoffSeq = r.uvarint()
	m.TargetPrev = r.hash()
	m.Reason = r.str(LimitReason.Max)
}

// SetRole makes a member a moderator or a member again. On a demotion, CutoffSeq voids the
// target's moderator acts above it.
type SetRole struct {
	Target     ed25519.PublicKey
	Role       Role
	CutoffSeq  uint64
	TargetPrev Hash
}

func (*SetRole) Kind() Kind { return KindSetRole }
func (m *SetRole) encode(w *writer) {
	w.fixed(m.Target)
	w.byte1(byte(m.Role))
	w.uvarint(m.CutoffSeq)
	w.hash(m.TargetPrev)
}
func (m *SetRole) decode(r *reader) {
	m.Target = r.key()
	m.Role = Role(r.byte1())
	m.CutoffSeq = r.uvarint()
	m.TargetPrev = r.hash()
}

// RevokeInvite kills an invite ID for every peer that has this event.
type RevokeInvite struct{ Invite invite.ID }

func (*RevokeInvite) Kind() Kind         { return KindRevokeInvite }
func (m *RevokeInvite) encode(w *writer) { w.fixed(m.Invite[:]) }
func (m *RevokeInvite) decode(r *reader) { copy(m.Invite[:], r.fixed(len(m.Invite))) }

// RotateKey starts a new epoch, named by this event's ID: the new key sealed to every member
// with one ephemeral key, and the previous epoch's key encrypted under the new one.
type RotateKey struct {
	PrevEpoch    Hash
	PrevKey      []byte // the previous epoch's key sealed with the new key (see sealPrevKey)
	EphemeralKey []byte
	KeyCheck     []byte // commitment to the new key (see KeyCheck)
	Keys         []SealedKey
}

func (*RotateKey) Kind() Kind { return KindRotateKey }
func (m *RotateKey) encode(w *writer) {
	w.hash(m.PrevEpoch)
	w.bytes(m.PrevKey)
	w.bytes(m.EphemeralKey)
	w.bytes(m.KeyCheck)
	w.uvarint(uint64(len(m.Keys)))
	for _, k := range m.Keys {
		w.fixed(k.Member)
		w.bytes(k.Sealed)
	}
}
func (m *RotateKey) decode(r *reader) {
	m.PrevEpoch = r.hash()
	m.PrevKey = r.bytes(128)
	m.EphemeralKey = r.bytes(maxX25519)
	m.KeyCheck = r.bytes(keyCheckSize)
	n := r.count(maxRecipients, 32+1)
	m.Keys = make([]SealedKey, 0, n)
	for range n {
		m.Keys = append(m.Keys, SealedKey{Member: r.key(), Sealed: r.bytes(64)})
	}
}

// ShareKey gives one member an epoch key it lacks (repair after concurrent rotations or joins).
type ShareKey struct {
	Epoch        Hash
	EphemeralKey []byte
	Key          SealedKey
}

func (*ShareKey) Kind() Kind { return KindShareKey }
func (m *ShareKey) encode(w *writer) {
	w.hash(m.Epoch)
	w.bytes(m.EphemeralKey)
	w.fixed(m.Key.Member)
	w.bytes(m.Key.Sealed)
}
func (m *ShareKey) decode(r *reader) {
	m.Epoch = r.hash()
	m.EphemeralKey = r.bytes(maxX25519)
	m.Key = SealedKey{Member: r.key(), Sealed: r.bytes(64)}
}

// TransferOwner is signed by the recovery key: ownership moves to NewOwner, and the old owner
// key's events above OldOwnerCutoff are void (a stolen key's acts are undone).
type TransferOwner struct {
	NewOwner       ed25519.PublicKey
	NewOwnerX25519 []byte
	NewOwnerName   string
	OldOwnerCutoff uint64
	NewRecovery    ed25519.PublicKey // the recovery key from now on; empty keeps the current one
}

func (*TransferOwner) Kind() Kind { return KindTransferOwner }
func (m *TransferOwner) encode(w *writer) {
	w.fixed(m.NewOwner)
	w.bytes(m.NewOwnerX25519)
	w.str(m.NewOwnerName)
	w.uvarint(m.OldOwnerCutoff)
	w.bytes(m.NewRecovery)
}
func (m *TransferOwner) decode(r *reader) {
	m.NewOwner = r.key()
	m.NewOwnerX25519 = r.bytes(maxX25519)
	m.NewOwnerName = r.str(LimitDisplayName.Max)
	m.OldOwnerCutoff = r.uvarint()
	m.NewRecovery = ed25519.PublicKey(r.bytes(ed25519.PublicKeySize))
	if len(m.NewRecovery) != 0 && len(m.NewRecovery) != ed25519.PublicKeySize {
		r.fail("new recovery key of the wrong size")
	}
}

// Equivocation proves that one author signed two events with the same sequence number: the two
// signed headers, as they travelled.
type Equivocation struct {
	HeaderA, SigA []byte
	HeaderB, SigB []byte
}

func (*Equivocation) Kind() Kind { return KindEquivocation }
func (m *Equivocation) encode(w *writer) {
	w.bytes(m.HeaderA)
	w.bytes(m.SigA)
	w.bytes(m.HeaderB)
	w.bytes(m.SigB)
}
func (m *Equivocation) decode(r *reader) {
	m.HeaderA = r.bytes(MaxHeaderSize)
	m.SigA = r.bytes(ed25519.SignatureSize)
	m.HeaderB = r.bytes(MaxHeaderSize)
	m.SigB = r.bytes(ed25519.SignatureSize)
}

// Verify checks the proof and returns the author and the forked sequence number.
func (m *Equivocation) Verify(community Hash) (ed25519.PublicKey, uint64, error) {
	a, ida, err := VerifyRawHeader(m.HeaderA, m.SigA)
	if err != nil {
		return nil, 0, err
	}
	b, idb, err := VerifyRawHeader(m.HeaderB, m.SigB)
	if err != nil {
		return nil, 0, err
	}
	if ida == idb || a.Seq != b.Seq || !a.Author.Equal(b.Author) || a.Community != community || b.Community != community {
		return nil, 0, fmt.Errorf("%w: not two events of one author with one sequence number", ErrMalformed)
	}
	return a.Author, a.Seq, nil
}

// ChannelCreate makes a channel; its ID is ChannelID(event ID, 0).
type ChannelCreate struct {
	Name string
	Type ChannelKind
}

func (*ChannelCreate) Kind() Kind { return KindChannelCreate }
func (m *ChannelCreate) encode(w *writer) {
	w.str(m.Name)
	w.byte1(byte(m.Type))
}
func (m *ChannelCreate) decode(r *reader) {
	m.Name = r.str(LimitChannelName.Max)
	m.Type = r.channelKind()
}

// ChannelUpdate renames or archives a channel.
type ChannelUpdate struct {
	Channel  Hash
	Name     string
	Archived bool
}

func (*ChannelUpdate) Kind() Kind { return KindChannelUpdate }
func (m *ChannelUpdate) encode(w *writer) {
	w.hash(m.Channel)
	w.str(m.Name)
	w.flag(m.Archived)
}
func (m *ChannelUpdate) decode(r *reader) {
	m.Channel = r.hash()
	m.Name = r.str(LimitChannelName.Max)
	m.Archived = r.flag()
}

// CommunityEdit changes the community's name, about text or member cap.
type CommunityEdit struct {
	Name       string
	About      string
	MaxMembers uint32
}

func (*CommunityEdit) Kind() Kind { return KindCommunityEdit }
func (m *CommunityEdit) encode(w *writer) {
	w.str(m.Name)
	w.str(m.About)
	w.uvarint(uint64(m.MaxMembers))
}
func (m *CommunityEdit) decode(r *reader) {
	m.Name = r.str(LimitCommunityName.Max)
	m.About = r.str(LimitAbout.Max)
	m.MaxMembers = uint32(r.upTo(maxMembersCap))
}

// Content is the body of every content kind. Each kind uses the fields it needs:
// a message has Channel, Text and maybe Target (the message it replies to); an edit, a delete, a
// reaction, kudos, a pin or a claim has Target; a poll has Options and Expires; a vote has Choice.
type Content struct {
	kind    Kind
	Channel Hash
	Target  Hash
	Text    string
	Options []string
	Choice  uint32
	Expires int64 // Unix seconds; 0 = none
	Flag    bool  // a reaction's removal, an offer's... each kind documents its use
	// Blobs are the manifests of a post's files (see Manifest): last, and only when there are
	// some, so that every body written before them reads the same.
	Blobs [][]byte
}

// NewContent returns an empty content body of kind k.
func NewContent(k Kind) *Content { return &Content{kind: k} }

func (c *Content) Kind() Kind { return c.kind }
func (c *Content) encode(w *writer) {
	w.hash(c.Channel)
	w.hash(c.Target)
	w.str(c.Text)
	w.uvarint(uint64(len(c.Options)))
	for _, o := range c.Options {
		w.str(o)
	}
	w.uvarint(uint64(c.Choice))
	w.varint(c.Expires)
	w.flag(c.Flag)
	if len(c.Blobs) > 0 {
		w.uvarint(uint64(len(c.Blobs)))
		for _, b := range c.Blobs {
			w.bytes(b)
		}
	}
}
func (c *Content) decode(r *reader) {
	c.Channel = r.hash()
	c.Target = r.hash()
	c.Text = r.str(LimitText.Max)
	n := r.count(maxOptions, 1)
	for range n {
		c.Options = append(c.Options, r.str(LimitOption.Max))
	}
	c.Choice = uint32(r.upTo(1 << 16))
	c.Expires = r.varint()
	c.Flag = r.flag()
	c.Blobs = nil
	if r.err == nil && len(r.b) > 0 {
		n := r.count(MaxFiles, 1)
		if n == 0 {
			r.fail("an empty list of files is written by leaving it out")
		}
		for range n {
			c.Blobs = append(c.Blobs, r.bytes(maxManifestLen))
		}
	}
}
