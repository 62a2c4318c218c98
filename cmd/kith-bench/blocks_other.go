//go:build !unix

package main

import "io/fs"

// blocks is the disk space a file takes; without block counts, its size.
func blocks(info fs.FileInfo) int64 { return info.Size() }
