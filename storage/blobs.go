package storage

// Blob chunks: the encrypted pieces of files sent with messages, each under its hash.

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// A Chunk is one encrypted piece of a file, named by the SHA-256 of its bytes (the caller checks
// that it is).
type Chunk struct {
	Hash [32]byte
	Data []byte
}

// chunkKey is the key of a chunk: 0x0C | c | hash.
func chunkKey(c CommunityID, h [32]byte) []byte {
	k := key(prefixChunk, 2*hashLen)
	k = append(k, c[:]...)
	return append(k, h[:]...)
}

// PutChunks stores chunks of community c (in as many transactions as they need).
func (s *Store) PutChunks(c CommunityID, chunks []Chunk) (err error) {
	if len(chunks) == 0 {
		return nil
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inflight.Done()
	if err := s.checkSpace("store a file"); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	defer s.guard("store a file", &err)
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, ch := range chunks {
		if err := wb.Set(chunkKey(c, ch.Hash), ch.Data); err != nil {
			return s.writeErr("store a file", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return s.writeErr("store a file", err)
	}
	return nil
}

// Chunk returns a stored chunk, or an error wrapping ErrNotFound.
func (s *Store) Chunk(c CommunityID, h [32]byte) (data []byte, err error) {
	defer s.guard("read a file", &err)
	err = s.view(func(txn *badger.Txn) error {
		var err error
		data, err = getValue(txn, chunkKey(c, h))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("storage: read a chunk of community %x: %w", c[:8], err)
	}
	return data, nil
}

// HasChunks reports, for each hash, whether its chunk is stored.
func (s *Store) HasChunks(c CommunityID, hs [][32]byte) (have []bool, err error) {
	defer s.guard("read a file", &err)
	have = make([]bool, len(hs))
	err = s.view(func(txn *badger.Txn) error {
		for i, h := range hs {
			_, err := txn.Get(chunkKey(c, h))
			if err == badger.ErrKeyNotFound {
				continue
			}
			if err != nil {
				return err
			}
			have[i] = true
		}
		return nil
	})
	return have, err
}

// DropChunks deletes chunks of community c (a deleted message's files).
func (s *Store) DropChunks(c CommunityID, hs [][32]byte) (err error) {
	if len(hs) == 0 {
		return nil
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inflight.Done()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	defer s.guard("delete a file", &err)
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, h := range hs {
		if err := wb.Delete(chunkKey(c, h)); err != nil {
			return s.writeErr("delete a file", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return s.writeErr("delete a file", err)
	}
	return nil
}
