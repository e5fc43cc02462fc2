package streams

import "github.com/eddydb/eddy/internal/arn"

// account is the account and region stream ARNs name (Options.Region and
// Options.AccountID).
func (o *Options) account() arn.Account { return arn.Account{Region: o.Region, ID: o.AccountID} }

// arn is the ARN of table's stream label in the default region (Options.Region).
func (l *Log) arn(table, label string) string { return l.opts.account().Stream(table, label) }
