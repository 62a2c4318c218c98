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
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return nil
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if credErr != nil {
		return credErr
	}
	if int(cred.Uid) != os.Getuid() && cred.Uid != 0 {
		return fmt.Errorf("a control connection from user %d, not this folder's owner", cred.Uid)
	}
	return nil
}
