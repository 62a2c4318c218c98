package storage

import (
	"maps"
)

// Forget deletes everything the store holds of a community — its events, pages, heads, state
// and record — and the settings whose names start with one of settings (the caller's: sync marks,
// issued invites). The high-water mark drops the community first, so that a crash halfway leaves
// a store that opens: the mark never claims more than the store holds. A community forgotten is
// as if never stored; what other members hold of it is theirs.
func (s *Store) Forget(c CommunityID, settings ...string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inflight.Done()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.markMu.Lock()
	if _, ok := s.marked[c]; ok {
		next := maps.Clone(s.marked)
		delete(next, c)
		if err := writeMark(s.dir, next); err != nil {
			s.markMu.Unlock()
			return err
		}
		s.marked = next
	}
	s.markMu.Unlock()
	s.blobMu.Lock()
	err := s.forgetChunks(c)
	s.blobMu.Unlock()
	if err != nil {
		return s.writeErr("forget a community's files", err)
	}
	var prefixes [][]byte
	for _, p := range []byte{prefixEvent, prefixEventID, prefixPage, prefixAuthority, prefixLocal, prefixHead, prefixState, prefixCommunity, prefixSearch, prefixChunk} {
		prefixes = append(prefixes, append([]byte{p}, c[:]...))
	}
	for _, name := range settings {
		prefixes = append(prefixes, settingKey(name))
	}
	if err := s.db.DropPrefix(prefixes...); err != nil {
		return s.writeErr("forget a community", err)
	}
	return nil
}
