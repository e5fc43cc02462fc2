package cwlogs_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/mappings"
)

// TestFailingHandlerLogs: a stream handler fails on a poison record and its
// mapping retries it (forever); the error text is found through the
// CloudWatch Logs API with the SDK, the AWS CLI's filter-log-events and
// get-log-events, and `aws logs tail` (plain and --follow) when the CLI on
// this machine has it (CLI v2: Debian's /usr/bin/aws).
func TestFailingHandlerLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm guest")
	}
	s := eddytest.Start(t, server.Options{Mappings: mappings.Options{RetryBackoff: 200 * time.Millisecond, MaxRetryBackoff: time.Second}})
	ctx := context.Background()
	arn := s.StreamTable(t, "src")
	s.DeployGuest(t, "poisoned", "esm", map[string]string{"QUIET": "1", "FAIL_ON": "bad"})
	s.Mapping(t, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("poisoned"), EventSourceArn: aws.String(arn),
		MaximumRetryAttempts: aws.Int32(-1)})
	if _, err := s.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("src"), Item: map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: "k"}, "v": &ddbtypes.AttributeValueMemberS{Value: "bad"}}}); err != nil {
		t.Fatal(err)
	}
	const group = "/aws/lambda/poisoned"

	// The SDK: the error shows up once per attempt while the mapping retries.
	cw := cloudwatchlogs.NewFromConfig(s.Config())
	var events []cwtypes.FilteredLogEvent
	eddytest.WaitFor(t, "three failed attempts in the log", 60*time.Second, func() bool {
		out, err := cw.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group),
			FilterPattern: aws.String(`"poison record bad"`)})
		var nf *cwtypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return false // no invocation yet
		}
		if err != nil {
			t.Fatal(err)
		}
		events = out.Events
		return len(events) >= 3
	})
	stream := aws.ToString(events[0].LogStreamName)
	if !strings.HasPrefix(stream, time.Now().UTC().Format("2006/01/02")+"/[$LATEST]") || len(stream) != len("2006/01/02/[$LATEST]")+32 {
		t.Fatalf("log stream name %q", stream)
	}
	if msg := aws.ToString(events[0].Message); !strings.Contains(msg, `"errorMessage":"poison record bad"`) {
		t.Fatalf("message %q", msg)
	}
	_, err := cw.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/none")})
	var nf *cwtypes.ResourceNotFoundException
	if !errors.As(err, &nf) || aws.ToString(nf.Message) != "The specified log group does not exist." {
		t.Fatalf("unknown group: %v", err)
	}
	streams, err := cw.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(group)})
	if err != nil || len(streams.LogStreams) == 0 {
		t.Fatalf("DescribeLogStreams: %v %+v", err, streams)
	}

	// The AWS CLI (v1 or v2): filter-log-events and get-log-events.
	env := eddytest.AWSCLIEnv(t)
	clis := cliCandidates()
	if len(clis) == 0 {
		t.Skip("no AWS CLI (aws) installed")
	}
	for _, cli := range clis {
		out := runCLI(t, env, cli.path, s.URL(), "logs", "filter-log-events", "--log-group-name", group,
			"--filter-pattern", `"poison record"`, "--output", "json")
		var fl struct {
			Events []struct{ LogStreamName, Message, EventId string }
		}
		if err := json.Unmarshal([]byte(out), &fl); err != nil || len(fl.Events) < 3 || !strings.Contains(fl.Events[0].Message, "poison record bad") {
			t.Fatalf("%s filter-log-events: %v\n%s", cli.version, err, out)
		}
		out = runCLI(t, env, cli.path, s.URL(), "logs", "get-log-events", "--log-group-name", group,
			"--log-stream-name", stream, "--start-from-head", "--output", "json")
		if !strings.Contains(out, `START RequestId: `) || !strings.Contains(out, `poison record bad`) || !strings.Contains(out, `"nextForwardToken": "f/`) {
			t.Fatalf("%s get-log-events:\n%s", cli.version, out)
		}
		t.Logf("%s: filter-log-events found %d events with the error", cli.version, len(fl.Events))
	}

	// `aws logs tail` exists only in CLI v2.
	var v2 *cli
	for i := range clis {
		if strings.HasPrefix(clis[i].version, "aws-cli/2") {
			v2 = &clis[i]
		}
	}
	if v2 == nil {
		t.Skip("no AWS CLI v2 for `aws logs tail` (Debian: apt-get install awscli)")
	}
	out := runCLI(t, env, v2.path, s.URL(), "logs", "tail", group, "--since", "1h", "--format", "short")
	if !strings.Contains(out, `"errorMessage":"poison record bad"`) || !strings.Contains(out, "REPORT RequestId: ") {
		t.Fatalf("aws logs tail:\n%s", out)
	}
	t.Logf("aws logs tail (%s), first lines:\n%s", v2.version, firstLines(out, 6))

	// --follow prints what was there, then new attempts' lines as they come.
	fctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(fctx, v2.path, "logs", "tail", group, "--follow", "--since", "1h", "--format", "short",
		"--endpoint-url", s.URL())
	cmd.Env = env
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	started := time.Now()
	var late []string
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		line := sc.Text()
		// A line whose timestamp is after the follow started is one the
		// CLI found on a later poll.
		if ts, err := time.Parse("2006-01-02T15:04:05", strings.SplitN(line, " ", 2)[0]); err == nil &&
			ts.After(started.UTC().Add(time.Second)) && strings.Contains(line, "poison record bad") {
			late = append(late, line)
			break
		}
	}
	if len(late) == 0 {
		t.Fatalf("aws logs tail --follow printed no new attempt (%v)", fctx.Err())
	}
	t.Logf("aws logs tail --follow, a later attempt: %s", late[0])
}

type cli struct{ path, version string }

// cliCandidates returns the AWS CLIs installed: the one on PATH and
// Debian's /usr/bin/aws (CLI v2 in bookworm), each once.
func cliCandidates() []cli {
	var out []cli
	seen := map[string]bool{}
	paths := []string{"/usr/bin/aws"}
	if p, err := exec.LookPath("aws"); err == nil {
		paths = append([]string{p}, paths...)
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		b, err := exec.Command(p, "--version").CombinedOutput()
		v := strings.Fields(string(b) + " ?")[0]
		if err != nil || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, cli{p, v})
	}
	return out
}

func runCLI(t *testing.T, env []string, path, url string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, append(args, "--endpoint-url", url)...)
	cmd.Env = env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", path, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}
