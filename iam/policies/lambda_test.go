package policies_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
	"github.com/eddydb/eddy/triggers/triggerstest"
)

// TestLambdaAPIPolicies: the Lambda API authorizes lambda:* actions on
// function ARNs, and denies with Lambda's AccessDeniedException (403) in
// IAM's message shape.
func TestLambdaAPIPolicies(t *testing.T) {
	user := func(id string) string { return "arn:aws:iam::000000000000:user/" + id }
	s := eddytest.Start(t, server.Options{Principal: user})
	ctx := context.Background()
	client := func(id string) *lambda.Client {
		cfg := s.Config()
		cfg.Credentials = credentials.NewStaticCredentialsProvider(id, "secret", "")
		return lambda.NewFromConfig(cfg)
	}
	for name, doc := range map[string]string{
		"admin": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"lambda:*","Resource":"*"}}`,
		"dev": `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["lambda:GetFunction","lambda:InvokeFunction","lambda:DeleteFunction"],"Resource":"arn:aws:lambda:*:*:function:f1"},
			{"Effect":"Deny","Action":"lambda:DeleteFunction","Resource":"*"}]}`,
	} {
		if err := s.Policies().Put(user(name), "p", []byte(doc)); err != nil {
			t.Fatal(err)
		}
	}
	code := triggerstest.Module{MemoryMin: 1}.Bytes()
	for _, fn := range []string{"f1", "f2"} {
		if _, err := client("admin").CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(fn), Role: aws.String("arn:aws:iam::000000000000:role/r"),
			Runtime: ltypes.RuntimeProvidedal2023, Handler: aws.String("handle"), Code: &ltypes.FunctionCode{ZipFile: code}}); err != nil {
			t.Fatalf("CreateFunction %s: %v", fn, err)
		}
	}
	fnARN := func(n string) string { return "arn:aws:lambda:us-east-1:000000000000:function:" + n }
	dev := client("dev")
	if _, err := dev.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("f1")}); err != nil {
		t.Fatalf("GetFunction f1: %v", err)
	}
	if _, err := dev.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("f1")}); err != nil {
		t.Fatalf("Invoke f1: %v", err)
	}
	denied := func(err error, msg string) {
		t.Helper()
		var ae smithy.APIError
		var re *smithyhttp.ResponseError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || ae.ErrorMessage() != msg || !errors.As(err, &re) || re.HTTPStatusCode() != 403 {
			t.Fatalf("got %v\nwant 403 AccessDeniedException %q", err, msg)
		}
	}
	_, err := dev.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("f2")})
	denied(err, "User: "+user("dev")+" is not authorized to perform: lambda:GetFunction on resource: "+fnARN("f2")+" because no identity-based policy allows the lambda:GetFunction action")
	_, err = dev.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("f1")})
	denied(err, "User: "+user("dev")+" is not authorized to perform: lambda:DeleteFunction on resource: "+fnARN("f1")+" with an explicit deny in an identity-based policy")
	_, err = dev.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	denied(err, "User: "+user("dev")+" is not authorized to perform: lambda:ListFunctions on resource: * because no identity-based policy allows the lambda:ListFunctions action")
	_, err = dev.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fnARN("f2"))})
	denied(err, "User: "+user("dev")+" is not authorized to perform: lambda:InvokeFunction on resource: "+fnARN("f2")+" because no identity-based policy allows the lambda:InvokeFunction action")
	if _, err := client("admin").GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("f1")}); err != nil {
		t.Fatalf("admin GetFunction: the denied delete removed f1? %v", err)
	}
}
