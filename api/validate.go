package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
)

// constraints collects the front end's member constraint violations and
// renders them as DynamoDB does:
//
//	1 validation error detected: Value 'ab' at 'tableName' failed to satisfy
//	constraint: Member must have length greater than or equal to 3
//
// with "N validation errors detected: ...; ..." for several.
//
// A table name's rules differ between the control plane (tableName) and the
// data plane (itemTableName); see those.
type constraints struct {
	first    error // reported instead of msgs
	msgs     []string
	longName bool // attr.MsgNameTooLarge is in msgs
}

func (c *constraints) fail(value any, at, rule string) {
	var v string
	switch x := value.(type) {
	case nil:
		v = "null"
	case *string:
		if x == nil {
			v = "null"
		} else {
			v = "'" + *x + "'"
		}
	case string:
		v = "'" + x + "'"
	case *int64:
		if x == nil {
			v = "null"
		} else {
			v = "'" + strconv.FormatInt(*x, 10) + "'"
		}
	default:
		v = fmt.Sprintf("'%v'", x)
	}
	c.msgs = append(c.msgs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", v, at, rule))
}

// failUnechoed records a violation in the form DynamoDB sends for a member
// whose value it does not echo: no value, the member path spelt as in the
// request ("Value at 'RequestItems.t.member.Keys' failed to satisfy ...").
func (c *constraints) failUnechoed(at, rule string) {
	c.msgs = append(c.msgs, fmt.Sprintf("Value at '%s' failed to satisfy constraint: %s", at, rule))
}

func (c *constraints) err() error {
	if c.first != nil {
		return c.first
	}
	switch len(c.msgs) {
	case 0:
		return nil
	case 1:
		return ddberr.Validationf("1 validation error detected: %s", c.msgs[0])
	}
	return ddberr.Validationf("%d validation errors detected: %s", len(c.msgs), strings.Join(c.msgs, "; "))
}

// validName reports whether name matches [a-zA-Z0-9_.-]+, DynamoDB's
// pattern for table and index names (a byte loop: this runs on every
// request).
func validName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// Table names are checked by three rules, as DynamoDB's recorded answers
// differ by operation:
//
//   - CreateTable (createTableName): a missing name is reported alone ("The
//     parameter 'TableName' is required but was not present in the
//     request"); otherwise the member is 3 to 255 of [a-zA-Z0-9_.-] and its
//     violations join the request's others (the captured answer to "ab":
//     "Value 'ab' at 'tableName' failed to satisfy constraint: Member must
//     have length greater than or equal to 3").
//   - the rest of the control plane (tableName): a missing name or a bad
//     length is reported alone, in the words dynalite recorded ("TableName
//     must be at least 3 characters long and at most 255 characters long");
//     no newer answer is recorded for these operations.
//   - the data plane (itemTableName): see there.
//
// An empty name is never also reported against the pattern.

// createTableName checks CreateTable's TableName.
func (c *constraints) createTableName(name *string, at string) {
	if c.first != nil {
		return
	}
	if name == nil {
		c.first = ddberr.Validationf("The parameter 'TableName' is required but was not present in the request")
		return
	}
	c.namePattern(*name, at)
	c.length(*name, at, 3, 255)
}

// tableName checks the TableName of the control plane but CreateTable.
func (c *constraints) tableName(name *string, at string) {
	if c.first != nil {
		return
	}
	if name == nil {
		c.first = ddberr.Validationf("The parameter 'TableName' is required but was not present in the request")
		return
	}
	if len(*name) < 3 || len(*name) > 255 {
		c.first = ddberr.Validationf("TableName must be at least 3 characters long and at most 255 characters long")
		return
	}
	c.namePattern(*name, at)
}

// namePattern records a non-empty name outside [a-zA-Z0-9_.-]+.
func (c *constraints) namePattern(name, at string) {
	if name != "" && !validName(name) {
		c.fail(name, at, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
	}
}

// itemTableName checks the TableName of the data-plane operations (item
// reads and writes, Query, Scan, transactions). There DynamoDB's member
// constraint is a length of 1 to 255 and a missing name is a violation
// like any other ("Value null at 'tableName' failed to satisfy constraint:
// Member must not be null"); an empty name is reported alone (see below). A name of 1 or 2 characters is a length violation like the
// others, reported before the pattern: DynamoDB answers UpdateItem "x!" with
// "2 validation errors detected: Value 'x!' at 'tableName' failed to satisfy
// constraint: Member must have length greater than or equal to 3; Value 'x!'
// at 'tableName' failed to satisfy constraint: Member must satisfy regular
// expression pattern: [a-zA-Z0-9_.-]+" (moto's AWS-verified
// test_update_item_with_invalid_table_name, us-east-1), where dynalite had
// recorded a bespoke "TableName must be at least 3 characters long ..."
// sent alone.
func (c *constraints) itemTableName(name *string, at string) {
	if c.first != nil {
		return
	}
	if name == nil {
		c.notNull(false, at)
		return
	}
	switch n := len(*name); {
	case n == 0:
		// Reported alone, unechoed and PascalCase, since DynamoDB's 2026-06
		// rewording reached every captured region (nubo-db/dynamodb-conformance
		// captures/2026-08-12-wording-drift.json, us-east-1, probes
		// s_put_table_empty, o_put_empty_table_bad_rv, o_del_empty_table,
		// o_upd_empty_table; tests/tier3/validation-ordering/putItem.test.ts
		// "empty TableName with invalid ReturnValues reports only tableName").
		c.first = ddberr.Validationf("1 validation error detected: Value at 'TableName' failed to satisfy constraint: Member must have length greater than or equal to 1")
		return
	case n > 255:
		c.fail(*name, at, "Member must have length less than or equal to 255")
	case n < 3:
		c.fail(*name, at, minLength(3))
	}
	c.namePattern(*name, at)
}

func (c *constraints) resourceName(name, at string) {
	if !validName(name) {
		c.fail(name, at, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
	}
	c.length(name, at, 3, 255)
}

// length records a string member shorter than lo or longer than hi (0: no
// maximum), echoing the value:
//
//	Value 'x' at 'clientRequestToken' failed to satisfy constraint: Member must have length ...
func (c *constraints) length(s, at string, lo, hi int) {
	if len(s) < lo {
		c.fail(s, at, minLength(lo))
	}
	if hi > 0 && len(s) > hi {
		c.fail(s, at, maxLength(hi))
	}
}

// listLength records a list member (of n elements; present false when it
// is absent, which is not checked here) that is empty or longer than hi
// (0: no maximum). DynamoDB echoes an empty list as '[]' and a long one by
// its number of elements ("Value '26' at 'statements' ...").
func (c *constraints) listLength(n int, present bool, at string, hi int) {
	if present && n == 0 {
		c.fail("[]", at, minLength(1))
	}
	if hi > 0 && n > hi {
		c.fail(n, at, maxLength(hi))
	}
}

// minLength and maxLength are the two length rules' words.
func minLength(n int) string {
	return "Member must have length greater than or equal to " + strconv.Itoa(n)
}

func maxLength(n int) string {
	return "Member must have length less than or equal to " + strconv.Itoa(n)
}

func (c *constraints) enum(v string, at string, allowed ...string) {
	if v == "" {
		return
	}
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	c.fail(v, at, "Member must satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
}

func (c *constraints) notNull(present bool, at string) {
	if !present {
		c.fail(nil, at, "Member must not be null")
	}
}

// nested records a value nested past DynamoDB's limit (attr.NestedDeeper):
// the single-item operations send attr.MsgNesting as a constraint
// violation, inside the "1 validation error detected: " envelope
// (dynamodb-conformance, captures/2026-08-12-batch-empty-and-nesting.json,
// probe o_upd_nested_32_eav, us-east-1; tests/tier3/limits/nestingDepth.test.ts
// for PutItem's Item). PutItem's and DeleteItem's condition values are
// checked as UpdateItem's are; that much is not measured (DynamoDB Local's
// converter checks every value it is given). Query and Scan values are not
// checked.
func (c *constraints) nested(items ...map[string]attr.Value) {
	for _, it := range items {
		if attr.ItemTooDeep(it) {
			c.msgs = append(c.msgs, attr.MsgNesting)
			return
		}
	}
}

// names records an attribute name longer than attr.MaxNameLen, at any
// depth of items (an Item, ExpressionAttributeValues), once: DynamoDB sends
// attr.MsgNameTooLarge inside the "1 validation error detected: " envelope
// (ExtendDB issue #365, measured 2026-09-16: PutItem with a top-level or a
// nested name of 65,536 bytes, UpdateItem with one in a value).
func (c *constraints) names(items ...map[string]attr.Value) {
	for _, it := range items {
		if attr.ItemLongName(it) {
			c.nameTooLarge()
			return
		}
	}
}

// nameList is names for attribute names given as strings (legacy
// AttributeUpdates, which scylladb's test_limits.py
// test_limit_attribute_length_nonkey_bad has DynamoDB refuse, and
// Expected; AttributesToGet is legacyProjection's).
func (c *constraints) nameList(names ...string) {
	for _, n := range names {
		if len(n) > attr.MaxNameLen {
			c.nameTooLarge()
			return
		}
	}
}

func (c *constraints) nameTooLarge() {
	if !c.longName {
		c.longName = true
		c.msgs = append(c.msgs, attr.MsgNameTooLarge)
	}
}

// keyName records a key attribute name (a key schema's, an attribute
// definition's) longer than attr.MaxKeyNameLen, the API model's member
// constraint (KeySchemaAttributeName: length 1 to 255), in its usual words
// ("Value '...' at 'keySchema.1.member.attributeName' failed to satisfy
// constraint: Member must have length less than or equal to 255").
// scylladb's test_limits.py (test_limit_attribute_length_key_bad,
// test_limit_attribute_length_gsi_lsi_bad) has DynamoDB refuse a 256-byte
// name in each of these places with a ValidationException naming 255; no
// capture of the whole message is published, so the words are the model's
// rule in the form every other member violation takes.
func (c *constraints) keyName(name *string, at string) {
	if name != nil && len(*name) > attr.MaxKeyNameLen {
		c.fail(*name, at, maxLength(attr.MaxKeyNameLen))
	}
}

// exprValues is an ExpressionAttributeValues member: each value is checked
// like any attribute value, and DynamoDB names the placeholder of a bad one
// ("ExpressionAttributeValues contains invalid value: <why> for key :v").
type exprValues map[string]attr.Value

func (m *exprValues) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw == nil {
		*m = nil
		return nil
	}
	out := make(exprValues, len(raw))
	for k, r := range raw {
		var v attr.Value
		if err := json.Unmarshal(r, &v); err != nil {
			var de *ddberr.Error
			if errors.As(err, &de) && de.Kind == ddberr.KindValidation {
				return ddberr.Validationf("ExpressionAttributeValues contains invalid value: %s for key %s", de.Message, k)
			}
			return err
		}
		out[k] = v
	}
	*m = out
	return nil
}
