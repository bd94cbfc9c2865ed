//go:build linux

package store

import "syscall"

// onTmpfs reports whether dir is on tmpfs, where fsync costs nothing and
// durability figures would mean nothing.
func onTmpfs(dir string) (bool, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return false, err
	}
	const tmpfsMagic = 0x01021994
	return st.Type == tmpfsMagic, nil
}
