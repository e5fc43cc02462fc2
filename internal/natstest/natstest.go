// Package natstest runs a nats-server inside a test's process: JetStream
// on, a random loopback port, its files in the test's temporary directory,
// shut down (and waited for) when the test ends; and connects a client
// with JetStream to it.
//
// It is apart from internal/eddytest so that only the tests that use NATS
// link nats-server.
package natstest

import (
	"context"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Start runs a nats-server with JetStream on a random loopback port, its
// store in t.TempDir(), until the test ends, and returns once it accepts
// connections.
func Start(t testing.TB) *natsserver.Server {
	t.Helper()
	return StartWith(t, nil)
}

// StartWith is Start with the options changed by edit first: a fixed Port
// (to come back on the port of a server the test shut down), a StoreDir
// kept across such a restart, JetStream off, a smaller MaxPayload. A
// StoreDir edit leaves empty gets t.TempDir() when JetStream is on.
func StartWith(t testing.TB, edit func(*natsserver.Options)) *natsserver.Server {
	t.Helper()
	o := &natsserver.Options{Host: "127.0.0.1", Port: natsserver.RANDOM_PORT, JetStream: true, NoLog: true, NoSigs: true}
	if edit != nil {
		edit(o)
	}
	if o.JetStream && o.StoreDir == "" {
		o.StoreDir = t.TempDir() // removed after the shutdown below: cleanups run last first
	}
	ns, err := natsserver.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	return ns
}

// Connect connects to url (a nats-server's ClientURL, or a proxy's) with a
// JetStream context on the connection; the test fails if it cannot. The
// caller closes nc (with defer or t.Cleanup, as its order needs).
func Connect(t testing.TB, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		t.Fatal(err)
	}
	return nc, js
}

// WaitStreamCurrent waits up to timeout until the three-replica stream
// has a leader and both other replicas are current (a clustered stream's
// state before a test kills a node), and fails the test otherwise.
func WaitStreamCurrent(t testing.TB, url, stream string, timeout time.Duration) {
	t.Helper()
	nc, js := Connect(t, url)
	defer nc.Close()
	for deadline := time.Now().Add(timeout); ; time.Sleep(50 * time.Millisecond) {
		if streamCurrent(js, stream) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no leader of %s with current replicas after %v", stream, timeout)
		}
	}
}

func streamCurrent(js jetstream.JetStream, stream string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return false
	}
	cl := s.CachedInfo().Cluster
	if cl == nil || cl.Leader == "" || len(cl.Replicas) != 2 {
		return false
	}
	for _, r := range cl.Replicas {
		if !r.Current {
			return false
		}
	}
	return true
}
