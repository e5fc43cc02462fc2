// Package lambdaapi serves the subset of the AWS Lambda REST-JSON API
// (paths under /2015-03-31/) that manages and invokes eddy's WebAssembly
// functions, so the AWS SDKs and CLI work against eddy unchanged.
//
// # Supported
//
// CreateFunction, GetFunction, GetFunctionConfiguration, ListFunctions
// (Marker/MaxItems, FunctionVersion=ALL), UpdateFunctionCode,
// UpdateFunctionConfiguration (Handler, Timeout, MemorySize, Environment,
// Description, Runtime, RevisionId), PublishVersion,
// ListVersionsByFunction, CreateAlias, GetAlias, ListAliases, UpdateAlias,
// DeleteAlias, DeleteFunction (with Qualifier), PutFunctionConcurrency,
// GetFunctionConcurrency, DeleteFunctionConcurrency (reserved concurrency;
// their paths are under /2017-10-31/ and /2019-09-30/, which the server
// mounts here too) and Invoke (RequestResponse, Event, DryRun;
// X-Amz-Log-Type: Tail). An Invoke past the concurrency limits answers
// TooManyRequestsException (429) with Lambda's Reason.
//
// Code.ZipFile is bounded before it is inflated (code.go): at most 1000
// entries and a 1 MiB central directory, no zip64, no path leaving the
// archive, declared sizes within Lambda's 262144000 bytes in all and
// MaxCodeSize for the .wasm, which is read through a limit.
//
// Code is Code.ZipFile: a zip holding exactly one .wasm file, or the raw
// .wasm bytes. Runtime is stored and echoed, never interpreted. Handler
// names the wasm export (default "handle", see triggers/ABI.md).
//
// # Not supported
//
// Code from S3 or container images, layers, permissions/policies, event
// invoke configs, provisioned concurrency, function URLs, tags, VPC and
// alias routing configs. Role is stored and reported: a function's table
// calls act as that role, authorized by its IAM policies (/eddy/policies).
// With WithPolicies, every request's principal is authorized for the route's
// lambda:* action (authorize.go).
// Requests are not authenticated: SigV4 signatures are not checked.
//
// Errors use Lambda's shape: the HTTP status, an X-Amzn-Errortype header
// and a body {"Type":"User","message":"..."} ("Message" for
// ResourceNotFoundException, ServiceException and InvalidZipFileException,
// whose shapes spell it so in Lambda's model).
//
// The dependency direction is lambdaapi -> triggers; triggers knows
// nothing of HTTP.
package lambdaapi
