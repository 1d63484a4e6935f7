//go:build linux || darwin

package store

import "syscall"

// noFreeBlocks tells whether the file system holding dir has no block left
// for an unprivileged writer.
func noFreeBlocks(dir string) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return false
	}
	return st.Bavail == 0
}
