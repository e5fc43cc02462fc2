// Package natsembed runs a nats-server with JetStream inside eddy's
// process (eddy serve --nats embedded): the single-binary default for the
// relays when no external NATS server is named. It listens on loopback
// only, keeps JetStream's files in a directory of eddy's data directory,
// and logs through eddy's logger.
package natsembed

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/eddydb/eddy/internal/lifecycle"
)

// Server is a running embedded nats-server.
type Server struct {
	ns *natsserver.Server
}

// Start runs a nats-server with JetStream, its files in storeDir, listening
// on listen (host:port; port 0 picks a free one). It returns once the
// server accepts connections.
func Start(storeDir, listen string, log *slog.Logger) (*Server, error) {
	host, ps, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("--nats-listen %q: %w", listen, err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("--nats-listen %q: bad port", listen)
	}
	if port == 0 {
		port = natsserver.RANDOM_PORT // nats-server's 0 means 4222
	}
	if host == "" {
		host = "127.0.0.1"
	}
	ns, err := natsserver.NewServer(&natsserver.Options{ServerName: "eddy", Host: host, Port: port, JetStream: true,
		StoreDir: storeDir, NoSigs: true, MaxPayload: 8 << 20})
	if err != nil {
		return nil, err
	}
	ns.SetLogger(logger{lifecycle.Or(log)}, false, false)
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("the embedded nats-server did not start within 30s")
	}
	return &Server{ns: ns}, nil
}

// ClientURL is the URL clients connect to (nats://127.0.0.1:PORT).
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// Shutdown stops the server and waits for it.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// logger adapts nats-server's logging to slog: notices at debug (a
// start prints dozens), warnings and errors as such.
type logger struct{ l *slog.Logger }

func (l logger) Noticef(format string, v ...any) { l.l.Debug(fmt.Sprintf(format, v...)) }
func (l logger) Warnf(format string, v ...any)   { l.l.Warn(fmt.Sprintf(format, v...)) }
func (l logger) Fatalf(format string, v ...any)  { l.l.Error(fmt.Sprintf(format, v...)) }
func (l logger) Errorf(format string, v ...any)  { l.l.Error(fmt.Sprintf(format, v...)) }
func (l logger) Debugf(format string, v ...any)  { l.l.Debug(fmt.Sprintf(format, v...)) }
func (l logger) Tracef(format string, v ...any)  {}
