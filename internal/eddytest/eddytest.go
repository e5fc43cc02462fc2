// Package eddytest starts eddy in-process for end-to-end tests: a real
// server on a random 127.0.0.1 port, driven through aws-sdk-go-v2 clients.
package eddytest

import (
	"cmp"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/eddydb/eddy/capacity"
	"github.com/eddydb/eddy/internal/sdkretry"
	"github.com/eddydb/eddy/internal/server"
)

// Server is a running eddy with clients pointed at it.
type Server struct {
	*server.Server
	DDB  *dynamodb.Client
	opts server.Options
	t    testing.TB
	// transport is shared by every client Config hands out, so Stop can
	// close their idle connections: the server's graceful shutdown would
	// otherwise wait for connections that never send a request.
	transport *http.Transport
}

// Start runs a server with opts (Addr forced to 127.0.0.1:0; InMemory
// unless DataDir is set) and stops it when the test ends. Unless
// opts.Capacity.Mode is set, the capacity limiter runs in report mode:
// tests not about capacity write as fast as they like to tables created
// with small provisioned throughput; tests of throttling ask for
// capacity.Enforce.
func Start(t testing.TB, opts server.Options) *Server {
	t.Helper()
	opts.Addr = "127.0.0.1:0"
	if opts.Capacity.Mode == 0 {
		opts.Capacity.Mode = capacity.Report
	}
	if opts.DataDir == "" {
		opts.InMemory = true
	}
	srv, err := server.New(opts)
	if err != nil {
		t.Fatalf("eddytest: new server: %v", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("eddytest: start: %v", err)
	}
	s := &Server{Server: srv, opts: opts, t: t, transport: &http.Transport{
		MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second,
	}}
	s.waitHealthy()
	s.DDB = dynamodb.NewFromConfig(s.Config())
	t.Cleanup(func() { s.Stop() })
	return s
}

func (s *Server) waitHealthy() {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.URL() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.t.Fatalf("eddytest: server never became healthy")
}

// Stop shuts the server down cleanly (idempotent).
func (s *Server) Stop() {
	if s.Server == nil {
		return
	}
	s.transport.CloseIdleConnections()
	if err := s.Shutdown(context.Background()); err != nil {
		s.t.Errorf("eddytest: shutdown: %v", err)
	}
	s.Server = nil
}

// Restart stops the server and starts a new one on the same data
// directory (for durability tests; requires opts.DataDir).
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	n := Start(s.t, s.opts)
	*s = *n
}

// Config returns an aws.Config for the server: static credentials (the
// first of server.Options.Credentials when the server has any, else a
// made-up key the open server accepts), the server's region (default
// us-east-1), and no retries of DynamoDB errors, so tests see every error.
func (s *Server) Config() aws.Config {
	id, secret, token := "AKIDEDDYTEST", "secret", ""
	if len(s.opts.Credentials) > 0 {
		c := s.opts.Credentials[0]
		id, secret, token = c.AccessKeyID, c.SecretAccessKey, c.SessionToken
	}
	return s.ConfigAs(id, secret, token)
}

// ConfigAs is Config with the given access key, secret and session token
// (tests of authentication).
func (s *Server) ConfigAs(accessKeyID, secret, sessionToken string) aws.Config {
	return aws.Config{
		Region:       cmp.Or(s.opts.Region, "us-east-1"),
		Credentials:  credentials.NewStaticCredentialsProvider(accessKeyID, secret, sessionToken),
		BaseEndpoint: aws.String(s.URL()),
		Retryer:      sdkretry.ClosedConn,
		HTTPClient:   &http.Client{Transport: s.transport},
	}
}
