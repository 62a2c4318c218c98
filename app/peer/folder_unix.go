//go:build unix

package peer

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// checkOwned applies CheckFolder's rules to real, the data folder dir with its links resolved
// (an absolute path).
func checkOwned(dir, real string) error {
	fi, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("peer: read the data folder %s: %w (check its permissions, or pass another --data)", dir, err)
	}
	if uid, ok := ownerOf(fi); ok && uid != os.Geteuid() {
		return unsafeFolder("the data folder %s belongs to another user (uid %d): use a folder of your own, or pass another --data", named(dir, real), uid)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return unsafeFolder("the data folder %s can be changed by other users (mode %04o): run `chmod 700 %s`, or pass another --data", named(dir, real), perm, real)
	}
	for p := filepath.Dir(real); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("peer: read %s, which holds the data folder %s: %w", p, dir, err)
		}
		if fi.Mode().Perm()&0o002 != 0 && fi.Mode()&fs.ModeSticky == 0 {
			return unsafeFolder("%s, which holds the data folder %s, can be changed by any user (mode %04o), who could put another folder in its place: keep the data folder elsewhere (pass another --data)",
				p, named(dir, real), fi.Mode().Perm())
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// checkSocketFile refuses a control socket path that is a link, not a socket, or another
// user's; fi is its Lstat.
func checkSocketFile(path string, fi fs.FileInfo) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return unsafeFolder("the control socket %s is a symbolic link, not Kith's socket: remove it, or pass another --data", path)
	case fi.Mode().Type() != fs.ModeSocket:
		return unsafeFolder("the control socket %s is not a socket: remove it, or pass another --data", path)
	}
	if uid, ok := ownerOf(fi); ok && uid != os.Geteuid() {
		return unsafeFolder("the control socket %s belongs to another user (uid %d), not to your Kith: pass another --data", path, uid)
	}
	return nil
}

// ownerOf returns the user ID owning a file.
func ownerOf(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
