package storage

import (
	"maps"
	"os"
)

// Forget deletes everything the store holds of a community — its events, pages, heads, state
// and record — and the settings whose names start with one of settings (the caller's: sync marks,
// issued invites). The high-water mark drops the community first, so that a crash halfway leaves
// a store that opens: the mark never claims more than the store holds. A community forgotten is
// as if never stored; what other members hold of it is theirs. Its files go too: their folder is
// renamed away under the locks (no chunk of it is found or stored from then on) and deleted
// after them, so that other communities' writes do not wait for the deletion.
func (s *Store) Forget(c CommunityID, settings ...string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inflight.Done()
	gone, err := s.forget(c, settings)
	if gone != "" {
		if rerr := os.RemoveAll(gone); rerr != nil {
			s.log.Warn("a forgotten community's files were not all deleted: Kith deletes the rest at its next start", "err", rerr)
		}
	}
	return err
}

func (s *Store) forget(c CommunityID, settings []string) (gone string, err error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.markMu.Lock()
	if _, ok := s.marked[c]; ok {
		next := maps.Clone(s.marked)
		delete(next, c)
		if err := writeMark(s.dir, next); err != nil {
			s.markMu.Unlock()
			return "", err
		}
		s.marked = next
	}
	s.markMu.Unlock()
	s.blobMu.Lock() // until the record is gone too: OpenBlob and Put then refuse the community
	defer s.blobMu.Unlock()
	if gone, err = s.hideBlobs(c); err != nil {
		return "", s.writeErr("forget a community's files", err)
	}
	var prefixes [][]byte
	for _, p := range []byte{prefixEvent, prefixEventID, prefixPage, prefixAuthority, prefixLocal, prefixHead, prefixState, prefixCommunity, prefixSearch} {
		prefixes = append(prefixes, append([]byte{p}, c[:]...))
	}
	for _, name := range settings {
		prefixes = append(prefixes, settingKey(name))
	}
	if err := s.db.DropPrefix(prefixes...); err != nil {
		return gone, s.writeErr("forget a community", err)
	}
	return gone, nil
}
