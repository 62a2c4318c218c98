//go:build !windows

package main

import (
	"os"
	"syscall"
)

// startAgain replaces this process with a new start of Kith, with the same arguments (after a
// restore: everything opens afresh from the data folder). It returns only when that fails.
func startAgain() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	return syscall.Exec(exe, os.Args, os.Environ())
}
