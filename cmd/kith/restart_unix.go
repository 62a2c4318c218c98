//go:build !windows

package main

import (
	"os"
	"syscall"
)

// startAgain replaces this process with a new start of Kith with args (os.Args' form; after a
// restore: everything opens afresh from the data folder). It returns only when that fails.
func startAgain(args []string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	return syscall.Exec(exe, args, os.Environ())
}
