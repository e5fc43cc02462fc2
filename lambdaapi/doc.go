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
// DeleteAlias, DeleteFunction (with Qualifier) and Invoke (RequestResponse,
// Event, DryRun; X-Amz-Log-Type: Tail).
//
// Code is Code.ZipFile: a zip holding exactly one .wasm file, or the raw
// .wasm bytes. Runtime is stored and echoed, never interpreted. Handler
// names the wasm export (default "handle", see triggers/ABI.md).
//
// # Not supported
//
// Code from S3 or container images, layers, permissions/policies, event
// invoke configs, concurrency settings, function URLs, tags, VPC and
// alias routing configs. Role is required by the SDKs but ignored.
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
