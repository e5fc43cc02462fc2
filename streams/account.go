package streams

import "github.com/eddydb/eddy/internal/arn"

// account is the account and region stream ARNs name (Options.Region and
// Options.AccountID).
func (o *Options) account() arn.Account { return arn.Account{Region: o.Region, ID: o.AccountID} }
