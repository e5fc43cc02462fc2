package mappings_test

import (
	"testing"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// BenchmarkAckToInvoke: PutItem acknowledged → handler invoked, BatchSize
// 1, no window; reports p50/p99 (eddytest.MappingBench, shared with
// mappings/remote's BenchmarkRemoteAckToInvoke).
func BenchmarkAckToInvoke(b *testing.B) {
	sk := &eddytest.Stamps{}
	srv := eddytest.Start(b, server.Options{Sinks: sk, Mappings: fastOptions()})
	arn := srv.StreamTable(b, "src")
	srv.DeployGuest(b, "f", "esm", nil)
	eddytest.MappingBench{Consumer: srv, Source: srv.DDB, Table: "src", StreamArn: arn, Function: "f"}.AckToInvoke(b, sk, nil)
}

// BenchmarkThroughput: records/s, BatchSize 100, from a backlog written
// before the mapping starts (eddytest.MappingBench, shared with
// mappings/remote's BenchmarkRemoteThroughput), through
//
//   - trivial: the empty guest (reads nothing, returns null): what the
//     host costs per record (read, render, invoke, checkpoint);
//   - decode: the esm guest, which decodes every record into typed values
//     with the guest SDK (encoding/json inside wasm) — guarded and with
//     server.Options.TrustedFunctions;
//   - view: the materialized-view handler (trusted).
func BenchmarkThroughput(b *testing.B) {
	for _, c := range []struct {
		name    string
		trusted bool
		view    bool
		guest   string
	}{{"trivial/guarded", false, false, "empty"}, {"trivial/trusted", true, false, "empty"},
		{"decode/guarded", false, false, "esm"}, {"decode/trusted", true, false, "esm"}, {"view/trusted", true, true, "esm"}} {
		b.Run(c.name, func(b *testing.B) {
			srv := eddytest.Start(b, server.Options{NoSync: true, TrustedFunctions: c.trusted, Mappings: fastOptions()})
			arn := srv.StreamTable(b, "src")
			vars := map[string]string{"QUIET": "1"}
			if c.view {
				srv.StreamTable(b, "totals")
				vars["VIEW"] = "totals"
			}
			srv.DeployGuest(b, "f", c.guest, vars)
			eddytest.MappingBench{Consumer: srv, Source: srv.DDB, Table: "src", StreamArn: arn, Function: "f"}.Throughput(b)
		})
	}
}
