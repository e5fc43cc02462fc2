// Package capacity enforces DynamoDB's throughput rules: a table's (and
// each global secondary index's) read and write capacity, spread over
// partitions sized the way DynamoDB sizes them, with burst and adaptive
// capacity, GSI back-pressure and on-demand maximums.
//
// # Where it sits
//
// The limiter charges the units eddy already computes for ConsumedCapacity
// (1 write unit per started KB of the larger of the old and new item, twice
// that in a transaction, and as much again for each global index the write
// changes; 1 read unit per started 4 KB, half for an eventually consistent
// read). Writes are admitted inside store.DB.Write through the
// store.Admitter seam: after every Apply ran (so the item sizes are known)
// and before the batch is built, with the items locked (a trigger handler's
// buffered writes when its mapping commits them). A refused write
// therefore writes nothing, makes no stream record and runs no trigger, and
// consumes nothing. Reads are admitted by package api before they read and
// charged after, with what they read (transactional reads at twice the
// strongly consistent units; a refused one cancels its transaction:
// TransactionRefusal).
//
// # The model
//
//   - Partitions: max(ceil(RCU/3000 + WCU/1000), ceil(size/10 GB), 1), never
//     fewer than the table had (DynamoDB splits, never merges). Partition i
//     of n owns the partition-key hashes [i·2⁶⁴/n, (i+1)·2⁶⁴/n): the same
//     shards.Hash the store and the streams use.
//   - A token bucket per table (and per GSI) and direction, refilled at the
//     provisioned rate, holding at most BurstSeconds (300) of unused units:
//     burst capacity. A bucket may go into debt: a request is admitted while
//     its bucket holds any tokens, then charged what it consumed (an item
//     larger than the burst can still be written, slowly).
//   - Adaptive capacity: a partition may use the table's unused throughput
//     (the table's bucket), but never more than the per-partition ceiling
//     of 3,000 read or 1,000 write units a second (a bucket per partition
//     holding one second of the ceiling). A single hot partition key is
//     therefore capped at the ceiling, whatever the table's provisioning.
//   - Split for heat (heat.go): a partition hot for SplitForHeatAfter is
//     split where the load of its keys balances, so hot keys sharing a
//     partition end in partitions of their own; one key never is.
//   - GSI back-pressure: a write that changes a global index's entries is
//     charged to the index too, and refused when the index's bucket (or the
//     partition of the index key) is empty; writes that do not touch the
//     index are not.
//   - On demand: no provisioned ceiling. OnDemandThroughput maximums (table
//     and index) are buckets of one second; the per-partition ceilings
//     apply. Sudden growth: traffic may reach twice the previous peak; the
//     peak (a second's consumption) counts as previous once it is 30 minutes
//     old; a new table's previous peak is half of 4,000 write and 12,000
//     read units.
//
// In Report mode nothing is refused: what would have been throttled is
// counted (metrics, Observer) and the units are charged as usual.
//
// Safe for concurrent use: one mutex guards all state; a charge is a few
// float operations under it.
package capacity
