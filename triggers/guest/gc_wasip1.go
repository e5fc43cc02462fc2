//go:build wasip1

package guest

import (
	"os"
	"runtime/debug"
	"strconv"
)

// The garbage collector's pacing inside a function. Go's default (GOGC=100:
// collect when the heap doubles its live size) collects every few batches
// in a handler whose live heap is a few MB, and in wasm a collection runs
// on the one thread, between the handler's own work. The SDK instead lets
// the heap grow to five times its live size (GOGC=400), bounded by a soft
// memory limit of three quarters of the function's MemorySize (Lambda's
// AWS_LAMBDA_FUNCTION_MEMORY_SIZE, which eddy's host sets), so the GC
// collects harder as the heap nears what the host allows rather than let
// memory.grow fail. At the limit nothing changes for the worse: a live heap
// larger than the soft limit makes Go collect often (its GC CPU limiter
// caps that at half the CPU) until the host refuses memory.grow, and the
// invocation fails with Runtime.OutOfMemory as it did under GOGC=100; a
// live heap between half the MemorySize and the soft limit, which GOGC=100
// let grow to twice its size and fail, is collected instead. A function
// that sets GOGC or GOMEMLIMIT in its environment keeps Go's own reading
// of them. Measured in mappings/doc.go (round five).
const (
	guestGCPercent = 400
	// memLimitFraction of MemorySize is the soft limit; the rest is for
	// what Go's limit does not count (the module's data, and growth
	// between two checks).
	memLimitNum, memLimitDen = 3, 4
)

func init() { paceGC(os.Getenv) }

// paceGC sets the pacing above from the environment getenv reads.
func paceGC(getenv func(string) string) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return
	}
	mb, err := strconv.Atoi(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
	if err != nil || mb <= 0 {
		return // not eddy's host (or an old one): Go's defaults
	}
	debug.SetMemoryLimit(int64(mb) << 20 * memLimitNum / memLimitDen)
	debug.SetGCPercent(guestGCPercent)
}
