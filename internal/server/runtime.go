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
// keeps the larger heap target from growing past 384 MiB: near it the
// collector runs as often as it needs to. Under issue 13's attack (2,000
// slow-body connections, 150 clients not reading 16 MB responses) the live
// heap is 100-130 MB; with a 1 GiB limit the process grew to 640-800 MB of
// RSS, with 384 MiB it stayed at 432 MB (go run ./bench/attack). Ordinary
// load's heap target stays below the limit, so the saving above is kept.
// --memory-limit (or GOMEMLIMIT) overrides it.
const (
	serveGCPercent   = 400
	serveMemoryLimit = 384 << 20
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
