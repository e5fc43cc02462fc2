package api

import (
	"time"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/store"
)

// Usage is what one successful request consumed of one table and returned
// from it, reported to Deps.Usage whether or not the client asked for
// ReturnConsumedCapacity (the CloudWatch metrics are built from it). A
// batch reports one Usage per table. Covered: GetItem, PutItem,
// UpdateItem, DeleteItem, Query, Scan, BatchGetItem, BatchWriteItem,
// TransactWriteItems, TransactGetItems, and PartiQL's ExecuteStatement,
// BatchExecuteStatement and ExecuteTransaction.
type Usage struct {
	Region, Table, Op string
	// Read and Write are the table's own capacity units (a local index
	// read charged to the table included).
	Read, Write float64
	// Indexes are the global indexes' units.
	Indexes []IndexUsage
	// Items is the number of items returned; CountItems is set for the
	// operations DynamoDB reports ReturnedItemCount for (Query, Scan).
	Items      int
	CountItems bool
	// Latency is the time from the request's dispatch to its response
	// rendered.
	Latency time.Duration
}

// IndexUsage is what a request consumed of one global secondary index.
type IndexUsage struct {
	Name        string
	Read, Write float64
}

// usageOf is the call's Usage for table t, added on first use; nil when no
// Deps.Usage is set.
func (c *call) usageOf(t *store.Table) *Usage {
	if !c.metered {
		return nil
	}
	for i := range c.usage {
		if c.usage[i].Table == t.Name {
			return &c.usage[i]
		}
	}
	if c.usage == nil {
		c.usage = c.one[:0]
	}
	c.usage = append(c.usage, Usage{Region: c.region, Table: t.Name, Op: c.op})
	return &c.usage[len(c.usage)-1]
}

func (u *Usage) index(name string) *IndexUsage {
	for i := range u.Indexes {
		if u.Indexes[i].Name == name {
			return &u.Indexes[i]
		}
	}
	u.Indexes = append(u.Indexes, IndexUsage{Name: name})
	return &u.Indexes[len(u.Indexes)-1]
}

// chargeWrite meters a write that turned old into nu: the table's units
// and each global index's (local indexes' units count to the table, as
// DynamoDB's table metric does).
func (c *call) chargeWrite(t *store.Table, old, nu attr.Item) {
	if !c.metered {
		return
	}
	var tu tableUnits
	tu.addWrite(t, old, nu)
	c.addUnits(t, &tu)
}

// addUnits adds a write's tableUnits to t's usage. A buffered write's
// (a trigger handler's, committed later) are left to the commit: its call
// reports only its latency.
func (c *call) addUnits(t *store.Table, tu *tableUnits) {
	u := c.usageOf(t)
	if u == nil || c.buffered {
		return
	}
	u.Write += tu.units
	for _, ix := range tu.indexes {
		if ix.global {
			u.index(ix.name).Write += ix.units
		} else {
			u.Write += ix.units
		}
	}
}

// chargeTx meters a transaction of writes as txCapacity charges it:
// twice the table's units, the indexes' as a single write.
func (c *call) chargeTx(plans []txPlan, muts []store.Mutation, res []store.Result) {
	if !c.metered {
		return
	}
	for i, p := range plans {
		check, nu := muts[i].ReadOnly, res[i].New
		if check {
			nu = res[i].Old
		}
		var tu tableUnits
		tu.addTxWrite(p.t, res[i].Old, nu, check)
		c.addUnits(p.t, &tu)
	}
}

// chargeTxReads meters transactional reads: twice the strongly
// consistent units of each item, as transactReadResponse charges them.
func (c *call) chargeTxReads(refs []store.ItemRef, items []attr.Item) {
	for i, it := range items {
		c.chargeRead(refs[i].Table, nil, 2*readUnits(attr.ItemSize(it), true), 0, b2i(it != nil))
	}
}

// chargeRead meters a read of the table (tableUnits) and of index ix
// (indexUnits; nil ix or a local one: the table), returning items items.
func (c *call) chargeRead(t *store.Table, ix *store.Index, tableUnits, indexUnits float64, items int) {
	u := c.usageOf(t)
	if u == nil {
		return
	}
	u.Read += tableUnits
	if ix != nil && ix.Global {
		u.index(ix.Name).Read += indexUnits
	} else {
		u.Read += indexUnits
	}
	u.Items += items
	u.CountItems = c.op == "Query" || c.op == "Scan" || c.op == "ExecuteStatement"
}

// report hands the call's usage to Deps.Usage once it succeeded.
func (s *Server) report(c *call, start time.Time) {
	if !c.metered || len(c.usage) == 0 {
		return
	}
	d := time.Since(start)
	for i := range c.usage {
		c.usage[i].Latency = d
		s.usage(&c.usage[i])
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
