package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// SetAside moves the database of the store in dir and its high-water mark into a new folder
// dir/damaged-YYYYMMDD-HHMMSS and returns that folder: the next Open starts an empty store
// (for `kithd resync` when Open says ErrDamaged). Nothing is deleted, and the identity and
// everything else in dir stay. It takes the folder's lock, so it fails with ErrAlreadyRunning
// while a Store has dir open.
func SetAside(dir string) (string, error) {
	lock, err := lockDir(dir)
	if err != nil {
		return "", err
	}
	defer func() { _ = lock.unlock() }()
	aside := filepath.Join(dir, "damaged-"+time.Now().UTC().Format("20060102-150405"))
	if err := os.Mkdir(aside, 0o700); err != nil {
		return "", fmt.Errorf("storage: set the damaged store aside in %s: %w", aside, mapWriteErr(err))
	}
	for _, name := range []string{"db", markFile} {
		err := os.Rename(filepath.Join(dir, name), filepath.Join(aside, name))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("storage: set %s aside in %s: %w", filepath.Join(dir, name), aside, mapWriteErr(err))
		}
	}
	if err := syncDir(dir); err != nil {
		return "", err
	}
	return aside, nil
}
