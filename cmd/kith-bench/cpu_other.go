//go:build !unix

package main

// cpuSeconds is the CPU time this process has used; here it cannot be read.
func cpuSeconds() (seconds float64, ok bool) { return 0, false }
