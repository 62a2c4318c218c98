//go:build !windows

package storage

import "os"

// openShared opens a file to read it.
func openShared(path string) (*os.File, error) { return os.Open(path) }

// openSharedRW opens a file to read and write it, making it when create says so.
func openSharedRW(path string, create bool) (*os.File, error) {
	flag := os.O_RDWR
	if create {
		flag |= os.O_CREATE
	}
	return os.OpenFile(path, flag, 0o600)
}
