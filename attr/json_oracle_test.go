package attr

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/eddydb/eddy/internal/ddberr"
)

// The encoding/json-based decoder Value.UnmarshalJSON used before the
// single-pass one (jsondec.go), kept as the oracle of the differential tests.

// oracleValue decodes through the old implementation (nested M and L
// values too).
type oracleValue struct{ v Value }

// UnmarshalJSON decodes DynamoDB JSON ({"S":"x"}, {"N":"1"}, ...) and
// validates it as DynamoDB does. Errors are *ddberr.Error.
func (v *oracleValue) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return ddberr.New(ddberr.KindSerialization, "Unexpected value type in payload")
	}
	// DynamoDB reports number errors before the type-count errors.
	for _, k := range []string{"N", "NS"} {
		if r, ok := raw[k]; ok {
			if err := oracleCheckNumbers(k, r); err != nil {
				return err
			}
		}
	}
	var typ Type
	var payload json.RawMessage
	known := 0
	for k, r := range raw {
		if t, ok := TypeFromString(k); ok {
			if string(r) == "null" {
				continue
			}
			known++
			typ, payload = t, r
		}
	}
	if known == 0 {
		return ddberr.Validationf(msgEmptyValue)
	}
	if known > 1 {
		return ddberr.Validationf(msgMultiTypes)
	}
	return v.decodeTyped(typ, payload)
}

func oracleCheckNumbers(k string, r json.RawMessage) error {
	var list []string
	if k == "N" {
		var s string
		if json.Unmarshal(r, &s) != nil {
			return serial(k)
		}
		list = []string{s}
	} else if json.Unmarshal(r, &list) != nil {
		return serial(k)
	}
	for _, s := range list {
		if _, err := ParseNumber(s); err != nil {
			return ddberr.Validationf("%s", err.Error())
		}
	}
	return nil
}

func (v *oracleValue) decodeTyped(typ Type, r json.RawMessage) error {
	switch typ {
	case TypeS:
		var s string
		if json.Unmarshal(r, &s) != nil {
			return serial("S")
		}
		v.v = S(s)
	case TypeN:
		var s string
		_ = json.Unmarshal(r, &s)
		n, _ := ParseNumber(s) // checked above
		v.v = NumberValue(n)
	case TypeB:
		b, err := oracleDecodeB64(r)
		if err != nil {
			return err
		}
		v.v = B(b)
	case TypeBOOL:
		var b bool
		if json.Unmarshal(r, &b) != nil {
			return serial("BOOL")
		}
		v.v = Bool(b)
	case TypeNULL:
		var b bool
		if json.Unmarshal(r, &b) != nil {
			return serial("NULL")
		}
		v.v = Null() // false too: see jsondec.go
	case TypeM:
		var om map[string]oracleValue
		if err := json.Unmarshal(r, &om); err != nil {
			return oracleNestedErr(err)
		}
		m := map[string]Value{}
		for k, e := range om {
			m[k] = e.v
		}
		v.v = M(m)
	case TypeL:
		var ol []oracleValue
		if err := json.Unmarshal(r, &ol); err != nil {
			return oracleNestedErr(err)
		}
		l := []Value{}
		for _, e := range ol {
			l = append(l, e.v)
		}
		v.v = L(l)
	case TypeSS:
		var ss []string
		if json.Unmarshal(r, &ss) != nil {
			return serial("SS")
		}
		if len(ss) == 0 {
			return ddberr.Invalidf("An string set  may not be empty")
		}
		seen := make(map[string]struct{}, len(ss))
		for _, s := range ss {
			if _, dup := seen[s]; dup {
				return ddberr.Invalidf("Input collection [%s] contains duplicates.", strings.Join(ss, ", "))
			}
			seen[s] = struct{}{}
		}
		v.v = SS(ss)
	case TypeNS:
		var ns []string
		_ = json.Unmarshal(r, &ns)
		if len(ns) == 0 {
			return ddberr.Invalidf("An number set  may not be empty")
		}
		out := make([]string, len(ns))
		seen := make(map[string]struct{}, len(ns))
		for i, s := range ns {
			n, _ := ParseNumber(s)
			c := n.String()
			if _, dup := seen[c]; dup {
				return ddberr.Validationf("Input collection contains duplicates")
			}
			seen[c] = struct{}{}
			out[i] = c
		}
		v.v = NS(out)
	case TypeBS:
		var raws []json.RawMessage
		if json.Unmarshal(r, &raws) != nil {
			return serial("BS")
		}
		if len(raws) == 0 {
			return ddberr.Invalidf("Binary sets should not be empty")
		}
		bs := make([][]byte, len(raws))
		seen := make(map[string]struct{}, len(raws))
		for i, rr := range raws {
			b, err := oracleDecodeB64(rr)
			if err != nil {
				return err
			}
			if _, dup := seen[string(b)]; dup {
				enc := make([]string, len(raws))
				for j, x := range raws {
					_ = json.Unmarshal(x, &enc[j])
				}
				return ddberr.Invalidf("Input collection [%s]of type BS contains duplicates.", strings.Join(enc, ", "))
			}
			seen[string(b)] = struct{}{}
			bs[i] = b
		}
		v.v = BS(bs)
	}
	return nil
}

// nestedErr passes a nested value's *ddberr.Error through; anything else is
// a shape error.
func oracleNestedErr(err error) error {
	var de *ddberr.Error
	if errors.As(err, &de) {
		return de
	}
	return ddberr.New(ddberr.KindSerialization, "Unexpected value type in payload")
}

func oracleDecodeB64(r json.RawMessage) ([]byte, error) {
	var s string
	if json.Unmarshal(r, &s) != nil {
		return nil, serial("B")
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, ddberr.New(ddberr.KindSerialization, "Base64 encoded length is expected a multiple of 4 bytes but found: %d", len(s))
	}
	return b, nil
}
