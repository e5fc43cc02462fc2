package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/triggers/triggerstest"
)

// TestTriggersRegion: without --region the client subcommands act in the
// server's --region (their requests are unsigned); with it, in that
// region, the eddy-only routes (show's shards and failures) included.
func TestTriggersRegion(t *testing.T) {
	srv := eddytest.Start(t, server.Options{Region: "eu-west-1", Sinks: nopSinks{}})
	url := srv.URL()
	ordersTable(t, srv.DDB, "orders") // eu-west-1, the server's region
	cfg := srv.Config()
	cfg.Region = "ap-south-1"
	ordersTable(t, dynamodb.NewFromConfig(cfg), "south")
	esmFunction(t, lambda.NewFromConfig(srv.Config()), "fn", map[string]string{"QUIET": "1"})
	esmFunction(t, lambda.NewFromConfig(cfg), "fn", map[string]string{"QUIET": "1"}) // functions are per region too

	out, stderr, code := eddyTriggers(url, "add", "fn", "orders")
	if code != 0 || !strings.Contains(out, "arn:aws:dynamodb:eu-west-1:") {
		t.Fatalf("add in the server's region: exit %d %q %q", code, out, stderr)
	}
	if _, stderr, code := eddyTriggers(url, "add", "fn", "south"); code != 1 || !strings.Contains(stderr, "ResourceNotFoundException") {
		t.Fatalf("add of another region's table without --region: exit %d, stderr %q", code, stderr)
	}
	out, stderr, code = eddyTriggers(url, "add", "fn", "south", "--region", "ap-south-1")
	if code != 0 || !strings.Contains(out, "arn:aws:dynamodb:ap-south-1:") {
		t.Fatalf("add --region ap-south-1: exit %d %q %q", code, out, stderr)
	}
	uuid := strings.TrimSuffix(strings.Fields(out)[1], ":")
	if out, _, code := eddyTriggers(url, "list"); code != 0 || strings.Contains(out, "south") || !strings.Contains(out, "orders") {
		t.Fatalf("list in eu-west-1: exit %d %q", code, out)
	}
	if out, stderr, code := eddyTriggers(url, "show", uuid, "--region", "ap-south-1"); code != 0 || !strings.Contains(out, uuid) {
		t.Fatalf("show --region ap-south-1: exit %d %q %q", code, out, stderr)
	}
	if _, _, code := eddyTriggers(url, "show", uuid); code != 1 {
		t.Fatalf("show of another region's mapping: exit %d, want 1", code)
	}
}

// TestFunctionsPerRegion: a function created through one region's endpoint
// is invisible through another's, as in Lambda; the same name may exist in
// both; its ARN, log group and table calls are its own region's, whether it
// runs from Invoke, an Event invocation or a mapping.
func TestFunctionsPerRegion(t *testing.T) {
	srv := eddytest.Start(t, server.Options{Region: "eu-west-1", Sinks: nopSinks{}})
	ctx := context.Background()
	home := srv.Config()
	south := srv.Config()
	south.Region = "ap-south-1"
	lamHome, lamSouth := lambda.NewFromConfig(home), lambda.NewFromConfig(south)
	ddbHome, ddbSouth := dynamodb.NewFromConfig(home), dynamodb.NewFromConfig(south)
	for _, c := range []*dynamodb.Client{ddbHome, ddbSouth} {
		ordersTable(t, c, "tab")
	}
	code, err := triggerstest.Build("kitchen")
	if err != nil {
		t.Fatal(err)
	}
	create := func(lam *lambda.Client, greeting string) *lambda.CreateFunctionOutput {
		t.Helper()
		out, err := lam.CreateFunction(ctx, &lambda.CreateFunctionInput{
			FunctionName: aws.String("k"), Role: aws.String("arn:aws:iam::000000000000:role/x"),
			Runtime: ltypes.RuntimeProvidedal2023, Handler: aws.String("handle"), Timeout: aws.Int32(60),
			Code: &ltypes.FunctionCode{ZipFile: code}, Environment: &ltypes.Environment{Variables: map[string]string{"GREETING": greeting}},
		})
		if err != nil {
			t.Fatalf("CreateFunction: %v", err)
		}
		return out
	}
	if _, err := lamSouth.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("k")}); err == nil {
		t.Fatal("GetFunction before any function exists: no error")
	}
	h := create(lamHome, "home")
	if _, err := lamSouth.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("k")}); !strings.Contains(fmt.Sprint(err), "ResourceNotFoundException") {
		t.Fatalf("GetFunction of another region's function: %v, want ResourceNotFoundException", err)
	}
	s := create(lamSouth, "south")
	if got := aws.ToString(h.FunctionArn); got != "arn:aws:lambda:eu-west-1:000000000000:function:k" {
		t.Fatalf("home ARN %s", got)
	}
	if got := aws.ToString(s.FunctionArn); got != "arn:aws:lambda:ap-south-1:000000000000:function:k" {
		t.Fatalf("south ARN %s", got)
	}
	if got := aws.ToString(s.FunctionName); got != "k" || aws.ToString(s.LoggingConfig.LogGroup) != "/aws/lambda/k" {
		t.Fatalf("south FunctionName %q, LogGroup %q", got, aws.ToString(s.LoggingConfig.LogGroup))
	}
	for _, c := range []struct {
		lam    *lambda.Client
		region string
	}{{lamHome, "eu-west-1"}, {lamSouth, "ap-south-1"}} {
		fs, err := c.lam.ListFunctions(ctx, &lambda.ListFunctionsInput{})
		if err != nil || len(fs.Functions) != 1 || !strings.Contains(aws.ToString(fs.Functions[0].FunctionArn), c.region) {
			t.Fatalf("ListFunctions in %s: %v %+v", c.region, err, fs)
		}
	}
	// A full ARN of another region: Lambda's recorded answer.
	_, err = lamSouth.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: h.FunctionArn})
	if !strings.Contains(fmt.Sprint(err), "Functions from 'eu-west-1' are not reachable in this region ('ap-south-1')") {
		t.Fatalf("GetFunction by another region's ARN: %v", err)
	}

	// Each region's k writes to its own region's table t: by Invoke, and
	// by an Event invocation (which has no request context to carry it).
	invoke := func(lam *lambda.Client, typ ltypes.InvocationType, pk string) string {
		t.Helper()
		out, err := lam.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("k"), InvocationType: typ,
			Payload: []byte(`{"action":"put","table":"tab","item":{"pk":{"S":"` + pk + `"}}}`)})
		if err != nil || out.FunctionError != nil {
			t.Fatalf("Invoke %s: %v %s", pk, err, out.Payload)
		}
		return string(out.Payload)
	}
	invoke(lamHome, ltypes.InvocationTypeRequestResponse, "home-sync")
	invoke(lamSouth, ltypes.InvocationTypeRequestResponse, "south-sync")
	invoke(lamSouth, ltypes.InvocationTypeEvent, "south-event")
	has := func(ddb *dynamodb.Client, pk string) bool {
		out, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("tab"), Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: pk}}})
		if err != nil {
			t.Fatalf("GetItem %s: %v", pk, err)
		}
		return out.Item != nil
	}
	eddytest.WaitFor(t, "the Event invocation's write", 30*time.Second, func() bool { return has(ddbSouth, "south-event") })
	if !has(ddbHome, "home-sync") || has(ddbHome, "south-sync") || has(ddbHome, "south-event") || !has(ddbSouth, "south-sync") || has(ddbSouth, "home-sync") {
		t.Fatal("a function's writes reached another region's table")
	}

	// Log groups are per region too.
	logsSouth := cloudwatchlogs.NewFromConfig(south)
	eddytest.WaitFor(t, "south's log group", 30*time.Second, func() bool {
		out, err := logsSouth.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/k")})
		return err == nil && len(out.Events) > 0
	})
	groups, err := logsSouth.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil || len(groups.LogGroups) != 1 || !strings.Contains(aws.ToString(groups.LogGroups[0].LogGroupArn), ":ap-south-1:") {
		t.Fatalf("DescribeLogGroups in ap-south-1: %v %+v", err, groups)
	}

	// Deleting one region's k leaves the other's.
	if _, err := lamSouth.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	if out, err := lamHome.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("k")}); err != nil || out.Configuration.Environment.Variables["GREETING"] != "home" {
		t.Fatalf("home's k after deleting south's: %v", err)
	}
	// An escaped slash never names another region's function.
	if _, err := lamHome.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("ap-south-1/k")}); err == nil {
		t.Fatal("GetFunction of \"ap-south-1/k\": no error")
	}
}
