//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package storage

import (
	"fmt"
)

// lockDir on systems without flock or LockFileEx only creates dir/LOCK; the
// folder is then guarded by Badger's own directory lock alone, so a second
// Kith gets Badger's error instead of ErrAlreadyRunning.
func lockDir(dir string) (*dirLock, error) {
	f, _, err := openLockFile(dir)
	if err != nil {
		return nil, err
	}
	return &dirLock{f: f}, nil
}

func (l *dirLock) unlock() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("storage: release lock %s: %w", l.f.Name(), err)
	}
	return nil
}
