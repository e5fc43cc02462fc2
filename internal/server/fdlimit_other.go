//go:build !unix

package server

// openFileLimit is unknown here: the connection cap keeps its default.
func openFileLimit() uint64 { return 0 }
