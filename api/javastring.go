package api

import (
	"sort"
	"strconv"
	"strings"

	"github.com/eddydb/eddy/attr"
)

// DynamoDB echoes a list or map member that breaks a length constraint as
// the Java toString of its model objects. The form below is the one
// recorded for BatchWriteItem in us-east-1 (conformance-tier2.txt):
//
//	{hash=[WriteRequest(putRequest=PutRequest(item={pk=AttributeValue(s=bw-0,
//	  n=null, b=null, iNT=null, ..., bOOL=null)}, workloadProfileName=null),
//	  deleteRequest=null), ...]}
//
// The form has drifted between captures and Java's map order is its hash
// order; eddy writes map keys sorted. TransactItems is rendered in the
// same form (nubo-db/dynamodb-conformance pins only the '[...]' envelope
// and the constraint).

// javaAttrFields are the AttributeValue fields in toString order.
var javaAttrFields = [...]string{"s", "n", "b", "iNT", "dECIMAL", "dOUBLE", "sS", "nS", "bS", "iNTSET", "dECIMALSET", "dOUBLESET", "m", "l", "nULL", "bOOL"}

func javaAttr(b *strings.Builder, v attr.Value) {
	set := ""
	switch v.Type() {
	case attr.TypeS:
		set = "s"
	case attr.TypeN:
		set = "n"
	case attr.TypeB:
		set = "b"
	case attr.TypeSS:
		set = "sS"
	case attr.TypeNS:
		set = "nS"
	case attr.TypeBS:
		set = "bS"
	case attr.TypeM:
		set = "m"
	case attr.TypeL:
		set = "l"
	case attr.TypeNULL:
		set = "nULL"
	case attr.TypeBOOL:
		set = "bOOL"
	}
	b.WriteString("AttributeValue(")
	for i, f := range javaAttrFields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f)
		b.WriteByte('=')
		if f != set {
			b.WriteString("null")
			continue
		}
		switch v.Type() {
		case attr.TypeS, attr.TypeN:
			b.WriteString(v.Str())
		case attr.TypeB:
			javaBuffer(b, v.Bytes())
		case attr.TypeSS, attr.TypeNS:
			b.WriteString("[" + strings.Join(v.Strings(), ", ") + "]")
		case attr.TypeBS:
			b.WriteByte('[')
			for j, x := range v.BytesSet() {
				if j > 0 {
					b.WriteString(", ")
				}
				javaBuffer(b, x)
			}
			b.WriteByte(']')
		case attr.TypeM:
			javaItem(b, v.Map())
		case attr.TypeL:
			b.WriteByte('[')
			for j, x := range v.List() {
				if j > 0 {
					b.WriteString(", ")
				}
				javaAttr(b, x)
			}
			b.WriteByte(']')
		case attr.TypeNULL:
			b.WriteString("true")
		case attr.TypeBOOL:
			b.WriteString(strconv.FormatBool(v.BoolValue()))
		}
	}
	b.WriteByte(')')
}

func javaBuffer(b *strings.Builder, x []byte) {
	n := strconv.Itoa(len(x))
	b.WriteString("java.nio.HeapByteBuffer[pos=0 lim=" + n + " cap=" + n + "]")
}

func javaItem(b *strings.Builder, it map[string]attr.Value) {
	if it == nil {
		b.WriteString("null")
		return
	}
	names := make([]string, 0, len(it))
	for n := range it {
		names = append(names, n)
	}
	sort.Strings(names)
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(n + "=")
		javaAttr(b, it[n])
	}
	b.WriteByte('}')
}

func javaStr(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}

// javaWriteRequests renders BatchWriteItem's RequestItems.
func javaWriteRequests(m map[string][]writeRequest) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, name := range sortedTables(m) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(name + "=[")
		for j, r := range m[name] {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("WriteRequest(putRequest=")
			if r.PutRequest != nil {
				b.WriteString("PutRequest(item=")
				javaItem(&b, r.PutRequest.Item)
				b.WriteString(", workloadProfileName=null)")
			} else {
				b.WriteString("null")
			}
			b.WriteString(", deleteRequest=")
			if r.DeleteRequest != nil {
				b.WriteString("DeleteRequest(key=")
				javaItem(&b, r.DeleteRequest.Key)
				b.WriteString(", workloadProfileName=null)")
			} else {
				b.WriteString("null")
			}
			b.WriteByte(')')
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	return b.String()
}

// javaTransactItems renders TransactWriteItems' TransactItems.
func javaTransactItems(items []transactWriteItem) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, ti := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("TransactWriteItem(")
		for j, a := range []struct {
			name, class string
			act         *txAction
		}{{"conditionCheck", "ConditionCheck", ti.ConditionCheck}, {"put", "Put", ti.Put}, {"delete", "Delete", ti.Delete}, {"update", "Update", ti.Update}} {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(a.name + "=")
			if a.act == nil {
				b.WriteString("null")
				continue
			}
			b.WriteString(a.class + "(")
			if a.class == "Put" {
				b.WriteString("item=")
				javaItem(&b, a.act.Item)
			} else {
				b.WriteString("key=")
				javaItem(&b, a.act.Key)
			}
			b.WriteString(", tableName=" + javaStr(a.act.TableName) + ")")
		}
		b.WriteByte(')')
	}
	b.WriteByte(']')
	return b.String()
}

// javaTransactGets renders TransactGetItems' TransactItems.
func javaTransactGets(items []transactGetItem) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, ti := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("TransactGetItem(get=")
		if ti.Get == nil {
			b.WriteString("null")
		} else {
			b.WriteString("Get(key=")
			javaItem(&b, ti.Get.Key)
			b.WriteString(", tableName=" + javaStr(ti.Get.TableName) + ")")
		}
		b.WriteByte(')')
	}
	b.WriteByte(']')
	return b.String()
}

// javaKeySchema renders a KeySchema as DynamoDB echoes one that breaks its
// length constraint:
//
//	[KeySchemaElement(attributeName=pk, keyType=HASH), KeySchemaElement(attributeName=sk, keyType=RANGE), ...]
//
// (nubo-db/dynamodb-conformance tests/tier3/error-messages/createTable.test.ts
// "more than 2 KeySchema elements"; captures/2026-08-12-wording-drift.json,
// us-east-1's latest answer to probe c_ct_3keys). An absent member is null.
func javaKeySchema(ks []keyElemWire) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, k := range ks {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("KeySchemaElement(attributeName=")
		b.WriteString(javaNullable(k.AttributeName))
		b.WriteString(", keyType=")
		b.WriteString(javaNullable(k.KeyType))
		b.WriteByte(')')
	}
	b.WriteByte(']')
	return b.String()
}

func javaNullable(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}
