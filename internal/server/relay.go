package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/internal/natsembed"
	"github.com/eddydb/eddy/relay"
)

// NATSEmbedded is Options.NATS's value for the in-process nats-server.
const NATSEmbedded = "embedded"

// embeddedNATS is the in-process nats-server, started at most once (at
// New with --nats embedded, else when a relay first needs one) and shut
// down after the relays are closed.
type embeddedNATS struct {
	mu  sync.Mutex
	srv *natsembed.Server
	tmp string // its store directory when the server runs in memory
	err error
}

// openRelay starts the embedded nats-server when asked to, then opens the
// relays (after the stream log they read; before the triggers, so they
// close after them).
func (s *Server) openRelay(sub func(string) *slog.Logger) error {
	opts := s.opts
	// Registered before the relays, so closed after them.
	s.opened("nats", s.stopNATS)
	ro := opts.Relay
	ro.Region = opts.Region
	ro.Logger = sub("relay")
	ro.EnsureStream = s.relayStream
	switch opts.NATS {
	case NATSEmbedded, "":
		ro.URL, ro.Connect = "", func() (string, error) { return s.startNATS(sub("nats")) }
	default:
		ro.URL, ro.Connect = opts.NATS, nil
	}
	var err error
	if s.relay, err = relay.Open(s.db, s.streams, ro); err != nil {
		return err
	}
	s.opened("relay", s.relay.Close)
	if opts.NATS == NATSEmbedded || (opts.NATS == "" && s.relay.Configured()) {
		if _, err := s.startNATS(sub("nats")); err != nil {
			return err
		}
	}
	return nil
}

// startNATS starts the embedded nats-server once and returns its URL.
func (s *Server) startNATS(log *slog.Logger) (string, error) {
	n := &s.nats
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.srv != nil {
		return n.srv.ClientURL(), nil
	}
	if n.err != nil {
		return "", n.err
	}
	dir := ""
	if s.opts.InMemory {
		tmp, err := os.MkdirTemp("", "eddy-nats-")
		if err != nil {
			return "", err
		}
		dir, n.tmp = tmp, tmp
	} else {
		dir = filepath.Join(s.opts.DataDir, "nats")
	}
	srv, err := natsembed.Start(dir, s.opts.NATSListen, log)
	if err != nil {
		n.err = fmt.Errorf("embedded NATS: %w", err)
		return "", n.err
	}
	n.srv = srv
	log.Info("embedded NATS server (JetStream) listening", "url", srv.ClientURL(), "store", dir)
	return srv.ClientURL(), nil
}

func (s *Server) stopNATS() error {
	n := &s.nats
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv = nil
	}
	if n.tmp != "" {
		_ = os.RemoveAll(n.tmp)
		n.tmp = ""
	}
	return nil
}

// NATSURL returns the embedded nats-server's URL, "" when none runs.
func (s *Server) NATSURL() string {
	s.nats.mu.Lock()
	defer s.nats.mu.Unlock()
	if s.nats.srv == nil {
		return ""
	}
	return s.nats.srv.ClientURL()
}

// relayStream makes sure table exists and has a stream (enabling a
// NEW_AND_OLD_IMAGES stream when it has none): relay.Options.EnsureStream.
func (s *Server) relayStream(ctx context.Context, table string) error {
	req, _ := json.Marshal(map[string]string{"TableName": table})
	out, err := s.api.Call(ctx, "DescribeTable", req, "")
	if err != nil {
		if ddberr.As(err).Kind == ddberr.KindResourceNotFound {
			return fmt.Errorf("%w: %s", relay.ErrNoTable, table)
		}
		return err
	}
	var d struct {
		Table struct {
			StreamSpecification *struct{ StreamEnabled bool }
		}
	}
	if err := json.Unmarshal(out, &d); err != nil {
		return err
	}
	if spec := d.Table.StreamSpecification; spec != nil && spec.StreamEnabled {
		return nil
	}
	req, _ = json.Marshal(map[string]any{"TableName": table,
		"StreamSpecification": map[string]any{"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}})
	if _, err := s.api.Call(ctx, "UpdateTable", req, ""); err != nil {
		return fmt.Errorf("enabling table %s's stream: %w", table, err)
	}
	s.log.Info("enabled a stream for a relay", "table", table)
	return nil
}
