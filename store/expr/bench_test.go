package expr

import (
	"testing"

	"github.com/eddydb/eddy/attr"
)

var benchItem = attr.Item{
	"pk":      attr.S("user#123"),
	"sk":      attr.S("profile"),
	"version": attr.N("41"),
	"name":    attr.S("Ada"),
	"tags":    attr.SS([]string{"a", "b", "c"}),
	"address": attr.M(map[string]attr.Value{"city": attr.S("London"), "zip": attr.S("N1")}),
	"history": attr.L([]attr.Value{attr.N("1"), attr.N("2")}),
}

var benchValues = map[string]attr.Value{
	":v": attr.N("41"), ":one": attr.N("1"), ":city": attr.S("London"), ":tag": attr.S("b"),
	":now": attr.S("2024-01-01"), ":h": attr.L([]attr.Value{attr.N("3")}),
}

// BenchmarkConditionParseEval is the per-write cost of an optimistic-locking
// style ConditionExpression: compile, then evaluate against the stored item.
func BenchmarkConditionParseEval(b *testing.B) {
	const src = "attribute_exists(pk) AND #v = :v AND (address.city = :city OR contains(tags, :tag))"
	names := map[string]string{"#v": "version"}
	b.ReportAllocs()
	for b.Loop() {
		c := NewCompiler(names, benchValues)
		cd, err := c.Condition(src)
		if err != nil {
			b.Fatal(err)
		}
		if ok, _ := cd.Eval(benchItem); !ok {
			b.Fatal("condition false")
		}
	}
}

// BenchmarkUpdateParseApply is the per-write cost of a typical
// UpdateExpression: compile, then apply to the stored item.
func BenchmarkUpdateParseApply(b *testing.B) {
	const src = "SET #v = #v + :one, updatedAt = :now, history = list_append(history, :h) ADD tags :tag2 REMOVE address.zip"
	names := map[string]string{"#v": "version"}
	values := map[string]attr.Value{":one": attr.N("1"), ":now": attr.S("2024-01-01"),
		":h": attr.L([]attr.Value{attr.N("3")}), ":tag2": attr.SS([]string{"d"})}
	b.ReportAllocs()
	for b.Loop() {
		c := NewCompiler(names, values)
		u, err := c.Update(src)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := u.Apply(benchItem); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConditionEval is evaluation alone (a FilterExpression per item).
func BenchmarkConditionEval(b *testing.B) {
	c := NewCompiler(map[string]string{"#v": "version"}, benchValues)
	cd, err := c.Filter("attribute_exists(pk) AND #v = :v AND (address.city = :city OR contains(tags, :tag))")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		cd.Eval(benchItem)
	}
}
