package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/dgraph-io/badger/v4"
)

// keysOnly returns iterator options that read keys and small index values
// without prefetching values in the background.
func keysOnly(prefix []byte) badger.IteratorOptions {
	return badger.IteratorOptions{PrefetchValues: false, Prefix: prefix}
}

// getEvent reads the event record of (c, a, seq).
func getEvent(txn *badger.Txn, c CommunityID, a AuthorKey, seq uint64) (Event, error) {
	item, err := txn.Get(eventKey(c, a, seq))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return Event{}, ErrNotFound
	}
	if err != nil {
		return Event{}, err
	}
	var e Event
	err = item.Value(func(v []byte) error { // decodeEvent copies what it keeps
		e, err = decodeEvent(c, a, seq, v)
		return err
	})
	return e, err
}

// getByPtr reads the event an index entry points at.
func getByPtr(txn *badger.Txn, c CommunityID, item *badger.Item) (Event, error) {
	var a AuthorKey
	var seq uint64
	err := item.Value(func(v []byte) error {
		var err error
		a, seq, err = decodePtr(v)
		return err
	})
	if err != nil {
		return Event{}, err
	}
	e, err := getEvent(txn, c, a, seq)
	if errors.Is(err, ErrNotFound) {
		return Event{}, errDamaged("index", fmt.Sprintf("entry points at seq %d of author %x, which is not stored", seq, a[:8]))
	}
	return e, err
}

// EventBySeq returns the event of author a with sequence number seq in
// community c, or an error wrapping ErrNotFound.
func (s *Store) EventBySeq(c CommunityID, a AuthorKey, seq uint64) (Event, error) {
	var e Event
	err := s.view(func(txn *badger.Txn) error {
		var err error
		e, err = getEvent(txn, c, a, seq)
		return err
	})
	if err != nil {
		return Event{}, fmt.Errorf("storage: read seq %d of author %x in community %x: %w", seq, a[:8], c[:8], err)
	}
	return e, nil
}

// EventByID returns event id of community c, or an error wrapping ErrNotFound.
func (s *Store) EventByID(c CommunityID, id EventID) (Event, error) {
	var e Event
	err := s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(eventIDKey(c, id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		e, err = getByPtr(txn, c, item)
		return err
	})
	if err != nil {
		return Event{}, fmt.Errorf("storage: read event %x in community %x: %w", id, c[:8], err)
	}
	return e, nil
}

// Locate returns the author, sequence number and Lamport time of event id of community c, or an
// error wrapping ErrNotFound. It reads neither the envelope nor a copy of it: causal checks call it
// for what every received event cites.
func (s *Store) Locate(c CommunityID, id EventID) (a AuthorKey, seq, lamport uint64, err error) {
	err = s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(eventIDKey(c, id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := item.Value(func(v []byte) error {
			a, seq, err = decodePtr(v)
			return err
		}); err != nil {
			return err
		}
		item, err = txn.Get(eventKey(c, a, seq))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return errDamaged("index", fmt.Sprintf("entry points at seq %d of author %x, which is not stored", seq, a[:8]))
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			lamport, err = eventRecordLamport(v)
			return err
		})
	})
	if err != nil {
		return AuthorKey{}, 0, 0, fmt.Errorf("storage: locate event %x in community %x: %w", id, c[:8], err)
	}
	return a, seq, lamport, nil
}

// Has reports whether event id of community c is stored.
func (s *Store) Has(c CommunityID, id EventID) (bool, error) {
	found := false
	err := s.view(func(txn *badger.Txn) error {
		_, err := txn.Get(eventIDKey(c, id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("storage: look up event %x in community %x: %w", id, c[:8], err)
	}
	return found, nil
}

// Heads returns the highest stored sequence number of each author of
// community c, sorted by author.
func (s *Store) Heads(c CommunityID) ([]Head, error) {
	var heads []Head
	err := s.view(func(txn *badger.Txn) error {
		prefix := headPrefix(c)
		it := txn.NewIterator(keysOnly(prefix))
		defer it.Close()
		for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
			item := it.Item()
			var a AuthorKey
			copy(a[:], item.Key()[len(prefix):])
			err := item.Value(func(v []byte) error {
				h, err := decodeHead(a, v)
				heads = append(heads, h)
				return err
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: read heads of community %x: %w", c[:8], err)
	}
	return heads, nil
}

// AuthorRange calls fn with the events of author a in community c whose
// sequence numbers are from..to (inclusive), in ascending order, skipping
// missing ones. An error from fn stops the walk and is returned as is.
func (s *Store) AuthorRange(c CommunityID, a AuthorKey, from, to uint64, fn func(Event) error) error {
	if from == 0 {
		from = 1
	}
	if to < from {
		return nil
	}
	var fnErr error
	err := s.view(func(txn *badger.Txn) error {
		prefix := authorEventsPrefix(c, a)
		it := txn.NewIterator(keysOnly(prefix))
		defer it.Close()
		for it.Seek(eventKey(c, a, from)); it.ValidForPrefix(prefix); it.Next() {
			item := it.Item()
			seq := binary.BigEndian.Uint64(item.Key()[len(prefix):])
			if seq > to {
				return nil
			}
			var e Event
			err := item.Value(func(v []byte) error {
				var err error
				e, err = decodeEvent(c, a, seq, v)
				return err
			})
			if err != nil {
				return err
			}
			if fnErr = call(fn, e); fnErr != nil {
				return fnErr
			}
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("storage: read events %d..%d of author %x in community %x: %w", from, to, a[:8], c[:8], err)
	}
	return nil
}

// Page returns up to limit events of channel ch, newest first, strictly
// before `before` in (Lamport, ID) order; the zero Cursor starts from the
// newest. It does not scan: it seeks into the channel's page index and
// iterates backwards, reading limit index entries and their events.
func (s *Store) Page(c CommunityID, ch ChannelID, before Cursor, limit int) ([]Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []Event
	err := s.view(func(txn *badger.Txn) error {
		prefix := pagePrefix(c, ch)
		seek := pageEnd(c, ch)
		fromNewest := before == Cursor{}
		if !fromNewest {
			seek = pageKey(c, ch, before.Lamport, before.ID)
		}
		opts := keysOnly(prefix)
		opts.Reverse = true
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(seek); it.ValidForPrefix(prefix) && len(out) < limit; it.Next() {
			item := it.Item()
			if !fromNewest && bytes.Equal(item.Key(), seek) {
				continue // strictly before the cursor
			}
			e, err := getByPtr(txn, c, item)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: read a page of channel %x in community %x: %w", ch[:8], c[:8], err)
	}
	return out, nil
}

// ChannelCount returns how many events channel ch of community c holds. It
// walks the channel's page index (keys only).
func (s *Store) ChannelCount(c CommunityID, ch ChannelID) (int, error) {
	n := 0
	err := s.view(func(txn *badger.Txn) error {
		prefix := pagePrefix(c, ch)
		it := txn.NewIterator(keysOnly(prefix))
		defer it.Close()
		for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("storage: count events of channel %x in community %x: %w", ch[:8], c[:8], err)
	}
	return n, nil
}

// AuthorityEvents calls fn with the authority events (the membership log) of
// community c in (Lamport, ID) ascending order. An error from fn stops the
// walk and is returned as is.
func (s *Store) AuthorityEvents(c CommunityID, fn func(Event) error) error {
	var fnErr error
	err := s.view(func(txn *badger.Txn) error {
		prefix := authorityPrefix(c)
		it := txn.NewIterator(keysOnly(prefix))
		defer it.Close()
		for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
			e, err := getByPtr(txn, c, it.Item())
			if err != nil {
				return err
			}
			if fnErr = call(fn, e); fnErr != nil {
				return fnErr
			}
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("storage: read authority events of community %x: %w", c[:8], err)
	}
	return nil
}

// LocalMark returns the highest local number given so far in community c
// (0 when none). Every newly stored event gets the next number: 1, 2, ...
func (s *Store) LocalMark(c CommunityID) (uint64, error) {
	var n uint64
	err := s.view(func(txn *badger.Txn) error {
		v, err := getValue(txn, communityKey(c))
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		n, err = decodeCommunity(v)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("storage: read local mark of community %x: %w", c[:8], err)
	}
	return n, nil
}

// Since calls fn with the events of community c whose local numbers are
// greater than mark, in ascending order, at most limit of them (limit <= 0:
// all). An error from fn stops the walk and is returned as is.
func (s *Store) Since(c CommunityID, mark uint64, limit int, fn func(local uint64, e Event) error) error {
	if mark == math.MaxUint64 {
		return nil
	}
	var fnErr error
	err := s.view(func(txn *badger.Txn) error {
		prefix := localPrefix(c)
		it := txn.NewIterator(keysOnly(prefix))
		defer it.Close()
		n := 0
		for it.Seek(localKey(c, mark+1)); it.ValidForPrefix(prefix); it.Next() {
			if limit > 0 && n >= limit {
				return nil
			}
			item := it.Item()
			local := binary.BigEndian.Uint64(item.Key()[len(prefix):])
			e, err := getByPtr(txn, c, item)
			if err != nil {
				return err
			}
			if fnErr = call2(fn, local, e); fnErr != nil {
				return fnErr
			}
			n++
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("storage: read events after local mark %d of community %x: %w", mark, c[:8], err)
	}
	return nil
}

// State returns the folded state of community c, or an error wrapping
// ErrNotFound when none is stored.
func (s *Store) State(c CommunityID) ([]byte, error) {
	var state []byte
	err := s.view(func(txn *badger.Txn) error {
		var err error
		state, err = getValue(txn, stateKey(c))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("storage: read state of community %x: %w", c[:8], err)
	}
	return state, nil
}

// Communities returns the communities with any stored event or state, sorted.
func (s *Store) Communities() ([]CommunityID, error) {
	var out []CommunityID
	err := s.view(func(txn *badger.Txn) error {
		prefix := []byte{prefixCommunity}
		it := txn.NewIterator(keysOnly(prefix))
		defer it.Close()
		for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
			var c CommunityID
			copy(c[:], it.Item().Key()[1:])
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: list communities: %w", err)
	}
	return out, nil
}

// PutPeer adds or replaces the address-book entry of p.ID.
func (s *Store) PutPeer(p Peer) error {
	if p.ID == "" {
		return errors.New("storage: save peer: the peer has no ID")
	}
	return s.update("save peer "+p.ID, func(txn *badger.Txn) error {
		return txn.Set(peerKey(p.ID), encodePeer(&p))
	})
}

// Peers returns the address book, sorted by peer ID (the key order).
func (s *Store) Peers() ([]Peer, error) {
	var out []Peer
	err := s.view(func(txn *badger.Txn) error {
		prefix := []byte{prefixPeer}
		it := txn.NewIterator(keysOnly(prefix))
		defer it.Close()
		for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
			err := it.Item().Value(func(v []byte) error {
				p, err := decodePeer(v)
				out = append(out, p)
				return err
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: read the address book: %w", err)
	}
	return out, nil
}

// DeletePeer removes the address-book entry of peer id; removing an absent
// entry is not an error.
func (s *Store) DeletePeer(id string) error {
	return s.update("delete peer "+id, func(txn *badger.Txn) error {
		return txn.Delete(peerKey(id))
	})
}

// SetSetting stores value (opaque bytes) under name.
func (s *Store) SetSetting(name string, value []byte) error {
	if name == "" {
		return errors.New("storage: save setting: the setting has no name")
	}
	return s.update("save setting "+name, func(txn *badger.Txn) error {
		return txn.Set(settingKey(name), value)
	})
}

// Setting returns the value stored under name, or an error wrapping
// ErrNotFound when it is unset.
func (s *Store) Setting(name string) ([]byte, error) {
	var v []byte
	err := s.view(func(txn *badger.Txn) error {
		var err error
		v, err = getValue(txn, settingKey(name))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("storage: read setting %q: %w", name, err)
	}
	return v, nil
}

// Sync makes every write so far durable (Badger runs without a sync per write): for a caller
// that deletes what it just copied into the store, such as a file beside it.
func (s *Store) Sync() error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inflight.Done()
	if err := s.db.Sync(); err != nil {
		return s.writeErr("sync", err)
	}
	return nil
}
