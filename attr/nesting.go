package attr

// DynamoDB's document nesting limit. A map or list value nests the values it
// holds one level deeper; an item's attribute is level 1. DynamoDB accepts an
// attribute whose deepest path crosses 31 maps or lists (a scalar at level
// 32) and refuses one that crosses 32: the container at level 32 is over the
// limit whatever it holds, as DynamoDB Local's converter checks it
// (isValidNestedLevel: depth < 32, the attribute's own map at depth 1).
// dynamodb-conformance's tests/tier3/limits/nestingDepth.test.ts measured the
// boundary against real DynamoDB (us-east-1, eu-west-2): 31 wrapping maps
// stored, 32 refused, for PutItem, BatchWriteItem and TransactWriteItems.
const MaxNestedContainers = 31

// MsgNesting is DynamoDB's message for an item or value nested too deeply.
// Single-item operations send it inside the "1 validation error detected: "
// envelope; BatchWriteItem and TransactWriteItems send it bare.
const MsgNesting = "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"

// NestedDeeper reports whether v crosses more than limit maps or lists on
// its deepest path (v itself counting as the first when it is one). It
// walks only maps and lists and allocates nothing.
func NestedDeeper(v Value, limit int) bool {
	switch v.typ {
	case TypeM:
		if limit <= 0 {
			return true
		}
		for _, e := range v.Map() {
			if NestedDeeper(e, limit-1) {
				return true
			}
		}
	case TypeL:
		if limit <= 0 {
			return true
		}
		for _, e := range v.List() {
			if NestedDeeper(e, limit-1) {
				return true
			}
		}
	}
	return false
}

// ItemTooDeep reports whether any attribute of it is nested past DynamoDB's
// limit (NestedDeeper with MaxNestedContainers).
func ItemTooDeep(it map[string]Value) bool {
	for _, v := range it {
		if NestedDeeper(v, MaxNestedContainers) {
			return true
		}
	}
	return false
}
