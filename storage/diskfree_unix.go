//go:build linux || darwin || freebsd

package storage

import "golang.org/x/sys/unix"

// freeBytes returns the space available to this user on the disk holding
// dir; ok is false when it cannot be measured.
func freeBytes(dir string) (free uint64, ok bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true
}
