package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kith-app/kith/app"
	"github.com/kith-app/kith/app/community"
	"github.com/kith-app/kith/app/identity"
	"github.com/kith-app/kith/app/localstore"
	"github.com/kith-app/kith/storage"
)

// newService opens a real identity and store in a temporary folder.
func newService(t *testing.T, dir string) (*app.Service, *storage.Store) {
	t.Helper()
	id, err := identity.LoadOrCreate(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := storage.Open(dir, storage.Options{MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	s, err := app.New(app.Config{Identity: id, Store: localstore.Store{S: st}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		st.Close()
	})
	return s, st
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
