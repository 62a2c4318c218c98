package ui

import (
	"github.com/godbus/dbus/v5"
)

// trayWorks reports whether the desktop shows tray icons: on Linux, whether a
// StatusNotifierWatcher (the host of tray icons that Fyne's tray talks to) is on the session bus.
// GNOME without an extension has none: a tray icon there is never seen.
func trayWorks() bool {
	conn, err := dbus.SessionBusPrivateNoAutoStartup() // never starts a bus of its own
	if err != nil {
		return false
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return false
	}
	if err := conn.Hello(); err != nil {
		return false
	}
	var has bool
	err = conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&has)
	return err == nil && has
}
