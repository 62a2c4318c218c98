package app

// The messages of a channel: writing one (Post) and reading them (Messages, Message), as views
// show them.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kith-app/kith/app/community"
)

// Message is a content event as a view shows it.
type Message struct {
	ID        community.Hash
	Channel   community.Hash
	Author    []byte // Ed25519 public key
	Name      string // the author's display name as views show it (community.Member.Shown); "" for none
	Role      community.Role
	Text      string
	ReplyTo   community.Hash // zero when not a reply
	Time      time.Time      // the author's clock
	Mine      bool
	At        community.Position // its place in the channel; pass it as `before` for the older page
	Edited    bool               // its author edited it: Text is the latest edit's
	Pinned    bool               // pinned in its channel by the owner or a moderator
	Reactions []Reaction         // the emoji on it, in the order they were first put there
	// MentionsMe: its text names this install\'s member after an @ ("@Ana", "@ana ortiz").
	MentionsMe bool
	// Poll is set for a poll (Text is its question): its options, state, this member's vote and
	// the count where shown.
	Poll *Poll
	// Feedback is set for a feedback request (Text is its question): whom it asks, its status,
	// this member's answer, and every answer for the owner and moderators.
	Feedback *Feedback
	// Offer is set for an offer (Text is its text): its title, quantity, expiry, the claims, and
	// this member's claim and code.
	Offer *Offer
	// Promotion: a promotional post or an offer, counted against the weekly promotion budget;
	// OverBudget: one that does not count, which only the owner and moderators see.
	Promotion  bool
	OverBudget bool
	// Attachments are a post's files and pictures, in the order sent.
	Attachments []Attachment
}

// shownKind reports whether a content kind shows in its channel's conversation.
func shownKind(k community.Kind) bool {
	return isPost(k) || k == community.KindPoll || k == community.KindFeedbackRequest || k == community.KindOffer
}

// isPost reports whether k is a post that its author edits and deletes as text: a message or a
// promotion.
func isPost(k community.Kind) bool { return k == community.KindMessage || k == community.KindPromotion }

// withParts adds to a poll's or a feedback request's message what it carries (ok false when
// it is malformed: views leave it out).
func (s *Service) withParts(r *room, st *community.State, e *community.Event, m Message, memo pageMemo) (Message, bool) {
	switch e.Kind {
	case community.KindPoll:
		m.Poll = s.pollFor(r, st, e.ID, memo)
		return m, m.Poll != nil
	case community.KindFeedbackRequest:
		m.Feedback = s.feedbackFor(r, st, e.ID, memo)
		return m, m.Feedback != nil
	case community.KindOffer:
		m.Offer = s.offerFor(r, st, e.ID, memo)
		return m, m.Offer != nil
	}
	return m, true
}

// cleanMessage is a message's text as it is stored: trimmed, with Windows line ends made one, and
// refused when empty or against the text's limits.
func cleanMessage(text string) (string, error) {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if text == "" {
		return "", ErrEmptyMessage
	}
	return community.LimitText.CleanText(text)
}

// ErrEmptyMessage is Post's answer to a message with nothing but spaces in it.
var ErrEmptyMessage = errors.New("app: the message is empty: type something first")

// Post writes a message in a channel and returns it once it is stored durably. It works with
// no peer online: the message waits in the store until a member syncs it.
func (s *Service) Post(ctx context.Context, id, channel community.Hash, text string, replyTo community.Hash) (Message, error) {
	return s.post(ctx, id, channel, text, replyTo, community.KindMessage)
}

// post writes a message or a promotion (kind).
func (s *Service) post(ctx context.Context, id, channel community.Hash, text string, replyTo community.Hash, kind community.Kind) (Message, error) {
	text, err := cleanMessage(text)
	if err != nil {
		return Message{}, err
	}
	r, err := s.room(id)
	if err != nil {
		return Message{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	me := s.id.PublicKey()
	var promotion func(st *community.State) error
	if kind == community.KindPromotion {
		promotion = func(st *community.State) error {
			if st.RoleOf(me) < community.RoleModerator {
				return notAllowed("only the owner and moderators of %q post promotions", st.Name)
			}
			return s.checkBudgetLocked(r, st, "post it without marking it a promotion")
		}
	}
	key, epoch, err := s.postingKeyLocked(ctx, r, channel, promotion)
	if err != nil {
		return Message{}, err
	}
	st := r.folder.State()
	c := community.NewContent(kind)
	c.Channel, c.Text, c.Target = channel, text, replyTo
	body, err := community.SealContent(key, id, epoch, me, c, s.rand)
	if err != nil {
		return Message{}, err
	}
	e, err := s.writeOwnLocked(ctx, r, kind, body, channel)
	if err != nil {
		return Message{}, err
	}
	m := r.view(st, e, c, me)
	s.Emit(MessageAdded{Community: id, Message: m})
	return m, nil
}

// PostingNote says why this install cannot post in a channel, in a sentence shown instead of
// the composer ("" when it can): an announcements channel for a member, an archived channel, a
// community it no longer belongs to.
func (s *Service) PostingNote(id, channel community.Hash) string {
	st, err := s.state(id)
	if err != nil {
		return ""
	}
	role := st.RoleOf(s.id.PublicKey())
	ch, ok := st.Channel(channel)
	switch {
	case role == community.RoleNone:
		return "You are no longer a member of this community: what you had stays readable here"
	case !ok:
		return ""
	case ch.Archived:
		return fmt.Sprintf("#%s is archived: nobody posts here any more", ch.Name)
	case ch.Type == community.ChannelAnnouncements && role < community.RoleModerator:
		return announcementsSentence(st, ch.Name)
	}
	return ""
}

// announcementsSentence tells a member who posts in an announcements channel, and where to reply
// (the first open chat channel).
func announcementsSentence(st *community.State, channel string) string {
	for _, c := range st.Channels() {
		if c.Type == community.ChannelChat && !c.Archived {
			return fmt.Sprintf("Only the owner and moderators post in #%s; reply in #%s", channel, c.Name)
		}
	}
	return fmt.Sprintf("Only the owner and moderators post in #%s", channel)
}

// view is the Message of a decrypted content event.
func (r *room) view(st *community.State, e *community.Event, c *community.Content, me []byte) Message {
	m, _ := st.Member(e.Author)
	return Message{
		ID: e.ID, Channel: c.Channel, Author: e.Author, Name: r.nameOf(st, e.Author), Role: m.Role, Text: c.Text,
		ReplyTo: c.Target, Time: e.WallTime(), Mine: bytes.Equal(e.Author, me), At: e.Position(),
		MentionsMe: !bytes.Equal(e.Author, me) && mentions(c.Text, r.nameOf(st, me)),
		Promotion:  community.IsPromotion(e.Kind),
	}
}

// mentions reports whether text names name after an @, as NameKey compares names, the mention
// ending where the name does ("@Ana," and "@ana ortiz" mention "Ana Ortiz"'s first word only
// when the name is one word: a mention is of the whole name).
func mentions(text, name string) bool {
	name = strings.TrimSpace(name)
	if name == "" || !strings.Contains(text, "@") {
		return false
	}
	key := community.NameKey(name)
	words := len(strings.Fields(name))
	for i := strings.IndexByte(text, '@'); i >= 0; {
		rest := text[i+1:]
		f := strings.Fields(rest)
		if len(f) >= words {
			cand := strings.Join(f[:words], " ")
			cand = strings.TrimRightFunc(cand, func(r rune) bool { return strings.ContainsRune(".,;:!?)'\"", r) })
			if community.NameKey(cand) == key {
				return true
			}
		}
		j := strings.IndexByte(rest, '@')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
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
	n, err := s.notesOf(r, channel)
	if err != nil {
		return nil, err
	}
	out := make([]Message, 0, len(evs))
	memo := pageMemo{} // the polls, requests and offers of this page read their pages once
	muted := s.muted(id)
	var over map[community.Hash]bool
	for _, e := range evs {
		if !shownKind(e.Kind) || st.CheckContent(e) != nil {
			continue
		}
		hidden, isOver := s.hiddenPromotion(r, st, e, muted, &over)
		if hidden && !(isOver && e.Kind == community.KindOffer) {
			continue
		}
		c, err := r.keys.Open(e)
		if err != nil {
			s.log.Debug("unreadable message", "id", e.ID.Short(), "err", err)
			continue
		}
		m, ok := s.withParts(r, st, e, r.view(st, e, c, me), memo)
		if !ok || (hidden && !m.Offer.Mine) {
			continue // a malformed poll or request; an offer past the budget, but for who claimed it
		}
		m.OverBudget = isOver
		if len(c.Blobs) > 0 {
			m = s.withAttachments(id, m, c)
		}
		out = append(out, r.annotate(n, st, m, me))
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
	if err != nil || !ok || !shownKind(e.Kind) {
		return Message{}, false, err
	}
	r.mu.Lock()
	st := r.folder.State()
	r.mu.Unlock()
	me := s.id.PublicKey()
	if !e.HasBody() {
		return Message{ID: e.ID, Author: e.Author, Name: r.nameOf(st, e.Author), Time: e.WallTime(), Mine: bytes.Equal(e.Author, me), At: e.Position()}, true, nil
	}
	if st.CheckContent(e) != nil {
		return Message{}, false, nil // the log voids it (written past its author's removal, say)
	}
	c, err := r.keys.Open(e)
	if err != nil {
		return Message{}, false, nil // not readable here (yet)
	}
	n, err := s.notesOf(r, c.Channel)
	if err != nil {
		return Message{}, false, err
	}
	m, _ := s.withParts(r, st, e, r.view(st, e, c, me), nil)
	var over map[community.Hash]bool
	hidden, isOver := s.hiddenPromotion(r, st, e, s.muted(id), &over)
	if hidden && (m.Offer == nil || !m.Offer.Mine || !isOver) {
		return Message{}, false, nil // members do not see it (the pins list, a reply's parent)
	}
	m.OverBudget = isOver
	if len(c.Blobs) > 0 {
		m = s.withAttachments(id, m, c)
	}
	return r.annotate(n, st, m, me), true, nil
}
