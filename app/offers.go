package app

// Offers: the owner and moderators offer something to members, who claim it; the first claims
// in the log's order, up to the quantity, are granted — the same at every member —, and the
// offer's code, if any, is sealed to each granted claimant by the owner's or a moderator's
// install as soon as it sees the claim.

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kith-app/kith/app/community"
)

// offersPage is the store page of claims and codes (no channel has this ID).
var offersPage = community.Hash{0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb,
	0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb}

// Offer is an offer as views show it.
type Offer struct {
	ID      community.Hash
	Channel community.Hash
	Author  []byte
	Name    string
	At      time.Time
	community.OfferSpec
	Claimed int  // claims that count (at most Quantity are granted)
	Expired bool // its expiry passed (this install's clock)
	Mine    bool // this install's member claimed it
	Granted bool // ... and its claim is among the first Quantity
	Code    string
	// OverBudget: it came past the week's promotion budget, so it does not count: members do not
	// see it and cannot claim it (see Promotions).
	OverBudget bool
	// Claimants are who claimed, in the log's order, for the owner and moderators (nil for
	// members).
	Claimants []Claimant
}

// Claimant is one claim as the owner and moderators see it.
type Claimant struct {
	Key     []byte
	Name    string
	At      time.Time
	Granted bool
	Coded   bool // the code was sealed to it
}

type offerRecord struct {
	e      *community.Event
	c      *community.Content
	spec   community.OfferSpec
	claims []*community.Event
	codes  []*community.Content // in the log's order
}

func (s *Service) readOffer(r *room, st *community.State, offer community.Hash, memo pageMemo) (*offerRecord, error) {
	e, ok, err := s.store.Event(r.id, offer)
	if err != nil {
		return nil, err
	}
	if !ok || e.Kind != community.KindOffer || !e.HasBody() {
		return nil, &sentenceError{msg: fmt.Sprintf("%s has no offer %s: `kithd offers` lists them", st.Name, offer.Short()), kind: ErrBadInput}
	}
	c, err := r.keys.Open(e)
	if err != nil {
		return nil, fmt.Errorf("app: this device cannot read the offer yet (%w): it reads it once it has synced", err)
	}
	spec, ok := community.OfferOf(c)
	if !ok || st.CheckContent(e) != nil {
		return nil, &sentenceError{msg: "that offer is malformed or its author could not make it, so it is ignored", kind: ErrBadInput}
	}
	o := &offerRecord{e: e, c: c, spec: spec}
	all, err := s.pageIn(r.id, offersPage, memo)
	if err != nil {
		return nil, err
	}
	claimed := map[string]bool{}
	for _, v := range all {
		c, err := r.keys.Open(v)
		if err != nil || c.Target != offer || st.CheckContent(v) != nil {
			continue
		}
		switch v.Kind {
		case community.KindOfferClaim:
			late := v.WallTime().After(spec.Expires.Add(community.OfferSkew))
			if late || claimed[string(v.Author)] {
				continue // after the expiry, or a second claim: it does not count
			}
			claimed[string(v.Author)] = true
			o.claims = append(o.claims, v)
		case community.KindOfferCode:
			if _, ok := community.CodeFor(c); ok {
				o.codes = append(o.codes, c)
			}
		}
	}
	return o, nil
}

// granted reports whether the i-th claim (in the log's order) is granted.
func (o *offerRecord) granted(i int) bool { return i < o.spec.Quantity }

// codeFor is the code sealed to key ("" hex: the staff copy) that this install opens.
func (s *Service) codeFor(id community.Hash, o *offerRecord, key []byte) (string, bool) {
	want := fmt.Sprintf("%x", key)
	for _, c := range slices.Backward(o.codes) {
		if f, _ := community.CodeFor(c); f != want {
			continue
		}
		if code, ok, err := community.OpenOfferCode(s.id, id, c); ok && err == nil {
			return code, true
		}
	}
	return "", false
}

// coded reports whether a code for key is in the log (whoever can open it).
func (o *offerRecord) coded(key []byte) bool {
	want := fmt.Sprintf("%x", key)
	return slices.ContainsFunc(o.codes, func(c *community.Content) bool { f, _ := community.CodeFor(c); return f == want })
}

func (s *Service) offerView(r *room, st *community.State, o *offerRecord) Offer {
	me := s.id.PublicKey()
	v := Offer{ID: o.e.ID, Channel: o.c.Channel, Author: o.e.Author, Name: r.nameOf(st, o.e.Author), At: o.e.WallTime(),
		OfferSpec: o.spec, Claimed: len(o.claims), Expired: s.now().After(o.spec.Expires)}
	staff := st.RoleOf(me) >= community.RoleModerator
	if staff {
		v.Claimants = []Claimant{}
	}
	var over map[community.Hash]bool
	_, v.OverBudget = s.hiddenPromotion(r, st, o.e, false, &over)
	for i, c := range o.claims {
		if bytes.Equal(c.Author, me) {
			v.Mine, v.Granted = true, o.granted(i)
			if v.Granted && o.spec.HasCode {
				if code, ok := s.codeFor(r.id, o, me); ok {
					v.Code = code
				} else if staff {
					v.Code, _ = s.codeFor(r.id, o, nil)
				}
			}
		}
		if staff {
			v.Claimants = append(v.Claimants, Claimant{Key: c.Author, Name: r.nameOf(st, c.Author), At: c.WallTime(), Granted: o.granted(i), Coded: o.coded(c.Author)})
		}
	}
	return v
}

// CreateOffer offers something in a channel (the owner and moderators); code, when not empty, is
// sealed to the owner and moderators now and to each granted claimant later.
func (s *Service) CreateOffer(ctx context.Context, id, channel community.Hash, spec community.OfferSpec, code string) (Offer, error) {
	if !spec.Expires.After(s.now()) {
		return Offer{}, &sentenceError{msg: "the expiry is in the past: choose one to come", kind: ErrBadInput}
	}
	if code != "" {
		var err error
		if code, err = community.CheckCode(code); err != nil {
			return Offer{}, err
		}
		spec.HasCode = true
	}
	r, err := s.room(id)
	if err != nil {
		return Offer{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	if st.RoleOf(s.id.PublicKey()) < community.RoleModerator {
		return Offer{}, notAllowed("only the owner and moderators of %q make offers", st.Name)
	}
	if ch, ok := st.Channel(channel); !ok || ch.Archived {
		return Offer{}, &sentenceError{msg: "that channel does not exist or is archived", kind: ErrBadInput}
	}
	if err := s.checkBudgetLocked(r, st, ""); err != nil {
		return Offer{}, err
	}
	c, err := community.NewOffer(channel, spec)
	if err != nil {
		return Offer{}, err
	}
	body, err := s.sealOwnLocked(ctx, r, c)
	if err != nil {
		return Offer{}, err
	}
	e, err := s.writeOwnLocked(ctx, r, community.KindOffer, body, channel)
	if err != nil {
		return Offer{}, err
	}
	if code != "" {
		cc, err := community.NewOfferCode(id, channel, e.ID, nil, code, r.folder.State().Readers(), s.rand)
		if err != nil {
			return Offer{}, err
		}
		body, err := s.sealOwnLocked(ctx, r, cc)
		if err != nil {
			return Offer{}, err
		}
		if _, err := s.writeOwnLocked(ctx, r, community.KindOfferCode, body, offersPage, e.Position()); err != nil {
			return Offer{}, err
		}
	}
	o, err := s.readOffer(r, r.folder.State(), e.ID, nil)
	if err != nil {
		return Offer{}, err
	}
	v := s.offerView(r, r.folder.State(), o)
	m := r.view(r.folder.State(), e, c, s.id.PublicKey())
	m.Offer = &v
	s.Emit(MessageAdded{Community: id, Message: m})
	return v, nil
}

// Claim claims an offer (a member, once, before it expires and while some are left, as this
// install's log says). The claim is granted when it is among the first claims in the log's
// order; the offer's code comes once the owner's or a moderator's install has sealed it to the
// claimant.
func (s *Service) Claim(ctx context.Context, id, offer community.Hash) (Offer, error) {
	r, err := s.room(id)
	if err != nil {
		return Offer{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	if st.RoleOf(s.id.PublicKey()) == community.RoleNone {
		return Offer{}, notAllowed("only members of %q claim offers", st.Name)
	}
	o, err := s.readOffer(r, st, offer, nil)
	if err != nil {
		return Offer{}, err
	}
	v := s.offerView(r, st, o)
	switch {
	case v.Mine:
		return v, &sentenceError{msg: "you claimed this offer already", kind: ErrBadInput}
	case v.OverBudget:
		return v, &sentenceError{msg: "this offer came past the community's weekly promotion budget, so it does not count and cannot be claimed", kind: ErrNotAllowed}
	case v.Expired:
		return v, &sentenceError{msg: "this offer expired on " + v.Expires.Local().Format("2 Jan 2006 at 15:04"), kind: ErrNotAllowed}
	case v.Claimed >= v.Quantity:
		return v, &sentenceError{msg: fmt.Sprintf("all %d were claimed", v.Quantity), kind: ErrNotAllowed}
	}
	c := community.NewContent(community.KindOfferClaim)
	c.Channel, c.Target = o.c.Channel, offer
	body, err := s.sealOwnLocked(ctx, r, c)
	if err != nil {
		return v, err
	}
	if _, err := s.writeOwnLocked(ctx, r, community.KindOfferClaim, body, offersPage, o.e.Position()); err != nil {
		return v, err
	}
	st = r.folder.State()
	if st.RoleOf(s.id.PublicKey()) >= community.RoleModerator {
		s.grantLocked(ctx, r, offer)
	}
	if o, err = s.readOffer(r, st, offer, nil); err != nil {
		return v, err
	}
	s.offerUpdated(r, st, offer)
	return s.offerView(r, st, o), nil
}

// GrantOffers seals the code of each offer with one to its granted claimants that lack it (the
// owner and moderators whose install holds the code). The peer calls it when claims arrive and
// now and then.
func (s *Service) GrantOffers(ctx context.Context, id community.Hash) {
	r, err := s.room(id)
	if err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.folder.State().RoleOf(s.id.PublicKey()) < community.RoleModerator {
		return
	}
	ids, err := s.ofKind(r, community.KindOffer)
	if err != nil {
		return
	}
	for _, offer := range ids {
		s.grantLocked(ctx, r, offer)
	}
}

// grantLocked seals one offer's code to its granted claimants that lack it. r.mu must be held.
func (s *Service) grantLocked(ctx context.Context, r *room, offer community.Hash) {
	st := r.folder.State()
	o, err := s.readOffer(r, st, offer, nil)
	if err != nil || !o.spec.HasCode {
		return
	}
	code, ok := s.codeFor(r.id, o, nil)
	if !ok {
		return // this install cannot read the code (promoted after the offer): another can
	}
	wrote := false
	for i, c := range o.claims {
		if !o.granted(i) || o.coded(c.Author) {
			continue
		}
		m, ok := st.Member(c.Author)
		if !ok || !m.Active || len(m.X25519) != 32 {
			continue
		}
		readers := dedupe([]community.Recipient{{Key: m.Key, X25519: m.X25519}, {Key: s.id.PublicKey(), X25519: s.id.X25519Public()}})
		cc, err := community.NewOfferCode(r.id, o.c.Channel, offer, c.Author, code, readers, s.rand)
		if err != nil {
			continue
		}
		body, err := s.sealOwnLocked(ctx, r, cc)
		if err != nil {
			s.log.Warn("sealing an offer's code", "offer", offer.Short(), "err", err)
			return
		}
		if _, err := s.writeOwnLocked(ctx, r, community.KindOfferCode, body, offersPage, o.e.Position(), c.Position()); err != nil {
			s.log.Warn("sealing an offer's code", "offer", offer.Short(), "err", err)
			return
		}
		wrote = true
	}
	if wrote {
		s.offerUpdated(r, r.folder.State(), offer)
	}
}

// offerFor is an offer as this install's member sees it, for a message view.
func (s *Service) offerFor(r *room, st *community.State, offer community.Hash, memo pageMemo) *Offer {
	o, err := s.readOffer(r, st, offer, memo)
	if err != nil {
		return nil
	}
	v := s.offerView(r, st, o)
	return &v
}

// offerUpdated tells views that an offer changed (a claim, a code).
func (s *Service) offerUpdated(r *room, st *community.State, offer community.Hash) {
	e, ok, err := s.store.Event(r.id, offer)
	if err != nil || !ok || e.Kind != community.KindOffer || !e.HasBody() {
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
}

// OfferOf returns one offer as this install's member sees it.
func (s *Service) OfferOf(id, offer community.Hash) (Offer, error) {
	return oneOf(s, id, offer, s.readOffer, s.offerView)
}

// Offers lists a community's offers, the newest first: a member does not see one past the
// promotion budget, unless it claimed it.
func (s *Service) Offers(id community.Hash) ([]Offer, error) {
	return listOf(s, id, community.KindOffer, s.readOffer,
		func(r *room, st *community.State, o *offerRecord) (Offer, bool) {
			v := s.offerView(r, st, o)
			staff := st.RoleOf(s.id.PublicKey()) >= community.RoleModerator
			return v, staff || !v.OverBudget || v.Mine // who claimed keeps it
		},
		func(o Offer) time.Time { return o.At })
}

// ParseOfferRef finds an offer by its ID or a unique prefix (8+ hex digits).
func (s *Service) ParseOfferRef(id community.Hash, ref string) (community.Hash, error) {
	return s.refIn(id, community.KindOffer, ref, "offer", "kithd offers")
}
