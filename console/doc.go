// Package console is eddy's web console, served at /console: tables and
// items, streams with a live tail, triggers and dead letters in one place.
//
// The console is static files embedded in the binary (static/), plain ES
// modules with no build step: the browser calls the same APIs a client
// does (DynamoDB and Streams JSON 1.0 on POST /, CloudWatch Logs, the
// Lambda REST API under /2015-03-31/, the dead-letter API under
// /eddy/dlq/, a mapping's last hour under /eddy/mappings/), so the console
// can do nothing a client could not, and it needs no handler of its own
// beyond serving its files. ARCHITECTURE.md says why there is no front-end
// toolchain.
//
// Authentication is never bypassed: with credentials entered (once per
// tab, kept in sessionStorage) every request is signed with SigV4 in the
// browser (static/sigv4.js, WebCrypto); without them requests go unsigned
// and eddy answers as it would any unsigned client.
//
// The item editor's plain JSON (static/plainjson.js) is read by its own
// tokenizer, which keeps each number's text: DynamoDB's 38 digits never
// pass through a JavaScript number.
package console
