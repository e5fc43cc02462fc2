package attr

// DynamoDB's limits on attribute names, in bytes of UTF-8.
//
// An attribute name, at any depth (a nested map's keys are names too), is
// at most 65535 bytes: 65535 is stored, 65536 is refused with
// MsgNameTooLarge (measured against DynamoDB by ExtendDB, issue #365,
// 2026-09-16: PutItem with a top-level or a nested name of 65,536 bytes,
// UpdateItem with such a name in a value or in ExpressionAttributeNames;
// scylladb's test/alternator/test_limits.py found 65535 the last accepted
// size). Key attribute names (a table's and its indexes' key schemas and
// their attribute definitions) are at most MaxKeyNameLen bytes, a member
// constraint of the API model (KeySchemaAttributeName, length 1 to 255);
// test_limits.py checked that DynamoDB refuses 256 for tables, GSIs and
// LSIs.
const (
	MaxNameLen    = 65535
	MaxKeyNameLen = 255
)

// MsgNameTooLarge is DynamoDB's message for an attribute name over
// MaxNameLen; single-item operations send it inside the "1 validation
// error detected: " envelope.
const MsgNameTooLarge = "Attribute name is too large, must be less than 65536 bytes"

// LongName reports whether a map within v (v itself included) has a key
// longer than MaxNameLen bytes. It walks only maps and lists.
func LongName(v Value) bool {
	switch v.typ {
	case TypeM:
		for k, e := range v.Map() {
			if len(k) > MaxNameLen || LongName(e) {
				return true
			}
		}
	case TypeL:
		for _, e := range v.List() {
			if LongName(e) {
				return true
			}
		}
	}
	return false
}

// ItemLongName reports whether an attribute of it, or a name nested in
// one, is longer than MaxNameLen bytes.
func ItemLongName(it map[string]Value) bool {
	for k, v := range it {
		if len(k) > MaxNameLen || LongName(v) {
			return true
		}
	}
	return false
}
