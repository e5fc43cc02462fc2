package streams

import (
	"errors"
	"log/slog"
	"time"

	"github.com/eddydb/eddy/internal/arn"
)

// Options configure a Log. Zero values mean the documented defaults.
type Options struct {
	// Region and AccountID appear in stream ARNs. Defaults "us-east-1" and
	// "000000000000" (package api passes its own).
	Region    string
	AccountID string
	// ShardCount is the number of shards a new stream starts with; they
	// split the partition-key hash space evenly. Default 4: enough that
	// concurrent writers to different items rarely share a shard's
	// visibility lock, few enough that a consumer's shard walk stays short.
	ShardCount int
	// RolloverInterval closes each open shard this long after it opened and
	// replaces it by a child shard (ParentShardId = the closed one), as
	// DynamoDB does about every 4 hours. Default 4h.
	RolloverInterval time.Duration
	// SplitWritesPerSecond splits an open shard into two children when its
	// write rate, measured over one maintenance interval, exceeds it.
	// Default 10000. Negative disables splits.
	SplitWritesPerSecond float64
	// MaxOpenShards bounds splits: a stream never has more open shards.
	// Default 64.
	MaxOpenShards int
	// Retention is how long records stay readable; older records are
	// trimmed, and a closed shard disappears this long after it closed.
	// Default 24h, as DynamoDB.
	Retention time.Duration
	// IteratorTTL is how long a shard iterator stays valid. Default 15m, as
	// DynamoDB; after it, GetRecords gives ExpiredIteratorException.
	IteratorTTL time.Duration
	// MaintenanceInterval is the period of the background work: rollover,
	// splits, trimming, closing the streams of disabled or deleted tables.
	// Default 1s.
	MaintenanceInterval time.Duration
	// Now is the clock for record times, iterator expiry, rollover and
	// retention. Default time.Now. Tests inject one.
	Now func() time.Time
	// Logger is where background failures are logged; nil discards.
	Logger *slog.Logger
}

// EnsureDefaults fills in defaults.
func (o *Options) EnsureDefaults() {
	if o.Region == "" {
		o.Region = arn.DefaultRegion
	}
	if o.AccountID == "" {
		o.AccountID = arn.DefaultAccount
	}
	if o.ShardCount == 0 {
		o.ShardCount = 4
	}
	if o.RolloverInterval == 0 {
		o.RolloverInterval = 4 * time.Hour
	}
	if o.SplitWritesPerSecond == 0 {
		o.SplitWritesPerSecond = 10000
	}
	if o.MaxOpenShards == 0 {
		o.MaxOpenShards = 64
	}
	if o.Retention == 0 {
		o.Retention = 24 * time.Hour
	}
	if o.IteratorTTL == 0 {
		o.IteratorTTL = 15 * time.Minute
	}
	if o.MaintenanceInterval == 0 {
		o.MaintenanceInterval = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Validate reports every problem with the options at once.
func (o *Options) Validate() error {
	var errs []error
	if o.ShardCount < 1 || o.ShardCount > 1024 {
		errs = append(errs, errors.New("streams: Options.ShardCount must be in 1..1024"))
	}
	if o.MaxOpenShards < o.ShardCount {
		errs = append(errs, errors.New("streams: Options.MaxOpenShards must be at least ShardCount"))
	}
	if o.RolloverInterval < 0 || o.Retention < 0 || o.IteratorTTL < 0 || o.MaintenanceInterval < 0 {
		errs = append(errs, errors.New("streams: durations must not be negative"))
	}
	return errors.Join(errs...)
}
