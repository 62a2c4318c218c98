//go:build darwin || freebsd

package storage

import "golang.org/x/sys/unix"

// blockSize is the unit of statfs' block counts.
func blockSize(st *unix.Statfs_t) int64 { return int64(st.Bsize) }
