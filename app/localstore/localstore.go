// Package localstore adapts the Badger store (package storage) to the app.Store port, so that
// app and app/ui never import storage. Only cmd/* and tests import it.
package localstore

import (
	"context"
	"fmt"

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
		e, err := community.Decode(r.Envelope)
		if err != nil {
			return fmt.Errorf("stored event %x does not decode (the store may be damaged): %w", r.ID[:4], err)
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
