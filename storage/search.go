package storage

// The search index: postings of terms to events. The caller tokenizes and hashes the terms
// (keyed, so no word is written in clear); the store keeps one key per (term, event), ordered
// by the event's Lamport time, and finds events by the first 8 bytes of their IDs.

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// A Posting says that an event holds a term: the term's 8-byte hash and the event's place.
type Posting struct {
	Term    uint64
	Lamport uint64
	ID      EventID
}

// searchKey is the key of a posting: 0x0B | c | term | lamport | the ID's first 8 bytes.
func searchKey(c CommunityID, p Posting) []byte {
	k := searchPrefix(c, p.Term)
	k = binary.BigEndian.AppendUint64(k, p.Lamport)
	return append(k, p.ID[:8]...)
}

func searchPrefix(c CommunityID, term uint64) []byte {
	k := key(prefixSearch, hashLen+24)
	k = append(k, c[:]...)
	return binary.BigEndian.AppendUint64(k, term)
}

// Index adds and removes postings of community c, in as many transactions as they need (an
// index that misses some after a crash is caught up again by its caller).
func (s *Store) Index(c CommunityID, add, drop []Posting) (err error) {
	if len(add) == 0 && len(drop) == 0 {
		return nil
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inflight.Done()
	if err := s.checkSpace("index messages for search"); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	defer s.guard("index messages for search", &err)
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, p := range add {
		if err := wb.Set(searchKey(c, p), nil); err != nil {
			return s.writeErr("index messages for search", err)
		}
	}
	for _, p := range drop {
		if err := wb.Delete(searchKey(c, p)); err != nil {
			return s.writeErr("index messages for search", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return s.writeErr("index messages for search", err)
	}
	return nil
}

// Postings calls fn with the events that hold term in community c, the highest Lamport time
// first, starting below before (the zero Cursor: from the newest), until fn returns false. It
// gives each event's Lamport time and the first 8 bytes of its ID (see ResolveID).
func (s *Store) Postings(c CommunityID, term uint64, before Cursor, fn func(lamport uint64, id8 [8]byte) bool) (err error) {
	defer s.guard("read the search index", &err)
	prefix := searchPrefix(c, term)
	start := append(bytes.Clone(prefix), 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF)
	if before != (Cursor{}) {
		start = binary.BigEndian.AppendUint64(bytes.Clone(prefix), before.Lamport)
		start = append(start, before.ID[:8]...)
	}
	err = s.view(func(txn *badger.Txn) error {
		opts := keysOnly(prefix)
		opts.Reverse = true
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(start); it.ValidForPrefix(prefix); it.Next() {
			k := it.Item().Key()[len(prefix):]
			if len(k) != 16 {
				continue
			}
			if before != (Cursor{}) && bytes.Equal(k[8:], before.ID[:8]) && binary.BigEndian.Uint64(k) == before.Lamport {
				continue // the cursor itself
			}
			var id8 [8]byte
			copy(id8[:], k[8:])
			if !fn(binary.BigEndian.Uint64(k), id8) {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: read the search index of community %x: %w", c[:8], err)
	}
	return nil
}

// HasPosting reports whether the event at (lamport, id8) holds term.
func (s *Store) HasPosting(c CommunityID, term, lamport uint64, id8 [8]byte) (ok bool, err error) {
	defer s.guard("read the search index", &err)
	k := binary.BigEndian.AppendUint64(searchPrefix(c, term), lamport)
	k = append(k, id8[:]...)
	err = s.view(func(txn *badger.Txn) error {
		_, err := txn.Get(k)
		if err == badger.ErrKeyNotFound {
			return nil
		}
		ok = err == nil
		return err
	})
	return ok, err
}

// ResolveID finds the event of community c whose ID starts with id8 (ok false: none stored).
// Two events sharing 8 bytes of ID are a 1 in 2^64 chance per pair; the first is taken.
func (s *Store) ResolveID(c CommunityID, id8 [8]byte) (id EventID, ok bool, err error) {
	defer s.guard("read the event index", &err)
	prefix := append(key(prefixEventID, hashLen+8), c[:]...)
	prefix = append(prefix, id8[:]...)
	err = s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(keysOnly(prefix))
		defer it.Close()
		it.Seek(prefix)
		if it.ValidForPrefix(prefix) {
			copy(id[:], it.Item().Key()[1+hashLen:])
			ok = true
		}
		return nil
	})
	return id, ok, err
}
