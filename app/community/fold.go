package community

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/kith-app/kith/app/invite"
)

// Bounds of the fold's loops. Each restart voids at least one more event and each round frees
// at least one, so with fewer authority events than these the bounds are never reached; they
// only make termination obvious.
const (
	maxRestarts = 1 << 16
	maxRounds   = 8
)

// ErrNoBody is returned for an authority event that arrived without its body: it cannot be
// folded (fetch the whole event from a peer). Authority bodies are never dropped.
var ErrNoBody = errors.New("community: an authority event arrived without its body")

// Fold computes the state of a community from its authority events (the genesis among them), in
// any order. It is pure and deterministic: the result depends only on the set of events, never
// on their order, the clock or anything else. Events must have passed Decode and CheckCausal.
// Authority events without their body are left out (State.MissingBodies lists them), as if they
// had not arrived yet; a copy with the body is preferred over one without.
//
// The rules, in (Lamport, ID) order:
//   - an event counts only if its author is a member at that point (Admits) with the role its
//     kind needs, and its body obeys its kind's rules; otherwise it is void, with a reason;
//   - an author's events from an equivocation onwards are void (found before the fold starts:
//     proofs in the log and any two events of one author with one sequence number);
//   - a removal, demotion or ownership transfer carries cutoff_seq: the target's events above it
//     are void, even those ordered before it. When such an event voids an event the fold has
//     already applied, the fold starts again with that event void;
//   - conflicts between concurrent acts on one member: the higher role wins, then (Lamport, ID).
//     An act that did not see the last act on its target (TargetPrev) and whose author ranks
//     above that act's author overrides it: the earlier act is void and the fold starts again.
//
// Such voids are kept across restarts, which makes the restarts terminate. When the fold has
// settled, a void whose cause ended up void itself is unjustified: those are freed and the fold
// settles again (at most maxRounds times).
func Fold(events []*Event) (*State, error) {
	genesis, rest, missing, err := prepare(events)
	if err != nil {
		return nil, err
	}
	f := newFolding(genesis, rest)
	s, err := f.run()
	if err != nil {
		return nil, err
	}
	s.missing = missing
	return s, nil
}

// prepare finds the genesis, drops bodiless copies and duplicates, and sorts the rest.
func prepare(events []*Event) (*Event, []*Event, []Hash, error) {
	var genesis *Event
	byID := make(map[Hash]*Event, len(events))
	for _, e := range events {
		if e.Kind == KindGenesis {
			switch {
			case genesis == nil || (genesis.ID == e.ID && genesis.Body == nil):
				genesis = e
			case genesis.ID != e.ID:
				return nil, nil, nil, fmt.Errorf("%w: two genesis events", ErrInvalid)
			}
			continue
		}
		if old, ok := byID[e.ID]; !ok || (old.Body == nil && e.Body != nil) {
			byID[e.ID] = e
		}
	}
	if genesis == nil {
		return nil, nil, nil, fmt.Errorf("%w: no genesis event", ErrInvalid)
	}
	rest := make([]*Event, 0, len(byID))
	var missing []Hash
	for id, e := range byID {
		if e.Body == nil && e.BodyLen > 0 {
			missing = append(missing, id)
			continue
		}
		rest = append(rest, e)
	}
	slices.SortFunc(rest, func(a, b *Event) int { return a.Position().Compare(b.Position()) })
	slices.SortFunc(missing, Hash.Compare)
	return genesis, rest, missing, nil
}

// folding is one computation of a state: the sorted events, what never changes between passes
// (equivocations, decoded bodies, verified joins), and the voids found so far with their causes.
type folding struct {
	genesis *Event
	sorted  []*Event
	forks   map[string]uint64
	cache   *foldCache
	sticky  map[Hash]Hash // void event → the event whose cutoff or override voided it
	rounds  int           // rounds the last run took (1: no void was freed)
}

// foldCache holds what is pure per event, so that restarts and refolds do not decode bodies or
// verify signatures again.
type foldCache struct {
	bodies map[Hash]Body
	errs   map[Hash]error
	joins  map[Hash]joinCheck
}

type joinCheck struct {
	signed *invite.Signed
	err    error
}

func newFoldCache() *foldCache {
	return &foldCache{bodies: map[Hash]Body{}, errs: map[Hash]error{}, joins: map[Hash]joinCheck{}}
}

func (c *foldCache) body(e *Event) (Body, error) {
	if b, ok := c.bodies[e.ID]; ok {
		return b, nil
	}
	if err, ok := c.errs[e.ID]; ok {
		return nil, err
	}
	b, err := DecodeBody(e.Kind, e.Body)
	if err != nil {
		c.errs[e.ID] = err
		return nil, err
	}
	c.bodies[e.ID] = b
	return b, nil
}

func (c *foldCache) join(e *Event, j *Join) (*invite.Signed, error) {
	if r, ok := c.joins[e.ID]; ok {
		return r.signed, r.err
	}
	signed, err := verifyJoin(e.Author, j)
	c.joins[e.ID] = joinCheck{signed, err}
	return signed, err
}

func newFolding(genesis *Event, sorted []*Event) *folding {
	return &folding{genesis: genesis, sorted: sorted, cache: newFoldCache()}
}

// run settles the fold, then frees voids whose cause ended void and settles again.
func (f *folding) run() (*State, error) {
	f.forks = findForks(f.genesis.ID, f.sorted)
	f.sticky = map[Hash]Hash{}
	var s *State
	for f.rounds = 1; f.rounds <= maxRounds; f.rounds++ {
		var err error
		if s, err = f.settle(); err != nil {
			return nil, err
		}
		freed := false
		for id, cause := range f.sticky {
			if _, void := s.void[cause]; void {
				delete(f.sticky, id)
				freed = true
			}
		}
		if !freed {
			break
		}
	}
	return s, nil
}

// settle folds the events from the genesis, restarting whenever an event voids one already applied.
func (f *folding) settle() (*State, error) {
	for range maxRestarts {
		s, err := f.newState()
		if err != nil {
			return nil, err
		}
		restart := false
		for _, e := range f.sorted {
			if s.step(e, f.sticky) {
				restart = true
				break
			}
		}
		if !restart {
			return s, nil
		}
	}
	return nil, fmt.Errorf("%w: the fold did not settle", ErrInvalid)
}

// step folds one event. It reports true when the event voided events already applied: they
// are added to sticky (with this event as their cause) and the fold must start again.
func (s *State) step(e *Event, sticky map[Hash]Hash) bool {
	s.last = e.Position()
	if cause, ok := sticky[e.ID]; ok {
		s.void[e.ID] = fmt.Sprintf("voided by %s", cause.Short())
		switch e.Kind {
		case KindJoin:
			s.noteLeakedKey(e)
		case KindApprove:
			s.noteLeakedApproval(e)
		case KindRotateKey:
			s.noteVoidEpoch(e)
		case KindSetRole:
			s.noteVoidGrant(e)
		}
		return false
	}
	s.pending = s.pending[:0]
	if err := s.apply(e); err != nil {
		s.void[e.ID] = err.Error()
		switch {
		case e.Kind == KindJoin:
			s.noteLeakedKey(e)
		case e.Kind == KindApprove:
			s.noteLeakedApproval(e)
		case e.Kind == KindRotateKey && errors.Is(err, ErrRole) && s.wasModerator(e.Author, e.Position()):
			// A moderator demoted concurrently: whether the demotion sorts before or after its
			// rotation, its members wrote with the key (see noteVoidEpoch).
			s.noteVoidEpoch(e)
		}
		return false
	}
	if len(s.pending) == 0 {
		return false
	}
	for _, id := range s.pending {
		sticky[id] = e.ID
	}
	return true
}

// findForks collects equivocations: proofs in the log, and two events of one author with one
// sequence number among the events themselves. The earliest forked sequence per author counts.
func findForks(community Hash, events []*Event) map[string]uint64 {
	forks := map[string]uint64{}
	note := func(author ed25519.PublicKey, seq uint64) {
		if f, ok := forks[string(author)]; !ok || seq < f {
			forks[string(author)] = seq
		}
	}
	type slot struct {
		author string
		seq    uint64
	}
	seen := map[slot]Hash{}
	for _, e := range events {
		k := slot{string(e.Author), e.Seq}
		if id, ok := seen[k]; ok && id != e.ID {
			note(e.Author, e.Seq)
		}
		seen[k] = e.ID
		if e.Kind == KindEquivocation && e.Body != nil {
			if b, err := DecodeBody(e.Kind, e.Body); err == nil {
				if a, seq, err := b.(*Equivocation).Verify(community); err == nil {
					note(a, seq)
				}
			}
		}
	}
	return forks
}

func (f *folding) newState() (*State, error) {
	g := f.genesis
	if g.Kind != KindGenesis || g.Body == nil {
		return nil, fmt.Errorf("%w: not a genesis event with its body", ErrInvalid)
	}
	b, err := f.cache.body(g)
	if err != nil {
		return nil, err
	}
	gb := b.(*Genesis)
	s := &State{
		ID: g.ID, Name: gb.Name, About: gb.About, MaxMembers: int(gb.MaxMembers), History: gb.History,
		Owner: g.Author, Recovery: gb.Recovery, Current: g.ID,
		members:    map[string]*Member{},
		channels:   map[Hash]*Channel{},
		revoked:    map[invite.ID]bool{},
		uses:       map[invite.ID]int{},
		brought:    map[string]int{},
		epochs:     map[Hash]*Epoch{},
		registered: map[invite.ID]registration{},
		requests:   map[Hash]*Request{},
		asked:      map[string]bool{},
		waitingBy:  map[string]Hash{},
		waiting:    map[invite.ID]int{},
		void:       map[Hash]string{},
		last:       g.Position(),
		forks:      f.forks,
		cache:      f.cache,
	}
	s.members[string(g.Author)] = &Member{
		Key: g.Author, X25519: gb.OwnerX25519, Name: gb.OwnerName, nameKey: NameKey(gb.OwnerName), Role: RoleOwner, Active: true,
		Stints: []Stint{{Join: Position{}, FirstSeq: 1, At: g.WallTime()}},
		roles:  []roleChange{{role: RoleOwner}},
		last:   act{id: g.ID, rank: RoleOwner, kind: KindGenesis},
	}
	for i, c := range gb.Channels {
		s.addChannel(ChannelID(g.ID, i), c.Name, c.Type())
	}
	s.epochs[g.ID] = &Epoch{ID: g.ID, At: g.Position(), holders: map[string]bool{string(g.Author): true}}
	return s, nil
}

// Type returns the channel kind, defaulting to chat.
func (c ChannelSpec) Type() ChannelKind {
	if c.Kind == ChannelAnnouncements {
		return c.Kind
	}
	return ChannelChat
}

func (s *State) addChannel(id Hash, name string, t ChannelKind) {
	if _, ok := s.channels[id]; ok {
		return
	}
	c := &Channel{ID: id, Type: t}
	s.nameChannel(c, name)
	s.channels[id] = c
	s.order = append(s.order, id)
}

// nameChannel gives c the name asked for, or, when another channel (archived ones included) has a
// name that NameKey folds to the same key, the name with " (2)", " (3)", ... — the first free. The
// fold runs in (Lamport, ID) order, so the later of two channels made or renamed with one name on
// both sides of a partition gets the number, the same at every member.
func (s *State) nameChannel(c *Channel, name string) {
	taken := func(n string) bool {
		k := NameKey(n)
		for id, o := range s.channels {
			if id != c.ID && NameKey(o.Name) == k {
				return true
			}
		}
		return false
	}
	c.Name, c.Asked = name, ""
	for i := 2; taken(c.Name); i++ {
		c.Name, c.Asked = fmt.Sprintf("%s (%d)", name, i), name
	}
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// apply checks one authority event against the state at its point and applies it. It changes
// nothing when it returns an error.
func (s *State) apply(e *Event) error {
	if !e.Kind.Authority() {
		return invalid("%s is not an authority kind", e.Kind)
	}
	if e.Community != s.ID {
		return invalid("event of another community")
	}
	if e.Body == nil && e.BodyLen > 0 {
		return ErrNoBody
	}
	switch {
	case e.Kind == KindTransferOwner:
		if f := s.forks[string(e.Author)]; f != 0 && e.Seq >= f {
			return fmt.Errorf("%w: the recovery key equivocated", ErrVoid)
		}
		if !e.Author.Equal(s.Recovery) {
			return fmt.Errorf("%w: only the recovery key transfers ownership", ErrRole)
		}
	default:
		if err := s.Admits(e.Author, e.Seq, e.Position()); err != nil {
			return err
		}
		if r := s.RoleOf(e.Author); r < e.Kind.MinRole() {
			return fmt.Errorf("%w: %s needs the %s role, the author is %s", ErrRole, e.Kind, e.Kind.MinRole(), r)
		}
	}
	body, err := s.cache.body(e)
	if err != nil {
		return err
	}
	var granted Role
	power := e.Kind.MinRole() // the role the act needed (a revocation: moderator, unless its author's own)
	switch b := body.(type) {
	case *Join:
		granted, err = s.applyJoin(e, b)
	case *Leave:
		err = s.applyLeave(e)
	case *Remove:
		err = s.applyRemove(e, b)
	case *SetRole:
		err = s.applySetRole(e, b)
	case *RevokeInvite:
		power, err = s.applyRevokeInvite(e, b)
	case *RegisterInvite:
		err = s.applyRegister(e, b)
	case *RevokeBy:
		err = s.applyRevokeBy(b)
	case *Settings:
		err = s.applySettings(b)
	case *EntryRequest:
		granted, err = s.applyRequest(e, b)
	case *Approve:
		granted, err = s.applyApprove(e, b)
	case *Decline:
		err = s.applyDecline(e, b)
	case *RotateKey:
		err = s.applyRotate(e, b)
	case *ShareKey:
		err = s.applyShare(e, b)
	case *TransferOwner:
		err = s.applyTransfer(e, b)
	case *Equivocation:
		if _, _, err = b.Verify(s.ID); err != nil {
			err = invalid("equivocation proof: %v", err)
		}
	case *ChannelCreate:
		if err = checkName(LimitChannelName, b.Name); err == nil {
			s.addChannel(ChannelID(e.ID, 0), b.Name, ChannelSpec{Kind: b.Type}.Type())
		}
	case *ChannelUpdate:
		c, ok := s.channels[b.Channel]
		switch {
		case !ok:
			err = invalid("no channel %s", b.Channel.Short())
		case checkName(LimitChannelName, b.Name) != nil:
			err = invalid("empty channel name")
		default:
			c.Archived = b.Archived
			if b.Name != c.Name && b.Name != c.Asked { // an archive keeps the name as it is shown
				s.nameChannel(c, b.Name)
			}
		}
	case *CommunityEdit:
		if err = checkName(LimitCommunityName, b.Name); err == nil {
			s.Name, s.About, s.MaxMembers = b.Name, b.About, int(b.MaxMembers)
		}
	case *Genesis:
		err = invalid("a second genesis")
	}
	if err != nil {
		return err
	}
	s.applied = append(s.applied, applied{id: e.ID, author: string(e.Author), seq: e.Seq, kind: e.Kind, granted: granted, power: power})
	return nil
}

// applyJoin admits a joiner; it returns the role granted.
func (s *State) applyJoin(e *Event, b *Join) (Role, error) {
	signed, err := s.cache.join(e, b)
	if err != nil {
		return RoleNone, err
	}
	if signed.Approval {
		return RoleNone, invalid("the invite needs approval: a join with it waits as a request")
	}
	// The admitter's countersigned time, never this peer's clock.
	if err := invite.CheckVerified(signed, s.ID, e.WallTime(), s.Ledger()); err != nil {
		return RoleNone, err
	}
	if m := s.members[string(b.Joiner)]; m != nil && m.Active {
		return RoleNone, invalid("already a member")
	}
	return s.admit(e, signed, b.Joiner, b.JoinerX25519, b.Name, len(b.SealedKey) > 0), nil
}

// admit makes a joiner a member at e (a join, or the approval of a request), with the role its
// invite grants; keyed: e sealed the current key to it. It returns the role granted.
func (s *State) admit(e *Event, signed *invite.Signed, joiner ed25519.PublicKey, x25519 []byte, name string, keyed bool) Role {
	m := s.members[string(joiner)]
	role := signed.Role
	first := uint64(1)
	if m == nil {
		m = &Member{Key: joiner}
		s.members[string(joiner)] = m
	} else if n := len(m.Stints); n > 0 {
		first = m.Stints[n-1].Cutoff + 1
	}
	m.X25519, m.Role = x25519, role
	s.setName(m, name)
	m.Active = true
	m.Invite, m.Admitter, m.InviteCap = signed.ID, e.Author, &signed.Capability
	m.Stints = append(m.Stints, Stint{Join: e.Position(), FirstSeq: first, At: e.WallTime()})
	m.roles = append(m.roles, roleChange{at: e.Position(), role: role})
	m.last = act{id: e.ID, rank: s.RoleOf(e.Author), kind: KindJoin}
	s.uses[signed.ID]++
	s.brought[string(signed.Issuer)]++
	if ep, ok := s.epochs[e.Epoch]; ok && keyed {
		ep.holders[string(joiner)] = true
	}
	return role
}

// noteLeakedKey records that a refused join still delivered a key to its joiner: the joiner
// holds it, so the key must rotate.
func (s *State) noteLeakedKey(e *Event) {
	b, err := s.cache.body(e)
	if err != nil {
		return
	}
	j := b.(*Join)
	if _, err := s.cache.join(e, j); err != nil {
		// Not a join that lost a race (a use limit, the cap, a removal reaching back) but one
		// that never proved anything: its "joiner" may be a key made up to force rotations.
		return
	}
	if ep, ok := s.epochs[e.Epoch]; ok && len(j.SealedKey) > 0 && len(j.Joiner) == ed25519.PublicKeySize {
		ep.holders[string(j.Joiner)] = true
	}
}

// noteVoidGrant records the role a promotion granted when a later cutoff voided it (a
// recovery undoing a stolen key's acts): if the cutoff is itself undone, the promoted member's
// acts count again, so receivers keep them as void rather than refuse them (see EverHeld).
func (s *State) noteVoidGrant(e *Event) {
	b, err := s.cache.body(e)
	if err != nil {
		return
	}
	r := b.(*SetRole)
	if m, ok := s.members[string(r.Target)]; ok && r.Role > m.voidGrant {
		m.voidGrant = r.Role
	}
}

// maxVoidEpochs bounds the void epochs one author's rotations may add (see noteVoidEpoch): each
// may cost key shares to every member, so a demoted moderator writing rotations cannot make
// the others write without end.
const maxVoidEpochs = 4

// noteVoidEpoch records the epoch of a rotation that a later act voided (its author's demotion
// or removal reached back past it): its members wrote with its key meanwhile, so the epoch stays
// known — members that lack its key get it in a key share — but it never becomes current.
func (s *State) noteVoidEpoch(e *Event) {
	b, err := s.cache.body(e)
	if err != nil {
		return
	}
	r := b.(*RotateKey)
	if _, ok := s.epochs[e.ID]; ok || len(r.KeyCheck) != keyCheckSize {
		return
	}
	n := 0
	for _, ep := range s.epochs {
		if ep.Void && ep.author == string(e.Author) {
			n++
		}
	}
	if n >= maxVoidEpochs {
		return
	}
	ep := &Epoch{ID: e.ID, Prev: r.PrevEpoch, At: e.Position(), Void: true, author: string(e.Author), holders: map[string]bool{}}
	for _, k := range r.Keys {
		ep.holders[string(k.Member)] = true
	}
	s.epochs[e.ID] = ep
}

func (s *State) applyLeave(e *Event) error {
	m := s.members[string(e.Author)]
	if m.Role == RoleOwner {
		return invalid("the owner cannot leave: transfer ownership first")
	}
	s.end(m, e.Seq)
	return nil
}

// end closes a member's current stint at cutoff.
func (s *State) end(m *Member, cutoff uint64) {
	if n := len(m.Stints); n > 0 && !m.Stints[n-1].Ended {
		m.Stints[n-1].Ended, m.Stints[n-1].Cutoff = true, cutoff
	}
	m.Active, m.Role = false, RoleNone
}

// target finds the active member an act is about and applies the conflict rule. It returns
// override=true when the act overrides a concurrent act by a lower role (queued as pending).
func (s *State) target(e *Event, k ed25519.PublicKey, prev Hash) (*Member, bool, error) {
	m, ok := s.members[string(k)]
	if !ok {
		return nil, false, invalid("%x is not a member", []byte(k[:min(4, len(k))]))
	}
	rank := s.RoleOf(e.Author)
	if m.last.id != prev && m.last.kind != KindJoin && m.last.kind != KindGenesis && rank > m.last.rank {
		// Concurrent with the last act on the target and from a higher role: that act is void.
		s.pending = append(s.pending, m.last.id)
		return m, true, nil
	}
	if !m.Active {
		return nil, false, invalid("%x is no longer a member", []byte(k[:4]))
	}
	return m, false, nil
}

// voidAbove queues the target's applied events above cutoff for which keep is false.
func (s *State) voidAbove(k ed25519.PublicKey, cutoff uint64, keep func(applied) bool) {
	for _, a := range s.applied {
		if a.author == string(k) && a.seq > cutoff && !keep(a) {
			s.pending = append(s.pending, a.id)
		}
	}
}

func (s *State) applyRemove(e *Event, b *Remove) error {
	if b.Target.Equal(e.Author) {
		return invalid("to leave, use leave")
	}
	m, override, err := s.target(e, b.Target, b.TargetPrev)
	if err != nil || override {
		return err
	}
	rank := s.RoleOf(e.Author)
	if m.Role >= rank {
		return fmt.Errorf("%w: a %s cannot remove a %s", ErrRole, rank, m.Role)
	}
	s.end(m, b.CutoffSeq)
	m.last = act{id: e.ID, rank: rank, kind: KindRemove}
	// The target's joins of members with a role at or above the remover's stand: a moderator
	// cannot evict a moderator by removing whoever admitted it.
	s.voidAbove(b.Target, b.CutoffSeq, func(a applied) bool {
		return (a.kind == KindJoin || a.kind == KindApprove || a.kind == KindJoinRequest) && a.granted >= rank
	})
	return nil
}

func (s *State) applySetRole(e *Event, b *SetRole) error {
	if b.Role != RoleMember && b.Role != RoleModerator {
		return invalid("a role change grants member or moderator, not %s", b.Role)
	}
	if b.Target.Equal(e.Author) {
		return invalid("the owner's role changes only by transfer")
	}
	m, override, err := s.target(e, b.Target, b.TargetPrev)
	if err != nil || override {
		return err
	}
	demoted := b.Role < m.Role
	m.Role = b.Role
	m.roles = append(m.roles, roleChange{at: e.Position(), role: b.Role, demote: demoted, keep: b.CutoffSeq})
	m.last = act{id: e.ID, rank: RoleOwner, kind: KindSetRole}
	if demoted {
		// Its moderator acts above the cutoff are void; what any member may do stands.
		s.voidAbove(b.Target, b.CutoffSeq, func(a applied) bool { return a.power < RoleModerator })
	}
	return nil
}

func (s *State) applyRotate(e *Event, b *RotateKey) error {
	if len(b.EphemeralKey) != 32 || len(b.Keys) == 0 || len(b.KeyCheck) != keyCheckSize {
		return invalid("a rotation needs an ephemeral key, a key check and recipients")
	}
	ep := &Epoch{ID: e.ID, Prev: b.PrevEpoch, At: e.Position(), holders: map[string]bool{}}
	for _, k := range b.Keys {
		ep.holders[string(k.Member)] = true
	}
	s.epochs[e.ID] = ep
	s.Current = e.ID
	return nil
}

func (s *State) applyShare(e *Event, b *ShareKey) error {
	ep, ok := s.epochs[b.Epoch]
	switch {
	case !ok:
		return invalid("share of unknown epoch %s", b.Epoch.Short())
	case !ep.holders[string(e.Author)]:
		return invalid("the author does not hold the key it shares")
	case s.RoleOf(b.Key.Member) == RoleNone:
		return invalid("keys are shared with members only")
	}
	ep.holders[string(b.Key.Member)] = true
	return nil
}

func (s *State) applyTransfer(e *Event, b *TransferOwner) error {
	if len(b.NewOwner) != ed25519.PublicKeySize || len(b.NewOwnerX25519) != 32 {
		return invalid("transfer without the new owner's keys")
	}
	old := s.members[string(s.Owner)]
	if old != nil {
		s.end(old, b.OldOwnerCutoff)
		old.last = act{id: e.ID, rank: RoleOwner + 1, kind: KindTransferOwner}
		// A stolen key's acts are undone, its joins included.
		s.voidAbove(s.Owner, b.OldOwnerCutoff, func(applied) bool { return false })
	}
	m := s.members[string(b.NewOwner)]
	first := uint64(1)
	if m == nil {
		m = &Member{Key: b.NewOwner}
		s.members[string(b.NewOwner)] = m
	} else if n := len(m.Stints); n > 0 && m.Active {
		first = 0 // stays in its current stint
	} else if n > 0 {
		first = m.Stints[n-1].Cutoff + 1
	}
	if first != 0 {
		m.Stints = append(m.Stints, Stint{Join: e.Position(), FirstSeq: first, At: e.WallTime()})
	}
	m.X25519, m.Role, m.Active = b.NewOwnerX25519, RoleOwner, true
	m.roles = append(m.roles, roleChange{at: e.Position(), role: RoleOwner})
	if b.NewOwnerName != "" {
		s.setName(m, b.NewOwnerName)
	}
	m.last = act{id: e.ID, rank: RoleOwner + 1, kind: KindTransferOwner}
	s.Owner = b.NewOwner
	if len(b.NewRecovery) == ed25519.PublicKeySize {
		s.Recovery = b.NewRecovery
	}
	return nil
}

// Folder keeps a community's state up to date as authority events arrive in any order: an event
// that sorts after every event folded so far and voids nothing is applied in place; anything
// else (a late event, a cutoff that reaches back, an equivocation) refolds from the genesis,
// reusing decoded bodies and verified joins. The result always equals Fold over the same events.
// A Folder is not safe for concurrent use, but for State; the states it returns are.
type Folder struct {
	f     *folding // its sorted events exclude the genesis
	ids   map[Hash]bool
	slots map[slotKey]Hash
	state atomic.Pointer[State] // replaced whole by Add: read it from any goroutine
}

type slotKey struct {
	author string
	seq    uint64
}

// NewFolder starts a Folder from the genesis event.
func NewFolder(genesis *Event) (*Folder, error) {
	f := newFolding(genesis, nil)
	s, err := f.run()
	if err != nil {
		return nil, err
	}
	folder := &Folder{f: f, ids: map[Hash]bool{genesis.ID: true}, slots: map[slotKey]Hash{}}
	folder.state.Store(s)
	return folder, nil
}

// State returns the current state. A state once returned never changes (Add works on a copy),
// so it may be read from any goroutine; callers must not modify it. State itself may be called
// while another goroutine Adds: it sees the state before or after.
func (f *Folder) State() *State { return f.state.Load() }

// Len returns how many authority events have been folded, the genesis included.
func (f *Folder) Len() int { return len(f.f.sorted) + 1 }

// Add folds one more authority event and returns the new state. Adding an event twice is a
// no-op. An event without its body is refused with ErrNoBody and not recorded, so that the
// whole event can be added when it comes.
func (f *Folder) Add(e *Event) (*State, error) {
	switch {
	case !e.Kind.Authority():
		return f.state.Load(), invalid("%s is not an authority kind", e.Kind)
	case e.Kind == KindGenesis:
		if e.ID != f.f.genesis.ID {
			return f.state.Load(), fmt.Errorf("%w: two genesis events", ErrInvalid)
		}
		return f.state.Load(), nil
	case e.Body == nil && e.BodyLen > 0:
		return f.state.Load(), ErrNoBody
	case f.ids[e.ID]:
		return f.state.Load(), nil
	}
	f.ids[e.ID] = true
	k := slotKey{string(e.Author), e.Seq}
	prior, forked := f.slots[k]
	forked = forked && prior != e.ID
	f.slots[k] = e.ID
	byPos := func(a, b *Event) int { return a.Position().Compare(b.Position()) }
	i, _ := slices.BinarySearchFunc(f.f.sorted, e, byPos)
	f.f.sorted = slices.Insert(f.f.sorted, i, e)
	// In place only when the batch fold would do exactly this: e sorts last, changes no fork,
	// voids nothing, and the current state came from a single round.
	if i == len(f.f.sorted)-1 && !forked && e.Kind != KindEquivocation && f.f.rounds == 1 {
		next := f.state.Load().clone()
		if !next.step(e, f.f.sticky) {
			f.state.Store(next)
			return next, nil
		}
	}
	s, err := f.f.run()
	if err != nil {
		return f.state.Load(), err
	}
	f.state.Store(s)
	return s, nil
}

// Hash is a digest of the whole state in a canonical encoding: two peers with the same hash
// agree on members, roles, channels, invites, keys and voids.
func (s *State) Hash() Hash {
	w := writer{}
	w.hash(s.ID)
	w.str(s.Name)
	w.str(s.About)
	w.uvarint(uint64(s.MaxMembers))
	w.byte1(byte(s.History))
	w.fixed(s.Owner)
	w.fixed(s.Recovery)
	w.hash(s.Current)
	members := s.Members()
	w.uvarint(uint64(len(members)))
	for _, m := range members {
		w.fixed(m.Key)
		w.bytes(m.X25519)
		w.str(m.Name)
		w.byte1(byte(m.Role))
		w.flag(m.Active)
		w.fixed(m.Invite[:])
		w.bytes(m.Admitter)
		w.uvarint(uint64(len(m.Stints)))
		for _, st := range m.Stints {
			w.uvarint(st.Join.Lamport)
			w.hash(st.Join.ID)
			w.uvarint(st.FirstSeq)
			w.flag(st.Ended)
			w.uvarint(st.Cutoff)
		}
		w.byte1(byte(m.voidGrant))
		w.uvarint(uint64(len(m.roles)))
		for _, c := range m.roles {
			w.uvarint(c.at.Lamport)
			w.hash(c.at.ID)
			w.byte1(byte(c.role))
			w.flag(c.demote)
			w.uvarint(c.keep)
		}
	}
	w.uvarint(uint64(len(s.order)))
	for _, c := range s.Channels() {
		w.hash(c.ID)
		w.str(c.Name)
		w.byte1(byte(c.Type))
		w.flag(c.Archived)
	}
	sortedKeys := func(m map[string]bool) []string {
		ks := make([]string, 0, len(m))
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	ids := make([]invite.ID, 0, len(s.revoked)+len(s.uses))
	for id := range s.revoked {
		ids = append(ids, id)
	}
	for id := range s.uses {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b invite.ID) int { return bytes.Compare(a[:], b[:]) })
	ids = slices.Compact(ids)
	w.uvarint(uint64(len(ids)))
	for _, id := range ids {
		w.fixed(id[:])
		w.flag(s.revoked[id])
		w.uvarint(uint64(s.uses[id]))
	}
	s.hashEntry(&w)
	eps := make([]Hash, 0, len(s.epochs))
	for id := range s.epochs {
		eps = append(eps, id)
	}
	slices.SortFunc(eps, Hash.Compare)
	w.uvarint(uint64(len(eps)))
	for _, id := range eps {
		w.hash(id)
		w.hash(s.epochs[id].Prev)
		w.flag(s.epochs[id].Void)
		holders := sortedKeys(s.epochs[id].holders)
		w.uvarint(uint64(len(holders)))
		for _, k := range holders {
			w.str(k)
		}
	}
	forks := map[string]bool{}
	for k := range s.forks {
		forks[k] = true
	}
	w.uvarint(uint64(len(forks)))
	for _, k := range sortedKeys(forks) {
		w.str(k)
		w.uvarint(s.forks[k])
	}
	voids := make([]Hash, 0, len(s.void))
	for id := range s.void {
		voids = append(voids, id)
	}
	slices.SortFunc(voids, Hash.Compare)
	w.uvarint(uint64(len(voids)))
	for _, id := range voids {
		w.hash(id)
	}
	return sum(w.b)
}
