package app_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/apptest"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/localstore"
)

// newService starts a service on dir; the returned Local closes it (and its store) early.
func newService(t *testing.T, dir string) (*app.Service, *apptest.Local) {
	t.Helper()
	l := apptest.Open(t, dir)
	return l.Svc, l
}

// newLocal is a service in its own temporary folder, and its store as the service sees it.
func newLocal(t *testing.T) (*app.Service, localstore.Store) {
	t.Helper()
	l := apptest.New(t)
	return l.Svc, l.Store
}

func TestCreateCommunityPersists(t *testing.T) {
	dir := t.TempDir()
	s, st := newService(t, dir)
	c, err := s.CreateCommunity(context.Background(), app.CreateParams{Name: "  Makers ", About: "hello", MaxMembers: 100, DisplayName: "Ana"})
	if err != nil {
		t.Fatal(err)
	}
	if len(strings.Fields(c.RecoveryWords)) != community.RecoveryWords {
		t.Fatalf("recovery words: %q", c.RecoveryWords)
	}
	if _, err := s.CreateCommunity(context.Background(), app.CreateParams{Name: "  "}); err == nil {
		t.Fatal("an empty name was accepted")
	}
	list, err := s.Communities()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != c.ID || list[0].Name != "Makers" || list[0].Role != community.RoleOwner || list[0].Members != 1 {
		t.Fatalf("communities = %+v", list)
	}
	s.Close()
	s.Close()
	if _, err := s.Communities(); !errors.Is(err, app.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	st.Close()
	// A new process on the same folder finds the community.
	s2, _ := newService(t, dir)
	again, err := s2.Communities()
	if err != nil || len(again) != 1 || again[0].ID != c.ID {
		t.Fatalf("after reopening: %+v, %v", again, err)
	}
}

func TestPostAndReadMessages(t *testing.T) {
	dir := t.TempDir()
	s, st := newService(t, dir)
	ctx := context.Background()
	c, err := s.CreateCommunity(ctx, app.CreateParams{Name: "Makers", DisplayName: "Ana"})
	if err != nil {
		t.Fatal(err)
	}
	chans, err := s.Channels(c.ID)
	if err != nil || len(chans) != 2 || chans[0].Name != "general" || chans[1].Name != "announcements" {
		t.Fatalf("channels = %+v, %v", chans, err)
	}
	general, news := chans[0].ID, chans[1].ID
	var posted []app.Message
	for i := range 60 {
		m, err := s.Post(ctx, c.ID, general, fmt.Sprintf("hello %d", i), community.Hash{})
		if err != nil {
			t.Fatal(err)
		}
		if !m.Mine || m.Name != "Ana" || m.Role != community.RoleOwner {
			t.Fatalf("posted message view = %+v", m)
		}
		posted = append(posted, m)
	}
	if _, err := s.Post(ctx, c.ID, news, "the owner announces", community.Hash{}); err != nil {
		t.Fatalf("the owner posts an announcement: %v", err)
	}
	if _, err := s.Post(ctx, c.ID, general, "   ", community.Hash{}); err == nil {
		t.Fatal("an empty message was posted")
	}
	if _, err := s.Post(ctx, c.ID, community.Hash{9}, "lost", community.Hash{}); err == nil {
		t.Fatal("a message was posted to a channel that does not exist")
	}
	check := func(s *app.Service) {
		t.Helper()
		page, err := s.Messages(c.ID, general, community.Position{}, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != 50 || page[0].Text != "hello 59" || page[49].Text != "hello 10" {
			t.Fatalf("latest page: %d messages, first %q", len(page), page[0].Text)
		}
		older, err := s.Messages(c.ID, general, page[49].At, 50)
		if err != nil || len(older) != 10 || older[0].Text != "hello 9" || older[9].Text != "hello 0" {
			t.Fatalf("older page: %d, %v", len(older), err)
		}
		ann, _ := s.Messages(c.ID, news, community.Position{}, 50)
		if len(ann) != 1 || ann[0].Text != "the owner announces" {
			t.Fatalf("announcements = %+v", ann)
		}
	}
	check(s)
	// Each post chains on the last and cites what came before it.
	for i := 1; i < len(posted); i++ {
		if !posted[i-1].At.Less(posted[i].At) {
			t.Fatal("posts are not in order")
		}
	}
	// After a restart the keys are rebuilt from the log and everything reads back.
	s.Close()
	st.Close()
	s2, _ := newService(t, dir)
	check(s2)
	if _, err := s2.Post(ctx, c.ID, general, "after the restart", community.Hash{}); err != nil {
		t.Fatal(err)
	}
	members, err := s2.Members(c.ID)
	if err != nil || len(members) != 1 || !members[0].You || members[0].Role != community.RoleOwner {
		t.Fatalf("members = %+v, %v", members, err)
	}
}

// Concurrent posts chain one after another: every one is stored, none is lost.
func TestConcurrentPosts(t *testing.T) {
	s, _ := newService(t, t.TempDir())
	ctx := context.Background()
	c, _ := s.CreateCommunity(ctx, app.CreateParams{Name: "Makers"})
	chans, _ := s.Channels(c.ID)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			if _, err := s.Post(ctx, c.ID, chans[0].ID, fmt.Sprint("msg ", i), community.Hash{}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	page, err := s.Messages(c.ID, chans[0].ID, community.Position{}, 100)
	if err != nil || len(page) != 40 {
		t.Fatalf("%d messages, %v", len(page), err)
	}
}

func TestUnknownCommunity(t *testing.T) {
	s, _ := newService(t, t.TempDir())
	if _, err := s.Members(community.Hash{1}); !errors.Is(err, app.ErrUnknownCommunity) {
		t.Fatalf("err = %v", err)
	}
}

// TestSentence: what a person reads of an error has none of the package prefixes it collected,
// wherever they are in the chain, and is one line.
func TestSentence(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"app: the message is empty: type something first", "the message is empty: type something first"},
		{"peer: Kith could not go online (p2p: the port is in use: /ip4/0.0.0.0/tcp/4001): choose another", "Kith could not go online (the port is in use: /ip4/0.0.0.0/tcp/4001): choose another"},
		{"identity: damaged key file: identity.key fails its checksum", "damaged key file: identity.key fails its checksum"},
		{"storage: the local store is damaged: MANIFEST is missing", "the local store is damaged: MANIFEST is missing"},
		{"first\nsecond", "first; second"},
		{"the apple: peeled", "the apple: peeled"},
	} {
		if got := app.Sentence(errors.New(tt.in)); got != tt.want {
			t.Errorf("Sentence(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestMembershipNeverWaitsForTheRoom: while the room is held (as a post holds it through its
// fsync), membership checks — what the gossip validator and the connection gater ask — and the
// views' reads of members answer at once.
func TestMembershipNeverWaitsForTheRoom(t *testing.T) {
	l := apptest.New(t)
	c, err := l.Svc.CreateCommunity(context.Background(), app.CreateParams{Name: "Makers", DisplayName: "Ana"})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := l.Svc.Members(c.ID)
	if err != nil || len(ms) != 1 {
		t.Fatal(ms, err)
	}
	me := ms[0].Key
	release, err := app.HoldRoom(l.Svc, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	done := make(chan bool, 1)
	go func() {
		member, _ := l.Svc.IsMember(c.ID, me)
		ms, err := l.Svc.Members(c.ID)
		done <- member && l.Svc.IsMemberAnywhere(me) && err == nil && len(ms) == 1
	}()
	select {
	case ok := <-done:
		if !ok {
			t.Error("the membership answers were wrong")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a membership check waited for the room's lock")
	}
}
