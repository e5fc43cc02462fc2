// Package dataport moves tables out of and into eddy as DynamoDB does:
// ExportTableToPointInTime, DescribeExport and ListExports write a table
// to S3 (or, an eddy extension, a local directory named file:///abs/dir)
// in AWS's layout, and ImportTable, DescribeImport and ListImports create
// a table from such files.
//
// # Export layout (developer guide, "DynamoDB table export output format")
//
//	<S3Prefix>/AWSDynamoDB/<ExportId>/_started                 empty: the bucket is writable
//	<S3Prefix>/AWSDynamoDB/<ExportId>/data/<26 chars>.json.gz   {"Item":{...}} per line (.ion.gz: {Item:{...}})
//	<S3Prefix>/AWSDynamoDB/<ExportId>/manifest-files.json       one line per data file:
//	                                                           {"itemCount","md5Checksum","etag","dataFileS3Key"}
//	<S3Prefix>/AWSDynamoDB/<ExportId>/manifest-files.checksum   MD5 of the above, hex
//	<S3Prefix>/AWSDynamoDB/<ExportId>/manifest-summary.json     version, exportArn, times, itemCount, ...
//	<S3Prefix>/AWSDynamoDB/<ExportId>/manifest-summary.checksum
//
// An export of "now" reads one consistent view of the table
// (store.DB.ScanAll: every write acknowledged before it, none after), in
// the background, without blocking writers. An export at a past instant
// and an incremental export read the History seam (point-in-time
// recovery); without it they are refused with
// PointInTimeRecoveryUnavailableException.
//
// # Import
//
// ImportTable creates the table at once through CreateTable (so its
// validation and errors are CreateTable's), then reads every object under
// S3KeyPrefix in the background: DYNAMODB_JSON and ION one item per line,
// CSV rows with a header; GZIP, ZSTD or no compression. A line that is not
// an item, or an item the table refuses (missing key, wrong key type, too
// large), is counted in ErrorCount, logged to the /aws-dynamodb/imports
// log group (stream: the import ID) and skipped; the import goes on, as
// DynamoDB's does. Items are written in batches of importBatch, without
// stream records (store.WriteOptions.NoChangeLog), as DynamoDB's imports
// produce none.
//
// # Caveats
//
// Descriptions live in memory: a restart forgets them, and an export or
// import running at shutdown stops where it was. The imported table is
// ACTIVE from the start (DynamoDB shows it CREATING until the import ends).
package dataport
