package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/gossip"
	"github.com/kith-app/kith/app/identity"
	"github.com/kith-app/kith/app/invite"
	"github.com/kith-app/kith/app/localstore"
	"github.com/kith-app/kith/app/peer"
	"github.com/kith-app/kith/p2p"
	"github.com/kith-app/kith/storage"
)

// install is one Kith install composed as app/peer composes it for messages: an identity and a
// Badger store in its own folder, the service, and, online, a libp2p node on 127.0.0.1 serving
// join and sync, with gossip on its communities. Unlike app/peer it dials no one by itself: the
// harness chooses who connects to whom (a chain must stay a chain).
type install struct {
	name string
	dir  string
	id   *identity.Identity
	st   *storage.Store
	svc  *app.Service
	node *p2p.Node      // nil offline
	g    *gossip.Gossip // nil until attach

	closeOnce sync.Once
	closeErr  error
}

// openInstall opens (or creates) an install in dir; online starts its node.
func openInstall(ctx context.Context, name, dir string, online bool, log *slog.Logger) (*install, error) {
	id, err := identity.LoadOrCreate(dir, log)
	if err != nil {
		return nil, err
	}
	st, err := storage.Open(dir, storage.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	svc, err := app.New(app.Config{Identity: id, Store: localstore.Store{S: st}, Logger: log})
	if err != nil {
		st.Close()
		return nil, err
	}
	in := &install{name: name, dir: dir, id: id, st: st, svc: svc}
	if !online {
		return in, nil
	}
	cfg := peer.NetworkConfig(id, svc, log) // what ships: the gater and gossip's rules
	cfg.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0"}
	in.node, err = p2p.New(ctx, cfg)
	if err != nil {
		in.Close()
		return nil, err
	}
	svc.Serve(in.node)
	return in, nil
}

// attach starts gossip on communities.
func (in *install) attach(log *slog.Logger, ids ...community.Hash) error {
	if in.g != nil {
		for _, id := range ids {
			if err := in.g.Add(id); err != nil {
				return err
			}
		}
		return nil
	}
	g, err := gossip.Attach(in.svc, in.node, log, ids...)
	if err != nil {
		return err
	}
	in.g = g
	return nil
}

// connect dials another install.
func (in *install) connect(ctx context.Context, to *install) error {
	return in.node.Connect(ctx, to.node.Addrs()[0])
}

// Close stops gossip and the node, then the service and the store. It is safe to call twice.
func (in *install) Close() error {
	in.closeOnce.Do(func() {
		var errs []error
		if in.g != nil {
			errs = append(errs, in.g.Close())
		}
		if in.node != nil {
			errs = append(errs, in.node.Close())
		}
		errs = append(errs, in.svc.Close(), in.st.Close())
		in.closeErr = errors.Join(errs...)
	})
	return in.closeErr
}

// group is a community and the installs taking part in it.
type group struct {
	id       community.Hash
	general  community.Hash
	installs []*install // [0] is the owner
}

// newGroup creates a community owned by owner.
func newGroup(ctx context.Context, owner *install, name string) (*group, error) {
	c, err := owner.svc.CreateCommunity(ctx, app.CreateParams{Name: name, DisplayName: owner.name})
	if err != nil {
		return nil, err
	}
	chans, err := owner.svc.Channels(c.ID)
	if err != nil {
		return nil, err
	}
	for _, ch := range chans {
		if ch.Name == "general" {
			return &group{id: c.ID, general: ch.ID, installs: []*install{owner}}, nil
		}
	}
	return nil, fmt.Errorf("the new community has no #general channel")
}

// join makes in a member through via (a member online), with an invite from the owner.
func (g *group) join(ctx context.Context, in, via *install) error {
	inv, err := g.installs[0].svc.Invite(g.id, app.InviteParams{Uses: 1, Members: []invite.Member{peer.InviteMember(via.id.PublicKey(), via.node.Addrs())}})
	if err != nil {
		return err
	}
	if _, err := in.svc.JoinWith(ctx, in.node, inv, in.name); err != nil {
		return fmt.Errorf("%s joining through %s: %w", in.name, via.name, err)
	}
	g.installs = append(g.installs, in)
	return nil
}

// knowsAll waits until every install knows every other as a member (join events travel by
// gossip or sync).
func (g *group) knowsAll(ctx context.Context) error {
	for _, a := range g.installs {
		for _, b := range g.installs {
			err := waitFor(ctx, func() bool { ok, _ := a.svc.IsMember(g.id, b.id.PublicKey()); return ok },
				func() string { return fmt.Sprintf("%s never learnt that %s joined", a.name, b.name) })
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// setupTime bounds every wait while a topology is built.
const setupTime = time.Minute

// waitFor polls cond until it holds, for at most setupTime; the error says what did not happen.
func waitFor(ctx context.Context, cond func() bool, what func() string) error {
	deadline := time.Now().Add(setupTime)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s (waited %v)", what(), setupTime)
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return fmt.Errorf("%s: %w", what(), err)
		}
	}
	return nil
}

// close closes every install of the group.
func (g *group) close() {
	for _, in := range g.installs {
		in.Close()
	}
}

// sleep waits d, or less if ctx ends (then it returns ctx's error).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// dirSize is the disk space the files under dir take (allocated blocks, as du counts).
func dirSize(dir string) (allocated int64, err error) {
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		allocated += blocks(info)
		return nil
	})
	return allocated, err
}

// text is message i's text: about 200 characters, different each time.
func text(who string, i int) string {
	const lorem = "Thanks for the preview build! The new export dialog is much clearer, though I would love a keyboard shortcut for it. Same time next week?"
	s := fmt.Sprintf("%s #%d: %s", who, i, lorem)
	return strings.TrimSpace(s[:min(len(s), 200)])
}
