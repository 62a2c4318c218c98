package app

// Annotations: edits, reactions and pins — content events about a message (their target), each
// citing it, kept in a store page of their own per channel and folded by views into the message
// they are about. The rules depend only on the events, never on their arrival order: for each
// (target), (target, author, emoji) and (target) respectively, the annotation that sorts last in
// (Lamport, ID) order decides.

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/kith-app/kith/app/community"
)

// Reaction is one emoji on a message: how many members put it there, whether this install did,
// and who (names as shown, in the order they reacted).
type Reaction struct {
	Emoji string
	Count int
	Mine  bool
	Who   []string
}

// MessageUpdated: a message's text was edited, its reactions or its pin changed: views redraw it
// (Message carries the new state).
type MessageUpdated struct {
	Community community.Hash
	Message   Message
}

func (MessageUpdated) isEvent() {}

// maxEmoji bounds a reaction's text: one emoji, with its modifiers and joiners.
const maxEmoji = 32

// annotationsPage is the store page of a channel's annotations (no channel has this ID).
func annotationsPage(channel community.Hash) community.Hash {
	return sha256.Sum256(append([]byte("kith annotations\x00"), channel[:]...))
}

// isAnnotation reports whether a content kind is about another message.
func isAnnotation(k community.Kind) bool {
	switch k {
	case community.KindEdit, community.KindReaction, community.KindPin, community.KindUnpin:
		return true
	}
	return false
}

// notes are the annotations of one channel, by target.
type notes struct {
	edits  map[community.Hash]map[string]edit // target → author → its latest edit (only the target's author's counts)
	reacts map[community.Hash]map[reactKey]react
	pins   map[community.Hash]pin
}

type edit struct {
	text string
	at   community.Position
}

type reactKey struct{ author, emoji string }

type react struct {
	on bool
	at community.Position
}

type pin struct {
	on bool
	at community.Position
}

func newNotes() *notes {
	return &notes{edits: map[community.Hash]map[string]edit{}, reacts: map[community.Hash]map[reactKey]react{}, pins: map[community.Hash]pin{}}
}

// add folds one opened annotation in (its validity by role is the caller's: CheckContent); it
// reports whether it changed what the target shows.
func (n *notes) add(e *community.Event, c *community.Content) bool {
	at := e.Position()
	switch e.Kind {
	case community.KindEdit:
		if n.edits[c.Target] == nil {
			n.edits[c.Target] = map[string]edit{}
		}
		if old, ok := n.edits[c.Target][string(e.Author)]; ok && !old.at.Less(at) {
			return false
		}
		n.edits[c.Target][string(e.Author)] = edit{text: c.Text, at: at}
	case community.KindReaction:
		if n.reacts[c.Target] == nil {
			n.reacts[c.Target] = map[reactKey]react{}
		}
		k := reactKey{string(e.Author), c.Text}
		if old, ok := n.reacts[c.Target][k]; ok && !old.at.Less(at) {
			return false
		}
		n.reacts[c.Target][k] = react{on: !c.Flag, at: at}
	case community.KindPin, community.KindUnpin:
		if old, ok := n.pins[c.Target]; ok && !old.at.Less(at) {
			return false
		}
		n.pins[c.Target] = pin{on: e.Kind == community.KindPin, at: at}
	default:
		return false
	}
	return true
}

// channelNotes are a room's annotations, per channel, loaded from the store on first use.
type channelNotes struct {
	mu sync.Mutex // not the room's lock: views read them while a write holds that one
	by map[community.Hash]*notes
}

// notesOf returns a channel's annotations, reading its page on first use.
func (s *Service) notesOf(r *room, channel community.Hash) (*notes, error) {
	r.notes.mu.Lock()
	defer r.notes.mu.Unlock()
	if n := r.notes.by[channel]; n != nil {
		return n, nil
	}
	n := newNotes()
	st := r.folder.State()
	before := community.Position{}
	for {
		evs, err := s.store.Page(r.id, annotationsPage(channel), before, 1000)
		if err != nil {
			return nil, err
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			before = e.Position()
			if st.CheckContent(e) != nil {
				continue
			}
			if c, err := r.keys.Open(e); err == nil {
				n.add(e, c)
			}
		}
	}
	if r.notes.by == nil {
		r.notes.by = map[community.Hash]*notes{}
	}
	r.notes.by[channel] = n
	return n, nil
}

// noteAnnotation folds an annotation just stored into its channel's notes, when they are loaded
// (else the page holds it for the first read); it reports whether the target changed.
func (r *room) noteAnnotation(e *community.Event, c *community.Content) bool {
	r.notes.mu.Lock()
	defer r.notes.mu.Unlock()
	n := r.notes.by[c.Channel]
	if n == nil {
		return true // read with the page when the channel is first shown
	}
	return n.add(e, c)
}

// annotate applies a channel's annotations to a message view: the latest edit by its author,
// the reactions, the pin.
func (r *room) annotate(n *notes, st *community.State, m Message, me []byte) Message {
	r.notes.mu.Lock()
	defer r.notes.mu.Unlock()
	if ed, ok := n.edits[m.ID][string(m.Author)]; ok {
		m.Text, m.Edited = ed.text, true
	}
	if p, ok := n.pins[m.ID]; ok {
		m.Pinned = p.on
	}
	type who struct {
		name string
		at   community.Position
		mine bool
	}
	by := map[string][]who{}
	var order []string
	first := map[string]community.Position{}
	for k, v := range n.reacts[m.ID] {
		if !v.on {
			continue
		}
		if _, ok := by[k.emoji]; !ok {
			order = append(order, k.emoji)
			first[k.emoji] = v.at
		} else if v.at.Less(first[k.emoji]) {
			first[k.emoji] = v.at
		}
		by[k.emoji] = append(by[k.emoji], who{r.nameOf(st, []byte(k.author)), v.at, k.author == string(me)})
	}
	slices.SortFunc(order, func(a, b string) int { return first[a].Compare(first[b]) })
	m.Reactions = nil
	for _, emoji := range order {
		ws := by[emoji]
		slices.SortFunc(ws, func(a, b who) int { return a.at.Compare(b.at) })
		rc := Reaction{Emoji: emoji, Count: len(ws)}
		for _, w := range ws {
			rc.Who = append(rc.Who, nameOrNone(w.name))
			rc.Mine = rc.Mine || w.mine
		}
		m.Reactions = append(m.Reactions, rc)
	}
	return m
}

func nameOrNone(n string) string {
	if n == "" {
		return "(no name)"
	}
	return n
}

// CleanEmoji checks a reaction's text: one emoji (or a short symbol), no spaces, no control or
// format characters but the joiners and selectors emoji are made of.
func CleanEmoji(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", &community.FieldError{Err: community.ErrEmpty, Msg: "a reaction needs an emoji"}
	case len(s) > maxEmoji || utf8.RuneCountInString(s) > 8:
		return "", &community.FieldError{Err: community.ErrTooLong, Msg: fmt.Sprintf("a reaction is one emoji, not %q", s)}
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || (unicode.Is(unicode.Cf, r) && r != 0x200d) || unicode.IsLetter(r) && r < 0x2000 {
			return "", &community.FieldError{Err: community.ErrBadText, Msg: fmt.Sprintf("a reaction is one emoji, not %q", s)}
		}
	}
	return s, nil
}

// target reads the message an annotation is about, and checks it can be annotated.
func (s *Service) target(r *room, st *community.State, message community.Hash) (*community.Event, *community.Content, error) {
	e, ok, err := s.store.Event(r.id, message)
	switch {
	case err != nil:
		return nil, nil, err
	case !ok || !isPost(e.Kind):
		return nil, nil, fmt.Errorf("app: %q has no message %s on this device", st.Name, message.Short())
	case !e.HasBody():
		return nil, nil, errors.New("app: that message was deleted")
	case st.CheckContent(e) != nil:
		return nil, nil, errors.New("app: that message does not count (its author was no longer a member when it wrote it)")
	}
	c, err := r.keys.Open(e)
	if err != nil {
		return nil, nil, fmt.Errorf("app: that message cannot be read on this device yet: %w", err)
	}
	return e, c, nil
}

// annotateLocked writes an annotation of kind k about message, citing it. r.mu must be held.
func (s *Service) annotateLocked(ctx context.Context, r *room, k community.Kind, target *community.Event, tc *community.Content, text string, flag bool) (Message, error) {
	st, err := s.sealingStateLocked(ctx, r)
	if err != nil {
		return Message{}, err
	}
	key, ok := r.keys.Key(st.Current)
	if !ok {
		return Message{}, fmt.Errorf("app: this device does not have the current key of %q yet: it arrives from a member when one is online", st.Name)
	}
	me := s.id.PublicKey()
	c := community.NewContent(k)
	c.Channel, c.Target, c.Text, c.Flag = tc.Channel, target.ID, text, flag
	body, err := community.SealContent(key, r.id, st.Current, me, c, s.rand)
	if err != nil {
		return Message{}, err
	}
	e, err := s.writeOwnLocked(ctx, r, k, body, annotationsPage(tc.Channel), target.Position())
	if err != nil {
		return Message{}, err
	}
	r.noteAnnotation(e, c)
	n, err := s.notesOf(r, tc.Channel)
	if err != nil {
		return Message{}, err
	}
	m := r.annotate(n, st, r.view(st, target, tc, me), me)
	s.Emit(MessageUpdated{Community: r.id, Message: m})
	return m, nil
}

// EditMessage replaces the text of one of this install's messages; every member shows the
// latest edit, marked "edited".
func (s *Service) EditMessage(ctx context.Context, id, message community.Hash, text string) (Message, error) {
	text, err := cleanMessage(text)
	if err != nil {
		return Message{}, err
	}
	return s.annotate(ctx, id, message, community.KindEdit, text, false, func(st *community.State, target *community.Event) error {
		if !target.Author.Equal(s.id.PublicKey()) {
			return notAllowed("you may edit your own messages only")
		}
		return nil
	})
}

// React puts an emoji on a message, or takes it off (remove).
func (s *Service) React(ctx context.Context, id, message community.Hash, emoji string, remove bool) (Message, error) {
	emoji, err := CleanEmoji(emoji)
	if err != nil {
		return Message{}, err
	}
	return s.annotate(ctx, id, message, community.KindReaction, emoji, remove, nil)
}

// Pin pins a message in its channel, or unpins it (the owner and moderators).
func (s *Service) Pin(ctx context.Context, id, message community.Hash, pinned bool) (Message, error) {
	k := community.KindPin
	if !pinned {
		k = community.KindUnpin
	}
	return s.annotate(ctx, id, message, k, "", false, func(st *community.State, _ *community.Event) error {
		if st.RoleOf(s.id.PublicKey()) < community.RoleModerator {
			return notAllowed("only the owner and moderators of %q pin messages", st.Name)
		}
		return nil
	})
}

// annotate writes an annotation of kind k about message, once this install is a member, the
// message can be annotated, and may (nil: any member may) says yes.
func (s *Service) annotate(ctx context.Context, id, message community.Hash, k community.Kind, text string, flag bool, may func(*community.State, *community.Event) error) (Message, error) {
	r, err := s.room(id)
	if err != nil {
		return Message{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	if st.RoleOf(s.id.PublicKey()) == community.RoleNone {
		return Message{}, notAllowed("you are no longer a member of %q", st.Name)
	}
	e, c, err := s.target(r, st, message)
	if err != nil {
		return Message{}, err
	}
	if may != nil {
		if err := may(st, e); err != nil {
			return Message{}, err
		}
	}
	return s.annotateLocked(ctx, r, k, e, c, text, flag)
}

// Pins lists a channel's pinned messages, the latest pinned first.
func (s *Service) Pins(id, channel community.Hash) ([]Message, error) {
	r, err := s.room(id)
	if err != nil {
		return nil, err
	}
	n, err := s.notesOf(r, channel)
	if err != nil {
		return nil, err
	}
	r.notes.mu.Lock()
	type pinned struct {
		id community.Hash
		at community.Position
	}
	var ids []pinned
	for t, p := range n.pins {
		if p.on {
			ids = append(ids, pinned{t, p.at})
		}
	}
	r.notes.mu.Unlock()
	slices.SortFunc(ids, func(a, b pinned) int { return b.at.Compare(a.at) })
	var out []Message
	for _, p := range ids {
		if m, ok, err := s.Message(id, p.id); err == nil && ok && m.Text != "" {
			out = append(out, m)
		}
	}
	return out, nil
}

// noteAnnotations folds annotations just stored (admitted: CheckContent passed) into their
// channels' notes and tells views which messages changed. r.mu must be held.
func (s *Service) noteAnnotations(r *room, st *community.State, as []opened) {
	me := s.id.PublicKey()
	changed := map[community.Hash]bool{}
	for _, a := range as {
		if r.noteAnnotation(a.e, a.c) {
			changed[a.c.Target] = true
		}
	}
	for t := range changed {
		e, ok, err := s.store.Event(r.id, t)
		if err != nil || !ok || !isPost(e.Kind) || !e.HasBody() {
			continue
		}
		c, err := r.keys.Open(e)
		if err != nil {
			continue
		}
		n, err := s.notesOf(r, c.Channel)
		if err != nil {
			continue
		}
		s.Emit(MessageUpdated{Community: r.id, Message: r.annotate(n, st, r.view(st, e, c, me), me)})
	}
}

// mentionScan bounds how many messages of each channel Mentions reads, newest first.
const mentionScan = 5000

// Mentions lists the messages of a community that mention this member (MentionsMe), newest
// first, at most limit, from the latest mentionScan messages of each channel.
func (s *Service) Mentions(id community.Hash, limit int) ([]Message, error) {
	chans, err := s.Channels(id)
	if err != nil {
		return nil, err
	}
	var out []Message
	for _, ch := range chans {
		before := community.Position{}
		for read := 0; read < mentionScan; {
			page, err := s.Messages(id, ch.ID, before, 500)
			if err != nil {
				return nil, err
			}
			if len(page) == 0 {
				break
			}
			for _, m := range page {
				if m.MentionsMe {
					out = append(out, m)
				}
			}
			read += len(page)
			before = page[len(page)-1].At
		}
	}
	slices.SortFunc(out, func(a, b Message) int { return b.At.Compare(a.At) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
