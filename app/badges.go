package app

// Badges: the owner signs that a member earned a title (kind badge, in the recognition page);
// every member sees it on the board, and the member exports it as a card that anyone can check
// offline (community.Card).

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/kith-app/kith/app/community"
)

// BadgeView is one badge as views show it.
type BadgeView struct {
	ID         community.Hash
	Member     []byte
	MemberName string // as shown now
	Title      string
	Note       string
	At         time.Time
	Mine       bool // given to this install's member
	badge      *community.Badge
	event      *community.Event
}

// Badge is the signed statement.
func (b BadgeView) Badge() *community.Badge { return b.badge }

// GiveBadge signs a badge for a member (the owner): a title (at most 60 bytes) and an optional
// note. The member can export it as a card anyone can check.
func (s *Service) GiveBadge(ctx context.Context, id community.Hash, member ed25519.PublicKey, title, note string) (BadgeView, error) {
	title, err := community.LimitBadgeTitle.CleanName(title)
	if err != nil {
		return BadgeView{}, err
	}
	if note, err = community.LimitBadgeNote.CleanText(note); err != nil {
		return BadgeView{}, err
	}
	r, err := s.room(id)
	if err != nil {
		return BadgeView{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	me := s.id.PublicKey()
	if st.RoleOf(me) != community.RoleOwner {
		return BadgeView{}, notAllowed("only the owner of %q signs badges: its key is what a card proves; moderators give kudos", st.Name)
	}
	if m, ok := st.Member(member); !ok || !m.Active {
		return BadgeView{}, &sentenceError{msg: "that is not a member of " + st.Name, kind: ErrBadInput}
	}
	if bytes.Equal(member, me) {
		return BadgeView{}, &sentenceError{msg: "a badge is for another member", kind: ErrBadInput}
	}
	b := &community.Badge{Community: id, CommunityName: st.Name, Member: bytes.Clone(member), MemberName: r.rawName(st, member),
		Title: title, Note: note, Issued: s.now().Unix(), Owner: me}
	if err := b.Sign(s.id); err != nil {
		return BadgeView{}, err
	}
	c := community.NewContent(community.KindBadge)
	c.Options = []string{hex.EncodeToString(member)}
	c.Text = base64.RawStdEncoding.EncodeToString(b.Encode())
	// Readers keep only what badgeOf accepts: never write a badge they would drop.
	if badgeOf(id, &community.Event{Header: community.Header{Author: me}}, c) == nil {
		return BadgeView{}, &sentenceError{msg: "this badge could not be read back (the community's or the member's name is too long for a card): shorten the name, then sign it", kind: ErrBadInput}
	}
	body, err := s.sealOwnLocked(ctx, r, c)
	if err != nil {
		return BadgeView{}, err
	}
	e, err := s.writeOwnLocked(ctx, r, community.KindBadge, body, recognitionPage)
	if err != nil {
		return BadgeView{}, err
	}
	s.Emit(CommunityChanged{Community: id})
	return s.badgeView(r, st, e, b), nil
}

// badgeOf reads a badge event's statement: signed by the event's author for this community and
// for the member its first option names (nil otherwise).
func badgeOf(id community.Hash, e *community.Event, c *community.Content) *community.Badge {
	raw, err := base64.RawStdEncoding.Strict().DecodeString(c.Text)
	if err != nil || len(c.Options) != 1 {
		return nil
	}
	b, err := community.DecodeBadge(raw)
	if err != nil || b.Verify() != nil || b.Community != id || !bytes.Equal(b.Owner, e.Author) || hex.EncodeToString(b.Member) != c.Options[0] {
		return nil
	}
	return b
}

func (s *Service) badgeView(r *room, st *community.State, e *community.Event, b *community.Badge) BadgeView {
	return BadgeView{ID: e.ID, Member: b.Member, MemberName: r.nameOf(st, b.Member), Title: b.Title, Note: b.Note,
		At: b.IssuedAt(), Mine: bytes.Equal(b.Member, s.id.PublicKey()), badge: b, event: e}
}

// Badges lists a community's badges, the newest first.
func (s *Service) Badges(id community.Hash) ([]BadgeView, error) {
	r, err := s.room(id)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	log, err := s.readRecognition(r, st)
	if err != nil {
		return nil, err
	}
	out := make([]BadgeView, 0, len(log.badges))
	for i := len(log.badges) - 1; i >= 0; i-- {
		out = append(out, s.badgeView(r, st, log.badges[i].e, log.badges[i].b))
	}
	return out, nil
}

// ParseBadgeRef finds a badge by its ID or a unique prefix (8+ hex digits).
func (s *Service) ParseBadgeRef(id community.Hash, ref string) (community.Hash, error) {
	bs, err := s.Badges(id)
	if err != nil {
		return community.Hash{}, err
	}
	ids := make([]community.Hash, 0, len(bs))
	for _, b := range bs {
		ids = append(ids, b.ID)
	}
	return byPrefix(ids, ref, "badge", "kithd badges")
}

// BadgeCard makes the card of one of this member's badges: the badge, the community's genesis
// and the ownership transfers before the badge, checked as a stranger would check them.
func (s *Service) BadgeCard(id, badge community.Hash) (string, BadgeView, error) {
	bs, err := s.Badges(id)
	if err != nil {
		return "", BadgeView{}, err
	}
	var v BadgeView
	for _, b := range bs {
		if b.ID == badge {
			v = b
		}
	}
	if v.badge == nil {
		return "", v, &sentenceError{msg: "no badge " + badge.Short() + " here: `kithd badges` lists them", kind: ErrBadInput}
	}
	g, ok, err := s.store.Event(id, id)
	if err != nil || !ok || !g.HasBody() {
		return "", v, fmt.Errorf("app: the community's first event is not on this device (%v)", err)
	}
	card := &community.Card{Badge: v.badge, Genesis: g.Encode()}
	owner := g.Author // the chain is followed from the genesis, as a stranger checks it
	gb, err := community.DecodeBody(community.KindGenesis, g.Body)
	if err != nil {
		return "", v, err
	}
	rec := gb.(*community.Genesis).Recovery
	err = s.store.AuthorityEvents(id, func(e *community.Event) error {
		if e.Kind != community.KindTransferOwner || !e.Position().Less(v.event.Position()) || !e.Author.Equal(rec) || bytes.Equal(owner, v.badge.Owner) {
			return nil
		}
		b, err := community.DecodeBody(community.KindTransferOwner, e.Body)
		if err != nil {
			return nil
		}
		t := b.(*community.TransferOwner)
		card.Transfers = append(card.Transfers, e.Encode())
		owner = t.NewOwner
		if len(t.NewRecovery) == ed25519.PublicKeySize {
			rec = t.NewRecovery
		}
		return nil
	})
	if err != nil {
		return "", v, err
	}
	if err := card.Check(); err != nil {
		return "", v, fmt.Errorf("app: this badge's card would not check out (%w): the owner may have changed since", err)
	}
	return card.Encode(), v, nil
}

// CheckCard finds a card in text (a card file, or the card alone) and checks it offline.
func CheckCard(text string) (*community.Badge, error) {
	t := community.FindCard(text)
	if t == "" {
		return nil, &sentenceError{msg: "there is no badge card in it: a card is the HTML file Kith exports, or its " + community.CardPrefix + "… text", kind: ErrBadInput}
	}
	c, err := community.DecodeCard(t)
	if err != nil {
		return nil, &sentenceError{msg: "the badge card is damaged: " + err.Error(), kind: ErrBadInput}
	}
	if err := c.Check(); err != nil {
		if errors.Is(err, community.ErrBadCard) {
			return c.Badge, &sentenceError{msg: strings.TrimPrefix(err.Error(), "community: "), kind: ErrNotAllowed}
		}
		return c.Badge, err
	}
	return c.Badge, nil
}

// BadgeSentence says what a checked badge proves: who gave it to whom, and the community's ID
// and owner key in full — a name anyone can take; the ID is what to compare with the one the
// community shows.
func BadgeSentence(b *community.Badge) string {
	return fmt.Sprintf("Valid: the owner of %q gave %s the badge %q on %s.\nCommunity %s (compare it with the ID the community shows: its name alone proves nothing)\nOwner key %x",
		community.Printable(b.CommunityName, false), community.Printable(b.MemberName, false),
		community.Printable(b.Title, false), b.IssuedAt().UTC().Format("2 January 2006"), b.Community, []byte(b.Owner))
}

// CheckCardOf is CheckCard for a card that must be of one community: id is its ID, or a prefix of
// 8 hex digits or more ("": any community).
func CheckCardOf(text, id string) (*community.Badge, error) {
	b, err := CheckCard(text)
	if err != nil || id == "" {
		return b, err
	}
	want := strings.ToLower(strings.TrimSpace(id))
	if len(want) < 8 {
		return b, &sentenceError{msg: "give the community's ID, or its first 8 hex digits at least", kind: ErrBadInput}
	}
	if !strings.HasPrefix(b.Community.String(), want) {
		return b, &sentenceError{msg: fmt.Sprintf("the card is of community %s, not %s: it was not given there", b.Community, want), kind: ErrNotAllowed}
	}
	return b, nil
}

// CardHTML is a badge card as a page that opens in any browser with no network: the badge, and
// the card's text with how to check it.
func CardHTML(card string, b *community.Badge) string {
	e := func(s string) string { return html.EscapeString(community.Printable(s, true)) }
	note := ""
	if b.Note != "" {
		note = `<p class="note">` + strings.ReplaceAll(e(b.Note), "\n", "<br>") + `</p>`
	}
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>` + e(b.Title) + ` — ` + e(b.CommunityName) + `</title>
<style>
body{font-family:system-ui,sans-serif;background:#f4f1ea;color:#222;margin:0;padding:40px}
.card{max-width:560px;margin:auto;background:#fff;border-radius:16px;padding:32px;box-shadow:0 4px 24px #0002}
.medal{display:block}.title{font-size:28px;font-weight:700;margin:8px 0}
.who{font-size:20px}.note{font-style:italic;color:#444}.meta{color:#666;font-size:14px}
pre{white-space:pre-wrap;word-break:break-all;font-size:11px;background:#f6f6f6;padding:12px;border-radius:8px}
</style></head><body><div class="card">
<svg class="medal" width="56" height="64" viewBox="0 0 56 64" aria-hidden="true">
<path d="M14 0h12l6 22H20z" fill="#3b6fd8"/><path d="M30 0h12l-6 22H24z" fill="#d84b3b"/>
<circle cx="28" cy="40" r="20" fill="#e8b923" stroke="#b8860b" stroke-width="3"/>
<path d="M28 28l3.5 7.5 8 1-6 5.5 1.6 8L28 46l-7.1 4 1.6-8-6-5.5 8-1z" fill="#fff6cf"/></svg>
<div class="title">` + e(b.Title) + `</div>
<div class="who">` + e(b.MemberName) + `</div>
` + note + `
<p class="meta">Given by the owner of <b>` + e(b.CommunityName) + `</b> on ` + b.IssuedAt().UTC().Format("2 January 2006") + `.<br>
Community ` + b.Community.String() + `</p>
<p class="meta">This card is signed. Anyone can check it with no network: save this file and run
<code>kithd verify-badge FILE</code>, or open Kith's File menu, "Check a badge card…".</p>
<pre id="card">` + card + `</pre>
</div></body></html>
`
}
