//go:build unix

package main

import (
	"io/fs"
	"syscall"
)

// blocks is the disk space a file takes: its allocated 512-byte blocks.
func blocks(info fs.FileInfo) int64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return info.Size()
}
