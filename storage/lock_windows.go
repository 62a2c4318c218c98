//go:build windows

package storage

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows"
)

// lockDir takes our exclusive lock on dir/LOCK, taken before Badger is opened so
// that a second Kith sees ErrAlreadyRunning rather than a Badger error.
// LockFileEx locks belong to the handle, so a second Open in the same process
// is refused too.
func lockDir(dir string) (*dirLock, error) {
	f, path, err := openLockFile(dir)
	if err != nil {
		return nil, err
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
