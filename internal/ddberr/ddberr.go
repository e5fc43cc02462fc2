// Package ddberr is the one table of DynamoDB error kinds eddy returns: the
// wire __type, the HTTP status and the default message of each, with typed
// constructors. Handlers never build error JSON by hand; they return an
// *Error and the protocol layer renders it.
//
// Classification uses errors.Is against the sentinel of each kind, never the
// message text:
//
//	if errors.Is(err, ddberr.ConditionalCheckFailed) { ... }
package ddberr

import (
	"errors"
	"fmt"
)

// Kind identifies one DynamoDB error type.
type Kind uint8

// The error kinds eddy returns. Keep in step with table below.
const (
	KindInternal Kind = iota
	KindValidation
	KindSerialization
	KindUnknownOperation
	KindMissingAuthenticationToken
	KindResourceNotFound
	KindResourceInUse
	KindConditionalCheckFailed
	KindTransactionCanceled
	KindTransactionConflict
	KindTransactionInProgress
	KindIdempotentParameterMismatch
	KindProvisionedThroughputExceeded
	KindThrottling
	KindLimitExceeded
	KindItemCollectionSizeLimitExceeded
	KindRequestLimitExceeded
	KindExpiredIterator
	KindTrimmedDataAccess
	KindDuplicateItem
	KindServiceUnavailable
	KindAccessDenied
	KindIncompleteSignature
	KindTableNotFound
	// The backup and restore operations' own kinds.
	KindBackupNotFound
	KindBackupInUse
	KindTableAlreadyExists
	KindTableInUse
	KindPointInTimeRecoveryUnavailable
	KindInvalidRestoreTime
	KindContinuousBackupsUnavailable
	// Export and import (package dataport).
	KindExportNotFound
	KindImportNotFound
	KindExportConflict
	KindImportConflict
	KindInvalidExportTime
	KindPolicyNotFound
	// The legacy (2017.11.29) global table operations.
	KindGlobalTableNotFound
)

const ddbNS = "com.amazonaws.dynamodb.v20120810#"

// table: wire type (as DynamoDB sends it; ValidationException and the
// protocol errors live in the coral namespaces), HTTP status, default message.
var table = [...]struct {
	wire   string
	status int
	msg    string
}{
	KindInternal:                        {"com.amazonaws.dynamodb.v20120810#InternalServerError", 500, "Internal server error"},
	KindValidation:                      {"com.amazon.coral.validate#ValidationException", 400, ""},
	KindSerialization:                   {"com.amazon.coral.service#SerializationException", 400, ""},
	KindUnknownOperation:                {"com.amazon.coral.service#UnknownOperationException", 400, ""},
	KindMissingAuthenticationToken:      {"com.amazon.coral.service#MissingAuthenticationTokenException", 400, "Request is missing Authentication Token"},
	KindResourceNotFound:                {ddbNS + "ResourceNotFoundException", 400, "Requested resource not found"},
	KindResourceInUse:                   {ddbNS + "ResourceInUseException", 400, ""},
	KindConditionalCheckFailed:          {ddbNS + "ConditionalCheckFailedException", 400, "The conditional request failed"},
	KindTransactionCanceled:             {ddbNS + "TransactionCanceledException", 400, "Transaction cancelled, please refer cancellation reasons for specific reasons"},
	KindTransactionConflict:             {ddbNS + "TransactionConflictException", 400, "Transaction is ongoing for the item"},
	KindTransactionInProgress:           {ddbNS + "TransactionInProgressException", 400, "Transaction is in progress"},
	KindIdempotentParameterMismatch:     {ddbNS + "IdempotentParameterMismatchException", 400, "The request uses the same client token as a previous, but non-identical request."},
	KindProvisionedThroughputExceeded:   {ddbNS + "ProvisionedThroughputExceededException", 400, "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API"},
	KindThrottling:                      {"com.amazon.coral.availability#ThrottlingException", 400, "Rate of requests exceeds the allowed throughput."},
	KindLimitExceeded:                   {ddbNS + "LimitExceededException", 400, ""},
	KindItemCollectionSizeLimitExceeded: {ddbNS + "ItemCollectionSizeLimitExceededException", 400, "Item collection size limit exceeded"},
	KindRequestLimitExceeded:            {ddbNS + "RequestLimitExceeded", 400, "Throughput exceeds the current throughput limit for your account."},
	KindExpiredIterator:                 {ddbNS + "ExpiredIteratorException", 400, "Iterator expired"},
	KindTrimmedDataAccess:               {ddbNS + "TrimmedDataAccessException", 400, ""},
	KindDuplicateItem:                   {ddbNS + "DuplicateItemException", 400, "Duplicate primary key exists in table"},
	KindServiceUnavailable:              {"com.amazon.coral.availability#ServiceUnavailableException", 503, "Service unavailable"},
	KindAccessDenied:                    {"com.amazon.coral.service#AccessDeniedException", 400, "Access denied"},
	KindIncompleteSignature:             {"com.amazon.coral.service#IncompleteSignatureException", 400, ""},
	// TableNotFoundException is what the backup operations answer for a
	// missing table (DescribeContinuousBackups), where the others answer
	// ResourceNotFoundException.
	KindTableNotFound: {ddbNS + "TableNotFoundException", 400, ""},
	// The backup and restore operations' declared errors (API reference,
	// CreateBackup, RestoreTableFromBackup, RestoreTableToPointInTime).
	KindBackupNotFound:                 {ddbNS + "BackupNotFoundException", 400, ""},
	KindBackupInUse:                    {ddbNS + "BackupInUseException", 400, ""},
	KindTableAlreadyExists:             {ddbNS + "TableAlreadyExistsException", 400, ""},
	KindTableInUse:                     {ddbNS + "TableInUseException", 400, ""},
	KindPointInTimeRecoveryUnavailable: {ddbNS + "PointInTimeRecoveryUnavailableException", 400, "Point in time recovery has not yet been enabled for this source table."},
	KindInvalidRestoreTime:             {ddbNS + "InvalidRestoreTimeException", 400, ""},
	KindContinuousBackupsUnavailable:   {ddbNS + "ContinuousBackupsUnavailableException", 400, ""},
	// The export and import operations' declared errors (API reference of
	// ExportTableToPointInTime, DescribeExport, ImportTable, DescribeImport).
	KindExportNotFound:      {ddbNS + "ExportNotFoundException", 400, ""},
	KindImportNotFound:      {ddbNS + "ImportNotFoundException", 400, ""},
	KindExportConflict:      {ddbNS + "ExportConflictException", 400, ""},
	KindImportConflict:      {ddbNS + "ImportConflictException", 400, ""},
	KindInvalidExportTime:   {ddbNS + "InvalidExportTimeException", 400, ""},
	KindPolicyNotFound:      {ddbNS + "PolicyNotFoundException", 400, ""},
	KindGlobalTableNotFound: {ddbNS + "GlobalTableNotFoundException", 400, ""},
}

// Error is a DynamoDB error with its kind and message, plus the extra
// members some kinds carry.
type Error struct {
	Kind    Kind
	Message string
	// Item is the current item for ConditionalCheckFailedException when the
	// request asked for ReturnValuesOnConditionCheckFailure=ALL_OLD. Encoded
	// by the protocol layer; typed as any to keep this package a leaf.
	Item any
	// CancellationReasons belong to TransactionCanceledException.
	CancellationReasons []CancellationReason
}

// CancellationReason is one entry of TransactionCanceledException's list.
type CancellationReason struct {
	Code    string // "None", "ConditionalCheckFailed", "ValidationError", ...
	Message string
	Item    any
}

func (e *Error) Error() string {
	return table[e.Kind].wire[lastHash(table[e.Kind].wire)+1:] + ": " + e.Message
}

// Is matches another *Error of the same kind; sentinels (no message) match
// every error of their kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && (t.Message == "" || t.Message == e.Message)
}

// WireType returns the __type member.
func (e *Error) WireType() string { return table[e.Kind].wire }

// Status returns the HTTP status code.
func (e *Error) Status() int { return table[e.Kind].status }

// Name returns the short error name, e.g. "ValidationException".
func (e *Error) Name() string {
	w := table[e.Kind].wire
	return w[lastHash(w)+1:]
}

func lastHash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '#' {
			return i
		}
	}
	return -1
}

// New builds an error of the kind with the kind's default message when
// format is empty.
func New(k Kind, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	if msg == "" {
		msg = table[k].msg
	}
	return &Error{Kind: k, Message: msg}
}

// Sentinels for errors.Is.
var (
	Internal                    = &Error{Kind: KindInternal}
	Validation                  = &Error{Kind: KindValidation}
	Serialization               = &Error{Kind: KindSerialization}
	UnknownOperation            = &Error{Kind: KindUnknownOperation}
	ResourceNotFound            = &Error{Kind: KindResourceNotFound}
	ResourceInUse               = &Error{Kind: KindResourceInUse}
	ConditionalCheckFailed      = &Error{Kind: KindConditionalCheckFailed}
	TransactionCanceled         = &Error{Kind: KindTransactionCanceled}
	TransactionConflict         = &Error{Kind: KindTransactionConflict}
	IdempotentParameterMismatch = &Error{Kind: KindIdempotentParameterMismatch}
	LimitExceeded               = &Error{Kind: KindLimitExceeded}
	ExpiredIterator             = &Error{Kind: KindExpiredIterator}
	TrimmedDataAccess           = &Error{Kind: KindTrimmedDataAccess}
)

// Validationf returns a ValidationException.
func Validationf(format string, args ...any) *Error { return New(KindValidation, format, args...) }

// Invalidf returns the common "One or more parameter values were invalid: ..."
// ValidationException.
func Invalidf(format string, args ...any) *Error {
	return New(KindValidation, "%s", "One or more parameter values were invalid: "+fmt.Sprintf(format, args...))
}

// NotFound returns ResourceNotFoundException with DynamoDB's default text.
func NotFound() *Error { return New(KindResourceNotFound, "") }

// TableNotFound is what DynamoDB says for a missing table on the control
// plane (DescribeTable, DeleteTable, UpdateTable).
func TableNotFound(name string) *Error {
	return New(KindResourceNotFound, "Requested resource not found: Table: %s not found", name)
}

// ConditionFailed returns ConditionalCheckFailedException, with the current
// item when the request asked for it.
func ConditionFailed(item any) *Error {
	e := New(KindConditionalCheckFailed, "")
	e.Item = item
	return e
}

// As extracts an *Error; anything else becomes an InternalServerError that
// hides the detail from the client.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return New(KindInternal, "")
}
