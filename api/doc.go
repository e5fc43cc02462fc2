// Package api is eddy's network face: one HTTP listener serving
//
//   - the DynamoDB JSON 1.0 protocol (POST / with X-Amz-Target
//     DynamoDB_20120810.<Op>),
//   - the DynamoDB Streams protocol on the same path
//     (DynamoDBStreams_20120810.<Op>),
//   - the Lambda REST API under /2015-03-31/ (package api/lambdaapi, over the
//     trigger host),
//   - GET /healthz.
//
// A request flows: serveRPC (target → opFunc) → decode (SerializationException
// for malformed JSON, attr's ValidationException for bad attribute values) →
// the handler validates members with constraints (DynamoDB's "N validation
// errors detected" messages), compiles expressions once (store/expr), and
// calls the store → the response body is built (by hand on hot paths) and
// sent with x-amzn-RequestId and x-amz-crc32.
//
// Every error is a *ddberr.Error from the one error table; writeError renders
// it. A panic in a handler becomes InternalServerError, never a dropped
// connection.
//
// Requests are not authenticated: SigV4 signatures are accepted unchecked and
// the access key ID is recorded as the writing principal. eddy is meant to
// listen on loopback or a trusted network (a documented difference).
package api
