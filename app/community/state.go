package community

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kith-app/kith/app/invite"
)

// Errors the fold and Admits return; each is wrapped with the reason.
var (
	ErrNotMember = errors.New("community: the author is not a member at that point")
	ErrRole      = errors.New("community: the author's role does not allow this")
	ErrVoid      = errors.New("community: the event is void")
	ErrInvalid   = errors.New("community: the event breaks a membership rule")
	// ErrNameTaken refuses a join whose display name is too close to an active member's
	// (NameKey): the joiner can try again with another name.
	ErrNameTaken = errors.New("community: the name is taken")
)

// Stint is one period of membership: from the join's position, for the member's sequence
// numbers from FirstSeq, up to Cutoff once Ended (removed, left, or voided).
type Stint struct {
	Join     Position
	FirstSeq uint64
	Ended    bool
	Cutoff   uint64
	// At is when the stint began, by its join's header time (the admitter's countersigned clock;
	// the genesis's for the owner): shown as "joined on", never used to decide anything.
	At time.Time
}

// Member is one member as the log says.
type Member struct {
	Key      ed25519.PublicKey
	X25519   []byte
	Name     string
	Role     Role // the live role; RoleNone once no longer active
	Active   bool
	Stints   []Stint
	Invite   invite.ID         // the invite of the latest join (zero for the owner)
	Admitter ed25519.PublicKey // who admitted the latest join
	// InviteCap is the capability of the latest join's invite: its issuer, uses and expiry.
	InviteCap *invite.Capability
	// Twin is set when the name is too close to an active member's (NameKey) who had it first,
	// in the log's order: admitters refuse such names, but two joins across a partition can
	// both pass. Views mark a twin (Shown).
	Twin bool

	nameKey string // NameKey(Name)

	last      act          // the last act on this member (join, role change, removal)
	roles     []roleChange // its roles over time, for judging what it wrote at a point
	voidGrant Role         // the highest role a promotion of it granted that a cutoff voided
}

// roleChange is a member's role from a position on. A demotion keeps the former role for the
// member's events up to its cutoff (the demoter had seen them).
type roleChange struct {
	at     Position
	role   Role
	demote bool
	keep   uint64
}

// roleAt is the role a member had for its event seq at position pos.
func (m *Member) roleAt(seq uint64, pos Position) Role {
	r := RoleNone
	for _, c := range m.roles {
		if c.at.Less(pos) && !(c.demote && seq <= c.keep) {
			r = c.role
		}
	}
	return r
}

// act remembers the last act on a member, for the conflict rule.
type act struct {
	id   Hash
	rank Role
	kind Kind
}

// Channel is a channel as the log says.
type Channel struct {
	ID       Hash
	Name     string // unique among the community's channels, as NameKey compares names
	Type     ChannelKind
	Archived bool
	// Asked is the name its creator or last renamer gave when another channel had it already
	// (two channels made with one name on both sides of a partition): Name is then Asked with
	// " (2)" (or the next number free) at every member. "" when Name is as asked.
	Asked string
}

// Epoch is a content-key epoch: named by the rotation event that made its key (the genesis
// for the first), with the members the key was delivered to.
type Epoch struct {
	ID      Hash
	Prev    Hash
	At      Position // the position of the event that made it
	Void    bool     // made by a rotation the log voids (kept for its key: see noteVoidEpoch)
	author  string   // a void epoch's rotation's author
	holders map[string]bool
}

// applied is an authority event the fold accepted, kept so a later cutoff can void it.
type applied struct {
	id      Hash
	author  string
	seq     uint64
	kind    Kind
	granted Role // for a join, an approval or a request: the role it grants
	power   Role // the role the act needed (a demotion voids the moderator acts above its cutoff)
}

// State is the community as folded from its authority events. It is built by Fold or a Folder
// and must be treated as read-only by callers.
type State struct {
	ID         Hash
	Name       string
	About      string
	MaxMembers int
	History    HistoryPolicy
	Owner      ed25519.PublicKey
	Recovery   ed25519.PublicKey
	Current    Hash     // the current epoch
	Settings   Settings // the owner's entry rules (the latest settings event)

	members  map[string]*Member
	channels map[Hash]*Channel
	order    []Hash // channel IDs in creation order
	revoked  map[invite.ID]bool
	uses     map[invite.ID]int
	brought  map[string]int // issuer → joins counted with its invites
	epochs   map[Hash]*Epoch
	// entry: registered invites (and their order), join requests, those waiting per joiner and
	// per invite
	registered map[invite.ID]registration
	regOrder   []invite.ID
	requests   map[Hash]*Request
	asked      map[string]bool // joiner, invite and signed time of every request: a replay is void
	waitingBy  map[string]Hash
	waiting    map[invite.ID]int
	forks      map[string]uint64 // author → first void sequence number (equivocation)
	void       map[Hash]string   // authority event → why it is void or refused
	applied    []applied
	missing    []Hash     // authority events left out because their body is missing
	cache      *foldCache // decoded bodies and verified joins, shared by the passes of a fold
	last       Position   // the position of the last event folded
	// pending lists events already applied that the last applied event voids (cutoffs,
	// overrides): the fold restarts with them void.
	pending []Hash
}

// ChannelID names the i-th channel made by an event (genesis makes several, a channel-create one).
func ChannelID(event Hash, i int) Hash {
	return sum([]byte("kith channel"), event[:], []byte{byte(i)})
}

// Member returns a member (active or not) by key.
func (s *State) Member(k ed25519.PublicKey) (Member, bool) {
	m, ok := s.members[string(k)]
	if !ok {
		return Member{}, false
	}
	return *m, true
}

// Members returns every member ever admitted, active ones first, then by key.
func (s *State) Members() []Member {
	out := make([]Member, 0, len(s.members))
	for _, m := range s.members {
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b Member) int {
		if a.Active != b.Active {
			if a.Active {
				return -1
			}
			return 1
		}
		return bytes.Compare(a.Key, b.Key)
	})
	return out
}

// ActiveCount is the number of active members (the owner included).
func (s *State) ActiveCount() int {
	n := 0
	for _, m := range s.members {
		if m.Active {
			n++
		}
	}
	return n
}

// RoleOf returns a member's live role, RoleNone for non-members.
func (s *State) RoleOf(k ed25519.PublicKey) Role {
	if m, ok := s.members[string(k)]; ok && m.Active {
		return m.Role
	}
	return RoleNone
}

// Channels returns the channels in creation order.
func (s *State) Channels() []Channel {
	out := make([]Channel, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, *s.channels[id])
	}
	return out
}

// Channel returns a channel by ID.
func (s *State) Channel(id Hash) (Channel, bool) {
	c, ok := s.channels[id]
	if !ok {
		return Channel{}, false
	}
	return *c, true
}

// LastAct is the ID of the last act on a member (its join, a role change, its removal): an act
// on the member names it as TargetPrev, so that concurrent acts can be told apart.
func (s *State) LastAct(k ed25519.PublicKey) Hash {
	if m, ok := s.members[string(k)]; ok {
		return m.last.id
	}
	return Hash{}
}

// RoleAt is the role a member had for its event seq at position pos (a demotion keeps the former
// role for the events its cutoff covers); RoleNone for keys never admitted.
func (s *State) RoleAt(k ed25519.PublicKey, seq uint64, pos Position) Role {
	if m, ok := s.members[string(k)]; ok {
		return m.roleAt(seq, pos)
	}
	return RoleNone
}

// Removed reports whether a member's latest stint was ended by a removal (not a leave).
func (s *State) Removed(k ed25519.PublicKey) bool {
	m, ok := s.members[string(k)]
	return ok && !m.Active && m.last.kind == KindRemove
}

// CanDelete reports whether the author of a deletion (deleter, its event seq at pos) may delete
// a message written by author: its own, or, for a moderator or the owner at that point, one
// whose author ranks below it.
func (s *State) CanDelete(deleter ed25519.PublicKey, seq uint64, pos Position, author ed25519.PublicKey) bool {
	if deleter.Equal(author) {
		return true
	}
	r := s.RoleAt(deleter, seq, pos)
	return r >= RoleModerator && r > s.roleAtPoint(author, pos)
}

// roleAtPoint is the role a member held at position pos (its last role change before it).
func (s *State) roleAtPoint(k ed25519.PublicKey, pos Position) Role {
	m, ok := s.members[string(k)]
	if !ok {
		return RoleNone
	}
	r := RoleNone
	for _, c := range m.roles {
		if c.at.Less(pos) {
			r = c.role
		}
	}
	return r
}

// EverHeld reports whether a member held role (or a higher one) at any point of the log this
// state folds. An authority act that needs a role its author never held cannot become valid by
// later events (the role would have had to come before it, and what an event cites arrives
// before it): receivers refuse it outright instead of keeping it as void.
func (s *State) EverHeld(k ed25519.PublicKey, role Role) bool {
	m, ok := s.members[string(k)]
	if !ok {
		return false
	}
	for _, c := range m.roles {
		if c.role >= role {
			return true
		}
	}
	return m.voidGrant >= role
}

// RoleGrant is the position of the event that gave a member its live role (a promotion, or a
// join with a moderator's invite); ok is false for the genesis owner and non-members. An act that
// needs the role cites it, so that no peer judges the act before it knows the grant.
func (s *State) RoleGrant(k ed25519.PublicKey) (Position, bool) {
	m, ok := s.members[string(k)]
	if !ok || !m.Active || len(m.roles) == 0 {
		return Position{}, false
	}
	at := m.roles[len(m.roles)-1].at
	return at, at != (Position{})
}

// wasModerator reports whether a member held the moderator role or above at some point
// before pos.
func (s *State) wasModerator(k ed25519.PublicKey, pos Position) bool {
	m, ok := s.members[string(k)]
	if !ok {
		return false
	}
	for _, c := range m.roles {
		if c.at.Less(pos) && c.role >= RoleModerator {
			return true
		}
	}
	return false
}

// Revoked reports whether an invite was revoked.
func (s *State) Revoked(id invite.ID) bool { return s.revoked[id] }

// Uses reports how many joins counted with an invite.
func (s *State) Uses(id invite.ID) int { return s.uses[id] }

// Void reports whether an authority event was voided or refused by the fold, and why.
func (s *State) Void(id Hash) (string, bool) {
	r, ok := s.void[id]
	return r, ok
}

// MissingBodies lists authority events that arrived without their body and were left out of
// the fold: fetch them whole from a peer.
func (s *State) MissingBodies() []Hash { return slices.Clone(s.missing) }

// Forked returns the first void sequence number of an author that equivocated (0 if none).
func (s *State) Forked(k ed25519.PublicKey) uint64 { return s.forks[string(k)] }

// HoldsKey reports whether the key of an epoch was delivered to a member (by genesis, a join,
// a rotation or a share), whether or not the member is still active.
func (s *State) HoldsKey(epoch Hash, k ed25519.PublicKey) bool {
	e, ok := s.epochs[epoch]
	return ok && e.holders[string(k)]
}

// KnownEpoch reports whether the log names an epoch.
func (s *State) KnownEpoch(epoch Hash) bool { _, ok := s.epochs[epoch]; return ok }

// KeyGap is an epoch key an active member lacks and should hold.
type KeyGap struct {
	Epoch  Hash
	Member ed25519.PublicKey
}

// KeyGaps lists the epoch keys active members lack and cannot unwrap from a key they hold (a
// rotation carries its previous epoch's key): the current one; under the full history policy,
// every other one (an epoch on a side branch: a rotation concurrent with the member's join, or
// one that left it out while a removal of it stood that the log later voided); under from-join,
// those made after the member's latest join. In (epoch position, member key) order.
func (s *State) KeyGaps() []KeyGap {
	eps := make([]*Epoch, 0, len(s.epochs))
	for _, e := range s.epochs {
		eps = append(eps, e)
	}
	slices.SortFunc(eps, func(a, b *Epoch) int { return a.At.Compare(b.At) })
	var out []KeyGap
	for _, m := range s.Members() {
		if !m.Active || len(m.Stints) == 0 {
			continue
		}
		reach := s.reachable(m.Key)
		joined := m.Stints[len(m.Stints)-1].Join
		for _, e := range eps {
			if reach[e.ID] {
				continue
			}
			if e.ID == s.Current || s.History != HistoryFromJoin || joined.Less(e.At) {
				out = append(out, KeyGap{Epoch: e.ID, Member: m.Key})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b KeyGap) int { return s.epochs[a.Epoch].At.Compare(s.epochs[b.Epoch].At) })
	return out
}

// reachable is the set of epochs whose key a member holds, as the log says, or can unwrap from
// one it holds by following the rotations' links to their previous epochs.
func (s *State) reachable(k ed25519.PublicKey) map[Hash]bool {
	reach := map[Hash]bool{}
	for _, e := range s.epochs {
		if !e.holders[string(k)] {
			continue
		}
		for cur := e; cur != nil && !reach[cur.ID]; cur = s.epochs[cur.Prev] {
			reach[cur.ID] = true
			if cur.Void { // its link to a previous key is its author's word only
				break
			}
		}
	}
	return reach
}

// NeedsRotation lists those who hold the current epoch's key but are not active members
// (removed, left, or admitted by a void join): the next moderator or owner online rotates.
func (s *State) NeedsRotation() []ed25519.PublicKey {
	var out []ed25519.PublicKey
	e := s.epochs[s.Current]
	for k := range e.holders {
		if m, ok := s.members[k]; !ok || !m.Active {
			out = append(out, ed25519.PublicKey(k))
		}
	}
	slices.SortFunc(out, func(a, b ed25519.PublicKey) int { return bytes.Compare(a, b) })
	return out
}

// Admits checks that an author's event with sequence seq at position pos belongs to one of its
// stints of membership and is not void by an equivocation. It is how content events are checked:
// the result depends only on the folded log, never on arrival order or the clock.
func (s *State) Admits(author ed25519.PublicKey, seq uint64, pos Position) error {
	if f := s.forks[string(author)]; f != 0 && seq >= f {
		return fmt.Errorf("%w: the author signed two events numbered %d (equivocation)", ErrVoid, f)
	}
	m, ok := s.members[string(author)]
	if !ok {
		return fmt.Errorf("%w: %x was never admitted", ErrNotMember, []byte(author[:4]))
	}
	for _, st := range m.Stints {
		if st.Join.Less(pos) && seq >= st.FirstSeq && (!st.Ended || seq <= st.Cutoff) {
			return nil
		}
	}
	return fmt.Errorf("%w: event %d of %x is outside its membership (removed or left)", ErrVoid, seq, []byte(author[:4]))
}

// CheckContent checks a content event against the folded log: the author was a member when it
// wrote it, the event is within its cutoff, and its role allows the kind.
func (s *State) CheckContent(e *Event) error {
	if !e.Kind.Content() {
		return fmt.Errorf("%w: %s is not content", ErrInvalid, e.Kind)
	}
	if e.Community != s.ID {
		return fmt.Errorf("%w: event of another community", ErrInvalid)
	}
	if err := s.Admits(e.Author, e.Seq, e.Position()); err != nil {
		return err
	}
	if r := s.members[string(e.Author)].roleAt(e.Seq, e.Position()); r < e.Kind.MinRole() {
		return fmt.Errorf("%w: %s needs the %s role, the author was %s", ErrRole, e.Kind, e.Kind.MinRole(), r)
	}
	return nil
}

// Members and MaxMembers below make State an invite.Ledger at the point being folded.

type ledger struct{ s *State }

func (l ledger) RoleOf(k ed25519.PublicKey) Role { return l.s.RoleOf(k) }
func (l ledger) Revoked(id invite.ID) bool       { return l.s.revoked[id] }
func (l ledger) Uses(id invite.ID) int           { return l.s.uses[id] }
func (l ledger) Members() int                    { return l.s.ActiveCount() }
func (l ledger) MaxMembers() int                 { return l.s.MaxMembers }

// Ledger returns the state as the invite package's view of it, for admitting a join.
func (s *State) Ledger() invite.Ledger { return ledger{s} }

// Shown is the member's name as views show it: anything that could deceive made visible
// (Printable), "(no name)" for none, and a twin marked with the start of its key.
func (m Member) Shown() string {
	name := Printable(m.Name, false)
	if strings.TrimSpace(name) == "" {
		name = "(no name)"
	}
	if m.Twin {
		name += fmt.Sprintf(" [%x]", []byte(m.Key[:min(2, len(m.Key))]))
	}
	return name
}

// setName gives m its name and notes whether an active member other than m holds a name too
// close to it (see Member.Twin).
func (s *State) setName(m *Member, name string) {
	m.Name, m.nameKey, m.Twin = name, NameKey(name), false
	if m.nameKey == "" {
		return
	}
	for _, o := range s.members {
		if o != m && o.Active && o.nameKey == m.nameKey {
			m.Twin = true
			return
		}
	}
}

// NameTaken returns the active member whose name is too close to name (NameKey), if any.
func (s *State) NameTaken(name string) (Member, bool) {
	k := NameKey(name)
	if k == "" {
		return Member{}, false
	}
	for _, o := range s.members {
		if o.Active && o.nameKey == k {
			return *o, true
		}
	}
	return Member{}, false
}

// clone returns a copy of s that shares nothing it could change: the Folder applies an event to
// a clone, so that a state it has handed out never changes under its reader.
func (s *State) clone() *State {
	c := *s
	c.members = make(map[string]*Member, len(s.members))
	for k, m := range s.members {
		mm := *m
		mm.Stints = slices.Clone(m.Stints)
		mm.roles = slices.Clone(m.roles)
		c.members[k] = &mm
	}
	c.channels = make(map[Hash]*Channel, len(s.channels))
	for k, ch := range s.channels {
		cc := *ch
		c.channels[k] = &cc
	}
	c.order = slices.Clone(s.order)
	c.revoked = maps.Clone(s.revoked)
	c.uses = maps.Clone(s.uses)
	c.brought = maps.Clone(s.brought)
	c.registered = maps.Clone(s.registered)
	c.regOrder = slices.Clone(s.regOrder)
	c.requests = maps.Clone(s.requests) // a decision replaces its request: the values are never changed
	c.waitingBy = maps.Clone(s.waitingBy)
	c.asked = maps.Clone(s.asked)
	c.waiting = maps.Clone(s.waiting)
	c.Settings.Questions = slices.Clone(s.Settings.Questions)
	c.epochs = make(map[Hash]*Epoch, len(s.epochs))
	for k, e := range s.epochs {
		ee := *e
		ee.holders = maps.Clone(e.holders)
		c.epochs[k] = &ee
	}
	c.void = maps.Clone(s.void)
	c.applied = slices.Clone(s.applied)
	c.pending = nil
	return &c
}
