package app

// Feedback requests: the owner or a moderator asks a question of everyone, of a role, or of
// members who joined before a date; members answer, privately (sealed to the owner, the
// moderators and themselves); the asker's side sets a status every member sees.

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kith-app/kith/app/community"
)

// feedbackPage is the store page of feedback answers and statuses (no channel has this ID).
var feedbackPage = community.Hash{0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc,
	0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc}

// Feedback is a feedback request as views show it.
type Feedback struct {
	ID      community.Hash
	Channel community.Hash
	Author  []byte
	Name    string
	At      time.Time
	community.FeedbackSpec
	Status, Note string    // the latest status ("" none yet) and its note
	StatusAt     time.Time // when it was set
	Asked        bool      // this install's member is among those asked
	Closed       bool      // its closing time passed, or its status is done or declined
	Mine         string    // this member's answer ("" none)
	Answered     bool
	// Answers are every answer, for the owner and moderators (nil for members).
	Answers []FeedbackAnswer
}

// FeedbackAnswer is one member's answer, as the owner and moderators read it.
type FeedbackAnswer struct {
	Author []byte
	Name   string
	At     time.Time
	Text   string // "" when it is not sealed to this install
}

// feedbackRecord is a request read from the store with its answers and statuses.
type feedbackRecord struct {
	e       *community.Event
	c       *community.Content
	spec    community.FeedbackSpec
	answers []*community.Event
	bodies  map[community.Hash]*community.Content
	status  *community.Content
	statusE *community.Event
	granted map[string]bool // a request to an offer's granted members: who they are
}

// asks reports whether the request asks key, a member with role whose membership began at joined.
func (f *feedbackRecord) asks(key []byte, role community.Role, joined time.Time) bool {
	return f.spec.Asks(role, joined) && (f.granted == nil || f.granted[string(key)])
}

func (s *Service) readFeedback(r *room, st *community.State, request community.Hash, memo pageMemo) (*feedbackRecord, error) {
	e, ok, err := s.store.Event(r.id, request)
	if err != nil {
		return nil, err
	}
	if !ok || e.Kind != community.KindFeedbackRequest || !e.HasBody() {
		return nil, &sentenceError{msg: fmt.Sprintf("%s has no feedback request %s: `kithd feedback` lists them", st.Name, request.Short()), kind: ErrBadInput}
	}
	c, err := r.keys.Open(e)
	if err != nil {
		return nil, fmt.Errorf("app: this device cannot read the request yet (%w): it reads it once it has synced", err)
	}
	spec, ok := community.FeedbackOf(c)
	if !ok || st.CheckContent(e) != nil {
		return nil, &sentenceError{msg: "that feedback request is malformed or its author could not ask it, so it is ignored", kind: ErrBadInput}
	}
	f := &feedbackRecord{e: e, c: c, spec: spec, bodies: map[community.Hash]*community.Content{}}
	if spec.Offer != (community.Hash{}) {
		f.granted = map[string]bool{}
		if o, err := s.readOffer(r, st, spec.Offer, memo); err == nil {
			for i, c := range o.claims {
				if o.granted(i) {
					f.granted[string(c.Author)] = true
				}
			}
		}
	}
	all, err := s.pageIn(r.id, feedbackPage, memo)
	if err != nil {
		return nil, err
	}
	answered := map[string]bool{}
	for _, v := range all {
		c, err := r.keys.Open(v)
		if err != nil || c.Target != request || st.CheckContent(v) != nil {
			continue
		}
		switch v.Kind {
		case community.KindFeedbackStatus:
			if _, _, ok := community.StatusOf(c); ok {
				f.status, f.statusE = c, v // the latest in the log's order stands
			}
		case community.KindFeedbackAnswer:
			m, _ := st.Member(v.Author)
			late := !spec.Closes.IsZero() && v.WallTime().After(spec.Closes.Add(community.PollCloseSkew))
			if late || answered[string(v.Author)] || !f.asks(v.Author, m.Role, joinedAt(m)) {
				continue // after the close, a second answer, or someone not asked: not counted
			}
			answered[string(v.Author)] = true
			f.answers = append(f.answers, v)
			f.bodies[v.ID] = c
		}
	}
	return f, nil
}

// joinedAt is when a member's current membership began (zero for none).
func joinedAt(m community.Member) time.Time {
	if n := len(m.Stints); n > 0 {
		return m.Stints[n-1].At
	}
	return time.Time{}
}

func (s *Service) feedbackView(r *room, st *community.State, f *feedbackRecord) Feedback {
	me := s.id.PublicKey()
	mem, _ := st.Member(me)
	v := Feedback{ID: f.e.ID, Channel: f.c.Channel, Author: f.e.Author, Name: r.nameOf(st, f.e.Author), At: f.e.WallTime(),
		FeedbackSpec: f.spec, Asked: f.asks(me, mem.Role, joinedAt(mem))}
	if f.status != nil {
		v.Status, v.Note, _ = community.StatusOf(f.status)
		v.StatusAt = f.statusE.WallTime()
	}
	v.Closed = v.Status == "done" || v.Status == "declined" || (!f.spec.Closes.IsZero() && s.now().After(f.spec.Closes))
	reader := st.RoleOf(me) >= community.RoleModerator
	for _, a := range f.answers {
		text, ok, _ := community.OpenFeedbackAnswer(s.id, r.id, a.Author, f.bodies[a.ID])
		if bytes.Equal(a.Author, me) {
			v.Answered, v.Mine = true, text
		}
		if reader {
			if !ok {
				text = ""
			}
			v.Answers = append(v.Answers, FeedbackAnswer{Author: a.Author, Name: r.nameOf(st, a.Author), At: a.WallTime(), Text: text})
		}
	}
	if reader && v.Answers == nil {
		v.Answers = []FeedbackAnswer{}
	}
	return v
}

// feedbackFor is a request as this install's member sees it, for a message view (nil when it does
// not read). It reads the store and the keyring only.
func (s *Service) feedbackFor(r *room, st *community.State, request community.Hash, memo pageMemo) *Feedback {
	f, err := s.readFeedback(r, st, request, memo)
	if err != nil {
		return nil
	}
	v := s.feedbackView(r, st, f)
	return &v
}

// feedbackUpdated tells views that a request changed (an answer, a status): MessageUpdated with
// its message; and, when its status changed and this member answered, FeedbackStatusChanged.
func (s *Service) feedbackUpdated(r *room, st *community.State, request community.Hash, statusChanged bool) {
	e, ok, err := s.store.Event(r.id, request)
	if err != nil || !ok || e.Kind != community.KindFeedbackRequest || !e.HasBody() {
		return
	}
	c, err := r.keys.Open(e)
	if err != nil {
		return
	}
	m, ok := s.withParts(r, st, e, r.view(st, e, c, s.id.PublicKey()), nil)
	if !ok {
		return
	}
	if n, err := s.notesOf(r, c.Channel); err == nil {
		m = r.annotate(n, st, m, s.id.PublicKey())
	}
	s.Emit(MessageUpdated{Community: r.id, Message: m})
	if statusChanged && m.Feedback.Answered && m.Feedback.Status != "" {
		s.Emit(FeedbackStatusChanged{Community: r.id, Feedback: *m.Feedback})
	}
}

// FeedbackStatusChanged: the status of a feedback request this member answered changed ("you
// asked, we did"): views tell the member.
type FeedbackStatusChanged struct {
	Community community.Hash
	Feedback  Feedback
}

func (FeedbackStatusChanged) isEvent() {}

// Ask asks a feedback request in a channel (the owner and moderators).
func (s *Service) Ask(ctx context.Context, id, channel community.Hash, spec community.FeedbackSpec) (Feedback, error) {
	if !spec.Closes.IsZero() && !spec.Closes.After(s.now()) {
		return Feedback{}, &sentenceError{msg: "the closing time is in the past: choose one to come", kind: ErrBadInput}
	}
	r, err := s.room(id)
	if err != nil {
		return Feedback{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	if st.RoleOf(s.id.PublicKey()) < community.RoleModerator {
		return Feedback{}, notAllowed("only the owner and moderators of %q ask for feedback", st.Name)
	}
	if ch, ok := st.Channel(channel); !ok || ch.Archived {
		return Feedback{}, &sentenceError{msg: "that channel does not exist or is archived", kind: ErrBadInput}
	}
	if spec.Offer != (community.Hash{}) {
		if _, err := s.readOffer(r, st, spec.Offer, nil); err != nil {
			return Feedback{}, err
		}
	}
	c, err := community.NewFeedbackRequest(channel, spec)
	if err != nil {
		return Feedback{}, err
	}
	body, err := s.sealOwnLocked(ctx, r, c)
	if err != nil {
		return Feedback{}, err
	}
	e, err := s.writeOwnLocked(ctx, r, community.KindFeedbackRequest, body, channel)
	if err != nil {
		return Feedback{}, err
	}
	f, err := s.readFeedback(r, r.folder.State(), e.ID, nil)
	if err != nil {
		return Feedback{}, err
	}
	v := s.feedbackView(r, r.folder.State(), f)
	m := r.view(r.folder.State(), e, c, s.id.PublicKey())
	m.Feedback = &v
	s.Emit(MessageAdded{Community: id, Message: m})
	return v, nil
}

// Answer answers a feedback request (a member it asks, once, while it is open): the answer is
// sealed to the owner, the moderators and this member.
func (s *Service) Answer(ctx context.Context, id, request community.Hash, text string) (Feedback, error) {
	text, err := community.LimitFeedback.CleanText(strings.TrimSpace(text))
	if err != nil {
		return Feedback{}, err
	}
	if text == "" {
		return Feedback{}, &sentenceError{msg: "the answer is empty: write something first", kind: ErrBadInput}
	}
	r, err := s.room(id)
	if err != nil {
		return Feedback{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	f, err := s.readFeedback(r, st, request, nil)
	if err != nil {
		return Feedback{}, err
	}
	v := s.feedbackView(r, st, f)
	switch {
	case !v.Asked:
		return v, notAllowed("this request asks %s, not you", audience(f.spec))
	case v.Answered:
		return v, &sentenceError{msg: "you answered this request already", kind: ErrBadInput}
	case v.Closed:
		return v, notAllowed("this request is closed: answers are no longer taken")
	}
	readers := dedupe(append(st.Readers(), community.Recipient{Key: s.id.PublicKey(), X25519: s.id.X25519Public()}))
	c, err := community.NewFeedbackAnswer(id, f.c.Channel, request, s.id.PublicKey(), text, readers, s.rand)
	if err != nil {
		return v, err
	}
	body, err := s.sealOwnLocked(ctx, r, c)
	if err != nil {
		return v, err
	}
	if _, err := s.writeOwnLocked(ctx, r, community.KindFeedbackAnswer, body, feedbackPage, f.e.Position()); err != nil {
		return v, err
	}
	f, err = s.readFeedback(r, r.folder.State(), request, nil)
	if err != nil {
		return v, err
	}
	s.feedbackUpdated(r, r.folder.State(), request, false)
	return s.feedbackView(r, r.folder.State(), f), nil
}

// audience says whom a request asks, in words.
func audience(f community.FeedbackSpec) string {
	who := "everyone"
	switch f.Role {
	case community.RoleMember:
		who = "the members"
	case community.RoleModerator:
		who = "the moderators"
	}
	if !f.JoinedBefore.IsZero() {
		who += " who joined before " + f.JoinedBefore.Local().Format("2 Jan 2006")
	}
	if f.Offer != (community.Hash{}) {
		who += " granted the offer it follows"
	}
	return who
}

// SetFeedbackStatus sets a request's status (the owner and moderators): planned, doing, done
// or declined, with a note; every member sees the latest.
func (s *Service) SetFeedbackStatus(ctx context.Context, id, request community.Hash, status, note string) (Feedback, error) {
	r, err := s.room(id)
	if err != nil {
		return Feedback{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	if st.RoleOf(s.id.PublicKey()) < community.RoleModerator {
		return Feedback{}, notAllowed("only the owner and moderators of %q set a request's status", st.Name)
	}
	f, err := s.readFeedback(r, st, request, nil)
	if err != nil {
		return Feedback{}, err
	}
	c, err := community.NewFeedbackStatus(f.c.Channel, request, status, note)
	if err != nil {
		return Feedback{}, err
	}
	body, err := s.sealOwnLocked(ctx, r, c)
	if err != nil {
		return Feedback{}, err
	}
	if _, err := s.writeOwnLocked(ctx, r, community.KindFeedbackStatus, body, feedbackPage, f.e.Position()); err != nil {
		return Feedback{}, err
	}
	f, err = s.readFeedback(r, r.folder.State(), request, nil)
	if err != nil {
		return Feedback{}, err
	}
	s.feedbackUpdated(r, r.folder.State(), request, false)
	return s.feedbackView(r, r.folder.State(), f), nil
}

// FeedbackOf returns one request as this install's member sees it.
func (s *Service) FeedbackOf(id, request community.Hash) (Feedback, error) {
	return oneOf(s, id, request, s.readFeedback, s.feedbackView)
}

// Feedbacks lists a community's feedback requests, the newest first.
func (s *Service) Feedbacks(id community.Hash) ([]Feedback, error) {
	return listOf(s, id, community.KindFeedbackRequest, s.readFeedback,
		func(r *room, st *community.State, f *feedbackRecord) (Feedback, bool) {
			return s.feedbackView(r, st, f), true
		},
		func(f Feedback) time.Time { return f.At })
}

// ParseFeedbackRef finds a feedback request by its ID or a unique prefix (8+ hex digits).
func (s *Service) ParseFeedbackRef(id community.Hash, ref string) (community.Hash, error) {
	return s.refIn(id, community.KindFeedbackRequest, ref, "feedback request", "kithd feedback")
}
