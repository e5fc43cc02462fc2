package guest

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

const testEvent = `{"Records":[{"eventID":"1","eventName":"MODIFY","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1",
"eventSourceARN":"arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000",
"dynamodb":{"ApproximateCreationDateTime":1700000000.5,"Keys":{"pk":{"S":"user#1"},"sk":{"N":"1"}},
"NewImage":{"pk":{"S":"user#1"},"sk":{"N":"1"},"name":{"S":"Ada \"L\" \u00e9\ud83d\ude00 <b>"},"tags":{"SS":["a","b"]},"ns":{"NS":["1","2.5"]},
"b":{"B":"AQID"},"bs":{"BS":["AQ==","Ag=="]},"t":{"BOOL":true},"f":{"BOOL":false},"z":{"NULL":true},
"l":{"L":[{"S":"x"},{"N":"-1e3"},{"L":[]},{"M":{}}]},"m":{"M":{"x":{"BOOL":true},"y":{"M":{"z":{"S":""}}}}}},
"SequenceNumber":"000000000000000000001","SizeBytes":180,"StreamViewType":"NEW_AND_OLD_IMAGES"}},
{"eventName":"REMOVE","dynamodb":{"Keys":{"pk":{"S":"k"}},"OldImage":{"pk":{"S":"k"}},"SequenceNumber":"2"}}]}`

func TestParseEvent(t *testing.T) {
	var ev Event
	if err := ParseEvent([]byte(testEvent), &ev); err != nil {
		t.Fatal(err)
	}
	if len(ev.Records) != 2 {
		t.Fatalf("%d records", len(ev.Records))
	}
	r := &ev.Records[0]
	if r.EventName() != "MODIFY" || !r.EventNameIs("MODIFY") || r.SequenceNumber() != "000000000000000000001" ||
		r.ApproximateCreationDateTime() != 1700000000.5 || r.SizeBytes() != 180 || r.AWSRegion() != "us-east-1" {
		t.Fatalf("record members: %+v", r)
	}
	if s, ok := r.NewImage().Get("name").Str(); !ok || s != "Ada \"L\" é😀 <b>" {
		t.Fatalf("name %q %v", s, ok)
	}
	if n, ok := r.Keys().Get("sk").Num(); !ok || n != "1" {
		t.Fatalf("sk %q", n)
	}
	if r.OldImage().Exists() || r.NewImage().Get("nope").Exists() || r.NewImage().Get("t").Type() != "BOOL" {
		t.Fatal("absence")
	}
	rec, err := r.Legacy()
	if err != nil {
		t.Fatal(err)
	}
	// The typed decoding must equal encoding/json's through the exported
	// UnmarshalJSON of every value and the struct tags.
	var want StreamEvent
	if err := json.Unmarshal([]byte(testEvent), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rec, want.Records[0]) {
		t.Fatalf("got  %+v\nwant %+v", rec, want.Records[0])
	}
	img := rec.DynamoDB.NewImage
	if string(img["b"].B) != "\x01\x02\x03" || len(img["l"].L) != 4 || img["l"].L[2].L == nil || img["l"].L[3].M == nil ||
		!img["z"].NULL || *img["f"].BOOL || img["m"].M["y"].M["z"].Str() != "" || img["m"].M["y"].M["z"].S == nil {
		t.Fatalf("values: %+v", img)
	}
	r2, _ := ev.Records[1].Legacy()
	if r2.DynamoDB.NewImage != nil || r2.DynamoDB.OldImage["pk"].Str() != "k" {
		t.Fatalf("REMOVE: %+v", r2)
	}
	// Round trip through the encoder.
	out, err := AppendItem(nil, img)
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeItem(out)
	if err != nil || !reflect.DeepEqual(back, img) {
		t.Fatalf("round trip %s: %v", out, err)
	}
	std, _ := json.Marshal(map[string]string{"s": *img["name"].S})
	if mine := `{"s":` + string(AppendString(nil, *img["name"].S)) + `}`; mine != string(std) {
		t.Fatalf("string encoding %s, encoding/json %s", mine, std)
	}
	plain, err := r.NewImage().AppendPlain(nil)
	var anyv map[string]any
	if err != nil || json.Unmarshal(plain, &anyv) != nil || anyv["sk"] != 1.0 || anyv["z"] != nil || anyv["b"] != "AQID" {
		t.Fatalf("plain %s: %v", plain, err)
	}
}

// TestParseEventMalformed: every prefix of an event and a few broken
// shapes are errors, never panics.
func TestParseEventMalformed(t *testing.T) {
	var ev Event
	for i := range len(testEvent) - 1 {
		if err := ParseEvent([]byte(testEvent[:i]), &ev); err == nil {
			t.Fatalf("prefix of %d bytes accepted", i)
		}
		for _, r := range ev.Records {
			_, _ = r.Legacy()
		}
	}
	for _, s := range []string{`{"Records":[1]}`, `{"Records":[{"dynamodb":[]}]}`, `{"Records":[{"eventName":1}]}`,
		`{"Records":[{"dynamodb":{"Keys":"x"}}]}`, `{"Records":[}`, `{"Records":[{"a":tru}]}`, `[`, `{"a" 1}`, `{"a":01x}`} {
		if err := ParseEvent([]byte(s), &ev); err == nil {
			t.Errorf("%s accepted", s)
		}
	}
	if err := ParseEvent([]byte(` {"Records":null} `), &ev); err != nil || len(ev.Records) != 0 {
		t.Fatal(err)
	}
	for _, s := range []string{`{"S":1}`, `{"B":"!!"}`, `{"BOOL":"x"}`, `{"L":[{"S":2}]}`, `{"SS":[1]}`} {
		if _, err := decodeAV([]byte(s)); err == nil {
			t.Errorf("%s accepted", s)
		}
	}
	if !strings.Contains(string(appendBatchResponse(nil, &BatchResponse{})), "null") {
		t.Fatal("empty response")
	}
}
