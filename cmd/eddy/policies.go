package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

const policiesUsage = `usage:
  eddy policies put --principal ARN --name NAME FILE|-
                          attach the IAM policy document in FILE (- for stdin) to the user or role ARN
                          (arn:aws:iam::<account>:user/<name> or :role/<name>), replacing one of that name
  eddy policies get --principal ARN --name NAME
                          print the document
  eddy policies list [--principal ARN]
                          every attached policy (or one principal's)
  eddy policies delete --principal ARN --name NAME
  eddy policies simulate --principal ARN --action dynamodb:GetItem --resource ARN [--context KEY=VALUE]...
                          would the principal be allowed? allowed, explicitDeny or implicitDeny, and the
                          statement that decided (IAM's policy simulator); repeat --context for several values
common flags: --endpoint URL (default http://127.0.0.1:8000), --json (list, simulate: the server's JSON)
while no policy is stored, eddy runs open: every request is allowed`

func runPolicies(args []string) int { return policiesMain(os.Stdout, os.Stderr, os.Stdin, args) }

func policiesMain(stdout, stderr io.Writer, stdin io.Reader, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, policiesUsage)
		return 2
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("eddy policies "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", "http://127.0.0.1:8000", "eddy server URL")
	principal := fs.String("principal", "", "the user's or role's ARN")
	name := fs.String("name", "", "the policy's name")
	action := fs.String("action", "", "simulate: the action, e.g. dynamodb:GetItem")
	resource := fs.String("resource", "", "simulate: the resource's ARN")
	var ctxFlags stringsFlag
	fs.Var(&ctxFlags, "context", "simulate: a condition key's value, KEY=VALUE (repeatable)")
	raw := fs.Bool("json", false, "print the server's JSON answer")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	base := strings.TrimRight(*endpoint, "/") + "/eddy/policies"
	q := url.Values{}
	if *principal != "" {
		q.Set("principal", *principal)
	}
	if *name != "" {
		q.Set("name", *name)
	}
	target := base + "?" + q.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hc := &http.Client{}
	out := output{stdout, stderr}
	named := *principal != "" && *name != ""
	switch {
	case cmd == "put" && named && len(pos) == 1:
		var doc []byte
		if pos[0] == "-" {
			doc, err = io.ReadAll(stdin)
		} else {
			doc, err = os.ReadFile(pos[0])
		}
		if err != nil {
			return out.fail(err)
		}
		if err := putRaw(ctx, hc, target, doc); err != nil {
			return out.fail(err)
		}
		fmt.Fprintf(stdout, "policy %s attached to %s\n", *name, *principal)
		return 0
	case cmd == "get" && named && len(pos) == 0:
		var doc json.RawMessage
		if err := callJSON(ctx, hc, "GET", target, &doc); err != nil {
			return out.fail(err)
		}
		return out.json(doc)
	case cmd == "delete" && named && len(pos) == 0:
		var resp map[string]any
		if err := callJSON(ctx, hc, "DELETE", target, &resp); err != nil {
			return out.fail(err)
		}
		fmt.Fprintf(stdout, "policy %s of %s deleted\n", *name, *principal)
		return 0
	case cmd == "list" && len(pos) == 0:
		var l struct {
			Policies []struct{ PrincipalArn, PolicyName string }
		}
		if err := callJSON(ctx, hc, "GET", target, &l); err != nil {
			return out.fail(err)
		}
		if *raw {
			return out.json(l)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PRINCIPAL\tPOLICY")
		for _, p := range l.Policies {
			fmt.Fprintf(tw, "%s\t%s\n", p.PrincipalArn, p.PolicyName)
		}
		if err := tw.Flush(); err != nil {
			return out.fail(err)
		}
		return 0
	case cmd == "simulate" && *principal != "" && *action != "" && *resource != "" && len(pos) == 0:
		in := map[string]any{"PrincipalArn": *principal, "Action": *action, "Resource": *resource}
		kv := map[string][]string{}
		for _, c := range ctxFlags {
			k, v, ok := strings.Cut(c, "=")
			if !ok || k == "" {
				return out.fail(fmt.Errorf("--context %q: want KEY=VALUE", c))
			}
			kv[k] = append(kv[k], v)
		}
		in["Context"] = kv
		var res struct {
			EvalDecision      string
			MatchedStatements []struct {
				SourcePolicyId string
				StatementIndex int
				Sid            string
			}
			Enforced bool
		}
		if err := callJSONBody(ctx, hc, "POST", base+"/simulate", in, &res); err != nil {
			return out.fail(err)
		}
		if *raw {
			return out.json(res)
		}
		fmt.Fprintf(stdout, "%s: %s on %s by %s\n", res.EvalDecision, *action, *resource, *principal)
		for _, m := range res.MatchedStatements {
			sid := ""
			if m.Sid != "" {
				sid = " (Sid " + m.Sid + ")"
			}
			fmt.Fprintf(stdout, "  decided by policy %s, statement %d%s\n", m.SourcePolicyId, m.StatementIndex, sid)
		}
		if res.EvalDecision == "implicitDeny" {
			fmt.Fprintf(stdout, "  no statement allows %s\n", *action)
		}
		if !res.Enforced {
			fmt.Fprintln(stdout, "  (no policy is stored: eddy runs open and allows every request)")
		}
		return 0
	}
	fmt.Fprintln(stderr, policiesUsage)
	return 2
}

// putRaw sends the document as is (the server parses it and answers a
// malformed one with IAM's MalformedPolicyDocument message).
func putRaw(ctx context.Context, hc *http.Client, u string, doc []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, bytes.NewReader(doc))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		var e struct {
			Type    string `json:"__type"`
			Message string
		}
		if json.Unmarshal(b, &e) == nil && e.Message != "" {
			return fmt.Errorf("%s: %s", e.Type, e.Message)
		}
		return fmt.Errorf("PUT %s: %s: %s", u, resp.Status, strings.TrimSpace(string(b)))
	}
	return nil
}
