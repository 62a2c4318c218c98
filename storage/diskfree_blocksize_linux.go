//go:build linux

package storage

import "golang.org/x/sys/unix"

// blockSize is the unit of statfs' block counts: the fragment size on Linux.
func blockSize(st *unix.Statfs_t) int64 { return st.Frsize }
