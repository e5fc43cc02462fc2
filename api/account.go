package api

import "github.com/eddydb/eddy/internal/arn"

// accountIn is the account in region: the ARNs of a table name its own
// region (store.Table.Region), those a request makes its request's.
func (s *Server) accountIn(region string) arn.Account {
	return arn.Account{Region: region, ID: s.opts.AccountID}
}
