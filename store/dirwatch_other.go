//go:build !unix

package store

import "os"

// removed is not detected on this platform.
func removed(*os.File) bool { return false }
