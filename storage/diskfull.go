package storage

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// diskFullTexts are the messages of "disk full" errors. Badger wraps some
// errors with %+v instead of %w (y.Wrap), which cuts the error chain: the
// message is then all that is left to recognise them.
var diskFullTexts = []string{
	"no space left on device",      // ENOSPC on Linux
	"not enough space on the disk", // ERROR_DISK_FULL on Windows
	"the disk is full",             // ERROR_HANDLE_DISK_FULL on Windows
	"disk quota exceeded",          // EDQUOT: the user's share of the disk is used up
}

// isDiskFull reports whether err says the disk is full: ENOSPC (or EDQUOT)
// anywhere in its chain, an OS-specific equivalent, or one of their messages
// in a chain Badger has flattened to text.
func isDiskFull(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrDiskFull) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	for _, e := range osDiskFullErrors {
		if errors.Is(err, e) {
			return true
		}
	}
	msg := strings.ToLower(err.Error())
	for _, t := range diskFullTexts {
		if strings.Contains(msg, t) {
			return true
		}
	}
	return false
}

// mapWriteErr returns err wrapped so that errors.Is(result, ErrDiskFull) holds
// when err is a "disk full" error, and err unchanged otherwise.
func mapWriteErr(err error) error {
	if err == nil || errors.Is(err, ErrDiskFull) || !isDiskFull(err) {
		return err
	}
	return fmt.Errorf("%w (%w)", ErrDiskFull, err)
}
