package remote_test

import (
	"testing"
	"time"

	"github.com/eddydb/eddy/mappings/remote"
)

func TestParseEndpoint(t *testing.T) {
	for _, c := range []struct {
		in   string
		want remote.Endpoint
	}{
		{"us-west-2=http://127.0.0.1:8001", remote.Endpoint{Region: "us-west-2", URL: "http://127.0.0.1:8001"}},
		{"111111111111:us-east-1=https://b.example:8000,profile=b", remote.Endpoint{Account: "111111111111", Region: "us-east-1", URL: "https://b.example:8000", Profile: "b"}},
		{"eu-west-1=,profile=prod", remote.Endpoint{Region: "eu-west-1", Profile: "prod"}}, // AWS's own endpoint
		{"us-east-1=http://b:8000,poll=50ms", remote.Endpoint{Region: "us-east-1", URL: "http://b:8000", PollInterval: 50 * time.Millisecond}},
	} {
		got, err := remote.ParseEndpoint(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseEndpoint(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "us-east-1", "=http://x", "us-east-1=ftp://x", "us-east-1=http://x,role=y", "1111:=http://x", "us-east-1=http://x,poll=0s", "us-east-1=http://x,poll=fast"} {
		if e, err := remote.ParseEndpoint(in); err == nil {
			t.Errorf("ParseEndpoint(%q) = %+v, want an error", in, e)
		}
	}
}

// TestSourceChoice: an ARN is remote when an endpoint's region and account
// match it; an account-qualified endpoint wins over a region-only one; an
// ARN of no configured region is eddy's own.
func TestSourceChoice(t *testing.T) {
	rs, err := remote.New(ctx, []remote.Endpoint{
		{Region: "us-east-1", URL: "http://region-only"},
		{Region: "us-east-1", Account: "111111111111", URL: "http://account"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for arn, want := range map[string]string{
		"arn:aws:dynamodb:us-east-1:111111111111:table/t/stream/2026-01-01T00:00:00.000": "http://account",
		"arn:aws:dynamodb:us-east-1:222222222222:table/t/stream/2026-01-01T00:00:00.000": "http://region-only",
		"arn:aws:dynamodb:eu-west-1:111111111111:table/t/stream/2026-01-01T00:00:00.000": "",
	} {
		_, ok := rs.Source(arn)
		if got := rs.EndpointOf(arn); ok != (want != "") || got != want {
			t.Errorf("%s: remote %v via %q, want %q", arn, ok, got, want)
		}
	}
}
