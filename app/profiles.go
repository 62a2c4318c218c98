package app

// Profiles: a member's display name and about text in one community, changed by a profile event
// (content, sealed with the epoch key like a message), and the names views show.

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"
	"strings"

	"github.com/kith-app/kith/app/community"
)

// profilesPage is the store page of profile events: no channel has this ID (channel IDs are
// hashes), and a room reads the whole page when it loads.
var profilesPage = community.Hash{0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe,
	0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe}

// pageOf is the store page an opened content event goes in: its channel's, its channel's
// annotations page (edits, reactions, pins), or profilesPage.
func pageOf(e *community.Event, c *community.Content) community.Hash {
	switch {
	case e.Kind == community.KindProfile:
		return profilesPage
	case isAnnotation(e.Kind):
		return annotationsPage(c.Channel)
	case e.Kind == community.KindVote || e.Kind == community.KindPollClose:
		return pollsPage
	case e.Kind == community.KindFeedbackAnswer || e.Kind == community.KindFeedbackStatus:
		return feedbackPage
	case e.Kind == community.KindOfferClaim || e.Kind == community.KindOfferCode:
		return offersPage
	case e.Kind == community.KindKudos || e.Kind == community.KindHelpful || e.Kind == community.KindBadge:
		return recognitionPage
	case e.Kind == community.KindQuoteOK:
		return quotesPage
	}
	return c.Channel
}

// profile is a member's latest profile event, as opened.
type profile struct {
	name, about string
	at          community.Position
	event       community.Hash // the profile event (its picture is fetched by it)
	picture     []byte         // the picture's manifest as written (nil: none)
	pictureID   community.Hash // its blob
	thumb       []byte         // its thumbnail, checked (see safeThumb)
}

// profileOf reads a profile body: the display name is its first option, the about text its text,
// and its first file, when it is a picture with a thumbnail, the member's picture.
func profileOf(e *community.Event, c *community.Content) profile {
	p := profile{about: c.Text, at: e.Position(), event: e.ID}
	if len(c.Options) > 0 {
		p.name = c.Options[0]
	}
	if len(c.Blobs) > 0 {
		if m, err := community.DecodeManifest(c.Blobs[0]); err == nil {
			if th := safeThumb(m.Thumb); th != nil && m.Width > 0 {
				p.picture, p.pictureID, p.thumb = c.Blobs[0], m.ID(), th
			}
		}
	}
	return p
}

// profileMap is a room's members' profiles by key, replaced whole when one changes (views read it
// without the room's lock).
type profileMap = map[string]profile

// noteProfile records a profile event if it is its author's latest; it reports whether it was.
// r.mu must be held (or the room not shared).
func (r *room) noteProfile(e *community.Event, c *community.Content) bool {
	cur := r.profiles.Load()
	p := profileOf(e, c)
	if cur != nil {
		if old, ok := (*cur)[string(e.Author)]; ok && !old.at.Less(p.at) {
			return false
		}
	}
	next := profileMap{}
	if cur != nil {
		for k, v := range *cur {
			next[k] = v
		}
	}
	next[string(e.Author)] = p
	r.profiles.Store(&next)
	return true
}

// loadProfiles reads the profiles page into the room. r.mu must be held (or the room not shared).
func (s *Service) loadProfiles(r *room) error {
	before := community.Position{}
	for {
		evs, err := s.store.Page(r.id, profilesPage, before, 500)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		for _, e := range evs {
			if c, err := r.keys.Open(e); err == nil {
				r.noteProfile(e, c)
			}
			before = e.Position()
		}
	}
}

// shown is what views call the members of a community: each member's latest name (its profile's,
// else its join's), made visible where it could deceive (community.Printable), and, when its
// NameKey is another member's who had that name first — by the position of the event that gave
// it (join or profile), in the log's order, the same at every member —, followed by the start
// of its key: "Ana [3fa2]". Cached per folded state and profiles.
type shown struct {
	st    *community.State
	prof  *profileMap
	names map[string]string
	about map[string]string
}

// of is a member's name as shown; for a key the log does not name, the start of the key.
func (n *shown) of(k ed25519.PublicKey) string {
	if name, ok := n.names[string(k)]; ok {
		return name
	}
	if len(k) < 4 {
		return "(nobody)"
	}
	return fmt.Sprintf("[%x]", []byte(k[:4]))
}

func (r *room) shownNames(st *community.State) *shown {
	prof := r.profiles.Load()
	if c := r.shown.Load(); c != nil && c.st == st && c.prof == prof {
		return c
	}
	type naming struct {
		key  ed25519.PublicKey
		name string
		at   community.Position
	}
	var all []naming
	about := map[string]string{}
	for _, m := range st.Members() {
		n := naming{key: m.Key, name: m.Name}
		if len(m.Stints) > 0 {
			n.at = m.Stints[len(m.Stints)-1].Join
		}
		if prof != nil {
			if p, ok := (*prof)[string(m.Key)]; ok && n.at.Less(p.at) {
				if p.name != "" {
					n.name, n.at = p.name, p.at
				}
				about[string(m.Key)] = p.about
			}
		}
		all = append(all, n)
	}
	slices.SortFunc(all, func(a, b naming) int { return a.at.Compare(b.at) })
	taken := map[string]bool{}
	names := make(map[string]string, len(all))
	for _, n := range all {
		if n.name == "" {
			names[string(n.key)] = "" // views say "(no name)"
			continue
		}
		text := community.Printable(n.name, false)
		if strings.TrimSpace(text) == "" {
			text = "(no name)"
		}
		k := community.NameKey(n.name)
		if taken[k] && k != "" {
			text += fmt.Sprintf(" [%x]", []byte(n.key[:2]))
		}
		taken[k] = true
		names[string(n.key)] = text
	}
	c := &shown{st: st, prof: prof, names: names, about: about}
	r.shown.Store(c)
	return c
}

// Profile is a member's profile in a community, as views show it.
type Profile struct {
	Name  string // as shown (see Members)
	About string
}

// MyProfile returns this install's name (as typed, not as shown) and about text in a community.
func (s *Service) MyProfile(id community.Hash) (name, about string, err error) {
	r, err := s.room(id)
	if err != nil {
		return "", "", err
	}
	st := r.folder.State()
	m, ok := st.Member(s.id.PublicKey())
	if !ok {
		return "", "", notAllowed("you are not a member of %q", st.Name)
	}
	name = m.Name
	if prof := r.profiles.Load(); prof != nil {
		if p, ok := (*prof)[string(m.Key)]; ok {
			if p.name != "" {
				name = p.name
			}
			about = p.about
		}
	}
	return name, about, nil
}

// SetProfile changes this install's display name and about text in a community (each member,
// for itself). A name that another member of the community goes by (as NameKey compares them)
// is refused: pick another. What the others see changes when the profile event reaches them.
func (s *Service) SetProfile(ctx context.Context, id community.Hash, name, about string) error {
	name, err := community.LimitDisplayName.CleanName(name)
	if err != nil {
		return err
	}
	if about, err = community.LimitAbout.CleanText(about); err != nil {
		return err
	}
	r, err := s.room(id)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	me := s.id.PublicKey()
	k, epoch, err := s.postingKeyLocked(ctx, r, community.Hash{}, func(st *community.State) error {
		names := r.shownNames(st)
		key := community.NameKey(name)
		for _, m := range st.Members() {
			if !m.Key.Equal(me) && m.Active && community.NameKey(strings.TrimSuffix(names.names[string(m.Key)], twinSuffix(m.Key))) == key {
				return fmt.Errorf("%w: another member of %q is called %s: pick another name", community.ErrNameTaken, st.Name, names.names[string(m.Key)])
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	var picture []byte // kept as it is
	if prof := r.profiles.Load(); prof != nil {
		picture = (*prof)[string(me)].picture
	}
	return s.writeProfileLocked(ctx, r, k, epoch, name, about, picture)
}

// writeProfileLocked writes this install's profile: name, about text and picture (a manifest,
// or nil). r.mu is held.
func (s *Service) writeProfileLocked(ctx context.Context, r *room, k community.Key, epoch community.Hash, name, about string, picture []byte) error {
	c := community.NewContent(community.KindProfile)
	c.Text, c.Options = about, []string{name}
	if picture != nil {
		c.Blobs = [][]byte{picture}
	}
	body, err := community.SealContent(k, r.id, epoch, s.id.PublicKey(), c, s.rand)
	if err != nil {
		return err
	}
	e, err := s.writeOwnLocked(ctx, r, community.KindProfile, body, profilesPage)
	if err != nil {
		return err
	}
	r.noteProfile(e, c)
	s.Emit(CommunityChanged{Community: r.id})
	return nil
}

// maxPictureSize bounds a profile picture (the owner's file limit may be lower).
const maxPictureSize = 20 << 20

// SetProfilePicture gives this install a picture in a community (nil: none any more): sealed and
// stored as a file, its thumbnail in the profile, so that every member shows it at once. The
// name and about text stay. A file that is not a picture Kith can read is refused. The previous
// picture's chunks go, at this device, unless a message names them too.
func (s *Service) SetProfilePicture(ctx context.Context, id community.Hash, f *File) error {
	r, err := s.room(id)
	if err != nil {
		return err
	}
	var blobs [][]byte
	var k community.Key
	var epoch community.Hash
	if f == nil {
		r.mu.Lock()
		if k, epoch, err = s.postingKeyLocked(ctx, r, community.Hash{}, nil); err != nil {
			r.mu.Unlock()
			return err
		}
	} else {
		if f.Size > maxPictureSize {
			return &sentenceError{msg: fmt.Sprintf("a picture of up to %s can be your profile's: pick a smaller one", SizeWords(maxPictureSize)), kind: ErrBadInput}
		}
		if blobs, k, epoch, err = s.sealFiles(ctx, r, community.Hash{}, []File{*f}); err != nil {
			return err
		}
		if m, err := community.DecodeManifest(blobs[0]); err != nil || len(m.Thumb) == 0 || m.Width == 0 {
			r.mu.Unlock()
			s.dropSealed(id, blobs)
			return &sentenceError{msg: "Kith cannot read that file as a picture: pick a JPEG or PNG", kind: ErrBadInput}
		}
	}
	defer r.mu.Unlock()
	// The name and about text as they stand, read under the lock (a SetProfile may have run).
	me := s.id.PublicKey()
	st := r.folder.State()
	name, about := r.rawName(st, me), ""
	var old profile
	if prof := r.profiles.Load(); prof != nil {
		old = (*prof)[string(me)]
		about = old.about
	}
	var picture []byte
	if len(blobs) > 0 {
		picture = blobs[0]
	}
	if err := s.writeProfileLocked(ctx, r, k, epoch, name, about, picture); err != nil {
		s.dropSealed(id, blobs)
		return err
	}
	if old.picture != nil {
		if m, err := community.DecodeManifest(old.picture); err == nil {
			if err := s.dropUnnamed(r, community.Hash{}, []*community.Manifest{m}); err != nil {
				s.log.Debug("the previous picture's chunks stay", "err", err)
			}
		}
	}
	return nil
}

// rawName is a member's name as its author wrote it — its latest profile's since its latest
// join, else the join's —, unescaped, unmarked ("" when the log does not know the key).
func (r *room) rawName(st *community.State, key []byte) string {
	m, ok := st.Member(key)
	if !ok {
		return ""
	}
	name := m.Name
	if prof := r.profiles.Load(); prof != nil {
		var at community.Position
		if len(m.Stints) > 0 {
			at = m.Stints[len(m.Stints)-1].Join
		}
		if p, ok := (*prof)[string(key)]; ok && at.Less(p.at) && p.name != "" {
			name = p.name
		}
	}
	return name
}

// twinSuffix is what shownNames appends to a twin's name.
func twinSuffix(key ed25519.PublicKey) string { return fmt.Sprintf(" [%x]", []byte(key[:2])) }

// nameOf is a member's name as views show it ("" when the log does not know the key).
func (r *room) nameOf(st *community.State, key []byte) string {
	return r.shownNames(st).names[string(key)]
}
