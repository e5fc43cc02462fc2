package lambdaapi_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// wasmModule hand-assembles a minimal module: memory, _initialize, an
// optional eddy_abi_v1 marker and a "handle" () -> i32 whose body is given.
func wasmModule(marker bool, handleBody []byte) []byte {
	section := func(id byte, content []byte) []byte {
		return append([]byte{id, byte(len(content))}, content...)
	}
	str := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, section(1, []byte{2, 0x60, 0, 0, 0x60, 0, 1, 0x7f})...) // ()->(), ()->i32
	m = append(m, section(3, []byte{3, 0, 0, 1})...)                      // funcs 0,1: ()->(); 2: ()->i32
	m = append(m, section(5, []byte{1, 0, 1})...)                         // memory min 1 page
	exports := []byte{3}
	exports = append(append(exports, str("memory")...), 2, 0)
	exports = append(append(exports, str("_initialize")...), 0, 0)
	exports = append(append(exports, str("handle")...), 0, 2)
	if marker {
		exports[0] = 4
		exports = append(append(exports, str("eddy_abi_v1")...), 0, 1)
	}
	m = append(m, section(7, exports)...)
	body := append([]byte{byte(len(handleBody) + 2), 0}, handleBody...)
	body = append(body, 0x0b)
	code := append([]byte{3, 2, 0, 0x0b, 2, 0, 0x0b}, body...)
	return append(m, section(10, code)...)
}

func TestFaults(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code := guest(t, "kitchen")
	e.create(t, &lambda.CreateFunctionInput{FunctionName: aws.String("ok"), Code: &types.FunctionCode{ZipFile: code}})
	e.create(t, &lambda.CreateFunctionInput{FunctionName: aws.String("bad"), Code: &types.FunctionCode{ZipFile: code},
		Timeout: aws.Int32(1), MemorySize: aws.Int32(128)})
	e.create(t, &lambda.CreateFunctionInput{FunctionName: aws.String("hog"), Code: &types.FunctionCode{ZipFile: code},
		Timeout: aws.Int32(20), MemorySize: aws.Int32(128)})
	e.create(t, &lambda.CreateFunctionInput{FunctionName: aws.String("trap"), Code: &types.FunctionCode{ZipFile: wasmModule(true, []byte{0x00})}})

	stillServed := func(t *testing.T) {
		t.Helper()
		for _, fn := range []string{"ok", "bad", "hog"} {
			if r := e.invoke(t, fn, "", `{"action":"echo"}`); r.funcErr != "" {
				t.Fatalf("%s not served after the fault: %s", fn, r.raw)
			}
		}
	}

	cases := []struct {
		name, fn, payload, errType, msg, log string
		max                                  time.Duration
	}{
		{"infinite loop", "bad", `{"action":"loop"}`, "Sandbox.Timedout", "Task timed out after 1.00 seconds", "", 5 * time.Second},
		{"panic", "bad", `{"action":"panic"}`, "Runtime.Trap", "Runtime trapped: wasm error: unreachable (panic: assignment to entry in nil map)", "goroutine 1", 0},
		{"memory blow-up", "hog", `{"action":"oom"}`, "Runtime.OutOfMemory", "Runtime exited with error: memory limit of 128 MB exceeded (fatal error: out of memory)", "", 0},
		{"unreachable", "trap", `{}`, "Runtime.Trap", "Runtime trapped: wasm error: unreachable", "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			r := e.invoke(t, c.fn, "", c.payload)
			if c.max > 0 && time.Since(start) > c.max {
				t.Fatalf("took %v", time.Since(start))
			}
			msg, _ := r.payload["errorMessage"].(string)
			if r.funcErr != "Unhandled" || r.payload["errorType"] != c.errType ||
				!strings.HasPrefix(msg, "RequestId: ") || !strings.HasSuffix(msg, " Error: "+c.msg) {
				t.Fatalf("got %s %s", r.funcErr, r.raw)
			}
			if !strings.Contains(r.logs, c.log) || !strings.Contains(r.logs, msg+"\n") {
				t.Fatalf("logs: %q", r.logs)
			}
			stillServed(t)
		})
	}

	t.Run("module without the ABI", func(t *testing.T) {
		_, err := e.client.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("noabi"), Role: aws.String("r"),
			Code: &types.FunctionCode{ZipFile: wasmModule(false, []byte{0x41, 0})}}) // i32.const 0
		var ip *types.InvalidParameterValueException
		if !errors.As(err, &ip) || !strings.Contains(ip.ErrorMessage(), `missing export "eddy_abi_v1"`) {
			t.Fatalf("got %v", err)
		}
		_, err = e.client.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("nohandler"), Role: aws.String("r"),
			Handler: aws.String("nope"), Code: &types.FunctionCode{ZipFile: code}})
		if !errors.As(err, &ip) || !strings.Contains(ip.ErrorMessage(), `does not export the handler "nope"`) {
			t.Fatalf("got %v", err)
		}
		stillServed(t)
	})

	t.Run("corrupt wasm", func(t *testing.T) {
		corrupt := append([]byte(nil), code[:len(code)/2]...)
		_, err := e.client.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("corrupt"), Role: aws.String("r"),
			Code: &types.FunctionCode{ZipFile: corrupt}})
		var ip *types.InvalidParameterValueException
		if !errors.As(err, &ip) || !strings.Contains(ip.ErrorMessage(), "Could not compile WebAssembly module") {
			t.Fatalf("got %v", err)
		}
		_, err = e.client.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("garbage"), Role: aws.String("r"),
			Code: &types.FunctionCode{ZipFile: []byte("not a module at all")}})
		var iz *types.InvalidZipFileException
		if !errors.As(err, &iz) {
			t.Fatalf("got %v", err)
		}
		_, err = e.client.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("ok"), ZipFile: zipOf(t, "x.wasm", corrupt)})
		if !errors.As(err, &ip) {
			t.Fatalf("update with corrupt code: %v", err)
		}
		stillServed(t)
	})

	t.Run("update code", func(t *testing.T) {
		if _, err := e.client.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("bad"), ZipFile: wasmModule(true, []byte{0x00})}); err != nil {
			t.Fatal(err)
		}
		if r := e.invoke(t, "bad", "", `{}`); r.payload["errorType"] != "Runtime.Trap" {
			t.Fatalf("new code not used: %s", r.raw)
		}
		if _, err := e.client.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("bad"), ZipFile: code}); err != nil {
			t.Fatal(err)
		}
		stillServed(t)
	})
}
