package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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

// MoveAside moves everything in data folder dir (the identity, the store, the settings) into a
// new folder dir/replaced-YYYYMMDD-HHMMSS and returns it: for restoring a backup of another
// identity into dir. Nothing is deleted; the lock file and earlier folders set aside stay
// where they are. It takes the folder's lock, so it fails with ErrAlreadyRunning while Kith
// runs on dir.
func MoveAside(dir string) (string, error) {
	lock, err := lockDir(dir)
	if err != nil {
		return "", err
	}
	defer func() { _ = lock.unlock() }()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("storage: read %s: %w", dir, err)
	}
	aside := filepath.Join(dir, "replaced-"+time.Now().UTC().Format("20060102-150405"))
	if err := os.Mkdir(aside, 0o700); err != nil {
		return "", fmt.Errorf("storage: make %s: %w", aside, mapWriteErr(err))
	}
	for _, e := range entries {
		name := e.Name()
		if name == "LOCK" || strings.HasPrefix(name, "replaced-") || strings.HasPrefix(name, "damaged-") {
			continue
		}
		if err := os.Rename(filepath.Join(dir, name), filepath.Join(aside, name)); err != nil {
			return aside, fmt.Errorf("storage: move %s aside into %s: %w (what moved is there; move the rest by hand)", name, aside, mapWriteErr(err))
		}
	}
	return aside, syncDir(dir)
}

// Locked runs fn while holding data folder dir's lock, as a Store does: it fails with
// ErrAlreadyRunning while Kith runs on dir, and no Kith starts on dir meanwhile.
func Locked(dir string, fn func() error) error {
	lock, err := lockDir(dir)
	if err != nil {
		return err
	}
	defer func() { _ = lock.unlock() }()
	return fn()
}
