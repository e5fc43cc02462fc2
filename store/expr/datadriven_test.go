package expr

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/datadriven"
	"github.com/eddydb/eddy/internal/ddberr"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected outputs in testdata/")

// The testdata files are sequences of cases in the style of pebble's
// datadriven tests:
//
//	<command> [args...]
//	<input lines>
//	----
//	<expected output lines>
//	<blank line>
//
// State commands (output "ok"):
//
//	names   input: JSON object of ExpressionAttributeNames
//	values  input: JSON object of ExpressionAttributeValues (DynamoDB JSON)
//	item    input: JSON item (DynamoDB JSON); "{}" or nothing for no item
//	reset   clears names, values and item
//
// Expression commands compile the input with a fresh Compiler over the
// current names and values, then:
//
//	cond [unused]     ConditionExpression, evaluated against item: true/false
//	filter [unused]   FilterExpression, same
//	update [unused]   UpdateExpression applied to item: the new item, then
//	                  "updated: <paths>", "touches: <names>"
//	project [unused]  ProjectionExpression applied to item
//	key hash=<name> [range=<name>]  KeyConditionExpression, validated against
//	                  the schema: the partition value and sort-key condition
//
// With "unused", CheckUnused runs after a successful compile. Errors print as
// "error: <message>"; every error must be a *ddberr.Error ValidationException.
func TestDataDriven(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { runFile(t, f) })
	}
}

type ddState struct {
	names  map[string]string
	values map[string]attr.Value
	item   attr.Item
}

func runFile(t *testing.T, path string) {
	f, err := datadriven.Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	st := &ddState{}
	for i := range f.Cases {
		c := &f.Cases[i]
		got := runCase(t, st, c)
		if *rewrite {
			c.Expected = got
		} else if got != c.Expected {
			t.Errorf("%s:%d: %s\n%s\ngot:\n%s\nwant:\n%s", path, c.Line, c.Cmd, c.Input, got, c.Expected)
		}
	}
	if *rewrite {
		if err := f.Write(); err != nil {
			t.Fatal(err)
		}
	}
}

func runCase(t *testing.T, st *ddState, c *datadriven.Case) string {
	switch c.Cmd {
	case "reset":
		*st = ddState{}
		return "ok"
	case "names":
		st.names = nil
		if strings.TrimSpace(c.Input) == "" {
			return "ok"
		}
		if err := json.Unmarshal([]byte(c.Input), &st.names); err != nil {
			t.Fatalf("line %d: names: %v", c.Line, err)
		}
		return "ok"
	case "values":
		st.values = nil
		if strings.TrimSpace(c.Input) == "" {
			return "ok"
		}
		if err := json.Unmarshal([]byte(c.Input), &st.values); err != nil {
			t.Fatalf("line %d: values: %v", c.Line, err)
		}
		return "ok"
	case "item":
		st.item = nil
		if strings.TrimSpace(c.Input) != "" {
			if err := json.Unmarshal([]byte(c.Input), &st.item); err != nil {
				t.Fatalf("line %d: item: %v", c.Line, err)
			}
		}
		return "ok"
	}
	comp := NewCompiler(st.names, st.values)
	unused := func(out string) string {
		if !c.Arg("unused") {
			return out
		}
		if err := comp.CheckUnused(); err != nil {
			return out + "\n" + errText(t, err)
		}
		return out
	}
	src := c.Input
	switch c.Cmd {
	case "cond", "filter":
		var cd *Condition
		var err error
		if c.Cmd == "cond" {
			cd, err = comp.Condition(src)
		} else {
			cd, err = comp.Filter(src)
		}
		if err != nil {
			return errText(t, err)
		}
		ok, err := cd.Eval(st.item)
		if err != nil {
			return errText(t, err)
		}
		return unused(fmt.Sprint(ok))
	case "update":
		u, err := comp.Update(src)
		if err != nil {
			return errText(t, err)
		}
		before := itemJSON(st.item)
		out, err := u.Apply(st.item)
		if itemJSON(st.item) != before {
			t.Errorf("line %d: Apply modified the old item", c.Line)
		}
		if err != nil {
			return unused(errText(t, err))
		}
		var paths []string
		for _, p := range u.UpdatedPaths() {
			paths = append(paths, p.String())
		}
		res := itemJSON(out) + "\nupdated: " + strings.Join(paths, ", ") +
			"\ntouches: " + strings.Join(u.TopLevelNames(), ", ")
		if c.Arg("old") {
			res += "\nupdated_old: " + itemJSON(ProjectPaths(st.item, u.UpdatedPaths()))
		}
		if c.Arg("new") {
			res += "\nupdated_new: " + itemJSON(ProjectPaths(out, u.UpdatedPaths()))
		}
		return unused(res)
	case "project":
		p, err := comp.Projection(src)
		if err != nil {
			return errText(t, err)
		}
		return unused(itemJSON(p.Apply(st.item)))
	case "key":
		kc, err := comp.KeyCondition(src)
		if err != nil {
			return errText(t, err)
		}
		if err := kc.Validate(c.ArgValue("hash"), c.ArgValue("range")); err != nil {
			return errText(t, err)
		}
		out := "hash: " + string(attr.AppendJSON(nil, kc.Hash))
		if kc.Range != nil {
			out += "\nrange: " + kc.Range.Name + " " + [...]string{"", "=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"}[kc.Range.Op]
			for _, v := range kc.Range.Values {
				out += " " + string(attr.AppendJSON(nil, v))
			}
			if m := c.ArgValue("match"); m != "" {
				var v attr.Value
				if err := json.Unmarshal([]byte(m), &v); err != nil {
					t.Fatalf("line %d: match: %v", c.Line, err)
				}
				out += fmt.Sprintf("\nmatch %s: %v", m, kc.Range.Match(v))
			}
		}
		return unused(out)
	}
	t.Fatalf("line %d: unknown command %q", c.Line, c.Cmd)
	return ""
}

func errText(t *testing.T, err error) string {
	var de *ddberr.Error
	if !errors.As(err, &de) || !errors.Is(err, ddberr.Validation) {
		t.Errorf("error is not a ValidationException: %T %v", err, err)
	}
	return "error: " + de.Message
}

// itemJSON renders an item as DynamoDB JSON with sorted keys.
func itemJSON(it attr.Item) string {
	if it == nil {
		return "<nil>"
	}
	var v any
	if err := json.Unmarshal(attr.AppendItemJSON(nil, it), &v); err != nil {
		return "<bad json: " + err.Error() + ">"
	}
	b, _ := json.Marshal(v)
	return string(b)
}
