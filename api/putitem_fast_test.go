package api

import (
	"math/rand"
	"reflect"
	"testing"
)

// TestPutItemFastPathMatchesGeneric: every body the hand-written PutItem
// decoder accepts (fixed cases plus mutations of them) decodes exactly as
// encoding/json decodes it; everything else falls back to the generic path,
// so errors and their order cannot change.
func TestPutItemFastPathMatchesGeneric(t *testing.T) {
	bodies := []string{
		`{"TableName":"bench","Item":{"pk":{"S":"a"},"sk":{"N":"1"},"p":{"B":"AAAA"}}}`,
		` {"Item":{"pk":{"S":"a\u00e9\n"},"m":{"M":{"x":{"L":[{"S":"y"},{"NULL":true}]}}},"ss":{"SS":["a","b"]}},"TableName":"t\u0041","ReturnConsumedCapacity":"TOTAL"} `,
		`{"TableName":"t","Item":{"pk":{"S":"a"}},"ConditionExpression":"attribute_not_exists(#p) AND #q = :v","ExpressionAttributeNames":{"#p":"pk","#q":"q"},"ExpressionAttributeValues":{":v":{"N":"5"}},"ReturnValues":"ALL_OLD","ReturnValuesOnConditionCheckFailure":"ALL_OLD","ReturnItemCollectionMetrics":"SIZE"}`,
		`{"TableName":"t","Item":{}}`, `{}`, `{"TableName":"t","Item":{},"ExpressionAttributeNames":{},"ExpressionAttributeValues":{}}`,
		`{"TableName":"t","Item":{"a":{"S":"x"},"a":{"S":"y"}}}`,
		`{"TableName":"t","TableName":"u"}`,
		`{"tablename":"t"}`,
		`{"TableName":null}`,
		`{"TableName":"t","Item":{"a":{"S":"x","N":"1"}}}`,
		`{"TableName":"t","Item":{"a":{"N":"x"}}}`,
		`{"TableName":"t","Item":{"a":null}}`,
		`{"TableName":"t"}x`,
		`{"TableName":"t",}`,
		`{"TableName":1}`,
		`{"TableName":"t","Item":{"a":{"S":"x"}},"Other":1}`,
		`{"TableName":"t\ud800"}`,
		"{\"TableName\":\"t\xff\"}",
		`{"Item":{"\u00e9":{"S":"x"}}}`,
	}
	checkFastMatchesGeneric(t, mutate(bodies, `,"Item":{"a":{"S":"b"}}`), decodePutItemFast)
}

// TestGetItemFastPathMatchesGeneric: the same for the GetItem decoder.
func TestGetItemFastPathMatchesGeneric(t *testing.T) {
	bodies := []string{
		`{"TableName":"bench","Key":{"pk":{"S":"a"},"sk":{"N":"1"}}}`,
		` {"Key":{"pk":{"S":"a\u00e9\n"}},"TableName":"t\u0041","ConsistentRead":true,"ReturnConsumedCapacity":"TOTAL"} `,
		`{"TableName":"t","Key":{"pk":{"S":"a"}},"ProjectionExpression":"#p, q.r[1]","ExpressionAttributeNames":{"#p":"pk"},"ConsistentRead":false}`,
		`{"TableName":"t","Key":{}}`, `{}`, `{"TableName":"t","Key":{},"ExpressionAttributeNames":{}}`,
		`{"TableName":"t","Key":{"a":{"S":"x"}},"AttributesToGet":["a"]}`,
		`{"TableName":"t","Key":{"a":{"S":"x"}},"ExpressionAttributeValues":{":v":{"S":"x"}}}`,
		`{"TableName":"t","ConsistentRead":"true"}`,
		`{"TableName":"t","ConsistentRead":tru}`,
		`{"TableName":"t","ConsistentRead":null}`,
		`{"TableName":"t","ConsistentRead":true,"ConsistentRead":false}`,
		`{"TableName":"t","Key":{"a":{"S":"x"},"a":{"S":"y"}}}`,
		`{"TableName":null}`,
		`{"TableName":"t","Key":{"a":{"N":"x"}}}`,
		`{"TableName":"t"}x`,
	}
	checkFastMatchesGeneric(t, mutate(bodies, `,"ConsistentRead":true`), decodeGetItemFast)
}

// TestUpdateItemFastPathMatchesGeneric: the same for the UpdateItem
// decoder (a materialized view's handler sends one per record).
func TestUpdateItemFastPathMatchesGeneric(t *testing.T) {
	bodies := []string{
		`{"TableName":"totals","Key":{"customer":{"S":"c1"}},"UpdateExpression":"ADD #t :a, #o :n","ExpressionAttributeNames":{"#t":"total","#o":"orders"},"ExpressionAttributeValues":{":a":{"N":"2.5"},":n":{"N":"1"}}}`,
		` {"Key":{"pk":{"S":"a\u00e9\n"},"sk":{"N":"1"}},"TableName":"t\u0041","UpdateExpression":"SET m.x = :v","ConditionExpression":"attribute_exists(pk)","ExpressionAttributeValues":{":v":{"M":{"y":{"L":[{"S":"z"},{"NULL":true}]}}}},"ReturnValues":"UPDATED_NEW","ReturnConsumedCapacity":"TOTAL","ReturnItemCollectionMetrics":"SIZE","ReturnValuesOnConditionCheckFailure":"ALL_OLD"} `,
		`{"TableName":"t","Key":{}}`, `{}`, `{"TableName":"t","Key":{},"ExpressionAttributeNames":{},"ExpressionAttributeValues":{}}`,
		`{"TableName":"t","Key":{"a":{"S":"x"}},"AttributeUpdates":{"b":{"Action":"PUT","Value":{"S":"y"}}}}`,
		`{"TableName":"t","Key":{"a":{"S":"x"}},"Expected":{"b":{"Exists":false}}}`,
		`{"TableName":"t","Key":{"a":{"S":"x"}},"ConditionalOperator":"AND"}`,
		`{"TableName":"t","UpdateExpression":"SET a = :v","UpdateExpression":"SET b = :v"}`,
		`{"TableName":"t","UpdateExpression":null}`,
		`{"TableName":"t","UpdateExpression":1}`,
		`{"TableName":"t","Key":{"a":{"S":"x"},"a":{"S":"y"}}}`,
		`{"TableName":"t","Key":{"a":{"N":"x"}}}`,
		`{"TableName":"t","ExpressionAttributeValues":{":v":{"N":"1","S":"x"}}}`,
		`{"TableName":"t"}x`,
	}
	checkFastMatchesGeneric(t, mutate(bodies, `,"UpdateExpression":"SET a = :v"`), decodeUpdateItemFast)
}

// mutate adds, for each body, 300 mutations: truncations, a byte replaced
// by JSON punctuation, and a prefix of insert spliced in.
func mutate(bodies []string, insert string) []string {
	r := rand.New(rand.NewSource(1))
	n := len(bodies)
	for i := 0; i < n; i++ {
		b := bodies[i]
		for j := 0; j < 300; j++ {
			bb := []byte(b)
			switch r.Intn(3) {
			case 0:
				bb = bb[:r.Intn(len(bb)+1)]
			case 1:
				if len(bb) == 0 {
					continue
				}
				bb[r.Intn(len(bb))] = "{}[]\":,nul \\x0123"[r.Intn(17)]
			default:
				k := r.Intn(len(bb))
				bb = append(bb[:k:k], append([]byte(insert[:r.Intn(len(insert))]), bb[k:]...)...)
			}
			bodies = append(bodies, string(bb))
		}
	}
	return bodies
}

// checkFastMatchesGeneric decodes every body with a hand-written decoder
// and, where it accepts the body, with the generic decoder: both must agree.
func checkFastMatchesGeneric[T any](t *testing.T, bodies []string, fastDecode func([]byte, *T) bool) {
	t.Helper()
	fast := 0
	for _, b := range bodies {
		var a T
		if !fastDecode([]byte(b), &a) {
			continue
		}
		fast++
		var g T
		c := &call{body: []byte(b)}
		if err := c.decode(&g); err != nil {
			t.Fatalf("%q: fast ok, generic %v", b, err)
		}
		if !reflect.DeepEqual(a, g) {
			t.Fatalf("%q: fast %+v generic %+v", b, a, g)
		}
	}
	t.Logf("%d of %d fast", fast, len(bodies))
}

var benchPutBody = []byte(`{"Item":{"payload":{"S":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},"pk":{"S":"k1234"},"sk":{"N":"42"}},"TableName":"bench"}`)

func BenchmarkPutItemDecodeGeneric(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var in putItemInput
		c := &call{body: benchPutBody}
		if err := c.decode(&in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPutItemDecodeFast(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var in putItemInput
		c := &call{body: benchPutBody}
		if _, err := c.decodePutItem(&in); err != nil {
			b.Fatal(err)
		}
	}
}

var benchGetBody = []byte(`{"Key":{"pk":{"S":"k1234"},"sk":{"N":"0"}},"TableName":"bench"}`)

func BenchmarkGetItemDecodeGeneric(b *testing.B) {
	for b.Loop() {
		var in getItemInput
		c := &call{body: benchGetBody}
		if err := c.decode(&in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetItemDecodeFast(b *testing.B) {
	for b.Loop() {
		var in getItemInput
		if !decodeGetItemFast(benchGetBody, &in) {
			b.Fatal("not fast")
		}
	}
}
