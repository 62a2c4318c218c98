//go:build !windows

package storage

// osDiskFullErrors are the OS-specific "disk full" errors beyond ENOSPC and EDQUOT.
var osDiskFullErrors []error
