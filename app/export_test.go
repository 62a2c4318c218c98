package app

import "github.com/kith-app/kith/app/community"

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
