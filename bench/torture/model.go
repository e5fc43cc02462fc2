package main

import (
	"fmt"
	"strconv"

	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// item is the whole state of one item of the workload's table: every write
// sets all of its attributes, W to the write's unique identifier.
type item struct {
	W        string // identifier of the write that left this state
	V        string // a value; poison ("POISON") for the failing trigger
	Customer string // the view's group
	Amount   int    // summed by the view per INSERT
	C        int    // the counter conditional updates expect
}

func (it *item) String() string {
	if it == nil {
		return "<absent>"
	}
	return fmt.Sprintf("{w=%s v=%s customer=%s amount=%d c=%d}", it.W, it.V, it.Customer, it.Amount, it.C)
}

func same(a, b *item) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func (it *item) av(pk string) map[string]ddb.AttributeValue {
	return map[string]ddb.AttributeValue{
		"pk": &ddb.AttributeValueMemberS{Value: pk}, "w": &ddb.AttributeValueMemberS{Value: it.W},
		"v": &ddb.AttributeValueMemberS{Value: it.V}, "customer": &ddb.AttributeValueMemberS{Value: it.Customer},
		"amount": &ddb.AttributeValueMemberN{Value: strconv.Itoa(it.Amount)},
		"c":      &ddb.AttributeValueMemberN{Value: strconv.Itoa(it.C)},
	}
}

// fromAV decodes a table item; an attribute missing, of another type or
// unexpected is an error (a half-applied write would show as one).
func fromAV(m map[string]ddb.AttributeValue) (string, *item, error) {
	get := func(k string) (string, bool, error) {
		switch v := m[k].(type) {
		case *ddb.AttributeValueMemberS:
			return v.Value, false, nil
		case *ddb.AttributeValueMemberN:
			return v.Value, true, nil
		case nil:
			return "", false, fmt.Errorf("attribute %s missing", k)
		default:
			return "", false, fmt.Errorf("attribute %s of type %T", k, v)
		}
	}
	return decode(len(m), get)
}

// fromStreamAV decodes a stream image (nil when the image is absent).
func fromStreamAV(m map[string]streamtypes.AttributeValue) (string, *item, error) {
	if m == nil {
		return "", nil, nil
	}
	get := func(k string) (string, bool, error) {
		switch v := m[k].(type) {
		case *streamtypes.AttributeValueMemberS:
			return v.Value, false, nil
		case *streamtypes.AttributeValueMemberN:
			return v.Value, true, nil
		case nil:
			return "", false, fmt.Errorf("attribute %s missing", k)
		default:
			return "", false, fmt.Errorf("attribute %s of type %T", k, v)
		}
	}
	return decode(len(m), get)
}

func decode(n int, get func(string) (string, bool, error)) (string, *item, error) {
	var it item
	var pk string
	for _, f := range []struct {
		name string
		num  bool
		s    *string
		n    *int
	}{{"pk", false, &pk, nil}, {"w", false, &it.W, nil}, {"v", false, &it.V, nil}, {"customer", false, &it.Customer, nil},
		{"amount", true, nil, &it.Amount}, {"c", true, nil, &it.C}} {
		s, isNum, err := get(f.name)
		if err != nil {
			return pk, nil, err
		}
		if isNum != f.num {
			return pk, nil, fmt.Errorf("attribute %s: wrong type", f.name)
		}
		if f.num {
			if *f.n, err = strconv.Atoi(s); err != nil {
				return pk, nil, fmt.Errorf("attribute %s: %v", f.name, err)
			}
		} else {
			*f.s = s
		}
	}
	if n != 6 {
		return pk, &it, fmt.Errorf("%d attributes, want 6", n)
	}
	return pk, &it, nil
}

// change is one committed change of an item: the stream must hold exactly
// one record for it, OldImage old and NewImage new.
type change struct {
	w        string // the write's identifier (of the deleting write for a delete)
	old, new *item
	acked    bool // false: an in-doubt write found applied
}

// keyModel is what the model knows of one key.
type keyModel struct {
	cur  *item
	hist []change
}

// effect is what a write does to one key, computed from the model before
// the write: before and after (equal when the write leaves the key as is:
// a failed condition, a delete of an absent item).
type effect struct {
	key           string
	before, after *item
}

// write is one operation of the workload with its effects.
type write struct {
	id      string
	kind    string // put, update, delete, tx
	effects []effect
	// fails: the write carries a condition the model knows to be false,
	// so it must be refused (and change nothing).
	fails bool
}

func (w *write) String() string {
	s := fmt.Sprintf("%s %s", w.kind, w.id)
	if w.fails {
		s += " (condition false by design)"
	}
	for _, e := range w.effects {
		s += fmt.Sprintf("\n    %s: %s -> %s", e.key, e.before, e.after)
	}
	return s
}

// model is every key's acknowledged state and committed history.
type model struct {
	keys map[string]*keyModel
}

func newModel() *model { return &model{keys: map[string]*keyModel{}} }

func (m *model) key(k string) *keyModel {
	km := m.keys[k]
	if km == nil {
		km = &keyModel{}
		m.keys[k] = km
	}
	return km
}

// apply records a write as committed.
func (m *model) apply(w *write, acked bool) {
	if w.fails {
		return
	}
	for _, e := range w.effects {
		if same(e.before, e.after) {
			continue
		}
		km := m.key(e.key)
		km.cur = e.after
		km.hist = append(km.hist, change{w: w.id, old: e.before, new: e.after, acked: acked})
	}
}
