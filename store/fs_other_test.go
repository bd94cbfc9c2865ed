//go:build !linux

package store

// onTmpfs reports false: only Linux is checked.
func onTmpfs(dir string) (bool, error) { return false, nil }
