package api_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// TestTransactItemsTooManyEchoesTheList: over 100 TransactItems, DynamoDB
// echoes the whole list in the Java toString form of its model objects,
// '[...]', as nubo-db/dynamodb-conformance's transactWriteItems and
// transactGetItems error-message tests pin it (an anchored regex on the
// envelope and the constraint; the dump itself drifts). eddy before:
// "Value '101'".
func TestTransactItemsTooManyEchoesTheList(t *testing.T) {
	e := startSnap(t)
	e.ddb("CreateTable", `{"TableName":"many","BillingMode":"PAY_PER_REQUEST",
		"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]}`)
	envelope := regexp.MustCompile(`(?s)^1 validation error detected: Value '\[.+\]' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100$`)
	var puts, gets []string
	for i := range 101 {
		puts = append(puts, fmt.Sprintf(`{"Put":{"TableName":"many","Item":{"pk":{"S":"twi-%d"}}}}`, i))
		gets = append(gets, fmt.Sprintf(`{"Get":{"TableName":"many","Key":{"pk":{"S":"tgi-%d"}}}}`, i))
	}
	for op, body := range map[string]string{
		"TransactWriteItems": `{"TransactItems":[` + strings.Join(puts, ",") + `]}`,
		"TransactGetItems":   `{"TransactItems":[` + strings.Join(gets, ",") + `]}`,
	} {
		st, out := e.call("DynamoDB_20120810."+op, body)
		msg, _ := out["message"].(string)
		if st != 400 || !envelope.MatchString(msg) {
			t.Errorf("%s: %d %.300q", op, st, msg)
		}
		if !strings.Contains(msg, "AttributeValue(s=t") {
			t.Errorf("%s: the dump does not hold the items: %.300q", op, msg)
		}
	}
}
