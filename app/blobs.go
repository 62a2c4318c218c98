package app

// The blob protocol (/kith/blob/1): a member asks another for chunks of files by their hashes,
// and checks each against its hash before storing it; chunks come from every member online at
// once, a batch at a time, and a fetch cut short goes on from what is missing.

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kith-app/kith/app/community"
)

// ProtoBlob is the stream protocol of chunks.
const ProtoBlob = "/kith/blob/1"

// Bounds of the blob protocol.
const (
	blobBatch      = 8                                               // chunks a request asks for (2 MiB: well within a request's deadline)
	maxBlobRequest = 1 + 32 + 2 + blobBatch*32                       // its size
	maxBlobAnswer  = blobBatch*(1+4+community.BlobChunkSize+16) + 64 // an answer's size
	blobInFlight   = 2                                               // requests in flight a member
	maxBlobTries   = 4                                               // failed requests in a row before a member is left out
)

// encodeBlobRequest is a request: 1 | community | uvarint n | n × hash.
func encodeBlobRequest(id community.Hash, hs []community.Hash) []byte {
	b := append([]byte{1}, id[:]...)
	b = binary.AppendUvarint(b, uint64(len(hs)))
	for _, h := range hs {
		b = append(b, h[:]...)
	}
	return b
}

// decodeBlobRequest reads a request (bounded).
func decodeBlobRequest(b []byte) (community.Hash, []community.Hash, error) {
	var id community.Hash
	if len(b) < 1+32+1 || b[0] != 1 {
		return id, nil, errors.New("a damaged chunk request")
	}
	copy(id[:], b[1:33])
	n, k := readUvarint(b[33:])
	if k <= 0 || n == 0 || n > blobBatch || uint64(len(b)-33-k) != n*32 {
		return id, nil, errors.New("a damaged chunk request")
	}
	hs := make([]community.Hash, n)
	for i := range hs {
		copy(hs[i][:], b[33+k+32*i:])
	}
	return id, hs, nil
}

// readUvarint is binary.Uvarint refusing a longer encoding than needed (one value, one
// encoding, as the decoders' round trips require).
func readUvarint(b []byte) (uint64, int) {
	v, k := binary.Uvarint(b)
	if k <= 0 || k != len(binary.AppendUvarint(nil, v)) {
		return 0, -1
	}
	return v, k
}

// encodeBlobAnswer is an answer: for each chunk asked, 0 (not here) or 1 | uvarint len | bytes.
func encodeBlobAnswer(chunks [][]byte) []byte {
	var b []byte
	for _, c := range chunks {
		if c == nil {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		b = binary.AppendUvarint(b, uint64(len(c)))
		b = append(b, c...)
	}
	return b
}

// decodeBlobAnswer reads an answer to a request of n chunks (nil for one not there).
func decodeBlobAnswer(b []byte, n int) ([][]byte, error) {
	out := make([][]byte, n)
	for i := range n {
		if len(b) == 0 {
			return nil, errors.New("an answer cut short")
		}
		flag := b[0]
		b = b[1:]
		switch flag {
		case 0:
			continue
		case 1:
		default:
			return nil, errors.New("a damaged answer")
		}
		l, k := readUvarint(b)
		if k <= 0 || l > community.BlobChunkSize+16 || uint64(len(b)-k) < l {
			return nil, errors.New("a damaged answer")
		}
		out[i] = b[k : k+int(l)]
		b = b[k+int(l):]
	}
	if len(b) != 0 {
		return nil, errors.New("an answer with bytes left over")
	}
	return out, nil
}

// serveBlob answers a member's request for chunks: only an active member of the community gets
// any (a removed member gets nothing, sent before or after its removal).
func (s *Service) serveBlob(_ context.Context, from ed25519.PublicKey, b []byte) ([]byte, error) {
	id, hs, err := decodeBlobRequest(b)
	if err != nil {
		return nil, Refuse("%v: update Kith", err)
	}
	r, err := s.room(id)
	if err != nil {
		return nil, unavailable{errors.New("this member does not hold that community")}
	}
	r.mu.Lock()
	role := r.folder.State().RoleOf(from)
	r.mu.Unlock()
	if role == community.RoleNone {
		return nil, Refuse("only members get the community's files")
	}
	chunks := make([][]byte, len(hs))
	for i, h := range hs {
		c, ok, err := s.store.Chunk(id, h)
		if err != nil {
			return nil, err
		}
		if ok {
			chunks[i] = c
		}
	}
	return encodeBlobAnswer(chunks), nil
}

// ErrNobodyHasIt is FetchFile's answer when no member reached holds what is missing.
var ErrNobodyHasIt = errors.New("app: no member reachable holds all of that file")

// FetchFile fetches what this device lacks of a message's file from members (peer IDs), all at
// once, a batch of chunks at a time, each chunk checked against its hash before it is stored.
// What came stays when the fetch is cut short; the next fetch asks only for the rest.
func (s *Service) FetchFile(ctx context.Context, id, message, blob community.Hash, peers []string) error {
	man, err := s.manifestOf(id, message, blob)
	if err != nil {
		return err
	}
	have, err := s.store.HasChunks(id, man.Chunks)
	if err != nil {
		return err
	}
	index := map[community.Hash]int{}
	var missing []community.Hash
	for i, h := range man.Chunks {
		index[h] = i
		if !have[i] {
			missing = append(missing, h)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	n := s.network()
	if len(peers) == 0 || n == nil {
		return ErrNobodyHasIt
	}
	// A queue of batches; each member's workers take from it; a chunk a member lacks or served
	// wrong goes back for the others. Every chunk is in at most one batch at a time, so the
	// queue never fills.
	queue := make(chan []community.Hash, len(missing)+1)
	for i := 0; i < len(missing); i += blobBatch {
		queue <- missing[i:min(i+blobBatch, len(missing))]
	}
	var mu sync.Mutex
	left := len(missing)
	lacks := map[community.Hash]map[string]bool{} // who did not serve a chunk
	failures := map[string]int{}                  // requests to a member that failed in a row
	done := make(chan struct{})
	var firstErr error
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	finish := func() { // mu held
		select {
		case <-done:
		default:
			close(done)
		}
	}
	// giveBack notes that peer did not serve hs and queues them for the others (mu held); when
	// every member lacks one, the fetch ends.
	giveBack := func(peer string, hs []community.Hash) {
		var again []community.Hash
		for _, h := range hs {
			if lacks[h] == nil {
				lacks[h] = map[string]bool{}
			}
			lacks[h][peer] = true
			if len(lacks[h]) >= len(peers) {
				if firstErr == nil {
					firstErr = ErrNobodyHasIt
				}
				finish()
				return
			}
			again = append(again, h)
		}
		if len(again) > 0 {
			queue <- again
		}
	}
	var wg sync.WaitGroup
	for _, peer := range peers {
		for range blobInFlight {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					var b []community.Hash
					select {
					case <-done:
						return
					case <-ctx.Done():
						return
					case b = <-queue:
					}
					// Ask for what this member has not failed to serve; leave it the rest.
					mu.Lock()
					var ask, others []community.Hash
					for _, h := range b {
						if lacks[h][peer] {
							others = append(others, h)
						} else {
							ask = append(ask, h)
						}
					}
					if len(others) > 0 {
						queue <- others
					}
					mu.Unlock()
					if len(ask) == 0 {
						select { // another member's turn
						case <-time.After(20 * time.Millisecond):
						case <-done:
							return
						}
						continue
					}
					ans, err := n.Request(ctx, peer, ProtoBlob, encodeBlobRequest(id, ask), maxBlobAnswer)
					var chunks [][]byte
					if err == nil {
						chunks, err = decodeBlobAnswer(ans, len(ask))
					}
					if err != nil {
						s.log.Debug("fetching chunks", "peer", peer, "err", err)
						mu.Lock()
						failures[peer]++
						tries := failures[peer]
						if tries < maxBlobTries && !Refused(err) {
							queue <- ask // the link, not the member: ask again after a pause
							mu.Unlock()
							select {
							case <-time.After(time.Duration(tries) * 500 * time.Millisecond):
							case <-done:
								return
							}
							continue
						}
						giveBack(peer, ask) // this member refuses, or keeps failing: the others take it
						mu.Unlock()
						continue
					}
					mu.Lock()
					failures[peer] = 0
					mu.Unlock()
					var good []Chunk
					var bad []community.Hash
					for i, h := range ask {
						if chunks[i] == nil || man.CheckChunk(index[h], chunks[i]) != nil {
							bad = append(bad, h) // not there, or garbage: another member's turn
							continue
						}
						good = append(good, Chunk{Hash: h, Data: chunks[i]})
					}
					var putErr error
					if len(good) > 0 {
						putErr = s.store.PutChunks(id, good)
					}
					mu.Lock()
					switch {
					case putErr != nil:
						if firstErr == nil {
							firstErr = fmt.Errorf("app: storing the file: %w", putErr)
						}
						finish()
					default:
						left -= len(good)
						if left == 0 {
							finish()
						}
						if len(bad) > 0 {
							giveBack(peer, bad)
						}
					}
					mu.Unlock()
				}
			}()
		}
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	switch {
	case left == 0:
		if v, ok, err := s.Message(id, message); err == nil && ok { // views: it is here now
			s.Emit(MessageUpdated{Community: id, Message: v})
		}
		return nil
	case parent.Err() != nil:
		return parent.Err()
	case firstErr != nil:
		return firstErr
	}
	return ErrNobodyHasIt
}

// manifestOf is a message's file's manifest.
func (s *Service) manifestOf(id, message, blob community.Hash) (*community.Manifest, error) {
	r, err := s.room(id)
	if err != nil {
		return nil, err
	}
	e, ok, err := s.store.Event(id, message)
	if err != nil {
		return nil, err
	}
	if !ok || !isPost(e.Kind) || !e.HasBody() {
		return nil, &sentenceError{msg: "that message is not on this device, or was deleted", kind: ErrBadInput}
	}
	c, err := r.keys.Open(e)
	if err != nil {
		return nil, fmt.Errorf("app: this device cannot read that message yet: %w", err)
	}
	for _, m := range attachmentsOf(c) {
		if m.ID() == blob {
			return m, nil
		}
	}
	return nil, &sentenceError{msg: "that message has no such file", kind: ErrBadInput}
}
