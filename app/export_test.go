package app

import (
	"time"

	"github.com/kith-app/kith/app/community"
)

// HoldRoom takes a community's room lock, as a write does through its fsync, until release
// (for tests of what must not wait for it).
func HoldRoom(s *Service, id community.Hash) (release func(), err error) {
	r, err := s.room(id)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	return r.mu.Unlock, nil
}

// BeforeStore sets what a runner calls before it stores a batch of gossiped events (for tests of
// what "accepted" means: forwarded before stored).
func BeforeStore(s *Service, f func(id community.Hash, events int)) { s.beforeStore.Store(&f) }

// Mentions is mentions, for its table test.
func Mentions(text, name string) bool { return mentions(text, name) }

// VoteAnyway writes a vote without the writer's checks (voted already, closed), as a peer that
// does not run them would: the count must ignore it.
func VoteAnyway(s *Service, id, poll community.Hash, choices []int) error {
	r, err := s.room(id)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	p, err := s.readPoll(r, st, poll, nil)
	if err != nil {
		return err
	}
	readers := append(st.Readers(), community.Recipient{Key: s.id.PublicKey(), X25519: s.id.X25519Public()})
	c, err := community.NewVote(id, p.c.Channel, poll, s.id.PublicKey(), choices, dedupe(readers), s.rand)
	if err != nil {
		return err
	}
	body, err := s.sealOwnLocked(s.ctx, r, c)
	if err != nil {
		return err
	}
	_, err = s.writeOwnLocked(s.ctx, r, community.KindVote, body, pollsPage, p.e.Position())
	return err
}

// PromoteAnyway writes a promotion without the writer's budget check, as a peer that does not
// run it would: readers must not show it to members once it is past the budget.
func PromoteAnyway(s *Service, id, channel community.Hash, text string) (community.Hash, error) {
	r, err := s.room(id)
	if err != nil {
		return community.Hash{}, err
	}
	c := community.NewContent(community.KindPromotion)
	c.Channel, c.Text = channel, text
	return writeAnyway(s, r, c)
}

// SetClock replaces the service's clock. Call it before the service starts any work (the
// goroutines it starts later see it).
func SetClock(s *Service, now func() time.Time) { s.now = now }

// SearchWords is searchWords, for its table test.
func SearchWords(text string) []string { return searchWords(text) }

// IndexFromStart indexes a community for search again from its first event (for the benchmark
// of indexing).
func IndexFromStart(s *Service, id community.Hash) error {
	r, err := s.room(id)
	if err != nil {
		return err
	}
	r.search.mu.Lock()
	if err := s.loadIndexLocked(r); err != nil {
		r.search.mu.Unlock()
		return err
	}
	r.search.mark = 0
	r.search.mu.Unlock()
	return s.catchUpIndex(r)
}

// ManifestsOf lists the manifests of a stored message's files.
func ManifestsOf(s *Service, id, message community.Hash) ([]*community.Manifest, error) {
	r, err := s.room(id)
	if err != nil {
		return nil, err
	}
	e, _, err := s.store.Event(id, message)
	if err != nil {
		return nil, err
	}
	c, err := r.keys.Open(e)
	if err != nil {
		return nil, err
	}
	return attachmentsOf(c), nil
}

// SafeThumb is safeThumb, for its test.
func SafeThumb(b []byte) []byte { return safeThumb(b) }

// CopyFiles posts a message that carries the files of another message (or of a profile) by
// copying its manifests, as a member could: the chunks are the original's.
func CopyFiles(s *Service, id, channel, from community.Hash) (community.Hash, error) {
	return copyFiles(s, id, channel, from, nil)
}

// CopyFilesSalted posts a copy of a message's manifests with the salt changed: the same chunk
// hashes (they check), chunks that do not open under this manifest.
func CopyFilesSalted(s *Service, id, channel, from community.Hash) (community.Hash, error) {
	return copyFiles(s, id, channel, from, func(m *community.Manifest) { m.Salt[0] ^= 1 })
}

func copyFiles(s *Service, id, channel, from community.Hash, change func(*community.Manifest)) (community.Hash, error) {
	r, err := s.room(id)
	if err != nil {
		return community.Hash{}, err
	}
	e, _, err := s.store.Event(id, from)
	if err != nil {
		return community.Hash{}, err
	}
	oc, err := r.keys.Open(e)
	if err != nil {
		return community.Hash{}, err
	}
	blobs := oc.Blobs
	if change != nil {
		blobs = nil
		for _, b := range oc.Blobs {
			m, err := community.DecodeManifest(b)
			if err != nil {
				return community.Hash{}, err
			}
			change(m)
			blobs = append(blobs, m.Encode())
		}
	}
	c := community.NewContent(community.KindMessage)
	c.Channel, c.Blobs = channel, blobs
	return writeAnyway(s, r, c)
}

// writeAnyway seals and writes content as this install, with none of the checks a use-case makes.
func writeAnyway(s *Service, r *room, c *community.Content) (community.Hash, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	body, err := s.sealOwnLocked(s.ctx, r, c)
	if err != nil {
		return community.Hash{}, err
	}
	e, err := s.writeOwnLocked(s.ctx, r, c.Kind(), body, c.Channel)
	if err != nil {
		return community.Hash{}, err
	}
	return e.ID, nil
}
