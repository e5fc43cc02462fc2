// Package file is the file sink kind: it appends each document an outbox
// delivers to a local file, one JSON envelope per line (JSON Lines), and
// rotates the file by size. It also owns the envelope, the wire form of a
// document that the NATS sink (package sinks/natssink) publishes too.
//
// # The envelope
//
// One JSON object per document, fields in this order (seq is always
// first: the sink reads it back from the start of the last line):
//
//	{"seq":42,"op":"index","id":"k1","version":7,"table":"orders","doc":{...}}
//	{"seq":43,"op":"delete","id":"k2","version":9}
//	  seq      outbox.Doc.Seq: grows across the sink's whole life
//	  op       "index" or "delete"
//	  id       the document's ID
//	  version  the document's version (only grows for one id)
//	  table    the source table; omitted when empty
//	  doc      the document, verbatim (compacted only if it spans
//	           lines); only for "index"
//
// # Exactly once by seq
//
// Deliver appends the batch's lines, fsyncs, and only then returns; the
// outbox deletes documents after Deliver returns, so after a crash it may
// deliver them again. The sink therefore remembers the seq of the last
// line it wrote and skips every document whose Seq is not above it: each
// document is in the files once. When it opens the file (at the first
// Deliver, and again after a write error) it
//
//  1. truncates a torn last line (a crash in the middle of a write: the
//     bytes after the last newline) away, and fsyncs;
//  2. reads the seq of the last complete line; when the file is empty or
//     missing (a crash right after a rotation), the newest rotated file's.
//
// Deleting or truncating the files resets the sink: what the outbox
// delivers next is written whatever its seq.
//
// # Rotation
//
// When a line would take the current file beyond max_bytes, the file is
// renamed PATH.1, the older rotated files move up by one (PATH.1 becomes
// PATH.2, ...; the highest number is the oldest, as logrotate does) and a
// new PATH is created. Rotated files are complete: rotation happens only
// after the file's lines were fsynced. With max_files N > 0, only the N
// newest rotated files are kept. A line longer than max_bytes goes alone
// into a file of its own. Do not rotate the file with an external tool:
// the sink keeps it open and would go on writing to the renamed file.
//
// # Configuration
//
// outbox.Config.URL is the file's path, absolute or relative to the
// server's working directory, or a file:///path URL. Options:
//
//	max_bytes  rotate before the file would exceed this many bytes
//	           (default 67108864, 64 MiB)
//	max_files  keep this many rotated files, deleting older ones
//	           (default 0: keep all)
//
// The file's directory must exist: the sink does not create it, so that a
// missing mount or a mistyped path is an error the sink's loop reports
// and retries rather than files written somewhere unexpected. The file
// itself is created (mode 0644, less the umask) when missing.
package file
