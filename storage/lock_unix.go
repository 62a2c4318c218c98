//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package storage

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// lockDir takes our exclusive lock on dir/LOCK, taken before Badger is opened so
// that a second Kith sees ErrAlreadyRunning rather than a Badger error.
// flock locks belong to the open file, so a second Open in the same process
// is refused too.
func lockDir(dir string) (*dirLock, error) {
	f, path, err := openLockFile(dir)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) || errors.Is(err, unix.EAGAIN) {
			return nil, alreadyRunning(dir)
		}
		return nil, fmt.Errorf("storage: lock %s: %w", path, err)
	}
	// Write our process ID for people looking at the folder; the lock is what counts.
	if err := f.Truncate(0); err == nil {
		_, _ = fmt.Fprintf(f, "%d\n", os.Getpid())
	}
	return &dirLock{f: f}, nil
}

func (l *dirLock) unlock() error {
	errU := unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	errC := l.f.Close()
	if err := errors.Join(errU, errC); err != nil {
		return fmt.Errorf("storage: release lock %s: %w", l.f.Name(), err)
	}
	return nil
}
