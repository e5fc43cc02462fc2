package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
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
