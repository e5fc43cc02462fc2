// Package search is the embedded full-text search sink (kind "search"): the
// documents trigger handlers emit go into a bleve (scorch) index that
// answers a subset of Elasticsearch's _search API. Index implements
// outbox.Target and outbox.Searcher.
//
// # Storage
//
// With outbox.Env.Dir set, the index lives in Dir/index and survives
// restart (New reopens it); with Dir empty it is kept in memory (scorch
// without a path: bleve.NewMemOnly's upsidedown store indexes over ten
// times slower). Doc.Table is not indexed. Every
// bleve document eddy writes carries, besides the user's fields, a few
// fields under the reserved "_eddy." prefix:
//
//	_eddy.source  stored only: the Body bytes exactly as delivered
//	_eddy.ver     keyword, stored, doc values: the version, 16 hex digits
//	              (so that byte order is numeric order)
//	_eddy.tomb    keyword "T", stored: the document is a tombstone (OpDelete)
//	_eddy.fields  keyword: every field path the body has (for exists)
//
// The field mapping (which kinds each path has held) is kept in the
// index's internal key "eddy.mapping", written in the batch that changes
// it.
//
// # Versions and crash safety
//
// The version of an ID is a field of its bleve document, never a separate
// record, so a document and its version are one write and cannot be split
// by a crash. An OpDelete replaces the document with a tombstone carrying
// the delete's version, which every search excludes; an OpIndex with a
// higher version replaces the tombstone. Deliver looks up the stored
// versions of a batch's IDs (one doc-ID query sorted on _eddy.ver doc
// values), drops every document whose Version is not above both the
// stored version and the versions earlier in the batch, and applies the
// rest as one bleve batch. A scorch batch is introduced as one segment and
// persisted as one snapshot, and bleve's Batch returns only after that
// snapshot is fsynced (unsafe_batch is false): after Deliver returns nil
// the documents are durable; after a crash inside Deliver, each document
// of the batch is either applied with its version or absent, and the
// outbox redelivers it (re-applying is idempotent by version).
// TestCrash kills a delivering process and checks this. One caveat below
// a process crash: bleve fsyncs each new segment file and its root (bolt)
// file, but not the directory that names the segment file, which POSIX
// leaves to the file system on a power failure (ext4 and XFS journal the
// name with the file's fsync).
//
// Tombstones are kept forever (they are small); Count does not count them.
//
// # Field mapping (dynamic, like Elasticsearch's)
//
// Body must be a JSON object. Nested objects give dotted paths (a.b.c);
// arrays index each element under the array's path.
//
//	string   path: analyzed text (unicode tokenizer + lowercase, which is
//	         Elasticsearch's standard analyzer; phrase positions kept);
//	         path.keyword: the exact string (strings up to 256 bytes, as
//	         ES's ignore_above), for term, terms, prefix, range and sort.
//	         An RFC 3339 string is also a date on path (range, sort).
//	number   path: a float64 numeric value (range, sort) when the number
//	         is within float64's range; path.keyword: the exact text as
//	         written, so a term on a 38-digit number matches exactly.
//	boolean  path: true/false (term).
//	null     not indexed (exists is false), as in Elasticsearch.
//
// Numbers and dates are int64s (a float64's sortable bits, a date's Unix
// nanoseconds) indexed as prefix-coded terms every 8 bits, not bleve's 4:
// half the terms, a quarter less indexing CPU for an item with a few
// numbers; range queries are this package's own (numeric.go).
//
// A body deeper than 20 levels, with an empty field name, with a
// top-level "_eddy" or "_id" key, or that would take the index past
// Options["max_fields"] distinct paths (default 1000, ES's
// total_fields.limit) is rejected for good (outbox.Partial.Rejected).
//
// # Search: the Elasticsearch subset
//
// Request keys: query, from, size (default 10, from+size <= 10000), sort,
// highlight, _source (true/false), track_total_hits (ignored: totals are
// always exact, relation "eq"). An empty body is match_all. Queries:
//
//	match_all, match (query, operator and/or, minimum_should_match, boost),
//	match_phrase (query; slop must be 0), term, terms, range
//	(gt/gte/lt/lte; numbers, RFC 3339 or yyyy-MM-dd dates, or strings on
//	keyword fields), exists, prefix, bool (must, should, must_not, filter,
//	minimum_should_match as a count or a percentage), query_string (query,
//	default_field, fields with field^boost, default_operator).
//
// term on a text path matches its lowercased tokens (as in ES); use
// path.keyword for the exact string. term with a number matches the
// exact text or, where the number fits a float64 exactly (up to 15
// significant digits), the numeric value (so 1 matches 1.0). term on _id
// and terms on _id match document IDs.
//
// Differences from Elasticsearch: scores are bleve's BM25, close to but not
// equal to Lucene's; query_string uses bleve's syntax (+must -mustnot
// field:value field:"phrase" field:>5 field:>="2024-01-01" /regexp/
// wild*card fuzzy~2 boost^2) with Lucene's AND, OR, NOT, && and || and
// default_operator translated, but no parentheses; a field-less term
// searches every text field; ranges on 38-digit numbers compare their
// float64 approximations; dates in range must be RFC 3339 or yyyy-MM-dd
// (no date math, no format); highlight uses the "plain" strategy over the
// _source values (pre_tags/post_tags, fragment_size, number_of_fragments
// honoured), and highlights every queried term of the field, also outside
// a phrase; sort values of dates are epoch milliseconds, of numbers
// float64s; sorting on a text path is refused (use path.keyword) as in ES;
// sort on _doc is ID order (bleve has no index order), _id is allowed.
//
// Bounds on a request: body 1 MiB, query nesting depth 20, 1024 clauses
// in all (terms values and query_string fields count one each), from+size
// 10000, 16 sort keys, 100 highlight fields. The terms a prefix, wildcard
// or regexp expands to are bounded by the index's dictionary only (as in
// bleve); ctx bounds the time.
package search
