package guest

import (
	"encoding/json"
	"errors"
)

// StreamEvent is Lambda's DynamoDB stream event.
type StreamEvent struct {
	Records []StreamRecord `json:"Records"`
}

// StreamRecord is one change.
type StreamRecord struct {
	EventID        string     `json:"eventID"`
	EventName      string     `json:"eventName"` // INSERT, MODIFY, REMOVE
	EventVersion   string     `json:"eventVersion"`
	EventSource    string     `json:"eventSource"`
	AWSRegion      string     `json:"awsRegion"`
	EventSourceARN string     `json:"eventSourceARN"`
	DynamoDB       StreamData `json:"dynamodb"`
}

// StreamData is the record's "dynamodb" member.
type StreamData struct {
	ApproximateCreationDateTime float64 `json:"ApproximateCreationDateTime,omitempty"`
	Keys                        Item    `json:"Keys,omitempty"`
	NewImage                    Item    `json:"NewImage,omitempty"`
	OldImage                    Item    `json:"OldImage,omitempty"`
	SequenceNumber              string  `json:"SequenceNumber"`
	SizeBytes                   int64   `json:"SizeBytes,omitempty"`
	StreamViewType              string  `json:"StreamViewType,omitempty"`
}

// BatchResponse is Lambda's partial batch response. Report the
// SequenceNumber of the first record that failed; the records before it are
// considered processed.
type BatchResponse struct {
	BatchItemFailures []BatchItemFailure `json:"batchItemFailures"`
}

// BatchItemFailure names one failed record.
type BatchItemFailure struct {
	ItemIdentifier string `json:"itemIdentifier"`
}

// Fail adds a failed record by its sequence number.
func (b *BatchResponse) Fail(sequenceNumber string) {
	b.BatchItemFailures = append(b.BatchItemFailures, BatchItemFailure{ItemIdentifier: sequenceNumber})
}

// AttributeValue is one DynamoDB JSON value: exactly one member is set.
// Nil and empty slices/maps are told apart so {"L":[]} round-trips.
type AttributeValue struct {
	S    *string
	N    *string // a number as its decimal string
	B    []byte
	BOOL *bool
	NULL bool
	M    map[string]AttributeValue
	L    []AttributeValue
	SS   []string
	NS   []string
	BS   [][]byte
}

// S returns a string value.
func S(s string) AttributeValue { return AttributeValue{S: &s} }

// N returns a number value from its decimal string.
func N(n string) AttributeValue { return AttributeValue{N: &n} }

// Bool returns a boolean value.
func Bool(b bool) AttributeValue { return AttributeValue{BOOL: &b} }

// Str returns the S member or "".
func (a AttributeValue) Str() string {
	if a.S != nil {
		return *a.S
	}
	return ""
}

// Num returns the N member or "".
func (a AttributeValue) Num() string {
	if a.N != nil {
		return *a.N
	}
	return ""
}

type avWire struct {
	S    *string                   `json:"S,omitempty"`
	N    *string                   `json:"N,omitempty"`
	B    []byte                    `json:"B,omitempty"`
	BOOL *bool                     `json:"BOOL,omitempty"`
	NULL *bool                     `json:"NULL,omitempty"`
	M    map[string]AttributeValue `json:"M"`
	L    []AttributeValue          `json:"L"`
	SS   []string                  `json:"SS,omitempty"`
	NS   []string                  `json:"NS,omitempty"`
	BS   [][]byte                  `json:"BS,omitempty"`
}

// MarshalJSON writes the one set member.
func (a AttributeValue) MarshalJSON() ([]byte, error) {
	switch {
	case a.S != nil:
		return json.Marshal(map[string]string{"S": *a.S})
	case a.N != nil:
		return json.Marshal(map[string]string{"N": *a.N})
	case a.B != nil:
		return json.Marshal(map[string][]byte{"B": a.B})
	case a.BOOL != nil:
		return json.Marshal(map[string]bool{"BOOL": *a.BOOL})
	case a.NULL:
		return []byte(`{"NULL":true}`), nil
	case a.M != nil:
		return json.Marshal(map[string]map[string]AttributeValue{"M": a.M})
	case a.L != nil:
		return json.Marshal(map[string][]AttributeValue{"L": a.L})
	case a.SS != nil:
		return json.Marshal(map[string][]string{"SS": a.SS})
	case a.NS != nil:
		return json.Marshal(map[string][]string{"NS": a.NS})
	case a.BS != nil:
		return json.Marshal(map[string][][]byte{"BS": a.BS})
	}
	return nil, errors.New("guest: empty AttributeValue")
}

// UnmarshalJSON reads DynamoDB JSON.
func (a *AttributeValue) UnmarshalJSON(b []byte) error {
	var w avWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*a = AttributeValue{S: w.S, N: w.N, B: w.B, BOOL: w.BOOL, M: w.M, L: w.L, SS: w.SS, NS: w.NS, BS: w.BS}
	a.NULL = w.NULL != nil && *w.NULL
	return nil
}
