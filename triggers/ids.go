package triggers

import (
	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/internal/uuid"
)

// newRevision returns a fresh ID: a function's or alias's RevisionId, an
// invocation's request ID. It is a random UUID (internal/uuid), as Lambda's.
func newRevision() string { return uuid.New() }

// account is the account and region function ARNs name (Options.Region
// and Options.Account).
func (o *Options) account() arn.Account { return arn.Account{Region: o.Region, ID: o.Account} }
