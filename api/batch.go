package api

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/capacity"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/store/expr"
)

// Batch limits, as DynamoDB documents them.
const (
	maxBatchGetKeys      = 100
	maxBatchWriteItems   = 25
	maxBatchGetRespBytes = 16 << 20 // 16 MB of items per BatchGetItem response
)

func (s *Server) registerBatchOps() {
	s.ops["BatchGetItem"] = s.batchGetItem
	s.ops["BatchWriteItem"] = s.batchWriteItem
}

// keysAndAttributes is one table's entry of BatchGetItem's RequestItems
// (and of UnprocessedKeys, which echoes everything but the keys read).
type keysAndAttributes struct {
	Keys                     []attr.Item       `json:"Keys"`
	AttributesToGet          []string          `json:"AttributesToGet,omitempty"`
	ConsistentRead           *bool             `json:"ConsistentRead,omitempty"`
	ProjectionExpression     *string           `json:"ProjectionExpression,omitempty"`
	ExpressionAttributeNames map[string]string `json:"ExpressionAttributeNames,omitempty"`
}

// tableUnits is one entry of a ConsumedCapacity list.
type tableUnits struct {
	table       string
	units       float64 // the table's own; total() adds the indexes'
	read, write float64 // transactional operations also report these
	indexes     []indexUnits
}

// indexUnits is the write capacity charged to one secondary index.
type indexUnits struct {
	name   string
	global bool
	units  float64
}

func (u *tableUnits) total() float64 {
	n := u.units
	for _, ix := range u.indexes {
		n += ix.units
	}
	return n
}

// addWrite charges a write that turned old into nu (either may be nil):
// the table's units, and each secondary index's whose stored view of the
// item the write changed. An index pays for inserting the new entry, for
// deleting the old one (both when the index key changed), or for
// rewriting an entry whose projection changed; an entry the write left as
// it was costs nothing, so an identical overwrite charges the table alone.
func (u *tableUnits) addWrite(t *store.Table, old, nu attr.Item) {
	u.units += writeUnits(old, nu)
	u.addIndexWrites(t, old, nu)
}

// addTxWrite charges one action of a transaction of writes that turned old
// into nu (a check that writes nothing passes nu == old): twice the
// table's write units, as WriteCapacityUnits too, and each secondary
// index what the same write costs outside a transaction. DynamoDB doubles
// the table's arm alone (measured in eu-west-2, 2026-08-13: a Put into a
// GSI reports total 3, table 2, index 1; a GSI key move on a 1.5 KB item
// total 8, table 4, index 4; dynoxide's tests/transact_index_capacity.rs
// records the capture, and its pull request #188 the rule).
func (u *tableUnits) addTxWrite(t *store.Table, old, nu attr.Item, check bool) {
	n := 2 * writeUnits(old, nu)
	u.units += n
	u.write += n
	if !check {
		u.addIndexWrites(t, old, nu)
	}
}

// addIndexWrites charges the secondary indexes for a write that turned old
// into nu (see addWrite).
func (u *tableUnits) addIndexWrites(t *store.Table, old, nu attr.Item) {
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		o, n := ix.Entry(t, old), ix.Entry(t, nu)
		var units float64
		switch {
		case o == nil && n == nil:
			continue
		case o == nil:
			units = writeUnits(nil, n)
		case n == nil:
			units = writeUnits(o, nil)
		case !sameIndexKey(ix, o, n):
			units = writeUnits(o, nil) + writeUnits(nil, n)
		case attr.ItemsEqual(o, n):
			continue
		default:
			units = writeUnits(o, n)
		}
		found := false
		for j := range u.indexes {
			if u.indexes[j].name == ix.Name {
				u.indexes[j].units += units
				found = true
				break
			}
		}
		if !found {
			u.indexes = append(u.indexes, indexUnits{name: ix.Name, global: ix.Global, units: units})
		}
	}
}

// sameIndexKey reports whether two entries of an index have the same
// index key values.
func sameIndexKey(ix *store.Index, a, b attr.Item) bool {
	for _, n := range ix.KeyNames() {
		if !attr.Equal(a[n], b[n]) {
			return false
		}
	}
	return true
}

// capacityByTable sums consumed capacity per table, in first-seen order
// (the order the batch and transaction responses list tables in).
type capacityByTable struct {
	list []tableUnits
	idx  map[string]int
}

// add charges units to table, as read or as write units.
func (c *capacityByTable) add(table string, units float64, read bool) {
	u := c.entry(table)
	u.units += units
	if read {
		u.read += units
	} else {
		u.write += units
	}
}

// entry is table's entry, added at the end the first time (the pointer is
// good until the next call).
func (c *capacityByTable) entry(table string) *tableUnits {
	if c.idx == nil {
		c.idx = map[string]int{}
	}
	j, ok := c.idx[table]
	if !ok {
		j = len(c.list)
		c.idx[table] = j
		c.list = append(c.list, tableUnits{table: table})
	}
	return &c.list[j]
}

// appendCapacityList renders ConsumedCapacity as the list the batch and
// transaction operations return (one entry per table, in request order).
func (r *respWriter) capacityList(mode string, list []tableUnits) {
	if mode != "TOTAL" && mode != "INDEXES" {
		return
	}
	r.key("ConsumedCapacity")
	r.buf = append(r.buf, '[')
	for i := range list {
		if i > 0 {
			r.buf = append(r.buf, ',')
		}
		r.buf = list[i].appendJSON(r.buf, mode)
	}
	r.buf = append(r.buf, ']')
}

// appendJSON renders one ConsumedCapacity object. Only INDEXES breaks the
// total down, and only into the indexes that were charged: an index the
// operation left alone has no entry (nor, when none was charged, a map).
func (u *tableUnits) appendJSON(b []byte, mode string) []byte {
	b = append(b, `{"TableName":`...)
	b = attr.AppendJSONString(b, u.table)
	b = append(b, `,"CapacityUnits":`...)
	b = append(b, strconvFloat(u.total())...)
	if u.read > 0 {
		b = append(b, `,"ReadCapacityUnits":`...)
		b = append(b, strconvFloat(u.read)...)
	}
	if u.write > 0 {
		// Index units are write units: the top level counts them, the
		// Table detail below does not.
		w := u.write
		for _, ix := range u.indexes {
			w += ix.units
		}
		b = append(b, `,"WriteCapacityUnits":`...)
		b = append(b, strconvFloat(w)...)
	}
	if mode != "INDEXES" {
		return append(b, '}')
	}
	b = append(b, `,"Table":{"CapacityUnits":`...)
	b = append(b, strconvFloat(u.units)...)
	if u.read > 0 {
		b = append(b, `,"ReadCapacityUnits":`...)
		b = append(b, strconvFloat(u.read)...)
	}
	if u.write > 0 {
		b = append(b, `,"WriteCapacityUnits":`...)
		b = append(b, strconvFloat(u.write)...)
	}
	b = append(b, '}')
	for _, global := range []bool{true, false} {
		first := true
		for _, ix := range u.indexes {
			if ix.global != global {
				continue
			}
			switch {
			case first && global:
				b = append(b, `,"GlobalSecondaryIndexes":{`...)
			case first:
				b = append(b, `,"LocalSecondaryIndexes":{`...)
			default:
				b = append(b, ',')
			}
			first = false
			b = attr.AppendJSONString(b, ix.name)
			b = append(b, `:{"CapacityUnits":`...)
			b = append(b, strconvFloat(ix.units)...)
			b = append(b, '}')
		}
		if !first {
			b = append(b, '}')
		}
	}
	return append(b, '}')
}

// encodedKey is an item's identity inside one request (duplicate checks):
// the table's name and the order-preserving encoding of its key values.
func encodedKey(t *store.Table, key attr.Item) string {
	b := append([]byte(t.Name), 0)
	b = attr.AppendKey(b, key[t.Hash.Name])
	if t.Range != nil {
		b = attr.AppendKey(b, key[t.Range.Name])
	}
	return string(b)
}

// sortedTables returns a map's table names in a stable order, so that the
// same request is processed (and cut at the size limit) the same way.
func sortedTables[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// requestItemsConstraints checks the RequestItems map's table names the way
// DynamoDB's front end does. An empty map is reported alone, as a missing
// TableName is (op names the operation in the message).
func requestItemsConstraints[V any](v *constraints, op string, m map[string]V, present bool) {
	v.notNull(present, "requestItems")
	if present && len(m) == 0 && v.first == nil {
		v.first = ddberr.Validationf("The requestItems parameter is required for %s", op)
	}
	for name := range m {
		if len(name) < 3 || len(name) > 255 || !validName(name) {
			v.fail(name, "requestItems", "Map keys must satisfy constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal to 3, Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]")
			return
		}
	}
}

// mixedProjection is the error for AttributesToGet used with a
// ProjectionExpression, in one table's block or across tables.
func mixedProjection() error {
	return ddberr.Validationf("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}")
}

// getProjection compiles a table entry's ProjectionExpression or
// AttributesToGet (nil: whole items).
func getProjection(ka *keysAndAttributes) (*expr.Projection, error) {
	if ka.ProjectionExpression != nil && ka.AttributesToGet != nil {
		return nil, mixedProjection()
	}
	if ka.AttributesToGet != nil {
		return legacyProjection(ka.AttributesToGet)
	}
	comp, err := compileExprs(&exprInput{ExpressionAttributeNames: ka.ExpressionAttributeNames}, "", ka.ProjectionExpression != nil)
	if err != nil {
		return nil, err
	}
	var proj *expr.Projection
	if ka.ProjectionExpression != nil {
		if proj, err = comp.Projection(*ka.ProjectionExpression); err != nil {
			return nil, err
		}
	}
	return proj, comp.CheckUnused()
}

func (s *Server) batchGetItem(ctx context.Context, c *call) (any, error) {
	var in struct {
		RequestItems           map[string]*keysAndAttributes `json:"RequestItems"`
		ReturnConsumedCapacity string                        `json:"ReturnConsumedCapacity"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	v.enum(in.ReturnConsumedCapacity, "returnConsumedCapacity", "INDEXES", "TOTAL", "NONE")
	requestItems := in.RequestItems
	requestItemsConstraints(&v, "BatchGetItem", requestItems, requestItems != nil)
	for _, name := range sortedTables(requestItems) {
		ka := requestItems[name]
		if ka == nil {
			continue
		}
		at := "requestItems." + name + ".member.keys"
		v.notNull(ka.Keys != nil, at)
		v.listLength(len(ka.Keys), ka.Keys != nil, at, 0)
		if len(ka.Keys) > maxBatchGetKeys {
			v.failUnechoed("RequestItems."+name+".member.Keys", maxLength(maxBatchGetKeys)) // not echoed, unlike other lists
		}
		v.listLength(len(ka.AttributesToGet), ka.AttributesToGet != nil, "requestItems."+name+".member.attributesToGet", 0)
	}
	if err := v.err(); err != nil {
		return nil, err
	}

	type tableReq struct {
		name  string
		t     *store.Table
		ka    *keysAndAttributes
		proj  *expr.Projection
		cons  bool
		units float64
		// throttled are the keys the capacity limiter refused.
		throttled []attr.Item
	}
	// Nor may the tables mix them: DynamoDB refuses a request with a
	// ProjectionExpression on one table and AttributesToGet on another.
	var exprProj, legacyProj bool
	for _, ka := range requestItems {
		if ka != nil {
			exprProj = exprProj || ka.ProjectionExpression != nil
			legacyProj = legacyProj || ka.AttributesToGet != nil
		}
	}
	if exprProj && legacyProj {
		return nil, mixedProjection()
	}
	names := sortedTables(requestItems)
	reqs := make([]*tableReq, 0, len(names))
	total := 0
	seen := map[string]bool{}
	for _, name := range names {
		ka := requestItems[name]
		if ka == nil {
			ka = &keysAndAttributes{}
		}
		proj, err := getProjection(ka)
		if err != nil {
			return nil, err
		}
		t := s.db.TableIn(c.region, name)
		r := &tableReq{name: name, t: t, ka: ka, proj: proj, cons: ka.ConsistentRead != nil && *ka.ConsistentRead}
		for _, key := range ka.Keys {
			total++
			if total > maxBatchGetKeys {
				return nil, ddberr.Validationf("Too many items requested for the BatchGetItem call")
			}
			if t == nil {
				continue
			}
			if err := t.ValidateKey(key); err != nil {
				return nil, err
			}
			k := encodedKey(t, key)
			if seen[k] {
				return nil, ddberr.Validationf("Provided list of item keys contains duplicates")
			}
			seen[k] = true
			if r.cons {
				if err := s.barrier(ctx, t, key); err != nil { // MRSC (strong.go)
					return nil, err
				}
			}
		}
		if t == nil {
			return nil, ddberr.NotFound()
		}
		reqs = append(reqs, r)
	}

	responses := map[string][]attr.Item{}
	unprocessed := map[string]*keysAndAttributes{}
	size := 0
	full := false
	// Each key is admitted on its own by the capacity limiter: a throttled
	// key is an UnprocessedKey, and the error is returned only when every
	// key was throttled (as DynamoDB does).
	var refusal error
	served := false
	for _, r := range reqs {
		for i, key := range r.ka.Keys {
			if full {
				u := *r.ka
				u.Keys = append(r.throttled, r.ka.Keys[i:]...)
				r.throttled = nil
				unprocessed[r.name] = &u
				break
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			pk := key[r.t.Hash.Name]
			rd := capacity.Read{Table: r.t, Key: &pk, Op: c.op}
			if err := s.admitRead(rd); err != nil {
				refusal = err
				r.throttled = append(r.throttled, key)
				continue
			}
			served = true
			it, err := s.db.Get(r.t, key)
			if err != nil {
				return nil, err
			}
			n := attr.ItemSize(it)
			s.chargeRead(rd, readUnits(n, r.cons))
			r.units += readUnits(n, r.cons)
			if it == nil {
				continue
			}
			if r.proj != nil {
				it = r.proj.Apply(it)
			}
			// An item that would carry the response past 16 MB is left for
			// the next call, with every key after it.
			if rs := attr.ItemSize(it); size+rs > maxBatchGetRespBytes {
				full = true
				r.units -= readUnits(n, r.cons)
				u := *r.ka
				u.Keys = append(r.throttled, r.ka.Keys[i:]...)
				r.throttled = nil
				unprocessed[r.name] = &u
				break
			} else {
				size += rs
			}
			responses[r.name] = append(responses[r.name], it)
		}
		if len(r.throttled) > 0 {
			u := *r.ka
			u.Keys = r.throttled
			unprocessed[r.name] = &u
		}
		if _, ok := responses[r.name]; !ok {
			responses[r.name] = []attr.Item{}
		}
	}
	if refusal != nil && !served {
		return nil, refusal
	}

	out := respWriter{}
	out.key("Responses")
	out.buf = append(out.buf, '{')
	for i, r := range reqs {
		if i > 0 {
			out.buf = append(out.buf, ',')
		}
		out.buf = attr.AppendJSONString(out.buf, r.name)
		out.buf = append(out.buf, ":["...)
		for j, it := range responses[r.name] {
			if j > 0 {
				out.buf = append(out.buf, ',')
			}
			out.buf = attr.AppendItemJSON(out.buf, it)
		}
		out.buf = append(out.buf, ']')
	}
	out.buf = append(out.buf, '}')
	uk, err := json.Marshal(unprocessed)
	if err != nil {
		return nil, err
	}
	out.raw("UnprocessedKeys", uk)
	list := make([]tableUnits, 0, len(reqs))
	for _, r := range reqs {
		list = append(list, tableUnits{table: r.name, units: r.units})
		if c.metered {
			if t := s.db.TableIn(c.region, r.name); t != nil {
				c.chargeRead(t, nil, r.units, 0, len(responses[r.name]))
			}
		}
	}
	out.capacityList(in.ReturnConsumedCapacity, list)
	return out.done(), nil
}

// writeRequest is one entry of BatchWriteItem's lists.
type writeRequest struct {
	PutRequest *struct {
		Item attr.Item `json:"Item"`
	} `json:"PutRequest,omitempty"`
	DeleteRequest *struct {
		Key attr.Item `json:"Key"`
	} `json:"DeleteRequest,omitempty"`
}

func (s *Server) batchWriteItem(ctx context.Context, c *call) (any, error) {
	var in struct {
		RequestItems                map[string][]writeRequest `json:"RequestItems"`
		ReturnConsumedCapacity      string                    `json:"ReturnConsumedCapacity"`
		ReturnItemCollectionMetrics string                    `json:"ReturnItemCollectionMetrics"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	v.enum(in.ReturnConsumedCapacity, "returnConsumedCapacity", "INDEXES", "TOTAL", "NONE")
	v.enum(in.ReturnItemCollectionMetrics, "returnItemCollectionMetrics", "SIZE", "NONE")
	requestItems := in.RequestItems
	requestItemsConstraints(&v, "BatchWriteItem", requestItems, requestItems != nil)
	for _, name := range sortedTables(requestItems) {
		if n := len(requestItems[name]); n < 1 || n > maxBatchWriteItems {
			v.fail(javaWriteRequests(requestItems), "requestItems", "Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]")
			break
		}
	}
	for _, name := range sortedTables(requestItems) {
		for i, wr := range requestItems[name] {
			at := "requestItems." + name + ".member." + itoa(i+1) + ".member"
			if wr.PutRequest != nil {
				v.notNull(wr.PutRequest.Item != nil, at+".putRequest.item")
			}
			if wr.DeleteRequest != nil {
				v.notNull(wr.DeleteRequest.Key != nil, at+".deleteRequest.key")
			}
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	total := 0
	for _, reqs := range requestItems {
		for _, wr := range reqs {
			if (wr.PutRequest == nil) == (wr.DeleteRequest == nil) {
				return nil, ddberr.Validationf("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
			}
			total++
		}
	}
	if total > maxBatchWriteItems {
		return nil, ddberr.Validationf("Too many items requested for the BatchWriteItem call")
	}
	// A Put item nested past the limit is refused before any table is
	// looked at, with the bare message (dynamodb-conformance,
	// tests/tier3/limits/nestingDepth.test.ts, us-east-1 and eu-west-2).
	for _, name := range sortedTables(requestItems) {
		for _, wr := range requestItems[name] {
			if wr.PutRequest != nil && attr.ItemTooDeep(wr.PutRequest.Item) {
				return nil, ddberr.Validationf("%s", attr.MsgNesting)
			}
			// A name over 65535 bytes: the same place and form as the
			// nesting check; DynamoDB's answer to a BatchWriteItem is not
			// recorded (ExtendDB #347 enforces the limit there).
			if wr.PutRequest != nil && attr.ItemLongName(wr.PutRequest.Item) {
				return nil, ddberr.Validationf("%s", attr.MsgNameTooLarge)
			}
		}
	}

	// Everything is checked before anything is written: a bad request or a
	// missing table writes nothing (as DynamoDB).
	names := sortedTables(requestItems)
	muts := make([]store.Mutation, 0, total)
	wrs := make([]writeRequest, 0, total) // wrs[i] is muts[i]'s request (UnprocessedItems)
	seen := map[string]bool{}
	for _, name := range names {
		t := s.db.TableIn(c.region, name)
		if t == nil {
			return nil, ddberr.NotFound()
		}
		for _, wr := range requestItems[name] {
			var key attr.Item
			m := store.Mutation{Table: t}
			if wr.PutRequest != nil {
				item := wr.PutRequest.Item
				if putKeyMismatch(t, item) {
					return nil, ddberr.Validationf("The provided key element does not match the schema")
				}
				if err := t.ValidateItem(item); err != nil {
					return nil, err
				}
				key = t.KeyOf(item)
				m.Apply = func(attr.Item) (attr.Item, error) { return item, nil }
			} else {
				key = wr.DeleteRequest.Key
				if err := t.ValidateKey(key); err != nil {
					return nil, err
				}
				m.Apply = func(attr.Item) (attr.Item, error) { return nil, nil }
			}
			k := encodedKey(t, key)
			if seen[k] {
				return nil, ddberr.Validationf("Provided list of item keys contains duplicates")
			}
			seen[k] = true
			m.Key = key
			muts = append(muts, m)
			wrs = append(wrs, wr)
		}
	}
	// One Write: the items commit in one synced batch (one fsync for the
	// whole request). No mutation here can fail its Apply, so the batch
	// never cancels. The capacity limiter may refuse some items (Partial):
	// they are UnprocessedItems, as DynamoDB returns the items it throttled
	// (and ProvisionedThroughputExceededException when it throttled all).
	for _, m := range muts {
		if err := s.barrier(ctx, m.Table, m.Key); err != nil { // MRSC (strong.go)
			return nil, err
		}
	}
	res, err := s.db.Write(ctx, store.WriteOptions{Principal: principal(c), Metering: store.MeterStandard, Op: c.op, Partial: true}, muts...)
	if err != nil {
		return nil, err
	}
	for i, m := range muts {
		c.chargeWrite(m.Table, res[i].Old, res[i].New)
	}
	out := respWriter{}
	out.raw("UnprocessedItems", unprocessedItems(muts, wrs, res))
	written := muts
	for i := range res {
		if res[i].Throttled {
			written = make([]store.Mutation, 0, len(muts))
			for j := range muts {
				if !res[j].Throttled {
					written = append(written, muts[j])
				}
			}
			break
		}
	}
	if in.ReturnConsumedCapacity == "TOTAL" || in.ReturnConsumedCapacity == "INDEXES" {
		var consumed capacityByTable
		for _, n := range names {
			consumed.entry(n) // listed in names' order
		}
		for i, m := range muts {
			if !res[i].Throttled {
				consumed.entry(m.Table.Name).addWrite(m.Table, res[i].Old, res[i].New)
			}
		}
		out.capacityList(in.ReturnConsumedCapacity, consumed.list)
	}
	if err := s.collectionMetricsByTable(&out, in.ReturnItemCollectionMetrics, written); err != nil {
		return nil, err
	}
	return out.done(), nil
}

// collectionMetricsByTable adds the ItemCollectionMetrics map of
// BatchWriteItem and TransactWriteItems when the request asked for SIZE:
// for each table with a local secondary index, one entry per partition key
// value the request wrote (condition checks write nothing).
func (s *Server) collectionMetricsByTable(out *respWriter, mode string, muts []store.Mutation) error {
	if mode != "SIZE" {
		return nil
	}
	type collection struct {
		t  *store.Table
		pk attr.Value
	}
	var tables []string
	byTable := map[string][]collection{}
	seen := map[string]bool{}
	for _, m := range muts {
		t := m.Table
		if m.ReadOnly || !t.HasLocalIndexes() {
			continue
		}
		pk := m.Key[t.Hash.Name]
		k := t.Name + "\x00" + string(attr.AppendKey(nil, pk))
		if seen[k] {
			continue
		}
		seen[k] = true
		if _, ok := byTable[t.Name]; !ok {
			tables = append(tables, t.Name)
		}
		byTable[t.Name] = append(byTable[t.Name], collection{t, pk})
	}
	if len(tables) == 0 {
		return nil
	}
	buf := []byte{'{'}
	for i, name := range tables {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = attr.AppendJSONString(buf, name)
		buf = append(buf, ":["...)
		for j, c := range byTable[name] {
			if j > 0 {
				buf = append(buf, ',')
			}
			var err error
			if buf, err = s.appendCollectionMetrics(buf, c.t, c.pk); err != nil {
				return err
			}
		}
		buf = append(buf, ']')
	}
	out.raw("ItemCollectionMetrics", append(buf, '}'))
	return nil
}

// putKeyMismatch reports whether a put request's item lacks a key
// attribute or has one of the wrong type, which BatchWriteItem refuses as a
// key that does not match the schema (PutItem names the missing key or the
// mismatch instead).
func putKeyMismatch(t *store.Table, item attr.Item) bool {
	for _, ke := range t.KeyElements() {
		if v, ok := item[ke.Name]; !ok || v.Type() != ke.Type {
			return true
		}
	}
	return false
}

// unprocessedItems renders BatchWriteItem's UnprocessedItems: the requests
// the capacity limiter throttled, by table, in the request's shape.
func unprocessedItems(muts []store.Mutation, wrs []writeRequest, res []store.Result) []byte {
	b := []byte{'{'}
	table := ""
	for i := range res {
		if !res[i].Throttled {
			continue
		}
		if name := muts[i].Table.Name; name != table {
			if table != "" {
				b = append(b, "],"...)
			}
			table = name
			b = attr.AppendJSONString(b, name)
			b = append(b, ":["...)
		} else {
			b = append(b, ',')
		}
		if wr := wrs[i]; wr.PutRequest != nil {
			b = append(b, `{"PutRequest":{"Item":`...)
			b = attr.AppendItemJSON(b, wr.PutRequest.Item)
		} else {
			b = append(b, `{"DeleteRequest":{"Key":`...)
			b = attr.AppendItemJSON(b, wr.DeleteRequest.Key)
		}
		b = append(b, "}}"...)
	}
	if table != "" {
		b = append(b, ']')
	}
	return append(b, '}')
}
