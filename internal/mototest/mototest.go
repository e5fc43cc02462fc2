// Package mototest runs moto_server (moto's stand-in for AWS: S3, SQS,
// SNS, DynamoDB Streams) as a child process of a test, on a loopback
// port, and skips the test where moto_server is not installed (CI
// machines have none; `pip install 'moto[server]'` gives one).
//
// It is apart from internal/eddytest so that only the tests that use moto
// link it.
package mototest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/eddydb/eddy/internal/childproc"
)

// ready bounds how long a start may take before the test fails: moto
// imports its whole service catalogue, slow on a loaded machine.
const ready = 60 * time.Second

// Server is a moto_server process a test started. It keeps its port
// across Stop and Start; moto keeps no state across them.
type Server struct {
	Port int
	URL  string // http://127.0.0.1:Port

	t    testing.TB
	path string
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Require returns moto_server's path, or skips t where it is not on PATH.
func Require(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("moto_server")
	if err != nil {
		t.Skip("moto_server is not on PATH: this test needs it (pip install 'moto[server]')")
	}
	return path
}

// Start runs moto_server on a free loopback port until the test ends
// (skipping t without it) and returns once it answers.
func Start(t testing.TB) *Server {
	t.Helper()
	Require(t)
	return StartOn(t, FreePort(t))
}

// StartOn is Start on a given port: one chosen before, for an eddy that
// was told of it earlier, or to come back on after Stop.
func StartOn(t testing.TB, port int) *Server {
	t.Helper()
	s := &Server{Port: port, URL: fmt.Sprintf("http://127.0.0.1:%d", port), t: t, path: Require(t)}
	t.Cleanup(s.Stop)
	s.Start()
	return s
}

// Start starts the process again after Stop, on the same port and with no
// state, and returns once it answers; the test fails if it exits first or
// does not answer within a minute. A no-op while it runs.
func (s *Server) Start() {
	s.t.Helper()
	if s.cmd != nil {
		return
	}
	cmd := exec.Command(s.path, "-H", "127.0.0.1", "-p", fmt.Sprint(s.Port))
	childproc.DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(ready)
	for {
		select {
		case <-done:
			s.t.Fatal("moto_server exited before it answered")
		default:
		}
		if resp, err := client.Get(s.URL + "/moto-api/"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("moto_server did not answer on %s within %v", s.URL, ready)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the process by its PID and waits until it has exited (and so
// released the port). Idempotent; the test's end calls it.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// FreePort returns a loopback TCP port that is free now, for a server a
// test starts on it later.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
