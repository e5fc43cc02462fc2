//go:build wasip1

package guest

import (
	"os"
	"runtime/debug"
	"strconv"
)

// The garbage collector's limit inside a function. Under Go's default
// pacing alone (GOGC=100: collect when the heap doubles its live size) a
// handler whose live heap is more than half its MemorySize asks for more
// linear memory than the host allows before it collects, and fails with
// Runtime.OutOfMemory although what it keeps fits. The SDK sets a soft
// memory limit of three quarters of the function's MemorySize (Lambda's
// AWS_LAMBDA_FUNCTION_MEMORY_SIZE, which eddy's host sets), so Go
// collects as its heap nears that instead; the rest is for what the limit
// does not count (the module's data) and growth between two checks. At
// the limit: a live heap larger than the soft limit makes Go collect often
// (its GC CPU limiter caps that at half the CPU) until the host refuses
// memory.grow, and the invocation fails with Runtime.OutOfMemory as it did
// without the limit. GOGC stays 100: raising it (400, 1000) or turning
// the GC off under the limit measured no faster on the handler benchmarks
// (mappings/doc.go, round five). A function that sets GOGC or GOMEMLIMIT
// in its environment keeps Go's own reading of them.
const memLimitNum, memLimitDen = 3, 4

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
}
