package api_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// TestTransactIndexCapacity checks what a transaction of writes charges a
// table with secondary indexes. The figures were measured against real
// DynamoDB (eu-west-2, 2026-08-13) on a table keyed pk/sk with a GSI
// gsi-inc on gsiPk projecting INCLUDE [proj] and an LSI lsi-all on pk/lsiSk
// projecting ALL; the case labels are the capture's, as dynoxide's
// tests/transact_index_capacity.rs records them (nubo-db/dynoxide pull
// request #188). The rule: the transactional factor of 2 doubles the table's
// arm alone; an index arm costs what the same write costs outside a
// transaction, and folds into the total.
//
// Only the measured members are asserted: the total, the Table detail's
// CapacityUnits and WriteCapacityUnits, each index arm's CapacityUnits (or
// its absence), and under TOTAL the top-level WriteCapacityUnits. Whether an
// index arm also carries WriteCapacityUnits is not recorded anywhere.
func TestTransactIndexCapacity(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	for _, name := range []string{"txidx", "txidx_b"} {
		mustCreate(t, c, &dynamodb.CreateTableInput{
			TableName: aws.String(name),
			AttributeDefinitions: []types.AttributeDefinition{
				{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
				{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
				{AttributeName: aws.String("gsiPk"), AttributeType: types.ScalarAttributeTypeS},
				{AttributeName: aws.String("lsiSk"), AttributeType: types.ScalarAttributeTypeS},
			},
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
			},
			BillingMode: types.BillingModePayPerRequest,
			GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
				IndexName:  aws.String("gsi-inc"),
				KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("gsiPk"), KeyType: types.KeyTypeHash}},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"proj"}},
			}},
			LocalSecondaryIndexes: []types.LocalSecondaryIndex{{
				IndexName: aws.String("lsi-all"),
				KeySchema: []types.KeySchemaElement{
					{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
					{AttributeName: aws.String("lsiSk"), KeyType: types.KeyTypeRange},
				},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			}},
		})
	}
	pad := func(n int) types.AttributeValue { return S(strings.Repeat("x", n)) }
	key := func(pk string) map[string]types.AttributeValue { return item{"pk": S(pk), "sk": S("1")} }
	with := func(pk string, attrs ...any) map[string]types.AttributeValue {
		it := key(pk)
		for i := 0; i < len(attrs); i += 2 {
			v, ok := attrs[i+1].(types.AttributeValue)
			if !ok {
				v = S(attrs[i+1].(string))
			}
			it[attrs[i].(string)] = v
		}
		return it
	}
	seed := func(it map[string]types.AttributeValue) {
		t.Helper()
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("txidx"), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	put := func(table string, it map[string]types.AttributeValue) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: it}}
	}
	update := func(pk, expr string, values map[string]types.AttributeValue, names map[string]string) types.TransactWriteItem {
		return types.TransactWriteItem{Update: &types.Update{TableName: aws.String("txidx"), Key: key(pk), UpdateExpression: aws.String(expr), ExpressionAttributeValues: values, ExpressionAttributeNames: names}}
	}
	del := func(pk string) types.TransactWriteItem {
		return types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String("txidx"), Key: key(pk)}}
	}
	check := func(pk string) types.TransactWriteItem {
		return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: aws.String("txidx"), Key: key(pk), ConditionExpression: aws.String("attribute_exists(pk)")}}
	}
	// want: total, table arm, gsi arm, lsi arm (0: no arm).
	type want struct{ total, table, gsi, lsi float64 }
	arms := func(t *testing.T, cc types.ConsumedCapacity, w want) {
		t.Helper()
		if got := aws.ToFloat64(cc.CapacityUnits); got != w.total {
			t.Errorf("CapacityUnits = %v, want %v", got, w.total)
		}
		if cc.Table == nil {
			t.Fatalf("no Table detail: %+v", cc)
		}
		if got := aws.ToFloat64(cc.Table.CapacityUnits); got != w.table {
			t.Errorf("Table.CapacityUnits = %v, want %v", got, w.table)
		}
		if got := aws.ToFloat64(cc.Table.WriteCapacityUnits); got != w.table {
			t.Errorf("Table.WriteCapacityUnits = %v, want %v", got, w.table)
		}
		for _, a := range []struct {
			name string
			m    map[string]types.Capacity
			want float64
		}{{"gsi-inc", cc.GlobalSecondaryIndexes, w.gsi}, {"lsi-all", cc.LocalSecondaryIndexes, w.lsi}} {
			if a.want == 0 {
				if a.m != nil {
					t.Errorf("%s: an arm map where none was charged: %+v", a.name, a.m)
				}
				continue
			}
			if got := aws.ToFloat64(a.m[a.name].CapacityUnits); got != a.want {
				t.Errorf("%s CapacityUnits = %v, want %v", a.name, got, a.want)
			}
		}
	}
	run := func(t *testing.T, items ...types.TransactWriteItem) []types.ConsumedCapacity {
		t.Helper()
		out, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items, ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
		if err != nil {
			t.Fatal(err)
		}
		return out.ConsumedCapacity
	}
	one := func(t *testing.T, w want, items ...types.TransactWriteItem) {
		t.Helper()
		cc := run(t, items...)
		if len(cc) != 1 {
			t.Fatalf("%d entries, want 1", len(cc))
		}
		arms(t, cc[0], w)
	}

	t.Run("A1 put of a GSI member", func(t *testing.T) {
		one(t, want{3, 2, 1, 0}, put("txidx", with("a1", "gsiPk", "g1")))
	})
	t.Run("A2 put of a member of neither index", func(t *testing.T) {
		one(t, want{2, 2, 0, 0}, put("txidx", with("a2", "other", "o")))
	})
	t.Run("A3 put of a member of both", func(t *testing.T) {
		one(t, want{4, 2, 1, 1}, put("txidx", with("a3", "gsiPk", "g1", "lsiSk", "L1", "proj", "p")))
	})
	t.Run("A4 identical overwrite", func(t *testing.T) {
		it := with("a4", "gsiPk", "g1", "lsiSk", "L1")
		seed(it)
		one(t, want{2, 2, 0, 0}, put("txidx", it))
	})
	t.Run("A5 update outside the GSI projection", func(t *testing.T) {
		seed(with("a5", "gsiPk", "g1", "lsiSk", "L1", "other", "o"))
		one(t, want{3, 2, 0, 1}, update("a5", "SET #o = :v", item{":v": S("o2")}, map[string]string{"#o": "other"}))
	})
	t.Run("A7 GSI key move", func(t *testing.T) {
		seed(with("a7", "gsiPk", "g1", "lsiSk", "L1"))
		one(t, want{5, 2, 2, 1}, update("a7", "SET gsiPk = :v", item{":v": S("g2")}, nil))
	})
	t.Run("A10 delete of a member of both", func(t *testing.T) {
		seed(with("a10", "gsiPk", "g1", "lsiSk", "L1"))
		one(t, want{4, 2, 1, 1}, del("a10"))
	})
	t.Run("A12 condition check", func(t *testing.T) {
		seed(with("a12", "gsiPk", "g1", "lsiSk", "L1"))
		one(t, want{2, 2, 0, 0}, check("a12"))
	})
	t.Run("A13 two actions on one table", func(t *testing.T) {
		one(t, want{8, 4, 2, 2}, put("txidx", with("a13", "gsiPk", "g1", "lsiSk", "L1")), put("txidx", with("a14", "gsiPk", "g1", "lsiSk", "L1")))
	})
	t.Run("B5 delete sized on the stored item", func(t *testing.T) {
		seed(with("b5", "gsiPk", "g1", "proj", pad(3000)))
		one(t, want{9, 6, 3, 0}, del("b5"))
	})
	t.Run("B3 shrinking put sized on the replaced item", func(t *testing.T) {
		seed(with("b3", "other", pad(3000)))
		one(t, want{6, 6, 0, 0}, put("txidx", key("b3")))
	})
	t.Run("B7 key move of a 1.5 KB entry", func(t *testing.T) {
		seed(with("b7", "gsiPk", "g1", "proj", pad(1500)))
		one(t, want{8, 4, 4, 0}, update("b7", "SET gsiPk = :v", item{":v": S("g9")}, nil))
	})
	t.Run("J3 update shrinking an entry", func(t *testing.T) {
		seed(with("j3", "gsiPk", "g1", "proj", pad(3000)))
		one(t, want{9, 6, 3, 0}, update("j3", "SET proj = :v", item{":v": S("p")}, nil))
	})
	t.Run("F1 condition check sized on the item it reads", func(t *testing.T) {
		seed(with("f1", "other", pad(3000)))
		one(t, want{6, 6, 0, 0}, check("f1"))
	})
	t.Run("F4 update that creates the item", func(t *testing.T) {
		one(t, want{4, 2, 1, 1}, update("f4", "SET gsiPk = :g, lsiSk = :l", item{":g": S("g1"), ":l": S("L1")}, nil))
	})
	t.Run("K1 delete of a missing item", func(t *testing.T) {
		one(t, want{2, 2, 0, 0}, del("k1"))
	})
	t.Run("K3 identical overwrite of a large item", func(t *testing.T) {
		it := with("k3", "gsiPk", "g1", "proj", pad(3000))
		seed(it)
		one(t, want{6, 6, 0, 0}, put("txidx", it))
	})
	t.Run("G1 each table carries its own arms", func(t *testing.T) {
		cc := run(t, put("txidx", with("g1", "gsiPk", "g1", "lsiSk", "L1")), put("txidx_b", with("g1", "gsiPk", "g1")))
		if len(cc) != 2 {
			t.Fatalf("%d entries, want 2", len(cc))
		}
		for _, e := range cc {
			switch aws.ToString(e.TableName) {
			case "txidx":
				arms(t, e, want{4, 2, 1, 1})
			case "txidx_b":
				arms(t, e, want{3, 2, 1, 0})
			default:
				t.Errorf("entry for %q", aws.ToString(e.TableName))
			}
		}
	})
	t.Run("TOTAL folds the index arms in", func(t *testing.T) {
		out, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems:          []types.TransactWriteItem{put("txidx", with("t1", "gsiPk", "g1", "lsiSk", "L1"))},
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		})
		if err != nil {
			t.Fatal(err)
		}
		cc := out.ConsumedCapacity[0]
		if aws.ToFloat64(cc.CapacityUnits) != 4 || aws.ToFloat64(cc.WriteCapacityUnits) != 4 || cc.Table != nil || cc.GlobalSecondaryIndexes != nil || cc.LocalSecondaryIndexes != nil {
			t.Errorf("TOTAL: %+v", cc)
		}
	})
	// ExecuteTransaction follows the same rule (dynoxide pull request #188
	// applies it to both transactional surfaces).
	t.Run("ExecuteTransaction INSERT of a member of both", func(t *testing.T) {
		out, err := c.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{
			TransactStatements:     []types.ParameterizedStatement{{Statement: aws.String(`INSERT INTO "txidx" VALUE {'pk': 'x1', 'sk': '1', 'gsiPk': 'g1', 'lsiSk': 'L1'}`)}},
			ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.ConsumedCapacity) != 1 {
			t.Fatalf("%d entries", len(out.ConsumedCapacity))
		}
		arms(t, out.ConsumedCapacity[0], want{4, 2, 1, 1})
	})
}
