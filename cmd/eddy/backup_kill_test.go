package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// pitrWorkloadTables are the kill test's tables: one with a sort key and a
// global index, one hash-only with a KEYS_ONLY global index.
func pitrWorkloadTables(t *testing.T, ddb *dynamodb.Client) {
	t.Helper()
	s, n := ddbtypes.ScalarAttributeTypeS, ddbtypes.ScalarAttributeTypeN
	def := func(name string, typ ddbtypes.ScalarAttributeType) ddbtypes.AttributeDefinition {
		return ddbtypes.AttributeDefinition{AttributeName: aws.String(name), AttributeType: typ}
	}
	key := func(name string, kt ddbtypes.KeyType) ddbtypes.KeySchemaElement {
		return ddbtypes.KeySchemaElement{AttributeName: aws.String(name), KeyType: kt}
	}
	for _, in := range []*dynamodb.CreateTableInput{{
		TableName:            aws.String("orders"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{def("pk", s), def("sk", n), def("g", s)},
		KeySchema:            []ddbtypes.KeySchemaElement{key("pk", ddbtypes.KeyTypeHash), key("sk", ddbtypes.KeyTypeRange)},
		GlobalSecondaryIndexes: []ddbtypes.GlobalSecondaryIndex{{IndexName: aws.String("byG"),
			KeySchema:  []ddbtypes.KeySchemaElement{key("g", ddbtypes.KeyTypeHash), key("sk", ddbtypes.KeyTypeRange)},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll}}},
		BillingMode: ddbtypes.BillingModePayPerRequest,
	}, {
		TableName:            aws.String("users"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{def("pk", s), def("g", s)},
		KeySchema:            []ddbtypes.KeySchemaElement{key("pk", ddbtypes.KeyTypeHash)},
		GlobalSecondaryIndexes: []ddbtypes.GlobalSecondaryIndex{{IndexName: aws.String("byG"),
			KeySchema:  []ddbtypes.KeySchemaElement{key("g", ddbtypes.KeyTypeHash)},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeKeysOnly}}},
		BillingMode: ddbtypes.BillingModePayPerRequest,
	}} {
		if _, err := ddb.CreateTable(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
}

// snapshotOf renders a table's items and its index's entries as sorted
// JSON lines.
func snapshotOf(t *testing.T, ddb *dynamodb.Client, table string) string {
	t.Helper()
	var parts []string
	for _, index := range []*string{nil, aws.String("byG")} {
		var lines []string
		var start map[string]ddbtypes.AttributeValue
		for {
			page, err := ddb.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table), IndexName: index, ExclusiveStartKey: start})
			if err != nil {
				t.Fatalf("Scan %s: %v", table, err)
			}
			for _, it := range page.Items {
				lines = append(lines, canonicalJSON(it))
			}
			if len(page.LastEvaluatedKey) == 0 {
				break
			}
			start = page.LastEvaluatedKey
		}
		sort.Strings(lines)
		parts = append(parts, strings.Join(lines, "\n"))
	}
	return strings.Join(parts, "\n-- index byG --\n")
}

// canonicalJSON renders an item with its attributes in name order.
func canonicalJSON(it map[string]ddbtypes.AttributeValue) string {
	names := make([]string, 0, len(it))
	for n := range it {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		var v any
		switch x := it[n].(type) {
		case *ddbtypes.AttributeValueMemberS:
			v = "S:" + x.Value
		case *ddbtypes.AttributeValueMemberN:
			v = "N:" + x.Value
		default:
			v = fmt.Sprintf("%T", x)
		}
		j, _ := json.Marshal(v)
		fmt.Fprintf(&b, "%s=%s;", n, j)
	}
	return b.String()
}

// randomWrites sends n random puts, updates, deletes and two-table
// transactions.
func randomWrites(t *testing.T, ddb *dynamodb.Client, r *rand.Rand) {
	t.Helper()
	ctx := context.Background()
	orderKey := func() map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("p%d", r.Intn(4))},
			"sk": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(r.Intn(5))}}
	}
	userKey := func() map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("u%d", r.Intn(8))}}
	}
	withAttrs := func(k map[string]ddbtypes.AttributeValue) map[string]ddbtypes.AttributeValue {
		it := map[string]ddbtypes.AttributeValue{"v": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(r.Intn(1000))}}
		for n, v := range k {
			it[n] = v
		}
		if r.Intn(3) > 0 {
			it["g"] = &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("g%d", r.Intn(3))}
		}
		return it
	}
	var err error
	switch op := r.Intn(8); {
	case op < 3:
		table, k := "orders", orderKey()
		if op == 2 {
			table, k = "users", userKey()
		}
		_, err = ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: withAttrs(k)})
	case op < 5:
		_, err = ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("orders"), Key: orderKey(),
			UpdateExpression:          aws.String("SET w = :w ADD n :one"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":w": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(r.Intn(100))}, ":one": &ddbtypes.AttributeValueMemberN{Value: "1"}}})
	case op < 6:
		table, k := "orders", orderKey()
		if r.Intn(2) == 0 {
			table, k = "users", userKey()
		}
		_, err = ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: k})
	default:
		_, err = ddb.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
			{Put: &ddbtypes.Put{TableName: aws.String("orders"), Item: withAttrs(orderKey())}},
			{Put: &ddbtypes.Put{TableName: aws.String("users"), Item: withAttrs(userKey())}},
			{Delete: &ddbtypes.Delete{TableName: aws.String("users"), Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("x%d", r.Intn(3))}}}},
		}})
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestPITRAcrossKill: a random workload of puts, updates, deletes and
// transactions over two tables with global indexes, with point-in-time
// recovery enabled through `eddy tables pitr`; the exact contents
// (items and index entries) recorded at 20 random instants and at a
// whole-server backup (`eddy backup --to`); then SIGKILL and a restart on
// the same data directory. A restore of each table to each instant equals
// what was recorded at it, and a server started on `eddy restore`'s copy
// of the whole-server backup holds what the tables held at the backup.
func TestPITRAcrossKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it as a child process")
	}
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	tmp := t.TempDir()
	bin := buildEddy(t, tmp)
	t0 := time.Now()
	dataDir := filepath.Join(tmp, "data")
	mkdir(t, dataDir)
	addr := freeAddr(t)
	p := startEddy(t, bin, addr, dataDir)
	c := newClients(p.url)
	pitrWorkloadTables(t, c.ddb)
	for _, table := range []string{"orders", "users"} {
		var out, errb bytes.Buffer
		if code := tablesMain(&out, &errb, []string{"pitr", table, "--enable", "--days", "1", "--endpoint", p.url}); code != 0 || !strings.Contains(out.String(), "ENABLED, 1 days") {
			t.Fatalf("eddy tables pitr %s --enable: %d %s %s", table, code, out.String(), errb.String())
		}
	}

	const writes, instants = 160, 20
	at := map[int]bool{}
	for len(at) < instants {
		at[r.Intn(writes)] = true
	}
	type mark struct {
		at       time.Time
		contents map[string]string
	}
	var marks []mark
	record := func() map[string]string {
		return map[string]string{"orders": snapshotOf(t, c.read, "orders"), "users": snapshotOf(t, c.read, "users")}
	}
	backupDir := filepath.Join(tmp, "whole")
	var atBackup map[string]string
	for i := 0; i < writes; i++ {
		randomWrites(t, c.ddb, r)
		if at[i] {
			time.Sleep(2 * time.Millisecond) // the SDK sends milliseconds: the instant's is after every write before it
			marks = append(marks, mark{time.Now().Truncate(time.Millisecond), record()})
			time.Sleep(2 * time.Millisecond) // and before every write after it
		}
		if i == writes/2 {
			var out, errb bytes.Buffer
			if code := backupMain(&out, &errb, []string{"--to", backupDir, "--endpoint", p.url}); code != 0 {
				t.Fatalf("eddy backup: %d %s", code, errb.String())
			}
			atBackup = record()
		}
	}
	t.Logf("workload and records: %v", time.Since(t0))
	p.kill(t)
	p = startEddy(t, bin, addr, dataDir)
	c = newClients(p.url)
	t0 = time.Now()

	n := 0
	for i, m := range marks {
		for _, table := range []string{"orders", "users"} {
			target := fmt.Sprintf("%s-at-%d", table, i)
			if _, err := c.ddb.RestoreTableToPointInTime(context.Background(), &dynamodb.RestoreTableToPointInTimeInput{
				SourceTableName: aws.String(table), TargetTableName: aws.String(target), RestoreDateTime: aws.Time(m.at)}); err != nil {
				t.Fatalf("restore %s to instant %d (%v): %v", table, i, m.at, err)
			}
			deadline := time.Now().Add(time.Minute)
			for {
				d, err := c.read.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(target)})
				if err != nil {
					t.Fatal(err)
				}
				if d.Table.TableStatus == ddbtypes.TableStatusActive {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s still %s", target, d.Table.TableStatus)
				}
				time.Sleep(10 * time.Millisecond)
			}
			if got := snapshotOf(t, c.read, target); got != m.contents[table] {
				t.Fatalf("%s restored to instant %d (%v) after the kill:\n got %s\nwant %s", table, i, m.at, got, m.contents[table])
			}
			n++
		}
	}
	t.Logf("%d restores after the kill equal their instants (%v)", n, time.Since(t0))
	p.kill(t)

	restored := filepath.Join(tmp, "restored")
	var out, errb bytes.Buffer
	if code := restoreMain(&out, &errb, []string{"--from", backupDir, "--data", restored}); code != 0 {
		t.Fatalf("eddy restore: %d %s", code, errb.String())
	}
	p = startEddy(t, bin, freeAddr(t), restored)
	c = newClients(p.url)
	for _, table := range []string{"orders", "users"} {
		if got := snapshotOf(t, c.read, table); got != atBackup[table] {
			t.Fatalf("%s in the whole-server backup:\n got %s\nwant %s", table, got, atBackup[table])
		}
	}
}
