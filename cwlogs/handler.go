package cwlogs

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/internal/uuid"
)

// TargetPrefix starts the X-Amz-Target of every CloudWatch Logs operation.
const TargetPrefix = "Logs_20140328."

// apiError is a CloudWatch Logs error as sent on the wire: HTTP 400 and
// {"__type": Type, "message": Message}.
type apiError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

func errInvalid(format string, args ...any) *apiError {
	return &apiError{"InvalidParameterException", fmt.Sprintf(format, args...)}
}

var (
	errNoGroup   = &apiError{"ResourceNotFoundException", "The specified log group does not exist."}
	errNoStream  = &apiError{"ResourceNotFoundException", "The specified log stream does not exist."}
	errBadToken  = errInvalid("The specified nextToken is invalid.")
	maxResponse  = 1 << 20 // a FilterLogEvents or GetLogEvents answer carries at most 1 MB of events
	maxPageLimit = 10000
)

// Handler serves the CloudWatch Logs JSON 1.1 operations eddy implements
// (POST / with X-Amz-Target: Logs_20140328.<Op>): DescribeLogGroups,
// DescribeLogStreams, GetLogEvents and FilterLogEvents, which are what
// `aws logs tail [--follow]` (FilterLogEvents polled every 5 s),
// `aws logs filter-log-events` and `aws logs get-log-events` call.
func (s *Store) Handler() http.Handler { return http.HandlerFunc(s.serve) }

func (s *Store) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-Requestid", requestID())
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
	if r.Method != http.MethodPost || !ok {
		writeError(w, &apiError{"UnknownOperationException", ""})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, &apiError{"SerializationException", err.Error()})
		return
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	scope, err := arn.ParseScope(r)
	if err != nil {
		writeError(w, &apiError{"IncompleteSignatureException", err.Error()})
		return
	}
	region := cmp.Or(scope.Region, s.opts.Region) // log groups are per region, as their functions

	var out any
	switch op {
	case "DescribeLogGroups":
		out, err = run(region, body, s.describeGroups)
	case "DescribeLogStreams":
		out, err = run(region, body, s.describeStreams)
	case "GetLogEvents":
		out, err = run(region, body, s.getEvents)
	case "FilterLogEvents":
		out, err = run(region, body, s.filterEvents)
	default:
		err = &apiError{"UnknownOperationException", ""}
	}
	if err != nil {
		writeError(w, err)
		return
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_, _ = w.Write(b)
}

// run decodes an operation's input from body and runs op on it.
func run[In, Out any](region string, body []byte, op func(string, *In) (Out, error)) (any, error) {
	var in In
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return op(region, &in)
}

func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return &apiError{"SerializationException", err.Error()}
	}
	return nil
}

func writeError(w http.ResponseWriter, err error) {
	e, ok := err.(*apiError)
	if !ok {
		e = &apiError{"ServiceUnavailableException", err.Error()}
	}
	b, _ := json.Marshal(e)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(b)
}

func requestID() string { return uuid.New() }

// Offset tokens page the Describe operations: the index of the next item,
// base64 so that nobody takes them for a format.
func offsetToken(i int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o" + strconv.Itoa(i)))
}

func parseOffset(tok *string) (int, error) {
	if tok == nil {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*tok)
	if err != nil || len(b) < 2 || b[0] != 'o' {
		return 0, errBadToken
	}
	i, err := strconv.Atoi(string(b[1:]))
	if err != nil || i < 0 {
		return 0, errBadToken
	}
	return i, nil
}

func pageLimit(limit *int, def, maxv int) (int, error) {
	if limit == nil {
		return def, nil
	}
	if *limit < 1 || *limit > maxv {
		return 0, errInvalid("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and %d", *limit, maxv)
	}
	return *limit, nil
}

type describeGroupsIn struct {
	LogGroupNamePrefix  *string `json:"logGroupNamePrefix"`
	LogGroupNamePattern *string `json:"logGroupNamePattern"`
	NextToken           *string `json:"nextToken"`
	Limit               *int    `json:"limit"`
}

type logGroupOut struct {
	LogGroupName      string `json:"logGroupName"`
	CreationTime      int64  `json:"creationTime"`
	MetricFilterCount int    `json:"metricFilterCount"`
	Arn               string `json:"arn"`
	StoredBytes       int64  `json:"storedBytes"`
	LogGroupClass     string `json:"logGroupClass"`
	LogGroupArn       string `json:"logGroupArn"`
}

func (s *Store) groupARN(region, name string) string {
	return "arn:aws:logs:" + region + ":" + s.opts.Account + ":log-group:" + name
}

func (s *Store) describeGroups(region string, in *describeGroupsIn) (any, error) {
	limit, err := pageLimit(in.Limit, 50, 50)
	if err != nil {
		return nil, err
	}
	off, err := parseOffset(in.NextToken)
	if err != nil {
		return nil, err
	}
	if in.LogGroupNamePrefix != nil && in.LogGroupNamePattern != nil {
		return nil, errInvalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for _, n := range s.groupNames(region, deref(in.LogGroupNamePrefix)) {
		if in.LogGroupNamePattern == nil || strings.Contains(n, *in.LogGroupNamePattern) {
			names = append(names, n)
		}
	}
	out := struct {
		LogGroups []logGroupOut `json:"logGroups"`
		NextToken *string       `json:"nextToken,omitempty"`
	}{LogGroups: []logGroupOut{}}
	for i := off; i < len(names) && len(out.LogGroups) < limit; i++ {
		g := s.groups[names[i]]
		out.LogGroups = append(out.LogGroups, logGroupOut{LogGroupName: g.name, CreationTime: g.created,
			Arn: s.groupARN(g.region, g.name) + ":*", StoredBytes: int64(g.bytes), LogGroupClass: "STANDARD", LogGroupArn: s.groupARN(g.region, g.name)})
		if i+1 < len(names) && len(out.LogGroups) == limit {
			tok := offsetToken(i + 1)
			out.NextToken = &tok
		}
	}
	return out, nil
}

// groupOf resolves logGroupName or logGroupIdentifier (a name or an ARN).
// Callers hold s.mu.
func (s *Store) groupOf(region string, name, ident *string) (*group, error) {
	switch {
	case name != nil && ident != nil:
		return nil, errInvalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
	case name == nil && ident == nil:
		return nil, errInvalid("Should provide either name or ARN for log group.")
	}
	n := deref(name)
	if ident != nil {
		n = *ident
		if i := strings.Index(n, ":log-group:"); strings.HasPrefix(n, "arn:") && i >= 0 {
			n = strings.TrimSuffix(n[i+len(":log-group:"):], ":*")
		}
	}
	g := s.groups[groupKey(region, n)]
	if g == nil {
		return nil, errNoGroup
	}
	return g, nil
}

type describeStreamsIn struct {
	LogGroupName        *string `json:"logGroupName"`
	LogGroupIdentifier  *string `json:"logGroupIdentifier"`
	LogStreamNamePrefix *string `json:"logStreamNamePrefix"`
	OrderBy             string  `json:"orderBy"`
	Descending          bool    `json:"descending"`
	NextToken           *string `json:"nextToken"`
	Limit               *int    `json:"limit"`
}

type logStreamOut struct {
	LogStreamName       string `json:"logStreamName"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp int64  `json:"firstEventTimestamp"`
	LastEventTimestamp  int64  `json:"lastEventTimestamp"`
	LastIngestionTime   int64  `json:"lastIngestionTime"`
	Arn                 string `json:"arn"`
	StoredBytes         int64  `json:"storedBytes"`
}

func (s *Store) describeStreams(region string, in *describeStreamsIn) (any, error) {
	limit, err := pageLimit(in.Limit, 50, 50)
	if err != nil {
		return nil, err
	}
	off, err := parseOffset(in.NextToken)
	if err != nil {
		return nil, err
	}
	switch in.OrderBy {
	case "", "LogStreamName", "LastEventTime":
	default:
		return nil, errInvalid("1 validation error detected: Value '%s' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]", in.OrderBy)
	}
	if in.OrderBy == "LastEventTime" && in.LogStreamNamePrefix != nil {
		return nil, errInvalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.groupOf(region, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	var sts []*stream
	for _, st := range g.streams {
		if strings.HasPrefix(st.name, deref(in.LogStreamNamePrefix)) {
			sts = append(sts, st)
		}
	}
	less := func(a, b *stream) bool { return a.name < b.name }
	if in.OrderBy == "LastEventTime" {
		less = func(a, b *stream) bool { return a.last < b.last || a.last == b.last && a.name < b.name }
	}
	sort.Slice(sts, func(i, j int) bool {
		if in.Descending {
			return less(sts[j], sts[i])
		}
		return less(sts[i], sts[j])
	})
	out := struct {
		LogStreams []logStreamOut `json:"logStreams"`
		NextToken  *string        `json:"nextToken,omitempty"`
	}{LogStreams: []logStreamOut{}}
	for i := off; i < len(sts) && len(out.LogStreams) < limit; i++ {
		st := sts[i]
		out.LogStreams = append(out.LogStreams, logStreamOut{LogStreamName: st.name, CreationTime: st.created,
			FirstEventTimestamp: st.first, LastEventTimestamp: st.last, LastIngestionTime: st.lastIngest,
			Arn: s.groupARN(g.region, g.name) + ":log-stream:" + st.name})
		if i+1 < len(sts) && len(out.LogStreams) == limit {
			tok := offsetToken(i + 1)
			out.NextToken = &tok
		}
	}
	return out, nil
}

type getEventsIn struct {
	LogGroupName       *string `json:"logGroupName"`
	LogGroupIdentifier *string `json:"logGroupIdentifier"`
	LogStreamName      string  `json:"logStreamName"`
	StartTime          *int64  `json:"startTime"`
	EndTime            *int64  `json:"endTime"`
	NextToken          *string `json:"nextToken"`
	Limit              *int    `json:"limit"`
	StartFromHead      bool    `json:"startFromHead"`
}

type outputEvent struct {
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
}

// GetLogEvents' tokens: "f/" or "b/" and a 56-digit sequence number, AWS's
// shape. f/N reads the stream's events after N, oldest first; b/N those
// before N, newest first, each page returned in time order.
func seqToken(dir byte, seq uint64) string { return fmt.Sprintf("%c/%056d", dir, seq) }

func (s *Store) getEvents(region string, in *getEventsIn) (any, error) {
	limit, err := pageLimit(in.Limit, maxPageLimit, maxPageLimit)
	if err != nil {
		return nil, err
	}
	var dir byte
	var tokSeq uint64
	if in.NextToken != nil {
		t := *in.NextToken
		if len(t) < 3 || (t[:2] != "f/" && t[:2] != "b/") {
			return nil, errBadToken
		}
		n, perr := strconv.ParseUint(t[2:], 10, 64) // leading zeros are fine
		if perr != nil {
			return nil, errBadToken
		}
		dir, tokSeq = t[0], n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.groupOf(region, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	st := g.streams[in.LogStreamName]
	if st == nil {
		return nil, errNoStream
	}
	inRange := func(e *event) bool {
		return e.stream == st && (in.StartTime == nil || e.ts >= *in.StartTime) && (in.EndTime == nil || e.ts < *in.EndTime)
	}
	evs := g.live()
	forward := dir == 'f' || (dir == 0 && in.StartFromHead)
	var picked []*event
	size := 0
	if forward {
		i := 0
		if dir == 'f' {
			i = after(evs, tokSeq)
		}
		for ; i < len(evs) && len(picked) < limit && size < maxResponse; i++ {
			if inRange(&evs[i]) {
				picked = append(picked, &evs[i])
				size += len(evs[i].msg) + eventOverhead
			}
		}
	} else {
		i := len(evs)
		if dir == 'b' {
			i = after(evs, tokSeq-min(tokSeq, 1)) // events with seq < tokSeq
		}
		for i--; i >= 0 && len(picked) < limit && size < maxResponse; i-- {
			if inRange(&evs[i]) {
				picked = append(picked, &evs[i])
				size += len(evs[i].msg) + eventOverhead
			}
		}
		for a, b := 0, len(picked)-1; a < b; a, b = a+1, b-1 {
			picked[a], picked[b] = picked[b], picked[a]
		}
	}
	out := struct {
		Events            []outputEvent `json:"events"`
		NextForwardToken  string        `json:"nextForwardToken"`
		NextBackwardToken string        `json:"nextBackwardToken"`
	}{Events: make([]outputEvent, 0, len(picked))}
	for _, e := range picked {
		out.Events = append(out.Events, outputEvent{Timestamp: e.ts, Message: e.msg, IngestionTime: e.ingest})
	}
	switch {
	case len(picked) > 0:
		out.NextForwardToken = seqToken('f', picked[len(picked)-1].seq)
		out.NextBackwardToken = seqToken('b', picked[0].seq)
	case in.NextToken != nil:
		// Nothing more that way: the same token again, which is how a
		// reader knows it reached the end.
		out.NextForwardToken, out.NextBackwardToken = *in.NextToken, *in.NextToken
		if dir == 'f' {
			out.NextBackwardToken = seqToken('b', tokSeq+1)
		} else {
			out.NextForwardToken = seqToken('f', tokSeq-min(tokSeq, 1))
		}
	default:
		out.NextForwardToken = seqToken('f', s.seq)
		out.NextBackwardToken = seqToken('b', s.seq+1)
	}
	return out, nil
}

type filterEventsIn struct {
	LogGroupName        *string  `json:"logGroupName"`
	LogGroupIdentifier  *string  `json:"logGroupIdentifier"`
	LogStreamNames      []string `json:"logStreamNames"`
	LogStreamNamePrefix *string  `json:"logStreamNamePrefix"`
	StartTime           *int64   `json:"startTime"`
	EndTime             *int64   `json:"endTime"`
	FilterPattern       *string  `json:"filterPattern"`
	NextToken           *string  `json:"nextToken"`
	Limit               *int     `json:"limit"`
	Interleaved         *bool    `json:"interleaved"` // deprecated: results are always interleaved
}

type filteredEvent struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId"`
}

type searchedStream struct {
	LogStreamName      string `json:"logStreamName"`
	SearchedCompletely bool   `json:"searchedCompletely"`
}

// FilterLogEvents' nextToken names the last event returned; the next page
// starts after it. If that event has since been dropped, the page starts at
// the oldest event kept.
func filterToken(seq uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("e" + strconv.FormatUint(seq, 10)))
}

func parseFilterToken(tok string) (uint64, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 2 || b[0] != 'e' {
		return 0, errBadToken
	}
	n, err := strconv.ParseUint(string(b[1:]), 10, 64)
	if err != nil {
		return 0, errBadToken
	}
	return n, nil
}

// eventID is a FilterLogEvents eventId: 56 digits, as AWS's, unique in the
// server's life.
func eventID(seq uint64) string { return fmt.Sprintf("%056d", seq) }

func (s *Store) filterEvents(region string, in *filterEventsIn) (any, error) {
	limit, err := pageLimit(in.Limit, maxPageLimit, maxPageLimit)
	if err != nil {
		return nil, err
	}
	if in.LogStreamNames != nil && in.LogStreamNamePrefix != nil {
		return nil, errInvalid("Cannot specify both logStreamNames and logStreamNamePrefix.")
	}
	if in.LogStreamNames != nil && (len(in.LogStreamNames) < 1 || len(in.LogStreamNames) > 100) {
		return nil, errInvalid("1 validation error detected: Value at 'logStreamNames' failed to satisfy constraint: Member must have length between 1 and 100")
	}
	pat, err := parsePattern(deref(in.FilterPattern))
	if err != nil {
		return nil, errInvalid("Invalid filter pattern: %v", err)
	}
	var from uint64
	if in.NextToken != nil {
		if from, err = parseFilterToken(*in.NextToken); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.groupOf(region, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	var names map[string]bool
	if in.LogStreamNames != nil {
		names = map[string]bool{}
		for _, n := range in.LogStreamNames {
			names[n] = true
		}
	}
	prefix := deref(in.LogStreamNamePrefix)
	evs := g.live()
	i := after(evs, from)
	if in.StartTime != nil {
		i = max(i, sort.Search(len(evs), func(j int) bool { return evs[j].ts >= *in.StartTime }))
	}
	out := struct {
		Events             []filteredEvent  `json:"events"`
		SearchedLogStreams []searchedStream `json:"searchedLogStreams"`
		NextToken          *string          `json:"nextToken,omitempty"`
	}{Events: []filteredEvent{}, SearchedLogStreams: []searchedStream{}}
	size, last := 0, uint64(0)
	for ; i < len(evs); i++ {
		e := &evs[i]
		if in.EndTime != nil && e.ts > *in.EndTime {
			break
		}
		if (names != nil && !names[e.stream.name]) || !strings.HasPrefix(e.stream.name, prefix) || !pat.match(e.msg) {
			continue
		}
		if len(out.Events) == limit || size >= maxResponse {
			// Another event matches: there is a next page.
			tok := filterToken(last)
			out.NextToken = &tok
			break
		}
		out.Events = append(out.Events, filteredEvent{LogStreamName: e.stream.name, Timestamp: e.ts, Message: e.msg,
			IngestionTime: e.ingest, EventID: eventID(e.seq)})
		size += len(e.msg) + eventOverhead
		last = e.seq
	}
	for _, st := range g.streams {
		if (names == nil || names[st.name]) && strings.HasPrefix(st.name, prefix) {
			out.SearchedLogStreams = append(out.SearchedLogStreams, searchedStream{st.name, true})
		}
	}
	sort.Slice(out.SearchedLogStreams, func(a, b int) bool {
		return out.SearchedLogStreams[a].LogStreamName < out.SearchedLogStreams[b].LogStreamName
	})
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
