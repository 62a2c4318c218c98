//go:build !unix

package peer

import "io/fs"

// checkOwned checks nothing where files have no Unix owner and mode (Windows: the data folder
// sits in the user's profile, which other users cannot open).
func checkOwned(dir, real string) error { return nil }

// checkSocketFile checks nothing where sockets have no Unix owner.
func checkSocketFile(path string, fi fs.FileInfo) error { return nil }
