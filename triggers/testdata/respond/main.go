// Command respond is a test guest of event source mappings that answers
// every invocation with the raw JSON in its RESPONSE environment variable
// (a partial batch response in any shape), after reporting the invocation
// to the "calls" sink as {"vs":[...]} (each record's NewImage.v).
package main

import (
	"encoding/json"
	"os"

	"github.com/eddydb/eddy/triggers/guest"
)

func init() {
	guest.Handle(func(payload []byte) ([]byte, error) {
		var ev guest.StreamEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, err
		}
		rep := struct {
			Vs []string `json:"vs"`
		}{}
		for _, r := range ev.Records {
			rep.Vs = append(rep.Vs, r.DynamoDB.NewImage["v"].Str())
		}
		if err := guest.Emit("calls", rep); err != nil {
			return nil, err
		}
		return []byte(os.Getenv("RESPONSE")), nil
	})
}

func main() {}
