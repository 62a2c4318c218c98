package app

// The blob protocol (/kith/blob/1): a member asks another for chunks of a file by the file's ID
// and their places in it, and checks each against its hash before storing it; chunks come from
// every member online at once, a batch at a time, and a fetch cut short goes on from what is
// missing.

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/kith-app/kith/app/community"
)

// ProtoBlob is the stream protocol of chunks.
const ProtoBlob = "/kith/blob/1"

// Bounds of the blob protocol.
const (
	blobBatch          = 8                             // chunks a request asks for (2 MiB: well within a request's deadline)
	maxBlobRequest     = 1 + 32 + 32 + 1 + blobBatch*2 // a request's size (a place takes at most 2 bytes)
	blobInFlight       = 2                             // requests in flight a member
	maxBlobTries       = 4                             // failed requests in a row before a member is left out
	blobRequestTimeout = 30 * time.Second              // a request and its whole answer
)

// blobRequestVersion is the request's first byte (1 asked for chunks by their hashes, in builds
// that were never released: their requests are refused with "update Kith").
const blobRequestVersion = 2

// encodeBlobRequest is a request: 2 | community | blob | uvarint n | n × uvarint place.
func encodeBlobRequest(id, blob community.Hash, places []int) []byte {
	b := append([]byte{blobRequestVersion}, id[:]...)
	b = append(b, blob[:]...)
	b = binary.AppendUvarint(b, uint64(len(places)))
	for _, i := range places {
		b = binary.AppendUvarint(b, uint64(i))
	}
	return b
}

// decodeBlobRequest reads a request (bounded).
func decodeBlobRequest(b []byte) (id, blob community.Hash, places []int, err error) {
	bad := errors.New("a damaged chunk request")
	if len(b) < 1+32+32+1 || b[0] != blobRequestVersion {
		return id, blob, nil, bad
	}
	copy(id[:], b[1:33])
	copy(blob[:], b[33:65])
	b = b[65:]
	n, k := readUvarint(b)
	if k <= 0 || n == 0 || n > blobBatch {
		return id, blob, nil, bad
	}
	b = b[k:]
	places = make([]int, n)
	for j := range places {
		v, k := readUvarint(b)
		if k <= 0 || v >= community.MaxBlobChunks {
			return id, blob, nil, bad
		}
		places[j], b = int(v), b[k:]
	}
	if len(b) != 0 {
		return id, blob, nil, bad
	}
	return id, blob, places, nil
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

// An answer is, for each chunk asked and in the order asked, 0 (not here) or 1 | uvarint len |
// bytes, written as each chunk is read from the disk; the stream's end follows the last.

// writeBlobChunk writes one chunk of an answer (nil: not here).
func writeBlobChunk(w io.Writer, c []byte) error {
	if c == nil {
		_, err := w.Write([]byte{0})
		return err
	}
	if _, err := w.Write(binary.AppendUvarint([]byte{1}, uint64(len(c)))); err != nil {
		return err
	}
	_, err := w.Write(c)
	return err
}

// readBlobAnswer reads an answer to a request of n chunks as it arrives, calling each with the
// chunk's place in the request and its bytes (nil: not here), which are good only during the
// call (buf is reused; it grows to a chunk's size). An error from each ends the reading; an
// answer cut short, damaged, or with bytes after the last chunk is an error after the chunks
// before the damage were passed on.
func readBlobAnswer(r *bufio.Reader, n int, buf []byte, each func(i int, c []byte) error) error {
	for i := range n {
		flag, err := r.ReadByte()
		if err != nil {
			return fmt.Errorf("an answer cut short: %w", err)
		}
		switch flag {
		case 0:
			if err := each(i, nil); err != nil {
				return err
			}
			continue
		case 1:
		default:
			return errors.New("a damaged answer")
		}
		l, err := readMinUvarint(r)
		if err != nil || l > community.SealedChunkSize {
			return errors.New("a damaged answer")
		}
		if buf == nil || uint64(cap(buf)) < l { // (c is never nil: nil says "not here")
			buf = make([]byte, l, community.SealedChunkSize)
		}
		c := buf[:l]
		if _, err := io.ReadFull(r, c); err != nil {
			return fmt.Errorf("an answer cut short: %w", err)
		}
		if err := each(i, c); err != nil {
			return err
		}
	}
	if _, err := r.ReadByte(); err != io.EOF {
		if err == nil {
			return errors.New("an answer with bytes left over")
		}
		return fmt.Errorf("an answer cut short: %w", err)
	}
	return nil
}

// readMinUvarint reads a uvarint in its shortest encoding (one value, one encoding).
func readMinUvarint(r io.ByteReader) (uint64, error) {
	var b [binary.MaxVarintLen64]byte
	for k := range b {
		c, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		b[k] = c
		if c < 0x80 {
			if v, n := readUvarint(b[:k+1]); n == k+1 {
				return v, nil
			}
			break
		}
	}
	return 0, errors.New("a damaged length")
}

// chunkBufs holds buffers of a chunk's size, for the chunks served.
var chunkBufs = sync.Pool{New: func() any { b := make([]byte, 0, community.SealedChunkSize); return &b }}

// serveBlob answers a member's request for chunks: only an active member of the community gets
// any (a removed member gets nothing, sent before or after its removal).
func (s *Service) serveBlob(_ context.Context, from ed25519.PublicKey, b []byte) (func(io.Writer) error, error) {
	id, blob, places, err := decodeBlobRequest(b)
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
	return func(w io.Writer) error {
		bp := chunkBufs.Get().(*[]byte)
		defer chunkBufs.Put(bp)
		br, held, err := s.store.ReadBlob(id, blob)
		if err != nil { // this device's trouble: the asker asks another
			s.log.Warn("a file could not be read", "community", id.Short(), "file", blob.Short(), "err", err)
		}
		if held {
			defer br.Close()
		}
		for _, i := range places {
			var c []byte
			if held && err == nil {
				var ok bool
				var cerr error
				if c, ok, cerr = br.Chunk(i, *bp); cerr != nil { // a damaged chunk: the asker asks another
					s.log.Warn("a chunk could not be read", "community", id.Short(), "file", blob.Short(), "chunk", i, "err", cerr)
				}
				if !ok || cerr != nil {
					c = nil
				}
			}
			if err := writeBlobChunk(w, c); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// ErrNobodyHasIt is FetchFile's answer when no member reached holds what is missing.
var ErrNobodyHasIt = errors.New("app: no member reachable holds all of that file")

// FetchFile fetches what this device lacks of a message's file from members (peer IDs), all at
// once, a batch of chunks at a time, each chunk checked against its hash before it is stored.
// What came stays when the fetch is cut short; the next fetch asks only for the rest.
func (s *Service) FetchFile(ctx context.Context, id, message, blob community.Hash, peers []string) error {
	man, _, err := s.manifestOf(id, message, blob)
	if err != nil {
		return err
	}
	count := len(man.Chunks)
	have, err := s.store.HasChunks(id, blob, count)
	if err != nil {
		return err
	}
	var missing []int
	for i := range count {
		if !have[i] {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if st, err := s.state(id); err == nil && int64(man.Size) > st.Settings.FileLimit() {
		return &sentenceError{msg: fmt.Sprintf("this file is %s, over the %s %q takes: its sender's Kith did not check it, and this one does not fetch it",
			SizeWords(int64(man.Size)), SizeWords(st.Settings.FileLimit()), st.Name), kind: ErrBadInput}
	}
	if err := s.checkBudget(id, int64(len(missing))*(community.SealedChunkSize)); err != nil {
		return err
	}
	n := s.network()
	if len(peers) == 0 || n == nil {
		return ErrNobodyHasIt
	}
	// A queue of batches; each member's workers take from it; a chunk a member lacks or served
	// wrong goes back for the others. Every chunk is in at most one batch at a time, so the
	// queue never fills.
	queue := make(chan []int, len(missing)+1)
	for i := 0; i < len(missing); i += blobBatch {
		queue <- missing[i:min(i+blobBatch, len(missing))]
	}
	var mu sync.Mutex
	left := len(missing)
	lacks := map[int]map[string]bool{} // who did not serve a chunk
	failures := map[string]int{}       // requests to a member that failed in a row
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
	// giveBack notes that peer did not serve chunks and queues them for the others (mu held);
	// when every member lacks one, the fetch ends.
	giveBack := func(peer string, chunks []int) {
		var again []int
		for _, i := range chunks {
			if lacks[i] == nil {
				lacks[i] = map[string]bool{}
			}
			lacks[i][peer] = true
			if len(lacks[i]) >= len(peers) {
				if firstErr == nil {
					firstErr = ErrNobodyHasIt
				}
				finish()
				return
			}
			again = append(again, i)
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
				buf := make([]byte, 0, community.SealedChunkSize)
				for {
					var b []int
					select {
					case <-done:
						return
					case <-ctx.Done():
						return
					case b = <-queue:
					}
					// Ask for what this member has not failed to serve; leave it the rest.
					mu.Lock()
					var ask, others []int
					for _, i := range b {
						if lacks[i][peer] {
							others = append(others, i)
						} else {
							ask = append(ask, i)
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
						case <-ctx.Done():
							return
						}
						continue
					}
					// Each chunk is checked and stored as it arrives; what came before a cut stays.
					served := make([]bool, len(ask))
					var bad []int
					var putErr error
					bf, err := s.store.OpenBlob(id, blob, count)
					if err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = fmt.Errorf("app: storing the file: %w", err)
						}
						finish()
						mu.Unlock()
						return
					}
					err = s.askChunks(ctx, n, peer, id, blob, ask, buf, func(k int, c []byte) error {
						i := ask[k]
						served[k] = true
						if c == nil || man.CheckChunk(i, c) != nil {
							bad = append(bad, i) // not there, or garbage: another member's turn
							return nil
						}
						if _, err := bf.Put(i, c); err != nil {
							putErr = err
							return err
						}
						mu.Lock()
						if left--; left == 0 {
							finish()
						}
						mu.Unlock()
						return nil
					})
					if cerr := bf.Close(); cerr != nil && putErr == nil {
						putErr = cerr
					}
					mu.Lock()
					if putErr != nil {
						if firstErr == nil {
							firstErr = fmt.Errorf("app: storing the file: %w", putErr)
						}
						finish()
						mu.Unlock()
						return
					}
					if len(bad) > 0 {
						giveBack(peer, bad)
					}
					if err == nil {
						failures[peer] = 0
						mu.Unlock()
						continue
					}
					s.log.Debug("fetching chunks", "peer", peer, "err", err)
					var rest []int
					for k, i := range ask {
						if !served[k] {
							rest = append(rest, i)
						}
					}
					failures[peer]++
					tries := failures[peer]
					if tries < maxBlobTries && !Refused(err) {
						if len(rest) > 0 {
							queue <- rest // the link, not the member: ask again after a pause
						}
						mu.Unlock()
						select {
						case <-time.After(time.Duration(tries) * 500 * time.Millisecond):
						case <-done:
							return
						case <-ctx.Done():
							return
						}
						continue
					}
					if len(rest) > 0 {
						giveBack(peer, rest) // this member refuses, or keeps failing: the others take it
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
	if e, ok, err := s.store.Event(id, message); err == nil && (!ok || !e.HasBody()) {
		// Deleted while its file came: the deletion dropped what was here then; what came since
		// goes too.
		if r, err := s.room(id); err == nil {
			r.mu.Lock()
			_ = s.dropUnnamed(r, message, []*community.Manifest{man})
			r.mu.Unlock()
		}
		return &sentenceError{msg: "that message was deleted while its file came: nothing of it is kept", kind: ErrBadInput}
	}
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

// askChunks asks peer for chunks and passes each to each as it arrives (see readBlobAnswer).
func (s *Service) askChunks(ctx context.Context, n Network, peer string, id, blob community.Hash, ask []int, buf []byte, each func(int, []byte) error) error {
	ctx, cancel := context.WithTimeout(ctx, blobRequestTimeout)
	defer cancel()
	rc, err := n.RequestStream(ctx, peer, ProtoBlob, encodeBlobRequest(id, blob, ask))
	if err != nil {
		return err
	}
	defer rc.Close()
	return readBlobAnswer(bufio.NewReaderSize(rc, 64<<10), len(ask), buf, each)
}

// manifestOf is a message's (or a profile's) file's manifest, and the event that carries it.
func (s *Service) manifestOf(id, message, blob community.Hash) (*community.Manifest, *community.Event, error) {
	r, err := s.room(id)
	if err != nil {
		return nil, nil, err
	}
	e, ok, err := s.store.Event(id, message)
	if err != nil {
		return nil, nil, err
	}
	if !ok || !(isPost(e.Kind) || e.Kind == community.KindProfile) || !e.HasBody() {
		return nil, nil, &sentenceError{msg: "that message is not on this device, or was deleted", kind: ErrBadInput}
	}
	c, err := r.keys.Open(e)
	if err != nil {
		return nil, nil, fmt.Errorf("app: this device cannot read that message yet: %w", err)
	}
	for _, m := range attachmentsOf(c) {
		if m.ID() == blob {
			return m, e, nil
		}
	}
	return nil, nil, &sentenceError{msg: "that message has no such file", kind: ErrBadInput}
}
