//go:build windows

package storage

import "golang.org/x/sys/windows"

// freeBytes returns the space available to this user on the disk holding
// dir; ok is false when it cannot be measured.
func freeBytes(dir string) (free uint64, ok bool) {
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return 0, false
	}
	var avail, total, totalFree uint64
	if err := windows.GetDiskFreeSpaceEx(p, &avail, &total, &totalFree); err != nil {
		return 0, false
	}
	return avail, true
}
