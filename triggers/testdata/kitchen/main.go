// Command kitchen is the test guest: the "handle" export dispatches on the
// payload's "action"; the "stream" export is a DynamoDB stream handler.
package main

import (
	"encoding/json"
	"errors"
	"os"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/eddydb/eddy/triggers/guest"
)

type request struct {
	Action string          `json:"action"`
	Table  string          `json:"table"`
	Key    guest.Item      `json:"key"`
	Item   guest.Item      `json:"item"`
	Doc    json.RawMessage `json:"doc"`
	MB     int             `json:"mb"`
	Ops    []string        `json:"ops"`
}

var sink [][]byte // keeps allocations alive for "oom"

func handle(in request) (any, error) {
	switch in.Action {
	case "echo":
		return map[string]any{"input": in, "greeting": os.Getenv("GREETING"), "version": guest.Env("FN_VERSION")}, nil
	case "get":
		item, err := guest.GetItem(in.Table, in.Key)
		return map[string]any{"item": item, "error": errString(err)}, nil
	case "put":
		return map[string]any{"error": errString(guest.PutItem(in.Table, in.Item))}, nil
	case "update":
		var resp json.RawMessage
		err := guest.UpdateItem(map[string]any{
			"TableName": in.Table, "Key": in.Key,
			"UpdateExpression":          "ADD n :one",
			"ExpressionAttributeValues": map[string]guest.AttributeValue{":one": guest.N("1")},
			"ReturnValues":              "ALL_NEW",
		}, &resp)
		return map[string]any{"resp": resp, "error": errString(err)}, nil
	case "delete":
		return map[string]any{"error": errString(guest.DeleteItem(in.Table, in.Key))}, nil
	case "query":
		out, err := guest.Query(map[string]any{
			"TableName":                 in.Table,
			"KeyConditionExpression":    "pk = :pk",
			"ExpressionAttributeValues": map[string]guest.AttributeValue{":pk": in.Key["pk"]},
		})
		if err != nil {
			return map[string]any{"error": errString(err)}, nil
		}
		return map[string]any{"count": out.Count, "items": out.Items}, nil
	case "badop":
		return map[string]any{"error": errString(guest.Call("Scan", map[string]any{"TableName": in.Table}, nil))}, nil
	case "emit":
		return map[string]any{"error": errString(guest.Emit("audit", in.Doc))}, nil
	case "batch": // eddy-abi-v2's call_many: ops are table operations or "emit"
		var b guest.Batch
		for _, op := range in.Ops {
			if op == "emit" {
				b.Emit("audit", in.Doc)
			} else {
				b.Call(op, []byte(`{"TableName":`+strconv.Quote(in.Table)+`,"op":"`+op+`"}`))
			}
		}
		n := b.Len()
		done, err := b.Flush()
		return map[string]any{"calls": n, "done": done, "error": errString(err)}, nil
	case "log":
		guest.Log("hello from the guest, action=%s", in.Action)
		os.Stderr.WriteString("stderr line\n")
		return "logged", nil
	case "fail":
		return nil, errors.New("the handler said no")
	case "loop":
		n := 0
		for {
			n++
		}
	case "panic":
		var m map[string]int
		m["x"] = 1 // nil map write panics
		return nil, nil
	case "oom":
		for i := 0; ; i++ {
			b := make([]byte, 1<<20)
			b[i%len(b)] = 1
			sink = append(sink, b)
		}
	case "runtime": // the GC pacing the SDK chose (gc_wasip1.go)
		gogc := debug.SetGCPercent(100)
		debug.SetGCPercent(gogc)
		return map[string]any{"memsize": os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), "gogc": gogc, "memlimit": debug.SetMemoryLimit(-1)}, nil
	case "churn": // keep mb MB live and allocate 8 times as much garbage
		live := make([][]byte, 0, in.MB)
		for range in.MB {
			live = append(live, make([]byte, 1<<20))
		}
		n := 0
		for i := range 8 * in.MB {
			b := make([]byte, 1<<20)
			b[i%len(b)] = 1
			n += len(b)
		}
		return len(live), nil
	case "alloc":
		for i := 0; i < in.MB; i++ {
			sink = append(sink, make([]byte, 1<<20))
		}
		return len(sink), nil
	}
	return nil, errors.New("unknown action " + strconv.Quote(in.Action))
}

func errString(err error) string {
	var te *guest.TableError
	if errors.As(err, &te) {
		return te.Code() + ": " + te.Message
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// stream handles a DynamoDB stream batch: it logs the records, emits the
// new image of each to the "changes" sink and fails the first record whose
// NewImage has fail=true.
func stream(ev *guest.StreamEvent) (*guest.BatchResponse, error) {
	var resp guest.BatchResponse
	for _, r := range ev.Records {
		if r.DynamoDB.NewImage["fail"].BOOL != nil && *r.DynamoDB.NewImage["fail"].BOOL {
			resp.Fail(r.DynamoDB.SequenceNumber)
			break
		}
		if os.Getenv("QUIET") == "" {
			guest.Log("%s %s %s pk=%s", r.EventName, r.EventSourceARN, r.DynamoDB.SequenceNumber, r.DynamoDB.Keys["pk"].Str())
			if err := guest.Emit("changes", r.DynamoDB.NewImage); err != nil {
				return nil, err
			}
		}
	}
	return &resp, nil
}

func init() {
	// INIT_SLEEP_MS makes a cold start slow (the host's init time tests).
	if ms, err := strconv.Atoi(os.Getenv("INIT_SLEEP_MS")); err == nil {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	guest.HandleJSON(handle)
}

//go:wasmexport stream
func streamExport() int32 {
	return guest.Run(func(p []byte) ([]byte, error) {
		var ev guest.StreamEvent
		if err := json.Unmarshal(p, &ev); err != nil {
			return nil, err
		}
		resp, err := stream(&ev)
		if err != nil {
			return nil, err
		}
		return json.Marshal(resp)
	})
}

func main() {}
