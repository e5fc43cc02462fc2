package api_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func merge(a, b item) item {
	out := item{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }

// assertItem compares items as DynamoDB values (sets unordered).
func assertItem(t *testing.T, got, want map[string]types.AttributeValue) {
	t.Helper()
	var g, w any
	if err := attributevalue.UnmarshalMap(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := attributevalue.UnmarshalMap(want, &w); err != nil {
		t.Fatal(err)
	}
	gj, _ := json.Marshal(normalize(got))
	wj, _ := json.Marshal(normalize(want))
	if string(gj) != string(wj) {
		t.Fatalf("item mismatch\n got: %s\nwant: %s", gj, wj)
	}
}

// normalize renders an item as plain JSON with sets sorted and numbers kept
// as text, so comparisons are exact.
func normalize(it map[string]types.AttributeValue) map[string]any {
	out := map[string]any{}
	for k, v := range it {
		out[k] = normValue(v)
	}
	return out
}

func normValue(v types.AttributeValue) any {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": x.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": x.Value}
	case *types.AttributeValueMemberB:
		return map[string]any{"B": x.Value}
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": x.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": x.Value}
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": sorted(x.Value)}
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": sorted(x.Value)}
	case *types.AttributeValueMemberBS:
		var ss []string
		for _, b := range x.Value {
			ss = append(ss, string(b))
		}
		return map[string]any{"BS": sorted(ss)}
	case *types.AttributeValueMemberL:
		var l []any
		for _, e := range x.Value {
			l = append(l, normValue(e))
		}
		return map[string]any{"L": l}
	case *types.AttributeValueMemberM:
		return map[string]any{"M": normalize(x.Value)}
	}
	return nil
}

func sorted(s []string) []string {
	c := append([]string(nil), s...)
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j] < c[i] {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return c
}
