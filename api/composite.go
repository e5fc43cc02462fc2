package api

import (
	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/store"
)

// Multi-attribute (composite) keys of global secondary indexes.
//
// The rules, and where each comes from:
//
//  1. A global secondary index's KeySchema may hold up to four HASH
//     elements (the partition key attributes) and up to four RANGE
//     elements (the sort key attributes), in that order: "you can create a
//     partition key from up to four attributes and a sort key from up to
//     four attributes, for a total of up to eight attributes per key
//     schema" (Developer Guide, GSI.html#GSI.MultiAttributeKeys;
//     aws-sdk-go-v2 dynamodb v1.74.0 types.CreateGlobalSecondaryIndexAction:
//     "Global secondary index supports up to 4 partition and up to 4 sort
//     keys"; API Reference, GlobalSecondaryIndex and
//     CreateGlobalSecondaryIndexAction: KeySchema "Minimum number of 1
//     item", no maximum). DescribeTable reports the elements in the order
//     given (moto's AWS-verified test_create_gsi_with_multi_range_keys).
//  2. Only global secondary indexes have them: a table's key and a local
//     index's keep one HASH and at most one RANGE (the Developer Guide's
//     multi-attribute section is under GSIs; awslabs/mcp #2626: applied to
//     a base table, "DynamoDB rejects" the schema). Their checks and
//     messages are unchanged: a table's KeySchema of three elements still
//     gets "Member must have length less than or equal to 2" in 2026
//     (conformance-control.txt, ct_3keys), and so does a local index's
//     here (the API Reference no longer gives its maximum; what DynamoDB
//     answers instead is not recorded).
//  3. Each attribute is an ordinary key attribute: defined in
//     AttributeDefinitions as S, N or B, top level; a write whose value has
//     another type, is empty, or is over 2048 bytes (a partition key
//     attribute) or 1024 bytes (a sort key attribute) is refused naming the
//     attribute, with the messages of a one-attribute index key
//     (store.Table.checkIndexKey); a backfill leaves such items out. That
//     the size limits hold per attribute, not for the key as a whole, is
//     our reading: DynamoDB documents none for multi-attribute keys.
//  4. An item is in the index only when it has every key attribute (moto's
//     AWS-verified test_items_missing_range_key_excluded).
//  5. Entries sort by the sort key attributes in key-schema order, as a
//     tuple (moto's AWS-verified test_sorting_by_composite_key and
//     test_sorting_by_second_range_key_not_pk).
//  6. Query: every partition key attribute with an equality ("you must
//     specify all partition key attributes using equality conditions",
//     GSI.html#GSI.MultiAttributeKeys); the sort key attributes left to
//     right, none skipped, and only the last one addressed may use <, <=,
//     >, >=, BETWEEN or begins_with (same page: "you cannot skip
//     attributes in the middle. Inequality conditions ... must be the last
//     condition in your query"; moto's AWS-verified
//     test_query_partial_range_*, test_query_between_last_key). The same
//     holds for the legacy KeyConditions (moto's AWS-verified
//     test_key_conditions_*), which then take up to eight conditions.
//  7. LastEvaluatedKey holds the table key and every index key attribute
//     (moto's AWS-verified test_pagination_with_composite_key).
//
// Messages. DynamoDB's wording for the violations is not recorded in any
// source we found; these are chosen, and marked so in
// api/testdata/errors/composite-keys.txt:
//   - a skipped sort key attribute, or a missing partition key attribute:
//     "Query condition missed key schema element: NAME", DynamoDB's message
//     for a missing key attribute (moto's AWS-verified
//     test_query_error_skip_range_key checks the skipped name is in it);
//   - a non-equality on a sort key attribute before the last addressed, or
//     on a partition key attribute: "Query key condition not supported",
//     DynamoDB's message for a key condition of the wrong shape;
//   - a GSI KeySchema of more than eight elements has no member constraint
//     (API Reference, GlobalSecondaryIndex: "Array Members: Minimum number
//     of 1 item", no maximum; it was 2): it gets the messages below;
//   - more than four HASH or RANGE elements, a HASH after a RANGE, a name
//     used twice: DynamoDB's CreateTable/UpdateTable messages as a
//     catalogue of its ValidationException texts lists them ("The
//     KeySchema exceeds the maximum allowed number of HASH key attributes",
//     "All HASH key attributes must precede RANGE key attributes in the
//     KeySchema", "Attribute Name is duplicated: NAME", "The KeySchema
//     contains multiple key attributes with the same name"); which of the
//     last two answers which repetition is not recorded: a name twice with
//     the same KeyType gets the first (scylladb's
//     test_gsi_composite_duplicate_attr_rejected, run against DynamoDB,
//     expects "duplicate" for HASH, HASH), a name as HASH and RANGE among
//     more than two elements the second;
//   - more than two key conditions on an index whose key has two
//     attributes (two HASH): DynamoDB's "The expression can only contain up
//     to two key conditions", as for any two-attribute key.

// maxKeyAttrs is the most partition key attributes, and the most sort key
// attributes, of a global secondary index.
const maxKeyAttrs = 4

// gsiKeySchema validates the KeySchema of a global secondary index (rule 1)
// whose attributes are all defined, and returns its partition and sort key
// attributes. A one- or two-element schema gets the checks and messages
// DynamoDB has always given it, except that two HASH elements are now a
// valid key.
func gsiKeySchema(name string, ks []keyElemWire, defs map[string]attr.Type) (hash, rng []store.KeyElement, err error) {
	seen := map[string]string{}
	for _, k := range ks {
		n := *k.AttributeName
		if kt, ok := seen[n]; ok {
			switch {
			case kt == *k.KeyType:
				return nil, nil, ddberr.Validationf("Attribute Name is duplicated: %s", n)
			case len(ks) == 2:
				return nil, nil, ddberr.Validationf("Both the Hash Key and the Range Key element in the KeySchema have the same name")
			}
			return nil, nil, ddberr.Validationf("The KeySchema contains multiple key attributes with the same name")
		}
		seen[n] = *k.KeyType
	}
	for i, k := range ks {
		n, typ := *k.AttributeName, *k.KeyType
		switch {
		case i == 0 && typ != "HASH":
			return nil, nil, ddberr.Validationf("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
		case typ == "HASH" && len(rng) > 0:
			return nil, nil, ddberr.Invalidf("All HASH key attributes must precede RANGE key attributes in the KeySchema")
		case typ == "HASH":
			hash = append(hash, store.KeyElement{Name: n, Type: defs[n]})
		default:
			rng = append(rng, store.KeyElement{Name: n, Type: defs[n]})
		}
	}
	if len(hash) > maxKeyAttrs {
		return nil, nil, ddberr.Invalidf("The KeySchema exceeds the maximum allowed number of HASH key attributes")
	}
	if len(rng) > maxKeyAttrs {
		return nil, nil, ddberr.Invalidf("The KeySchema exceeds the maximum allowed number of RANGE key attributes")
	}
	return hash, rng, nil
}

// setIndexKey stores a validated key schema in ix.
func setIndexKey(ix *store.Index, hash, rng []store.KeyElement) {
	ix.Hash = hash[0]
	ix.MoreHash = append([]store.KeyElement(nil), hash[1:]...)
	if len(ix.MoreHash) == 0 {
		ix.MoreHash = nil
	}
	if len(rng) > 0 {
		r := rng[0]
		ix.Range = &r
		if len(rng) > 1 {
			ix.MoreRange = append([]store.KeyElement(nil), rng[1:]...)
		}
	}
}
