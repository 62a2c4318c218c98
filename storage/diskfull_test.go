package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"
)

func TestDiskFullErrorMapping(t *testing.T) {
	pathErr := &fs.PathError{Op: "write", Path: "/data/db/000001.vlog", Err: syscall.ENOSPC}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"bare ENOSPC", syscall.ENOSPC, true},
		{"wrapped ENOSPC", fmt.Errorf("while writing: %w", pathErr), true},
		{"flattened by Badger's y.Wrap", fmt.Errorf("sync err: %+v", pathErr), true},
		{"quota", fmt.Errorf("x: %w", syscall.EDQUOT), true},
		{"already mapped", fmt.Errorf("x: %w", ErrDiskFull), true},
		{"other error", fmt.Errorf("x: %w", syscall.EIO), false},
		{"nil", nil, false},
	}
	for _, tc := range cases {
		if got := isDiskFull(tc.err); got != tc.want {
			t.Errorf("%s: isDiskFull(%v) = %v; want %v", tc.name, tc.err, got, tc.want)
		}
	}
	s := &Store{dir: "/data"}
	err := s.writeErr("save events", fmt.Errorf("sync err: %+v", pathErr))
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("writeErr(flattened ENOSPC) = %v; want ErrDiskFull", err)
	}
	err = s.writeErr("save events", fmt.Errorf("commit: %w", pathErr))
	if !errors.Is(err, ErrDiskFull) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("writeErr(ENOSPC) = %v; want ErrDiskFull wrapping ENOSPC", err)
	}
	if err := s.writeErr("x", syscall.EIO); errors.Is(err, ErrDiskFull) {
		t.Fatalf("writeErr(EIO) = %v; must not be ErrDiskFull", err)
	}
	if err := mapWriteErr(pathErr); !errors.Is(err, ErrDiskFull) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("mapWriteErr = %v", err)
	}
}

// TestDiskFullReserve checks the free-space guard with a reserve larger than
// any disk: every write is refused with ErrDiskFull, reads keep working.
func TestDiskFullReserve(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	c := community(1)
	e := ev(c, author(1), 1, 1, channel(1), false, "")
	if _, err := s.Append(e); err != nil {
		t.Fatal(err)
	}
	free, ok := freeBytes(dir)
	if !ok {
		t.Skip("free space cannot be measured on this system")
	}
	s.minFree = int64(free) + 1<<40
	_, err := s.Append(ev(c, author(1), 2, 2, channel(1), false, ""))
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("Append with the reserve not free = %v; want ErrDiskFull", err)
	}
	if want := "the disk is full; free some space and try again; nothing already saved was lost"; !strings.Contains(err.Error(), want) {
		t.Fatalf("message %q does not say %q", err, want)
	}
	for name, err := range map[string]error{
		"AppendOwn":  s.AppendOwn(t.Context(), ev(c, author(1), 2, 2, ChannelID{}, false, "")),
		"PutState":   s.PutState(c, []byte("s")),
		"SetSetting": s.SetSetting("k", []byte("v")),
		"PutPeer":    s.PutPeer(Peer{ID: "p"}),
	} {
		if !errors.Is(err, ErrDiskFull) {
			t.Errorf("%s = %v; want ErrDiskFull", name, err)
		}
	}
	got, err := s.EventByID(c, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameEvent(t, got, e)
	s.minFree = defaultMinFree
	if _, err := s.Append(ev(c, author(1), 2, 2, channel(1), false, "")); err != nil {
		t.Fatalf("Append once space is back: %v", err)
	}
}
