package partiql

import (
	"errors"
	"strings"
	"testing"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
)

// render prints what a statement compiles to: its kind, target, and the
// expression text its parts translate into.
func render(t *testing.T, st *Statement, params []attr.Value) string {
	t.Helper()
	g, err := NewGen(st, params)
	if err != nil {
		return "error: " + ddberr.As(err).Message
	}
	var b strings.Builder
	b.WriteString(st.Kind.String() + " " + st.Table)
	if st.Index != "" {
		b.WriteString("." + st.Index)
	}
	for _, p := range st.Projection {
		b.WriteString(" proj:" + p.String())
	}
	if st.Kind == Update {
		u, err := g.UpdateText(st)
		if err != nil {
			return "error: " + ddberr.As(err).Message
		}
		b.WriteString(" update:" + u)
	}
	if st.Kind == Insert {
		v, _, err := g.Value(st.Value)
		if err != nil {
			return "error: " + ddberr.As(err).Message
		}
		b.WriteString(" value:")
		for _, n := range attr.SortedNames(v.Map()) {
			b.WriteString(n + "=" + string(attr.AppendJSON(nil, v.Map()[n])) + ";")
		}
	}
	if st.Where != nil {
		c, err := g.Cond(st.Where)
		if err != nil {
			return "error: " + ddberr.As(err).Message
		}
		b.WriteString(" where:" + c)
		if _, err := g.Compiler().Condition(c); err != nil {
			return "compile error: " + ddberr.As(err).Message
		}
	}
	return b.String()
}

func TestParse(t *testing.T) {
	p := []attr.Value{attr.S("x"), attr.N("1")}
	for _, tc := range []struct{ in, want string }{
		{`SELECT * FROM "T"`, `SELECT T`},
		{`select a, "b".c, d[0], e['f'] from T."ix" where pk = ?`, `SELECT T.ix proj:a proj:b.c proj:d[0] proj:e.f where:#p0 = :p0`},
		{`SELECT * FROM T WHERE a = 1 AND (b <> 'x' OR NOT c != TRUE)`, `SELECT T where:(#p0 = :p0) AND ((#p1 <> :p1) OR (NOT (#p2 <> :p2)))`},
		{`SELECT * FROM T WHERE a BETWEEN 0 AND 5 AND b NOT IN [1, 2] AND c IN (3)`, `SELECT T where:((#p0 BETWEEN :p0 AND :p1) AND (NOT (#p1 IN (:p2, :p3)))) AND (#p2 IN (:p4))`},
		{`SELECT * FROM T WHERE a IS MISSING OR b IS NOT MISSING OR c IS NULL`, `SELECT T where:((attribute_not_exists(#p0)) OR (attribute_exists(#p1))) OR (attribute_type(#p2, :p0))`},
		{`SELECT * FROM T WHERE d = MISSING`, `error: MISSING must be compared using IS operator`},
		{`SELECT * FROM T WHERE a`, `error: WHERE clause must contain an expression that resolves to a boolean`},
		{`SELECT * FROM T WHERE a + 1`, `error: Unsupported operator in Condition Expression. Operator: +`},
		{`SELECT * FROM T WHERE foo(a)`, `error: Unrecognized function: foo`},
		{`UPDATE T SET s = set_add(t, <<1>>) WHERE pk = 1`, `error: The first argument to SET_ADD must equal the assignment value`},
		{`INSERT INTO T VALUE {'a': 1, 'a': 2}`, `error: Duplicate keys in tuple. Key: a under root`},
		{`SELECT * FROM T WHERE begins_with(a, 'x') AND contains(b, 1) AND size(c) > 2 AND attribute_type(d, 'S')`, `SELECT T where:(((begins_with(#p0, :p0)) AND (contains(#p1, :p1))) AND (size(#p2) > :p2)) AND (attribute_type(#p3, :p3))`},
		{`SELECT * FROM T WHERE a.b[2].c >= -1.50;`, `SELECT T where:#p0.#p1[2].#p2 >= :p0`},
		{`SELECT * FROM T -- comment
		  WHERE /* c */ a = 1`, `SELECT T where:#p0 = :p0`},
		{`INSERT INTO T VALUE {'pk': ?, 'm': {'x': [1, 'two', <<'a', 'b'>>]}, 'n': NULL, 'b': false, 'gone': MISSING}`, `INSERT T value:b={"BOOL":false};m={"M":{"x":{"L":[{"N":"1"},{"S":"two"},{"SS":["a","b"]}]}}};n={"NULL":true};pk={"S":"x"};`},
		{`UPDATE T SET a = ?, b = b + 1 SET c = list_append(c, [1]) REMOVE d, e[1] WHERE pk = 'k'`, `UPDATE T update:SET #p0 = :p0, #p1 = #p1 + :p1, #p2 = list_append(#p2, :p2) REMOVE #p3, #p4[1] where:#p5 = :p3`},
		{`UPDATE T SET s = set_add(s, <<1>>), t = set_delete(t, ?) WHERE pk = 'k'`, `UPDATE T update:ADD #p0 :p0 DELETE #p1 :p1 where:#p2 = :p2`},
		{`DELETE FROM T WHERE pk = 'k' AND sk = 2`, `DELETE T where:(#p0 = :p0) AND (#p1 = :p1)`},
		{`EXISTS(SELECT * FROM T WHERE pk = 'k' AND a > 0)`, `EXISTS T where:(#p0 = :p0) AND (#p1 > :p1)`},
		{`SELECT * FROM T WHERE pk = 1 ORDER BY sk DESC`, `SELECT T where:#p0 = :p0`},
		{`SELECT * FROM T ORDER BY sk`, `error: ` + malformed + `Unexpected token after expression`},
		{`DELETE FROM T WHERE pk = 1 ORDER BY pk`, `error: ` + malformed + `Unexpected token after expression`},
		{`SELECT * FROM T WHERE "select" = 'x'`, `SELECT T where:#p0 = :p0`},
		{`SELECT * FROM T WHERE a = ? AND b = ? AND c = ?`, `error: Number of parameters in request and statement don't match.`},

		{`SELECT * FROM T WHERE a = 1 b`, `error: ` + malformed + `Unexpected token after expression`},
		{`SELECT * FROM T WHERE a = 1)`, `error: ` + malformed + `Unexpected token after expression`},
		{`SELECT * FROM T WHERE`, `error: ` + malformed + `Unexpected term`},
		{`SELECT * FROM T WHERE NOT`, `error: ` + malformed + `Unexpected term`},
		{`SELECT * FROM T WHERE a = 1 OR`, `error: ` + malformed + `Missing right-hand side expression of infix operator`},
		{`SELECT * FROM T WHERE ORDER BY a`, `error: ` + malformed + `Unexpected keyword`},
		{`SELECT * FROM T WHERE IS NULL`, `error: ` + malformed + `Unexpected operator`},
		{`SELECT * FROM T WHERE a IS FOO`, `error: ` + malformed + `Expected type name`},
		{`SELECT * FROM`, `error: ` + malformed + `Unexpected term`},
		{`DELETE FROM WHERE pk = 'a'`, `error: ` + malformed + `Expected identifier for simple path`},
		{`SELECT * FROM T AS x`, `error: Aliasing is not supported`},
		{`CREATE TABLE T`, `error: ` + malformed + `Expected data manipulation`},
		{``, `error: ` + malformed + `Expected data manipulation`},
		{`SELECT * FROM T WHERE a = 'x`, `error: ` + malformed},
		{`SELECT * FROM T WHERE a = 1 # x`, `error: ` + malformed},
		{`SELECT * FROM T WHERE a = 1 /* x`, `error: ` + malformed},
		{`SELECT * FROM T WHERE a.[1] = 1`, `error: ` + malformed + `Unexpected path component`},
		{`SELECT * FROM T WHERE a = 1e126`, `error: Number overflow. Attempting to store a number with magnitude larger than supported range under root`},
		{`INSERT INTO T VALUE {'l': [1, 1e-131]}`, `error: Number underflow. Attempting to store a number with magnitude smaller than supported range under root.l[1]`},
		{`INSERT INTO T VALUE {'s': <<'a', 'a'>>}`, `error: Input collection contains duplicates`},
		{`INSERT INTO T VALUE {'s': <<'a', 1>>}`, `error: DynamoDB only supports either numbers or strings in bags`},
		{`INSERT INTO T VALUE {'s': <<?>>}`, `error: Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags`},
		{`SELECT * FROM T WHERE a IN [1, 2, 3] AND b = (((1)))`, `SELECT T where:(#p0 IN (:p0, :p1, :p2)) AND (#p1 = :p3)`},
	} {
		st, err := Parse(tc.in)
		var got string
		if err != nil {
			got = "error: " + ddberr.As(err).Message
		} else {
			got = render(t, st, p[:min(st.Params, len(p))]) // one value per ?, as many as p has
		}
		if got != tc.want {
			t.Errorf("%s\n got: %s\nwant: %s", tc.in, got, tc.want)
		}
	}
}

const malformed = "Statement wasn't well formed, can't be processed: "

func TestKeyTerms(t *testing.T) {
	st, err := Parse(`SELECT * FROM T WHERE x = 1 AND 'p' = pk AND sk > 3 AND sk <= 9`)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := NewGen(st, nil)
	vals, ok, err := g.Equality(st.Where, "pk", true)
	if err != nil || !ok || len(vals) != 1 || vals[0].Str() != "p" {
		t.Fatalf("pk: %v %v %v", vals, ok, err)
	}
	kp, err := g.SortKey(st.Where, "sk", attr.TypeN)
	if err != nil || kp == nil || kp.Values[0].Str() != "3" {
		t.Fatalf("sk: %+v %v", kp, err)
	}
	if _, ok, _ := g.Equality(st.Where, "sk", true); ok {
		t.Fatal("sk > 3 is not an equality")
	}
	rest := Without(st.Where, "pk", "x")
	c, _ := g.Cond(rest)
	if c != "(#p0 > :p0) AND (#p0 <= :p1)" {
		t.Fatalf("without: %s", c)
	}
	st, _ = Parse(`DELETE FROM T WHERE pk = 1 AND pk = 2`)
	g, _ = NewGen(st, nil)
	if c, _ := g.Cond(Without(st.Where, "pk")); c != "#p0 = :p0" {
		t.Fatalf("a second key equality must stay a condition: %q", c)
	}
	st, _ = Parse(`SELECT * FROM T WHERE pk = 1 OR pk = 2`)
	g, _ = NewGen(st, nil)
	if _, ok, _ := g.Equality(st.Where, "pk", true); ok {
		t.Fatal("an OR is not a key equality")
	}
	st, _ = Parse(`SELECT * FROM T WHERE pk IN ['a', ?]`)
	g, _ = NewGen(st, []attr.Value{attr.S("b")})
	if vals, ok, _ := g.Equality(st.Where, "pk", true); !ok || len(vals) != 2 || vals[1].Str() != "b" {
		t.Fatalf("IN: %v", vals)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`SELECT a, b.c, d[0] FROM "T"."I" WHERE pk = ? AND sk > ? AND attribute_exists(x)`,
		`INSERT INTO "T" VALUE {'pk': ?, 'a': 1, 'm': {'x': [1, 'two']}, 's': <<1, 2>>}`,
		`UPDATE "T" SET a = ?, b = b + 1 REMOVE c WHERE pk = ? AND sk = ?`,
		`UPDATE T SET s = set_add(s, ?), l = list_append(l, [1]) WHERE pk = 'x'`,
		`DELETE FROM "T" WHERE pk = ? AND NOT (a BETWEEN 1 AND 2 OR b IN [1,2]) AND c IS NOT MISSING`,
		`EXISTS(SELECT * FROM T WHERE pk = 'a' AND size(x) < 3)`,
		`SELECT * FROM T WHERE a = 'it''s' -- c`, `SELECT * FROM T WHERE a = 1e126`, `/* x */ SELECT`,
	} {
		f.Add(s)
	}
	params := []attr.Value{attr.S("x"), attr.N("1"), attr.L(nil), attr.SS([]string{"a"})}
	f.Fuzz(func(t *testing.T, src string) {
		st, err := Parse(src)
		if err != nil {
			var de *ddberr.Error
			if !errors.As(err, &de) || de.Kind != ddberr.KindValidation {
				t.Fatalf("%q: error %T %v", src, err, err)
			}
			return
		}
		g, err := NewGen(st, params)
		if err != nil {
			return
		}
		check := func(err error) {
			var de *ddberr.Error
			if err != nil && (!errors.As(err, &de) || de.Kind != ddberr.KindValidation) {
				t.Fatalf("%q: error %T %v", src, err, err)
			}
		}
		if st.Where != nil {
			if c, err := g.Cond(st.Where); err == nil {
				cond, err := g.Compiler().Condition(c)
				check(err)
				if cond != nil {
					cond.Eval(attr.Item{"pk": attr.S("x")})
				}
			} else {
				check(err)
			}
			_, _, err := g.Equality(st.Where, "pk", true)
			check(err)
			_, err = g.SortKey(st.Where, "sk", attr.TypeN)
			check(err)
		}
		if st.Kind == Update {
			if u, err := g.UpdateText(st); err == nil {
				_, err = g.Compiler().Update(u)
				check(err)
			} else {
				check(err)
			}
		}
		if st.Value != nil {
			_, _, err := g.Value(st.Value)
			check(err)
		}
		Project(st, attr.Item{"a": attr.S("x")})
	})
}

// TestParamsCount: Parameters must match the statement's ? one for one;
// too many are refused as too few are.
func TestParamsCount(t *testing.T) {
	st, err := Parse(`SELECT * FROM T WHERE a = ?`)
	if err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int]error{0: ErrParams, 1: nil, 2: ErrParams} {
		params := make([]attr.Value, n)
		for i := range params {
			params[i] = attr.S("x")
		}
		if _, err := NewGen(st, params); err != want {
			t.Errorf("%d parameters for one ?: %v, want %v", n, err, want)
		}
	}
	st, err = Parse(`SELECT * FROM T WHERE a = 1`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewGen(st, []attr.Value{attr.S("x")}); err != ErrParams {
		t.Errorf("a parameter for no ?: %v, want ErrParams", err)
	}
}
