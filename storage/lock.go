package storage

import (
	"fmt"
	"os"
	"path/filepath"
)

// alreadyRunning is the error a second Open of dir returns.
func alreadyRunning(dir string) error {
	return fmt.Errorf("%w (close the other Kith window or kithd using %s, then try again)", ErrAlreadyRunning, dir)
}

// dirLock holds dir/LOCK open while the store uses the folder; lockDir (one per platform) takes
// an exclusive lock on it where the platform has one.
type dirLock struct {
	f *os.File
}

// openLockFile opens (creating) dir/LOCK.
func openLockFile(dir string) (*os.File, string, error) {
	path := filepath.Join(dir, "LOCK")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, path, fmt.Errorf("storage: open lock file %s: %w (check the data folder's permissions)", path, mapWriteErr(err))
	}
	return f, path, nil
}
