package store

import (
	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
)

// DynamoDB's key size limits.
const (
	MaxHashKeySize  = 2048
	MaxRangeKeySize = 1024
)

// ValidateKey checks a Key parameter (GetItem, DeleteItem, UpdateItem):
// exactly the key attributes, with the schema's types.
func (t *Table) ValidateKey(key attr.Item) error {
	want := 1
	if t.Range != nil {
		want = 2
	}
	if len(key) != want {
		return ddberr.Validationf("The provided key element does not match the schema")
	}
	for _, ke := range t.KeyElements() {
		v, ok := key[ke.Name]
		if !ok || v.Type() != ke.Type {
			return ddberr.Validationf("The provided key element does not match the schema")
		}
		if err := checkKeyValue(ke, v, ke.Name == t.Hash.Name); err != nil {
			return err
		}
	}
	return nil
}

// ValidateItem checks a whole item (PutItem, the result of UpdateItem):
// key attributes present with the schema's types and sizes, 400 KB limit.
func (t *Table) ValidateItem(it attr.Item) error {
	for _, ke := range t.KeyElements() {
		v, ok := it[ke.Name]
		if !ok {
			return ddberr.Invalidf("Missing the key %s in the item", ke.Name)
		}
		if v.Type() != ke.Type {
			return ddberr.Invalidf("Type mismatch for key %s expected: %s actual: %s", ke.Name, ke.Type, v.Type())
		}
		if err := checkKeyValue(ke, v, ke.Name == t.Hash.Name); err != nil {
			return err
		}
	}
	if err := t.validateIndexKeys(it); err != nil {
		return err
	}
	if attr.ItemSize(it) > attr.MaxItemSize {
		return ddberr.Validationf("Item size has exceeded the maximum allowed size")
	}
	return nil
}

// keySize is the size DynamoDB's key limits measure: the bytes of a string
// or binary value, the stored size of a number.
func keySize(v attr.Value) int {
	switch v.Type() {
	case attr.TypeS:
		return len(v.Str())
	case attr.TypeB:
		return len(v.Bytes())
	}
	return attr.Size(v)
}

func checkKeyValue(ke KeyElement, v attr.Value, hash bool) error {
	size := keySize(v)
	if kind := EmptyKeyKind(v); kind != "" {
		return ddberr.Validationf("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty %s value. Key: %s", kind, ke.Name)
	}
	if hash && size > MaxHashKeySize {
		return ddberr.Invalidf("Size of hashkey has exceeded the maximum size limit of%d bytes", MaxHashKeySize)
	}
	if !hash && size > MaxRangeKeySize {
		return ddberr.Invalidf("Aggregated size of all range keys has exceeded the size limit of %d bytes", MaxRangeKeySize)
	}
	return nil
}

// EmptyKeyKind names an empty string or binary value, which no key may
// hold ("string", "binary"); "" for any other value.
func EmptyKeyKind(v attr.Value) string {
	switch {
	case v.Type() == attr.TypeS && v.Str() == "":
		return "string"
	case v.Type() == attr.TypeB && len(v.Bytes()) == 0:
		return "binary"
	}
	return ""
}

// KeyElements returns the table's key attributes, hash key first.
func (t *Table) KeyElements() []KeyElement {
	if t.Range == nil {
		return []KeyElement{t.Hash}
	}
	return []KeyElement{t.Hash, *t.Range}
}
