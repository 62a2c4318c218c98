// Package localstore adapts the Badger store (package storage) to the app.Store port, so that
// app and app/ui never import storage. Only cmd/* and tests import it.
package localstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/storage"
)

// Store is a *storage.Store seen as an app.Store.
type Store struct{ S *storage.Store }

var _ app.Store = Store{}

// AppendOwn stores events this install authored, durably.
func (s Store) AppendOwn(ctx context.Context, records ...app.Record) error {
	evs := make([]storage.Event, len(records))
	for i, r := range records {
		evs[i] = Event(r)
	}
	return s.S.AppendOwn(ctx, evs...)
}

// Communities lists the communities with anything stored.
func (s Store) Communities() ([]community.Hash, error) {
	ids, err := s.S.Communities()
	if err != nil {
		return nil, err
	}
	out := make([]community.Hash, len(ids))
	for i, id := range ids {
		out[i] = community.Hash(id)
	}
	return out, nil
}

// AuthorityEvents decodes and verifies a community's stored authority events, in order.
func (s Store) AuthorityEvents(c community.Hash, fn func(*community.Event) error) error {
	return s.S.AuthorityEvents(storage.CommunityID(c), func(r storage.Event) error {
		e, err := decode(r)
		if err != nil {
			return err
		}
		return fn(e)
	})
}

// Event is the store's record of an event.
func Event(r app.Record) storage.Event {
	e := r.Event
	return storage.Event{
		Community: storage.CommunityID(e.CommunityID()),
		ID:        storage.EventID(e.ID),
		Author:    storage.AuthorKey(e.Author),
		Seq:       e.Seq,
		Lamport:   e.Lamport,
		Channel:   storage.ChannelID(r.Channel),
		Authority: e.Kind.Authority(),
		Envelope:  e.Encode(),
	}
}

// Heads returns the latest stored event of each author, decoded.
func (s Store) Heads(c community.Hash) ([]*community.Event, error) {
	heads, err := s.S.Heads(storage.CommunityID(c))
	if err != nil {
		return nil, err
	}
	out := make([]*community.Event, 0, len(heads))
	for _, h := range heads {
		r, err := s.S.EventBySeq(storage.CommunityID(c), h.Author, h.Seq)
		if err != nil {
			return nil, err
		}
		e, err := decode(r)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Page returns a channel's events before `before`, newest first, decoded.
func (s Store) Page(c, channel community.Hash, before community.Position, limit int) ([]*community.Event, error) {
	rs, err := s.S.Page(storage.CommunityID(c), storage.ChannelID(channel),
		storage.Cursor{Lamport: before.Lamport, ID: storage.EventID(before.ID)}, limit)
	if err != nil {
		return nil, err
	}
	out := make([]*community.Event, 0, len(rs))
	for _, r := range rs {
		e, err := decode(r)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// decode decodes a stored envelope. Events were verified before they were stored; the store
// checks the body hash and the header rules again, not the signature (the costly step).
func decode(r storage.Event) (*community.Event, error) {
	e, err := community.DecodeStored(r.Envelope)
	if err == nil && e.ID != community.Hash(r.ID) {
		err = fmt.Errorf("its bytes hash to %s", e.ID.Short())
	}
	if err != nil {
		return nil, fmt.Errorf("stored event %x does not decode (the store may be damaged: restore the data folder from a backup): %w", r.ID[:4], err)
	}
	return e, nil
}

// Append stores events received from others.
func (s Store) Append(records ...app.Record) (int, error) {
	evs := make([]storage.Event, len(records))
	for i, r := range records {
		evs[i] = Event(r)
	}
	n, err := s.S.Append(evs...)
	if errors.Is(err, storage.ErrSeqTaken) {
		err = fmt.Errorf("%w: %w", app.ErrEquivocation, err)
	}
	return n, err
}

// Lookup returns the causal facts of a stored event.
func (s Store) Lookup(c, id community.Hash) (community.Known, bool, error) {
	a, seq, lamport, err := s.S.Locate(storage.CommunityID(c), storage.EventID(id))
	if errors.Is(err, storage.ErrNotFound) {
		return community.Known{}, false, nil
	}
	if err != nil {
		return community.Known{}, false, err
	}
	return community.Known{Author: a[:], Seq: seq, Lamport: lamport}, true, nil
}

// Event returns a stored event, decoded.
func (s Store) Event(c, id community.Hash) (*community.Event, bool, error) {
	r, err := s.S.EventByID(storage.CommunityID(c), storage.EventID(id))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	e, err := decode(r)
	return e, err == nil, err
}

// DropBody replaces a stored event's envelope with its header alone.
func (s Store) DropBody(c, id community.Hash) error {
	e, ok, err := s.Event(c, id)
	if err != nil || !ok || !e.HasBody() || e.BodyLen == 0 {
		return err
	}
	return s.S.ReplaceEnvelope(storage.CommunityID(c), storage.EventID(id), e.EncodeWithoutBody())
}

// Since calls fn with events stored after mark, in the order they were stored; it returns the
// mark of the last event fn took (an error from fn stops the walk before that event).
func (s Store) Since(c community.Hash, mark uint64, limit int, fn func(*community.Event) error) (uint64, error) {
	last := mark
	err := s.S.Since(storage.CommunityID(c), mark, limit, func(local uint64, r storage.Event) error {
		e, err := decode(r)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
		last = local
		return nil
	})
	return last, err
}

// SetChannel moves a stored event into a channel's page.
func (s Store) SetChannel(c, id, channel community.Hash) error {
	return s.S.SetChannel(storage.CommunityID(c), storage.EventID(id), storage.ChannelID(channel))
}

// LocalMark returns the mark of the latest event stored in a community.
func (s Store) LocalMark(c community.Hash) (uint64, error) {
	return s.S.LocalMark(storage.CommunityID(c))
}

func syncMarkName(c community.Hash, peer string) string { return "sync/" + c.String() + "/" + peer }

// SyncMark returns how far a community was synced from a peer (0: never).
func (s Store) SyncMark(c community.Hash, peer string) (uint64, error) {
	v, err := s.S.Setting(syncMarkName(c, peer))
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	m, n := binary.Uvarint(v)
	if n <= 0 {
		return 0, nil // damaged: sync from the start again
	}
	return m, nil
}

// SetSyncMark records how far a community was synced from a peer.
func (s Store) SetSyncMark(c community.Hash, peer string, mark uint64) error {
	return s.S.SetSetting(syncMarkName(c, peer), binary.AppendUvarint(nil, mark))
}

// issuedMu serializes the read-modify-write of AddIssued (one store per process).
var issuedMu sync.Mutex

func issuedName(c community.Hash) string { return "invites/" + c.String() }

// AddIssued records an invite this install issued (its text, secret included: the issuer can
// copy it again).
func (s Store) AddIssued(c community.Hash, text string) error {
	issuedMu.Lock()
	defer issuedMu.Unlock()
	texts, err := s.Issued(c)
	if err != nil {
		return err
	}
	b, err := json.Marshal(append(texts, text))
	if err != nil {
		return err
	}
	return s.S.SetSetting(issuedName(c), b)
}

// Issued returns the invites issued to a community, oldest first.
func (s Store) Issued(c community.Hash) ([]string, error) {
	v, err := s.S.Setting(issuedName(c))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var texts []string
	if err := json.Unmarshal(v, &texts); err != nil {
		return nil, fmt.Errorf("localstore: the list of issued invites is damaged: %w", err)
	}
	return texts, nil
}

func prefName(c community.Hash, name string) string { return "prefs/" + c.String() + "/" + name }

// Pref returns one of this install's preferences for a community ("" when unset).
func (s Store) Pref(c community.Hash, name string) (string, error) {
	v, err := s.S.Setting(prefName(c, name))
	if errors.Is(err, storage.ErrNotFound) {
		return "", nil
	}
	return string(v), err
}

// SetPref sets one of this install's preferences for a community.
func (s Store) SetPref(c community.Hash, name, value string) error {
	return s.S.SetSetting(prefName(c, name), []byte(value))
}

// Forget deletes everything stored of a community, its sync marks, issued invites and
// preferences included.
func (s Store) Forget(c community.Hash) error {
	return s.S.Forget(storage.CommunityID(c), "sync/"+c.String()+"/", issuedName(c), "prefs/"+c.String()+"/")
}

// Index adds and drops search postings.
func (s Store) Index(c community.Hash, add, drop []app.Posting) error {
	conv := func(ps []app.Posting) []storage.Posting {
		out := make([]storage.Posting, len(ps))
		for i, p := range ps {
			out[i] = storage.Posting{Term: p.Term, Lamport: p.At.Lamport, ID: storage.EventID(p.At.ID)}
		}
		return out
	}
	return s.S.Index(storage.CommunityID(c), conv(add), conv(drop))
}

// Intersect reads the events holding every term, the newest first.
func (s Store) Intersect(c community.Hash, terms []uint64, fn func(lamport uint64, id8 [8]byte) bool) error {
	return s.S.Intersect(storage.CommunityID(c), terms, fn)
}

// ResolveID finds events by their ID's first 8 bytes.
func (s Store) ResolveID(c community.Hash, id8 [8]byte) ([]community.Hash, error) {
	ids, err := s.S.ResolveID(storage.CommunityID(c), id8)
	out := make([]community.Hash, len(ids))
	for i, id := range ids {
		out[i] = community.Hash(id)
	}
	return out, err
}

// storage keeps a file's chunks at fixed places: its chunk is the blob protocol's sealed chunk,
// and it holds as many as the largest file has.
var (
	_ [storage.ChunkSize - community.SealedChunkSize]struct{}
	_ [community.SealedChunkSize - storage.ChunkSize]struct{}
	_ [storage.MaxBlobChunks - community.MaxBlobChunks]struct{}
)

// CreateBlob starts a file of one's own.
func (s Store) CreateBlob(c community.Hash, count int) (app.BlobWriter, error) {
	w, err := s.S.CreateBlob(storage.CommunityID(c), count)
	if err != nil {
		return nil, err
	}
	return blobWriter{w}, nil
}

type blobWriter struct{ w *storage.BlobWriter }

func (b blobWriter) Put(i int, data []byte) error     { return b.w.Put(i, data) }
func (b blobWriter) Commit(blob community.Hash) error { return b.w.Commit(storage.BlobID(blob)) }
func (b blobWriter) Abort()                           { b.w.Abort() }

// OpenBlob opens a file to store chunks fetched from others.
func (s Store) OpenBlob(c, blob community.Hash, count int) (app.BlobFile, error) {
	f, err := s.S.OpenBlob(storage.CommunityID(c), storage.BlobID(blob), count)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// ReadBlob opens a file to read its chunks.
func (s Store) ReadBlob(c, blob community.Hash) (app.BlobReader, bool, error) {
	r, err := s.S.ReadBlob(storage.CommunityID(c), storage.BlobID(blob))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return blobReader{r}, true, nil
}

type blobReader struct{ r *storage.BlobReader }

func (b blobReader) Chunk(i int, buf []byte) ([]byte, bool, error) { return chunkOf(b.r.Chunk(i, buf)) }
func (b blobReader) Close() error                                  { return b.r.Close() }

// chunkOf is a chunk read, as app reads it.
func chunkOf(data []byte, err error) ([]byte, bool, error) {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, false, nil
	case errors.Is(err, storage.ErrDamaged):
		return nil, true, fmt.Errorf("%w: %w", app.ErrChunkDamaged, err)
	}
	return data, err == nil, err
}

// Chunk returns a stored chunk, read into buf when it has room (for tests).
func (s Store) Chunk(c, blob community.Hash, i int, buf []byte) ([]byte, bool, error) {
	return chunkOf(s.S.Chunk(storage.CommunityID(c), storage.BlobID(blob), i, buf))
}

// FilesUnchecked reports that the last run did not close.
func (s Store) FilesUnchecked() bool { return s.S.FilesUnchecked() }

// FilesChecked says every file was checked since.
func (s Store) FilesChecked() { s.S.FilesChecked() }

// HasChunks reports which chunks of a file are stored.
func (s Store) HasChunks(c, blob community.Hash, count int) ([]bool, error) {
	return s.S.HasChunks(storage.CommunityID(c), storage.BlobID(blob), count)
}

// DropChunks deletes chunks of a file, or the whole file.
func (s Store) DropChunks(c, blob community.Hash, chunks []int) (int64, error) {
	return s.S.DropChunks(storage.CommunityID(c), storage.BlobID(blob), chunks)
}

// ChunkBytes is how many bytes a community's chunks take.
func (s Store) ChunkBytes(c community.Hash) (int64, error) {
	return s.S.ChunkBytes(storage.CommunityID(c))
}
