package api_test

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

func pqExec(c *dynamodb.Client, stmt string, params ...types.AttributeValue) (*dynamodb.ExecuteStatementOutput, error) {
	in := &dynamodb.ExecuteStatementInput{Statement: aws.String(stmt)}
	if len(params) > 0 {
		in.Parameters = params
	}
	return c.ExecuteStatement(ctx, in)
}

func mustExec(t *testing.T, c *dynamodb.Client, stmt string, params ...types.AttributeValue) []item {
	t.Helper()
	out, err := pqExec(c, stmt, params...)
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	return out.Items
}

const malformed = "Statement wasn't well formed, can't be processed: "

func TestPartiQLWrites(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "pqt", true)
	createTable(t, c, "pqh", false)

	// INSERT with literals of every kind.
	mustExec(t, c, `INSERT INTO "pqt" VALUE {'pk': 'a', 'sk': 1, 'm': {'x': [1, 'two', TRUE, NULL]}, 's': <<'x', 'y'>>, 'ns': <<1, 2.50>>, 'c': 0, 'n': -1.5e2, 'gone': MISSING}`)
	assertItem(t, getItem(t, c, "pqt", item{"pk": S("a"), "sk": N("1")}), item{
		"pk": S("a"), "sk": N("1"), "m": M(item{"x": L(N("1"), S("two"), &types.AttributeValueMemberBOOL{Value: true}, &types.AttributeValueMemberNULL{Value: true})}),
		"s": &types.AttributeValueMemberSS{Value: []string{"x", "y"}}, "ns": &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}},
		"c": N("0"), "n": N("-150"),
	})
	// A second INSERT of the key: DuplicateItemException.
	_, err := pqExec(c, `insert into pqt value {'pk': 'a', 'sk': 1}`)
	apiErr(t, err, "DuplicateItemException", "Duplicate primary key exists in table")

	// Parameters of every attribute type, in INSERT and in WHERE.
	all := allTypes("viaPut")
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("pqh"), Item: all}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range all {
		if n != "pk" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var fields []string
	params := []types.AttributeValue{S("viaPQ")}
	for _, n := range names {
		fields = append(fields, fmt.Sprintf("'%s': ?", n))
		params = append(params, all[n])
	}
	mustExec(t, c, `INSERT INTO pqh VALUE {'pk': ?, `+strings.Join(fields, ", ")+`}`, params...)
	want := getItem(t, c, "pqh", item{"pk": S("viaPut")})
	want["pk"] = S("viaPQ")
	assertItem(t, getItem(t, c, "pqh", item{"pk": S("viaPQ")}), want)
	var conds []string
	for _, n := range names {
		conds = append(conds, `"`+n+`" = ?`)
	}
	got := mustExec(t, c, `SELECT * FROM pqh WHERE pk = ? AND `+strings.Join(conds, " AND "), params...)
	if len(got) != 1 {
		t.Fatalf("select by every type: %d items", len(got))
	}
	assertItem(t, got[0], want)
	_, err = pqExec(c, `SELECT * FROM pqh WHERE pk = ? AND s = ?`, S("x"))
	apiErr(t, err, "ValidationException", "Number of parameters in request and statement don't match.")

	// UPDATE: SET, arithmetic, list_append, set_add, set_delete, REMOVE.
	mustExec(t, c, `UPDATE "pqt" SET a = ?, c = c + 1 SET l = list_append([1], ?) REMOVE n WHERE pk = 'a' AND sk = 1`, S("A"), L(N("2")))
	mustExec(t, c, `UPDATE "pqt" SET s = set_add(s, <<'z'>>), ns = set_delete(ns, <<1>>), m.x[1] = 'deux' WHERE pk = ? AND sk = ?`, S("a"), N("1"))
	assertItem(t, getItem(t, c, "pqt", item{"pk": S("a"), "sk": N("1")}), item{
		"pk": S("a"), "sk": N("1"), "m": M(item{"x": L(N("1"), S("deux"), &types.AttributeValueMemberBOOL{Value: true}, &types.AttributeValueMemberNULL{Value: true})}),
		"s": &types.AttributeValueMemberSS{Value: []string{"x", "y", "z"}}, "ns": &types.AttributeValueMemberNS{Value: []string{"2.5"}},
		"c": N("1"), "a": S("A"), "l": L(N("1"), N("2")),
	})
	// Conditions beyond the key; a missing item; no full key; key updates.
	_, err = pqExec(c, `UPDATE "pqt" SET a = 'x' WHERE pk = 'a' AND sk = 1 AND c = 999`)
	apiErr(t, err, "ConditionalCheckFailedException", "The conditional request failed")
	_, err = pqExec(c, `UPDATE "pqt" SET a = 'x' WHERE pk = 'nobody' AND sk = 1`)
	apiErr(t, err, "ConditionalCheckFailedException", "The conditional request failed")
	if it := getItem(t, c, "pqt", item{"pk": S("nobody"), "sk": N("1")}); it != nil {
		t.Fatalf("UPDATE created %v", it)
	}
	mustExec(t, c, `UPDATE "pqt" SET a = 'ok' WHERE pk = 'a' AND sk = 1 AND attribute_exists(m.x) AND c BETWEEN 0 AND 5 AND a IN ['A', 'B'] AND size(s) = 3 AND contains(s, 'z') AND NOT begins_with(a, 'Z') AND gone IS MISSING`)
	_, err = pqExec(c, `UPDATE "pqt" SET a = 'x' WHERE pk = 'a'`)
	apiErr(t, err, "ValidationException", "Where clause does not contain a mandatory equality on all key attributes")
	_, err = pqExec(c, `UPDATE "pqt" SET a = 'x' WHERE pk = 'a' OR sk = 1`)
	apiErr(t, err, "ValidationException", "Where clause does not contain a mandatory equality on all key attributes")

	// DELETE: extra conditions, then by key, then a missing item (fine).
	_, err = pqExec(c, `DELETE FROM "pqt" WHERE pk = 'a' AND sk = 1 AND c = 42`)
	apiErr(t, err, "ConditionalCheckFailedException", "The conditional request failed")
	mustExec(t, c, `DELETE FROM "pqt" WHERE pk = 'a' AND sk = 1 AND a = 'ok'`)
	if it := getItem(t, c, "pqt", item{"pk": S("a"), "sk": N("1")}); it != nil {
		t.Fatalf("not deleted: %v", it)
	}
	mustExec(t, c, `DELETE FROM "pqt" WHERE pk = 'a' AND sk = 1`)

	// Errors.
	for _, tc := range []struct{ stmt, code, msg string }{
		{`SELECT * FROM "pqt" WHERE pk = 1 foo`, "ValidationException", malformed + "Unexpected token after expression"},
		{`SELECT * FROM "pqt" WHERE`, "ValidationException", malformed + "Unexpected term"},
		{`SELECT * FROM "pqt" WHERE pk = 'p1' AND`, "ValidationException", malformed + "Missing right-hand side expression of infix operator"},
		{`SELECT * FROM "pqt" WHERE ORDER BY pk`, "ValidationException", malformed + "Unexpected keyword"},
		{`SELECT * FROM "pqt" WHERE pk = LIKE`, "ValidationException", malformed + "Unexpected operator"},
		{`DELETE FROM`, "ValidationException", malformed + "Expected identifier for simple path"},
		{`SELECT * FROM "pqt" t WHERE pk = 'x'`, "ValidationException", "Aliasing is not supported"},
		{`UPSERT INTO "pqt" VALUE {'pk': 'x'}`, "ValidationException", malformed + "Expected data manipulation"},
		{`SELECT * FROM "pqt" WHERE pk = 'x`, "ValidationException", malformed},
		{`INSERT INTO "pqt" VALUE {'pk': 'x', 'sk': 1e126}`, "ValidationException", "Number overflow. Attempting to store a number with magnitude larger than supported range under root.sk"},
		{`SELECT * FROM "pqt" WHERE pk = 'x' AND a.b.[1] = 2`, "ValidationException", malformed + "Unexpected path component"},
		{`SELECT * FROM "nope"`, "ResourceNotFoundException", "Requested resource not found"},
		{`INSERT INTO "pqt" VALUE {'pk': 'x'}`, "ValidationException", "Key attribute should be present in the item: Key sk"},
		{`INSERT INTO "pqt" VALUE {'pk': 'x', 'sk': '1'}`, "ValidationException", "Key attribute's data type should match its data type in table's schema: Key sk"},
		{`DELETE FROM "pqt" WHERE pk = 'x' AND sk = 'one'`, "ValidationException", "Key attribute's data type should match its data type in table's schema: Key sk"},
		{`INSERT INTO "pqt" VALUE ['pk', 'x']`, "ValidationException", "Unsupported format in item expression. Please use struct format {...} to express item values for insert statement."},
		{`EXISTS(SELECT * FROM "pqt" WHERE pk = 'a' AND sk = 1)`, "ValidationException", "EXISTS can only be used in ExecuteTransaction write requests."},
		{`SELECT * FROM "pqt" WHERE a = 1 ORDER BY sk`, "ValidationException", "Must have at least one non-optional hash key condition in WHERE clause when using ORDER BY clause."},
		{`UPDATE "pqt" SET pk = 'y' WHERE pk = 'a' AND sk = 1`, "ValidationException", "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"},
	} {
		_, err := pqExec(c, tc.stmt)
		apiErr(t, err, tc.code, tc.msg)
	}
}

func TestPartiQLSelect(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "sel", true)
	pad := strings.Repeat("x", 1000)
	for p := 0; p < 50; p++ {
		var reqs []types.WriteRequest
		for k := 0; k < 4; k++ {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item{
				"pk": S(fmt.Sprintf("p%d", p)), "sk": N(fmt.Sprint(k)), "pad": S(pad),
				"m": M(item{"x": N(fmt.Sprint(p))}), "l": L(S(fmt.Sprint(k)), S("b")),
			}}})
		}
		if _, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"sel": reqs}}); err != nil {
			t.Fatal(err)
		}
	}
	keys := func(items []item) string {
		var out []string
		for _, it := range items {
			out = append(out, it["pk"].(*types.AttributeValueMemberS).Value+"/"+it["sk"].(*types.AttributeValueMemberN).Value)
		}
		return strings.Join(out, " ")
	}
	page := func(stmt string, limit int32, next *string, params ...types.AttributeValue) *dynamodb.ExecuteStatementOutput {
		t.Helper()
		in := &dynamodb.ExecuteStatementInput{Statement: aws.String(stmt), NextToken: next, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal}
		if limit > 0 {
			in.Limit = aws.Int32(limit)
		}
		if len(params) > 0 {
			in.Parameters = params
		}
		out, err := c.ExecuteStatement(ctx, in)
		if err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		return out
	}

	// Equality on the partition key is a Query: it reads that partition
	// only (4 items of ~1 KB: 0.5 units eventually consistent; a scan of the
	// 200 items would cost 25), in sort-key order, and pages by Limit.
	out := page(`SELECT * FROM "sel" WHERE pk = ?`, 3, nil, S("p7"))
	if keys(out.Items) != "p7/0 p7/1 p7/2" || out.NextToken == nil || out.LastEvaluatedKey == nil {
		t.Fatalf("query page 1: %s next=%v", keys(out.Items), out.NextToken)
	}
	if u := *out.ConsumedCapacity.CapacityUnits; u != 0.5 {
		t.Fatalf("query read %v units: not a partition read", u)
	}
	out = page(`SELECT * FROM "sel" WHERE pk = ?`, 3, out.NextToken, S("p7"))
	if keys(out.Items) != "p7/3" || out.NextToken != nil {
		t.Fatalf("query page 2: %s next=%v", keys(out.Items), out.NextToken)
	}
	// A NextToken belongs to its statement (and parameters).
	first := page(`SELECT * FROM "sel" WHERE pk = ?`, 1, nil, S("p8"))
	_, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "sel" WHERE pk = ?`),
		Parameters: []types.AttributeValue{S("p9")}, NextToken: first.NextToken})
	apiErr(t, err, "ValidationException", "")
	// ORDER BY the sort key DESC reads the partition backwards.
	out = page(`SELECT sk FROM "sel" WHERE pk = 'p3' AND sk < 3 ORDER BY sk DESC`, 0, nil)
	if len(out.Items) != 3 || out.Items[0]["sk"].(*types.AttributeValueMemberN).Value != "2" || out.Items[2]["sk"].(*types.AttributeValueMemberN).Value != "0" {
		t.Fatalf("order by desc: %v", out.Items)
	}
	_, err = pqExec(c, `SELECT * FROM "sel" WHERE pk = 'p3' ORDER BY pad`)
	apiErr(t, err, "ValidationException", "Variable reference pad in ORDER BY clause must be part of the primary key")
	// The sort-key term narrows the range: only the 2 items read are charged.
	out = page(`SELECT * FROM "sel" WHERE pk = 'p9' AND sk >= 2 AND sk < 10`, 0, nil)
	if keys(out.Items) != "p9/2 p9/3" {
		t.Fatalf("sort key range: %s", keys(out.Items))
	}
	if u := *out.ConsumedCapacity.CapacityUnits; u != 0.5 { // a scan of the table would read ~210 KB: 26 units
		t.Fatalf("sort-key query read %v units", u)
	}
	out = page(`SELECT * FROM "sel" WHERE pk = 'p9' AND sk BETWEEN 1 AND 2`, 0, nil)
	if keys(out.Items) != "p9/1 p9/2" {
		t.Fatalf("between: %s", keys(out.Items))
	}
	// IN on the partition key: each partition in turn, paged across them.
	var all []item
	var next *string
	for i := 0; ; i++ {
		out = page(`SELECT * FROM "sel" WHERE pk IN ['p1', 'p2', 'p1'] AND sk <> 1`, 3, next)
		all = append(all, out.Items...)
		if next = out.NextToken; next == nil {
			break
		}
		if i > 5 {
			t.Fatal("IN paging does not end")
		}
	}
	if keys(all) != "p1/0 p1/2 p1/3 p2/0 p2/2 p2/3" {
		t.Fatalf("IN: %s", keys(all))
	}

	// Anything else is a Scan with the WHERE as filter, and a projection.
	out = page(`SELECT pk, sk, m.x, l[1] FROM "sel" WHERE sk = 2 AND begins_with(pk, 'p1') AND m.x < 12`, 0, nil)
	sort.Slice(out.Items, func(i, j int) bool { return keys(out.Items[i:i+1]) < keys(out.Items[j:j+1]) })
	if keys(out.Items) != "p1/2 p10/2 p11/2" {
		t.Fatalf("scan filter: %s", keys(out.Items))
	}
	assertItem(t, out.Items[0], item{"pk": S("p1"), "sk": N("2"), "x": N("1"), "l[1]": S("b")})
	if u := *out.ConsumedCapacity.CapacityUnits; u < 20 {
		t.Fatalf("scan read %v units", u)
	}
	// Scan paging with NextToken until the end: every partition once.
	seen := map[string]bool{}
	next = nil
	for i := 0; ; i++ {
		out = page(`SELECT pk FROM "sel" WHERE sk = 3 OR pk = 'nobody'`, 30, next)
		for _, it := range out.Items {
			seen[it["pk"].(*types.AttributeValueMemberS).Value] = true
		}
		if next = out.NextToken; next == nil {
			break
		}
		if i > 10 {
			t.Fatal("scan paging does not end")
		}
	}
	if len(seen) != 50 {
		t.Fatalf("scan pages saw %d partitions", len(seen))
	}
	_, err = c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "sel"`), NextToken: aws.String("garbage!")})
	apiErr(t, err, "ValidationException", "Invalid NextToken")
	// A type that cannot match the key schema finds nothing.
	if items := mustExec(t, c, `SELECT * FROM "sel" WHERE pk = 7`); len(items) != 0 {
		t.Fatalf("pk = 7: %d items", len(items))
	}
}

func TestPartiQLBatch(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "bat", false)
	mustExec(t, c, `INSERT INTO bat VALUE {'pk': 'x', 'v': 1}`)
	out, err := c.BatchExecuteStatement(ctx, &dynamodb.BatchExecuteStatementInput{Statements: []types.BatchStatementRequest{
		{Statement: aws.String(`INSERT INTO bat VALUE {'pk': ?, 'v': 2}`), Parameters: []types.AttributeValue{S("y")}},
		{Statement: aws.String(`INSERT INTO bat VALUE {'pk': 'x'}`)},
		{Statement: aws.String(`UPDATE bat SET v = 9 WHERE pk = 'x' AND v = 5`), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld},
		{Statement: aws.String(`SELECT v FROM bat WHERE pk = 'x'`)},
		{Statement: aws.String(`SELECT * FROM bat WHERE`)},
		{Statement: aws.String(`SELECT * FROM bat WHERE v = 1`)},
		{Statement: aws.String(`SELECT * FROM bat WHERE pk = 'none'`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	r := out.Responses
	if len(r) != 7 {
		t.Fatalf("%d responses", len(r))
	}
	if r[0].Error != nil || getItem(t, c, "bat", item{"pk": S("y")}) == nil {
		t.Fatalf("insert: %+v", r[0].Error)
	}
	if r[1].Error == nil || r[1].Error.Code != types.BatchStatementErrorCodeEnumDuplicateItem || *r[1].Error.Message != "Duplicate primary key exists in table" {
		t.Fatalf("duplicate: %+v", r[1].Error)
	}
	if r[2].Error == nil || r[2].Error.Code != types.BatchStatementErrorCodeEnumConditionalCheckFailed {
		t.Fatalf("condition: %+v", r[2].Error)
	}
	assertItem(t, r[2].Error.Item, item{"pk": S("x"), "v": N("1")})
	if r[3].Error != nil || *r[3].TableName != "bat" {
		t.Fatalf("select: %+v", r[3].Error)
	}
	assertItem(t, r[3].Item, item{"v": N("1")})
	if r[4].Error == nil || r[4].Error.Code != types.BatchStatementErrorCodeEnumValidationError || *r[4].Error.Message != malformed+"Unexpected term" {
		t.Fatalf("syntax: %+v", r[4].Error)
	}
	if r[5].Error == nil || r[5].Error.Code != types.BatchStatementErrorCodeEnumValidationError {
		t.Fatalf("select without key: %+v", r[5].Error)
	}
	if r[6].Error != nil || r[6].Item != nil {
		t.Fatalf("select of a missing item: %+v %v", r[6].Error, r[6].Item)
	}
	many := make([]types.BatchStatementRequest, 26)
	for i := range many {
		many[i].Statement = aws.String(`SELECT * FROM bat WHERE pk = 'x'`)
	}
	_, err = c.BatchExecuteStatement(ctx, &dynamodb.BatchExecuteStatementInput{Statements: many})
	apiErr(t, err, "ValidationException", "")
}

func TestPartiQLTransaction(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	c := s.DDB
	createTable(t, c, "acct", false)
	createTable(t, c, "log", true)
	mustExec(t, c, `INSERT INTO acct VALUE {'pk': 'alice', 'bal': 100}`)
	mustExec(t, c, `INSERT INTO acct VALUE {'pk': 'bob', 'bal': 0}`)
	mustExec(t, c, `INSERT INTO acct VALUE {'pk': 'carol', 'frozen': FALSE}`)
	stmts := func(ss ...string) []types.ParameterizedStatement {
		var out []types.ParameterizedStatement
		for _, s := range ss {
			out = append(out, types.ParameterizedStatement{Statement: aws.String(s)})
		}
		return out
	}
	transfer := func(amount int, token string) error {
		in := &dynamodb.ExecuteTransactionInput{TransactStatements: stmts(
			fmt.Sprintf(`UPDATE acct SET bal = bal - %d WHERE pk = 'alice' AND bal >= %d`, amount, amount),
			fmt.Sprintf(`UPDATE acct SET bal = bal + %d WHERE pk = 'bob'`, amount),
			fmt.Sprintf(`INSERT INTO log VALUE {'pk': 'alice', 'sk': %d}`, amount),
			`EXISTS(SELECT * FROM acct WHERE pk = 'carol' AND frozen = FALSE)`,
		)}
		if token != "" {
			in.ClientRequestToken = aws.String(token)
		}
		_, err := c.ExecuteTransaction(ctx, in)
		return err
	}
	bal := func(who string) string {
		return getItem(t, c, "acct", item{"pk": S(who)})["bal"].(*types.AttributeValueMemberN).Value
	}
	if err := transfer(30, "tok"); err != nil {
		t.Fatal(err)
	}
	if err := transfer(30, "tok"); err != nil { // same token: not applied twice
		t.Fatal(err)
	}
	_, err := c.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{ClientRequestToken: aws.String("tok"),
		TransactStatements: stmts(`DELETE FROM acct WHERE pk = 'alice'`)})
	apiErr(t, err, "IdempotentParameterMismatchException", "")
	capOut, err := c.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		TransactStatements: stmts(`INSERT INTO log VALUE {'pk': 'cap', 'sk': 1}`, `INSERT INTO log VALUE {'pk': 'cap', 'sk': 2}`, `UPDATE acct SET n = 1 WHERE pk = 'carol'`)})
	if err != nil {
		t.Fatal(err)
	}
	caps := map[string]float64{}
	for _, cc := range capOut.ConsumedCapacity {
		caps[*cc.TableName] = *cc.CapacityUnits
	}
	if caps["log"] != 4 || caps["acct"] != 2 || len(capOut.Responses) != 0 { // writes answer no Responses entries
		t.Fatalf("capacity %v, %d responses", caps, len(capOut.Responses))
	}
	if bal("alice") != "70" || bal("bob") != "30" {
		t.Fatalf("after transfer: %s %s", bal("alice"), bal("bob"))
	}
	// Too much: the first statement's condition fails; nothing is applied.
	err = transfer(500, "")
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Fatalf("want TransactionCanceledException, got %v", err)
	}
	var codes []string
	for _, r := range tce.CancellationReasons {
		codes = append(codes, aws.ToString(r.Code))
	}
	if strings.Join(codes, ",") != "ConditionalCheckFailed,None,None,None" {
		t.Fatalf("reasons %v", codes)
	}
	if bal("alice") != "70" || bal("bob") != "30" || getItem(t, c, "log", item{"pk": S("alice"), "sk": N("500")}) != nil {
		t.Fatal("a cancelled transaction changed the tables")
	}
	// The same amount again: the INSERT is a duplicate; EXISTS on a frozen account fails.
	mustExec(t, c, `UPDATE acct SET frozen = TRUE WHERE pk = 'carol'`)
	err = transfer(30, "")
	if !errors.As(err, &tce) {
		t.Fatalf("want TransactionCanceledException, got %v", err)
	}
	codes = codes[:0]
	for _, r := range tce.CancellationReasons {
		codes = append(codes, aws.ToString(r.Code))
	}
	if strings.Join(codes, ",") != "None,None,DuplicateItem,ConditionalCheckFailed" {
		t.Fatalf("reasons %v", codes)
	}
	if bal("alice") != "70" {
		t.Fatal("cancelled transaction applied")
	}

	// Reads: one Item per statement, {} for a missing one.
	out, err := c.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: stmts(
		`SELECT bal FROM acct WHERE pk = 'alice'`, `SELECT * FROM acct WHERE pk = 'zed'`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Responses) != 2 || out.Responses[1].Item != nil {
		t.Fatalf("read responses %+v", out.Responses)
	}
	assertItem(t, out.Responses[0].Item, item{"bal": N("70")})

	_, err = c.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: stmts(
		`SELECT * FROM acct WHERE pk = 'alice'`, `DELETE FROM acct WHERE pk = 'bob'`)})
	apiErr(t, err, "ValidationException", "ExecuteTransaction API does not support both read and write operations in the same request.")
	_, err = c.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: stmts(
		`DELETE FROM acct WHERE pk = 'bob'`, `SELECT * FROM acct WHERE`)})
	apiErr(t, err, "ValidationException", "Validation failed in TransactStatements[1]: "+malformed+"Unexpected term")
	_, err = c.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: stmts(`SELECT * FROM acct WHERE bal = 1`)})
	apiErr(t, err, "ValidationException", "Select statements within ExecuteTransaction must specify the primary key in the where clause.")
	_, err = c.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: stmts(`EXISTS(SELECT * FROM acct WHERE bal = 1)`)})
	apiErr(t, err, "ValidationException", "EXISTS() must contain a single item read with additional condition")
	_, err = c.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: stmts(
		`DELETE FROM acct WHERE pk = 'bob'`, `UPDATE acct SET x = 1 WHERE pk = 'bob'`)})
	apiErr(t, err, "ValidationException", "Transaction request cannot include multiple operations on one item")
	if bal("bob") != "30" {
		t.Fatal("rejected transaction applied")
	}
}
