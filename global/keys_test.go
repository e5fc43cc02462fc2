package global

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/eddydb/eddy/attr"
)

func TestMetaRoundTrip(t *testing.T) {
	keys := attr.Item{"pk": attr.S("a"), "sk": attr.N("1")}
	for _, m := range []meta{
		{TS: 1, Region: "us-east-1"},
		{TS: 1<<62 + 5, Region: "eu-west-1", Deleted: true, Keys: keys},
		{TS: 0, Region: ""},
	} {
		got, err := decodeMeta(m.encode())
		if err != nil {
			t.Fatal(err)
		}
		if got.TS != m.TS || got.Region != m.Region || got.Deleted != m.Deleted || (m.Keys != nil && !attr.ItemsEqual(got.Keys, m.Keys)) {
			t.Errorf("%+v decoded as %+v", m, got)
		}
	}
	if _, err := decodeMeta([]byte{1, 2, 3}); err == nil {
		t.Error("a short meta decoded")
	}
}

// TestNewer: last writer wins by timestamp, then by region name.
func TestNewer(t *testing.T) {
	m := meta{TS: 100, Region: "us-west-2"}
	for _, tc := range []struct {
		ts     int64
		region string
		want   bool
	}{
		{101, "af-south-1", true},
		{99, "zz", false},
		{100, "us-west-2", false}, // the same write again
		{100, "us-east-1", false},
		{100, "us-west-3", true},
	} {
		if got := m.newer(tc.ts, tc.region); got != tc.want {
			t.Errorf("(%d, %s) newer than %+v: %v, want %v", tc.ts, tc.region, m, got, tc.want)
		}
	}
}

// TestTickAfterItem: a local write's timestamp is after the item's last
// one, even one from a region whose clock is far ahead.
func TestTickAfterItem(t *testing.T) {
	m := &Manager{}
	ahead := int64(1) << 60
	if ts := m.tick(ahead); ts <= ahead {
		t.Errorf("tick(%d) = %d", ahead, ts)
	}
	a, b := m.tick(0), m.tick(0)
	if b <= a {
		t.Errorf("ticks %d then %d", a, b)
	}
}

// TestCreateRequest: a replica is created with the source's keys, indexes,
// billing and stream.
func TestCreateRequest(t *testing.T) {
	desc := `{"TableName":"t1","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"g","AttributeType":"N"}],
		"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
		"ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":7,"NumberOfDecreasesToday":0},
		"StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"},
		"GlobalSecondaryIndexes":[{"IndexName":"byG","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"},
			"ProvisionedThroughput":{"ReadCapacityUnits":2,"WriteCapacityUnits":3},"IndexStatus":"ACTIVE"}],
		"TableStatus":"ACTIVE","ItemCount":3}`
	b, err := createRequest(json.RawMessage(desc))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"g","AttributeType":"N"}],` +
		`"GlobalSecondaryIndexes":[{"IndexName":"byG","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"},` +
		`"ProvisionedThroughput":{"ReadCapacityUnits":2,"WriteCapacityUnits":3}}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],` +
		`"ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":7},` +
		`"StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"},"TableName":"t1"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestSubject(t *testing.T) {
	m := &Manager{opts: Options{Subject: "eddyg"}}
	if got := m.subject("a.b-c_d", "us-east-1"); got != "eddyg.chg.a~b-c_d.us-east-1" {
		t.Errorf("subject %s", got)
	}
}

// TestSeenKey: a snapshot's 'r' keys of one origin are under its prefix,
// apart from another origin's whose name extends it, in the meta's order.
func TestSeenKey(t *testing.T) {
	a := seenKey(7, "us-east-1", metaKey(7, attr.S("a"), attr.Value{}))
	b := seenKey(7, "us-east-1", metaKey(7, attr.S("b"), attr.Value{}))
	other := seenKey(7, "us-east-10", metaKey(7, attr.S("a"), attr.Value{}))
	p := seenPrefix(7, "us-east-1")
	if !bytes.HasPrefix(a, p) || !bytes.HasPrefix(b, p) || bytes.HasPrefix(other, p) {
		t.Errorf("prefix %x: keys %x %x, another origin's %x", p, a, b, other)
	}
	if bytes.Compare(a, b) >= 0 {
		t.Errorf("%x not before %x", a, b)
	}
	if string(a[len(p):]) != string(metaKey(7, attr.S("a"), attr.Value{})[len(metaPrefix(7)):]) {
		t.Errorf("%x does not end with the item's key", a)
	}
	// A binary partition key may start with 0xff: still below the end.
	ff := seenKey(7, "us-east-1", metaKey(7, attr.B([]byte{0xff, 0xff}), attr.Value{}))
	if end := prefixEnd(p); bytes.Compare(ff, end) >= 0 || bytes.Compare(other, end) < 0 {
		t.Errorf("end %x: %x not below it, or %x (another origin) below it", end, ff, other)
	}
	if got := prefixEnd([]byte{1, 0xff}); !bytes.Equal(got, []byte{2}) {
		t.Errorf("prefixEnd(01ff) = %x, want 02", got)
	}
}
