// Package server wires eddy together: it opens the store, the stream log,
// the trigger host, the dead-letter store and the event source mappings, in
// that order, gives them one logger and one Prometheus registry, mounts
// their HTTP faces on one mux, starts the background work the store owns
// (TTL sweeps, index backfills), and closes everything in exactly the
// reverse order on Shutdown.
//
// It is the only package that knows every subsystem. Package api speaks the
// DynamoDB and Streams protocols over the store and the stream log and knows
// nothing of triggers; the Lambda API (lambdaapi), /eddy/dlq/, /metrics
// and /healthz are mounted here. cmd/eddy, internal/eddytest and
// bench/profserve build a Server from Options.
//
// Every connection and request passes the limits of Options.HTTP
// (HTTPLimits, limits.go, connlimit.go): a connection cap that closes idle
// connections first and keeps a reserve for /healthz and /metrics, read
// and write deadlines proportional to the bytes moved, a cap on requests
// in flight with a short queue (DynamoDB requests are admitted once their
// body is read, through api.Deps.Admit), and a budget of large response
// bytes being written. Refusals are DynamoDB's RequestLimitExceeded, or
// Lambda's TooManyRequestsException on the Lambda API.
//
// Routes:
//
//	POST /            DynamoDB and DynamoDB Streams (package api)
//	/2015-03-31/      Lambda REST API subset (lambdaapi)
//	/eddy/dlq/        dead letters (dlq.Store.Handler)
//	GET /metrics      Prometheus text: every subsystem's metrics
//	/healthz          200 "ok" once Start has returned, 503 during shutdown
package server
