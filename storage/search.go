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

// Intersect calls fn with the events that hold every one of terms in community c, the highest
// Lamport time first, until fn returns false: one iterator a term, each seeking to the next
// candidate (a leapfrog), so the work is bounded by the rarest term's postings.
func (s *Store) Intersect(c CommunityID, terms []uint64, fn func(lamport uint64, id8 [8]byte) bool) (err error) {
	if len(terms) == 0 {
		return nil
	}
	defer s.guard("read the search index", &err)
	err = s.view(func(txn *badger.Txn) error {
		its := make([]*badger.Iterator, len(terms))
		prefixes := make([][]byte, len(terms))
		for i, t := range terms {
			prefixes[i] = searchPrefix(c, t)
			opts := keysOnly(prefixes[i])
			opts.Reverse = true
			its[i] = txn.NewIterator(opts)
			defer its[i].Close()
		}
		// at is the suffix (lamport | id8) iterator i stands on; ok false when it ran out.
		at := func(i int) ([]byte, bool) {
			if !its[i].ValidForPrefix(prefixes[i]) {
				return nil, false
			}
			k := its[i].Item().Key()[len(prefixes[i]):]
			return k, len(k) == 16
		}
		seek := func(i int, suffix []byte) {
			its[i].Seek(append(bytes.Clone(prefixes[i]), suffix...))
		}
		top := bytes.Repeat([]byte{0xFF}, 16)
		for i := range its {
			seek(i, top)
		}
		for {
			// The candidate: the lowest of the iterators' places (each is the highest it holds
			// at or below the others').
			var cand []byte
			for i := range its {
				k, ok := at(i)
				if !ok {
					return nil
				}
				if cand == nil || bytes.Compare(k, cand) < 0 {
					cand = bytes.Clone(k)
				}
			}
			all := true
			for i := range its {
				k, _ := at(i)
				if !bytes.Equal(k, cand) {
					seek(i, cand)
					if k2, ok := at(i); !ok {
						return nil
					} else if !bytes.Equal(k2, cand) {
						all = false
					}
				}
			}
			if !all {
				continue
			}
			var id8 [8]byte
			copy(id8[:], cand[8:])
			if !fn(binary.BigEndian.Uint64(cand), id8) {
				return nil
			}
			for i := range its {
				its[i].Next()
			}
		}
	})
	if err != nil {
		return fmt.Errorf("storage: read the search index of community %x: %w", c[:8], err)
	}
	return nil
}

// ResolveID finds the events of community c whose IDs start with id8 (almost always one: two
// events sharing 8 bytes of ID are a 1 in 2^64 chance per pair, unless an author made them so;
// the caller tells them apart by their Lamport time).
func (s *Store) ResolveID(c CommunityID, id8 [8]byte) (ids []EventID, err error) {
	defer s.guard("read the event index", &err)
	prefix := append(key(prefixEventID, hashLen+8), c[:]...)
	prefix = append(prefix, id8[:]...)
	err = s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(keysOnly(prefix))
		defer it.Close()
		for it.Seek(prefix); it.ValidForPrefix(prefix) && len(ids) < 16; it.Next() {
			var id EventID
			copy(id[:], it.Item().Key()[1+hashLen:])
			ids = append(ids, id)
		}
		return nil
	})
	return ids, err
}
