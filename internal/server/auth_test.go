package server

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/eddydb/eddy/auth"
	"github.com/eddydb/eddy/internal/logtest"
)

// TestOpenOnlyOnLoopback: without credentials eddy runs open on loopback
// and says so; on any other address it refuses to start unless
// InsecureOpen, and starts with credentials. (The non-loopback servers are
// built, never started: nothing listens beyond 127.0.0.1.)
func TestOpenOnlyOnLoopback(t *testing.T) {
	var logs logtest.Buffer
	s, err := New(Options{Addr: "127.0.0.1:0", InMemory: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Shutdown(context.Background())
	if !strings.Contains(logs.String(), "eddy runs open, accepting unsigned requests, on loopback only") {
		t.Fatalf("no line says eddy runs open:\n%s", logs.String())
	}
	for _, addr := range []string{"0.0.0.0:8000", ":8000", "192.0.2.1:8000", "[::]:8000"} {
		_, err := New(Options{Addr: addr, InMemory: true})
		if err == nil || !strings.Contains(err.Error(), "refusing to listen on "+addr+" without credentials") || !strings.Contains(err.Error(), "--insecure-open") {
			t.Fatalf("%s without credentials: err = %v", addr, err)
		}
	}
	for _, o := range []Options{
		{Addr: "0.0.0.0:8000", InMemory: true, InsecureOpen: true},
		{Addr: "0.0.0.0:8000", InMemory: true, Credentials: []auth.Credential{{AccessKeyID: "AKID", SecretAccessKey: "s", UserName: "u"}}},
		{Addr: "localhost:0", InMemory: true},
	} {
		s, err := New(o)
		if err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		_ = s.Shutdown(context.Background())
	}
}

// TestTLS: --tls-self-signed makes a certificate for 127.0.0.1 under the
// data directory (kept across restarts), clients that trust it connect,
// and Reload picks up a replaced certificate for new connections.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	s, err := New(Options{Addr: "127.0.0.1:0", DataDir: filepath.Join(dir, "data"), Init: true, TLS: TLSOptions{SelfSigned: true}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	if !strings.HasPrefix(s.URL(), "https://") {
		t.Fatalf("URL %s", s.URL())
	}
	certFile := filepath.Join(dir, "data", "tls", "eddy-dev-cert.pem")
	serial := func() string {
		t.Helper()
		pem, err := os.ReadFile(certFile)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		resp, err := c.Get(s.URL() + "/healthz")
		if err != nil {
			t.Fatalf("GET /healthz over TLS: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET /healthz: %d", resp.StatusCode)
		}
		return resp.TLS.PeerCertificates[0].SerialNumber.String()
	}
	first := serial()
	if resp, err := http.Get("http://" + s.Addr() + "/healthz"); err == nil && resp.StatusCode == 200 {
		t.Fatal("plain HTTP served on a TLS listener")
	}

	// A new certificate in place of the old one, then Reload (SIGHUP).
	_, _, _, err = selfSignedCert(filepath.Join(dir, "next"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"eddy-dev-cert.pem", "eddy-dev-key.pem"} {
		b, err := os.ReadFile(filepath.Join(dir, "next", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "data", "tls", f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if second := serial(); second == first {
		t.Fatal("Reload kept the old certificate")
	}
}

// TestCredentialsFileReload: keys come from a shared-credentials file, and
// Reload (SIGHUP) swaps them: a rotated-out key is refused at once, the new
// one accepted, without a restart.
func TestCredentialsFileReload(t *testing.T) {
	file := filepath.Join(t.TempDir(), "credentials")
	write := func(id, secret string) {
		if err := os.WriteFile(file, []byte("[ops]\naws_access_key_id = "+id+"\naws_secret_access_key = "+secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("AKIDOLD", "old-secret")
	s, err := New(Options{Addr: "127.0.0.1:0", InMemory: true, CredentialsFile: file})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	status := func(id, secret string) int {
		t.Helper()
		r, _ := http.NewRequest("GET", s.URL()+"/eddy/sinks", nil)
		h := sha256.Sum256(nil)
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, r, hex.EncodeToString(h[:]), "eddy", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status("AKIDOLD", "old-secret"); got != 200 {
		t.Fatalf("key from the file: %d", got)
	}
	write("AKIDNEW", "new-secret")
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := status("AKIDOLD", "old-secret"); got != 403 {
		t.Fatalf("rotated-out key after Reload: %d, want 403", got)
	}
	if got := status("AKIDNEW", "new-secret"); got != 200 {
		t.Fatalf("new key after Reload: %d", got)
	}
	// A broken file keeps the keys in force.
	if err := os.WriteFile(file, []byte("[ops]\naws_access_key_id = AKIDX\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err == nil {
		t.Fatal("Reload of a broken file: no error")
	}
	if got := status("AKIDNEW", "new-secret"); got != 200 {
		t.Fatalf("key after a failed Reload: %d", got)
	}
}
