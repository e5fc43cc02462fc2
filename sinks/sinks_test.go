package sinks_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/sinks"
	"github.com/eddydb/eddy/triggers/triggerstest"
)

var ctx = context.Background()

func TestParseSinks(t *testing.T) {
	for _, bad := range [][]string{{"noequals"}, {"=http://x"}, {"a=ftp://x"}, {"a=nats://127.0.0.1:4222"}, {"a=http://x", "a=http://y"}} {
		if _, err := sinks.ParseSinks(bad); err == nil {
			t.Errorf("ParseSinks(%q) accepted", bad)
		}
	}
	if _, err := sinks.ParseSinks([]string{"search=http://127.0.0.1:9200/idx/_doc", "bus=nats://127.0.0.1:4222/docs"}); err != nil {
		t.Fatal(err)
	}
}

// emitThrough deploys the kitchen guest and has it emit doc to sink
// "audit"; it returns the guest's error string ("" when the emit worked).
func emitThrough(t *testing.T, s *eddytest.Server, doc string) string {
	t.Helper()
	lc := lambda.NewFromConfig(s.Config())
	if _, err := lc.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("kitchen")}); err != nil {
		code, err := triggerstest.Build("kitchen")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("kitchen"), Handler: aws.String("handle"),
			Runtime: ltypes.RuntimeProvidedal2023, Role: aws.String("arn:aws:iam::000000000000:role/x"), Code: &ltypes.FunctionCode{ZipFile: code}}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := lc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("kitchen"), Payload: []byte(`{"action":"emit","doc":` + doc + `}`)})
	if err != nil || out.FunctionError != nil {
		t.Fatalf("invoke: %v %s", err, out.Payload)
	}
	var r struct{ Error string }
	if err := json.Unmarshal(out.Payload, &r); err != nil {
		t.Fatalf("%s: %v", out.Payload, err)
	}
	return r.Error
}

func TestHTTPSink(t *testing.T) {
	var mu sync.Mutex
	var got []string
	fail := false
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if fail {
			http.Error(w, "index is read-only", http.StatusForbidden)
			return
		}
		if r.URL.Path != "/orders/_doc" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request "+r.URL.Path, http.StatusBadRequest)
			return
		}
		got = append(got, string(b))
	}))
	defer target.Close()
	ss, err := sinks.ParseSinks([]string{"audit=" + target.URL + "/orders/_doc"})
	if err != nil {
		t.Fatal(err)
	}
	s := eddytest.Start(t, server.Options{Sinks: ss})
	if e := emitThrough(t, s, `{"id":"o1","total":12.5}`); e != "" {
		t.Fatalf("emit: %s", e)
	}
	mu.Lock()
	if len(got) != 1 || got[0] != `{"id":"o1","total":12.5}` {
		t.Fatalf("target received %q", got)
	}
	fail = true
	mu.Unlock()
	if e := emitThrough(t, s, `{"id":"o2"}`); !strings.Contains(e, "403") || !strings.Contains(e, "index is read-only") {
		t.Fatalf("a refused document must reach the guest as an error, got %q", e)
	}
}

func TestNATSSink(t *testing.T) {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(5 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	sub, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	msgs := make(chan *nats.Msg, 4)
	if _, err := sub.ChanSubscribe("search.docs", msgs); err != nil {
		t.Fatal(err)
	}
	if err := sub.Flush(); err != nil {
		t.Fatal(err)
	}
	ss, err := sinks.ParseSinks([]string{"audit=" + ns.ClientURL() + "/search.docs"})
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	s := eddytest.Start(t, server.Options{Sinks: ss})
	if e := emitThrough(t, s, `{"id":"a"}`); e != "" {
		t.Fatalf("emit: %s", e)
	}
	select {
	case m := <-msgs:
		if string(m.Data) != `{"id":"a"}` {
			t.Fatalf("got %q", m.Data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message on search.docs")
	}
}
