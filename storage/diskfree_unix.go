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
	avail := int64(st.Bavail) // signed on some systems: negative once the root reserve is in use
	if avail < 0 {
		avail = 0
	}
	return uint64(avail) * uint64(blockSize(&st)), true
}
