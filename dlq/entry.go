package dlq

import (
	"encoding/json"
	"time"

	"github.com/eddydb/eddy/streams"
)

// Record is Lambda's on-failure invocation record for a DynamoDB stream
// batch, field for field: what an SQS or SNS destination receives, and with
// "payload" added what an S3 destination receives.
//
//	{"requestContext":{"requestId":..,"functionArn":..,"condition":"RetryAttemptsExhausted",
//	  "approximateInvokeCount":3},
//	 "responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},
//	 "version":"1.0","timestamp":"2019-11-14T00:38:06.021Z",
//	 "DDBStreamBatchInfo":{"shardId":..,"startSequenceNumber":..,"endSequenceNumber":..,
//	  "approximateArrivalOfFirstRecord":..,"approximateArrivalOfLastRecord":..,"batchSize":1,"streamArn":..}}
type Record struct {
	RequestContext struct {
		RequestID string `json:"requestId"`
		// FunctionArn is the mapping's function (qualified when the
		// mapping names a version or alias).
		FunctionArn string `json:"functionArn"`
		// Condition is RetryAttemptsExhausted, RecordAgeExceeded or
		// (eddy) RedriveFailed.
		Condition              string `json:"condition"`
		ApproximateInvokeCount int    `json:"approximateInvokeCount"`
	} `json:"requestContext"`
	ResponseContext    ResponseContext `json:"responseContext"`
	Version            string          `json:"version"`
	Timestamp          string          `json:"timestamp"`
	DDBStreamBatchInfo struct {
		ShardID                         string `json:"shardId"`
		StartSequenceNumber             string `json:"startSequenceNumber"`
		EndSequenceNumber               string `json:"endSequenceNumber"`
		ApproximateArrivalOfFirstRecord string `json:"approximateArrivalOfFirstRecord"`
		ApproximateArrivalOfLastRecord  string `json:"approximateArrivalOfLastRecord"`
		BatchSize                       int    `json:"batchSize"`
		StreamArn                       string `json:"streamArn"`
	} `json:"DDBStreamBatchInfo"`
}

// ResponseContext is the last invocation's response. FunctionError is ""
// when the function returned normally (a partial batch response named
// records): Lambda then sends "functionError": null.
type ResponseContext struct {
	StatusCode      int    `json:"statusCode"`
	ExecutedVersion string `json:"executedVersion"`
	FunctionError   string `json:"functionError"`
}

// MarshalJSON renders an empty FunctionError as null, as Lambda does.
func (c ResponseContext) MarshalJSON() ([]byte, error) {
	var fe *string
	if c.FunctionError != "" {
		fe = &c.FunctionError
	}
	return json.Marshal(struct {
		StatusCode      int     `json:"statusCode"`
		ExecutedVersion string  `json:"executedVersion"`
		FunctionError   *string `json:"functionError"`
	}{c.StatusCode, c.ExecutedVersion, fe})
}

// Conditions of a Record.
const (
	RetryAttemptsExhausted = "RetryAttemptsExhausted"
	RecordAgeExceeded      = "RecordAgeExceeded"
)

// StreamRecord is one discarded stream record: its sequence number and
// arrival time, and the record exactly as the function received it
// (DynamoDB Streams JSON plus eventSourceARN).
type StreamRecord struct {
	Seq     streams.Seq     `json:"seq,string"`
	Arrival int64           `json:"arrivalMs"`
	Event   json.RawMessage `json:"event"`
}

// Delivery is the state of an entry's external destination.
type Delivery struct {
	Destination string `json:"destination"`
	// Delivered is when the send succeeded (zero: pending).
	Delivered time.Time `json:"delivered,omitzero"`
	Attempts  int       `json:"attempts,omitempty"`
}

// Redrive states.
const (
	RedriveRunning = "running" // in progress
	RedriveDone    = "done"    // every record was processed; Records is empty
	RedriveFailed  = "failed"  // some records failed again; Records holds them
	// RedriveInterrupted: eddy stopped (crashed) during the redrive. Open
	// sets it on every entry it finds "running", with LastError saying so;
	// Records holds only the records not yet processed. Nothing is
	// replayed automatically: redrive again to resume.
	RedriveInterrupted = "interrupted"
)

// InterruptedError is Redrive.LastError of an interrupted redrive.
const InterruptedError = "interrupted: eddy stopped during this redrive; records processed before it are removed from the entry, the rest are kept (redrive again to resume)"

// Redrive is the durable record of an entry's redrives.
type Redrive struct {
	Count     int       `json:"count"`
	State     string    `json:"state"`
	Mapping   string    `json:"mapping"`
	Started   time.Time `json:"started"`
	Finished  time.Time `json:"finished,omitzero"`
	Delivered int       `json:"delivered"` // records processed by redrives so far
	LastError string    `json:"lastError,omitempty"`
}

// Entry is one discarded batch: exactly one per batch a mapping gave up on.
type Entry struct {
	// ID is assigned by Append: increasing, never reused.
	ID uint64 `json:"id"`
	// Mapping is the event source mapping's UUID.
	Mapping string `json:"mapping"`
	// Destination is the OnFailure destination the mapping named when the
	// batch was discarded ("" when none: the entry is kept here only).
	Destination string    `json:"destination,omitempty"`
	Created     time.Time `json:"created"`
	// Record is Lambda's invocation record.
	Record Record `json:"record"`
	// Records are the discarded stream records, in shard order.
	Records []StreamRecord `json:"records"`
	// LastError is the last invocation's error message (the function's
	// errorMessage, or why it could not be invoked); LogTail the tail of
	// its log.
	LastError string `json:"lastError,omitempty"`
	LogTail   string `json:"logTail,omitempty"`
	// Principal is who the last invocation ran as: the function's
	// execution role (CreateFunction's Role), whose policies its table
	// calls were authorized with.
	Principal string    `json:"principal,omitempty"`
	Delivery  *Delivery `json:"delivery,omitempty"`
	Redrive   *Redrive  `json:"redrive,omitempty"`
}

// Summary is the short form List returns.
type Summary struct {
	ID          uint64    `json:"id"`
	Mapping     string    `json:"mapping"`
	Created     time.Time `json:"created"`
	Condition   string    `json:"condition"`
	ShardID     string    `json:"shardId"`
	Start       string    `json:"startSequenceNumber"`
	End         string    `json:"endSequenceNumber"`
	BatchSize   int       `json:"batchSize"`
	Records     int       `json:"records"`
	Destination string    `json:"destination,omitempty"`
	Delivered   bool      `json:"delivered"`
	Redrive     string    `json:"redrive,omitempty"`
	LastError   string    `json:"lastError,omitempty"`
}

func (e *Entry) summary() Summary {
	s := Summary{ID: e.ID, Mapping: e.Mapping, Created: e.Created, Condition: e.Record.RequestContext.Condition,
		ShardID: e.Record.DDBStreamBatchInfo.ShardID, Start: e.Record.DDBStreamBatchInfo.StartSequenceNumber,
		End: e.Record.DDBStreamBatchInfo.EndSequenceNumber, BatchSize: e.Record.DDBStreamBatchInfo.BatchSize,
		Records: len(e.Records), Destination: e.Destination, LastError: e.LastError}
	if e.Delivery != nil {
		s.Delivered = !e.Delivery.Delivered.IsZero()
	}
	if e.Redrive != nil {
		s.Redrive = e.Redrive.State
	}
	return s
}
