package triggers_test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/eddydb/eddy/triggers"
	"github.com/eddydb/eddy/triggers/triggerstest"
)

// TestSandbox: a Go guest that tries to leave its sandbox finds no
// filesystem (reading, listing, writing and changing directory all fail),
// no network (a dial to a listening host port fails and the port sees no
// connection; listening fails) and no environment but its function's
// variables: not the host's, no arguments. (Its net.Listen succeeds: Go's
// wasip1 runtime fakes loopback sockets in the guest's own memory,
// net_fake.go, with no host socket behind them; the dial shows that
// nothing reaches the host.)
func TestSandbox(t *testing.T) {
	if err := os.Setenv("EDDY_HOST_SECRET", "host-only"); err != nil { // the host's environment, which must not leak
		t.Fatal(err)
	}
	defer os.Unsetenv("EDDY_HOST_SECRET")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()

	code, err := triggerstest.Build("sandbox")
	if err != nil {
		t.Fatal(err)
	}
	h := newHost(t, triggers.Deps{})
	ctx := context.Background()
	if _, err := h.CreateFunction(ctx, triggers.FunctionSpec{Name: "escape", Code: code, Handler: "handle",
		Environment: map[string]string{"MINE": "mine"}}); err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(map[string]string{"addr": ln.Addr().String()})
	res, err := h.Invoke(ctx, "escape", "", in)
	if err != nil || res.FunctionError != "" {
		t.Fatalf("invoke: %v %s", err, res.Payload)
	}
	var got struct {
		ReadFile, ReadDir, WriteFile, Chdir, Dial, Listen string
		Env, Args                                         []string
	}
	if err := json.Unmarshal(res.Payload, &got); err != nil {
		t.Fatalf("%v: %s", err, res.Payload)
	}
	t.Logf("the guest got: %s", res.Payload)
	for what, e := range map[string]string{"read /etc/passwd": got.ReadFile, "list /": got.ReadDir, "write /tmp": got.WriteFile,
		"chdir /etc": got.Chdir, "dial the host": got.Dial} {
		if e == "" {
			t.Errorf("%s: succeeded inside the sandbox", what)
		}
	}
	if _, err := os.Stat("/tmp/eddy-sandbox-escape"); err == nil {
		t.Error("the guest wrote a host file")
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("the host port saw %d connections from the guest", n)
	}
	// Its own variables and Lambda's AWS_LAMBDA_FUNCTION_MEMORY_SIZE;
	// nothing of the host's environment.
	if !slices.Equal(got.Env, []string{"MINE=mine", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128"}) {
		t.Errorf("guest environment %q, want only its own variable and its MemorySize", got.Env)
	}
	if len(got.Args) > 1 {
		t.Errorf("guest arguments %q", got.Args)
	}
}
