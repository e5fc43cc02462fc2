package server

import (
	"os"
	"runtime/debug"
)

// Garbage collector settings of eddy serve, unless the environment sets
// GOGC or GOMEMLIMIT itself.
//
// A request allocates a few kilobytes that die with it, while the heap that
// survives is small (the catalog, pools, Pebble's memtables and block
// cache), so at Go's default GOGC=100 the collector runs dozens of times a
// second under load. At 400 it runs a quarter as often: with 16 SDK clients
// server CPU per operation fell 9 to 11% for PutItem, GetItem and the mix
// (go run ./bench against the previous commit, same run). The soft limit
// keeps the larger heap target from growing past 1 GiB: near it the
// collector runs as often as it needs to.
const (
	serveGCPercent   = 400
	serveMemoryLimit = 1 << 30
)

// TuneRuntime applies eddy serve's garbage collector settings to this
// process (cmd/eddy serve and bench/profserve call it; tests and embedders
// keep their own).
func TuneRuntime() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(serveMemoryLimit)
	}
}
