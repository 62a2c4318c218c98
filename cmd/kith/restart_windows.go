package main

import (
	"os"
	"os/exec"
)

// startAgain starts Kith again with args (os.Args' form), and ends this process (after a
// restore: everything opens afresh from the data folder). It returns only when that fails.
func startAgain(args []string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	os.Exit(0)
	return nil
}
