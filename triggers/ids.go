package triggers

import (
	"cmp"
	"strings"

	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/internal/uuid"
)

// newRevision returns a fresh ID: a function's or alias's RevisionId, an
// invocation's request ID. It is a random UUID (internal/uuid), as Lambda's.
func newRevision() string { return uuid.New() }

// account is the account and region function ARNs name (Options.Region
// and Options.Account).
func (o *Options) account() arn.Account { return arn.Account{Region: o.Region, ID: o.Account} }

// Functions are per region, as Lambda's are: a function created through one
// region's endpoint is invisible through another's. The Host names a
// function by its key: the plain name in the data directory's home region
// (Options.HomeRegion), "<region>/<name>" in any other. Lambda function names
// cannot hold '/', so the two forms never collide, and a data directory
// from before regions (every function in the home region) needs no
// migration. The key is what every Host method takes as name and what
// FunctionConfig.Name and LogEvent.Function hold; FunctionARN, the log
// group and the protocol layers show only the name part.

// FunctionKey is the key of the function called name in region (empty: the
// home region).
func (h *Host) FunctionKey(region, name string) string {
	if region == "" || region == h.opts.HomeRegion {
		return name
	}
	return region + "/" + name
}

// SplitFunctionKey splits a function key into its region (empty: the home
// region) and its name.
func SplitFunctionKey(key string) (region, name string) {
	if i := strings.IndexByte(key, '/'); i >= 0 {
		return key[:i], key[i+1:]
	}
	return "", key
}

// FunctionName is the name part of a function key, as Lambda shows it.
func FunctionName(key string) string {
	_, name := SplitFunctionKey(key)
	return name
}

// RegionOf is the region of a function key, the home region resolved.
func (h *Host) RegionOf(key string) string {
	region, _ := SplitFunctionKey(key)
	return cmp.Or(region, h.opts.HomeRegion)
}
