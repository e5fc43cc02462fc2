package attr

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"sort"
	"strconv"
	"strings"
	"testing"
)

func TestCanonicalNumbers(t *testing.T) {
	cases := map[string]string{
		"1": "1", "01": "1", "1.0": "1", "-0": "0", "0.10": "0.1", "1e2": "100", "+7": "7",
		"1E-3": "0.001", "-12.3400": "-12.34", "1e125": "1" + strings.Repeat("0", 125),
		"1e-130":                                   "0." + strings.Repeat("0", 129) + "1",
		"12345678901234567890123456789012345678":   "12345678901234567890123456789012345678",
		"1000000000000000000000000000000000000000": "1000000000000000000000000000000000000000",
	}
	for in, want := range cases {
		got, err := CanonicalNumber(in)
		if err != nil || got != want {
			t.Errorf("CanonicalNumber(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":    "The parameter cannot be converted to a numeric value",
		"b":   "The parameter cannot be converted to a numeric value: b",
		"NaN": "The parameter cannot be converted to a numeric value: NaN",
		"1e":  "The parameter cannot be converted to a numeric value: 1e",
		"123456789012345678901234567890123456789": "Attempting to store more than 38 significant digits in a Number",
		"1e126":   "Number overflow. Attempting to store a number with magnitude larger than supported range",
		"-1e-131": "Number underflow. Attempting to store a number with magnitude smaller than supported range",
	}
	for in, want := range bad {
		_, err := CanonicalNumber(in)
		if err == nil || err.Error() != want {
			t.Errorf("CanonicalNumber(%q) error = %v; want %q", in, err, want)
		}
	}
}

func TestNumberArithmeticExact(t *testing.T) {
	a := MustNumber("99999999999999999999999999999999999999")
	b := MustNumber("-0.00000000000000000000000000000000000001")
	if _, err := a.Add(b); err == nil {
		t.Fatal("expected a precision error for a 76-digit result")
	}
	c, err := MustNumber("0.1").Add(MustNumber("0.2"))
	if err != nil || c.String() != "0.3" {
		t.Fatalf("0.1+0.2 = %v, %v", c, err)
	}
}

func TestNumberKeyOrder(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var nums []Number
	for _, s := range []string{"0", "1", "-1", "0.5", "-0.5", "10", "-10", "1e125", "-1e125", "1e-130", "-1e-130", "0.11", "0.1", "-0.1", "-0.11", "9.99", "100", "99"} {
		nums = append(nums, MustNumber(s))
	}
	for i := 0; i < 2000; i++ {
		s := strconv.FormatFloat((r.Float64()-0.5)*1e6, 'f', r.Intn(8), 64)
		if r.Intn(3) == 0 {
			s += "e" + strconv.Itoa(r.Intn(200)-100)
		}
		n, err := ParseNumber(s)
		if err == nil {
			nums = append(nums, n)
		}
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i].Cmp(nums[j]) < 0 })
	for i := 1; i < len(nums); i++ {
		a := AppendKey(nil, NumberValue(nums[i-1]))
		b := AppendKey(nil, NumberValue(nums[i]))
		want := nums[i-1].Cmp(nums[i])
		if got := bytes.Compare(a, b); got != want {
			t.Fatalf("key order of %s vs %s: %d, want %d", nums[i-1], nums[i], got, want)
		}
	}
}

func TestStringKeyOrderAndDelimiting(t *testing.T) {
	ss := []string{"", "\x00", "\x00\x00", "\x00a", "a", "a\x00", "a\x00b", "ab", "b", "\xff", "\xff\xff"}
	for i := 1; i < len(ss); i++ {
		// a key followed by any suffix still sorts by the key first
		a := append(AppendKey(nil, S(ss[i-1])), 0xFF, 0xFF)
		b := append(AppendKey(nil, S(ss[i])), 0x00)
		if bytes.Compare(a, b) >= 0 {
			t.Fatalf("%q should sort before %q", ss[i-1], ss[i])
		}
	}
}

func TestBinaryRoundTrip(t *testing.T) {
	var it Item
	src := `{"s":{"S":"héllo\"\n"},"n":{"N":"-12345678901234567890123456789012345678"},"b":{"B":"AAEC"},
	"t":{"BOOL":true},"f":{"BOOL":false},"z":{"NULL":true},"e":{"S":""},
	"m":{"M":{"x":{"L":[{"N":"1"},{"M":{}},{"L":[]},{"SS":["a","b"]}]}}},
	"ss":{"SS":["x","y"]},"ns":{"NS":["1.50","2"]},"bs":{"BS":["AA==","AQ=="]}}`
	if err := json.Unmarshal([]byte(src), &it); err != nil {
		t.Fatal(err)
	}
	if got := it["ns"].Strings(); got[0] != "1.5" {
		t.Fatalf("NS not canonical: %v", got)
	}
	back, err := DecodeBinary(AppendBinary(nil, it))
	if err != nil || !ItemsEqual(it, back) {
		t.Fatalf("binary round trip: %v\n%v\n%v", err, it, back)
	}
	var again Item
	if err := json.Unmarshal(AppendItemJSON(nil, back), &again); err != nil || !ItemsEqual(it, again) {
		t.Fatalf("json round trip: %v", err)
	}
	if _, err := DecodeBinary([]byte{1, 5, 1}); err == nil {
		t.Fatal("corrupt input decoded")
	}
}

func TestJSONValidation(t *testing.T) {
	cases := map[string]string{
		`{}`:                     "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
		`{"a":""}`:               "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
		`{"S":"a","BOOL":true}`:  "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
		`{"S":"a","N":"b"}`:      "The parameter cannot be converted to a numeric value: b",
		`{"SS":[]}`:              "One or more parameter values were invalid: An string set  may not be empty",
		`{"NS":[]}`:              "One or more parameter values were invalid: An number set  may not be empty",
		`{"BS":[]}`:              "One or more parameter values were invalid: Binary sets should not be empty",
		`{"SS":["a","a"]}`:       "One or more parameter values were invalid: Input collection [a, a] contains duplicates.",
		`{"BS":["Yg==","Yg=="]}`: "One or more parameter values were invalid: Input collection [Yg==, Yg==]of type BS contains duplicates.",
		`{"NS":["1","1.0"]}`:     "Input collection contains duplicates",
		`{"M":{"a":{}}}`:         "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
	}
	for in, want := range cases {
		var v Value
		err := json.Unmarshal([]byte(in), &v)
		if err == nil || !strings.HasSuffix(err.Error(), ": "+want) {
			t.Errorf("%s: got %v, want %q", in, err, want)
		}
	}
}

func TestSizes(t *testing.T) {
	big := "11111" + strings.Repeat("0", 121)
	if got := Size(N(MustNumber(big).String())); got != 4 {
		t.Errorf("size of %s = %d, want 4", big, got)
	}
	if got := Size(N("0.000123")); got != 3 {
		t.Errorf("size of 0.000123 = %d, want 3", got)
	}
	it := Item{"ab": S("xyz"), "m": M(map[string]Value{"k": Bool(true)}), "l": L([]Value{Null()})}
	// ab:2+3, m:1+3+1+1+1, l:1+3+1+1
	if got := ItemSize(it); got != 5+7+6 {
		t.Errorf("ItemSize = %d", got)
	}
}

// TestNullFalseIsNull: {"NULL": false} decodes as NULL (true), as DynamoDB
// has stored it since its 2026-06 rewording (nubo-db/dynamodb-conformance
// tests/tier3/error-messages/putItem.test.ts "NULL attr with false is
// accepted and normalises to NULL true").
func TestNullFalseIsNull(t *testing.T) {
	for _, in := range []string{`{"NULL":false}`, `{"L":[{"NULL":false}]}`} {
		var v Value
		if err := json.Unmarshal([]byte(in), &v); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.ReplaceAll(in, "false", "true"); string(out) != want {
			t.Errorf("%s: got %s, want %s", in, out, want)
		}
	}
}
