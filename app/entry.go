package app

// Entry: join requests that wait for approval, the owner's and moderators' decisions, the
// community's entry settings (members who invite, the welcome, the rules, default questions),
// and revoking every invite one member issued.

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/invite"
)

// ErrAwaitingApproval is what a join with an invite that needs approval ends with once its
// request is delivered: it waits for the owner or a moderator, and the join goes on by itself.
var ErrAwaitingApproval = errors.New("app: the request to join waits for approval")

// DeclinedError is the answer to a request to join that the owner or a moderator declined: final.
type DeclinedError struct {
	Community string // the community's name
	By        string // the decider's name, as the member that answered shows it ("" unknown)
	Reason    string
	At        time.Time
}

func (e *DeclinedError) Error() string {
	who := "the owner or a moderator"
	if e.By != "" {
		who = e.By
	}
	msg := fmt.Sprintf("%s declined your request to join %q", who, e.Community)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Refused marks a decline as final (KindOf: refused).
func (e *DeclinedError) Refused() bool { return true }

// EntryRequest is a join request as the owner and moderators review it.
type EntryRequest struct {
	ID        community.Hash
	Name      string // the joiner's display name, as given
	Joiner    ed25519.PublicKey
	At        time.Time // when the member it reached wrote it
	Questions []string
	// Answers, one per question; nil when this install cannot read them, and AnswersNote says
	// why: not sealed to it (it was not the owner or a moderator when the request was made, or
	// the member that relayed the request left it out), or they do not match what the joiner
	// signed (changed on the way).
	Answers     []string
	AnswersNote string
	InviteID    invite.ID
	Invite      *invite.Capability
	InvitedBy   string // the invite's issuer, as shown
	ReachedVia  string // the member the joiner reached, as shown
	State       community.RequestState
	DecidedBy   string
	DecidedAt   time.Time
	Reason      string
	// Ended says why a waiting request can no longer be approved: its invite expired (by this
	// install's clock), was revoked, or is used up; "" when it can.
	Ended string
}

// Requests lists a community's join requests for its owner and moderators, the oldest first:
// the waiting ones (Ended says why one can no longer be approved), or every one with all.
func (s *Service) Requests(id community.Hash, all bool) ([]EntryRequest, error) {
	r, err := s.room(id)
	if err != nil {
		return nil, err
	}
	st := r.folder.State()
	if st.RoleOf(s.id.PublicKey()) < community.RoleModerator {
		return nil, notAllowed("only the owner and moderators of %q see the requests to join", st.Name)
	}
	names := r.shownNames(st)
	now := s.now()
	var out []EntryRequest
	for _, q := range st.Requests() {
		v := s.requestView(st, names, q, now)
		if !all && v.State != community.RequestWaiting {
			continue // waiting ones show even when they can no longer be approved: Decline clears them
		}
		if e, ok, err := s.store.Event(id, q.ID); err == nil && ok {
			if b, err := community.DecodeBody(e.Kind, e.Body); err == nil {
				answers, sealed, err := community.OpenAnswers(s.id, id, b.(*community.EntryRequest), q.Invite)
				switch {
				case err != nil:
					s.log.Warn("the answers of a request do not open", "request", q.ID.Short(), "err", err)
					v.AnswersNote = "the answers were changed on the way (they are not what the joiner signed): decline this request, or ask " + names.of(q.Admitter) + " why"
				case !sealed && len(q.Invite.Questions) > 0:
					v.AnswersNote = "the answers are sealed to the owner and the moderators of the time, and not to this device"
				default:
					v.Answers = answers
				}
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// requestView is a request as views show it, but for its answers.
func (s *Service) requestView(st *community.State, names *shown, q community.Request, now time.Time) EntryRequest {
	v := EntryRequest{
		ID: q.ID, Name: q.Name, Joiner: q.Joiner, At: q.At, Questions: q.Invite.Questions,
		InviteID: q.Invite.ID, Invite: &q.Invite.Capability, InvitedBy: names.of(q.Invite.Issuer), ReachedVia: names.of(q.Admitter),
		State: q.State, DecidedAt: q.DecidedAt, Reason: q.Reason,
	}
	if q.State != community.RequestWaiting {
		v.DecidedBy = names.of(q.DecidedBy)
		return v
	}
	switch {
	case st.Revoked(q.Invite.ID):
		v.Ended = "its invite was revoked"
	case !q.Invite.Expires.IsZero() && now.After(q.Invite.Expires.Add(invite.ClockSkew)):
		v.Ended = "its invite expired on " + q.Invite.Expires.Local().Format("2 Jan 2006 at 15:04")
	case q.Invite.MaxUses > 0 && st.Uses(q.Invite.ID) >= int(q.Invite.MaxUses):
		v.Ended = "its invite is used up"
	}
	return v
}

// request finds a request by its ID or a unique prefix of it (8 hex digits or more).
func request(st *community.State, ref string) (community.Request, error) {
	ref = strings.ToLower(strings.TrimSpace(ref))
	if len(ref) < 8 {
		return community.Request{}, &sentenceError{msg: fmt.Sprintf("%q is not a request ID: give at least its first 8 hex digits, as `kithd requests` prints them", ref), kind: ErrBadInput}
	}
	var found []community.Request
	for _, q := range st.Requests() {
		if strings.HasPrefix(q.ID.String(), ref) {
			found = append(found, q)
		}
	}
	switch len(found) {
	case 0:
		return community.Request{}, &sentenceError{msg: fmt.Sprintf("%s has no request %s: `kithd requests` lists them", st.Name, ref), kind: ErrBadInput}
	case 1:
		return found[0], nil
	}
	return community.Request{}, &sentenceError{msg: fmt.Sprintf("%s names %d requests: give more of its ID", ref, len(found)), kind: ErrBadInput}
}

// decidable finds a waiting request the owner or a moderator may decide now.
func (s *Service) decidable(r *room, ref string, approving bool) (*community.State, community.Request, error) {
	st := r.folder.State()
	if st.RoleOf(s.id.PublicKey()) < community.RoleModerator {
		return st, community.Request{}, notAllowed("only the owner and moderators of %q approve or decline requests to join", st.Name)
	}
	q, err := request(st, ref)
	if err != nil {
		return st, q, err
	}
	names := r.shownNames(st)
	if q.State != community.RequestWaiting {
		return st, q, &sentenceError{msg: fmt.Sprintf("%s's request was %s already, by %s on %s: nothing to do",
			community.Printable(q.Name, false), q.State, names.of(q.DecidedBy), q.DecidedAt.Local().Format("2 Jan 2006 at 15:04")), kind: ErrBadInput}
	}
	if approving {
		if v := s.requestView(st, names, q, s.now()); v.Ended != "" {
			return st, q, &sentenceError{msg: fmt.Sprintf("%s cannot be let in with this request: %s. Decline it, and send them a new invite if you want them in",
				community.Printable(q.Name, false), v.Ended), kind: ErrNotAllowed}
		}
		if err := invite.CheckVerified(q.Invite, st.ID, s.now(), st.Ledger()); err != nil {
			return st, q, &sentenceError{msg: fmt.Sprintf("%s cannot be let in: %v", community.Printable(q.Name, false), Sentence(err)), kind: ErrNotAllowed}
		}
		if m, ok := st.Member(q.Joiner); ok && m.Active {
			return st, q, &sentenceError{msg: fmt.Sprintf("%s is a member already", community.Printable(q.Name, false)), kind: ErrBadInput}
		}
	}
	return st, q, nil
}

// Approve lets a waiting request's joiner in (the owner and moderators): the approval is its
// join, and the joiner gets in the next time it reaches any member. Approving a request that
// was decided already, or whose invite was revoked, expired or used up meanwhile, says so and
// writes nothing.
func (s *Service) Approve(ctx context.Context, id community.Hash, ref string) (EntryRequest, error) {
	r, err := s.room(id)
	if err != nil {
		return EntryRequest{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st, q, err := s.decidable(r, ref, true)
	if err != nil {
		return EntryRequest{}, err
	}
	key, ok := r.keys.Key(st.Current)
	if !ok {
		return EntryRequest{}, fmt.Errorf("app: this device lacks the current key of %q, so it cannot let anyone in yet: try again once it has synced", st.Name)
	}
	body, err := community.NewApprove(q, key, s.rand)
	if err != nil {
		return EntryRequest{}, err
	}
	if _, err := s.writeOwnLocked(ctx, r, community.KindApprove, community.EncodeBody(body), community.Hash{}, r.positionOf(q.ID)...); err != nil {
		return EntryRequest{}, err
	}
	st = r.folder.State()
	q, _ = st.RequestOf(q.ID)
	return s.requestView(st, r.shownNames(st), q, s.now()), nil
}

// Decline ends a waiting request without letting its joiner in (the owner and moderators); the
// joiner is told the reason (at most community.LimitReason) when it next reaches a member.
func (s *Service) Decline(ctx context.Context, id community.Hash, ref, reason string) (EntryRequest, error) {
	reason, err := community.LimitReason.CleanText(reason)
	if err != nil {
		return EntryRequest{}, err
	}
	r, err := s.room(id)
	if err != nil {
		return EntryRequest{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, q, err := s.decidable(r, ref, false)
	if err != nil {
		return EntryRequest{}, err
	}
	body := &community.Decline{Request: q.ID, Reason: reason}
	if _, err := s.writeOwnLocked(ctx, r, community.KindDecline, community.EncodeBody(body), community.Hash{}, r.positionOf(q.ID)...); err != nil {
		return EntryRequest{}, err
	}
	st := r.folder.State()
	q, _ = st.RequestOf(q.ID)
	return s.requestView(st, r.shownNames(st), q, s.now()), nil
}

// positionOf is the position of a stored event, to cite (nothing when it is not known).
func (r *room) positionOf(id community.Hash) []community.Position {
	if k, ok := r.recent[id]; ok {
		return []community.Position{{Lamport: k.Lamport, ID: id}}
	}
	return nil
}

// Welcome is what a new member is shown on arrival, and the info panel later.
type Welcome struct {
	Text  string
	Rules string
	Intro string // the channel where newcomers introduce themselves ("" none)
}

// EntrySettings are a community's rules for entry as the owner edits them.
type EntrySettings struct {
	MemberInvites  int  // people each member may bring in (0: members issue no invites)
	MemberApproval bool // a member's invite always needs approval
	Welcome        Welcome
	Questions      []string // the default questions of an invite that needs approval
	// PromotionsPerWeek is how many promotional posts and offers the owner and moderators may
	// put out in a week (1 to community.MaxPromotionsPerWeek).
	PromotionsPerWeek int
	// MaxFileMiB is the largest file a member may send, in MiB (1 to community.MaxFileMiB);
	// KeepFiles asks every member's install to keep every file, not only those opened.
	MaxFileMiB int
	KeepFiles  bool
}

// Entry returns a community's entry settings.
func (s *Service) Entry(id community.Hash) (EntrySettings, error) {
	st, err := s.state(id)
	if err != nil {
		return EntrySettings{}, err
	}
	return entryOf(st), nil
}

func entryOf(st *community.State) EntrySettings {
	set := st.Settings
	out := EntrySettings{MemberInvites: int(set.MemberInvites), MemberApproval: set.MemberApproval,
		Welcome: Welcome{Text: set.Welcome, Rules: set.Rules}, Questions: slices.Clone(set.Questions),
		PromotionsPerWeek: set.PromotionBudget(), MaxFileMiB: int(set.FileLimit() >> 20), KeepFiles: set.KeepFiles}
	if c, ok := st.Channel(set.Intro); ok {
		out.Welcome.Intro = c.Name
	}
	return out
}

// SetEntry changes a community's entry settings (the owner): change edits a copy of the
// current ones. Each field is checked against its limit with a sentence; the intro channel is
// named (an active channel). Nothing is written when nothing changed.
func (s *Service) SetEntry(ctx context.Context, id community.Hash, change func(*EntrySettings)) (EntrySettings, error) {
	r, err := s.room(id)
	if err != nil {
		return EntrySettings{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	if st.RoleOf(s.id.PublicKey()) != community.RoleOwner {
		return EntrySettings{}, notAllowed("only the owner of %q changes who may invite and what newcomers see", st.Name)
	}
	cur := entryOf(st)
	next := cur
	next.Questions = slices.Clone(cur.Questions)
	change(&next)
	body := &community.Settings{MemberApproval: next.MemberApproval}
	if next.MemberInvites < 0 || next.MemberInvites > community.MaxMemberInvites {
		return cur, &community.FieldError{Err: community.ErrTooLong, Msg: fmt.Sprintf("members may bring in 0 (no invites) up to %d people each, not %d", community.MaxMemberInvites, next.MemberInvites)}
	}
	body.MemberInvites = uint32(next.MemberInvites)
	if body.Welcome, err = community.LimitWelcome.CleanText(next.Welcome.Text); err != nil {
		return cur, err
	}
	if body.Rules, err = community.LimitWelcome.CleanText(next.Welcome.Rules); err != nil {
		return cur, fmt.Errorf("the rules: %w", err)
	}
	switch {
	case next.Welcome.Intro == cur.Welcome.Intro:
		body.Intro = st.Settings.Intro // unchanged, even if it was archived since
	case next.Welcome.Intro != "":
		c, err := channelNamed(st, next.Welcome.Intro)
		if err != nil {
			return cur, err
		}
		body.Intro = c.ID
	}
	if body.Questions, err = cleanQuestions(next.Questions); err != nil {
		return cur, err
	}
	body.PromotionsPerWeek = st.Settings.PromotionsPerWeek
	if next.PromotionsPerWeek != cur.PromotionsPerWeek {
		if next.PromotionsPerWeek < 1 || next.PromotionsPerWeek > community.MaxPromotionsPerWeek {
			return cur, &community.FieldError{Err: community.ErrTooLong, Msg: fmt.Sprintf("the promotion budget is 1 up to %d a week, not %d", community.MaxPromotionsPerWeek, next.PromotionsPerWeek)}
		}
		body.PromotionsPerWeek = uint32(next.PromotionsPerWeek)
	}
	body.MaxFileMiB, body.KeepFiles = st.Settings.MaxFileMiB, next.KeepFiles
	if next.MaxFileMiB != cur.MaxFileMiB {
		if next.MaxFileMiB < 1 || next.MaxFileMiB > community.MaxFileMiB {
			return cur, &community.FieldError{Err: community.ErrTooLong, Msg: fmt.Sprintf("the largest file is 1 up to %d MiB, not %d", community.MaxFileMiB, next.MaxFileMiB)}
		}
		body.MaxFileMiB = uint32(next.MaxFileMiB)
	}
	if old := st.Settings; old.MemberInvites == body.MemberInvites && old.MemberApproval == body.MemberApproval &&
		old.Welcome == body.Welcome && old.Rules == body.Rules && old.Intro == body.Intro && slices.Equal(old.Questions, body.Questions) &&
		old.PromotionsPerWeek == body.PromotionsPerWeek && old.MaxFileMiB == body.MaxFileMiB && old.KeepFiles == body.KeepFiles {
		return cur, nil
	}
	if _, err := s.writeOwnLocked(ctx, r, community.KindSettings, community.EncodeBody(body), community.Hash{}); err != nil {
		return cur, err
	}
	return entryOf(r.folder.State()), nil
}

// channelNamed finds an active channel by its name (as NameKey compares names).
func channelNamed(st *community.State, name string) (community.Channel, error) {
	var names []string
	for _, c := range st.Channels() {
		if c.Archived {
			continue
		}
		if community.NameKey(c.Name) == community.NameKey(name) {
			return c, nil
		}
		names = append(names, c.Name)
	}
	return community.Channel{}, &sentenceError{msg: fmt.Sprintf("%s has no channel %q: choose one of %s", st.Name, name, strings.Join(names, ", ")), kind: ErrBadInput}
}

// cleanQuestions checks entry questions: at most invite.MaxQuestions, each one line within
// community.LimitQuestion.
func cleanQuestions(qs []string) ([]string, error) {
	if len(qs) > invite.MaxQuestions {
		return nil, &community.FieldError{Err: community.ErrTooLong, Msg: fmt.Sprintf("an invite asks at most %d questions, not %d", invite.MaxQuestions, len(qs))}
	}
	var out []string
	for i, q := range qs {
		c, err := community.LimitQuestion.CleanName(q)
		if err != nil {
			return nil, fmt.Errorf("question %d: %w", i+1, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// RevokeBy revokes every open invite a member registered (the owner and moderators); it returns
// how many were open (neither revoked nor used up). The member stays: remove it for that.
func (s *Service) RevokeBy(ctx context.Context, id community.Hash, member ed25519.PublicKey) (int, error) {
	r, err := s.room(id)
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	if st.RoleOf(s.id.PublicKey()) < community.RoleModerator {
		return 0, notAllowed("only the owner and moderators of %q revoke a member's invites", st.Name)
	}
	n := st.OpenInvites(member)
	if n == 0 {
		return 0, nil
	}
	_, err = s.writeOwnLocked(ctx, r, community.KindRevokeBy, community.EncodeBody(&community.RevokeBy{Issuer: member}), community.Hash{})
	return n, err
}

// waitingAnswer is the request of a joiner asking again, whose state answers it: its latest
// request with this invite (waiting, or declined), or its request still waiting with another
// invite that can still admit at time at.
func waitingAnswer(st *community.State, joiner ed25519.PublicKey, inv invite.ID, at time.Time) (community.Request, bool) {
	q, ok := st.LatestRequestOf(joiner)
	switch {
	case !ok:
		return q, false
	case q.Invite.ID == inv:
		return q, true
	}
	w, ok := st.WaitingFor(joiner)
	return w, ok && invite.CheckVerified(w.Invite, st.ID, at, st.Ledger()) == nil
}
