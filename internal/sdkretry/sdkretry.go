// Package sdkretry is the aws-sdk-go-v2 retry policy of eddy's own clients
// (tests, the benchmark harness): every server error is reported on the
// first attempt, and only one client-side race is retried.
package sdkretry

import (
	"errors"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// ClosedConn retries only net.ErrClosed ("use of closed network
// connection"): a race between Go's HTTP transport and the SDK's response
// handling that aws-sdk-go-v2 itself retries by default (aws-sdk-go-v2
// issues 1825 and 2737, PR 2949). With retries fully off it surfaces as a
// rare client-side failure unrelated to the server, against the benchmark's
// null endpoint and eddy alike. Every error the server returns is still
// reported on the first attempt.
func ClosedConn() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.MaxBackoff = 10 * time.Millisecond
		o.RateLimiter = ratelimit.None
		o.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if errors.Is(err, net.ErrClosed) {
				return aws.TrueTernary
			}
			return aws.FalseTernary
		})}
	})
}
