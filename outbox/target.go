package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
)

// Op is what a document asks of its target.
type Op string

const (
	// OpIndex creates or replaces the document ID with Body.
	OpIndex Op = "index"
	// OpDelete removes the document ID.
	OpDelete Op = "delete"
)

// Doc is one document on its way to a sink.
type Doc struct {
	// Seq is the document's position in its sink's outbox: it grows by
	// one for every document committed to the sink (gaps are possible
	// where a commit failed) and is stable across redelivery, so a target
	// that keeps the last Seq it applied (a file) can skip what it has.
	Seq uint64
	Op  Op
	// ID is the document's stable identity (the item's key, for a
	// replicated table). Never empty: a handler that emits a document
	// without one gets "<sink>-<Seq>".
	ID string
	// Version only grows for one ID (the stream record's sequence number);
	// a target must not let a lower version overwrite a higher one, and an
	// equal or lower version it already holds is success, not an error.
	// Never zero: a handler that gives none gets Seq.
	Version uint64
	// Table is the source table, when the handler named it.
	Table string
	// Body is the document as a JSON object (OpIndex); nil for OpDelete.
	Body []byte
}

// MsgID is the document's identity at this version, for targets that
// deduplicate by message ID (JetStream's Nats-Msg-Id, a webhook's
// Idempotency-Key): "ID@Version".
func (d *Doc) MsgID() string { return d.ID + "@" + strconv.FormatUint(d.Version, 10) }

// Target delivers documents to one external system. Only the sink's loop
// calls Deliver, one call at a time, in outbox order (a direct Invoke's
// emit goes through the outbox too and waits for the loop).
type Target interface {
	// Deliver applies docs in order. nil: every document was applied (or
	// was superseded: a stale version is success). A *Partial: the
	// documents it lists failed and are retried, the rest were applied.
	// Any other error: none is known to be applied and all are retried.
	// Deliver must honour ctx.
	Deliver(ctx context.Context, docs []Doc) error
	// Close releases the target's connections and files.
	Close() error
}

// Partial is Deliver's error when only some documents failed.
type Partial struct {
	// Failed are the indexes, in docs, of the documents to retry (the
	// target may accept them later: 429, 5xx, a timeout).
	Failed []int
	// Rejected are the indexes of documents the target refuses for good
	// (a 400 mapping error): the outbox keeps them in the sink's rejected
	// list, where `eddy sinks show` lists them, and does not retry them.
	Rejected []int
	// Err says why (the first failure or rejection).
	Err error
}

func (p *Partial) Error() string {
	return fmt.Sprintf("%d of the batch's documents failed and %d were rejected: %v", len(p.Failed), len(p.Rejected), p.Err)
}

func (p *Partial) Unwrap() error { return p.Err }

// Searcher is a Target that answers queries (the embedded index). body is
// an Elasticsearch _search request body (the subset package sinks/search
// documents); the answer has _search's response shape. A bad request is a
// *SearchError.
type Searcher interface {
	Search(ctx context.Context, body []byte) ([]byte, error)
}

// SearchError is a query the Searcher refuses, in Elasticsearch's terms:
// Status 400, Type "parsing_exception" (or "illegal_argument_exception",
// ...), and the reason.
type SearchError struct {
	Status int
	Type   string
	Reason string
}

func (e *SearchError) Error() string { return e.Type + ": " + e.Reason }

// Config is a sink: what the API, `eddy sinks add` and the --sink flags
// create, persisted by the outbox.
type Config struct {
	// Name is how handlers address the sink (eddy.emit) and how the CLI
	// names it: 1-64 of [A-Za-z0-9_.-].
	Name string `json:"Name"`
	// Kind is search, elasticsearch, nats, file or http.
	Kind string `json:"Kind"`
	// URL is the target: the Elasticsearch/OpenSearch base URL, the NATS
	// server URL, the file path, the webhook URL. Empty for search.
	URL string `json:"URL,omitempty"`
	// Options are the kind's settings (see package sinks): index,
	// username, password, ca_file, insecure_skip_verify, stream, subject,
	// max_bytes, header.NAME, ...
	Options map[string]string `json:"Options,omitempty"`
	// BatchSize and BatchBytes bound one Deliver call (defaults 500
	// documents, 5 MiB).
	BatchSize  int `json:"BatchSize,omitempty"`
	BatchBytes int `json:"BatchBytes,omitempty"`
	// MaxBacklog is the number of undelivered documents at which mappings
	// that emit to the sink pause until it drains (default 100,000).
	MaxBacklog int64 `json:"MaxBacklog,omitempty"`
	// FromFlag: the sink was defined by a --sink flag of eddy serve,
	// which creates or updates it at every start.
	FromFlag bool `json:"FromFlag,omitempty"`
}

// Env is what a Target may use besides its Config.
type Env struct {
	// Dir is the sink's own directory under the data directory (created
	// by the caller), for targets that keep files (search). Empty when
	// the server runs in memory: the target then keeps its state in
	// memory.
	Dir string
	// Logger carries the sink's name ("sink" attribute); nil discards.
	Logger *slog.Logger
}

// Opener makes the Target of a Config. Package sinks provides it; Open
// must validate the Config and return an error naming the bad setting
// without contacting the target (the loop connects and retries).
type Opener func(cfg Config, env Env) (Target, error)
