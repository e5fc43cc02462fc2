package dataport

import (
	"testing"

	"github.com/eddydb/eddy/attr"
)

// TestIonRoundTrip: every attribute type, names that must be quoted and
// strings with escapes survive appendIonStruct and decodeIonLine.
func TestIonRoundTrip(t *testing.T) {
	it := attr.Item{
		"S": attr.S("q\" b\\ \t\n\x01 é 😀"), "N": attr.NumberValue(attr.MustNumber("-1.5E+100")), "int": attr.N("103"), "small": attr.NumberValue(attr.MustNumber("1E-130")),
		"B": attr.B([]byte{0, 255}), "T": attr.Bool(true), "F": attr.Bool(false), "Z": attr.Null(),
		"SS": attr.SS([]string{"a", "b"}), "NS": attr.NS([]string{"1", "2.5"}), "BS": attr.BS([][]byte{{1}, {2}}),
		"L":        attr.L([]attr.Value{attr.S(""), attr.L(nil), attr.M(attr.Item{})}),
		"M":        attr.M(attr.Item{"with space": attr.S("x"), "null": attr.S("kw"), "true": attr.Null(), "9lives": attr.N("9")}),
		"$ion_1_0": attr.S("marker as a name"), "$10": attr.S("a symbol ID's look"), "'": attr.S("quote as a name"),
	}
	line := append(appendIonStruct([]byte("$ion_1_0 {Item:"), it), '}')
	got, err := decodeIonLine(line)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if !attr.ItemsEqual(got, it) {
		t.Fatalf("round trip:\n got %v\nwant %v\nline %s", got, it, line)
	}
}

// TestIonDocumentedExample: the Ion line of the developer guide's export
// output page reads as the item it shows.
func TestIonDocumentedExample(t *testing.T) {
	line := `$ion_1_0 {Item:{Authors:$dynamodb_SS::["Author1","Author2"],Dimensions:"8.5 x 11.0 x 1.5",ISBN:"333-3333333333",Id:103.,InPublication:false,PageCount:6d2,Price:2d1,ProductCategory:"Book",Title:"Book 103 Title"}}`
	got, err := decodeIonLine([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := attr.Item{
		"Authors": attr.SS([]string{"Author1", "Author2"}), "Dimensions": attr.S("8.5 x 11.0 x 1.5"), "ISBN": attr.S("333-3333333333"),
		"Id": attr.N("103"), "InPublication": attr.Bool(false), "PageCount": attr.N("600"), "Price": attr.N("20"),
		"ProductCategory": attr.S("Book"), "Title": attr.S("Book 103 Title"),
	}
	if !attr.ItemsEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

// TestIonMalformed: lines that are no item are errors, never a panic.
func TestIonMalformed(t *testing.T) {
	for _, line := range []string{
		`{Item:{a:"x}}`, `{Item:{a:1.,}`, `{Item:[1]}`, `{Other:{}}`, `{Item:{a:{{not base64!}}}}`, `{Item:{a:$dynamodb_SS::[1]}}`,
		`{Item:{a:$dynamodb_NS::["x"]}}`, `{Item:{a:$dynamodb_SS::[]}}`, `{Item:{a:nan}}`, `{Item:{a:+inf}}`, `{Item:{a:1e999999}}`,
		`{Item:{a:"\x4"}}`, `{Item:{a:"\u12"}}`, `{Item:{a:'''x}}`, `{Item:{a:1}} {Item:{a:2}}`, `{Item:{:1}}`, `{`, `}`, `"\`,
		`{Item:{a:` + string(make([]byte, 0)) + `}}`, `{Item:{a:0x}}`, `{Item:{a:-}}`,
	} {
		if _, err := decodeIonLine([]byte(line)); err == nil {
			t.Errorf("%s: no error", line)
		}
	}
}

func FuzzIonLine(f *testing.F) {
	f.Add(`$ion_1_0 {Item:{a:1.,b:"x",c:$dynamodb_SS::["y"],d:{{aGk=}},e:[1,{f:null}]}}`)
	f.Fuzz(func(t *testing.T, line string) {
		_, _ = decodeIonLine([]byte(line))
	})
}
