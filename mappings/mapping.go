package mappings

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eddydb/eddy/dlq"
	"github.com/eddydb/eddy/triggers"
)

// The error kinds of the control plane are the trigger host's
// (triggers/errors.go), so that one set of kinds maps onto Lambda's error
// types: ErrNotFound (no mapping with that UUID), ErrInvalidParameter,
// ErrValidation (a member outside its declared range), ErrConflict (the
// mapping exists or is being deleted), ErrClosed. Classify with errors.Is.
var (
	ErrNotFound         = triggers.ErrNotFound
	ErrInvalidParameter = triggers.ErrInvalidParameter
	ErrValidation       = triggers.ErrValidation
	ErrConflict         = triggers.ErrConflict
	ErrClosed           = triggers.ErrClosed
)

func newErr(kind error, format string, args ...any) error {
	return triggers.Errorf(kind, format, args...)
}

// Spec is the request of CreateEventSourceMapping and
// UpdateEventSourceMapping, with Lambda's member names; nil means not given.
type Spec struct {
	FunctionName                   *string            `json:"FunctionName"`
	EventSourceArn                 *string            `json:"EventSourceArn"`
	Enabled                        *bool              `json:"Enabled"`
	BatchSize                      *int               `json:"BatchSize"`
	MaximumBatchingWindowInSeconds *int               `json:"MaximumBatchingWindowInSeconds"`
	StartingPosition               *string            `json:"StartingPosition"`
	StartingPositionTimestamp      *float64           `json:"StartingPositionTimestamp"`
	MaximumRetryAttempts           *int               `json:"MaximumRetryAttempts"`
	MaximumRecordAgeInSeconds      *int               `json:"MaximumRecordAgeInSeconds"`
	BisectBatchOnFunctionError     *bool              `json:"BisectBatchOnFunctionError"`
	FunctionResponseTypes          *[]string          `json:"FunctionResponseTypes"`
	ParallelizationFactor          *int               `json:"ParallelizationFactor"`
	FilterCriteria                 *FilterCriteria    `json:"FilterCriteria"`
	TumblingWindowInSeconds        *int               `json:"TumblingWindowInSeconds"`
	DestinationConfig              *DestinationConfig `json:"DestinationConfig"`
}

// FilterCriteria holds up to 5 patterns; a record is sent when any matches.
type FilterCriteria struct {
	Filters []Filter `json:"Filters"`
}

// Filter is one pattern (a JSON document in a string).
type Filter struct {
	Pattern string `json:"Pattern"`
}

// DestinationConfig names where discarded records' metadata goes.
type DestinationConfig struct {
	OnFailure *OnFailure `json:"OnFailure,omitempty"`
	OnSuccess *OnFailure `json:"OnSuccess,omitempty"`
}

// OnFailure is a destination ARN.
type OnFailure struct {
	Destination string `json:"Destination,omitempty"`
}

// Configuration is a mapping as the API returns it
// (EventSourceMappingConfiguration) and as it is persisted (0x21 'm').
type Configuration struct {
	UUID                           string             `json:"UUID"`
	FunctionArn                    string             `json:"FunctionArn"`
	EventSourceArn                 string             `json:"EventSourceArn"`
	EventSourceMappingArn          string             `json:"EventSourceMappingArn"`
	StartingPosition               string             `json:"StartingPosition"`
	BatchSize                      int                `json:"BatchSize"`
	MaximumBatchingWindowInSeconds int                `json:"MaximumBatchingWindowInSeconds"`
	ParallelizationFactor          int                `json:"ParallelizationFactor"`
	MaximumRetryAttempts           int                `json:"MaximumRetryAttempts"`
	MaximumRecordAgeInSeconds      int                `json:"MaximumRecordAgeInSeconds"`
	BisectBatchOnFunctionError     bool               `json:"BisectBatchOnFunctionError"`
	FunctionResponseTypes          []string           `json:"FunctionResponseTypes"`
	FilterCriteria                 *FilterCriteria    `json:"FilterCriteria,omitempty"`
	TumblingWindowInSeconds        int                `json:"TumblingWindowInSeconds"`
	DestinationConfig              *DestinationConfig `json:"DestinationConfig,omitempty"`
	State                          string             `json:"State"`
	StateTransitionReason          string             `json:"StateTransitionReason"`
	LastProcessingResult           string             `json:"LastProcessingResult"`
	// LastModified is epoch seconds (Lambda's timestamp on the wire).
	LastModified float64 `json:"LastModified"`

	// Not on the wire: the function's name and qualifier, and whether the
	// user wants it enabled (State follows it).
	FunctionName string `json:"-"`
	Qualifier    string `json:"-"`
	Enabled      bool   `json:"-"`
}

// stored is the persisted form: the wire fields plus the hidden ones.
type stored struct {
	Configuration
	Function  string `json:"fn"`
	Qual      string `json:"qual,omitempty"`
	IsEnabled bool   `json:"enabled"`
	// LastError is the text of the last delivery failure (Manager.LastError),
	// kept across restarts with LastProcessingResult.
	LastError string `json:"lastError,omitempty"`
}

// userAction is Lambda's StateTransitionReason for a state the user set
// (CreateEventSourceMapping, UpdateEventSourceMapping's Enabled).
const userAction = "User action"

// Mapping states, as Lambda names them.
const (
	StateCreating  = "Creating"
	StateEnabled   = "Enabled"
	StateEnabling  = "Enabling"
	StateDisabled  = "Disabled"
	StateDisabling = "Disabling"
	StateUpdating  = "Updating"
	StateDeleting  = "Deleting"
)

// constraintErrs collects "Value ... at '...' failed to satisfy constraint"
// messages in Lambda's ValidationException shape.
type constraintErrs []string

func (c *constraintErrs) rng(v *int, at string, lo, hi int) {
	if v == nil {
		return
	}
	if *v < lo {
		*c = append(*c, fmt.Sprintf("Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", *v, at, lo))
	} else if *v > hi {
		*c = append(*c, fmt.Sprintf("Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", *v, at, hi))
	}
}

func (c constraintErrs) err() error {
	if len(c) == 0 {
		return nil
	}
	s := "s"
	if len(c) == 1 {
		s = ""
	}
	return newErr(ErrValidation, "%d validation error%s detected: %s", len(c), s, strings.Join(c, "; "))
}

// checkSpec validates the members of a create or update request.
func checkSpec(s *Spec, create bool) error {
	var c constraintErrs
	c.rng(s.BatchSize, "batchSize", 1, 10000)
	c.rng(s.MaximumBatchingWindowInSeconds, "maximumBatchingWindowInSeconds", 0, 300)
	c.rng(s.MaximumRetryAttempts, "maximumRetryAttempts", -1, 10000)
	c.rng(s.MaximumRecordAgeInSeconds, "maximumRecordAgeInSeconds", -1, 604800)
	c.rng(s.ParallelizationFactor, "parallelizationFactor", 1, 10)
	c.rng(s.TumblingWindowInSeconds, "tumblingWindowInSeconds", 0, 900)
	if s.StartingPosition != nil {
		switch *s.StartingPosition {
		case "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP":
		default:
			c = append(c, fmt.Sprintf("Value '%s' at 'startingPosition' failed to satisfy constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]", *s.StartingPosition))
		}
	}
	if s.FunctionResponseTypes != nil {
		for _, t := range *s.FunctionResponseTypes {
			if t != "ReportBatchItemFailures" {
				c = append(c, fmt.Sprintf("Value '[%s]' at 'functionResponseTypes' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]", t))
				break
			}
		}
	}
	if s.FilterCriteria != nil && len(s.FilterCriteria.Filters) > 5 {
		c = append(c, fmt.Sprintf("Value '%d' at 'filterCriteria.filters' failed to satisfy constraint: Member must have length less than or equal to 5", len(s.FilterCriteria.Filters)))
	}
	if s.FilterCriteria != nil {
		// Lambda's Filter.Pattern: at most 4096 characters (API reference,
		// Filter); list members are named from 1 in the message.
		for i, f := range s.FilterCriteria.Filters {
			if utf8.RuneCountInString(f.Pattern) > maxPatternLen {
				c = append(c, fmt.Sprintf("Value '%s' at 'filterCriteria.filters.%d.member.pattern' failed to satisfy constraint: Member must have length less than or equal to %d", f.Pattern, i+1, maxPatternLen))
			}
		}
	}
	if create {
		if s.FunctionName == nil {
			c = append(c, "Value null at 'functionName' failed to satisfy constraint: Member must not be null")
		}
	}
	if err := c.err(); err != nil {
		return err
	}
	if a := s.MaximumRecordAgeInSeconds; a != nil && *a != -1 && *a < 60 {
		return newErr(ErrInvalidParameter, "MaximumRecordAgeInSeconds must be -1 or between 60 and 604800.")
	}
	if create && s.StartingPositionTimestamp != nil && (s.StartingPosition == nil || *s.StartingPosition != "AT_TIMESTAMP") {
		return newErr(ErrInvalidParameter, "Timestamp only valid with StartingPosition AT_TIMESTAMP")
	}
	if s.StartingPosition != nil && *s.StartingPosition == "AT_TIMESTAMP" {
		arn := ""
		if s.EventSourceArn != nil {
			arn = *s.EventSourceArn
		}
		return newErr(ErrInvalidParameter, "Unsupported starting position for arn type: %s", arn)
	}
	if s.FilterCriteria != nil {
		for _, f := range s.FilterCriteria.Filters {
			if _, err := compileFilter(f.Pattern); err != nil {
				return newErr(ErrInvalidParameter, "%s", err.Error())
			}
		}
	}
	if d := s.DestinationConfig; d != nil && d.OnSuccess != nil && d.OnSuccess.Destination != "" {
		return newErr(ErrInvalidParameter, "Unsupported DestinationConfig parameter for given event source mapping type.")
	}
	if d := s.DestinationConfig; d != nil && d.OnFailure != nil && d.OnFailure.Destination != "" {
		if _, err := dlq.ParseDestination(d.OnFailure.Destination); err != nil {
			// Lambda's words, then the forms eddy accepts (a deliberate
			// addition: eddy's own destinations are not AWS's).
			return newErr(ErrInvalidParameter, "The provided destination config DestinationConfig(onSuccess=null, onFailure=OnFailure(destination=%s)) is invalid. eddy accepts: %s.", d.OnFailure.Destination, dlq.DestinationForms)
		}
	}
	return nil
}

// apply copies the given members of s onto c.
func (c *Configuration) apply(s *Spec) {
	if s.BatchSize != nil {
		c.BatchSize = *s.BatchSize
	}
	if s.MaximumBatchingWindowInSeconds != nil {
		c.MaximumBatchingWindowInSeconds = *s.MaximumBatchingWindowInSeconds
	}
	if s.MaximumRetryAttempts != nil {
		c.MaximumRetryAttempts = *s.MaximumRetryAttempts
	}
	if s.MaximumRecordAgeInSeconds != nil {
		c.MaximumRecordAgeInSeconds = *s.MaximumRecordAgeInSeconds
	}
	if s.BisectBatchOnFunctionError != nil {
		c.BisectBatchOnFunctionError = *s.BisectBatchOnFunctionError
	}
	if s.FunctionResponseTypes != nil {
		c.FunctionResponseTypes = append([]string{}, *s.FunctionResponseTypes...)
	}
	if s.ParallelizationFactor != nil {
		c.ParallelizationFactor = *s.ParallelizationFactor
	}
	if s.FilterCriteria != nil {
		if len(s.FilterCriteria.Filters) == 0 {
			c.FilterCriteria = nil
		} else {
			fc := *s.FilterCriteria
			fc.Filters = append([]Filter(nil), fc.Filters...)
			c.FilterCriteria = &fc
		}
	}
	if s.TumblingWindowInSeconds != nil {
		c.TumblingWindowInSeconds = *s.TumblingWindowInSeconds
	}
	if s.DestinationConfig != nil {
		d := *s.DestinationConfig
		c.DestinationConfig = &d
	}
	if s.Enabled != nil {
		c.Enabled = *s.Enabled
	}
}

// normalize fills what Lambda always answers: DestinationConfig with an
// OnFailure member ({"OnFailure":{}} when no destination is set).
func (c *Configuration) normalize() {
	if c.DestinationConfig == nil {
		c.DestinationConfig = &DestinationConfig{}
	}
	if c.DestinationConfig.OnFailure == nil {
		c.DestinationConfig.OnFailure = &OnFailure{}
	}
}

func (c *Configuration) reportFailures() bool {
	for _, t := range c.FunctionResponseTypes {
		if t == "ReportBatchItemFailures" {
			return true
		}
	}
	return false
}

// parseFunction splits a FunctionName member: a name, name:qualifier, a
// full ARN or a partial ARN (account:function:name[:qualifier]).
func parseFunction(s string) (name, qualifier string, err error) {
	parts := strings.Split(s, ":")
	for i, p := range parts {
		if p == "function" {
			parts = parts[i+1:]
			break
		}
	}
	switch len(parts) {
	case 1:
		name = parts[0]
	case 2:
		name, qualifier = parts[0], parts[1]
	default:
		return "", "", newErr(ErrInvalidParameter, "Invalid function name or ARN: %s", s)
	}
	if name == "" {
		return "", "", newErr(ErrInvalidParameter, "Invalid function name or ARN: %s", s)
	}
	return name, qualifier, nil
}

func epoch(t time.Time) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64), 64)
	return f
}
