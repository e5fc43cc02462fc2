package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// TestRelaysAPIIsPerRegion: the relays API answers in the request's region
// (its SigV4 credential scope, --region when unsigned). Relays carry the
// tables of eddy's --region, so a request signed for another region lists
// none, finds none, and is refused when it enables one, instead of acting
// on the --region table of the same name.
func TestRelaysAPIIsPerRegion(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	do := func(method, path, region, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
		if region != "" {
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/"+region+"/dynamodb/aws4_request, SignedHeaders=host, Signature=00")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if code, out := do("GET", "/eddy/relays", "us-east-2", ""); code != 200 || out["Relays"] == nil || len(out["Relays"].([]any)) != 0 {
		t.Fatalf("us-east-2 list: %d %v", code, out)
	}
	if code, out := do("POST", "/eddy/relays", "us-east-2", `{"Table":"orders"}`); code != 400 || !strings.Contains(out["message"].(string), "us-east-1") {
		t.Fatalf("us-east-2 enable: %d %v", code, out)
	}
	if code, _ := do("GET", "/eddy/relays/orders", "us-east-2", ""); code != 404 {
		t.Fatalf("us-east-2 describe: %d", code)
	}
	// The server's own region still reaches the relays API (here without
	// NATS configured, whose answer is not this test's concern: not the
	// region gate's 400).
	if code, out := do("POST", "/eddy/relays", "us-east-1", `{"Table":"orders"}`); code == 400 && strings.Contains(out["message"].(string), "carry the tables") {
		t.Fatalf("us-east-1 enable refused by the region gate: %v", out)
	}
}
