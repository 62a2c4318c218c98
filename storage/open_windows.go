//go:build windows

package storage

import (
	"os"
	"syscall"
)

// openShared opens a file to read it, letting others delete or rename it meanwhile (os.Open on
// Windows does not: a file being served would block the deletion of its message, and Forget).
func openShared(path string) (*os.File, error) {
	return openWith(path, syscall.GENERIC_READ, syscall.OPEN_EXISTING)
}

// openSharedRW opens a file to read and write it, making it when create says so, and letting
// others delete or rename it meanwhile (a file being fetched must not block the deletion of its
// message).
func openSharedRW(path string, create bool) (*os.File, error) {
	how := uint32(syscall.OPEN_EXISTING)
	if create {
		how = syscall.OPEN_ALWAYS
	}
	return openWith(path, syscall.GENERIC_READ|syscall.GENERIC_WRITE, how)
}

func openWith(path string, access, how uint32) (*os.File, error) {
	p, err := syscall.UTF16PtrFromString(path)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	h, err := syscall.CreateFile(p, access,
		syscall.FILE_SHARE_READ|syscall.FILE_SHARE_WRITE|syscall.FILE_SHARE_DELETE, nil,
		how, syscall.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}
