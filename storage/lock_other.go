//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package storage

import (
	"fmt"
	"os"
	"path/filepath"
)

// dirLock on systems without flock or LockFileEx only creates dir/LOCK; the
// folder is then guarded by Badger's own directory lock alone, so a second
// Kith gets Badger's error instead of ErrAlreadyRunning.
type dirLock struct {
	f *os.File
}

func lockDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, "LOCK")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("storage: open lock file %s: %w (check the data folder's permissions)", path, mapWriteErr(err))
	}
	return &dirLock{f: f}, nil
}

func (l *dirLock) unlock() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("storage: release lock %s: %w", l.f.Name(), err)
	}
	return nil
}
