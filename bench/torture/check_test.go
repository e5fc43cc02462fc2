package main

import (
	"fmt"
	"strings"
	"testing"
)

// The checks bite: each kind of damage a crash could do is reported.

func st(w string, c int) *item { return &item{W: w, V: "v", Customer: "c0", Amount: 1, C: c} }

func collect() (*[]string, func(string, ...any)) {
	var v []string
	return &v, func(f string, a ...any) { v = append(v, fmt.Sprintf(f, a...)) }
}

func TestResolve(t *testing.T) {
	tx := &write{id: "w0-9", kind: "tx", effects: []effect{
		{key: "a", before: st("w0-1", 0), after: st("w0-9", 1)},
		{key: "b", before: nil, after: st("w0-9", 0)},
		{key: "c", before: nil, after: nil}, // delete of an absent item
	}}
	for _, c := range []struct {
		name    string
		got     map[string]*item
		applied bool
		bad     string
	}{
		{"all", map[string]*item{"a": st("w0-9", 1), "b": st("w0-9", 0)}, true, ""},
		{"none", map[string]*item{"a": st("w0-1", 0)}, false, ""},
		{"half", map[string]*item{"a": st("w0-9", 1)}, false, "applied in part"},
	} {
		applied, bad := resolve(tx, c.got)
		if applied != c.applied || !strings.Contains(bad, c.bad) || (c.bad == "") != (bad == "") {
			t.Errorf("%s: applied %v, violation %q", c.name, applied, bad)
		}
	}
}

func TestCheckStream(t *testing.T) {
	m := newModel()
	m.key("a")
	m.apply(&write{id: "w0-1", effects: []effect{{key: "a", before: nil, after: st("w0-1", 0)}}}, true)
	m.apply(&write{id: "w0-2", effects: []effect{{key: "a", before: st("w0-1", 0), after: st("w0-2", 1)}}}, true)
	m.apply(&write{id: "w0-3", effects: []effect{{key: "a", before: st("w0-2", 1), after: nil}}}, true)
	ins := record{seq: 1, event: "INSERT", key: "a", new: st("w0-1", 0)}
	mod := record{seq: 2, event: "MODIFY", key: "a", old: st("w0-1", 0), new: st("w0-2", 1)}
	rem := record{seq: 3, event: "REMOVE", key: "a", old: st("w0-2", 1)}
	for _, c := range []struct {
		name string
		recs []record
		bad  string
	}{
		{"exact", []record{ins, mod, rem}, ""},
		{"missing", []record{ins, rem}, "is REMOVE"},
		{"lost tail", []record{ins, mod}, "has no record"},
		{"duplicate", []record{ins, mod, mod, rem}, "is MODIFY"},
		{"extra", []record{ins, mod, rem, ins}, "beyond the 3 committed changes"},
		{"unknown key", []record{ins, mod, rem, {seq: 4, event: "INSERT", key: "zz", new: st("x", 0)}}, "no write touched"},
	} {
		v, bad := collect()
		checkStream([]*shardRead{{id: "s", records: c.recs}}, m, bad)
		if c.bad == "" && len(*v) > 0 || c.bad != "" && (len(*v) == 0 || !strings.Contains((*v)[0], c.bad)) {
			t.Errorf("%s: %q", c.name, *v)
		}
	}
}

func TestCheckCheckpoints(t *testing.T) {
	order := []*shardRead{{id: "s", start: 5, records: []record{{seq: 7}, {seq: 9}}}}
	for _, c := range []struct {
		pos string
		bad bool
	}{{"5", false}, {"9", false}, {"10", true}} {
		v, bad := collect()
		checkCheckpoints("m", []shardStatus{{ShardID: "s", Position: c.pos}}, order, bad)
		if (len(*v) > 0) != c.bad {
			t.Errorf("position %s: %q", c.pos, *v)
		}
	}
}
