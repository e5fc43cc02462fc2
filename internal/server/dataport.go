package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/eddydb/eddy/dataport"
	"github.com/eddydb/eddy/dataport/s3dest"
)

// newDataport builds the export and import manager: S3 through s3dest at
// Options.S3Endpoint, tables created through the api's CreateTable, item
// errors into the CloudWatch Logs surface. s.api and s.fnlogs are read
// when a job runs, after New has set them.
func (s *Server) newDataport(log *slog.Logger) *dataport.Manager {
	return dataport.New(s.db, dataport.Options{
		Region: s.opts.Region, AccountID: s.opts.AccountID,
		Open:     s3dest.Opener(s3dest.Options{Endpoint: s.opts.S3Endpoint}),
		Tables:   dataportTables{s},
		ErrorLog: dataportLogs{s},
		History:  pitrHistory{s},
		Logger:   log,
		Now:      s.opts.Clock,
	})
}

func dataportOps(m *dataport.Manager) map[string]func(context.Context, string, func(any) error) (any, error) {
	out := map[string]func(context.Context, string, func(any) error) (any, error){}
	for name, op := range m.Ops() {
		out[name] = op
	}
	return out
}

type dataportTables struct{ s *Server }

func (t dataportTables) CreateTable(ctx context.Context, region string, req []byte) error {
	_, err := t.s.api.CallIn(ctx, region, "CreateTable", req, "")
	return err
}

type dataportLogs struct{ s *Server }

func (l dataportLogs) Append(region, group, stream string, t time.Time, msg string) {
	if l.s.fnlogs != nil {
		l.s.fnlogs.Append(region, group, stream, t, msg)
	}
}
