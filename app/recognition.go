package app

// Recognition by quality: kudos from the owner and moderators (with a note), "helpful" marks
// from members, and a board computed from the log that weighs marks by how many different
// members gave them and by the standing of those who gave them — never by how much anyone posts.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"math"
	"slices"
	"time"

	"github.com/kith-app/kith/app/community"
)

// recognitionPage is the store page of kudos and helpful marks (no channel has this ID).
var recognitionPage = community.Hash{0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa,
	0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa}

// kudosWeight is what one kudos from the owner or a moderator adds to a member's score: a few
// members' thanks.
const kudosWeight = 3

// Recognition is one member on the board.
type Recognition struct {
	Key         []byte
	Name        string
	Score       float64
	Kudos       int      // kudos received, from different givers
	HelpfulFrom int      // different members who marked its messages helpful
	Notes       []string // the kudos' notes, the latest first
	Badges      []string // the titles of the badges the owner signed for it, the latest first
}

// Kudos gives a member kudos with a note (the owner and moderators).
func (s *Service) Kudos(ctx context.Context, id community.Hash, member ed25519.PublicKey, note string) error {
	note, err := community.LimitReason.CleanText(note)
	if err != nil {
		return err
	}
	if note == "" {
		return &sentenceError{msg: "kudos need a note: say what was good", kind: ErrBadInput}
	}
	r, err := s.room(id)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	me := s.id.PublicKey()
	if st.RoleOf(me) < community.RoleModerator {
		return notAllowed("only the owner and moderators of %q give kudos; mark a message helpful instead", st.Name)
	}
	if m, ok := st.Member(member); !ok || !m.Active {
		return &sentenceError{msg: "that is not a member of " + st.Name, kind: ErrBadInput}
	}
	if bytes.Equal(member, me) {
		return &sentenceError{msg: "kudos are for others", kind: ErrBadInput}
	}
	c := community.NewContent(community.KindKudos)
	c.Options, c.Text = []string{hex.EncodeToString(member)}, note
	body, err := s.sealOwnLocked(ctx, r, c)
	if err != nil {
		return err
	}
	_, err = s.writeOwnLocked(ctx, r, community.KindKudos, body, recognitionPage)
	return err
}

// Helpful marks another member's message helpful (once).
func (s *Service) Helpful(ctx context.Context, id, message community.Hash) error {
	r, err := s.room(id)
	if err != nil {
		return err
	}
	e, ok, err := s.store.Event(id, message)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	me := s.id.PublicKey()
	switch {
	case st.RoleOf(me) == community.RoleNone:
		return notAllowed("only members of %q mark messages helpful", st.Name)
	case !ok || e.Kind != community.KindMessage || !e.HasBody():
		return &sentenceError{msg: "no such message: `kithd messages --json` lists them", kind: ErrBadInput}
	case bytes.Equal(e.Author, me):
		return &sentenceError{msg: "you cannot mark your own message helpful", kind: ErrBadInput}
	}
	marks, err := s.readRecognition(r, st)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(marks.helpful, func(h helpfulMark) bool { return h.message == message && bytes.Equal(h.by, me) }) {
		return &sentenceError{msg: "you marked this message helpful already", kind: ErrBadInput}
	}
	c := community.NewContent(community.KindHelpful)
	c.Target = message
	body, err := s.sealOwnLocked(ctx, r, c)
	if err != nil {
		return err
	}
	_, err = s.writeOwnLocked(ctx, r, community.KindHelpful, body, recognitionPage, e.Position())
	return err
}

type helpfulMark struct {
	message community.Hash
	by, to  []byte
}

type kudosMark struct {
	by, to []byte
	note   string
	at     time.Time
}

type recognitionLog struct {
	helpful []helpfulMark
	kudos   []kudosMark
	badges  []badgeMark // in the log's order
}

type badgeMark struct {
	e *community.Event
	b *community.Badge
}

// readRecognition reads the marks and kudos that count: each judged like any content, a mark on
// another member's message once per marker and message, kudos by the owner and moderators to
// members.
func (s *Service) readRecognition(r *room, st *community.State) (recognitionLog, error) {
	var out recognitionLog
	all, err := s.pageInOrder(r.id, recognitionPage)
	if err != nil {
		return out, err
	}
	seen := map[string]bool{}
	for _, e := range all {
		c, err := r.keys.Open(e)
		if err != nil || st.CheckContent(e) != nil {
			continue
		}
		switch e.Kind {
		case community.KindHelpful:
			target, ok, err := s.store.Event(r.id, c.Target)
			key := string(e.Author) + "/" + c.Target.String()
			if err != nil || !ok || target.Kind != community.KindMessage || bytes.Equal(target.Author, e.Author) || seen[key] {
				continue
			}
			seen[key] = true
			out.helpful = append(out.helpful, helpfulMark{message: c.Target, by: e.Author, to: target.Author})
		case community.KindKudos:
			if len(c.Options) != 1 {
				continue
			}
			to, err := hex.DecodeString(c.Options[0])
			if err != nil || len(to) != ed25519.PublicKeySize || bytes.Equal(to, e.Author) {
				continue
			}
			out.kudos = append(out.kudos, kudosMark{by: e.Author, to: to, note: c.Text, at: e.WallTime()})
		case community.KindBadge:
			if b := badgeOf(r.id, e, c); b != nil {
				out.badges = append(out.badges, badgeMark{e, b})
			}
		}
	}
	return out, nil
}

// RecognitionBoard computes the board from the log, the highest score first. A member's score
// adds, for each different member who marked any of its messages helpful, that marker's standing
// (1 + ln(1 + how many different members marked the marker's own messages)) — so a hundred posts
// marked by one friend count once, and a mark from someone the community values counts more —,
// and kudosWeight for each different giver of kudos. Members with no mark and no kudos are left
// out.
func (s *Service) RecognitionBoard(id community.Hash) ([]Recognition, error) {
	r, err := s.room(id)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	marks, err := s.readRecognition(r, st)
	if err != nil {
		return nil, err
	}
	markers := map[string]map[string]bool{} // member → who marked its messages
	for _, h := range marks.helpful {
		if markers[string(h.to)] == nil {
			markers[string(h.to)] = map[string]bool{}
		}
		markers[string(h.to)][string(h.by)] = true
	}
	standing := func(k string) float64 { return 1 + math.Log1p(float64(len(markers[k]))) }
	board := map[string]*Recognition{}
	entry := func(k string) *Recognition {
		if board[k] == nil {
			board[k] = &Recognition{Key: []byte(k), Name: r.nameOf(st, []byte(k))}
		}
		return board[k]
	}
	for k, by := range markers {
		e := entry(k)
		e.HelpfulFrom = len(by)
		for m := range by {
			e.Score += standing(m)
		}
	}
	givers := map[string]map[string]bool{}
	for _, k := range slices.Backward(marks.kudos) {
		e := entry(string(k.to))
		if givers[string(k.to)] == nil {
			givers[string(k.to)] = map[string]bool{}
		}
		if !givers[string(k.to)][string(k.by)] {
			givers[string(k.to)][string(k.by)] = true
			e.Kudos++
			e.Score += kudosWeight
		}
		e.Notes = append(e.Notes, k.note)
	}
	for _, b := range slices.Backward(marks.badges) {
		e := entry(string(b.b.Member))
		e.Badges = append(e.Badges, b.b.Title)
	}
	out := make([]Recognition, 0, len(board))
	for k, e := range board {
		if m, ok := st.Member([]byte(k)); ok && m.Active {
			e.Score = math.Round(e.Score*100) / 100
			out = append(out, *e)
		}
	}
	slices.SortFunc(out, func(a, b Recognition) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return bytes.Compare(a.Key, b.Key)
	})
	return out, nil
}
