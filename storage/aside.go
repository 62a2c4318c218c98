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

// Held is a data folder whose lock Locked holds.
type Held struct{ dir string }

// Locked runs fn while holding data folder dir's lock, as a Store does: it fails with
// ErrAlreadyRunning while Kith runs on dir, and no Kith starts on dir meanwhile.
func Locked(dir string, fn func(*Held) error) error {
	lock, err := lockDir(dir)
	if err != nil {
		return err
	}
	defer func() { _ = lock.unlock() }()
	return fn(&Held{dir: dir})
}

// MoveAside moves everything in the data folder (the identity, the store, the settings) into a
// new folder in it, replaced-YYYYMMDD-HHMMSS, and returns that folder: for restoring a backup
// of another identity there. Nothing is deleted; the lock file and earlier folders set aside
// stay where they are.
func (h *Held) MoveAside() (string, error) {
	entries, err := os.ReadDir(h.dir)
	if err != nil {
		return "", fmt.Errorf("storage: read %s: %w", h.dir, err)
	}
	base := filepath.Join(h.dir, "replaced-"+time.Now().UTC().Format("20060102-150405"))
	aside := base
	for i := 2; ; i++ {
		err := os.Mkdir(aside, 0o700)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || i > 100 {
			return "", fmt.Errorf("storage: make %s: %w", aside, mapWriteErr(err))
		}
		aside = fmt.Sprintf("%s-%d", base, i)
	}
	for _, e := range entries {
		name := e.Name()
		if name == "LOCK" || strings.HasPrefix(name, "replaced-") || strings.HasPrefix(name, "damaged-") {
			continue
		}
		if err := os.Rename(filepath.Join(h.dir, name), filepath.Join(aside, name)); err != nil {
			return aside, fmt.Errorf("storage: move %s aside into %s: %w (what moved is there; move the rest by hand)", name, aside, mapWriteErr(err))
		}
	}
	return aside, syncDir(h.dir)
}
