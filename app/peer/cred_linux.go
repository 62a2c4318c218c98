package peer

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// checkCaller refuses a control connection from another user (the socket is 0600 in a 0700
// folder already; this also holds when the folder was made by hand with looser modes).
func checkCaller(conn net.Conn) error {
	uid, ok, err := peerUID(conn)
	if err != nil || !ok {
		return err
	}
	if uid != os.Getuid() && uid != 0 {
		return fmt.Errorf("a control connection from user %d, not this folder's owner", uid)
	}
	return nil
}

// checkServer refuses a control socket served by a process of another user: the credentials
// of the process that listens, read on the client's connection after it connects and before it
// sends anything. Unlike checkSocketOwner's look at the socket file, nothing can swap the
// socket between this check and the use of the connection.
func checkServer(conn net.Conn) error {
	uid, ok, err := peerUID(conn)
	if err != nil {
		return fmt.Errorf("peer: reading who serves the control socket: %w", err)
	}
	if ok && uid != os.Geteuid() {
		return unsafeFolder("the control socket is served by another user (uid %d), not by your Kith: pass another --data", uid)
	}
	return nil
}

// peerUID returns the user ID of the process at the other end of a Unix socket connection
// (SO_PEERCRED); ok is false for other connections.
func peerUID(conn net.Conn) (uid int, ok bool, err error) {
	uc, isUnix := conn.(*net.UnixConn)
	if !isUnix {
		return 0, false, nil
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return 0, false, err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, false, err
	}
	if credErr != nil {
		return 0, false, credErr
	}
	return int(cred.Uid), true, nil
}
