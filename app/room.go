package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kith-app/kith/app/community"
)

// room is one community as this install holds it in memory: the folded membership log, the
// keys it can read with, and the heads it cites when it writes. Loaded from the store on first
// use; kept up to date by every event the service stores.
type room struct {
	id community.Hash

	mu     sync.Mutex // serialises this install's writes, so its sequence numbers chain
	folder *community.Folder
	keys   *community.Keyring
	heads  map[string]*community.Event // author → its latest stored event (header only is used)
	mine   *community.Event            // this install's latest event here, nil before its first
	// waiting holds events whose earlier events are not known yet (gossipsub marks a message
	// seen before it is validated, so an early event dropped now would never come again).
	waiting      map[community.Hash]*community.Event
	blocked      map[community.Hash][]community.Hash // a missing event → the waiting events that cite it
	waitingBytes int                                 // guarded by mu: the size of the waiting events (see maxWaitingBytes)
	waitingBy    map[string]waitShare                // guarded by mu: each author's share of waiting (see wait)
	charged      map[community.Hash]string           // guarded by mu: the share each waiting event is charged to
	// joiners are the keys of every join event stored, void ones too: a joiner whose admission
	// lost a race (an invite's last use, the member cap) may still sync the log's authority
	// events, to learn that it lost.
	joiners map[string]bool
	// recent remembers what causal checks need of the events stored last and of every authority
	// event (what new events cite: their authors' previous events and the heads, among which the
	// joins and role changes stay for long), so that most checks never read the store. Guarded by mu.
	recent     map[community.Hash]community.Known
	recentRing [recentSize]community.Hash // the order they came in, to forget the oldest
	recentNext int
}

// recentSize bounds the content events in room.recent (authority events stay).
const recentSize = 4096

// remember adds an event the store holds to recent (never one it may have refused: a fork),
// forgetting the oldest content event past recentSize. r.mu must be held (or the room not shared).
func (r *room) remember(e *community.Event) {
	if r.recent == nil {
		r.recent = make(map[community.Hash]community.Known, recentSize)
	}
	if _, ok := r.recent[e.ID]; ok {
		return
	}
	// A copy of the key: e.Author points into the envelope, or into a whole sync answer.
	k := community.Known{Author: bytes.Clone(e.Author), Seq: e.Seq, Lamport: e.Lamport}
	if e.Kind.Authority() { // few, and cited as heads long after: kept for good
		r.recent[e.ID] = k
		return
	}
	if old := r.recentRing[r.recentNext]; !old.IsZero() {
		delete(r.recent, old)
	}
	r.recentRing[r.recentNext] = e.ID
	r.recentNext = (r.recentNext + 1) % recentSize
	r.recent[e.ID] = k
}

// noteJoiners records the joiners of join events.
func (r *room) noteJoiners(events []*community.Event) {
	for _, e := range events {
		if e.Kind != community.KindJoin {
			continue
		}
		if b, err := community.DecodeBody(e.Kind, e.Body); err == nil {
			if j, ok := b.(*community.Join); ok {
				r.joiners[string(j.Joiner)] = true
			}
		}
	}
}

// ErrUnknownCommunity is returned for a community this install does not belong to.
var ErrUnknownCommunity = errors.New("app: this install does not belong to that community")

// room returns the loaded community, loading it from the store on first use.
func (s *Service) room(id community.Hash) (*room, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	r, ok := s.rooms[id]
	s.mu.Unlock()
	if ok {
		return r, nil
	}
	r, err := s.loadRoom(id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rooms == nil {
		s.rooms = map[community.Hash]*room{}
	}
	if prior, ok := s.rooms[id]; ok { // loaded concurrently: keep the first
		return prior, nil
	}
	s.rooms[id] = r
	return r, nil
}

func (s *Service) loadRoom(id community.Hash) (*room, error) {
	var auth []*community.Event
	err := s.store.AuthorityEvents(id, func(e *community.Event) error {
		auth = append(auth, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var genesis *community.Event
	for _, e := range auth {
		if e.Kind == community.KindGenesis {
			genesis = e
		}
	}
	if genesis == nil {
		return nil, fmt.Errorf("%w (%s)", ErrUnknownCommunity, id.Short())
	}
	f, err := community.NewFolder(genesis)
	if err != nil {
		return nil, err
	}
	r := &room{id: id, folder: f, keys: community.NewKeyring(s.id), heads: map[string]*community.Event{}, joiners: map[string]bool{}}
	for _, e := range auth {
		if _, err := f.Add(e); err != nil && !errors.Is(err, community.ErrNoBody) {
			return nil, fmt.Errorf("app: folding %s: %w", id.Short(), err)
		}
	}
	r.learnKeys(auth)
	for _, e := range auth {
		r.remember(e)
	}
	r.noteJoiners(auth)
	if err := s.placeUnreadable(r); err != nil {
		// A write (a full disk, say): the content stays in the holding page, moved on a later
		// load; the community itself is readable.
		s.log.Warn("content whose key came could not be moved into its channels yet", "community", id.Short(), "err", err)
	}
	heads, err := s.store.Heads(id)
	if err != nil {
		return nil, err
	}
	for _, h := range heads {
		r.noteHead(h, s.id.PublicKey())
		r.remember(h)
	}
	return r, nil
}

// learnKeys feeds the keyring the stored authority events, void ones too: a rotation that the
// log voids later (its author was demoted or removed concurrently) still made the key its
// members wrote with, and every key is checked against its epoch's commitment, which names the
// epoch by the event that made it. It reports whether a key became usable.
func (r *room) learnKeys(events []*community.Event) bool {
	before := r.keys.Epochs()
	for _, e := range events {
		r.keys.Learn(e) // a key not for this device, or false, is simply not learnt
	}
	return r.keys.Epochs() > before
}

// noteHead records e as its author's latest event if it is.
func (r *room) noteHead(e *community.Event, me []byte) {
	if h, ok := r.heads[string(e.Author)]; ok && h.Seq >= e.Seq {
		return
	}
	r.heads[string(e.Author)] = e
	if bytes.Equal(e.Author, me) {
		r.mine = e
	}
}

// deps are the heads this install cites: the latest event of every author it has, the most
// recent first (Build keeps the 16 with the highest Lamport).
func (r *room) deps() []community.Position {
	out := make([]community.Position, 0, len(r.heads))
	for _, h := range r.heads {
		out = append(out, h.Position())
	}
	return out
}

// Message is a content event as a view shows it.
type Message struct {
	ID      community.Hash
	Channel community.Hash
	Author  []byte // Ed25519 public key
	Name    string // the author's display name as views show it (community.Member.Shown); "" for none
	Role    community.Role
	Text    string
	ReplyTo community.Hash // zero when not a reply
	Time    time.Time      // the author's clock
	Mine    bool
	At      community.Position // its place in the channel; pass it as `before` for the older page
}

// ErrEmptyMessage is Post's answer to a message with nothing but spaces in it.
var ErrEmptyMessage = errors.New("app: the message is empty: type something first")

// Post writes a message in a channel and returns it once it is stored durably. It works with
// no peer online: the message waits in the store until a member syncs it.
func (s *Service) Post(ctx context.Context, id, channel community.Hash, text string, replyTo community.Hash) (Message, error) {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if text == "" {
		return Message{}, ErrEmptyMessage
	}
	text, err := community.LimitText.CleanText(text)
	if err != nil {
		return Message{}, err
	}
	r, err := s.room(id)
	if err != nil {
		return Message{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	me := s.id.PublicKey()
	role := st.RoleOf(me)
	ch, ok := st.Channel(channel)
	switch {
	case role == community.RoleNone:
		return Message{}, fmt.Errorf("app: you are no longer a member of %q, so you cannot post there", st.Name)
	case !ok:
		return Message{}, fmt.Errorf("app: %q has no such channel (it may not have reached this device yet)", st.Name)
	case ch.Archived:
		return Message{}, fmt.Errorf("app: #%s is archived: post in another channel", ch.Name)
	case ch.Type == community.ChannelAnnouncements && role < community.RoleModerator:
		return Message{}, fmt.Errorf("app: only the owner and moderators post in #%s", ch.Name)
	}
	if st, err = s.sealingStateLocked(ctx, r); err != nil {
		return Message{}, err
	}
	key, ok := r.keys.Key(st.Current)
	if !ok {
		return Message{}, fmt.Errorf("app: this device does not have the current key of %q yet: it arrives from a member when one is online", st.Name)
	}
	c := community.NewContent(community.KindMessage)
	c.Channel, c.Text, c.Target = channel, text, replyTo
	body, err := community.SealContent(key, id, st.Current, me, c, s.rand)
	if err != nil {
		return Message{}, err
	}
	e, err := s.writeOwnLocked(ctx, r, community.KindMessage, body, channel)
	if err != nil {
		return Message{}, err
	}
	m := r.view(st, e, c, me)
	s.Emit(MessageAdded{Community: id, Message: m})
	return m, nil
}

// view is the Message of a decrypted content event.
func (r *room) view(st *community.State, e *community.Event, c *community.Content, me []byte) Message {
	m, ok := st.Member(e.Author)
	name := ""
	if ok && m.Name != "" {
		name = m.Shown()
	}
	return Message{
		ID: e.ID, Channel: c.Channel, Author: e.Author, Name: name, Role: m.Role, Text: c.Text,
		ReplyTo: c.Target, Time: e.WallTime(), Mine: bytes.Equal(e.Author, me), At: e.Position(),
	}
}

// Messages returns up to limit messages of a channel that come before `before` (the zero
// Position: the latest), newest first. Messages this device cannot read (no key yet) or that the
// log voids are left out.
func (s *Service) Messages(id, channel community.Hash, before community.Position, limit int) ([]Message, error) {
	r, err := s.room(id)
	if err != nil {
		return nil, err
	}
	evs, err := s.store.Page(id, channel, before, limit)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	st := r.folder.State()
	r.mu.Unlock()
	me := s.id.PublicKey()
	out := make([]Message, 0, len(evs))
	for _, e := range evs {
		if e.Kind != community.KindMessage || st.CheckContent(e) != nil {
			continue
		}
		c, err := r.keys.Open(e)
		if err != nil {
			s.log.Debug("unreadable message", "id", e.ID.Short(), "err", err)
			continue
		}
		out = append(out, r.view(st, e, c, me))
	}
	return out, nil
}

// Message returns one message of a community (ok false when this install does not store it);
// a deleted message comes back with its text empty.
func (s *Service) Message(id, message community.Hash) (Message, bool, error) {
	r, err := s.room(id)
	if err != nil {
		return Message{}, false, err
	}
	e, ok, err := s.store.Event(id, message)
	if err != nil || !ok || e.Kind != community.KindMessage {
		return Message{}, false, err
	}
	r.mu.Lock()
	st := r.folder.State()
	r.mu.Unlock()
	me := s.id.PublicKey()
	if !e.HasBody() {
		m, _ := st.Member(e.Author)
		return Message{ID: e.ID, Author: e.Author, Name: m.Name, Time: e.WallTime(), Mine: bytes.Equal(e.Author, me), At: e.Position()}, true, nil
	}
	c, err := r.keys.Open(e)
	if err != nil {
		return Message{}, false, nil // not readable here (yet)
	}
	return r.view(st, e, c, me), true, nil
}

// MemberView is a member as a view shows it.
type MemberView struct {
	Key    []byte
	Name   string
	Role   community.Role
	Active bool
	You    bool
}

// Channel is a channel as a view shows it.
type Channel struct {
	ID       community.Hash
	Name     string
	Type     community.ChannelKind
	Archived bool
}

// Members lists a community's members: active ones first, then by name.
func (s *Service) Members(id community.Hash) ([]MemberView, error) {
	st, err := s.state(id)
	if err != nil {
		return nil, err
	}
	me := s.id.PublicKey()
	var out []MemberView
	for _, m := range st.Members() {
		name := ""
		if m.Name != "" {
			name = m.Shown()
		}
		out = append(out, MemberView{Key: m.Key, Name: name, Role: m.Role, Active: m.Active, You: bytes.Equal(m.Key, me)})
	}
	slices.SortStableFunc(out, func(a, b MemberView) int {
		if a.Active != b.Active {
			if a.Active {
				return -1
			}
			return 1
		}
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return out, nil
}

// Channels lists a community's channels in the order they were made.
func (s *Service) Channels(id community.Hash) ([]Channel, error) {
	st, err := s.state(id)
	if err != nil {
		return nil, err
	}
	var out []Channel
	for _, c := range st.Channels() {
		out = append(out, Channel{ID: c.ID, Name: c.Name, Type: c.Type, Archived: c.Archived})
	}
	return out, nil
}

// state is a community's folded state.
func (s *Service) state(id community.Hash) (*community.State, error) {
	r, err := s.room(id)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.folder.State(), nil
}

// Has reports whether this install has stored an event of a community.
func (s *Service) Has(id, event community.Hash) bool {
	_, ok, err := s.store.Lookup(id, event)
	return ok && err == nil
}

// IsMember reports whether key is an active member of community id; known is false when this
// install does not have that community (it may be about to join it).
func (s *Service) IsMember(id community.Hash, key []byte) (member, known bool) {
	st, err := s.state(id)
	if err != nil {
		return false, false
	}
	return st.RoleOf(key) != community.RoleNone, true
}

// IsMemberAnywhere reports whether key is an active member of any community this install
// belongs to (the network admits such peers).
func (s *Service) IsMemberAnywhere(key []byte) bool {
	ids, err := s.store.Communities()
	if err != nil {
		return false
	}
	for _, id := range ids {
		if member, _ := s.IsMember(id, key); member {
			return true
		}
	}
	return false
}

// RemovedAnywhere reports whether key was removed from a community of this install and is a
// member of none (the network refuses such peers, even as guests).
func (s *Service) RemovedAnywhere(key []byte) bool {
	ids, err := s.store.Communities()
	if err != nil {
		return false
	}
	removed := false
	for _, id := range ids {
		st, err := s.state(id)
		if err != nil {
			continue
		}
		if st.RoleOf(key) != community.RoleNone {
			return false
		}
		removed = removed || st.Removed(key)
	}
	return removed
}

// Role returns this install's role in a community (RoleNone once it is no longer a member).
func (s *Service) Role(id community.Hash) (community.Role, error) {
	st, err := s.state(id)
	if err != nil {
		return community.RoleNone, err
	}
	return st.RoleOf(s.id.PublicKey()), nil
}

// Epoch returns the current content-key epoch of a community (the ID of the rotation that made
// its key; the community's ID before any rotation).
func (s *Service) Epoch(id community.Hash) (community.Hash, error) {
	st, err := s.state(id)
	if err != nil {
		return community.Hash{}, err
	}
	return st.Current, nil
}

// StateHash is a digest of a community's folded membership state: two installs with the same
// log have the same hash (tests and diagnostics compare them).
func (s *Service) StateHash(id community.Hash) (community.Hash, error) {
	st, err := s.state(id)
	if err != nil {
		return community.Hash{}, err
	}
	return st.Hash(), nil
}

// WasAdmitted reports whether the log of community id holds a join of key, valid or void.
func (s *Service) WasAdmitted(id community.Hash, key []byte) bool {
	r, err := s.room(id)
	if err != nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.joiners[string(key)]
}

// removed reports whether key was removed from community id (and is not a member again).
func (s *Service) removed(id community.Hash, key []byte) bool {
	st, err := s.state(id)
	return err == nil && st.Removed(key)
}
