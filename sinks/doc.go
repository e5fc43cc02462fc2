// Package sinks delivers the documents trigger functions emit (eddy.emit)
// to where eddy serve's --sink NAME=URL flags point: an HTTP(S) endpoint
// (POST, e.g. an OpenSearch _doc URL) or a NATS subject. URLSinks is the
// triggers.Sinks the server is given.
//
// Delivery is at least once: an emit returns after the target accepted the
// document, and a retried batch emits again, so targets should be
// idempotent by document ID.
package sinks
