package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/mappings"
	"github.com/eddydb/eddy/triggers/triggerstest"
)

func TestMain(m *testing.M) {
	// The client subcommands sign with an access key in the environment;
	// the tests' servers run open and expect what an environment without
	// one sends, unless a test sets one (TestClientSigns).
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		os.Unsetenv(k)
	}
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir) // buildEddy's binary
	}
	os.Exit(code)
}

type nopSinks struct{}

func (nopSinks) Emit(context.Context, string, []byte) error { return nil }

// ordersTable creates a table (pk S) with a NEW_AND_OLD_IMAGES stream.
func ordersTable(t testing.TB, ddb *dynamodb.Client, name string) string {
	t.Helper()
	out, err := ddb.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		t.Fatalf("CreateTable %s: %v", name, err)
	}
	return aws.ToString(out.TableDescription.LatestStreamArn)
}

// esmFunction deploys the esm test guest (triggers/testdata/esm).
func esmFunction(t testing.TB, lam *lambda.Client, name string, vars map[string]string) {
	t.Helper()
	code, err := triggerstest.Build("esm")
	if err != nil {
		t.Fatal(err)
	}
	_, err = lam.CreateFunction(context.Background(), &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String("arn:aws:iam::000000000000:role/x"),
		Runtime: ltypes.RuntimeProvidedal2023, Handler: aws.String("handle"),
		Code: &ltypes.FunctionCode{ZipFile: code}, Environment: &ltypes.Environment{Variables: vars},
		Timeout: aws.Int32(60), // not 3 s: a loaded machine must not time a batch out (eddytest.DeployGuest says why)
	})
	if err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
}

// eddyTriggers runs "eddy triggers args..." against url and returns its
// stdout, stderr and exit code.
func eddyTriggers(url string, args ...string) (string, string, int) {
	var out, errw bytes.Buffer
	code := triggersMain(&out, &errw, append(args, "--endpoint", url))
	return out.String(), errw.String(), code
}

func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTriggersCommands(t *testing.T) {
	srv := eddytest.Start(t, server.Options{Sinks: nopSinks{}, Mappings: mappings.Options{
		RetryBackoff: time.Millisecond, MaxRetryBackoff: 10 * time.Millisecond, ShardPollInterval: 20 * time.Millisecond}})
	url := srv.URL()
	ctx := context.Background()
	arn := ordersTable(t, srv.DDB, "orders")
	esmFunction(t, lambda.NewFromConfig(srv.Config()), "poison", map[string]string{"QUIET": "1", "FAIL_ON": "bad"})

	if _, _, code := eddyTriggers(url, "frobnicate"); code != 2 {
		t.Fatalf("unknown subcommand: exit %d, want 2", code)
	}
	if _, stderr, code := eddyTriggers(url, "add", "poison", "nosuchtable"); code != 1 || !strings.Contains(stderr, "ResourceNotFoundException") {
		t.Fatalf("add to a missing table: exit %d, stderr %q", code, stderr)
	}
	out, stderr, code := eddyTriggers(url, "add", "poison", "orders", "--batch-size", "5", "--retries", "0", "--starting-position", "TRIM_HORIZON")
	if code != 0 {
		t.Fatalf("add: exit %d: %s", code, stderr)
	}
	m := regexp.MustCompile(`^created ([0-9a-f-]{36}): (\S+) -> \S+:function:poison \(state Creating\)\n$`).FindStringSubmatch(out)
	if m == nil || m[2] != arn {
		t.Fatalf("add printed %q (stream %s)", out, arn)
	}
	uuid := m[1]
	if _, stderr, code := eddyTriggers(url, "add", "poison", arn, "--batch-size", "0"); code != 1 || !strings.Contains(stderr, "batchSize") {
		t.Fatalf("add with batch size 0: exit %d, stderr %q", code, stderr)
	}

	for i, v := range []string{"ok", "bad"} {
		_, err := srv.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: "k"}, "v": &ddbtypes.AttributeValueMemberS{Value: v}}})
		if err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	waitUntil(t, "the poison record's failure record", 10*time.Second, func() bool {
		fr, err := srv.Mappings().Failures(uuid)
		return err == nil && len(fr) == 1
	})
	waitUntil(t, "no pending records", 10*time.Second, func() bool {
		st, err := srv.Mappings().Status(uuid)
		for _, s := range st {
			if s.PendingRecords > 0 {
				return false
			}
		}
		return err == nil
	})
	out, stderr, code = eddyTriggers(url, "show", uuid)
	if code != 0 {
		t.Fatalf("show: exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"UUID:                      " + uuid + "\n",
		"Source:                    " + arn + "\n",
		"State:                     Enabled (User action)\n",
		"Batch size:                5\n",
		"Retries:                   0\n",
		"Maximum record age:        unlimited\n",
		"On failure:                kept in eddy's built-in failure store",
		"Failure records kept:      1\n",
		"Records delivered:         1\n",
		"Records dead-lettered:     1\n",
		"SHARD ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	st, err := srv.Mappings().Status(uuid)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		line := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(s.ShardID) + `\s+` + regexp.QuoteMeta(s.Position) + `\s+0\s+0s$`)
		if !line.MatchString(out) {
			t.Errorf("show has no caught-up line for shard %s at %s:\n%s", s.ShardID, s.Position, out)
		}
	}

	t.Logf("show:\n%s", out)
	out, _, code = eddyTriggers(url, "list")
	if code != 0 || !regexp.MustCompile(uuid+`\s+poison\s+Enabled\s+5\s+orders\s+PROBLEM: Function call failed`).MatchString(out) {
		t.Fatalf("list: exit %d:\n%s", code, out)
	}
	if out, _, _ := eddyTriggers(url, "list", "--function", "other"); strings.Contains(out, uuid) {
		t.Fatalf("list --function other shows the mapping:\n%s", out)
	}
	if out, _, _ := eddyTriggers(url, "list", "--source", "orders"); !strings.Contains(out, uuid) {
		t.Fatalf("list --source orders lacks the mapping:\n%s", out)
	}

	if out, _, code := eddyTriggers(url, "disable", uuid); code != 0 || out != uuid+": Disabling\n" {
		t.Fatalf("disable: exit %d, %q", code, out)
	}
	if out, _, _ := eddyTriggers(url, "show", uuid); !strings.Contains(out, "State:                     Disabled") {
		t.Fatalf("show after disable:\n%s", out)
	}
	if out, _, code := eddyTriggers(url, "enable", uuid); code != 0 || out != uuid+": Enabling\n" {
		t.Fatalf("enable: exit %d, %q", code, out)
	}

	// update changes only the flags given; --on-failure "" and --no-filters
	// remove what they name; a bad destination gets the forms eddy accepts.
	if out, stderr, code := eddyTriggers(url, "update", uuid, "--batch-size", "7", "--retries", "2", "--bisect",
		"--on-failure", "arn:eddy:dlq:us-east-1:000000000000:audit", "--filter", `{"eventName":["INSERT"]}`); code != 0 ||
		!strings.HasPrefix(out, "updated "+uuid+": ") {
		t.Fatalf("update: exit %d, %q %s", code, out, stderr)
	}
	out, _, _ = eddyTriggers(url, "show", uuid)
	for _, want := range []string{"Batch size:                7\n", "Retries:                   2\n", "Bisect on error:           true\n",
		"On failure:                arn:eddy:dlq:us-east-1:000000000000:audit", `Filter:                    {"eventName":["INSERT"]}`,
		"Parallelization factor:    1\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("show after update lacks %q:\n%s", want, out)
		}
	}
	if _, stderr, code := eddyTriggers(url, "update", uuid, "--on-failure", "", "--no-filters", "--bisect=false"); code != 0 {
		t.Fatalf("update removing: exit %d: %s", code, stderr)
	}
	out, _, _ = eddyTriggers(url, "show", uuid)
	for _, gone := range []string{"Filter:", "audit", "Bisect on error:           true"} {
		if strings.Contains(out, gone) {
			t.Errorf("show after the removing update still has %q:\n%s", gone, out)
		}
	}
	if !strings.Contains(out, "Batch size:                7\n") {
		t.Errorf("an update without --batch-size changed it:\n%s", out)
	}
	if _, stderr, code := eddyTriggers(url, "update", uuid, "--on-failure", "arn:aws:kinesis:us-east-1:1:stream/x"); code != 1 ||
		!strings.Contains(stderr, "InvalidParameterValueException") || !strings.Contains(stderr, "arn:eddy:nats:REGION:ACCOUNT:SUBJECT") {
		t.Fatalf("update with a kinesis destination: exit %d, %q", code, stderr)
	}
	if _, stderr, code := eddyTriggers(url, "show", uuid, "--batch-size", "3"); code != 2 || !strings.Contains(stderr, "flag provided but not defined: -batch-size") {
		t.Fatalf("show with an add flag: exit %d, %q", code, stderr)
	}

	if out, _, code := eddyTriggers(url, "remove", uuid); code != 0 || out != uuid+": Deleting\n" {
		t.Fatalf("remove: exit %d, %q", code, out)
	}
	if _, stderr, code := eddyTriggers(url, "show", uuid); code != 1 || !strings.Contains(stderr, "ResourceNotFoundException") {
		t.Fatalf("show after remove: exit %d, %q", code, stderr)
	}
	if out, _, _ := eddyTriggers(url, "list"); strings.Contains(out, uuid) {
		t.Fatalf("list after remove:\n%s", out)
	}
}
