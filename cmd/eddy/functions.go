package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

const functionsUsage = `usage:
  eddy functions deploy NAME DIR|FILE.wasm|FILE.zip [--handler EXPORT] [--timeout SECONDS] [--memory MB] [--env K=V ...] [--publish]
  eddy functions invoke NAME [--payload JSON] [--qualifier Q] [--logs]
  eddy functions list
  eddy functions logs NAME [--follow] [--since DURATION]
common flags: --endpoint URL (default http://127.0.0.1:8000), --region REGION (default: the server's --region)
deploy creates the function, or updates its code and configuration if it exists. A DIR is a
Go package (package main using github.com/eddydb/eddy/triggers/guest) that deploy builds
for WebAssembly itself (GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared; needs the go
command); a .wasm is zipped for the Lambda API; a .zip is sent as it is.
--env sets the function's whole environment, as Lambda's UpdateFunctionConfiguration does
(variables not given are removed); without --env a redeploy keeps the environment.
logs prints the function's recent log (default --since 10m; the server keeps the
last 10000 events or 4 MiB per function, in memory); --follow waits for more.
"eddy functions SUBCOMMAND -h" lists the subcommand's flags.`

// runFunctions implements "eddy functions ...": a client of the server's
// Lambda API using aws-sdk-go-v2 with static dummy credentials. It returns
// the process exit code.
func runFunctions(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, functionsUsage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	fs := flag.NewFlagSet("eddy functions "+cmd, flag.ContinueOnError)
	endpoint, region := clientFlags(fs)
	// Each subcommand has only its own flags (-h lists them).
	var (
		handler, payload, qualifier string
		timeout, memory             int
		publish, showLogs, follow   bool
		since                       time.Duration
		env                         envFlag
	)
	want := 1
	switch cmd {
	case "deploy":
		want = 2
		fs.StringVar(&handler, "handler", "", "wasm export to call (default \"handle\")")
		fs.IntVar(&timeout, "timeout", 0, "timeout in seconds (default 3)")
		fs.IntVar(&memory, "memory", 0, "memory limit in MB (default 128)")
		fs.BoolVar(&publish, "publish", false, "publish a version")
		fs.Var(&env, "env", "environment variable K=V; repeatable. Replaces the whole environment, as Lambda's UpdateFunctionConfiguration does")
	case "invoke":
		fs.StringVar(&payload, "payload", "{}", "JSON payload")
		fs.StringVar(&qualifier, "qualifier", "", "version or alias")
		fs.BoolVar(&showLogs, "logs", false, "print the log tail to stderr")
	case "list":
		want = 0
	case "logs":
		fs.BoolVar(&follow, "follow", false, "keep printing new log events until interrupted")
		fs.DurationVar(&since, "since", 10*time.Minute, "print log events from this long ago on")
	default:
		fmt.Fprintln(os.Stderr, functionsUsage)
		return 2
	}
	pos, err := parseInterleaved(fs, rest)
	if err != nil {
		return 2
	}
	if len(pos) != want {
		fmt.Fprintln(os.Stderr, functionsUsage)
		return 2
	}
	sdkRegion, creds := signing(*region)
	client := lambda.New(lambda.Options{
		Region:       sdkRegion,
		BaseEndpoint: aws.String(*endpoint),
		Credentials:  creds,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	switch cmd {
	case "deploy":
		err = deploy(ctx, client, pos[0], pos[1], handler, timeout, memory, env, publish)
	case "invoke":
		var failed bool
		failed, err = invoke(ctx, client, pos[0], qualifier, payload, showLogs)
		if err == nil && failed {
			return 1
		}
	case "list":
		err = list(ctx, client)
	case "logs":
		lctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		err = functionLogs(lctx, os.Stdout, logsClient(*endpoint, *region), pos[0], follow, since)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "eddy functions "+cmd+":", err)
		return 1
	}
	return 0
}

// clientFlags are the flags every client subcommand has.
func clientFlags(fs *flag.FlagSet) (endpoint, region *string) {
	return fs.String("endpoint", "http://127.0.0.1:8000", "eddy server URL"),
		fs.String("region", "", regionUsage)
}

// parseInterleaved lets flags follow positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

type envFlag map[string]string

func (e *envFlag) String() string { return fmt.Sprint(map[string]string(*e)) }

func (e *envFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return errors.New("want K=V")
	}
	if *e == nil {
		*e = envFlag{}
	}
	(*e)[k] = v
	return nil
}

func zipWasm(path string) ([]byte, error) {
	code, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(filepath.Base(path))
	if err == nil {
		_, err = w.Write(code)
	}
	if err == nil {
		err = zw.Close()
	}
	return buf.Bytes(), err
}

// codeZip is deploy's code argument as the Lambda API takes it: a
// directory is built as a Go package for wasip1, a .wasm zipped, a .zip
// read as it is.
func codeZip(ctx context.Context, path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	switch {
	case st.IsDir():
		wasm, err := buildGo(ctx, path)
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(filepath.Dir(wasm))
		return zipWasm(wasm)
	case strings.EqualFold(filepath.Ext(path), ".zip"):
		return os.ReadFile(path)
	}
	return zipWasm(path)
}

// buildGo builds the Go package in dir for WebAssembly (wasip1, a reactor
// module) into a temporary directory and returns the .wasm's path. The
// package's own module (dir's go.mod, or the one above it) decides the
// dependencies; a module outside eddy's tree reaches the guest SDK with a
// require of github.com/eddydb/eddy and, until it is published, a replace
// pointing at a checkout (README, "Write a function").
func buildGo(ctx context.Context, dir string) (string, error) {
	if _, err := exec.LookPath("go"); err != nil {
		return "", fmt.Errorf("%s is a directory: building it needs the go command (%v); or pass a .wasm", dir, err)
	}
	tmp, err := os.MkdirTemp("", "eddy-deploy-")
	if err != nil {
		return "", err
	}
	out := filepath.Join(tmp, filepath.Base(filepath.Clean(dir))+".wasm")
	cmd := exec.CommandContext(ctx, "go", "build", "-buildmode=c-shared", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	fmt.Fprintf(os.Stderr, "building %s: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared\n", dir)
	if err := cmd.Run(); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("building %s for wasip1: %w", dir, err)
	}
	return out, nil
}

func deploy(ctx context.Context, c *lambda.Client, name, file, handler string, timeout, memory int, env envFlag, publish bool) error {
	zipped, err := codeZip(ctx, file)
	if err != nil {
		return err
	}
	in := &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Role:         aws.String("arn:aws:iam::000000000000:role/eddy"), // required by the SDK, ignored by eddy
		Runtime:      types.RuntimeProvidedal2023,
		Code:         &types.FunctionCode{ZipFile: zipped},
		Publish:      publish,
	}
	if handler != "" {
		in.Handler = aws.String(handler)
	}
	if timeout > 0 {
		in.Timeout = aws.Int32(int32(timeout))
	}
	if memory > 0 {
		in.MemorySize = aws.Int32(int32(memory))
	}
	if env != nil {
		in.Environment = &types.Environment{Variables: env}
	}
	out, err := c.CreateFunction(ctx, in)
	var conflict *types.ResourceConflictException
	if errors.As(err, &conflict) {
		return redeploy(ctx, c, in, publish)
	}
	if err != nil {
		return err
	}
	fmt.Printf("created %s (version %s, %d bytes, sha256 %s)\n",
		aws.ToString(out.FunctionArn), aws.ToString(out.Version), out.CodeSize, aws.ToString(out.CodeSha256))
	return nil
}

// redeploy updates an existing function's code, then its configuration if
// any configuration flag was given, then publishes if asked.
func redeploy(ctx context.Context, c *lambda.Client, in *lambda.CreateFunctionInput, publish bool) error {
	code, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: in.FunctionName, ZipFile: in.Code.ZipFile})
	if err != nil {
		return err
	}
	fmt.Printf("updated code of %s (%d bytes, sha256 %s)\n", aws.ToString(code.FunctionArn), code.CodeSize, aws.ToString(code.CodeSha256))
	if in.Handler != nil || in.Timeout != nil || in.MemorySize != nil || in.Environment != nil {
		cfg, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
			FunctionName: in.FunctionName, Handler: in.Handler, Timeout: in.Timeout,
			MemorySize: in.MemorySize, Environment: in.Environment,
		})
		if err != nil {
			return err
		}
		fmt.Printf("updated configuration of %s\n", aws.ToString(cfg.FunctionArn))
	}
	if publish {
		v, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: in.FunctionName})
		if err != nil {
			return err
		}
		fmt.Printf("published version %s\n", aws.ToString(v.Version))
	}
	return nil
}

func invoke(ctx context.Context, c *lambda.Client, name, qualifier, payload string, showLogs bool) (failed bool, err error) {
	in := &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(payload), LogType: types.LogTypeTail}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	out, err := c.Invoke(ctx, in)
	if err != nil {
		return false, err
	}
	if showLogs {
		if logs, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult)); err == nil {
			_, _ = os.Stderr.Write(logs)
		}
	}
	_, _ = io.Copy(os.Stdout, bytes.NewReader(out.Payload))
	fmt.Println()
	if out.FunctionError != nil {
		fmt.Fprintf(os.Stderr, "function error: %s (version %s)\n", aws.ToString(out.FunctionError), aws.ToString(out.ExecutedVersion))
		return true, nil
	}
	return false, nil
}

func list(ctx context.Context, c *lambda.Client) error {
	p := lambda.NewListFunctionsPaginator(c, &lambda.ListFunctionsInput{})
	fmt.Printf("%-32s %-8s %-12s %7s %6s %s\n", "NAME", "VERSION", "HANDLER", "TIMEOUT", "MEMORY", "LAST MODIFIED")
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, f := range page.Functions {
			fmt.Printf("%-32s %-8s %-12s %6ds %4dMB %s\n", aws.ToString(f.FunctionName), aws.ToString(f.Version),
				aws.ToString(f.Handler), aws.ToInt32(f.Timeout), aws.ToInt32(f.MemorySize), aws.ToString(f.LastModified))
		}
	}
	return nil
}
