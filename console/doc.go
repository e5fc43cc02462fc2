// Package console is eddy's web console, served at /console: tables and
// items, streams with a live tail, triggers and dead letters in one place.
//
// The console is static files embedded in the binary (static/), plain ES
// modules with no build step: the browser calls the same APIs a client
// does (DynamoDB and Streams JSON 1.0 on POST /, the Lambda REST API under
// /2015-03-31/, the dead-letter API under /eddy/dlq/), so the console can
// do nothing a client could not, and it needs no handler of its own beyond
// serving its files. ARCHITECTURE.md says why there is no front-end
// toolchain.
//
// Requests are unsigned, as eddy accepts today; when eddy gains
// authentication the console will have to sign them (credentials entered
// once) rather than bypass it.
package console
