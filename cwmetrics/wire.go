package cwmetrics

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// The three wire protocols of CloudWatch (Smithy model "GraniteServiceVersion20100801",
// awsQueryCompatible): what each client sends was captured against a test
// server in 2026-12: aws-sdk-go-v2 service/cloudwatch v1.76.0 and botocore
// 1.43 (AWS CLI v1.45) send Smithy RPC v2 CBOR; AWS CLI v2.9 (Debian
// bookworm) and older SDKs send awsquery; botocore's model also lists
// JSON 1.0, which eddy serves too.
type protocol int

const (
	protoQuery protocol = iota // POST / form-encoded Action=..., XML answers
	protoJSON                  // POST / X-Amz-Target: GraniteServiceVersion20100801.Op, JSON 1.0
	protoCBOR                  // POST /service/GraniteServiceVersion20100801/operation/Op, Smithy-Protocol: rpc-v2-cbor
)

// ServiceName is CloudWatch's Smithy service name: the JSON 1.0 target
// prefix and the RPC v2 CBOR path segment.
const ServiceName = "GraniteServiceVersion20100801"

// xmlns is the awsquery answers' namespace.
const xmlns = "http://monitoring.amazonaws.com/doc/2010-08-01/"

// obj is a decoded request structure: a JSON object, a CBOR map or the
// awsquery parameters as a tree ("A.member.1.B=x" is {"A":[{"B":"x"}]}).
type obj map[string]any

func (o obj) has(k string) bool { _, ok := o[k]; return ok }

func (o obj) str(k string) (string, bool) {
	switch v := o[k].(type) {
	case string:
		return v, true
	}
	return "", false
}

func (o obj) list(k string) []any {
	l, _ := o[k].([]any)
	return l
}

// num reads a number (a string in awsquery).
func (o obj) num(k string) (float64, bool, error) {
	switch v := o[k].(type) {
	case nil:
		return 0, false, nil
	case float64:
		return v, true, nil
	case json.Number:
		f, err := v.Float64()
		return f, true, err
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, true, err
	}
	return 0, true, fmt.Errorf("not a number")
}

// timeOf reads a timestamp: epoch seconds (JSON, CBOR tag 1) or ISO 8601
// (awsquery; the CLI also accepts epoch seconds there).
func (o obj) timeOf(k string) (time.Time, bool, error) {
	switch v := o[k].(type) {
	case nil:
		return time.Time{}, false, nil
	case time.Time:
		return v, true, nil
	case float64:
		return epoch(v), true, nil
	case json.Number:
		f, err := v.Float64()
		return epoch(f), true, err
	case string:
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return epoch(f), true, nil
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
			if t, err := time.Parse(layout, v); err == nil {
				return t, true, nil
			}
		}
		return time.Time{}, true, fmt.Errorf("bad timestamp %q", v)
	}
	return time.Time{}, true, fmt.Errorf("not a timestamp")
}

func epoch(f float64) time.Time {
	s, frac := math.Modf(f)
	return time.Unix(int64(s), int64(frac*1e9)).UTC()
}

// parseQuery turns awsquery parameters into a tree: list members
// ("X.member.N"), structures ("X.Y"); Action and Version are dropped.
func parseQuery(vals url.Values) obj {
	root := obj{}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "Action" || k == "Version" {
			continue
		}
		setPath(root, strings.Split(k, "."), vals.Get(k))
	}
	return root
}

// setPath stores v at path under o; lists are built as maps from index to
// element, then turned into slices by listify.
func setPath(o obj, path []string, v string) {
	cur := o
	for i := 0; i < len(path); i++ {
		name := path[i]
		last := i == len(path)-1
		if i+2 < len(path) && path[i+1] == "member" {
			idx, err := strconv.Atoi(path[i+2])
			if err != nil || idx < 1 || idx > 1000 {
				return
			}
			l, _ := cur[name].([]any)
			for len(l) < idx {
				l = append(l, nil)
			}
			cur[name] = l
			if i+2 == len(path)-1 {
				l[idx-1] = v
				return
			}
			next, _ := l[idx-1].(obj)
			if next == nil {
				next = obj{}
				l[idx-1] = next
			}
			cur = next
			i += 2
			continue
		}
		if last {
			cur[name] = v
			return
		}
		next, _ := cur[name].(obj)
		if next == nil {
			next = obj{}
			cur[name] = next
		}
		cur = next
	}
}

// fromCBOR converts a decoded CBOR value into the tree of obj, []any,
// string, float64, bool and time.Time (tag 1).
func fromCBOR(v cbor.Value) any {
	switch x := v.(type) {
	case cbor.Map:
		o := obj{}
		for k, e := range x {
			o[k] = fromCBOR(e)
		}
		return o
	case cbor.List:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = fromCBOR(e)
		}
		return l
	case cbor.String:
		return string(x)
	case cbor.Uint:
		return float64(x)
	case cbor.NegInt:
		return -float64(x) - 1
	case cbor.Float32:
		return float64(x)
	case cbor.Float64:
		return float64(x)
	case cbor.Bool:
		return bool(x)
	case *cbor.Tag:
		if x.ID == 1 {
			if f, ok := fromCBOR(x.Value).(float64); ok {
				return epoch(f)
			}
		}
	case cbor.Tag:
		if x.ID == 1 {
			if f, ok := fromCBOR(x.Value).(float64); ok {
				return epoch(f)
			}
		}
	}
	return nil
}

// fromJSON converts a json.Unmarshal'd value (with UseNumber) into the tree.
func fromJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		o := obj{}
		for k, e := range x {
			o[k] = fromJSON(e)
		}
		return o
	case []any:
		for i := range x {
			x[i] = fromJSON(x[i])
		}
		return x
	case json.Number:
		f, _ := x.Float64()
		return f
	}
	return v
}

// An answer is built of out (ordered members), list, string, float64,
// int, time.Time and []float64 / []time.Time.
type out []member

type member struct {
	name string
	v    any
}

type list []any

func encodeJSON(v any) []byte {
	var b bytes.Buffer
	writeJSON(&b, v)
	return b.Bytes()
}

func writeJSON(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case out:
		b.WriteByte('{')
		for i, m := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(m.name)
			b.Write(k)
			b.WriteByte(':')
			writeJSON(b, m.v)
		}
		b.WriteByte('}')
	case list:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
	case time.Time:
		b.WriteString(strconv.FormatFloat(float64(x.UnixMilli())/1000, 'f', -1, 64))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	default:
		j, _ := json.Marshal(x)
		b.Write(j)
	}
}

func toCBOR(v any) cbor.Value {
	switch x := v.(type) {
	case out:
		m := cbor.Map{}
		for _, e := range x {
			m[e.name] = toCBOR(e.v)
		}
		return m
	case list:
		l := make(cbor.List, len(x))
		for i, e := range x {
			l[i] = toCBOR(e)
		}
		return l
	case time.Time:
		return &cbor.Tag{ID: 1, Value: cbor.Float64(float64(x.UnixMilli()) / 1000)}
	case float64:
		return cbor.Float64(x)
	case int:
		if x < 0 {
			return cbor.NegInt(uint64(-x - 1))
		}
		return cbor.Uint(uint64(x))
	case string:
		return cbor.String(x)
	case bool:
		return cbor.Bool(x)
	}
	return &cbor.Nil{}
}

// writeXML renders v as awsquery XML: structures as elements, lists as
// <member> elements, timestamps in ISO 8601.
func writeXML(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case out:
		for _, m := range x {
			b.WriteString("<" + m.name + ">")
			writeXML(b, m.v)
			b.WriteString("</" + m.name + ">")
		}
	case list:
		for _, e := range x {
			b.WriteString("<member>")
			writeXML(b, e)
			b.WriteString("</member>")
		}
	case time.Time:
		b.WriteString(x.UTC().Format("2006-01-02T15:04:05.000Z"))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	case int:
		b.WriteString(strconv.Itoa(x))
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		_ = xml.EscapeText(b, []byte(x))
	}
}
