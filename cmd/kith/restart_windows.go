package main

import (
	"os"
	"os/exec"
)

// startAgain starts Kith again, with the same arguments, and ends this process (after a
// restore: everything opens afresh from the data folder). It returns only when that fails.
func startAgain() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	os.Exit(0)
	return nil
}
