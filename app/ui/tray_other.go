//go:build !linux

package ui

// trayWorks reports whether the desktop shows tray icons: Windows and macOS always do.
func trayWorks() bool { return true }
