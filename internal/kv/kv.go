// Package kv names the writes of one key space, for packages that keep
// their state in eddy's database but must not import package store
// (triggers). store.KeySpace.Write hands its callback a Writer; triggers
// defines the small interface it needs (triggers.KV) in terms of it, and
// store.KeySpace satisfies that interface without either package importing
// the other.
package kv

// Writer adds writes to a batch of one key space; keys are relative to the
// space (its prefix is not part of them). The arguments may be reused once
// a call returns. Nothing is visible until the batch commits.
type Writer interface {
	Set(key, value []byte) error
	Delete(key []byte) error
	// DeleteRange deletes the keys in [lower, upper); a nil upper means the
	// end of the space.
	DeleteRange(lower, upper []byte) error
}
