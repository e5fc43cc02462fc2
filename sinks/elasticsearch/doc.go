// Package elasticsearch is the sink kind that delivers an outbox's documents
// to Elasticsearch or OpenSearch through the _bulk API. New builds the
// outbox.Target of a Config; package sinks wires it as kind
// "elasticsearch". It speaks plain HTTP(S) from the standard library: no
// Elasticsearch client.
//
// # Configuration
//
// Config.URL is the cluster's base URL (http://host:9200, or https://...
// behind a proxy prefix). The index is the option "index"; without it, the
// URL's last path segment names the index and the rest of the URL is the
// base: http://host:9200/products sends to index products through
// http://host:9200/_bulk. Options (any other is an error):
//
//	index                 the target index (or alias); required unless the URL path names it
//	username, password    basic authentication (both or neither)
//	api_key               Authorization: ApiKey VALUE; VALUE is the "encoded" key, or
//	                      "id:api_key", which New encodes
//	ca_file               PEM file of the CA(s) that sign the server's certificate (https;
//	                      replaces the system roots)
//	insecure_skip_verify  "true": no certificate check (https; for tests only)
//	refresh               true, false or wait_for: passed as _bulk's refresh parameter
//	timeout               Go duration bounding one _bulk request, response included
//	                      (default 30s)
//
// New checks all of it (and reads ca_file) without contacting the server.
//
// # Delivery
//
// Deliver sends docs as one or more POST {base}/_bulk requests
// (application/x-ndjson), each holding at most Config.BatchSize documents
// (default 500) and at most Config.BatchBytes bytes of body (default 5 MiB;
// a single larger document goes alone). Each document becomes
//
//	{"index":{"_index":IDX,"_id":ID,"version":V,"version_type":"external"}}\n
//	BODY\n
//
// or, for outbox.OpDelete,
//
//	{"delete":{"_index":IDX,"_id":ID,"version":V,"version_type":"external"}}\n
//
// so Elasticsearch applies a version only over a lower one: a redelivered
// or reordered document can never overwrite a newer one.
//
// # Outcomes
//
// Per document (an item of the _bulk response):
//
//	2xx                                     applied
//	409 version_conflict_engine_exception   success: Elasticsearch holds this version or a newer one
//	404 on a delete (result not_found)      success: nothing to delete (the version is still recorded)
//	429, 5xx                                Partial.Failed: retried later
//	401, 403, 404 (index), 408              Partial.Failed: the setup is wrong (a missing
//	                                        privilege, a read-only block, no such index),
//	                                        not the document; retried until it is fixed
//	other 4xx (mapper_parsing_exception...) Partial.Rejected, with Elasticsearch's reason
//
// A version conflict (409) is recognised by its type,
// version_conflict_engine_exception; another 409 is rejected.
// Partial.Err is the first failed or rejected document's error: an *Error
// when Elasticsearch answered for it.
//
// Documents Elasticsearch cannot take at all are rejected before sending:
// a Version above 2^63-1 (Elasticsearch's largest external version), an
// ID that is empty, not UTF-8 or longer than 512 bytes, a Body that is
// empty or holds a line break and is not JSON (a line break would split
// the NDJSON line; valid JSON is compacted instead), an unknown Op.
//
// A request that fails as a whole (network error, timeout, 401/403, 429,
// 5xx, a body that is not a _bulk response) is an *Error or a wrapped
// transport error, and all its documents are retried: a plain error when
// no document of the call is known to be applied or rejected, otherwise a
// *outbox.Partial listing them as Failed. After such a failure Deliver
// sends no further request of the call. A single document whose request
// alone is too large for the server (413) is rejected.
//
// Retrying a document that was in fact applied (its response lost) is
// harmless: the same version answers 409, which is success.
//
// # Caveats
//
//   - Data streams accept only "create": point the sink at an index or at
//     an alias of indices, not at a data stream.
//   - Response bodies are read up to a bound (1 MiB plus 16 KiB per
//     document; 64 KiB for a failed request); a larger answer is an error.
//   - A Sink is safe for concurrent use; Close releases idle connections.
package elasticsearch
