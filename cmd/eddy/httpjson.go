package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// callJSON does one request against one of eddy's own HTTP routes (the
// dead-letter API, the mappings' eddy-only routes) and decodes the JSON
// answer into out. A non-2xx answer is an error with the server's Message,
// or its status and body when it has none; out still receives the body.
func callJSON(ctx context.Context, client *http.Client, method, u string, out any) error {
	return callJSONBody(ctx, client, method, u, nil, out)
}

// callJSONBody is callJSON with a request body (JSON-encoded in; nil: none).
func callJSONBody(ctx context.Context, client *http.Client, method, u string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := signRequest(ctx, req, body); err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, strings.TrimSpace(string(b)))
	}
	if resp.StatusCode/100 != 2 {
		var m struct{ Message string }
		if json.Unmarshal(b, &m) == nil && m.Message != "" {
			return fmt.Errorf("%s", m.Message)
		}
		return fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, strings.TrimSpace(string(b)))
	}
	return nil
}

// envCredentials are the access key the client subcommands sign with:
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, as the
// AWS CLI reads them. Without them requests go unsigned, which a server
// without credentials (open, on loopback) accepts.
func envCredentials() (aws.Credentials, bool) {
	c := aws.Credentials{AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken: os.Getenv("AWS_SESSION_TOKEN")}
	return c, c.AccessKeyID != "" && c.SecretAccessKey != ""
}

// envRegion is the region requests are signed for when no --region is
// given: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1.
func envRegion() string {
	return cmp.Or(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"), "us-east-1")
}

// signRequest signs req (whose body is body, already JSON) with SigV4 when
// envCredentials has a key, for eddy's own routes (/eddy/*).
func signRequest(ctx context.Context, req *http.Request, body io.Reader) error {
	c, ok := envCredentials()
	if !ok {
		return nil
	}
	var b []byte
	if br, ok := body.(*bytes.Reader); ok && br != nil {
		b = make([]byte, br.Len())
		_, _ = br.ReadAt(b, 0)
	}
	h := sha256.Sum256(b)
	return v4.NewSigner().SignHTTP(ctx, c, req, hex.EncodeToString(h[:]), "eddy", envRegion(), time.Now())
}

// output is a client subcommand's way out: an error line on stderr (exit
// 1), or indented JSON on stdout.
type output struct{ stdout, stderr io.Writer }

// fail prints err and returns exit code 1.
func (o output) fail(err error) int {
	fmt.Fprintln(o.stderr, "eddy:", err)
	return 1
}

// json prints v as indented JSON and returns exit code 0 (1 if it cannot).
func (o output) json(v any) int {
	enc := json.NewEncoder(o.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return o.fail(err)
	}
	return 0
}
