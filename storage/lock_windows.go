//go:build windows

package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// dirLock is our exclusive lock on dir/LOCK, taken before Badger is opened so
// that a second Kith sees ErrAlreadyRunning rather than a Badger error.
// LockFileEx locks belong to the handle, so a second Open in the same process
// is refused too.
type dirLock struct {
	f *os.File
}

func lockDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, "LOCK")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("storage: open lock file %s: %w (check the data folder's permissions)", path, mapWriteErr(err))
	}
	ol := new(windows.Overlapped)
	err = windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if err != nil {
		_ = f.Close()
		if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_SHARING_VIOLATION) {
			return nil, alreadyRunning(dir)
		}
		return nil, fmt.Errorf("storage: lock %s: %w", path, err)
	}
	return &dirLock{f: f}, nil
}

func (l *dirLock) unlock() error {
	errU := windows.UnlockFileEx(windows.Handle(l.f.Fd()), 0, 1, 0, new(windows.Overlapped))
	errC := l.f.Close()
	if err := errors.Join(errU, errC); err != nil {
		return fmt.Errorf("storage: release lock %s: %w", l.f.Name(), err)
	}
	return nil
}

// osDiskFullErrors are Windows' "disk full" errors.
var osDiskFullErrors = []error{windows.ERROR_DISK_FULL, windows.ERROR_HANDLE_DISK_FULL}
