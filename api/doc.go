// Package api speaks eddy's two JSON protocols over the store and its change
// log:
//
//   - the DynamoDB JSON 1.0 protocol (POST / with X-Amz-Target
//     DynamoDB_20120810.<Op>),
//   - the DynamoDB Streams protocol on the same path
//     (DynamoDBStreams_20120810.<Op>),
//
// plus DynamoDB's answers to GET / (a health text) and to other methods (a
// bare XML 404). A Server (New(Config)) is an http.Handler for those and
// runs operations in process with Call (trigger functions' table calls).
// It listens on nothing and starts no goroutine: package internal/server
// opens the store, the stream log and the trigger host, mounts this handler
// next to the Lambda API, /eddy/dlq/, /metrics and /healthz, and owns the
// lifecycle. api imports neither triggers nor mappings nor dlq.
//
// A request flows: serveRPC (target → opFunc) → decode (SerializationException
// for malformed JSON, attr's ValidationException for bad attribute values) →
// the handler validates members with constraints (DynamoDB's "N validation
// errors detected" messages), compiles expressions once (store/expr), and
// calls the store → the response body is built (by hand on hot paths) and
// sent with x-amzn-RequestId and x-amz-crc32.
//
// Every error is a *ddberr.Error from the one error table; writeError renders
// it. A panic in a handler is logged with its stack (Config.Logger) and
// becomes InternalServerError, never a dropped connection.
//
// api does not authenticate: the server's middleware (internal/server,
// package auth) verifies SigV4 signatures before a request reaches it and
// puts the identity in the request's context, which serveRPC reads
// (auth.FromContext) into the call; its access key ID is the writing
// principal. A server without credentials runs open, on loopback only, and
// its identities are anonymous.
//
// Authorization (authorize.go): before its handler runs, an operation with a
// principal (Deps.Principal of the access key ID, or arn.PrincipalFrom in
// process: a function's role) is checked against the principal's IAM
// policies (Deps.Policies) for every action and resource it touches, with
// the condition keys DynamoDB sets; a denial is AccessDeniedException and
// nothing runs. No principal, or no policy stored at all, allows everything.
package api
