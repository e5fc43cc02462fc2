package api

import "github.com/eddydb/eddy/internal/arn"

// account is the account and region the server's ARNs name
// (Options.Region and Options.AccountID).
func (s *Server) account() arn.Account {
	return arn.Account{Region: s.opts.Region, ID: s.opts.AccountID}
}
