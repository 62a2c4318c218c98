// Package apptest builds real services for tests: an identity and a Badger store in a
// temporary folder and, for network tests, a libp2p host on 127.0.0.1 wired to the service as
// an install's is (peer.NetworkConfig: gossip's message IDs and member filter, the connection
// gater; the join and sync streams). Only tests import it.
package apptest

import (
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/identity"
	"github.com/kith-app/kith/app/invite"
	"github.com/kith-app/kith/app/localstore"
	"github.com/kith-app/kith/app/peer"
	"github.com/kith-app/kith/p2p"
	"github.com/kith-app/kith/storage"
)

// Local is a service over a real store in its own folder.
type Local struct {
	Svc   *app.Service
	Store localstore.Store // the store as the service sees it
	Dir   string
}

// Open starts a service on dir (an identity and a store there); it is closed when the test
// ends, and may be closed before with Close.
func Open(t testing.TB, dir string) *Local {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	id, err := identity.LoadOrCreate(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	st, err := storage.Open(dir, storage.Options{MinFreeBytes: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := app.New(app.Config{Identity: id, Store: localstore.Store{S: st}, Logger: quiet})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	l := &Local{Svc: svc, Store: localstore.Store{S: st}, Dir: dir}
	t.Cleanup(func() { l.Close() })
	return l
}

// New starts a service in a fresh temporary folder.
func New(t testing.TB) *Local { return Open(t, t.TempDir()) }

// Close closes the service, then the store. It is safe to call twice.
func (l *Local) Close() error { return errors.Join(l.Svc.Close(), l.Store.S.Close()) }

// Peer is a Local with a libp2p host on 127.0.0.1 serving its join and sync streams.
type Peer struct {
	*Local
	Node *p2p.Node
	Key  ed25519.PublicKey
}

// Member is this peer as an invite names it: its key and its addresses on 127.0.0.1.
func (p *Peer) Member() invite.Member {
	m := invite.Member{Key: p.Key}
	for _, a := range p.Node.Addrs() {
		m.Addrs = append(m.Addrs, strings.TrimSuffix(a, "/p2p/"+p.Node.ID()))
	}
	return m
}

// NewPeer starts a Peer in a fresh folder; it stops, network first, when the test ends.
func NewPeer(t testing.TB) *Peer {
	t.Helper()
	return OpenPeer(t, t.TempDir())
}

// OpenPeer starts a Peer on dir (a folder of an earlier Peer, or a new one); it stops, network
// first, when the test ends, or before with Close.
func OpenPeer(t testing.TB, dir string) *Peer {
	t.Helper()
	l := Open(t, dir)
	id, err := identity.LoadOrCreate(dir, nil) // the same key file the service loaded
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := peer.NetworkConfig(id, l.Svc, slog.New(slog.DiscardHandler)) // the gater on, as shipped
	cfg.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0"}
	node, err := p2p.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	l.Svc.Serve(node)
	p := &Peer{Local: l, Node: node, Key: id.PublicKey()}
	t.Cleanup(func() { p.Close() }) // runs before the Local's cleanup: network, then store
	return p
}

// Close stops the network, then the service and the store. It is safe to call twice.
func (p *Peer) Close() error { return errors.Join(p.Node.Close(), p.Local.Close()) }

// PostMany writes n messages in a channel from 8 goroutines (the store groups their commits),
// message i reading text(i).
func PostMany(tb testing.TB, svc *app.Service, id, channel community.Hash, n int, text func(i int) string) {
	tb.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				if _, err := svc.Post(context.Background(), id, channel, text(i), community.Hash{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
}
