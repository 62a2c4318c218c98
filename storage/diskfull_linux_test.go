package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// mountTmpfs mounts a tmpfs of size bytes on a new folder and unmounts it
// when the test ends. It skips the test when not root.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("disk-full test needs root to mount a small tmpfs (run the tests as root on Linux to include it)")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size="+size+",mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v); disk-full test skipped", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(mnt, 0); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	return mnt
}

// TestDiskFullTmpfs fills a small tmpfs through the store until a write fails
// with ErrDiskFull, then checks that everything acknowledged is readable,
// that writes work again once space is freed, and after a reopen.
func TestDiskFullTmpfs(t *testing.T) {
	mnt := mountTmpfs(t, "96m")
	ballast := filepath.Join(mnt, "ballast")
	if err := os.WriteFile(ballast, make([]byte, 8<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(mnt, "kith")
	opts := Options{Logger: testLogger(t), MinFreeBytes: 48 << 20} // covers an L0 compaction (4 × 8 MB) and a flush
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = s.Close()
		}
	})

	c, ch := community(1), channel(1)
	var acked []Event
	seq := map[AuthorKey]uint64{}
	next := func(w int) Event {
		a := author(w)
		seq[a]++
		e := ev(c, a, seq[a], seq[a], ch, false, "")
		e.Envelope = noiseFor(e.ID, 16<<10)
		return e
	}
	var fullErr error
	for round := 0; fullErr == nil && round < 10000; round++ {
		if round%10 == 0 {
			e := next(0)
			if err := s.AppendOwn(context.Background(), e); err != nil {
				fullErr = err
				break
			}
			acked = append(acked, e)
		}
		batch := make([]Event, 20)
		for i := range batch {
			batch[i] = next(1 + i%4)
		}
		if _, err := s.Append(batch...); err != nil {
			fullErr = err
			break
		}
		acked = append(acked, batch...)
	}
	if !errors.Is(fullErr, ErrDiskFull) {
		t.Fatalf("filling the disk ended with %v; want ErrDiskFull", fullErr)
	}
	t.Logf("disk full after %d events: %v", len(acked), fullErr)

	checkAll := func(stage string) {
		t.Helper()
		for _, want := range acked {
			got, err := s.EventByID(c, want.ID)
			if err != nil {
				t.Fatalf("%s: acknowledged event seq %d lost: %v", stage, want.Seq, err)
			}
			sameEvent(t, got, want)
		}
		if page, err := s.Page(c, ch, Cursor{}, 50); err != nil || len(page) != 50 {
			t.Fatalf("%s: Page = %d events, %v", stage, len(page), err)
		}
	}
	checkAll("while full")

	// Free some space and try again, as the message says.
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	e := next(0)
	if err := s.AppendOwn(context.Background(), e); err != nil {
		t.Fatalf("AppendOwn after freeing space: %v", err)
	}
	acked = append(acked, e)

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	closed = true
	s, err = Open(dir, opts)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	closed = false
	checkAll("after reopen")
}

// TestOpenOnFullDisk: the disk filled up (by another program) after Kith crashed. Opening must
// say the disk is full, not kill the process while Badger replays its log through mmap.
func TestOpenOnFullDisk(t *testing.T) {
	mnt := mountTmpfs(t, "64m")
	dir := filepath.Join(mnt, "kith")
	run := func(mode string) ([]byte, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestOpenOnFullDiskChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "KITH_FULL_DIR="+dir, "KITH_FULL_MODE="+mode)
		return cmd.CombinedOutput()
	}
	if out, err := run("write"); err != nil {
		t.Fatalf("writer: %v\n%s", err, out)
	}
	f, err := os.Create(filepath.Join(mnt, "other-program"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for n := len(buf); n > 0; n /= 2 {
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				break
			}
		}
	}
	f.Close()
	out, err := run("open")
	if err != nil {
		t.Fatalf("opening on a full disk killed the process: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("disk is full")) {
		t.Fatalf("opening on a full disk said:\n%s", out)
	}
}

// TestOpenOnFullDiskChild is the child process of TestOpenOnFullDisk.
func TestOpenOnFullDiskChild(t *testing.T) {
	dir, mode := os.Getenv("KITH_FULL_DIR"), os.Getenv("KITH_FULL_MODE")
	if dir == "" {
		t.Skip("child process of TestOpenOnFullDisk")
	}
	switch mode {
	case "write": // write, then exit without Close, like a crash
		s, err := Open(dir, Options{MinFreeBytes: -1})
		if err != nil {
			t.Fatal(err)
		}
		c := community(1)
		for i := 1; i <= 200; i++ {
			if err := s.AppendOwn(context.Background(), ev(c, author(1), uint64(i), uint64(i), channel(1), false, "")); err != nil {
				t.Fatal(err)
			}
		}
		os.Exit(0)
	case "open":
		_, err := Open(dir, Options{})
		if !errors.Is(err, ErrDiskFull) {
			t.Fatalf("Open on a full disk: %v, want ErrDiskFull", err)
		}
		fmt.Println(err)
	}
}

// TestChunksOnAFullDisk: storing chunks on a disk that fills (a tmpfs) ends in ErrDiskFull —
// at the reserve, and, with no reserve, when the disk itself says ENOSPC — and leaves nothing
// half-written: every chunk stored reads back whole, the one that failed is not held, and no
// temporary file stays.
func TestChunksOnAFullDisk(t *testing.T) {
	for _, reserve := range []int64{0, -1} { // 0: the default reserve; -1: none, until ENOSPC
		t.Run(fmt.Sprintf("reserve %d", reserve), func(t *testing.T) {
			mnt := mountTmpfs(t, "150m")
			s, err := Open(filepath.Join(mnt, "kith"), Options{Logger: testLogger(t), MinFreeBytes: reserve})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			c := community(1)
			if _, err := s.Append(ev(c, author(1), 1, 1, channel(1), false, "a")); err != nil {
				t.Fatal(err)
			}
			// Fetches store the same file at once (with the reserve, two: even chunks and odd),
			// each through its own open file, until the disk is full: a write that fails gives
			// back only its own. With no reserve, one: two writers that fill the disk to its last
			// byte leave Badger nothing to flush its tables into at Close (it maps them, and on a
			// tmpfs a write into the map then kills the process) — what the reserve is for.
			b := BlobID(hash32("big"))
			const count = 1000 // 250 MiB: each writer's share is more than the disk holds
			writers := 2
			if reserve < 0 {
				writers = 1
			}
			var wg sync.WaitGroup
			fulls := make([]error, writers)
			for k := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					f, err := s.OpenBlob(c, b, count)
					if err != nil {
						fulls[k] = err
						return
					}
					defer f.Close()
					for i := k; i < count; i += writers {
						if _, err := f.Put(i, fullChunk(i, byte(i)).Data); err != nil {
							fulls[k] = err
							return
						}
					}
				}()
			}
			wg.Wait()
			for k, err := range fulls {
				if !errors.Is(err, ErrDiskFull) {
					t.Fatalf("writer %d: %v, want ErrDiskFull", k, err)
				}
			}
			have, err := s.HasChunks(c, b, count)
			if err != nil {
				t.Fatal(err)
			}
			stored := 0
			for i, h := range have {
				if !h {
					continue
				}
				stored++
				got, err := s.Chunk(c, b, i, nil)
				if err != nil || len(got) != ChunkSize || got[0] != byte(i) || got[ChunkSize-1] != byte(i) {
					t.Fatalf("chunk %d, marked held: %d bytes, %v", i, len(got), err)
				}
			}
			if stored < 40 {
				t.Fatalf("only %d chunks stored before the disk was full", stored)
			}
			// A file being sealed when the disk fills: refused, and nothing of it stays.
			w, err := s.CreateBlob(c, 2)
			if err == nil {
				if err = w.Put(0, fullChunk(0, 1).Data); err == nil {
					err = w.Put(1, []byte("x"))
				}
				w.Abort()
			}
			if !errors.Is(err, ErrDiskFull) {
				t.Fatalf("sealing a file on a full disk: %v, want ErrDiskFull", err)
			}
			if left, _ := os.ReadDir(filepath.Join(mnt, "kith", "blobs", "tmp")); len(left) != 0 {
				t.Fatalf("%d temporary files stay", len(left))
			}
		})
	}
}
