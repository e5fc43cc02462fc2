package api_test

import (
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// The TestConformanceTier2* tests carry the checks of the public conformance
// suite nubo-db/dynamodb-conformance (verified against real DynamoDB) that
// the suite asserts only in part: a timestamp or an ARN that must be present,
// a capacity sum, a status from a set, an error type without its message.
// Each asserts exactly what the suite asserts, no more; the checks with exact
// expectations are in testdata/errors/conformance-tier2.txt. Sources:
// tests/tier1/{createTable,describeTable,deleteTable,listTables,updateTable},
// tests/tier2/{transactions,partiql,tags,ttl,updateTable,account}.

// errCode is the DynamoDB error code of err, or "" when it is not one.
func errCode(err error) string {
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := errCode(err); got != code {
		t.Fatalf("want %s, got %v", code, err)
	}
}

// waitActive waits for a table and all its GSIs to be ACTIVE.
func waitActive(t *testing.T, c *dynamodb.Client, name string) *types.TableDescription {
	t.Helper()
	var td *types.TableDescription
	eddytest.WaitFor(t, name+" ACTIVE", 30e9, func() bool {
		out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		td = out.Table
		if td.TableStatus != types.TableStatusActive {
			return false
		}
		for _, g := range td.GlobalSecondaryIndexes {
			if g.IndexStatus != types.IndexStatusActive {
				return false
			}
		}
		return true
	})
	return td
}

func hashTable(name string, extra func(*dynamodb.CreateTableInput)) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}
	if extra != nil {
		extra(in)
	}
	return in
}

func provisioned(in *dynamodb.CreateTableInput) {
	in.BillingMode = ""
	in.ProvisionedThroughput = &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}
}

func mustCreate(t *testing.T, c *dynamodb.Client, in *dynamodb.CreateTableInput) *dynamodb.CreateTableOutput {
	t.Helper()
	out, err := c.CreateTable(ctx, in)
	if err != nil {
		t.Fatalf("CreateTable %s: %v", aws.ToString(in.TableName), err)
	}
	return out
}

func keySchema(ks []types.KeySchemaElement) string {
	var parts []string
	for _, k := range ks {
		parts = append(parts, aws.ToString(k.AttributeName)+":"+string(k.KeyType))
	}
	return strings.Join(parts, ",")
}

// tests/tier1/{createTable,describeTable,deleteTable,listTables}.
func TestConformanceTier2Tables(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB

	// CreateTable — basic.
	mustCreate(t, c, hashTable("ct_hash", provisioned))
	td := waitActive(t, c, "ct_hash")
	if aws.ToString(td.TableName) != "ct_hash" || keySchema(td.KeySchema) != "pk:HASH" ||
		len(td.AttributeDefinitions) != 1 || aws.ToString(td.AttributeDefinitions[0].AttributeName) != "pk" || td.AttributeDefinitions[0].AttributeType != types.ScalarAttributeTypeS {
		t.Fatalf("ct_hash: %+v", td)
	}
	mustCreate(t, c, &dynamodb.CreateTableInput{
		TableName: aws.String("ct_composite"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)},
	})
	if ks := keySchema(waitActive(t, c, "ct_composite").KeySchema); ks != "pk:HASH,sk:RANGE" {
		t.Fatalf("ct_composite key schema %s", ks)
	}
	mustCreate(t, c, hashTable("ct_ondemand", nil))
	td = waitActive(t, c, "ct_ondemand")
	if td.BillingModeSummary == nil || td.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Fatalf("ct_ondemand billing: %+v", td.BillingModeSummary)
	}
	lt, err := c.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil || !contains(lt.TableNames, "ct_ondemand") {
		t.Fatalf("ListTables: %v %v", lt, err)
	}

	// CreateTable — TableId: the id CreateTable reports is DescribeTable's,
	// and stays the same across reads.
	ct := mustCreate(t, c, hashTable("ct_tableid", nil))
	id := aws.ToString(ct.TableDescription.TableId)
	if id == "" {
		t.Fatal("CreateTable reported no TableId")
	}
	if got := aws.ToString(waitActive(t, c, "ct_tableid").TableId); got != id {
		t.Fatalf("TableId %q, CreateTable said %q", got, id)
	}
	if got := aws.ToString(waitActive(t, c, "ct_tableid").TableId); got != id {
		t.Fatalf("TableId changed between reads: %q, %q", got, id)
	}

	// CreateTable — validation (the suite asserts the error type only).
	for _, in := range []*dynamodb.CreateTableInput{
		hashTable("ab", nil),
		hashTable(strings.Repeat("a", 256), nil),
		hashTable("invalid;name", nil),
		hashTable("ct_nokey", func(in *dynamodb.CreateTableInput) { in.KeySchema = []types.KeySchemaElement{} }),
		hashTable("ct_unused_attr", func(in *dynamodb.CreateTableInput) {
			in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("extra"), AttributeType: types.ScalarAttributeTypeN})
		}),
	} {
		_, err := c.CreateTable(ctx, in)
		wantCode(t, err, "ValidationException")
	}
	_, err = c.CreateTable(ctx, hashTable("ct_hash", nil))
	wantCode(t, err, "ResourceInUseException")

	// DescribeTable — basic.
	td = waitActive(t, c, "ct_ondemand")
	if td.TableStatus != types.TableStatusActive || td.TableArn == nil || td.CreationDateTime == nil || td.ItemCount == nil || td.TableSizeBytes == nil {
		t.Fatalf("DescribeTable fields: %+v", td)
	}
	mustCreate(t, c, compositeIndexed("ct_indexed"))
	td = waitActive(t, c, "ct_indexed")
	if len(td.KeySchema) != 2 || len(td.LocalSecondaryIndexes) != 2 || len(td.GlobalSecondaryIndexes) != 2 {
		t.Fatalf("indexed table: %+v", td)
	}
	for _, g := range td.GlobalSecondaryIndexes {
		if g.IndexName == nil || g.IndexStatus != types.IndexStatusActive || g.KeySchema == nil || g.Projection == nil {
			t.Fatalf("GSI description: %+v", g)
		}
	}
	_, err = c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("_conformance_nonexistent_table")})
	wantCode(t, err, "ResourceNotFoundException")

	// DeleteTable: the response describes the table, which then goes away
	// and leaves ListTables.
	mustCreate(t, c, hashTable("dt_basic", nil))
	waitActive(t, c, "dt_basic")
	del, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("dt_basic")})
	if err != nil || del.TableDescription == nil || aws.ToString(del.TableDescription.TableName) != "dt_basic" {
		t.Fatalf("DeleteTable: %+v %v", del, err)
	}
	eddytest.WaitFor(t, "dt_basic gone", 30e9, func() bool {
		_, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("dt_basic")})
		return errCode(err) == "ResourceNotFoundException"
	})
	lt, err = c.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil || contains(lt.TableNames, "dt_basic") {
		t.Fatalf("ListTables after delete: %v %v", lt.TableNames, err)
	}
	_, err = c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("_conformance_nonexistent_table")})
	wantCode(t, err, "ResourceNotFoundException")

	// ListTables — paging and order.
	lt, err = c.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil || len(lt.TableNames) == 0 || !sort.StringsAreSorted(lt.TableNames) {
		t.Fatalf("ListTables: %v %v", lt.TableNames, err)
	}
	first, err := c.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
	if err != nil || len(first.TableNames) != 1 || first.LastEvaluatedTableName == nil {
		t.Fatalf("ListTables Limit 1: %+v %v", first, err)
	}
	second, err := c.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1), ExclusiveStartTableName: first.LastEvaluatedTableName})
	if err != nil || len(second.TableNames) != 1 || second.TableNames[0] == first.TableNames[0] {
		t.Fatalf("ListTables second page: %+v %v", second, err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// stringAttr is an S attribute definition.
func stringAttr(n string) types.AttributeDefinition {
	return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
}

// hashRange is a key schema: hash key h and, unless r is "", range key r.
func hashRange(h, r string) []types.KeySchemaElement {
	out := []types.KeySchemaElement{{AttributeName: aws.String(h), KeyType: types.KeyTypeHash}}
	if r != "" {
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(r), KeyType: types.KeyTypeRange})
	}
	return out
}

// compositeIndexed is the suite's composite fixture: pk/sk with two LSIs and
// two GSIs.
func compositeIndexed(name string) *dynamodb.CreateTableInput {
	all := &types.Projection{ProjectionType: types.ProjectionTypeAll}
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{stringAttr("pk"), stringAttr("sk"), stringAttr("lsi1sk"), stringAttr("lsi2sk")},
		KeySchema:            hashRange("pk", "sk"),
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{
			{IndexName: aws.String("lsi1"), KeySchema: hashRange("pk", "lsi1sk"), Projection: all},
			{IndexName: aws.String("lsi2"), KeySchema: hashRange("pk", "lsi2sk"), Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"lsi1sk"}}},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{IndexName: aws.String("gsi1"), KeySchema: hashRange("lsi1sk", ""), Projection: all},
			{IndexName: aws.String("gsi2"), KeySchema: hashRange("lsi1sk", "lsi2sk"), Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"data"}}},
		},
		BillingMode: types.BillingModePayPerRequest,
	}
}

// tests/tier1/createTable/config.test.ts, tests/tier1/updateTable/*.
func TestConformanceTier2TableConfig(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	n := 0
	create := func(extra func(*dynamodb.CreateTableInput)) (string, *types.TableDescription) {
		n++
		name := "cfg_" + strings.Repeat("x", n)
		mustCreate(t, c, hashTable(name, extra))
		return name, waitActive(t, c, name)
	}
	update := func(in *dynamodb.UpdateTableInput) *types.TableDescription {
		t.Helper()
		if _, err := c.UpdateTable(ctx, in); err != nil {
			t.Fatalf("UpdateTable: %v", err)
		}
		return waitActive(t, c, aws.ToString(in.TableName))
	}

	// CreateTable — configuration parameters round-trip.
	_, td := create(func(in *dynamodb.CreateTableInput) { in.DeletionProtectionEnabled = aws.Bool(true) })
	if !aws.ToBool(td.DeletionProtectionEnabled) {
		t.Fatal("DeletionProtectionEnabled did not round-trip")
	}
	_, td = create(nil)
	if aws.ToBool(td.DeletionProtectionEnabled) {
		t.Fatal("deletion protection defaults to disabled")
	}
	if td.TableClassSummary != nil && td.TableClassSummary.TableClass != types.TableClassStandard {
		t.Fatalf("default table class %v", td.TableClassSummary.TableClass)
	}
	if td.SSEDescription != nil {
		t.Fatalf("SSEDescription without SSESpecification: %+v", td.SSEDescription)
	}
	_, td = create(func(in *dynamodb.CreateTableInput) { in.TableClass = types.TableClassStandardInfrequentAccess })
	if td.TableClassSummary == nil || td.TableClassSummary.TableClass != types.TableClassStandardInfrequentAccess {
		t.Fatalf("TableClass: %+v", td.TableClassSummary)
	}
	_, td = create(func(in *dynamodb.CreateTableInput) {
		in.SSESpecification = &types.SSESpecification{Enabled: aws.Bool(true)}
	})
	if td.SSEDescription == nil || td.SSEDescription.Status != types.SSEStatusEnabled || td.SSEDescription.SSEType != types.SSETypeKms ||
		!strings.HasPrefix(aws.ToString(td.SSEDescription.KMSMasterKeyArn), "arn:aws:kms:") {
		t.Fatalf("SSEDescription: %+v", td.SSEDescription)
	}
	odName, td := create(func(in *dynamodb.CreateTableInput) {
		in.OnDemandThroughput = &types.OnDemandThroughput{MaxReadRequestUnits: aws.Int64(10), MaxWriteRequestUnits: aws.Int64(5)}
	})
	if td.OnDemandThroughput == nil || aws.ToInt64(td.OnDemandThroughput.MaxReadRequestUnits) != 10 || aws.ToInt64(td.OnDemandThroughput.MaxWriteRequestUnits) != 5 {
		t.Fatalf("OnDemandThroughput: %+v", td.OnDemandThroughput)
	}

	// UpdateTable — configuration parameters.
	name, _ := create(nil)
	if td := update(&dynamodb.UpdateTableInput{TableName: aws.String(name), DeletionProtectionEnabled: aws.Bool(true)}); !aws.ToBool(td.DeletionProtectionEnabled) {
		t.Fatal("UpdateTable did not enable deletion protection")
	}
	name, _ = create(nil)
	if td := update(&dynamodb.UpdateTableInput{TableName: aws.String(name), TableClass: types.TableClassStandardInfrequentAccess}); td.TableClassSummary == nil || td.TableClassSummary.TableClass != types.TableClassStandardInfrequentAccess {
		t.Fatalf("UpdateTable TableClass: %+v", td.TableClassSummary)
	}
	td = update(&dynamodb.UpdateTableInput{TableName: aws.String(odName), OnDemandThroughput: &types.OnDemandThroughput{MaxReadRequestUnits: aws.Int64(20), MaxWriteRequestUnits: aws.Int64(15)}})
	if td.OnDemandThroughput == nil || aws.ToInt64(td.OnDemandThroughput.MaxReadRequestUnits) != 20 || aws.ToInt64(td.OnDemandThroughput.MaxWriteRequestUnits) != 15 {
		t.Fatalf("UpdateTable OnDemandThroughput: %+v", td.OnDemandThroughput)
	}

	// Deletion protection blocks DeleteTable until it is turned off.
	name, _ = create(func(in *dynamodb.CreateTableInput) { in.DeletionProtectionEnabled = aws.Bool(true) })
	_, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	wantCode(t, err, "ValidationException")
	if !strings.Contains(err.Error(), "protected against deletion") {
		t.Fatalf("DeleteTable of a protected table: %v", err)
	}
	update(&dynamodb.UpdateTableInput{TableName: aws.String(name), DeletionProtectionEnabled: aws.Bool(false)})
	if _, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
		t.Fatalf("DeleteTable after protection is off: %v", err)
	}

	// UpdateTable — basic: throughput and billing mode.
	tp := func(r, w int64) *types.ProvisionedThroughput {
		return &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(r), WriteCapacityUnits: aws.Int64(w)}
	}
	name, _ = create(provisioned)
	td = update(&dynamodb.UpdateTableInput{TableName: aws.String(name), ProvisionedThroughput: tp(10, 10)})
	if aws.ToInt64(td.ProvisionedThroughput.ReadCapacityUnits) != 10 || aws.ToInt64(td.ProvisionedThroughput.WriteCapacityUnits) != 10 {
		t.Fatalf("throughput after update: %+v", td.ProvisionedThroughput)
	}
	name, _ = create(provisioned)
	_, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(name), BillingMode: types.BillingModeProvisioned, ProvisionedThroughput: tp(5, 5)})
	wantCode(t, err, "ValidationException")
	name, _ = create(nil)
	if td := update(&dynamodb.UpdateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest}); td.BillingModeSummary == nil || td.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Fatalf("PAY_PER_REQUEST no-op: %+v", td.BillingModeSummary)
	}
	name, _ = create(provisioned)
	td = update(&dynamodb.UpdateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest})
	if td.BillingModeSummary == nil || td.BillingModeSummary.BillingMode != types.BillingModePayPerRequest || td.TableStatus != types.TableStatusActive {
		t.Fatalf("to PAY_PER_REQUEST: %+v", td.BillingModeSummary)
	}
	name, _ = create(nil)
	td = update(&dynamodb.UpdateTableInput{TableName: aws.String(name), BillingMode: types.BillingModeProvisioned, ProvisionedThroughput: tp(5, 5)})
	if aws.ToInt64(td.ProvisionedThroughput.ReadCapacityUnits) != 5 || aws.ToInt64(td.ProvisionedThroughput.WriteCapacityUnits) != 5 {
		t.Fatalf("to PROVISIONED: %+v", td.ProvisionedThroughput)
	}
	name, td = create(provisioned)
	if aws.ToInt64(td.ProvisionedThroughput.ReadCapacityUnits) != 5 || aws.ToInt64(td.ProvisionedThroughput.WriteCapacityUnits) != 5 {
		t.Fatalf("initial throughput: %+v", td.ProvisionedThroughput)
	}
	td = update(&dynamodb.UpdateTableInput{TableName: aws.String(name), ProvisionedThroughput: tp(20, 15)})
	if aws.ToInt64(td.ProvisionedThroughput.ReadCapacityUnits) != 20 || aws.ToInt64(td.ProvisionedThroughput.WriteCapacityUnits) != 15 {
		t.Fatalf("throughput 20/15: %+v", td.ProvisionedThroughput)
	}

	// UpdateTable — validation.
	_, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("_conformance_nonexistent_table"), ProvisionedThroughput: tp(10, 10)})
	wantCode(t, err, "ResourceNotFoundException")
	name, _ = create(provisioned)
	_, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(name), ProvisionedThroughput: tp(0, 5)})
	wantCode(t, err, "ValidationException")
	_, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest, ProvisionedThroughput: tp(5, 5)})
	wantCode(t, err, "ValidationException")
}

// tests/tier2/updateTable/gsi.test.ts.
func TestConformanceTier2UpdateTableGSI(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	base := func(name string, withGSI bool) {
		in := &dynamodb.CreateTableInput{
			TableName: aws.String(name),
			AttributeDefinitions: []types.AttributeDefinition{
				{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
				{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
			},
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
			},
			BillingMode: types.BillingModePayPerRequest,
		}
		if withGSI {
			in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("gsiPk"), AttributeType: types.ScalarAttributeTypeS})
			in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{{
				IndexName:  aws.String("existingGsi"),
				KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("gsiPk"), KeyType: types.KeyTypeHash}},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			}}
		}
		mustCreate(t, c, in)
		waitActive(t, c, name)
	}
	type attr struct {
		name string
		typ  types.ScalarAttributeType
	}
	addGSI := func(table, index string, proj *types.Projection, keys ...attr) error {
		var ad []types.AttributeDefinition
		var ks []types.KeySchemaElement
		for i, k := range keys {
			ad = append(ad, types.AttributeDefinition{AttributeName: aws.String(k.name), AttributeType: k.typ})
			kt := types.KeyTypeHash
			if i == 1 {
				kt = types.KeyTypeRange
			}
			ks = append(ks, types.KeySchemaElement{AttributeName: aws.String(k.name), KeyType: kt})
		}
		_, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName:                   aws.String(table),
			AttributeDefinitions:        ad,
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{IndexName: aws.String(index), KeySchema: ks, Projection: proj}}},
		})
		return err
	}
	all := &types.Projection{ProjectionType: types.ProjectionTypeAll}
	S := types.ScalarAttributeTypeS

	base("ut_gsi_add_hash", false)
	if err := addGSI("ut_gsi_add_hash", "gsi1", all, attr{"gsiPk", S}); err != nil {
		t.Fatal(err)
	}
	gsis := waitActive(t, c, "ut_gsi_add_hash").GlobalSecondaryIndexes
	if len(gsis) != 1 || aws.ToString(gsis[0].IndexName) != "gsi1" || gsis[0].IndexStatus != types.IndexStatusActive ||
		keySchema(gsis[0].KeySchema) != "gsiPk:HASH" || gsis[0].Projection.ProjectionType != types.ProjectionTypeAll {
		t.Fatalf("hash-only GSI: %+v", gsis)
	}

	base("ut_gsi_add_comp", false)
	if err := addGSI("ut_gsi_add_comp", "gsiComposite", all, attr{"gsiPk", S}, attr{"gsiSk", types.ScalarAttributeTypeN}); err != nil {
		t.Fatal(err)
	}
	gsis = waitActive(t, c, "ut_gsi_add_comp").GlobalSecondaryIndexes
	if len(gsis) != 1 || aws.ToString(gsis[0].IndexName) != "gsiComposite" || keySchema(gsis[0].KeySchema) != "gsiPk:HASH,gsiSk:RANGE" {
		t.Fatalf("composite GSI: %+v", gsis)
	}

	base("ut_gsi_keys_only", false)
	if err := addGSI("ut_gsi_keys_only", "gsiKeysOnly", &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}, attr{"gsiPk", S}); err != nil {
		t.Fatal(err)
	}
	gsis = waitActive(t, c, "ut_gsi_keys_only").GlobalSecondaryIndexes
	if aws.ToString(gsis[0].IndexName) != "gsiKeysOnly" || gsis[0].Projection.ProjectionType != types.ProjectionTypeKeysOnly {
		t.Fatalf("KEYS_ONLY GSI: %+v", gsis)
	}

	base("ut_gsi_include", false)
	if err := addGSI("ut_gsi_include", "gsiInclude", &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"attr1", "attr2"}}, attr{"gsiPk", S}); err != nil {
		t.Fatal(err)
	}
	gsis = waitActive(t, c, "ut_gsi_include").GlobalSecondaryIndexes
	nka := append([]string(nil), gsis[0].Projection.NonKeyAttributes...)
	sort.Strings(nka)
	if aws.ToString(gsis[0].IndexName) != "gsiInclude" || gsis[0].Projection.ProjectionType != types.ProjectionTypeInclude || strings.Join(nka, ",") != "attr1,attr2" {
		t.Fatalf("INCLUDE GSI: %+v", gsis[0].Projection)
	}

	// A GSI added over existing items is backfilled.
	base("ut_gsi_query", false)
	for _, it := range []item{
		{"pk": S_("item1"), "sk": S_("a"), "gsiPk": S_("group1"), "data": S_("hello")},
		{"pk": S_("item2"), "sk": S_("b"), "gsiPk": S_("group1"), "data": S_("world")},
		{"pk": S_("item3"), "sk": S_("c"), "gsiPk": S_("group2"), "data": S_("other")},
	} {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("ut_gsi_query"), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	if err := addGSI("ut_gsi_query", "gsiQuery", all, attr{"gsiPk", S}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, c, "ut_gsi_query")
	var q *dynamodb.QueryOutput
	eddytest.WaitFor(t, "gsiQuery backfill", 30e9, func() bool {
		var err error
		q, err = c.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String("ut_gsi_query"), IndexName: aws.String("gsiQuery"),
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ExpressionAttributeNames:  map[string]string{"#pk": "gsiPk"},
			ExpressionAttributeValues: item{":pk": S_("group1")},
		})
		if err != nil {
			t.Fatal(err)
		}
		return q.Count == 2
	})
	var pks []string
	for _, it := range q.Items {
		pks = append(pks, it["pk"].(*types.AttributeValueMemberS).Value)
	}
	sort.Strings(pks)
	if strings.Join(pks, ",") != "item1,item2" {
		t.Fatalf("GSI query: %v", pks)
	}

	base("ut_gsi_multi", false)
	if err := addGSI("ut_gsi_multi", "gsi1", all, attr{"g1", S}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, c, "ut_gsi_multi")
	if err := addGSI("ut_gsi_multi", "gsi2", &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}, attr{"g2", types.ScalarAttributeTypeN}); err != nil {
		t.Fatal(err)
	}
	gsis = waitActive(t, c, "ut_gsi_multi").GlobalSecondaryIndexes
	var names []string
	for _, g := range gsis {
		names = append(names, aws.ToString(g.IndexName))
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "gsi1,gsi2" {
		t.Fatalf("sequential GSIs: %v", names)
	}

	// Removing a GSI; the base table keeps working.
	for _, name := range []string{"ut_gsi_remove", "ut_gsi_rm_ops"} {
		base(name, true)
		if n := len(waitActive(t, c, name).GlobalSecondaryIndexes); n != 1 {
			t.Fatalf("%s has %d GSIs before removal", name, n)
		}
		if _, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName:                   aws.String(name),
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Delete: &types.DeleteGlobalSecondaryIndexAction{IndexName: aws.String("existingGsi")}}},
		}); err != nil {
			t.Fatal(err)
		}
		eddytest.WaitFor(t, name+" GSI removed", 30e9, func() bool {
			return len(waitActive(t, c, name).GlobalSecondaryIndexes) == 0
		})
	}
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("ut_gsi_rm_ops"), Item: item{"pk": S_("afterRemove"), "sk": S_("1"), "data": S_("still works")}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("ut_gsi_rm_ops"), Key: item{"pk": S_("afterRemove"), "sk": S_("1")}})
	if err != nil || got.Item["data"].(*types.AttributeValueMemberS).Value != "still works" {
		t.Fatalf("GetItem after GSI removal: %+v %v", got, err)
	}
	q, err = c.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String("ut_gsi_rm_ops"), KeyConditionExpression: aws.String("#pk = :pk"),
		ExpressionAttributeNames: map[string]string{"#pk": "pk"}, ExpressionAttributeValues: item{":pk": S_("afterRemove")},
	})
	if err != nil || q.Count != 1 {
		t.Fatalf("Query after GSI removal: %+v %v", q, err)
	}

	// Validation.
	base("ut_gsi_dup", true)
	wantCode(t, addGSI("ut_gsi_dup", "existingGsi", all, attr{"gsiPk", S}), "ValidationException")
	base("ut_gsi_no_attr", false)
	_, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName: aws.String("ut_gsi_no_attr"),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName: aws.String("gsiBadAttr"), KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("unknownAttr"), KeyType: types.KeyTypeHash}}, Projection: all,
		}}},
	})
	wantCode(t, err, "ValidationException")
	base("ut_gsi_rm_none", false)
	_, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName:                   aws.String("ut_gsi_rm_none"),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Delete: &types.DeleteGlobalSecondaryIndexAction{IndexName: aws.String("doesNotExist")}}},
	})
	wantCode(t, err, "ResourceNotFoundException")
}

// S_ is S under a name that a local variable for a scalar type cannot shadow.
func S_(s string) types.AttributeValue { return S(s) }

// tests/tier2/tags/basic.test.ts, tests/tier2/ttl/basic.test.ts,
// tests/tier2/account/limits.test.ts.
func TestConformanceTier2TagsTTLAccount(t *testing.T) {
	// The suite's account is not 000000000000, the account of the ARN it
	// names for a table it cannot see; eddy's default account is.
	s := eddytest.Start(t, server.Options{AccountID: "123456789012"})
	c := s.DDB

	// Tags.
	ct := mustCreate(t, c, hashTable("tags", nil))
	arn := ct.TableDescription.TableArn
	waitActive(t, c, "tags")
	tags := func() map[string]string {
		out, err := c.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: arn})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, tg := range out.Tags {
			m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		return m
	}
	tag := func(kv ...string) {
		var ts []types.Tag
		for i := 0; i < len(kv); i += 2 {
			ts = append(ts, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
		}
		if _, err := c.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: arn, Tags: ts}); err != nil {
			t.Fatal(err)
		}
	}
	untag := func(keys ...string) {
		if _, err := c.UntagResource(ctx, &dynamodb.UntagResourceInput{ResourceArn: arn, TagKeys: keys}); err != nil {
			t.Fatal(err)
		}
	}
	tag("env", "test", "project", "conformity")
	if m := tags(); len(m) != 2 || m["env"] != "test" || m["project"] != "conformity" {
		t.Fatalf("tags: %v", m)
	}
	tag("team", "platform")
	if m := tags(); len(m) != 3 || m["team"] != "platform" || m["env"] != "test" {
		t.Fatalf("tags: %v", m)
	}
	untag("team")
	if m := tags(); len(m) != 2 || m["team"] != "" || m["env"] == "" || m["project"] == "" {
		t.Fatalf("tags after untag: %v", m)
	}
	untag("project")
	if m := tags(); len(m) != 1 || m["env"] == "" {
		t.Fatalf("tags after untag: %v", m)
	}
	tag("env", "production")
	if m := tags(); m["env"] != "production" {
		t.Fatalf("tag overwrite: %v", m)
	}
	_, err := c.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String("not-a-valid-arn"), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("test")}}})
	wantCode(t, err, "ValidationException")
	_, err = c.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/nonexistent_table_xyz")})
	wantCode(t, err, "AccessDeniedException")

	// TTL.
	for _, attr := range []string{"ttl", "expiresAt"} {
		name := "ttl_" + attr
		mustCreate(t, c, hashTable(name, nil))
		waitActive(t, c, name)
		desc, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
		if err != nil || desc.TimeToLiveDescription == nil || desc.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusDisabled {
			t.Fatalf("DescribeTimeToLive before enabling: %+v %v", desc, err)
		}
		up, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name), TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String(attr)}})
		if err != nil || up.TimeToLiveSpecification == nil || !aws.ToBool(up.TimeToLiveSpecification.Enabled) || aws.ToString(up.TimeToLiveSpecification.AttributeName) != attr {
			t.Fatalf("UpdateTimeToLive: %+v %v", up, err)
		}
		desc, err = c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
		if err != nil || desc.TimeToLiveDescription == nil || aws.ToString(desc.TimeToLiveDescription.AttributeName) != attr {
			t.Fatalf("DescribeTimeToLive after enabling: %+v %v", desc, err)
		}
		if st := desc.TimeToLiveDescription.TimeToLiveStatus; st != types.TimeToLiveStatusEnabled && st != types.TimeToLiveStatusEnabling {
			t.Fatalf("TTL status %s", st)
		}
	}
	mustCreate(t, c, hashTable("ttl_empty_attr", nil))
	waitActive(t, c, "ttl_empty_attr")
	_, err = c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("ttl_empty_attr"), TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("")}})
	wantCode(t, err, "ValidationException")
	_, err = c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("_conformance_nonexistent_table"), TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("ttl")}})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("_conformance_nonexistent_table")})
	wantCode(t, err, "ResourceNotFoundException")

	// DescribeLimits, DescribeEndpoints.
	lim, err := c.DescribeLimits(ctx, &dynamodb.DescribeLimitsInput{})
	if err != nil || aws.ToInt64(lim.AccountMaxReadCapacityUnits) <= 0 || aws.ToInt64(lim.AccountMaxWriteCapacityUnits) <= 0 ||
		aws.ToInt64(lim.TableMaxReadCapacityUnits) <= 0 || aws.ToInt64(lim.TableMaxWriteCapacityUnits) <= 0 {
		t.Fatalf("DescribeLimits: %+v %v", lim, err)
	}
	ep, err := c.DescribeEndpoints(ctx, &dynamodb.DescribeEndpointsInput{})
	if err != nil || len(ep.Endpoints) == 0 || aws.ToString(ep.Endpoints[0].Address) == "" || ep.Endpoints[0].CachePeriodInMinutes <= 0 {
		t.Fatalf("DescribeEndpoints: %+v %v", ep, err)
	}
}

// tests/tier2/transactions: the checks not exact enough for testdata.
func TestConformanceTier2Transactions(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	mustCreate(t, c, hashTable("hash", nil))
	put := func(pk, v string) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{TableName: aws.String("hash"), Item: item{"pk": S(pk), "val": S(v)}}}
	}

	// The same ClientRequestToken with a different payload.
	if _, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{ClientRequestToken: aws.String("idempotent-test-token"), TransactItems: []types.TransactWriteItem{put("tw-idem-mismatch", "first")}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{ClientRequestToken: aws.String("idempotent-test-token"), TransactItems: []types.TransactWriteItem{put("tw-idem-mismatch", "different")}})
	wantCode(t, err, "IdempotentParameterMismatchException")

	// Capacity: 2 write units per item written, 2 read units per item read,
	// a missing item included.
	total := func(cc []types.ConsumedCapacity) float64 {
		var sum float64
		for _, c := range cc {
			sum += aws.ToFloat64(c.CapacityUnits)
		}
		return sum
	}
	tw, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal, TransactItems: []types.TransactWriteItem{put("tw-cap-1", "1"), put("tw-cap-2", "1")}})
	if err != nil || total(tw.ConsumedCapacity) != 4 {
		t.Fatalf("TransactWriteItems capacity: %+v %v", tw, err)
	}
	get := func(pk string) types.TransactGetItem {
		return types.TransactGetItem{Get: &types.Get{TableName: aws.String("hash"), Key: item{"pk": S(pk)}}}
	}
	tg, err := c.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal, TransactItems: []types.TransactGetItem{get("tw-cap-1"), get("tg-cap-missing")}})
	if err != nil || total(tg.ConsumedCapacity) != 4 {
		t.Fatalf("TransactGetItems capacity: %+v %v", tg, err)
	}
	tg, err = c.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes, TransactItems: []types.TransactGetItem{get("tw-cap-1")}})
	if err != nil || len(tg.ConsumedCapacity) == 0 || tg.ConsumedCapacity[0].Table == nil || aws.ToFloat64(tg.ConsumedCapacity[0].Table.ReadCapacityUnits) <= 0 {
		t.Fatalf("TransactGetItems INDEXES: %+v %v", tg, err)
	}

	// Validation the suite asserts by type.
	_, err = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{put("tw-dup-1", "first"), put("tw-dup-1", "second")}})
	wantCode(t, err, "ValidationException")
	_, err = c.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{{Get: &types.Get{TableName: aws.String("_conformance_nonexistent_table"), Key: item{"pk": S("x")}}}}})
	wantCode(t, err, "ResourceNotFoundException")
}

// partiqlIdx is the suite's partiqlIndexTableDef with the items of
// tests/tier2/partiql/indexQualifier.test.ts.
func partiqlIdx(t *testing.T, c *dynamodb.Client) {
	t.Helper()
	all := &types.Projection{ProjectionType: types.ProjectionTypeAll}
	keys := &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}
	inc := &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"projattr"}}
	mustCreate(t, c, &dynamodb.CreateTableInput{
		TableName:            aws.String("partiqlIdx"),
		AttributeDefinitions: []types.AttributeDefinition{stringAttr("pk"), stringAttr("sk"), stringAttr("gsiPk"), stringAttr("gsiPk2"), stringAttr("lsiSk"), stringAttr("lsiSk2"), stringAttr("lsiSk3")},
		KeySchema:            hashRange("pk", "sk"),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{IndexName: aws.String("gsi-all"), KeySchema: hashRange("gsiPk", ""), Projection: all},
			{IndexName: aws.String("gsi-inc"), KeySchema: hashRange("gsiPk2", ""), Projection: inc},
			{IndexName: aws.String("gsi-keys"), KeySchema: hashRange("gsiPk2", ""), Projection: keys},
		},
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{
			{IndexName: aws.String("lsi-all"), KeySchema: hashRange("pk", "lsiSk"), Projection: all},
			{IndexName: aws.String("lsi-keys"), KeySchema: hashRange("pk", "lsiSk2"), Projection: keys},
			{IndexName: aws.String("lsi-inc"), KeySchema: hashRange("pk", "lsiSk3"), Projection: inc},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	for _, it := range []item{
		{"pk": S("p"), "sk": S("s1"), "gsiPk": S("x"), "gsiPk2": S("y"), "lsiSk": S("l1"), "lsiSk2": S("k1"), "lsiSk3": S("m1"), "projattr": S("proj1"), "nonproj": S("np1")},
		{"pk": S("p"), "sk": S("s2"), "gsiPk": S("z"), "gsiPk2": S("y"), "lsiSk": S("l2"), "lsiSk2": S("k2"), "lsiSk3": S("m2"), "projattr": S("proj2"), "nonproj": S("np2")},
		{"pk": S("p"), "sk": S("s3"), "nonproj": S("np3")},
		{"pk": S("p"), "sk": S("s4"), "gsiPk": S("x"), "gsiPk2": S("y"), "lsiSk": S("l4"), "lsiSk2": S("k4"), "lsiSk3": S("m4"), "projattr": S("proj4"), "nonproj": S("np4")},
		{"pk": S("q"), "sk": S("s5"), "gsiPk2": S("y2"), "projattr": S("proj5"), "nonproj": S("np5")},
	} {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("partiqlIdx"), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
}

func strAttr(it map[string]types.AttributeValue, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func sortedAttr(items []map[string]types.AttributeValue, name string) string {
	var out []string
	for _, it := range items {
		out = append(out, strAttr(it, name))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// tests/tier2/partiql/{executeStatement,batchExecuteStatement,
// executeTransaction}.test.ts: the checks not exact enough for testdata.
func TestConformanceTier2PartiQL(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	mustCreate(t, c, hashTable("hash", nil))
	partiqlIdx(t, c)
	exec := func(stmt string, params ...types.AttributeValue) (*dynamodb.ExecuteStatementOutput, error) {
		return c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(stmt), Parameters: params})
	}
	putItem := func(it item) {
		t.Helper()
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("hash"), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	getItem := func(pk string) item {
		t.Helper()
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("hash"), Key: item{"pk": S(pk)}, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item
	}

	// ExecuteStatement.
	if _, err := exec(`INSERT INTO "hash" VALUE {'pk': 'partiql-dup-insert', 'data': 'first'}`); err != nil {
		t.Fatal(err)
	}
	_, err := exec(`INSERT INTO "hash" VALUE {'pk': 'partiql-dup-insert', 'data': 'second'}`)
	wantCode(t, err, "DuplicateItemException")
	if _, err := exec(`INSERT INTO "hash" VALUE { 'pk': 'partiql-cc', 'v': 1 }`); err != nil {
		t.Fatal(err)
	}
	es, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "hash" WHERE pk = 'partiql-cc'`), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	if err != nil || es.ConsumedCapacity == nil || aws.ToFloat64(es.ConsumedCapacity.CapacityUnits) <= 0 {
		t.Fatalf("ExecuteStatement ConsumedCapacity: %+v %v", es, err)
	}
	_, err = exec(`SELECTT * FROMM "hash"`)
	wantCode(t, err, "ValidationException")
	_, err = exec(`SELECT * FROM "_conformance_nonexistent_table" WHERE pk = 'x'`)
	wantCode(t, err, "ResourceNotFoundException")

	// BatchExecuteStatement.
	batch := func(stmts ...types.BatchStatementRequest) *dynamodb.BatchExecuteStatementOutput {
		t.Helper()
		out, err := c.BatchExecuteStatement(ctx, &dynamodb.BatchExecuteStatementInput{Statements: stmts})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Responses) != len(stmts) {
			t.Fatalf("%d responses to %d statements", len(out.Responses), len(stmts))
		}
		return out
	}
	st := func(stmt string, params ...types.AttributeValue) types.BatchStatementRequest {
		return types.BatchStatementRequest{Statement: aws.String(stmt), Parameters: params}
	}
	putItem(item{"pk": S("batch-sel-1"), "data": S("one")})
	putItem(item{"pk": S("batch-sel-2"), "data": S("two")})
	b := batch(st(`SELECT * FROM "hash" WHERE pk = 'batch-sel-1'`), st(`SELECT * FROM "hash" WHERE pk = 'batch-sel-2'`))
	if got := sortedAttr([]map[string]types.AttributeValue{b.Responses[0].Item, b.Responses[1].Item}, "pk"); got != "batch-sel-1,batch-sel-2" {
		t.Fatalf("batch SELECT: %s", got)
	}
	putItem(item{"pk": S("batch-upd-1"), "data": S("before")})
	batch(st(`INSERT INTO "hash" VALUE {'pk': 'batch-ins-1', 'data': 'new'}`), st(`UPDATE "hash" SET data = 'after' WHERE pk = 'batch-upd-1'`))
	if strAttr(getItem("batch-ins-1"), "data") != "new" || strAttr(getItem("batch-upd-1"), "data") != "after" {
		t.Fatal("batch INSERT and UPDATE did not apply")
	}
	putItem(item{"pk": S("batch-partial-1"), "data": S("exists")})
	b = batch(st(`SELECT * FROM "hash" WHERE pk = 'batch-partial-1'`), st(`SELECT * FROM "_conformance_nonexistent_table" WHERE pk = 'x'`))
	var errs []*types.BatchStatementError
	for _, r := range b.Responses {
		if r.Error != nil {
			errs = append(errs, r.Error)
		}
	}
	if len(errs) != 1 || errs[0].Code != types.BatchStatementErrorCodeEnumResourceNotFound {
		t.Fatalf("batch partial failure: %+v", b.Responses)
	}

	// RETURNING on a batch member.
	putItem(item{"pk": S("batch-ret-allold"), "data": S("batchgone")})
	b = batch(st(`DELETE FROM "hash" WHERE pk = 'batch-ret-allold' RETURNING ALL OLD *`))
	if it := b.Responses[0].Item; strAttr(it, "pk") != "batch-ret-allold" || strAttr(it, "data") != "batchgone" || getItem("batch-ret-allold") != nil {
		t.Fatalf("batch DELETE RETURNING ALL OLD: %+v", b.Responses[0])
	}
	putItem(item{"pk": S("batch-ret-upd-allnew"), "data": S("old")})
	b = batch(st(`UPDATE "hash" SET data = 'new' WHERE pk = 'batch-ret-upd-allnew' RETURNING ALL NEW *`))
	if it := b.Responses[0].Item; strAttr(it, "pk") != "batch-ret-upd-allnew" || strAttr(it, "data") != "new" {
		t.Fatalf("batch UPDATE RETURNING ALL NEW: %+v", b.Responses[0])
	}
	putItem(item{"pk": S("batch-ret-upd-modnew"), "data": S("old")})
	b = batch(st(`UPDATE "hash" SET data = 'new' WHERE pk = 'batch-ret-upd-modnew' RETURNING MODIFIED NEW *`))
	if it := b.Responses[0].Item; len(it) != 1 || strAttr(it, "data") != "new" {
		t.Fatalf("batch UPDATE RETURNING MODIFIED NEW: %+v", b.Responses[0])
	}
	putItem(item{"pk": S("batch-ret-upd-modempty"), "data": S("old")})
	b = batch(st(`UPDATE "hash" REMOVE data WHERE pk = 'batch-ret-upd-modempty' RETURNING MODIFIED NEW *`))
	if r := b.Responses[0]; r.Item != nil || aws.ToString(r.TableName) != "hash" || getItem("batch-ret-upd-modempty")["data"] != nil {
		t.Fatalf("batch UPDATE with an empty MODIFIED projection: %+v", r)
	}
	b = batch(st(`DELETE FROM "hash" WHERE pk = 'batch-ret-badvariant' RETURNING MODIFIED OLD *`))
	if e := b.Responses[0].Error; e == nil || e.Code != types.BatchStatementErrorCodeEnumValidationError ||
		aws.ToString(e.Message) != "Invalid returning clause: RETURNING MODIFIED OLD *. Only RETURNING ALL OLD * is allowed in DELETE statements." {
		t.Fatalf("batch DELETE with a bad RETURNING: %+v", b.Responses[0].Error)
	}
	putItem(item{"pk": S("batch-parse-ok"), "data": S("valid")})
	b = batch(st(`SLECT * FROM "hash" WHERE pk = 'batch-parse-ok'`), st(`SELECT * FROM "hash" WHERE pk = 'batch-parse-ok'`))
	if e := b.Responses[0].Error; e == nil || e.Code != types.BatchStatementErrorCodeEnumValidationError ||
		aws.ToString(e.Message) != "Statement wasn't well formed, can't be processed: Expected data manipulation" {
		t.Fatalf("batch malformed member: %+v", b.Responses[0].Error)
	}
	if r := b.Responses[1]; r.Error != nil || strAttr(r.Item, "data") != "valid" {
		t.Fatalf("batch sibling of a malformed member: %+v", r)
	}
	_, err = c.BatchExecuteStatement(ctx, &dynamodb.BatchExecuteStatementInput{Statements: []types.BatchStatementRequest{}})
	wantCode(t, err, "ValidationException")

	// ConsistentRead is rated per member.
	putItem(item{"pk": S("batch-cr-a"), "val": S("a")})
	putItem(item{"pk": S("batch-cr-b"), "val": S("b")})
	rate := func(members ...types.BatchStatementRequest) float64 {
		t.Helper()
		out, err := c.BatchExecuteStatement(ctx, &dynamodb.BatchExecuteStatementInput{Statements: members, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for _, cc := range out.ConsumedCapacity {
			sum += aws.ToFloat64(cc.CapacityUnits)
		}
		return sum
	}
	sel := func(key string, consistent *bool) types.BatchStatementRequest {
		r := st(`SELECT * FROM "hash" WHERE pk = ?`, S(key))
		r.ConsistentRead = consistent
		return r
	}
	eventual := rate(sel("batch-cr-a", nil))
	consistent := rate(sel("batch-cr-a", aws.Bool(true)))
	if eventual != 0.5 || consistent != 2*eventual || rate(sel("batch-cr-a", aws.Bool(false))) != eventual ||
		rate(sel("batch-cr-a", aws.Bool(true)), sel("batch-cr-b", nil)) != consistent+eventual {
		t.Fatalf("batch ConsistentRead rating: eventual %v, consistent %v", eventual, consistent)
	}

	// A batch SELECT must name the table's primary key, which also keeps
	// index reads out of a batch; the rest of the batch still runs.
	for _, stmt := range []string{
		`SELECT * FROM "hash" WHERE val = 'a'`,
		`SELECT * FROM "partiqlIdx"."gsi-all" WHERE gsiPk = 'x'`,
		`SELECT * FROM "partiqlIdx"."gsi-all" WHERE pk = 'p' AND sk = 's1' AND gsiPk = 'x'`,
	} {
		r := batch(st(stmt)).Responses[0]
		if r.Error == nil || r.Error.Code != types.BatchStatementErrorCodeEnumValidationError || !strings.Contains(aws.ToString(r.Error.Message), "must specify the primary key in the where clause") {
			t.Fatalf("%s: %+v %s", stmt, r.Error, aws.ToString(r.Error.Message))
		}
	}
	putItem(item{"pk": S("batch-pk-ok"), "val": S("here")})
	b = batch(st(`SELECT * FROM "hash" WHERE val = 'nope'`), st(`SELECT * FROM "hash" WHERE pk = 'batch-pk-ok'`))
	if b.Responses[0].Error == nil || b.Responses[0].Error.Code != types.BatchStatementErrorCodeEnumValidationError || b.Responses[1].Item == nil {
		t.Fatalf("batch with a rejected member: %+v", b.Responses)
	}

	// A failed member names its table only if it ran.
	putItem(item{"pk": S("batch-tn-cond"), "val": S("here")})
	r := batch(st(`UPDATE "hash" SET touched = 'yes' WHERE pk = ? AND val = ?`, S("batch-tn-cond"), S("wrong"))).Responses[0]
	if r.Error == nil || r.Error.Code != types.BatchStatementErrorCodeEnumConditionalCheckFailed || aws.ToString(r.TableName) != "hash" {
		t.Fatalf("batch conditional failure: %+v", r)
	}
	putItem(item{"pk": S("batch-tn-dup")})
	r = batch(st(`INSERT INTO "hash" VALUE {'pk': ?}`, S("batch-tn-dup"))).Responses[0]
	if r.Error == nil || r.Error.Code != types.BatchStatementErrorCodeEnumDuplicateItem || aws.ToString(r.TableName) != "hash" {
		t.Fatalf("batch duplicate insert: %+v", r)
	}
	r = batch(st(`SELECT * FROM "hash" WHERE val = 'a'`)).Responses[0]
	if r.Error == nil || r.Error.Code != types.BatchStatementErrorCodeEnumValidationError || r.TableName != nil {
		t.Fatalf("batch member rejected before it ran: %+v", r)
	}

	// ReturnValuesOnConditionCheckFailure is inert on a batch member, unlike
	// on a TransactWriteItems ConditionCheck.
	putItem(item{"pk": S("batch-rvocf"), "val": S("here")})
	for _, setting := range []types.ReturnValuesOnConditionCheckFailure{types.ReturnValuesOnConditionCheckFailureAllOld, types.ReturnValuesOnConditionCheckFailureNone, ""} {
		m := st(`UPDATE "hash" SET touched = 'yes' WHERE pk = ? AND val = ?`, S("batch-rvocf"), S("wrong"))
		m.ReturnValuesOnConditionCheckFailure = setting
		r := batch(m).Responses[0]
		if r.Error == nil || r.Error.Code != types.BatchStatementErrorCodeEnumConditionalCheckFailed || r.Item != nil {
			t.Fatalf("batch RVOCF %q: %+v", setting, r)
		}
	}
	_, err = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{ConditionCheck: &types.ConditionCheck{
		TableName: aws.String("hash"), Key: item{"pk": S("batch-rvocf")}, ConditionExpression: aws.String("val = :v"),
		ExpressionAttributeValues: item{":v": S("wrong")}, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}}})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || len(tce.CancellationReasons) == 0 || tce.CancellationReasons[0].Item == nil {
		t.Fatalf("TransactWriteItems ConditionCheck ALL_OLD: %v", err)
	}

	// ExecuteTransaction.
	tx := func(token string, rcc types.ReturnConsumedCapacity, stmts ...string) (*dynamodb.ExecuteTransactionOutput, error) {
		var ps []types.ParameterizedStatement
		for _, s := range stmts {
			ps = append(ps, types.ParameterizedStatement{Statement: aws.String(s)})
		}
		return c.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: ps, ClientRequestToken: optional(token), ReturnConsumedCapacity: rcc})
	}
	putItem(item{"pk": S("txn-update-1"), "data": S("before")})
	if _, err := tx("", "", `INSERT INTO "hash" VALUE {'pk': 'txn-insert-1', 'data': 'txn-new'}`, `UPDATE "hash" SET data = 'txn-after' WHERE pk = 'txn-update-1'`); err != nil {
		t.Fatal(err)
	}
	if strAttr(getItem("txn-insert-1"), "data") != "txn-new" || strAttr(getItem("txn-update-1"), "data") != "txn-after" {
		t.Fatal("ExecuteTransaction INSERT and UPDATE did not apply")
	}
	putItem(item{"pk": S("txn-dup-1"), "data": S("existing")})
	_, err = tx("", "", `INSERT INTO "hash" VALUE {'pk': 'txn-dup-1', 'data': 'should-fail'}`, `INSERT INTO "hash" VALUE {'pk': 'txn-dup-2', 'data': 'should-rollback'}`)
	wantCode(t, err, "TransactionCanceledException")
	if getItem("txn-dup-2") != nil || strAttr(getItem("txn-dup-1"), "data") != "existing" {
		t.Fatal("ExecuteTransaction with a duplicate INSERT was not rolled back")
	}
	if _, err := tx("", "", `INSERT INTO "hash" VALUE {'pk': 'txn-multi-1', 'data': 'a'}`, `INSERT INTO "hash" VALUE {'pk': 'txn-multi-2', 'data': 'b'}`, `INSERT INTO "hash" VALUE {'pk': 'txn-multi-3', 'data': 'c'}`); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"txn-multi-1": "a", "txn-multi-2": "b", "txn-multi-3": "c"} {
		if strAttr(getItem(k), "data") != v {
			t.Fatalf("%s not inserted", k)
		}
	}

	// An idempotent replay returns the stored result: the write applies once;
	// the first call is charged a transactional write, the replay a
	// transactional read.
	if _, err := exec(`INSERT INTO "hash" VALUE {'pk': 'txn-idem', 'n': 0}`); err != nil {
		t.Fatal(err)
	}
	first, err := tx("et-idem-token", types.ReturnConsumedCapacityIndexes, `UPDATE "hash" SET n = n + 1 WHERE pk = 'txn-idem'`)
	if err != nil {
		t.Fatal(err)
	}
	replay, err := tx("et-idem-token", types.ReturnConsumedCapacityIndexes, `UPDATE "hash" SET n = n + 1 WHERE pk = 'txn-idem'`)
	if err != nil {
		t.Fatal(err)
	}
	if n := getItem("txn-idem")["n"].(*types.AttributeValueMemberN).Value; n != "1" {
		t.Fatalf("replayed transaction applied twice: n = %s", n)
	}
	if len(first.ConsumedCapacity) == 0 || len(replay.ConsumedCapacity) == 0 {
		t.Fatalf("ExecuteTransaction capacity: %+v %+v", first.ConsumedCapacity, replay.ConsumedCapacity)
	}
	if f, r := first.ConsumedCapacity[0], replay.ConsumedCapacity[0]; aws.ToFloat64(f.WriteCapacityUnits) != 2 || f.ReadCapacityUnits != nil ||
		aws.ToFloat64(r.ReadCapacityUnits) != 2 || r.WriteCapacityUnits != nil {
		t.Fatalf("ExecuteTransaction capacity: first read %v write %v, replay read %v write %v",
			aws.ToFloat64(f.ReadCapacityUnits), aws.ToFloat64(f.WriteCapacityUnits), aws.ToFloat64(r.ReadCapacityUnits), aws.ToFloat64(r.WriteCapacityUnits))
	}

	putItem(item{"pk": S("txn-ret-reject"), "data": S("txnold")})
	_, err = tx("", "", `UPDATE "hash" SET data = 'txnnew' WHERE pk = 'txn-ret-reject' RETURNING ALL NEW *`)
	wantCode(t, err, "ValidationException")
	if !strings.Contains(err.Error(), "RETURNING clause is not supported in ExecuteTransaction") || strAttr(getItem("txn-ret-reject"), "data") != "txnold" {
		t.Fatalf("ExecuteTransaction with RETURNING: %v", err)
	}
	_, err = c.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: []types.ParameterizedStatement{}})
	wantCode(t, err, "ValidationException")
	_, err = tx("", "", `SELECT * FROM "partiqlIdx"."gsi-all" WHERE gsiPk = 'x'`)
	wantCode(t, err, "ValidationException")
	if !strings.Contains(err.Error(), "Reads on indices are not supported within transactions") {
		t.Fatalf("ExecuteTransaction index read: %v", err)
	}
	out, err := tx("", "", `SELECT * FROM "partiqlIdx" WHERE pk = 'p' AND sk = 's1'`)
	if err != nil || len(out.Responses) != 1 {
		t.Fatalf("ExecuteTransaction table read: %+v %v", out, err)
	}

	// paritysuite/dynamodb-conformance writeResponses.test.ts: a transaction
	// of writes asked for its capacity returns it beside an empty Responses
	// list.
	out, err = tx("", types.ReturnConsumedCapacityTotal, `UPDATE "hash" SET a = 3 WHERE pk = 'txn-update-1'`)
	if err != nil || out.Responses == nil || len(out.Responses) != 0 || len(out.ConsumedCapacity) != 1 || aws.ToString(out.ConsumedCapacity[0].TableName) != "hash" {
		t.Fatalf("ExecuteTransaction of writes with capacity: %+v %v", out, err)
	}
}

// tests/tier2/partiql/indexQualifier.test.ts: reads through an index
// qualifier, on the suite's partiqlIdx fixture.
func TestConformanceTier2IndexQualifier(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	partiqlIdx(t, c)
	type result struct {
		items      []map[string]types.AttributeValue
		next       *string
		total, tbl float64
		cc         *types.ConsumedCapacity
	}
	run := func(stmt string, limit int32, consistent bool, next *string) (result, error) {
		in := &dynamodb.ExecuteStatementInput{Statement: aws.String(stmt), ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes, NextToken: next}
		if limit > 0 {
			in.Limit = aws.Int32(limit)
		}
		if consistent {
			in.ConsistentRead = aws.Bool(true)
		}
		out, err := c.ExecuteStatement(ctx, in)
		if err != nil {
			return result{}, err
		}
		r := result{items: out.Items, next: out.NextToken, cc: out.ConsumedCapacity}
		if cc := out.ConsumedCapacity; cc != nil {
			r.total = aws.ToFloat64(cc.CapacityUnits)
			if cc.Table != nil {
				r.tbl = aws.ToFloat64(cc.Table.CapacityUnits)
			}
		}
		return r, nil
	}
	sel := func(stmt string) result {
		t.Helper()
		r, err := run(stmt, 0, false, nil)
		if err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		return r
	}
	rejected := func(stmt string) error {
		t.Helper()
		_, err := run(stmt, 0, false, nil)
		if errCode(err) != "ValidationException" {
			t.Fatalf("%s: want ValidationException, got %v", stmt, err)
		}
		return err
	}
	gsi := func(r result, name string) float64 {
		if r.cc == nil || r.cc.GlobalSecondaryIndexes[name].CapacityUnits == nil {
			return 0
		}
		return *r.cc.GlobalSecondaryIndexes[name].CapacityUnits
	}
	lsi := func(r result, name string) float64 {
		if r.cc == nil || r.cc.LocalSecondaryIndexes[name].CapacityUnits == nil {
			return 0
		}
		return *r.cc.LocalSecondaryIndexes[name].CapacityUnits
	}
	attrs := func(it map[string]types.AttributeValue) string {
		var names []string
		for k := range it {
			names = append(names, k)
		}
		sort.Strings(names)
		return strings.Join(names, ",")
	}
	const T = `"partiqlIdx"`

	// Membership: an index read omits an item the index does not hold.
	if got := sortedAttr(sel(`SELECT pk, sk FROM `+T+`."gsi-all" WHERE gsiPk = 'x'`).items, "sk"); got != "s1,s4" {
		t.Fatalf("gsi-all membership: %s", got)
	}
	if got := sortedAttr(sel(`SELECT pk, sk FROM `+T+` WHERE pk = 'p'`).items, "sk"); got != "s1,s2,s3,s4" {
		t.Fatalf("table rows: %s", got)
	}

	// Projection follows the index.
	for stmt, want := range map[string]string{
		`SELECT * FROM ` + T + `."gsi-keys" WHERE gsiPk2 = 'y'`: "gsiPk2,pk,sk",
		`SELECT * FROM ` + T + `."gsi-inc" WHERE gsiPk2 = 'y'`:  "gsiPk2,pk,projattr,sk",
		`SELECT * FROM ` + T + `."lsi-keys" WHERE pk = 'p'`:     "lsiSk2,pk,sk",
	} {
		r := sel(stmt)
		if len(r.items) != 3 {
			t.Fatalf("%s: %d items", stmt, len(r.items))
		}
		for _, it := range r.items {
			if got := attrs(it); got != want {
				t.Fatalf("%s: attributes %s, want %s", stmt, got, want)
			}
		}
	}
	// SELECT * against a non-ALL index does not reach back to the table.
	r := sel(`SELECT * FROM ` + T + `."gsi-keys" WHERE gsiPk2 = 'y'`)
	if r.tbl != 0 || gsi(r, "gsi-keys") != r.total {
		t.Fatalf("gsi-keys capacity: table %v, index %v, total %v", r.tbl, gsi(r, "gsi-keys"), r.total)
	}
	r = sel(`SELECT * FROM ` + T + `."lsi-keys" WHERE pk = 'p'`)
	if r.tbl != 0 || lsi(r, "lsi-keys") != r.total {
		t.Fatalf("lsi-keys capacity: table %v, index %v, total %v", r.tbl, lsi(r, "lsi-keys"), r.total)
	}

	// The reach-back: an LSI serves an unprojected attribute from the table
	// (charged on the table arm); a GSI refuses it.
	r = sel(`SELECT nonproj FROM ` + T + `."lsi-keys" WHERE pk = 'p'`)
	if len(r.items) != 3 || r.tbl <= 0 {
		t.Fatalf("LSI reach-back: %d items, table %v", len(r.items), r.tbl)
	}
	for _, it := range r.items {
		if strAttr(it, "nonproj") == "" {
			t.Fatalf("LSI reach-back item without nonproj: %v", attrs(it))
		}
	}
	rejected(`SELECT nonproj FROM ` + T + `."gsi-inc" WHERE gsiPk2 = 'y'`)
	if r := sel(`SELECT lsiSk2 FROM ` + T + `."lsi-keys" WHERE pk = 'p'`); r.tbl != 0 {
		t.Fatalf("projected-only LSI read charged the table %v", r.tbl)
	}
	none := sel(`SELECT nonproj FROM ` + T + `."lsi-inc" WHERE pk = 'p' AND projattr = 'no-such-value'`)
	all := sel(`SELECT nonproj FROM ` + T + `."lsi-inc" WHERE pk = 'p'`)
	if len(none.items) != 0 || len(all.items) != 3 || none.tbl != all.tbl {
		t.Fatalf("filtered reach-back: %d/%d items, table %v vs %v", len(none.items), len(all.items), none.tbl, all.tbl)
	}
	t.Run("bounded reach-back", func(t *testing.T) {
		t.Skip("known-diff: the suite finds a reach-back of one row charged less than one of three small rows, so DynamoDB rates table fetches per item; eddy rounds the fetched bytes as a whole (here and in Query), a capacity-model change left for later")
		one, err := run(`SELECT nonproj FROM `+T+`."lsi-keys" WHERE pk = 'p'`, 1, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		all, err := run(`SELECT nonproj FROM `+T+`."lsi-keys" WHERE pk = 'p'`, 0, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(one.items) != 1 || one.tbl >= all.tbl {
			t.Fatalf("bounded reach-back: %d items, table %v vs %v", len(one.items), one.tbl, all.tbl)
		}
	})

	// The unprojected-filter rejection turns on the key condition.
	for _, stmt := range []string{
		`SELECT pk FROM ` + T + `."gsi-inc" WHERE gsiPk2 = 'y' AND nonproj = 'np1'`,
		`SELECT pk FROM ` + T + `."lsi-keys" WHERE pk = 'p' AND nonproj = 'np1'`,
		`SELECT pk FROM ` + T + `."gsi-inc" WHERE gsiPk2 = 'y' AND nonproj IS MISSING`,
		`SELECT pk FROM ` + T + `."gsi-inc" WHERE gsiPk2 = 'y' AND nonproj IS NOT MISSING`,
		`SELECT pk FROM ` + T + `."gsi-inc" WHERE gsiPk2 = 'y' AND begins_with(nonproj, 'np')`,
		`SELECT pk FROM ` + T + `."gsi-inc" WHERE gsiPk2 = 'y' AND NOT nonproj = 'np1'`,
		`SELECT pk FROM ` + T + `."gsi-inc" WHERE gsiPk2 IN ['y', 'z'] AND nonproj = 'np1'`,
		`SELECT pk FROM ` + T + `."lsi-keys" WHERE pk = 'p' AND lsiSk2 BETWEEN 'k1' AND 'k4' AND nonproj = 'np1'`,
	} {
		rejected(stmt)
	}
	for stmt, n := range map[string]int{
		`SELECT pk FROM ` + T + `."gsi-inc" WHERE nonproj = 'np1'`:                          0,
		`SELECT pk FROM ` + T + `."lsi-keys" WHERE nonproj = 'np1'`:                         0,
		`SELECT pk FROM ` + T + `."gsi-inc" WHERE nonproj = 'np1' AND nonproj = 'np2'`:      0,
		`SELECT pk FROM ` + T + `."gsi-inc" WHERE gsiPk2 = 'y' AND projattr = 'proj1'`:      1,
		`SELECT pk FROM ` + T + `."gsi-inc" WHERE gsiPk2 = 'y' AND projattr IS NOT MISSING`: 3,
	} {
		if got := len(sel(stmt).items); got != n {
			t.Fatalf("%s: %d items, want %d", stmt, got, n)
		}
	}
	if got := sortedAttr(sel(`SELECT pk, sk FROM `+T+`."gsi-keys" WHERE NOT nonproj = 'np1'`).items, "sk"); got != "s1,s2,s4,s5" {
		t.Fatalf("negated filter on an absent attribute: %s", got)
	}
	r = sel(`SELECT pk, sk FROM ` + T + `."gsi-inc" WHERE (gsiPk2 = 'y' AND nonproj = 'np1') OR (gsiPk2 = 'y2')`)
	if len(r.items) != 1 || strAttr(r.items[0], "sk") != "s5" {
		t.Fatalf("unprojected filter inside OR: %v", sortedAttr(r.items, "sk"))
	}

	// Pagination across a qualified read.
	first, err := run(`SELECT pk, sk FROM `+T+`."gsi-all" WHERE gsiPk = 'x'`, 1, false, nil)
	if err != nil || len(first.items) != 1 || first.next == nil {
		t.Fatalf("bounded index read: %+v %v", first, err)
	}
	second, err := run(`SELECT pk, sk FROM `+T+`."gsi-all" WHERE gsiPk = 'x'`, 0, false, first.next)
	if err != nil {
		t.Fatal(err)
	}
	if got := sortedAttr(append(first.items, second.items...), "sk"); got != "s1,s4" {
		t.Fatalf("index pages: %s", got)
	}
	first, err = run(`SELECT pk, sk FROM `+T+`."gsi-inc" WHERE gsiPk2 = 'y'`, 1, false, nil)
	if err != nil || first.next == nil {
		t.Fatalf("bounded gsi-inc read: %+v %v", first, err)
	}
	_, err = run(`SELECT pk, sk FROM `+T+`."gsi-keys" WHERE gsiPk2 = 'y'`, 0, false, first.next)
	wantCode(t, err, "ValidationException")

	// Writes refuse the qualifier: INSERT at parse, UPDATE and DELETE
	// semantically.
	for stmt, msg := range map[string]string{
		`INSERT INTO ` + T + `."gsi-all" VALUE {'pk': 'w1', 'sk': 'w1'}`:             "FROM clause may only contain a single table name",
		`INSERT INTO ` + T + `."no-such-index" VALUE {'pk': 'w2', 'sk': 'w2'}`:       "FROM clause may only contain a single table name",
		`UPDATE ` + T + `."gsi-all" SET projattr = 'z' WHERE pk = 'p' AND sk = 's1'`: "This operation is not supported on an index",
		`DELETE FROM ` + T + `."gsi-all" WHERE pk = 'p' AND sk = 's1'`:               "This operation is not supported on an index",
	} {
		if err := rejected(stmt); !strings.Contains(err.Error(), msg) {
			t.Fatalf("%s: %v, want %q", stmt, err, msg)
		}
	}
	if got := sortedAttr(sel(`SELECT pk, sk FROM `+T+` WHERE pk = 'p'`).items, "sk"); got != "s1,s2,s3,s4" {
		t.Fatalf("rows after the refused writes: %s", got)
	}

	// Capacity lands on the index arm.
	r = sel(`SELECT pk FROM ` + T + `."gsi-all" WHERE gsiPk = 'x'`)
	if r.tbl != 0 || gsi(r, "gsi-all") <= 0 || gsi(r, "gsi-all") != r.total {
		t.Fatalf("keyed GSI capacity: table %v, index %v, total %v", r.tbl, gsi(r, "gsi-all"), r.total)
	}
	eventual := sel(`SELECT pk FROM ` + T + `."lsi-all" WHERE pk = 'p'`)
	if eventual.tbl != 0 || lsi(eventual, "lsi-all") <= 0 || lsi(eventual, "lsi-all") != eventual.total {
		t.Fatalf("keyed LSI capacity: table %v, index %v, total %v", eventual.tbl, lsi(eventual, "lsi-all"), eventual.total)
	}
	consistent, err := run(`SELECT pk FROM `+T+`."lsi-all" WHERE pk = 'p'`, 0, true, nil)
	if err != nil || lsi(consistent, "lsi-all") != 2*lsi(eventual, "lsi-all") || consistent.total != 2*eventual.total {
		t.Fatalf("consistent LSI read: %v %v vs %v", err, consistent.total, eventual.total)
	}
	ev := sel(`SELECT nonproj FROM ` + T + `."lsi-keys" WHERE pk = 'p'`)
	co, err := run(`SELECT nonproj FROM `+T+`."lsi-keys" WHERE pk = 'p'`, 0, true, nil)
	if err != nil || co.tbl != 2*ev.tbl || lsi(co, "lsi-keys") != 2*lsi(ev, "lsi-keys") {
		t.Fatalf("consistent reach-back: %v table %v vs %v, index %v vs %v", err, co.tbl, ev.tbl, lsi(co, "lsi-keys"), lsi(ev, "lsi-keys"))
	}
	_, err = run(`SELECT pk FROM `+T+`."gsi-all" WHERE gsiPk = 'x'`, 0, true, nil)
	wantCode(t, err, "ValidationException")
}
