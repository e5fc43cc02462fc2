package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eddydb/eddy/api"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/streams"
)

// FuzzUpdateMissingItem drives UpdateItem against an item that does not
// exist, with update actions and a condition built from the input, and
// compares what eddy does (an error or not and its type, the item written
// or not, a stream record or not, the Attributes returned) with a small
// model of DynamoDB's rules for an absent item:
//
//   - the condition is evaluated on the absent item: attribute_exists,
//     comparisons, begins_with, contains, size, BETWEEN and IN are false;
//     attribute_not_exists, <> (one side or both absent) are true; legacy
//     Expected: Exists false, NULL and NE hold, the rest (NOT_CONTAINS
//     included) fail; a false condition is ConditionalCheckFailedException;
//   - two actions on one path are refused before anything is read;
//   - an update whose actions only REMOVE or DELETE from a set writes
//     nothing: no item, no stream record, no Attributes, and no error for
//     a nested path (scylladb/scylladb#5862, run against DynamoDB);
//   - an update with no actions at all (legacy, no AttributeUpdates)
//     creates the item holding just its key;
//   - otherwise the item is written with one INSERT record, unless an
//     action reads an absent attribute (SET a = b, SET n = n + :one) or
//     writes into an absent map (SET m.x, REMOVE m.x beside a write):
//     ValidationException, nothing written. When the condition is false
//     too, either error is accepted (the model does not say which of the
//     two DynamoDB reports first);
//   - ALL_NEW and UPDATED_NEW return Attributes only when an item is
//     written, ALL_OLD and UPDATED_OLD never (there was no item).
//
// Each input runs on a fresh key of one table with a stream.
func FuzzUpdateMissingItem(f *testing.F) {
	for _, s := range []string{
		"\x00\x00\x04",                 // REMOVE a
		"\x02\x00\x04",                 // REMOVE a, ALL_NEW
		"\x00\x01\x04\x08",             // REMOVE a DELETE s :ss
		"\x00\x00\x05",                 // REMOVE m.x
		"\x00\x01\x00\x05",             // SET a = :vv REMOVE m.x: path error
		"\x00\x00\x00\x04",             // SET a, condition a <> b
		"\x00\x00\x04\x00",             // REMOVE a, condition attribute_exists(a)
		"\x00\x00\x01\x00",             // SET a = b, condition attribute_exists(a)
		"\x00\x01\x00\x04",             // SET a, REMOVE a: overlap
		"\x00\x00\x0a\x0b\x03",         // list_append, condition NOT a <> :vv
		"\x01\x02",                     // legacy DELETE a
		"\x01\x01\x00\x00\x07",         // legacy PUT a, Expected NOT_CONTAINS
		"\x01\x00\x00\x00\x01",         // legacy, no AttributeUpdates, Exists false
		"\x03\x00\x01\x00\x03\x05\x01", // legacy ADD s, two Expected, OR
	} {
		f.Add([]byte(s))
	}
	db, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		f.Fatal(err)
	}
	l, err := streams.Open(db, streams.Options{ShardCount: 2, MaintenanceInterval: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	db.RegisterChangeLog(l)
	f.Cleanup(func() { l.Close(); db.Close() })
	a := &fuzzAPI{h: api.New(api.Deps{DB: db, Log: l}, api.Config{})}
	if status, body := a.post("DynamoDB_20120810.CreateTable", []byte(`{"TableName":"fuzzmissing","BillingMode":"PAY_PER_REQUEST",
		"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
		"StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}}`)); status != 200 {
		f.Fatalf("CreateTable: %d %s", status, body)
	}
	n := 0
	f.Fuzz(func(t *testing.T, data []byte) {
		n++
		key := fmt.Sprintf("k%d", n)
		req, want := buildMissingUpdate(data)
		req["TableName"] = "fuzzmissing"
		req["Key"] = map[string]any{"pk": map[string]string{"S": key}}
		body, _ := json.Marshal(req)
		before := l.HighWater()
		status, resp := a.post("DynamoDB_20120810.UpdateItem", body)
		records := l.HighWater() - before
		_, got := a.post("DynamoDB_20120810.GetItem", []byte(`{"TableName":"fuzzmissing","ConsistentRead":true,"Key":{"pk":{"S":"`+key+`"}}}`))
		var item struct{ Item map[string]any }
		_ = json.Unmarshal(got, &item)
		var out struct {
			Type       string `json:"__type"`
			Message    string `json:"message"`
			Attributes map[string]any
		}
		_ = json.Unmarshal(resp, &out)
		errType := ""
		if status != 200 {
			errType = out.Type[strings.LastIndex(out.Type, "#")+1:]
		}
		fail := func(format string, args ...any) {
			t.Fatalf("%s\nmodel: %+v\neddy: %d %s, item %v, %d stream records\n%s", body, want, status, resp, item.Item, records, fmt.Sprintf(format, args...))
		}
		switch {
		case status >= 500:
			fail("a 5xx")
		case want.errs != nil:
			if !want.errs[errType] {
				fail("want one of %v", want.errs)
			}
		case errType != "":
			fail("want no error")
		}
		written := errType == "" && want.write
		if (item.Item != nil) != written {
			fail("item written: %v, want %v", item.Item != nil, written)
		}
		if wantRecords := map[bool]streams.Seq{true: 1, false: 0}[written]; records != wantRecords {
			fail("%d stream records, want %d", records, wantRecords)
		}
		if (out.Attributes != nil) != (written && want.returnsNew) {
			fail("Attributes %v, want them: %v", out.Attributes, written && want.returnsNew)
		}
	})
}

// missingUpdate is the model's answer for an update of an absent item.
type missingUpdate struct {
	errs       map[string]bool // acceptable error types; nil: none
	write      bool            // the item is written (when no error)
	returnsNew bool            // ReturnValues asks for new values
}

// updAction is one update action of the expression menu.
type updAction struct {
	clause, text, path string
	write              bool // writes something (SET, ADD)
	readsAbsent        bool // fails on an absent item whatever else happens
	nested             bool // a path into the map m, which is absent
	values             []string
}

var updMenu = []updAction{
	{"SET", "a = :vv", "a", true, false, false, []string{":vv"}},
	{"SET", "a = b", "a", true, true, false, nil},
	{"SET", "a = if_not_exists(b, :vv)", "a", true, false, false, []string{":vv"}},
	{"SET", "m.x = :vv", "m.x", true, true, true, []string{":vv"}},
	{"REMOVE", "a", "a", false, false, false, nil},
	{"REMOVE", "m.x", "m.x", false, false, true, nil},
	{"ADD", "n :one", "n", true, false, false, []string{":one"}},
	{"ADD", "s :ss", "s", true, false, false, []string{":ss"}},
	{"DELETE", "s :ss", "s", false, false, false, []string{":ss"}},
	{"SET", "n = n + :one", "n", true, true, false, []string{":one"}},
	{"SET", "l = list_append(if_not_exists(l, :emp), :lst)", "l", true, false, false, []string{":emp", ":lst"}},
}

// condLeaves are conditions on the absent item with their value there.
var condLeaves = []struct {
	text   string
	value  bool
	values []string
}{
	{"attribute_exists(a)", false, nil},
	{"attribute_not_exists(a)", true, nil},
	{"a = :vv", false, []string{":vv"}},
	{"a <> :vv", true, []string{":vv"}},
	{"a <> b", true, nil},
	{"a < :vv", false, []string{":vv"}},
	{"begins_with(a, :vv)", false, []string{":vv"}},
	{"size(a) < :nn", false, []string{":nn"}},
	{"contains(s, :vv)", false, []string{":vv"}},
	{"a BETWEEN :vv AND :vv", false, []string{":vv"}},
	{"a IN (:vv, :nn)", false, []string{":vv", ":nn"}},
}

var fuzzValues = map[string]any{
	":vv": map[string]string{"S": "v"}, ":nn": map[string]string{"N": "3"}, ":one": map[string]string{"N": "1"},
	":ss": map[string][]string{"SS": {"x"}}, ":lst": map[string]any{"L": []any{map[string]string{"S": "x"}}},
	":emp": map[string]any{"L": []any{}},
}

var returnValues = []string{"NONE", "ALL_NEW", "UPDATED_NEW", "ALL_OLD", "UPDATED_OLD"}

// buildMissingUpdate turns fuzz bytes into an UpdateItem request (without
// table and key) and the model's answer for it on an absent item. Byte 0:
// bit 0 legacy (AttributeUpdates/Expected) or expressions, the rest
// ReturnValues; then the actions; then the condition.
func buildMissingUpdate(data []byte) (map[string]any, missingUpdate) {
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	mode := next()
	rv := returnValues[int(mode>>1)%len(returnValues)]
	req := map[string]any{"ReturnValues": rv}
	want := missingUpdate{returnsNew: rv == "ALL_NEW" || rv == "UPDATED_NEW"} // legacy refines it
	used := map[string]bool{}
	var condValue bool
	var runtimeErr, compileErr bool
	if mode&1 == 0 {
		// Expressions: 1-4 actions from the menu, then a condition tree.
		nActs := 1 + int(next())%4
		clauses := map[string][]string{}
		paths := map[string]bool{}
		var writes, readsAbsent, nested bool
		for i := 0; i < nActs; i++ {
			act := updMenu[int(next())%len(updMenu)]
			if paths[act.path] {
				compileErr = true // two document paths overlap
			}
			paths[act.path] = true
			clauses[act.clause] = append(clauses[act.clause], act.text)
			writes = writes || act.write
			readsAbsent = readsAbsent || act.readsAbsent
			nested = nested || act.nested
			for _, v := range act.values {
				used[v] = true
			}
		}
		var expr []string
		for _, c := range []string{"SET", "REMOVE", "ADD", "DELETE"} {
			if len(clauses[c]) > 0 {
				expr = append(expr, c+" "+strings.Join(clauses[c], ", "))
			}
		}
		req["UpdateExpression"] = strings.Join(expr, " ")
		want.write = writes
		runtimeErr = readsAbsent || (writes && nested)
		condValue = true
		if len(data) > 0 {
			var text string
			text, condValue = buildCondition(next, used, 0)
			req["ConditionExpression"] = text
		}
		if len(used) > 0 {
			vals := map[string]any{}
			for v := range used {
				vals[v] = fuzzValues[v]
			}
			req["ExpressionAttributeValues"] = vals
		}
	} else {
		// Legacy: per attribute a (PUT, DELETE), s (ADD, DELETE a set), n
		// (ADD, PUT) absent or one action; then Expected on a, b.
		ups := map[string]any{}
		writes := false
		for _, a := range []struct {
			name string
			opts []map[string]any
			w    []bool
		}{
			{"a", []map[string]any{{"Action": "PUT", "Value": fuzzValues[":vv"]}, {"Action": "DELETE"}}, []bool{true, false}},
			{"s", []map[string]any{{"Action": "ADD", "Value": fuzzValues[":ss"]}, {"Action": "DELETE", "Value": fuzzValues[":ss"]}}, []bool{true, false}},
			{"n", []map[string]any{{"Action": "ADD", "Value": fuzzValues[":one"]}, {"Action": "PUT", "Value": fuzzValues[":nn"]}}, []bool{true, true}},
		} {
			if o := int(next()) % 3; o > 0 {
				ups[a.name] = a.opts[o-1]
				writes = writes || a.w[o-1]
			}
		}
		if len(ups) > 0 {
			req["AttributeUpdates"] = ups
		}
		// No actions at all creates the key-only item; only removals write nothing.
		want.write = writes || len(ups) == 0
		want.returnsNew = rv == "ALL_NEW" || rv == "UPDATED_NEW" && writes
		expected := map[string]any{}
		var vals []bool
		for _, name := range []string{"a", "b"} {
			b := next() % 8
			if b == 0 {
				continue
			}
			e, v := legacyExpected(b - 1)
			expected[name] = e
			vals = append(vals, v)
		}
		condValue = true
		if len(expected) > 0 {
			req["Expected"] = expected
			and := next()%2 == 0
			if len(expected) > 1 {
				req["ConditionalOperator"] = map[bool]string{true: "AND", false: "OR"}[and]
			}
			condValue = vals[0]
			for _, v := range vals[1:] {
				if and {
					condValue = condValue && v
				} else {
					condValue = condValue || v
				}
			}
		}
	}
	switch {
	case compileErr:
		want.errs = map[string]bool{"ValidationException": true}
	case !condValue && runtimeErr:
		want.errs = map[string]bool{"ValidationException": true, "ConditionalCheckFailedException": true}
	case !condValue:
		want.errs = map[string]bool{"ConditionalCheckFailedException": true}
	case runtimeErr:
		want.errs = map[string]bool{"ValidationException": true}
	}
	return req, want
}

// buildCondition builds a condition expression from the input and its
// value on the absent item.
func buildCondition(next func() byte, used map[string]bool, depth int) (string, bool) {
	b := int(next())
	op := b % (len(condLeaves) + 3)
	if depth >= 4 || op < len(condLeaves) {
		leaf := condLeaves[b%len(condLeaves)]
		for _, v := range leaf.values {
			used[v] = true
		}
		return leaf.text, leaf.value
	}
	l, lv := buildCondition(next, used, depth+1)
	switch op - len(condLeaves) {
	case 0:
		return "NOT " + l, !lv
	case 1:
		r, rv := buildCondition(next, used, depth+1)
		return "(" + l + " AND " + r + ")", lv && rv
	default:
		r, rv := buildCondition(next, used, depth+1)
		return "(" + l + " OR " + r + ")", lv || rv
	}
}

// legacyExpected is one legacy Expected condition and its value on an
// absent attribute.
func legacyExpected(k byte) (map[string]any, bool) {
	v := []any{fuzzValues[":vv"]}
	switch k {
	case 0:
		return map[string]any{"Exists": false}, true
	case 1:
		return map[string]any{"Value": fuzzValues[":vv"]}, false
	case 2:
		return map[string]any{"ComparisonOperator": "NULL"}, true
	case 3:
		return map[string]any{"ComparisonOperator": "NOT_NULL"}, false
	case 4:
		return map[string]any{"ComparisonOperator": "NE", "AttributeValueList": v}, true
	case 5:
		return map[string]any{"ComparisonOperator": "EQ", "AttributeValueList": v}, false
	default:
		return map[string]any{"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": v}, false
	}
}
