package app

// Polls: the owner and moderators ask, members vote (their choices sealed to the owner, the
// moderators and themselves), and the results go to the owner and moderators at once and to the
// members when the poll closes, unless its author chose never.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/kith-app/kith/app/community"
)

// pollsPage is the store page of votes and poll closes (no channel has this ID).
var pollsPage = community.Hash{0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd,
	0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd}

// Poll is a poll as views show it.
type Poll struct {
	ID      community.Hash
	Channel community.Hash
	Author  []byte
	Name    string // the author's name as shown
	At      time.Time
	community.PollSpec
	// Closed: a close is in the log, or its closing time has passed (this install's clock).
	Closed bool
	// Voted says this install's member voted, and Mine what it chose (option indexes from 0).
	Voted bool
	Mine  []int
	// Results are the owner's and moderators' count at any time, and the members' once the
	// poll closed with its results published; nil otherwise (ResultsNote says why).
	Results     *PollResults
	ResultsNote string
}

// PollResults are a poll's counts.
type PollResults struct {
	Votes  []int // per option
	Voters int
	// Published: the count the poll's close carries (what members see); else this install
	// counted the ballots itself (the owner and moderators).
	Published bool
}

// pollRecord is a poll read from the store with its votes and close.
type pollRecord struct {
	e      *community.Event
	c      *community.Content
	spec   community.PollSpec
	votes  []*community.Event // one per voter, the first in the log's order that counts
	bodies map[community.Hash]*community.Content
	close  *community.Event
	closeC *community.Content
}

// readPoll reads a poll, its votes and its close. r.mu must be held.
func (s *Service) readPoll(r *room, st *community.State, poll community.Hash, memo pageMemo) (*pollRecord, error) {
	e, ok, err := s.store.Event(r.id, poll)
	if err != nil {
		return nil, err
	}
	if !ok || e.Kind != community.KindPoll || !e.HasBody() {
		return nil, &sentenceError{msg: fmt.Sprintf("%s has no poll %s: `kithd polls` lists them", st.Name, poll.Short()), kind: ErrBadInput}
	}
	c, err := r.keys.Open(e)
	if err != nil {
		return nil, fmt.Errorf("app: this device cannot read the poll yet (%w): it reads it once it has synced", err)
	}
	spec, ok := community.PollOf(c)
	if !ok || st.CheckContent(e) != nil {
		return nil, &sentenceError{msg: "that poll is malformed or its author could not ask it, so it is ignored", kind: ErrBadInput}
	}
	p := &pollRecord{e: e, c: c, spec: spec, bodies: map[community.Hash]*community.Content{}}
	all, err := s.pageIn(r.id, pollsPage, memo)
	if err != nil {
		return nil, err
	}
	voted := map[string]bool{}
	for _, v := range all {
		c, err := r.keys.Open(v)
		if err != nil || c.Target != poll || st.CheckContent(v) != nil {
			continue
		}
		switch v.Kind {
		case community.KindPollClose:
			if p.close == nil {
				p.close, p.closeC = v, c
			}
		case community.KindVote:
			late := !spec.Closes.IsZero() && v.WallTime().After(spec.Closes.Add(community.PollCloseSkew))
			if p.close != nil || late || voted[string(v.Author)] {
				continue // after the close, or a second vote: only the first counts
			}
			voted[string(v.Author)] = true
			p.votes = append(p.votes, v)
			p.bodies[v.ID] = c
		}
	}
	return p, nil
}

// closed reports whether a poll is closed now.
func (p *pollRecord) closed(now time.Time) bool {
	return p.close != nil || (!p.spec.Closes.IsZero() && now.After(p.spec.Closes))
}

// count opens the ballots sealed to this install and counts them: the owner's and moderators'.
func (s *Service) count(id community.Hash, p *pollRecord) PollResults {
	res := PollResults{Votes: make([]int, len(p.spec.Options))}
	for _, v := range p.votes {
		choices, ok, err := community.OpenBallot(s.id, id, v.Author, p.bodies[v.ID])
		if !ok || err != nil || community.CheckChoices(p.spec, choices) != nil {
			continue
		}
		res.Voters++
		for _, c := range choices {
			res.Votes[c]++
		}
	}
	return res
}

// pollView is a poll as this install's member sees it.
func (s *Service) pollView(r *room, st *community.State, p *pollRecord) Poll {
	me := s.id.PublicKey()
	v := Poll{ID: p.e.ID, Channel: p.c.Channel, Author: p.e.Author, Name: r.nameOf(st, p.e.Author), At: p.e.WallTime(),
		PollSpec: p.spec, Closed: p.closed(s.now())}
	for _, vote := range p.votes {
		if bytes.Equal(vote.Author, me) {
			v.Voted = true
			if choices, ok, err := community.OpenBallot(s.id, r.id, me, p.bodies[vote.ID]); ok && err == nil {
				v.Mine = choices
			}
		}
	}
	switch {
	case st.RoleOf(me) >= community.RoleModerator:
		res := s.count(r.id, p)
		v.Results = &res
	case p.spec.ResultsNever:
		v.ResultsNote = "the results of this poll are for the owner and moderators"
	case !v.Closed:
		v.ResultsNote = "the results show when the poll closes"
		if !p.spec.Closes.IsZero() {
			v.ResultsNote += " (" + p.spec.Closes.Local().Format("2 Jan 2006 at 15:04") + ")"
		}
	case p.close == nil || !p.closeC.Flag:
		v.ResultsNote = "the poll closed; its results come once its author or a moderator is online"
	default:
		res := PollResults{Votes: make([]int, len(p.spec.Options)), Voters: int(p.closeC.Choice), Published: true}
		for i := range min(len(res.Votes), len(p.closeC.Options)) {
			res.Votes[i], _ = strconv.Atoi(p.closeC.Options[i])
		}
		v.Results = &res
	}
	return v
}

// pollFor is a poll as this install's member sees it, for a message view (nil when it does not
// read). It reads the store and the keyring only: it may be called with r.mu held or not.
func (s *Service) pollFor(r *room, st *community.State, poll community.Hash, memo pageMemo) *Poll {
	p, err := s.readPoll(r, st, poll, memo)
	if err != nil {
		return nil
	}
	v := s.pollView(r, st, p)
	return &v
}

// pollUpdated tells views that a poll changed (a vote, a close): MessageUpdated with the poll's
// message as this install sees it now. r.mu may be held.
func (s *Service) pollUpdated(r *room, st *community.State, poll community.Hash) {
	e, ok, err := s.store.Event(r.id, poll)
	if err != nil || !ok || e.Kind != community.KindPoll || !e.HasBody() {
		return
	}
	c, err := r.keys.Open(e)
	if err != nil {
		return
	}
	m := r.view(st, e, c, s.id.PublicKey())
	if m.Poll = s.pollFor(r, st, poll, nil); m.Poll == nil {
		return
	}
	if n, err := s.notesOf(r, c.Channel); err == nil {
		m = r.annotate(n, st, m, s.id.PublicKey())
	}
	s.Emit(MessageUpdated{Community: r.id, Message: m})
}

// CreatePoll asks a poll in a channel (the owner and moderators).
func (s *Service) CreatePoll(ctx context.Context, id, channel community.Hash, spec community.PollSpec) (Poll, error) {
	if !spec.Closes.IsZero() && !spec.Closes.After(s.now()) {
		return Poll{}, &sentenceError{msg: "the closing time is in the past: choose one to come", kind: ErrBadInput}
	}
	r, err := s.room(id)
	if err != nil {
		return Poll{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	if st.RoleOf(s.id.PublicKey()) < community.RoleModerator {
		return Poll{}, notAllowed("only the owner and moderators of %q ask polls", st.Name)
	}
	ch, ok := st.Channel(channel)
	switch {
	case !ok:
		return Poll{}, &sentenceError{msg: fmt.Sprintf("%s has no such channel", st.Name), kind: ErrBadInput}
	case ch.Archived:
		return Poll{}, notAllowed("#%s is archived: nothing new is posted there", ch.Name)
	}
	c, err := community.NewPoll(channel, spec)
	if err != nil {
		return Poll{}, err
	}
	body, err := s.sealOwnLocked(ctx, r, c)
	if err != nil {
		return Poll{}, err
	}
	e, err := s.writeOwnLocked(ctx, r, community.KindPoll, body, channel)
	if err != nil {
		return Poll{}, err
	}
	spec, _ = community.PollOf(c)
	v := Poll{ID: e.ID, Channel: channel, Author: e.Author, Name: r.nameOf(st, e.Author), At: e.WallTime(), PollSpec: spec,
		Results: &PollResults{Votes: make([]int, len(spec.Options))}}
	if !spec.Closes.IsZero() && !spec.ResultsNever {
		s.due.add(id, e.ID, spec.Closes)
	}
	m := r.view(st, e, c, s.id.PublicKey())
	m.Poll = &v
	s.Emit(MessageAdded{Community: id, Message: m})
	return v, nil
}

// sealOwnLocked seals content this install writes with the current key (rotating first when a
// former member holds it: sealingStateLocked). r.mu must be held.
func (s *Service) sealOwnLocked(ctx context.Context, r *room, c *community.Content) ([]byte, error) {
	st, err := s.sealingStateLocked(ctx, r)
	if err != nil {
		return nil, err
	}
	key, ok := r.keys.Key(st.Current)
	if !ok {
		return nil, fmt.Errorf("app: this device does not have the current key of %q yet: it arrives from a member when one is online", st.Name)
	}
	return community.SealContent(key, st.ID, st.Current, s.id.PublicKey(), c, s.rand)
}

// PollOf returns a poll as this install's member sees it.
func (s *Service) PollOf(id, poll community.Hash) (Poll, error) {
	return oneOf(s, id, poll, s.readPoll, s.pollView)
}

// Vote votes on a poll with choices (option indexes from 0): one vote per member, while the poll
// is open. The choices are sealed to the owner, the moderators and this install's member.
func (s *Service) Vote(ctx context.Context, id, poll community.Hash, choices []int) (Poll, error) {
	r, err := s.room(id)
	if err != nil {
		return Poll{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	if st.RoleOf(s.id.PublicKey()) == community.RoleNone {
		return Poll{}, notAllowed("only members of %q vote", st.Name)
	}
	p, err := s.readPoll(r, st, poll, nil)
	if err != nil {
		return Poll{}, err
	}
	v := s.pollView(r, st, p)
	switch {
	case v.Voted:
		return v, &sentenceError{msg: "you voted on this poll already: a vote cannot be changed", kind: ErrBadInput}
	case v.Closed:
		return v, &sentenceError{msg: "this poll is closed: votes are no longer taken", kind: ErrNotAllowed}
	}
	if err := community.CheckChoices(p.spec, choices); err != nil {
		return v, err
	}
	readers := append(st.Readers(), community.Recipient{Key: s.id.PublicKey(), X25519: s.id.X25519Public()})
	c, err := community.NewVote(id, p.c.Channel, poll, s.id.PublicKey(), choices, dedupe(readers), s.rand)
	if err != nil {
		return v, err
	}
	body, err := s.sealOwnLocked(ctx, r, c)
	if err != nil {
		return v, err
	}
	if _, err := s.writeOwnLocked(ctx, r, community.KindVote, body, pollsPage, p.e.Position()); err != nil {
		return v, err
	}
	p, err = s.readPoll(r, r.folder.State(), poll, nil)
	if err != nil {
		return v, err
	}
	s.pollUpdated(r, r.folder.State(), poll)
	return s.pollView(r, r.folder.State(), p), nil
}

// dedupe drops repeated recipients (a moderator voting is a reader already).
func dedupe(rs []community.Recipient) []community.Recipient {
	var out []community.Recipient
	for _, r := range rs {
		if !slices.ContainsFunc(out, func(o community.Recipient) bool { return o.Key.Equal(r.Key) }) {
			out = append(out, r)
		}
	}
	return out
}

// ClosePoll closes a poll (its author, the owner or a moderator): the close carries the count
// this install makes, which members see, unless the poll's results are never shown. Closing a
// closed poll writes nothing.
func (s *Service) ClosePoll(ctx context.Context, id, poll community.Hash) (Poll, error) {
	r, err := s.room(id)
	if err != nil {
		return Poll{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return s.closePollLocked(ctx, r, poll)
}

func (s *Service) closePollLocked(ctx context.Context, r *room, poll community.Hash) (Poll, error) {
	st := r.folder.State()
	if st.RoleOf(s.id.PublicKey()) < community.RoleModerator {
		return Poll{}, notAllowed("only the owner and moderators of %q close polls", st.Name)
	}
	p, err := s.readPoll(r, st, poll, nil)
	if err != nil {
		return Poll{}, err
	}
	if p.close != nil {
		return s.pollView(r, st, p), nil
	}
	res := s.count(r.id, p)
	c := community.NewContent(community.KindPollClose)
	c.Channel, c.Target = p.c.Channel, poll
	if !p.spec.ResultsNever {
		c.Flag, c.Choice = true, uint32(res.Voters)
		for _, n := range res.Votes {
			c.Options = append(c.Options, strconv.Itoa(n))
		}
	}
	body, err := s.sealOwnLocked(ctx, r, c)
	if err != nil {
		return Poll{}, err
	}
	cite := []community.Position{p.e.Position()}
	for _, v := range p.votes[max(0, len(p.votes)-8):] { // the last votes counted: the close sorts after them
		cite = append(cite, v.Position())
	}
	if _, err := s.writeOwnLocked(ctx, r, community.KindPollClose, body, pollsPage, cite...); err != nil {
		return Poll{}, err
	}
	st = r.folder.State()
	if p, err = s.readPoll(r, st, poll, nil); err != nil {
		return Poll{}, err
	}
	s.pollUpdated(r, st, poll)
	return s.pollView(r, st, p), nil
}

// Polls lists a community's polls, the newest first (at most limit; 0: 100).
func (s *Service) Polls(id community.Hash, limit int) ([]Poll, error) {
	if limit <= 0 {
		limit = 100
	}
	out, err := listOf(s, id, community.KindPoll, s.readPoll,
		func(r *room, st *community.State, p *pollRecord) (Poll, bool) { return s.pollView(r, st, p), true },
		func(p Poll) time.Time { return p.At })
	return out[:min(len(out), limit)], err
}

// dueTimes are this install's open polls with a closing time: read from the store once, then
// kept as polls are asked, so that closing them does not read every channel each time.
type dueTimes struct {
	mu      sync.Mutex
	scanned bool
	polls   map[[2]community.Hash]time.Time // (community, poll) → closing time
}

func (d *dueTimes) add(id, poll community.Hash, closes time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.polls == nil {
		d.polls = map[[2]community.Hash]time.Time{}
	}
	d.polls[[2]community.Hash{id, poll}] = closes
}

// CloseDuePolls closes the polls this install's member asked whose closing time has passed
// (the peer calls it now and then), so that members get the results without anyone asking. The
// first call reads the polls from the store; later ones only those it knows are open.
func (s *Service) CloseDuePolls(ctx context.Context) {
	s.due.mu.Lock()
	first := !s.due.scanned
	s.due.scanned = true
	s.due.mu.Unlock()
	me := s.id.PublicKey()
	if first {
		cs, err := s.Communities()
		if err != nil {
			return
		}
		for _, c := range cs {
			if c.Role < community.RoleModerator {
				continue
			}
			polls, err := s.Polls(c.ID, 10_000)
			if err != nil {
				continue
			}
			for _, p := range polls {
				if ed25519.PublicKey(p.Author).Equal(me) && !p.Closes.IsZero() && !p.ResultsNever && (p.Results == nil || !p.Results.Published) {
					s.due.add(c.ID, p.ID, p.Closes)
				}
			}
		}
	}
	now := s.now()
	s.due.mu.Lock()
	var ready [][2]community.Hash
	for k, closes := range s.due.polls {
		if now.After(closes) {
			ready = append(ready, k)
			delete(s.due.polls, k)
		}
	}
	s.due.mu.Unlock()
	for _, k := range ready {
		if _, err := s.ClosePoll(ctx, k[0], k[1]); err != nil {
			s.log.Warn("closing a poll whose time has come", "community", k[0].Short(), "poll", k[1].Short(), "err", err)
		}
	}
}

// ParsePollRef finds a poll by its ID or a unique prefix (8+ hex digits) among a community's.
func (s *Service) ParsePollRef(id community.Hash, ref string) (community.Hash, error) {
	return s.refIn(id, community.KindPoll, ref, "poll", "kithd polls")
}
