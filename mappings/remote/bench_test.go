package remote_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/mappings"
	"github.com/eddydb/eddy/mappings/remote"
)

// benchPair starts eddy B (the table, NoSync) and eddy A reading B's
// streams with the default poll interval (250ms), the trigger host
// trusted, emits to sink.
func benchPair(b *testing.B, sink interface {
	Emit(context.Context, string, []byte) error
}) (a, src *eddytest.Server) {
	src = eddytest.Start(b, server.Options{NoSync: true, AccountID: "111111111111"})
	a = eddytest.Start(b, server.Options{NoSync: true, TrustedFunctions: true, Sinks: sink,
		Mappings: mappings.Options{RetryBackoff: time.Millisecond, MaxRetryBackoff: 50 * time.Millisecond},
		RemoteStreams: []remote.Endpoint{{Region: "us-east-1", Account: "111111111111", URL: src.URL(),
			Credentials: credentials.NewStaticCredentialsProvider("AKIDREMOTE", "secret", "")}}})
	return a, src
}

// BenchmarkRemoteThroughput: records/s of a mapping in eddy A draining a
// backlog of b.N*1000 records in eddy B's stream (4 shards) through B's
// Streams API, BatchSize 100, the empty guest (trusted): what reading a
// remote stream costs per record, to compare with mappings'
// BenchmarkThroughput/trivial/trusted (the same eddytest.MappingBench,
// with the table in the consumer's own eddy).
//
//	go test ./mappings/remote -run '^$' -bench RemoteThroughput -benchtime 20x
func BenchmarkRemoteThroughput(b *testing.B) {
	a, src := benchPair(b, nil)
	arn := src.StreamTable(b, "src")
	a.DeployGuest(b, "f", "empty", nil)
	eddytest.MappingBench{Consumer: a, Source: src.DDB, Table: "src", StreamArn: arn, Function: "f"}.Throughput(b)
}

// BenchmarkRemoteAckToInvoke: PutItem acknowledged by eddy B → the handler
// invoked in eddy A, BatchSize 1, one write at a time; p50/p99. Compare
// with mappings' BenchmarkAckToInvoke (the same eddytest.MappingBench in
// one eddy): the difference is what the remote hop adds, mostly the poll
// interval (a caught-up remote shard is polled every 250ms; eddy's own log
// wakes its readers on commit).
//
//	go test ./mappings/remote -run '^$' -bench RemoteAckToInvoke -benchtime 100x
func BenchmarkRemoteAckToInvoke(b *testing.B) {
	sk := &eddytest.Stamps{}
	a, src := benchPair(b, sk)
	arn := src.StreamTable(b, "src")
	a.DeployGuest(b, "f", "esm", nil)
	rng := rand.New(rand.NewPCG(1, 2))
	// Writes at random points of the reader's poll cycle (one at a time,
	// each right after the last was seen, would land at the start of its
	// wait every time: the worst case, not the typical).
	pause := func() { time.Sleep(time.Duration(rng.Int64N(int64(300 * time.Millisecond)))) }
	eddytest.MappingBench{Consumer: a, Source: src.DDB, Table: "src", StreamArn: arn, Function: "f"}.AckToInvoke(b, sk, pause)
}
