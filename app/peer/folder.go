package peer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The data folder holds the install's identity and its control socket: a folder that another
// local user controls would let that user read or replace them, and a socket of theirs in it
// would receive what kithd's commands send (recovery words among them). So Open refuses a data
// folder, like ssh refuses its keys, when it belongs to another user, when other users can
// change it, or when a folder above it can be changed by anyone without the sticky bit (they
// could put another folder in its place). A symbolic link is followed and its target checked.
// Every folder Kith creates is made with mode 0700. Where the system has no owners and modes
// to check (Windows), only the folder's existence is checked.

// Errors about the data folder, for callers to branch on with errors.Is; the errors returned
// wrap them and say what to do.
var (
	// ErrUnsafeFolder: the data folder, or its control socket, belongs to another user or
	// can be changed by other users.
	ErrUnsafeFolder = errors.New("peer: the data folder is not safe to use")
	// ErrNoDataFolder: Options.NoCreate, and there is no data folder (or no identity in it)
	// at the path given.
	ErrNoDataFolder = errors.New("there is no Kith data folder")
)

// CheckFolder makes sure that dir can be this user's Kith data folder before anything in it is
// read or written; Open calls it first. A missing folder is created (mode 0700, and so are the
// missing folders above it) when create is true, and is ErrNoDataFolder otherwise. It fails
// with ErrUnsafeFolder when the folder (a link's target) belongs to another user or is writable
// by group or others, or when a folder above it is writable by anyone and not sticky.
func CheckFolder(dir string, create bool) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if !create {
			return noDataFolder(dir)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("peer: create the data folder %s: %w (check the permissions of the folder above it, or pass another --data)", dir, err)
		}
		fi, err = os.Stat(dir)
	}
	if err != nil {
		return fmt.Errorf("peer: read the data folder %s: %w (check its permissions, or pass another --data)", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("peer: the data folder %s is a file, not a folder: pass a folder with --data", dir)
	}
	abs, err := filepath.Abs(dir)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return fmt.Errorf("peer: read the data folder %s: %w (check its permissions, or pass another --data)", dir, err)
	}
	return checkOwned(dir, abs)
}

// noDataFolder is the error of Options.NoCreate on a folder without Kith's data.
func noDataFolder(dir string) error {
	return fmt.Errorf("peer: %w at %s: create a community or join one first (or pass the right --data)", ErrNoDataFolder, dir)
}

// unsafeFolder is an ErrUnsafeFolder error whose sentence names the folder or socket and says
// what to do.
func unsafeFolder(format string, args ...any) error {
	return &kindError{msg: "peer: " + fmt.Sprintf(format, args...), kind: ErrUnsafeFolder}
}

// kindError is a sentence that matches its kind (a sentinel error) with errors.Is, without
// repeating the kind's own words.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// named is how a folder is named in errors: as given, and its target when it is a link.
func named(dir, real string) string {
	if abs, err := filepath.Abs(dir); err == nil && abs == real {
		return dir
	}
	return fmt.Sprintf("%s (a link to %s)", dir, real)
}

// checkSocketOwner checks that the control socket at path is a Unix socket of this user, not a
// symbolic link, in a data folder of this user (CheckFolder's rules), before a client sends it
// anything: a socket planted by another user would receive the command. A missing socket is an
// error wrapping fs.ErrNotExist (no peer runs there). Where sockets have no owner to check
// (Windows), it returns nil.
func checkSocketOwner(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("peer: the control socket %s: %w", path, err)
	}
	if err := checkSocketFile(path, fi); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	abs, err := filepath.Abs(dir)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return fmt.Errorf("peer: read the data folder %s: %w", dir, err)
	}
	return checkOwned(dir, abs)
}
