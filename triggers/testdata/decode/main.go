// Command decode is the decode-only handler of the handler benchmarks: it
// reads every record's SequenceNumber, Keys.pk and NewImage.v and writes
// nothing. "handle" decodes every record into typed values
// (guest.HandleStream), "reused" too into the previous invocation's
// (guest.HandleStreamReused); "lazy" reads only those members (guest.Event).
// "echo" answers what it read of every record, and "echotyped" its
// records as "reused" decodes them, for the host's tests;
// "scan" reads the event and nothing of its records.
package main

import (
	"encoding/json"
	"strconv"

	"github.com/eddydb/eddy/triggers/guest"
)

var sink int

func typed(ev *guest.StreamEvent) (*guest.BatchResponse, error) {
	for _, r := range ev.Records {
		sink += len(r.DynamoDB.SequenceNumber) + len(r.DynamoDB.Keys["pk"].Str()) + len(r.DynamoDB.NewImage["v"].Str())
	}
	return &guest.BatchResponse{}, nil
}

func lazy(ev *guest.Event) (*guest.BatchResponse, error) {
	for i := range ev.Records {
		r := &ev.Records[i]
		pk, _ := r.Keys().Get("pk").Str()
		v, _ := r.NewImage().Get("v").Str()
		sink += len(r.SequenceNumber()) + len(pk) + len(v)
	}
	return &guest.BatchResponse{}, nil
}

var lazyHandler = guest.RecordsHandler(lazy)

var reusedHandler = guest.ReusedStreamHandler(typed)

// echotyped answers its event's records as HandleStreamReused decoded
// them (JSON), for the host's tests.
var (
	typedOut  []byte
	echoTyped = guest.ReusedStreamHandler(func(ev *guest.StreamEvent) (*guest.BatchResponse, error) {
		var err error
		typedOut, err = json.Marshal(ev.Records)
		return nil, err
	})
)

//go:wasmexport echotyped
func echoTypedExport() int32 {
	return guest.RunRecords(func(p []byte) ([]byte, error) {
		_, err := echoTyped(p)
		return typedOut, err
	})
}

//go:wasmexport reused
func reusedExport() int32 { return guest.RunRecords(reusedHandler) }

//go:wasmexport lazy
func lazyExport() int32 { return guest.RunRecords(lazyHandler) }

// echo answers {"indexed":bool,"records":[...]} with, per record, its
// sequence number, event name, keys and new image as plain JSON, the S or
// N of its "pk" and its old image's attribute names.
var echo = guest.Handler(func(p []byte) ([]byte, error) {
	var ev guest.Event
	if err := guest.ParseEvent(p, &ev); err != nil {
		return nil, err
	}
	return echoEvent(&ev)
})

func echoEvent(ev *guest.Event) ([]byte, error) {
	out := append([]byte(`{"indexed":`), strconv.FormatBool(ev.Indexed())...)
	out = append(out, `,"records":[`...)
	for i := range ev.Records {
		r := &ev.Records[i]
		if i > 0 {
			out = append(out, ',')
		}
		out = guest.AppendString(append(out, `{"seq":`...), r.SequenceNumber())
		out = guest.AppendString(append(out, `,"name":`...), r.EventName())
		var err error
		if out, err = r.Keys().AppendPlain(append(out, `,"keys":`...)); err != nil {
			return nil, err
		}
		if r.NewImage().Exists() {
			if out, err = r.NewImage().AppendPlain(append(out, `,"new":`...)); err != nil {
				return nil, err
			}
		}
		pk, ok := r.Keys().Get("pk").Str()
		if !ok {
			pk, _ = r.Keys().Get("pk").Num()
		}
		out = guest.AppendString(append(out, `,"pk":`...), pk)
		out = append(out, `,"old":[`...)
		n := 0
		_ = r.OldImage().Each(func(name string, _ guest.Value) bool {
			if n++; n > 1 {
				out = append(out, ',')
			}
			out = guest.AppendString(out, name)
			return true
		})
		out = append(out, "]}"...)
	}
	return append(out, "]}"...), nil
}

var recordsEcho = guest.Handler(func(p []byte) ([]byte, error) {
	var out []byte
	_, err := guest.RecordsHandler(func(ev *guest.Event) (*guest.BatchResponse, error) {
		var err error
		out, err = echoEvent(ev)
		return nil, err
	})(p)
	return out, err
})

//go:wasmexport echo
func echoExport() int32 { return guest.RunRecords(recordsEcho) }

//go:wasmexport echoscan
func echoScanExport() int32 { return guest.Run(echo) }

var scanOnly = guest.RecordsHandler(func(ev *guest.Event) (*guest.BatchResponse, error) {
	sink += len(ev.Records)
	return nil, nil
})

//go:wasmexport scan
func scanExport() int32 { return guest.RunRecords(scanOnly) }

func init() { guest.HandleStream(typed) }

func main() {}
