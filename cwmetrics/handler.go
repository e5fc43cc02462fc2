package cwmetrics

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/internal/uuid"
)

// TargetPrefix starts the X-Amz-Target of CloudWatch's JSON 1.0 requests.
const TargetPrefix = ServiceName + "."

// CBORPath starts the path of CloudWatch's Smithy RPC v2 CBOR requests.
const CBORPath = "/service/" + ServiceName + "/operation/"

// apiError is a CloudWatch error: Code is the awsquery code (also the
// x-amzn-query-error header of the JSON and CBOR protocols, which the SDKs
// prefer), Shape the Smithy error shape (__type).
type apiError struct {
	Code, Shape, Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errValue(format string, a ...any) *apiError {
	return &apiError{"InvalidParameterValue", "InvalidParameterValueException", fmt.Sprintf(format, a...)}
}

func errCombination(format string, a ...any) *apiError {
	return &apiError{"InvalidParameterCombination", "InvalidParameterCombinationException", fmt.Sprintf(format, a...)}
}

func errMissing(param string) *apiError {
	return &apiError{"MissingParameter", "MissingRequiredParameterException", "The parameter " + param + " is required."}
}

func errValidation(format string, a ...any) *apiError {
	return &apiError{"ValidationError", "ValidationError", fmt.Sprintf(format, a...)}
}

// Handler serves the CloudWatch operations eddy implements
// (GetMetricStatistics, GetMetricData, ListMetrics) in the three protocols
// CloudWatch's clients speak: awsquery (POST / form-encoded), JSON 1.0
// (X-Amz-Target: GraniteServiceVersion20100801.Op) and Smithy RPC v2 CBOR
// (POST /service/GraniteServiceVersion20100801/operation/Op). The region
// is the request's SigV4 credential scope (default: defRegion).
func (s *Store) Handler(defRegion string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, defRegion) })
}

// IsQuery reports whether r is an awsquery request (a form-encoded POST
// with no X-Amz-Target).
func IsQuery(r *http.Request) bool {
	return r.Method == http.MethodPost && r.Header.Get("X-Amz-Target") == "" &&
		strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
}

func (s *Store) serve(w http.ResponseWriter, r *http.Request, defRegion string) {
	rid := uuid.New()
	w.Header().Set("X-Amzn-Requestid", rid)
	var (
		proto protocol
		op    string
		in    obj
	)
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	switch {
	case strings.HasPrefix(r.URL.Path, CBORPath):
		proto, op = protoCBOR, strings.TrimPrefix(r.URL.Path, CBORPath)
		in = obj{}
		if err == nil && len(body) > 0 {
			var v cbor.Value
			if v, err = cbor.Decode(body); err == nil {
				var ok bool
				if in, ok = fromCBOR(v).(obj); !ok {
					err = fmt.Errorf("the body is not a CBOR map")
				}
			}
		}
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix):
		proto, op = protoJSON, strings.TrimPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
		in = obj{}
		if err == nil && len(bytes.TrimSpace(body)) > 0 {
			d := json.NewDecoder(bytes.NewReader(body))
			d.UseNumber()
			var v any
			if err = d.Decode(&v); err == nil {
				var ok bool
				if in, ok = fromJSON(v).(obj); !ok {
					err = fmt.Errorf("the body is not a JSON object")
				}
			}
		}
	default:
		proto = protoQuery
		var vals url.Values
		if err == nil {
			vals, err = url.ParseQuery(string(body))
		}
		if err == nil {
			op, in = vals.Get("Action"), parseQuery(vals)
		}
	}
	if err != nil {
		writeError(w, proto, rid, &apiError{"SerializationException", "SerializationException", err.Error()})
		return
	}
	region := defRegion
	if sc, err := arn.ParseScope(r); err == nil && sc.Region != "" {
		region = sc.Region
	}
	var res out
	switch op {
	case "GetMetricStatistics":
		res, err = s.getMetricStatistics(region, in)
	case "GetMetricData":
		res, err = s.getMetricData(region, in)
	case "ListMetrics":
		res, err = s.listMetrics(region, in)
	default:
		if proto == protoQuery {
			err = &apiError{"InvalidAction", "InvalidAction", "The action " + op + " is not valid for this web service."}
		} else {
			err = &apiError{"UnknownOperationException", "UnknownOperationException", ""}
		}
	}
	if err != nil {
		writeError(w, proto, rid, err)
		return
	}
	switch proto {
	case protoQuery:
		var b bytes.Buffer
		b.WriteString(`<` + op + `Response xmlns="` + xmlns + `"><` + op + `Result>`)
		writeXML(&b, res)
		b.WriteString(`</` + op + `Result><ResponseMetadata><RequestId>` + rid + `</RequestId></ResponseMetadata></` + op + `Response>`)
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write(b.Bytes())
	case protoJSON:
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write(encodeJSON(res))
	case protoCBOR:
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		w.Header().Set("Content-Type", "application/cbor")
		_, _ = w.Write(cbor.Encode(toCBOR(res)))
	}
}

func writeError(w http.ResponseWriter, proto protocol, rid string, err error) {
	e, ok := err.(*apiError)
	if !ok {
		e = &apiError{"InternalServiceError", "InternalServiceFault", err.Error()}
	}
	w.Header().Set("X-Amzn-Query-Error", e.Code+";Sender")
	switch proto {
	case protoQuery:
		var b bytes.Buffer
		b.WriteString(`<ErrorResponse xmlns="` + xmlns + `"><Error><Type>Sender</Type><Code>` + e.Code + `</Code><Message>`)
		writeXML(&b, e.Message)
		b.WriteString(`</Message></Error><RequestId>` + rid + `</RequestId></ErrorResponse>`)
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(b.Bytes())
	case protoJSON:
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(encodeJSON(out{{"__type", "com.amazonaws.cloudwatch#" + e.Shape}, {"message", e.Message}}))
	case protoCBOR:
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		w.Header().Set("Content-Type", "application/cbor")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(cbor.Encode(toCBOR(out{{"__type", "com.amazonaws.cloudwatch#" + e.Shape}, {"message", e.Message}})))
	}
}

var statNames = []string{"SampleCount", "Average", "Sum", "Minimum", "Maximum"}

// metricIn reads Namespace, MetricName and Dimensions (prefix names the
// structure in messages) into the key of the series they name.
func metricIn(region string, in obj, prefix string) (Key, string, error) {
	ns, ok := in.str("Namespace")
	if !ok {
		return Key{}, "", errMissing(prefix + "Namespace")
	}
	name, ok := in.str("MetricName")
	if !ok {
		return Key{}, "", errMissing(prefix + "MetricName")
	}
	k := Key{Region: region, Metric: name}
	seen := map[string]bool{}
	for i, d := range in.list("Dimensions") {
		do, _ := d.(obj)
		n, ok1 := do.str("Name")
		v, ok2 := do.str("Value")
		if !ok1 || !ok2 {
			return Key{}, "", errMissing(fmt.Sprintf("%sDimensions.member.%d.%s", prefix, i+1, map[bool]string{true: "Value", false: "Name"}[ok1]))
		}
		if seen[n] {
			return Key{}, "", errValue("No metrics matched your request parameters (dimension %s given twice).", n)
		}
		seen[n] = true
		switch n {
		case "TableName":
			k.Table = v
		case "GlobalSecondaryIndexName":
			k.Index = v
		case "Operation":
			k.Op = v
		case "ReceivingRegion":
			k.Receiving = v
		default:
			k.Table = "" // a dimension DynamoDB never sets: no series has it
			k.Metric = ""
		}
	}
	return k, ns, nil
}

// window reads StartTime, EndTime and Period (period may be absent in
// GetMetricData's queries: checked by the caller).
func window(in obj) (start, end time.Time, err error) {
	start, ok, err := in.timeOf("StartTime")
	if err != nil {
		return start, end, errValue("The parameter StartTime has an invalid timestamp.")
	}
	if !ok {
		return start, end, errMissing("StartTime")
	}
	end, ok, err = in.timeOf("EndTime")
	if err != nil {
		return start, end, errValue("The parameter EndTime has an invalid timestamp.")
	}
	if !ok {
		return start, end, errMissing("EndTime")
	}
	if !start.Before(end) {
		return start, end, errValue("The parameter StartTime must be less than the parameter EndTime.")
	}
	return start, end, nil
}

func periodOf(in obj, param string) (time.Duration, error) {
	p, ok, err := in.num("Period")
	if err != nil || (ok && (p != float64(int64(p)))) {
		return 0, errValue("The parameter %s must be an integer.", param)
	}
	if !ok {
		return 0, errMissing(param)
	}
	if p > math.MaxInt32 { // Period is an Integer in CloudWatch's model
		return 0, errValidation("1 validation error detected: Value '%.0f' at 'period' failed to satisfy constraint: Member must have value less than or equal to 2147483647", p)
	}
	// eddy keeps 1-minute data only (no high-resolution metrics):
	// DynamoDB's own metrics are 1-minute.
	if p < 60 || int64(p)%60 != 0 {
		return 0, errValue("The parameter %s must be a multiple of 60.", param)
	}
	return time.Duration(p) * time.Second, nil
}

func (s *Store) getMetricStatistics(region string, in obj) (out, error) {
	k, ns, err := metricIn(region, in, "")
	if err != nil {
		return nil, err
	}
	start, end, err := window(in)
	if err != nil {
		return nil, err
	}
	period, err := periodOf(in, "Period")
	if err != nil {
		return nil, err
	}
	var stats []string
	for _, v := range in.list("Statistics") {
		st, _ := v.(string)
		if !slices.Contains(statNames, st) {
			return nil, errValidation("1 validation error detected: Value '[%s]' at 'statistics' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [Maximum, SampleCount, Sum, Minimum, Average]]", st)
		}
		stats = append(stats, st)
	}
	if len(in.list("ExtendedStatistics")) > 0 {
		// eddy keeps Sum, Count, Min and Max per minute, no distribution.
		return nil, errValue("eddy does not keep percentiles: ExtendedStatistics are not supported.")
	}
	if len(stats) == 0 {
		return nil, errCombination("Must specify either Statistics or ExtendedStatistics")
	}
	if n := int64((end.Sub(start) + period - 1) / period); n > 1440 {
		return nil, errCombination("You have requested up to %s datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.", thousands(n))
	}
	unit, _ := in.str("Unit")
	dps := list{}
	if ns == Namespace && (unit == "" || unit == units[k.Metric]) {
		for _, p := range s.Query(k, start, end, period) {
			dp := out{{"Timestamp", p.Time}}
			for _, st := range stats {
				dp = append(dp, member{st, p.Value(st)})
			}
			dp = append(dp, member{"Unit", units[k.Metric]})
			dps = append(dps, dp)
		}
	}
	name, _ := in.str("MetricName")
	return out{{"Label", name}, {"Datapoints", dps}}, nil
}

var queryID = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

func (s *Store) getMetricData(region string, in obj) (out, error) {
	qs := in.list("MetricDataQueries")
	if qs == nil && !in.has("MetricDataQueries") {
		return nil, errMissing("MetricDataQueries")
	}
	start, end, err := window(in)
	if err != nil {
		return nil, err
	}
	if len(qs) > 500 {
		return nil, errValidation("1 validation error detected: Value at 'metricDataQueries' failed to satisfy constraint: Member must have length less than or equal to 500")
	}
	desc := true
	if sb, ok := in.str("ScanBy"); ok {
		if sb != "TimestampDescending" && sb != "TimestampAscending" {
			return nil, errValidation("1 validation error detected: Value '%s' at 'scanBy' failed to satisfy constraint: Member must satisfy enum value set: [TimestampDescending, TimestampAscending]", sb)
		}
		desc = sb == "TimestampDescending"
	}
	ids := map[string]bool{}
	results := list{}
	for i, q := range qs {
		qo, _ := q.(obj)
		p := fmt.Sprintf("MetricDataQueries.member.%d.", i+1)
		id, ok := qo.str("Id")
		if !ok {
			return nil, errMissing(p + "Id")
		}
		if !queryID.MatchString(id) {
			return nil, errValidation("The value %s for parameter %sId is invalid.", id, p)
		}
		if ids[id] {
			return nil, errValidation("The values for parameter id in MetricDataQueries are not unique.")
		}
		ids[id] = true
		if qo.has("Expression") {
			return nil, errValue("eddy does not evaluate metric math or Metrics Insights: %sExpression is not supported.", p)
		}
		ms, _ := qo["MetricStat"].(obj)
		if ms == nil {
			return nil, errValidation("The parameter %sMetricStat is required.", p)
		}
		mo, _ := ms["Metric"].(obj)
		if mo == nil {
			return nil, errMissing(p + "MetricStat.Metric")
		}
		k, ns, err := metricIn(region, mo, p+"MetricStat.Metric.")
		if err != nil {
			return nil, err
		}
		period, err := periodOf(ms, p+"MetricStat.Period")
		if err != nil {
			return nil, err
		}
		st, ok := ms.str("Stat")
		if !ok {
			return nil, errMissing(p + "MetricStat.Stat")
		}
		if !slices.Contains(statNames, st) {
			return nil, errValue("The value %s for parameter %sMetricStat.Stat is invalid (eddy keeps no percentiles).", st, p)
		}
		if rd, ok := qo["ReturnData"].(bool); ok && !rd {
			continue
		}
		if rd, ok := qo["ReturnData"].(string); ok && rd == "false" {
			continue
		}
		label, ok := qo.str("Label")
		if !ok {
			label, _ = mo.str("MetricName")
		}
		ts, vs := list{}, list{}
		unit, _ := ms.str("Unit")
		if ns == Namespace && (unit == "" || unit == units[k.Metric]) {
			pts := s.Query(k, start, end, period)
			if desc {
				slices.Reverse(pts)
			}
			for _, pt := range pts {
				ts = append(ts, pt.Time)
				vs = append(vs, pt.Value(st))
			}
		}
		results = append(results, out{{"Id", id}, {"Label", label}, {"Timestamps", ts}, {"Values", vs}, {"StatusCode", "Complete"}})
	}
	return out{{"MetricDataResults", results}, {"Messages", list{}}}, nil
}

func (s *Store) listMetrics(region string, in obj) (out, error) {
	ns, nsOK := in.str("Namespace")
	name, nameOK := in.str("MetricName")
	type filter struct {
		name, value string
		hasValue    bool
	}
	var filters []filter
	for i, d := range in.list("Dimensions") {
		do, _ := d.(obj)
		n, ok := do.str("Name")
		if !ok {
			return nil, errMissing(fmt.Sprintf("Dimensions.member.%d.Name", i+1))
		}
		v, hv := do.str("Value")
		filters = append(filters, filter{n, v, hv})
	}
	if len(filters) > 10 {
		return nil, errValidation("1 validation error detected: Value at 'dimensions' failed to satisfy constraint: Member must have length less than or equal to 10")
	}
	offset := 0
	if tok, ok := in.str("NextToken"); ok {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "o"))
		if err != nil || err2 != nil || !strings.HasPrefix(string(b), "o") || n < 0 {
			return nil, &apiError{"InvalidNextToken", "InvalidNextToken", "The service couldn't process your request because the NextToken value is invalid."}
		}
		offset = n
	}
	var metrics list
	if !nsOK || ns == Namespace {
	keys:
		for _, k := range s.Keys(region) {
			if nameOK && k.Metric != name {
				continue
			}
			dims := k.Dimensions()
			for _, f := range filters {
				i := slices.IndexFunc(dims, func(d Dimension) bool { return d.Name == f.name })
				if i < 0 || (f.hasValue && dims[i].Value != f.value) {
					continue keys
				}
			}
			dl := list{}
			for _, d := range dims {
				dl = append(dl, out{{"Name", d.Name}, {"Value", d.Value}})
			}
			metrics = append(metrics, out{{"Namespace", Namespace}, {"MetricName", k.Metric}, {"Dimensions", dl}})
		}
	}
	const page = 500
	res := out{}
	if offset > len(metrics) {
		offset = len(metrics)
	}
	endIdx := min(offset+page, len(metrics))
	page0 := list{}
	page0 = append(page0, metrics[offset:endIdx]...)
	res = append(res, member{"Metrics", page0})
	if endIdx < len(metrics) {
		res = append(res, member{"NextToken", base64.RawURLEncoding.EncodeToString([]byte("o" + strconv.Itoa(endIdx)))})
	}
	return res, nil
}

// thousands writes n with commas, as CloudWatch's messages do.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
