package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

const usersUsage = `usage:
  eddy users add NAME             create user NAME with an access key; prints the secret, shown this once
                                  (the first user turns signature verification on)
  eddy users list                 users, their ARNs and access key IDs
  eddy users remove NAME          delete the user and its keys
  eddy users rotate NAME          a new access key for NAME (a user keeps at most two: the oldest is retired)
  eddy users rotate NAME --retire KEYID   retire one of NAME's keys
common flags: --endpoint URL (default http://127.0.0.1:8000); requests are signed with AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY when set`

func runUsers(args []string) int { return usersMain(os.Stdout, os.Stderr, args) }

func usersMain(stdout, stderr io.Writer, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usersUsage)
		return 2
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("eddy users "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", "http://127.0.0.1:8000", "eddy server URL")
	retire := fs.String("retire", "", "rotate: the access key ID to retire")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	base := strings.TrimRight(*endpoint, "/") + "/eddy/users"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := output{stdout, stderr}
	var v any
	switch {
	case cmd == "add" && len(pos) == 1:
		err = callJSONBody(ctx, http.DefaultClient, "POST", base, map[string]string{"UserName": pos[0]}, &v)
	case cmd == "list" && len(pos) == 0:
		err = callJSON(ctx, http.DefaultClient, "GET", base, &v)
	case cmd == "remove" && len(pos) == 1:
		err = callJSON(ctx, http.DefaultClient, "DELETE", base+"/"+url.PathEscape(pos[0]), &v)
	case cmd == "rotate" && len(pos) == 1:
		u := base + "/" + url.PathEscape(pos[0]) + "/rotate"
		if *retire != "" {
			u += "?retire=" + url.QueryEscape(*retire)
		}
		err = callJSON(ctx, http.DefaultClient, "POST", u, &v)
	default:
		fmt.Fprintln(stderr, usersUsage)
		return 2
	}
	if err != nil {
		return out.fail(err)
	}
	return out.json(v)
}
