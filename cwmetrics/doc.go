// Package cwmetrics keeps DynamoDB's CloudWatch metrics (namespace
// AWS/DynamoDB) for eddy's tables and serves them through the subset of
// the CloudWatch API that `aws cloudwatch get-metric-statistics`,
// GetMetricData dashboards and ListMetrics use.
//
// # What it records
//
// api reports every successful item request (GetItem, PutItem, UpdateItem,
// DeleteItem, Query, Scan, the batches, the transactions, PartiQL) through
// api.Deps.Usage, whether or not the client asked for
// ReturnConsumedCapacity; internal/server hands it to Store.Record:
//
//	ConsumedReadCapacityUnits, ConsumedWriteCapacityUnits   TableName [+ GlobalSecondaryIndexName]
//	    one sample per request: Sum is the units, SampleCount the requests
//	SuccessfulRequestLatency (Milliseconds)                  TableName + Operation
//	ReturnedItemCount (Query, Scan, ExecuteStatement)        TableName + Operation
//	ProvisionedRead/WriteCapacityUnits                       TableName [+ GlobalSecondaryIndexName], sampled each minute (Store.Set)
//	ReadThrottleEvents, WriteThrottleEvents                  TableName [+ GlobalSecondaryIndexName] } Store.RecordThrottle,
//	ThrottledRequests                                        TableName + Operation                 } from the capacity limiter
//	ReplicationLatency (Milliseconds)                        TableName + ReceivingRegion, in the source region's
//	    namespace, one sample per change applied from it (package global, on the receiving server)
//
// Every series is also keyed by region (the request's SigV4 scope), and a
// CloudWatch request sees its own region's.
//
// # Bounds
//
// Data points are per minute (Sum, Count, Min, Max: enough for CloudWatch's
// five statistics, not for percentiles) and kept Options.Retention (3 hours
// by default; CloudWatch keeps 1-minute data 15 days), pruned once a
// minute. At most Options.MaxSeries series (4096) exist; past it the one
// updated least recently is dropped. Everything is in memory: a restart
// loses the metrics, as it loses nothing else a client relies on.
//
// # Protocols
//
// CloudWatch's Smithy model is awsQueryCompatible and lists three
// protocols. What each client sends was captured against a test server:
// aws-sdk-go-v2 service/cloudwatch v1.76.0 and botocore 1.43 (AWS CLI
// v1.45) send Smithy RPC v2 CBOR (POST /service/GraniteServiceVersion20100801/operation/Op,
// Smithy-Protocol: rpc-v2-cbor); AWS CLI v2.9 (Debian bookworm) and older
// SDKs send awsquery (a form POST /, XML answers); JSON 1.0 (X-Amz-Target:
// GraniteServiceVersion20100801.Op) is served too. Errors carry the query
// code in x-amzn-query-error, which the SDKs read (InvalidParameterValue,
// InvalidParameterCombination, MissingParameter, ValidationError).
//
// # Invariants
//
//  1. One mutex guards the Store; Record holds it for a few map updates.
//  2. A series' buckets are in ascending minute order; Query aggregates
//     them into periods aligned on the request's StartTime and leaves out
//     periods without samples, as CloudWatch does.
//
// # Caveats
//
//   - No PutMetricData, alarms, dashboards, metric math, Metrics Insights,
//     percentiles or high-resolution periods (refused with
//     InvalidParameterValue saying so).
//   - A request that fails (a failed condition included) records nothing;
//     a read-only ExecuteTransaction is not metered.
package cwmetrics
