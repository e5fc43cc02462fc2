// Command window is the tumbling-window test guest of event source
// mappings. Per window it sums NewImage.n and counts records in its state;
// on the final invocation of a window it emits to the "windows" sink
// {"start","end","shardId","sum","count","minT","maxT","invokes","early"}.
// With NO_STATE=1 it answers without a state (a failed invocation).
package main

import (
	"os"
	"strconv"

	"github.com/eddydb/eddy/triggers/guest"
)

type event struct {
	Records []guest.StreamRecord `json:"Records"`
	Window  struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"window"`
	State   map[string]string `json:"state"`
	ShardID string            `json:"shardId"`
	ARN     string            `json:"eventSourceARN"`
	Final   bool              `json:"isFinalInvokeForWindow"`
	Early   bool              `json:"isWindowTerminatedEarly"`
}

type response struct {
	State map[string]string `json:"state,omitempty"`
}

type report struct {
	Start   string  `json:"start"`
	End     string  `json:"end"`
	ShardID string  `json:"shardId"`
	ARN     string  `json:"eventSourceARN"`
	Sum     int     `json:"sum"`
	Count   int     `json:"count"`
	MinT    float64 `json:"minT"`
	MaxT    float64 `json:"maxT"`
	Invokes int     `json:"invokes"`
	Early   bool    `json:"early"`
}

func num(m map[string]string, k string) int {
	n, _ := strconv.Atoi(m[k])
	return n
}

func flt(m map[string]string, k string) float64 {
	f, _ := strconv.ParseFloat(m[k], 64)
	return f
}

func handle(ev event) (response, error) {
	st := ev.State
	if st == nil {
		st = map[string]string{}
	}
	if ev.Final {
		err := guest.Emit("windows", report{Start: ev.Window.Start, End: ev.Window.End, ShardID: ev.ShardID, ARN: ev.ARN,
			Sum: num(st, "sum"), Count: num(st, "count"), MinT: flt(st, "minT"), MaxT: flt(st, "maxT"),
			Invokes: num(st, "invokes"), Early: ev.Early})
		return response{}, err
	}
	if os.Getenv("NO_STATE") != "" {
		return response{}, nil
	}
	sum, count, minT, maxT := num(st, "sum"), num(st, "count"), flt(st, "minT"), flt(st, "maxT")
	for _, r := range ev.Records {
		n, _ := strconv.Atoi(r.DynamoDB.NewImage["n"].Num())
		sum += n
		count++
		t := r.DynamoDB.ApproximateCreationDateTime
		if minT == 0 || t < minT {
			minT = t
		}
		maxT = max(maxT, t)
	}
	st["sum"], st["count"] = strconv.Itoa(sum), strconv.Itoa(count)
	st["minT"], st["maxT"] = strconv.FormatFloat(minT, 'f', -1, 64), strconv.FormatFloat(maxT, 'f', -1, 64)
	st["invokes"] = strconv.Itoa(num(st, "invokes") + 1)
	return response{State: st}, nil
}

func init() { guest.HandleJSON(handle) }

func main() {}
