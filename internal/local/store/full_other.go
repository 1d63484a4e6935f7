//go:build !linux && !darwin

package store

// noFreeBlocks cannot tell here: only SQLITE_FULL and ENOSPC say the disk
// is full.
func noFreeBlocks(string) bool { return false }
