package app

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/invite"
)

// memberOf returns an active member of the room's community, or an error a person can act on.
func memberOf(st *community.State, k ed25519.PublicKey) (community.Member, error) {
	m, ok := st.Member(k)
	switch {
	case !ok:
		return m, fmt.Errorf("app: %x is not a member of %q: copy the id that the members list shows", []byte(k[:min(4, len(k))]), st.Name)
	case !m.Active:
		return m, fmt.Errorf("app: %s is no longer a member of %q", displayName(m), st.Name)
	}
	return m, nil
}

func displayName(m community.Member) string {
	if m.Name != "" {
		return m.Shown()
	}
	return fmt.Sprintf("%x", []byte(m.Key[:4]))
}

// cutoffOf is the highest sequence number of an author this install has stored: a removal or a
// demotion voids what the target writes above it.
func (r *room) cutoffOf(k ed25519.PublicKey) uint64 {
	if h, ok := r.heads[string(k)]; ok {
		return h.Seq
	}
	return 0
}

// Remove removes a member (the owner may remove anyone else; a moderator, members only). The
// removal enters the log with the member's cutoff (whatever it writes after what this install
// has seen is void everywhere), then the content key rotates to the remaining members, so that
// nothing written from now on can be read by the removed member.
func (s *Service) Remove(ctx context.Context, id community.Hash, member ed25519.PublicKey, reason string) error {
	return s.RemoveMember(ctx, id, member, RemoveOptions{Reason: reason})
}

// RemoveOptions are the choices of a removal.
type RemoveOptions struct {
	Reason string // kept in the log: members see why
	// RevokeInvite also revokes the invite the member joined with, before the key rotates: a
	// removal is final for the member's key, but a multi-use invite would let the person back
	// in with a new install.
	RevokeInvite bool
}

// RemoveMember is Remove with options.
func (s *Service) RemoveMember(ctx context.Context, id community.Hash, member ed25519.PublicKey, opts RemoveOptions) error {
	reason, err := community.LimitReason.CleanText(opts.Reason)
	if err != nil {
		return err
	}
	r, err := s.room(id)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	me := s.id.PublicKey()
	mine := st.RoleOf(me)
	if member.Equal(me) {
		return errors.New("app: to leave a community yourself, use Leave")
	}
	m, err := memberOf(st, member)
	if err != nil {
		return err
	}
	switch {
	case mine < community.RoleModerator:
		return fmt.Errorf("app: only the owner and moderators of %q remove members", st.Name)
	case m.Role >= mine:
		return fmt.Errorf("app: a %s cannot remove a %s (%s): ask the owner", mine, m.Role, displayName(m))
	}
	body, err := community.Encode(&community.Remove{
		Target: member, CutoffSeq: r.cutoffOf(member), TargetPrev: st.LastAct(member), Reason: reason,
	})
	if err != nil {
		return err
	}
	if _, err := s.writeOwnLocked(ctx, r, community.KindRemove, body, community.Hash{}); err != nil {
		return err
	}
	if opts.RevokeInvite && m.InviteCap != nil && !r.folder.State().Revoked(m.Invite) {
		revoke, err := community.Encode(&community.RevokeInvite{Invite: m.Invite})
		if err == nil {
			_, err = s.writeOwnLocked(ctx, r, community.KindRevokeInvite, revoke, community.Hash{})
		}
		if err != nil {
			return fmt.Errorf("app: %s is removed, but the invite it joined with is not revoked (revoke it from the invites list): %w", displayName(m), err)
		}
	}
	if _, err := s.rotateLocked(ctx, r); err != nil {
		return fmt.Errorf("app: %s is removed, but the key did not rotate yet (it will when this device is next online): %w", displayName(m), err)
	}
	return nil
}

// InviteUse is the invite a member's latest join used, as the log says.
type InviteUse struct {
	ID      invite.ID
	Issuer  ed25519.PublicKey
	MaxUses int // 0: no limit
	Uses    int // joins that counted with it
	Revoked bool
}

// UsesLeft says how many more people the invite could admit: -1 for no limit, 0 when revoked or
// used up.
func (u InviteUse) UsesLeft() int {
	switch {
	case u.Revoked:
		return 0
	case u.MaxUses == 0:
		return -1
	}
	return max(0, u.MaxUses-u.Uses)
}

// InviteOf returns the invite a member joined with (ok false for the owner, or a member this
// install does not know).
func (s *Service) InviteOf(id community.Hash, member ed25519.PublicKey) (InviteUse, bool, error) {
	st, err := s.state(id)
	if err != nil {
		return InviteUse{}, false, err
	}
	m, ok := st.Member(member)
	if !ok || m.InviteCap == nil {
		return InviteUse{}, false, nil
	}
	return InviteUse{ID: m.Invite, Issuer: m.InviteCap.Issuer, MaxUses: int(m.InviteCap.MaxUses), Uses: st.Uses(m.Invite), Revoked: st.Revoked(m.Invite)}, true, nil
}

// SetRole makes a member a moderator or a member again (the owner only). A demotion carries the
// member's cutoff: its moderator acts after what this install has seen are void everywhere.
func (s *Service) SetRole(ctx context.Context, id community.Hash, member ed25519.PublicKey, role community.Role) error {
	if role != community.RoleMember && role != community.RoleModerator {
		return fmt.Errorf("app: a member can be made a moderator or a member, not %s", role)
	}
	r, err := s.room(id)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	if st.RoleOf(s.id.PublicKey()) != community.RoleOwner {
		return fmt.Errorf("app: only the owner of %q promotes and demotes", st.Name)
	}
	if member.Equal(s.id.PublicKey()) {
		return errors.New("app: the owner's role changes only by a transfer of ownership")
	}
	m, err := memberOf(st, member)
	if err != nil {
		return err
	}
	if m.Role == role {
		return nil
	}
	body := community.EncodeBody(&community.SetRole{
		Target: member, Role: role, CutoffSeq: r.cutoffOf(member), TargetPrev: st.LastAct(member),
	})
	_, err = s.writeOwnLocked(ctx, r, community.KindSetRole, body, community.Hash{})
	return err
}

// Leave takes this install out of a community: the leave enters the log, and the next moderator
// or owner online rotates the key. The owner cannot leave (ownership moves only by recovery).
func (s *Service) Leave(ctx context.Context, id community.Hash) error {
	r, err := s.room(id)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	switch st.RoleOf(s.id.PublicKey()) {
	case community.RoleNone:
		return fmt.Errorf("app: you are not a member of %q any more", st.Name)
	case community.RoleOwner:
		return fmt.Errorf("app: the owner of %q cannot leave it", st.Name)
	}
	_, err = s.writeOwnLocked(ctx, r, community.KindLeave, community.EncodeBody(&community.Leave{}), community.Hash{})
	return err
}

// rotateLocked starts a new epoch: a fresh key sealed to every active member (this install
// included) in one rotation event, with the previous key sealed under it. It returns the event.
func (s *Service) rotateLocked(ctx context.Context, r *room) (*community.Event, error) {
	st := r.folder.State()
	prev, ok := r.keys.Key(st.Current)
	if !ok {
		return nil, errors.New("app: this device lacks the current key")
	}
	var to []community.Recipient
	for _, m := range st.Members() {
		if m.Active {
			to = append(to, community.Recipient{Key: m.Key, X25519: m.X25519})
		}
	}
	body, key, err := community.NewRotation(st.Current, prev, to, s.rand)
	if err != nil {
		return nil, err
	}
	e, err := s.writeOwnLocked(ctx, r, community.KindRotateKey, community.EncodeBody(body), community.Hash{})
	if err != nil {
		return nil, err
	}
	r.keys.Add(e.ID, key)
	return e, nil
}

// sealingStateLocked returns the state to seal new content under. When a former member still
// holds the current key (the repair has not run yet: a removal just arrived, a partition just
// healed) and this install may rotate, it rotates first, so that what it writes next is not
// readable with the key the former member has; if the rotation fails, nothing is written.
// r.mu must be held.
func (s *Service) sealingStateLocked(ctx context.Context, r *room) (*community.State, error) {
	st := r.folder.State()
	if st.RoleOf(s.id.PublicKey()) >= community.RoleModerator && len(st.NeedsRotation()) > 0 {
		if _, err := s.rotateLocked(ctx, r); err != nil {
			return nil, fmt.Errorf("app: a former member still holds the key of %q and it could not be changed, so nothing was written: %w", st.Name, err)
		}
	}
	return r.folder.State(), nil
}

// Repair mends what the folded log says about keys, as far as this install may (DESIGN
// section 5): when someone who is no longer a member holds the current key (removed, left, or
// admitted by a join that lost a race) a moderator or the owner rotates it; when an active
// member lacks the current key (admitted during a concurrent rotation) or the key of an epoch
// made after its join (one that left it out while a removal of it stood that the log later
// voided), a moderator, the owner or the member's admitter seals it to it in a key share. It
// returns how many events it wrote.
func (s *Service) Repair(ctx context.Context, id community.Hash) (int, error) {
	r, err := s.room(id)
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	me := s.id.PublicKey()
	role := st.RoleOf(me)
	if _, held := r.keys.Key(st.Current); role == community.RoleNone || !held {
		return 0, nil
	}
	if role >= community.RoleModerator && len(st.NeedsRotation()) > 0 {
		if _, err := s.rotateLocked(ctx, r); err != nil {
			return 0, err
		}
		return 1, nil // a rotation seals to every active member: nothing else to share
	}
	n := 0
	for _, gap := range st.KeyGaps() {
		m, _ := st.Member(gap.Member)
		if role < community.RoleModerator && !m.Admitter.Equal(me) {
			continue
		}
		key, held := r.keys.Key(gap.Epoch)
		if !held || !st.HoldsKey(gap.Epoch, me) {
			continue // a share's author must hold the key as the log says
		}
		eph, sealed, err := community.SealTo(key, m.X25519, s.rand)
		if err != nil {
			return n, err
		}
		body := community.EncodeBody(&community.ShareKey{
			Epoch: gap.Epoch, EphemeralKey: eph, Key: community.SealedKey{Member: m.Key, Sealed: sealed},
		})
		if _, err := s.writeOwnLocked(ctx, r, community.KindShareKey, body, community.Hash{}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// DeleteMessage deletes a message: its author may, and so may a moderator or the owner for a
// member's message. A deletion event (a tombstone) enters the log; every member that reads it
// drops the message's text from its store and its views.
func (s *Service) DeleteMessage(ctx context.Context, id, message community.Hash) error {
	r, err := s.room(id)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	me := s.id.PublicKey()
	target, ok, err := s.store.Event(id, message)
	switch {
	case err != nil:
		return err
	case !ok || !isPost(target.Kind):
		return fmt.Errorf("app: %q has no message %s on this device", st.Name, message.Short())
	case st.RoleOf(me) == community.RoleNone:
		return fmt.Errorf("app: you are no longer a member of %q", st.Name)
	case !target.Author.Equal(me) && !(st.RoleOf(me) >= community.RoleModerator && st.RoleOf(me) > st.RoleOf(target.Author)):
		return errors.New("app: you may delete your own messages; moderators delete members' messages")
	case !target.HasBody():
		return nil // deleted already
	case st.CheckContent(target) != nil:
		// Void everywhere already (written after its author's removal or cutoff): shown nowhere,
		// and a deletion citing it would never be accepted by the peers that refused it.
		return nil
	}
	if st, err = s.sealingStateLocked(ctx, r); err != nil {
		return err
	}
	key, ok := r.keys.Key(st.Current)
	if !ok {
		return fmt.Errorf("app: this device does not have the current key of %q yet", st.Name)
	}
	c := community.NewContent(community.KindDelete)
	c.Target = message
	body, err := community.SealContent(key, id, st.Current, me, c, s.rand)
	if err != nil {
		return err
	}
	// It cites the message: no peer accepts the deletion before it has the message.
	e, err := s.writeOwnLocked(ctx, r, community.KindDelete, body, community.Hash{}, target.Position())
	if err != nil {
		return err
	}
	return s.applyDeleteLocked(r, r.folder.State(), e, c)
}

// applyDeleteLocked carries out a deletion this install can read: when its author may delete
// the message it names, the message's body is dropped from the store and views are told.
func (s *Service) applyDeleteLocked(r *room, st *community.State, e *community.Event, c *community.Content) error {
	target, ok, err := s.store.Event(r.id, c.Target)
	if err != nil || !ok || !isPost(target.Kind) || !target.HasBody() {
		return err
	}
	if !st.CanDelete(e.Author, e.Seq, e.Position(), target.Author) {
		s.log.Debug("a deletion its author may not make", "id", e.ID.Short(), "target", c.Target.Short())
		return nil
	}
	if tc, err := r.keys.Open(target); err == nil { // its files go with it, but what another message names
		if err := s.dropFilesOf(r, target.ID, tc); err != nil {
			return fmt.Errorf("app: deleting the files of message %s: %w", c.Target.Short(), err)
		}
	}
	// Its words leave the search index with its text.
	if err := s.dropWithIndex(r, target, func() error { return s.store.DropBody(r.id, c.Target) }); err != nil {
		return fmt.Errorf("app: deleting message %s: %w", c.Target.Short(), err)
	}
	if err := s.store.SetChannel(r.id, c.Target, community.Hash{}); err != nil { // out of its page
		return fmt.Errorf("app: deleting message %s: %w", c.Target.Short(), err)
	}
	r.dropPromotion(c.Target) // a deleted promotion no longer counts
	s.Emit(MessageDeleted{Community: r.id, Message: c.Target})
	return nil
}

// OwnerAct is one authority act of the current owner key, as a recovery shows it so that the
// person recovering can choose where the old key stops counting.
type OwnerAct struct {
	ID     community.Hash
	Seq    uint64 // the owner key's sequence number: pass it as the cutoff to keep this act
	Kind   community.Kind
	Target string // the member it is about, by name, when it is about one
	Time   time.Time
	Void   bool
}

// OwnerActs lists the current owner key's authority acts in a community, oldest first.
func (s *Service) OwnerActs(id community.Hash) ([]OwnerAct, error) {
	r, err := s.room(id)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	st := r.folder.State()
	r.mu.Unlock()
	var out []OwnerAct
	err = s.store.AuthorityEvents(id, func(e *community.Event) error {
		if !e.Author.Equal(st.Owner) || e.Kind == community.KindGenesis {
			return nil
		}
		a := OwnerAct{ID: e.ID, Seq: e.Seq, Kind: e.Kind, Time: e.WallTime()}
		_, a.Void = st.Void(e.ID)
		if b, err := community.DecodeBody(e.Kind, e.Body); err == nil {
			var target ed25519.PublicKey
			switch b := b.(type) {
			case *community.Remove:
				target = b.Target
			case *community.SetRole:
				target = b.Target
			case *community.Join:
				target = b.Joiner
			}
			if m, ok := st.Member(target); ok && target != nil {
				a.Target = displayName(m)
			}
		}
		out = append(out, a)
		return nil
	})
	slices.SortFunc(out, func(a, b OwnerAct) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, err
}

// OwnerLatest is the highest sequence number of the current owner key that this install stores:
// the cutoff that keeps everything it wrote (a lost device, not a stolen one).
func (s *Service) OwnerLatest(id community.Hash) (uint64, error) {
	r, err := s.room(id)
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cutoffOf(r.folder.State().Owner), nil
}

// Recovered is what a recovery made: the community's new recovery words (the old ones are
// spent), to be written down.
type Recovered struct {
	RecoveryWords string
}

// Recover moves the ownership of a community to this install's key with the recovery words
// from its creation: the recovery key signs the transfer, the old owner key's acts after its
// sequence number cutoff are void everywhere (a stolen key's removals are undone; pass the
// sequence number of its last act to keep, see OwnerActs), a new recovery key replaces the
// spent one, and the content key rotates away from the old owner key. This install must hold
// the community (a member, or a member that the stolen key removed) and must not be the old
// owner key itself.
func (s *Service) Recover(ctx context.Context, id community.Hash, words string, cutoff uint64) (Recovered, error) {
	signer, err := community.RecoverySigner(words)
	if err != nil {
		return Recovered{}, err
	}
	r, err := s.room(id)
	if err != nil {
		return Recovered{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	me := s.id.PublicKey()
	switch {
	case !signer.PublicKey().Equal(st.Recovery):
		return Recovered{}, fmt.Errorf("app: these are not the recovery words of %q (or they were already used: a recovery replaces them)", st.Name)
	case st.Owner.Equal(me):
		return Recovered{}, errors.New("app: this device holds the owner key already: recover on another device that is a member, so that ownership moves to a key the thief does not have")
	}
	newRecovery, newWords, err := community.NewRecovery(s.rand)
	if err != nil {
		return Recovered{}, err
	}
	name := ""
	if m, ok := st.Member(me); ok {
		name = m.Name
	}
	body, err := community.Encode(&community.TransferOwner{
		NewOwner: me, NewOwnerX25519: s.id.X25519Public(), NewOwnerName: name,
		OldOwnerCutoff: cutoff, NewRecovery: newRecovery,
	})
	if err != nil {
		return Recovered{}, err
	}
	e, err := s.writeAsLocked(ctx, r, signer, r.heads[string(st.Recovery)], community.KindTransferOwner, body, community.Hash{})
	if err != nil {
		return Recovered{}, err
	}
	if why, void := r.folder.State().Void(e.ID); void {
		return Recovered{}, fmt.Errorf("app: the transfer was refused: %s", why)
	}
	if _, err := s.rotateLocked(ctx, r); err != nil {
		return Recovered{RecoveryWords: newWords}, fmt.Errorf("app: ownership moved, but the key did not rotate yet (it will when this device is next online): %w", err)
	}
	return Recovered{RecoveryWords: newWords}, nil
}
