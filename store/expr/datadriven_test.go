package expr

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eddydb/eddy/attr"
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

type ddCase struct {
	line     int
	cmd      string
	args     []string
	input    string
	expected string
}

func parseCases(t *testing.T, path string) ([]ddCase, [][]string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var cases []ddCase
	var preamble [][]string // blank and comment lines before each case, kept on rewrite
	i := 0
	for i < len(lines) {
		var comments []string
		for i < len(lines) && (lines[i] == "" || strings.HasPrefix(lines[i], "#")) {
			comments = append(comments, lines[i])
			i++
		}
		if i >= len(lines) {
			preamble = append(preamble, comments)
			break
		}
		c := ddCase{line: i + 1}
		f := strings.Fields(lines[i])
		c.cmd, c.args = f[0], f[1:]
		i++
		var in []string
		for i < len(lines) && lines[i] != "----" {
			in = append(in, lines[i])
			i++
		}
		if i >= len(lines) {
			t.Fatalf("%s:%d: missing ----", path, c.line)
		}
		i++
		var out []string
		for i < len(lines) && lines[i] != "" {
			out = append(out, lines[i])
			i++
		}
		c.input = strings.Join(in, "\n")
		c.expected = strings.Join(out, "\n")
		cases = append(cases, c)
		preamble = append(preamble, comments)
	}
	return cases, preamble
}

type ddState struct {
	names  map[string]string
	values map[string]attr.Value
	item   attr.Item
}

func runFile(t *testing.T, path string) {
	cases, preamble := parseCases(t, path)
	st := &ddState{}
	var buf bytes.Buffer
	for i := range cases {
		c := &cases[i]
		got := runCase(t, st, c)
		if *rewrite {
			c.expected = got
		} else if got != c.expected {
			t.Errorf("%s:%d: %s\n%s\ngot:\n%s\nwant:\n%s", path, c.line, c.cmd, c.input, got, c.expected)
		}
	}
	if !*rewrite {
		return
	}
	for i, c := range cases {
		for _, l := range preamble[i] {
			buf.WriteString(l + "\n")
		}
		buf.WriteString(strings.Join(append([]string{c.cmd}, c.args...), " ") + "\n")
		if c.input != "" {
			buf.WriteString(c.input + "\n")
		}
		buf.WriteString("----\n" + c.expected + "\n")
	}
	if len(preamble) > len(cases) {
		for _, l := range preamble[len(cases)] {
			buf.WriteString(l + "\n")
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func runCase(t *testing.T, st *ddState, c *ddCase) string {
	hasArg := func(a string) bool {
		for _, x := range c.args {
			if x == a {
				return true
			}
		}
		return false
	}
	argVal := func(k string) string {
		for _, x := range c.args {
			if v, ok := strings.CutPrefix(x, k+"="); ok {
				return v
			}
		}
		return ""
	}
	switch c.cmd {
	case "reset":
		*st = ddState{}
		return "ok"
	case "names":
		st.names = nil
		if strings.TrimSpace(c.input) == "" {
			return "ok"
		}
		if err := json.Unmarshal([]byte(c.input), &st.names); err != nil {
			t.Fatalf("line %d: names: %v", c.line, err)
		}
		return "ok"
	case "values":
		st.values = nil
		if strings.TrimSpace(c.input) == "" {
			return "ok"
		}
		if err := json.Unmarshal([]byte(c.input), &st.values); err != nil {
			t.Fatalf("line %d: values: %v", c.line, err)
		}
		return "ok"
	case "item":
		st.item = nil
		if strings.TrimSpace(c.input) != "" {
			if err := json.Unmarshal([]byte(c.input), &st.item); err != nil {
				t.Fatalf("line %d: item: %v", c.line, err)
			}
		}
		return "ok"
	}
	comp := NewCompiler(st.names, st.values)
	unused := func(out string) string {
		if !hasArg("unused") {
			return out
		}
		if err := comp.CheckUnused(); err != nil {
			return out + "\n" + errText(t, err)
		}
		return out
	}
	src := c.input
	switch c.cmd {
	case "cond", "filter":
		var cd *Condition
		var err error
		if c.cmd == "cond" {
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
			t.Errorf("line %d: Apply modified the old item", c.line)
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
		if hasArg("old") {
			res += "\nupdated_old: " + itemJSON(ProjectPaths(st.item, u.UpdatedPaths()))
		}
		if hasArg("new") {
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
		if err := kc.Validate(argVal("hash"), argVal("range")); err != nil {
			return errText(t, err)
		}
		out := "hash: " + string(attr.AppendJSON(nil, kc.Hash))
		if kc.Range != nil {
			out += "\nrange: " + kc.Range.Name + " " + [...]string{"", "=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"}[kc.Range.Op]
			for _, v := range kc.Range.Values {
				out += " " + string(attr.AppendJSON(nil, v))
			}
			if m := argVal("match"); m != "" {
				var v attr.Value
				if err := json.Unmarshal([]byte(m), &v); err != nil {
					t.Fatalf("line %d: match: %v", c.line, err)
				}
				out += fmt.Sprintf("\nmatch %s: %v", m, kc.Range.Match(v))
			}
		}
		return unused(out)
	}
	t.Fatalf("line %d: unknown command %q", c.line, c.cmd)
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
