//go:build !windows

package storage

import "os"

// openShared opens a file to read it.
func openShared(path string) (*os.File, error) { return os.Open(path) }
