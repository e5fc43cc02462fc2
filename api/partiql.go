package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/capacity"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/store/expr"
	"github.com/eddydb/eddy/store/partiql"
)

// PartiQL: ExecuteStatement, BatchExecuteStatement, ExecuteTransaction.
// Package partiql parses a statement and renders its WHERE clause and
// SET/REMOVE actions onto package expr; this file decides what each
// statement becomes, from the table's key schema:
//
//	SELECT, WHERE pk = v or pk IN [...]   Query of those partitions (the sort key
//	                                      term, if any, narrows the range); the
//	                                      whole WHERE filters what was read
//	SELECT, anything else                 Scan with the WHERE as filter
//	INSERT                                Put with attribute_not_exists(pk):
//	                                      DuplicateItemException if it exists
//	UPDATE ... WHERE <full key> [AND c]   Update with the whole WHERE as its
//	                                      condition (so a missing item fails)
//	DELETE ... WHERE <full key> [AND c]   Delete with the rest of the WHERE as
//	                                      its condition (a missing item is fine)
//	EXISTS(SELECT ... WHERE <key> ...)    ConditionCheck (transactions only)
//
// Writes reuse the transaction plans of transact.go (txPlan.mutation), so an
// ExecuteTransaction is one store.DB.Write of all its mutations.

func (s *Server) registerPartiQLOps() {
	s.ops["ExecuteStatement"] = s.executeStatement
	s.ops["BatchExecuteStatement"] = s.batchExecuteStatement
	s.ops["ExecuteTransaction"] = s.executeTransaction
}

// errKeyEquality is DynamoDB's error for an UPDATE, DELETE or keyed read
// whose WHERE does not bind every key attribute with =.
var errKeyEquality = ddberr.Validationf("Where clause does not contain a mandatory equality on all key attributes")

// pqInput is one statement with its parameters.
type pqInput struct {
	Statement                           *string      `json:"Statement"`
	Parameters                          []attr.Value `json:"Parameters"`
	ConsistentRead                      *bool        `json:"ConsistentRead"`
	ReturnValuesOnConditionCheckFailure string       `json:"ReturnValuesOnConditionCheckFailure"`
}

func (in *pqInput) check(v *constraints, at string) {
	v.notNull(in.Statement != nil, at+"statement")
	if in.Statement != nil {
		v.length(*in.Statement, at+"statement", 1, partiql.MaxStatementBytes)
	}
	v.listLength(len(in.Parameters), in.Parameters != nil, at+"parameters", 0)
	v.enum(in.ReturnValuesOnConditionCheckFailure, at+"returnValuesOnConditionCheckFailure", "ALL_OLD", "NONE")
}

// pqStatement is a parsed statement bound to its parameters and table.
type pqStatement struct {
	st *partiql.Statement
	g  *partiql.Gen
	t  *store.Table
}

func (s *Server) preparePQ(region, text string, params []attr.Value) (*pqStatement, error) {
	st, err := partiql.Parse(text)
	if err != nil {
		return nil, err
	}
	return s.bindPQ(region, st, params)
}

func (s *Server) bindPQ(region string, st *partiql.Statement, params []attr.Value) (*pqStatement, error) {
	g, err := partiql.NewGen(st, params)
	if err != nil {
		return nil, err
	}
	for _, v := range params {
		// A parameter's map keys become attribute names (INSERT's item,
		// UPDATE's SET values): refused as UpdateItem refuses them in
		// ExpressionAttributeValues (attr.MsgNameTooLarge; PartiQL's own
		// answer is not recorded).
		if attr.LongName(v) {
			return nil, ddberr.Validationf("1 validation error detected: %s", attr.MsgNameTooLarge)
		}
	}
	if st.Kind == partiql.Select && st.Where != nil {
		// The WHERE clause's operand types are a property of the statement:
		// DynamoDB refuses a bad one before it looks the table up
		// (nubo-db/dynamodb-conformance, tests/tier3/validation-ordering/
		// partiql.test.ts: "Incorrect operand type" on a missing table). A
		// generator of its own, as rendering records placeholders.
		g2, err := partiql.NewGen(st, params)
		if err != nil {
			return nil, err
		}
		if _, err := pqFilter(g2, st.Where); err != nil {
			return nil, err
		}
	}
	t := s.db.TableIn(region, st.Table)
	if t == nil {
		return nil, ddberr.NotFound()
	}
	if st.Kind != partiql.Select && st.Index != "" {
		return nil, ddberr.Validationf("This operation is not supported on an index")
	}
	return &pqStatement{st: st, g: g, t: t}, nil
}

func (p *pqStatement) isRead() bool { return p.st.Kind == partiql.Select }

// pqFilter compiles a SELECT's WHERE clause as a filter.
func pqFilter(g *partiql.Gen, where partiql.Expr) (*expr.Condition, error) {
	text, err := g.Cond(where)
	if err != nil {
		return nil, err
	}
	filter, err := g.Compiler().Filter(text)
	if err != nil {
		// A statement has no FilterExpression to name.
		if de := ddberr.As(err); de.Kind == ddberr.KindValidation {
			de.Message = strings.TrimPrefix(de.Message, "Invalid FilterExpression: ")
		}
		return nil, err
	}
	return filter, nil
}

// fullKey extracts the table key from `name = value` terms of the WHERE.
func (p *pqStatement) fullKey() (attr.Item, error) {
	key := attr.Item{}
	for _, n := range p.t.KeyNames() {
		vals, ok, err := p.g.Equality(p.st.Where, n, false)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, ddberr.Validationf("%s", errKeyEquality.Message)
		}
		if vals[0].Type() != keyType(p.t, n) {
			return nil, ddberr.Validationf("Key attribute's data type should match its data type in table's schema: Key %s", n)
		}
		key[n] = vals[0]
	}
	if err := p.t.ValidateKey(key); err != nil {
		return nil, err
	}
	return key, nil
}

func keyType(t *store.Table, name string) attr.Type {
	if t.Range != nil && t.Range.Name == name {
		return t.Range.Type
	}
	return t.Hash.Type
}

// plan turns a write statement into a transaction plan.
func (p *pqStatement) plan(onAll bool) (txPlan, error) {
	pl := txPlan{t: p.t, onAll: onAll}
	st, g := p.st, p.g
	switch st.Kind {
	case partiql.Insert:
		v, ok, err := g.Value(st.Value)
		if err != nil {
			return pl, err
		}
		if !ok || v.Type() != attr.TypeM {
			return pl, ddberr.Validationf("Unsupported format in item expression. Please use struct format {...} to express item values for insert statement.")
		}
		item := attr.Item(v.Map())
		for _, n := range p.t.KeyNames() {
			kv, ok := item[n]
			if !ok {
				return pl, ddberr.Validationf("Key attribute should be present in the item: Key %s", n)
			}
			if kv.Type() != keyType(p.t, n) {
				return pl, ddberr.Validationf("Key attribute's data type should match its data type in table's schema: Key %s", n)
			}
		}
		if err := p.t.ValidateItem(item); err != nil {
			return pl, err
		}
		if attr.ItemTooDeep(item) {
			// PartiQL's own wording is unrecorded: the short sentence a
			// transaction's Put gets.
			return pl, ddberr.Validationf("Nesting Levels have exceeded supported limits")
		}
		pl.kind, pl.item, pl.key = "Put", item, p.t.KeyOf(item)
		pl.cond, err = expr.NewCompiler(map[string]string{"#k": p.t.Hash.Name}, nil).Condition("attribute_not_exists(#k)")
		return pl, err
	case partiql.Update, partiql.Delete, partiql.Exists:
		if st.Index != "" {
			if st.Kind == partiql.Exists {
				return pl, ddberr.Validationf("Operations on indices are not supported in transactions")
			}
			return pl, ddberr.Validationf("This operation is not supported on an index")
		}
		key, err := p.fullKey()
		if st.Kind == partiql.Exists && errors.Is(err, errKeyEquality) {
			return pl, ddberr.Validationf("EXISTS() must contain a single item read with additional condition")
		}
		if err != nil {
			return pl, err
		}
		pl.key = key
		var updText, condText string
		where := st.Where
		switch st.Kind {
		case partiql.Update:
			pl.kind = "Update"
			if updText, err = g.UpdateText(st); err != nil {
				return pl, err
			}
		case partiql.Delete:
			pl.kind = "Delete"
			where = partiql.Without(where, p.t.KeyNames()...)
		default:
			pl.kind = "ConditionCheck"
		}
		if where != nil {
			if condText, err = g.Cond(where); err != nil {
				return pl, err
			}
		}
		comp := g.Compiler()
		if updText != "" {
			if pl.upd, err = comp.Update(updText); err != nil {
				return pl, err
			}
			for _, k := range p.t.KeyNames() {
				if pl.upd.Touches(k) {
					return pl, ddberr.Invalidf("Cannot update attribute %s. This attribute is part of the key", k)
				}
			}
		}
		if condText != "" {
			if pl.cond, err = comp.Condition(condText); err != nil {
				return pl, err
			}
		}
		return pl, nil
	}
	return pl, ddberr.Validationf("Unsupported operation: %s", st.Kind)
}

// insertError words a failed INSERT's implicit condition as DynamoDB does.
func insertError(pl *txPlan, err error) error {
	if pl.kind == "Put" && errors.Is(err, ddberr.ConditionalCheckFailed) {
		return ddberr.New(ddberr.KindDuplicateItem, "")
	}
	return err
}

func (s *Server) executeStatement(ctx context.Context, c *call) (any, error) {
	var in struct {
		pqInput
		NextToken              *string `json:"NextToken"`
		Limit                  *int64  `json:"Limit"`
		ReturnConsumedCapacity string  `json:"ReturnConsumedCapacity"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	in.check(&v, "")
	v.enum(in.ReturnConsumedCapacity, "returnConsumedCapacity", "INDEXES", "TOTAL", "NONE")
	if in.Limit != nil && *in.Limit < 1 {
		v.fail(in.Limit, "limit", "Member must have value greater than or equal to 1")
	}
	if in.NextToken != nil {
		v.length(*in.NextToken, "nextToken", 1, 0)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	p, err := s.preparePQ(c.region, *in.Statement, in.Parameters)
	if err != nil {
		return nil, err
	}
	if p.isRead() {
		limit := 0
		if in.Limit != nil {
			limit = int(min(*in.Limit, 1<<31))
		}
		return s.selectPQ(ctx, c, p, statementHash(*in.Statement, in.Parameters), limit, in.NextToken, in.ConsistentRead != nil && *in.ConsistentRead, in.ReturnConsumedCapacity)
	}
	if p.st.Kind == partiql.Exists {
		return nil, ddberr.Validationf("EXISTS can only be used in ExecuteTransaction write requests.")
	}
	pl, err := p.plan(in.ReturnValuesOnConditionCheckFailure == "ALL_OLD")
	if err != nil {
		return nil, err
	}
	res, err := s.writeItem(ctx, c, pl.mutation())
	if err != nil {
		return nil, insertError(&pl, err)
	}
	out := respWriter{}
	items := []byte("[]")
	if it := returning(p.st, &pl, res[0]); it != nil {
		items = append(attr.AppendItemJSON([]byte{'['}, it), ']')
	}
	out.raw("Items", items)
	out.writeCapacity(in.ReturnConsumedCapacity, p.t, res[0].Old, res[0].New)
	c.chargeWrite(p.t, res[0].Old, res[0].New)
	return out.done(), nil
}

// pqToken is the decoded NextToken: the partition (index into the IN list)
// and the key to resume after.
type pqToken struct {
	H uint32    `json:"h"` // hash of the statement and its parameters
	P int       `json:"p"`
	K attr.Item `json:"k,omitempty"`
}

// statementHash ties a NextToken to the statement it pages.
func statementHash(text string, params []attr.Value) uint32 {
	h := fnv.New32a()
	h.Write([]byte(text))
	for _, v := range params {
		h.Write(attr.AppendJSON([]byte{0}, v))
	}
	return h.Sum32()
}

func badToken() error { return ddberr.Validationf("Invalid NextToken") }

// pqIndexReach rejects a SELECT on an index that names attributes the
// index does not project, as DynamoDB does: in the projection of a global
// index (a local one fetches them from the table), and in the filter of a
// read keyed on the index's partition key, of either kind.
func pqIndexReach(t *store.Table, ix *store.Index, st *partiql.Statement, filter *expr.Condition, keyed bool) error {
	if ix == nil || ix.Projection == "ALL" {
		return nil
	}
	missing := func(paths []expr.Path) string {
		var names []string
		for _, p := range paths {
			if n := p[0].Name; !ix.Projects(t, n) && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		return strings.Join(names, ", ")
	}
	if ix.Global {
		if m := missing(st.Projection); m != "" {
			return ddberr.Invalidf("Global secondary index %s does not project [%s]", ix.Name, m)
		}
	}
	if keyed && filter != nil {
		if m := missing(filter.Paths()); m != "" {
			return ddberr.Invalidf("Secondary index %s does not project one or more filter attributes: [%s]", ix.Name, m)
		}
	}
	return nil
}

// selectPQ runs a SELECT as a Query (equality or IN on the partition key)
// or a Scan, one page.
func (s *Server) selectPQ(ctx context.Context, c *call, p *pqStatement, hash uint32, limit int, next *string, consistent bool, rcc string) (any, error) {
	t, st, g := p.t, p.st, p.g
	if consistent {
		if err := s.barrier(ctx, t, nil); err != nil { // MRSC (strong.go)
			return nil, err
		}
	}
	spec0 := store.ReadSpec{Table: t}
	if st.Index != "" {
		ix, err := readIndex(t, st.Index, consistent, true)
		if err != nil {
			return nil, err
		}
		spec0.Index = ix
	}
	keys := targetKeys(t, spec0.Index)
	var filter *expr.Condition
	if st.Where != nil {
		var err error
		if filter, err = pqFilter(g, st.Where); err != nil {
			return nil, err
		}
	}
	// A local index fetches from the table the attributes the SELECT names
	// and the index does not project; SELECT * is the index's own
	// projection. Unlike Query's, the filter never reaches back: on an
	// unkeyed read it sees the index entry (an attribute the index does not
	// project matches nothing, as DynamoDB answers: dynamodb-conformance
	// tier2/partiql/indexQualifier), and on a keyed read pqIndexReach
	// refuses it.
	var names []string
	if !st.Star {
		for _, p := range st.Projection {
			names = append(names, p[0].Name)
		}
	}
	spec0.FetchTable = needsTableFetch(t, spec0.Index, false, names, nil)
	vals, isQuery, err := g.Equality(st.Where, keys.hashName, true)
	if err != nil {
		return nil, err
	}
	if len(keys.hashNames) > 1 || len(keys.rangeNames) > 1 {
		// An index with a multi-attribute key is read whole, the WHERE
		// clause filtering: the same items, without the key range.
		vals, isQuery = nil, false
	}
	if err := pqIndexReach(t, spec0.Index, st, filter, isQuery); err != nil {
		return nil, err
	}
	var parts []attr.Value // partitions to query, in order
	for _, v := range vals {
		dup := v.Type() != keys.hashType
		for _, w := range parts {
			dup = dup || attr.Equal(v, w)
		}
		if !dup {
			parts = append(parts, v)
		}
	}
	if isQuery && keys.rangeName != "" {
		if spec0.Sort, err = g.SortKey(st.Where, keys.rangeName, keys.rangeType); err != nil {
			return nil, err
		}
	}
	if st.OrderBy != nil {
		switch {
		case !isQuery:
			return nil, ddberr.Validationf("Must have at least one non-optional hash key condition in WHERE clause when using ORDER BY clause.")
		case len(st.OrderBy) != 1 || (st.OrderBy[0].Name != keys.rangeName && st.OrderBy[0].Name != keys.hashName):
			return nil, ddberr.Validationf("Variable reference %s in ORDER BY clause must be part of the primary key", st.OrderBy.String())
		}
		spec0.Reverse = st.Desc
	}
	var tok pqToken
	if next != nil {
		raw, err := base64.RawURLEncoding.DecodeString(*next)
		if err != nil || json.Unmarshal(raw, &tok) != nil {
			return nil, badToken()
		}
		if tok.H != hash {
			return nil, ddberr.Validationf("NextToken does not match request")
		}
		if tok.P < 0 || (isQuery && tok.P >= len(parts)) || (!isQuery && tok.P != 0) {
			return nil, badToken()
		}
	}

	items := append(make([]byte, 0, 4096), '[')
	fr := filteredRead{filter: filter}
	total := &fr.total
	var nextTok pqToken
	run := func(spec *store.ReadSpec) error {
		if spec.Start != nil {
			if err := spec.CheckStartKey(spec.Start); err != nil {
				return badToken()
			}
		}
		return fr.read(ctx, s.db, spec, func(r store.Row) error {
			if fr.count > 1 {
				items = append(items, ',')
			}
			items = attr.AppendItemJSON(items, partiql.Project(st, r.Item))
			return nil
		})
	}
	// The capacity limiter admits each partition's read before it runs
	// and charges it what it read, as a Query or Scan (renderRead): a
	// throttled statement reads nothing more.
	rd := capacity.Read{Table: t, Index: spec0.Index, Op: c.op}
	if !isQuery {
		spec := spec0
		spec.Start, spec.Limit = tok.K, limit
		if err := s.admitRead(rd); err != nil {
			return nil, err
		}
		if err := run(&spec); err != nil {
			return nil, err
		}
		s.chargeRead(rd, readUnits(total.Bytes, consistent))
		nextTok.K = total.LastKey
	} else {
		for i := tok.P; i < len(parts); i++ {
			spec := spec0
			spec.Partition = parts[i]
			if i == tok.P {
				spec.Start = tok.K
			}
			if limit > 0 {
				spec.Limit = limit - total.Scanned
			}
			spec.MaxBytes = store.MaxPageBytes - total.Bytes
			rd.Key = &parts[i]
			if err := s.admitRead(rd); err != nil {
				return nil, err
			}
			before := total.Bytes
			if err := run(&spec); err != nil {
				return nil, err
			}
			s.chargeRead(rd, readUnits(total.Bytes-before, consistent))
			if total.More {
				nextTok = pqToken{P: i, K: total.LastKey}
				break
			}
			if i+1 < len(parts) && ((limit > 0 && total.Scanned >= limit) || total.Bytes >= store.MaxPageBytes) {
				total.More, nextTok = true, pqToken{P: i + 1}
				break
			}
		}
	}
	out := respWriter{}
	out.raw("Items", append(items, ']'))
	if total.More {
		nextTok.H = hash
		b, _ := json.Marshal(nextTok)
		out.raw("NextToken", attr.AppendJSONString(nil, base64.RawURLEncoding.EncodeToString(b)))
		if nextTok.K != nil {
			out.item("LastEvaluatedKey", nextTok.K)
		}
	}
	readCapacity(&out, rcc, t, spec0.Index, *total, consistent)
	if c.metered {
		tu, iu := readSplit(spec0.Index, *total, consistent)
		c.chargeRead(t, spec0.Index, tu, iu, fr.count)
	}
	return out.done(), nil
}

// getPlan is a SELECT by full key inside a batch or a transaction: the
// key, and the WHERE as a filter on the item read. A batch SELECT reads by
// the table's key only, so an index-qualified one fails the key rule
// whatever its WHERE names (a transaction refuses index reads before this).
func (p *pqStatement) getPlan(inTx bool) (attr.Item, *expr.Condition, error) {
	key, err := p.fullKey()
	switch {
	case inTx && errors.Is(err, errKeyEquality):
		return nil, nil, ddberr.Validationf("Select statements within ExecuteTransaction must specify the primary key in the where clause.")
	case !inTx && (p.st.Index != "" || errors.Is(err, errKeyEquality)):
		return nil, nil, ddberr.Validationf("Select statements within BatchExecuteStatement must specify the primary key in the where clause.")
	}
	if err != nil {
		return nil, nil, err
	}
	cond, err := p.g.Condition(p.st.Where)
	return key, cond, err
}

// readItem renders the item a keyed SELECT returns: nil when absent or
// filtered out.
func (p *pqStatement) readItem(it attr.Item, cond *expr.Condition) attr.Item {
	if it == nil {
		return nil
	}
	if cond != nil {
		if ok, err := cond.Eval(it); err != nil || !ok {
			return nil
		}
	}
	return partiql.Project(p.st, it)
}

// batchErrorCode is the BatchStatementError code of an error.
func batchErrorCode(e *ddberr.Error) string {
	switch e.Kind {
	case ddberr.KindConditionalCheckFailed:
		return "ConditionalCheckFailed"
	case ddberr.KindValidation:
		return "ValidationError"
	case ddberr.KindDuplicateItem:
		return "DuplicateItem"
	case ddberr.KindResourceNotFound:
		return "ResourceNotFound"
	case ddberr.KindTransactionConflict:
		return "TransactionConflict"
	case ddberr.KindProvisionedThroughputExceeded:
		return "ProvisionedThroughputExceeded"
	case ddberr.KindRequestLimitExceeded:
		return "RequestLimitExceeded"
	case ddberr.KindItemCollectionSizeLimitExceeded:
		return "ItemCollectionSizeLimitExceeded"
	case ddberr.KindAccessDenied:
		return "AccessDenied"
	case ddberr.KindThrottling:
		return "ThrottlingError"
	}
	return "InternalServerError"
}

func (s *Server) batchExecuteStatement(ctx context.Context, c *call) (any, error) {
	var in struct {
		Statements             []pqInput `json:"Statements"`
		ReturnConsumedCapacity string    `json:"ReturnConsumedCapacity"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	v.notNull(in.Statements != nil, "statements")
	v.listLength(len(in.Statements), in.Statements != nil, "statements", 25)
	v.enum(in.ReturnConsumedCapacity, "returnConsumedCapacity", "INDEXES", "TOTAL", "NONE")
	for i := range in.Statements {
		in.Statements[i].check(&v, "statements."+itoa(i+1)+".member.")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	out := respWriter{}
	out.key("Responses")
	out.buf = append(out.buf, '[')
	var consumed capacityByTable
	charge := &consumed
	if in.ReturnConsumedCapacity != "TOTAL" && in.ReturnConsumedCapacity != "INDEXES" {
		charge = nil
	}
	for i, bs := range in.Statements {
		if i > 0 {
			out.buf = append(out.buf, ',')
		}
		table, it, err := s.batchOne(ctx, c, bs, charge)
		out.buf = append(out.buf, '{')
		if table != "" {
			out.buf = append(out.buf, `"TableName":`...)
			out.buf = attr.AppendJSONString(out.buf, table)
		}
		if err != nil {
			de := ddberr.As(err)
			if table != "" {
				out.buf = append(out.buf, ',')
			}
			out.buf = append(out.buf, `"Error":{"Code":`...)
			out.buf = attr.AppendJSONString(out.buf, batchErrorCode(de))
			out.buf = append(out.buf, `,"Message":`...)
			out.buf = attr.AppendJSONString(out.buf, de.Message)
			if item, ok := de.Item.(attr.Item); ok && item != nil {
				out.buf = append(out.buf, `,"Item":`...)
				out.buf = attr.AppendItemJSON(out.buf, item)
			}
			out.buf = append(out.buf, '}')
		} else if it != nil {
			out.buf = append(out.buf, `,"Item":`...)
			out.buf = attr.AppendItemJSON(out.buf, it)
		}
		out.buf = append(out.buf, '}')
	}
	out.buf = append(out.buf, ']')
	out.capacityList(in.ReturnConsumedCapacity, consumed.list)
	return out.done(), nil
}

// batchOne runs one statement of a batch on its own, charging its capacity
// to consumed (nil: none was asked for).
func (s *Server) batchOne(ctx context.Context, c *call, bs pqInput, consumed *capacityByTable) (string, attr.Item, error) {
	p, err := s.preparePQ(c.region, *bs.Statement, bs.Parameters)
	if err != nil {
		return "", nil, err
	}
	table := p.t.Name
	if p.isRead() {
		key, cond, err := p.getPlan(false)
		if err != nil {
			return "", nil, err // refused before it ran: no TableName
		}
		// Each statement is admitted on its own: a throttled one is its
		// entry's Error (ProvisionedThroughputExceeded or ThrottlingError).
		pk := key[p.t.Hash.Name]
		rd := capacity.Read{Table: p.t, Key: &pk, Op: c.op}
		if err := s.admitRead(rd); err != nil {
			return table, nil, err
		}
		it, err := s.db.Get(p.t, key)
		if err != nil {
			return table, nil, err
		}
		consistent := bs.ConsistentRead != nil && *bs.ConsistentRead
		s.chargeRead(rd, readUnits(attr.ItemSize(it), consistent))
		if consumed != nil {
			consumed.add(table, readUnits(attr.ItemSize(it), consistent), true)
		}
		c.chargeRead(p.t, nil, readUnits(attr.ItemSize(it), consistent), 0, b2i(it != nil))
		return table, p.readItem(it, cond), nil
	}
	if p.st.Kind == partiql.Exists {
		return table, nil, ddberr.Validationf("EXISTS can only be used in ExecuteTransaction write requests.")
	}
	pl, err := p.plan(bs.ReturnValuesOnConditionCheckFailure == "ALL_OLD")
	if err != nil {
		return table, nil, err
	}
	res, err := s.writeItem(ctx, c, pl.mutation())
	if err != nil {
		return table, nil, insertError(&pl, err)
	}
	c.chargeWrite(p.t, res[0].Old, res[0].New)
	if consumed != nil {
		// The table's write units, as WriteCapacityUnits too, and each
		// secondary index the write changed, as a single write charges them.
		consumed.add(table, writeUnits(res[0].Old, res[0].New), false)
		consumed.entry(table).addIndexWrites(p.t, res[0].Old, res[0].New)
	}
	return table, returning(p.st, &pl, res[0]), nil
}

// returning is what a write's RETURNING clause gives back: the whole old or
// new item (ALL), or only the attributes the update changed (MODIFIED, like
// UpdateItem's UPDATED_OLD and UPDATED_NEW); nil when there is no clause or
// nothing to return.
func returning(st *partiql.Statement, pl *txPlan, r store.Result) attr.Item {
	src := r.New
	if strings.HasSuffix(st.Returning, "OLD") {
		src = r.Old
	}
	switch {
	case st.Returning == "" || src == nil:
		return nil
	case strings.HasPrefix(st.Returning, "ALL"):
		return src
	case pl.upd != nil:
		if p := expr.ProjectPaths(src, pl.upd.UpdatedPaths()); len(p) > 0 {
			return p
		}
	}
	return nil
}

func (s *Server) executeTransaction(ctx context.Context, c *call) (any, error) {
	var in struct {
		TransactStatements     []pqInput `json:"TransactStatements"`
		ClientRequestToken     *string   `json:"ClientRequestToken"`
		ReturnConsumedCapacity string    `json:"ReturnConsumedCapacity"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	v.notNull(in.TransactStatements != nil, "transactStatements")
	v.listLength(len(in.TransactStatements), in.TransactStatements != nil, "transactStatements", maxTransactItems)
	v.enum(in.ReturnConsumedCapacity, "returnConsumedCapacity", "INDEXES", "TOTAL", "NONE")
	if tok := in.ClientRequestToken; tok != nil {
		v.length(*tok, "clientRequestToken", 1, 36)
	}
	for i := range in.TransactStatements {
		in.TransactStatements[i].check(&v, "transactStatements."+itoa(i+1)+".member.")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	stmts := make([]*pqStatement, len(in.TransactStatements))
	reads := 0
	for i, ts := range in.TransactStatements {
		st, err := partiql.Parse(*ts.Statement)
		if err != nil {
			de := ddberr.As(err)
			return nil, ddberr.Validationf("Validation failed in TransactStatements[%d]: %s", i, de.Message)
		}
		if st.Returning != "" {
			return nil, ddberr.Validationf("Validation failed in TransactStatements[%d]: RETURNING clause is not supported in ExecuteTransaction.", i)
		}
		if stmts[i], err = s.bindPQ(c.region, st, ts.Parameters); err != nil {
			return nil, err
		}
		if stmts[i].isRead() {
			reads++
		}
	}
	if reads > 0 && reads < len(stmts) {
		return nil, ddberr.Validationf("ExecuteTransaction API does not support both read and write operations in the same request.")
	}
	for _, p := range stmts {
		if p.t != nil {
			if err := s.refuseStrong(c.region, []*string{&p.t.Name}); err != nil {
				return nil, err
			}
		}
	}
	if reads > 0 {
		return s.readTransactionPQ(c, stmts, in.ReturnConsumedCapacity)
	}

	plans := make([]txPlan, len(stmts))
	seen := map[string]bool{}
	for i, p := range stmts {
		pl, err := p.plan(in.TransactStatements[i].ReturnValuesOnConditionCheckFailure == "ALL_OLD")
		if err != nil {
			return nil, err
		}
		k := encodedKey(pl.t, pl.key)
		if seen[k] {
			return nil, ddberr.Validationf("Transaction request cannot include multiple operations on one item")
		}
		seen[k] = true
		plans[i] = pl
	}
	if err := txPlansPayload(plans); err != nil {
		return nil, err
	}
	muts := make([]store.Mutation, len(plans))
	for i := range plans {
		muts[i] = plans[i].mutation()
	}
	// A transaction of writes answers an empty Responses list, not an
	// entry per statement.
	responses := []byte("[]")
	wo := store.WriteOptions{Principal: principal(c), Metering: store.MeterTransaction, Op: c.op}
	if in.ClientRequestToken != nil {
		unlock, replay, err := s.checkToken(&wo, c.region, *in.ClientRequestToken, c.body)
		if err != nil {
			return nil, err
		}
		defer unlock()
		if replay {
			return s.replayTransaction(plans, muts, responses, in.ReturnConsumedCapacity, "")
		}
	}
	res, err := s.db.Write(ctx, wo, muts...)
	if err != nil {
		return nil, pqCancellation(err, plans)
	}
	out := respWriter{}
	out.raw("Responses", responses)
	txCapacity(&out, in.ReturnConsumedCapacity, plans, muts, res)
	c.chargeTx(plans, muts, res)
	return rawJSON(out.done()), nil
}

// pqCancellation is TransactionCanceledException for a failed
// ExecuteTransaction: an INSERT whose item exists is DuplicateItem.
func pqCancellation(err error, plans []txPlan) error {
	if e := upfront(err); e != nil {
		return e
	}
	var errs []error
	var ce *store.CanceledError
	switch {
	case errors.As(err, &ce):
		errs = ce.Errs
	case len(plans) == 1 && isItemError(err):
		errs = []error{err}
	default:
		return err
	}
	reasons := make([]ddberr.CancellationReason, len(plans))
	codes := make([]string, len(plans))
	for i := range reasons {
		var e error
		if i < len(errs) {
			e = errs[i]
		}
		if e != nil {
			e = insertError(&plans[i], e)
		}
		reasons[i] = cancellationReason(e)
		if de, ok := e.(*ddberr.Error); ok && de.Kind == ddberr.KindDuplicateItem {
			reasons[i] = ddberr.CancellationReason{Code: "DuplicateItem", Message: de.Message}
		}
		codes[i] = reasons[i].Code
	}
	ex := ddberr.New(ddberr.KindTransactionCanceled, "Transaction cancelled, please refer cancellation reasons for specific reasons [%s]", strings.Join(codes, ", "))
	ex.CancellationReasons = reasons
	return ex
}

// readTransactionPQ reads the items of keyed SELECTs from one snapshot.
func (s *Server) readTransactionPQ(c *call, stmts []*pqStatement, rcc string) (any, error) {
	refs := make([]store.ItemRef, len(stmts))
	conds := make([]*expr.Condition, len(stmts))
	seen := map[string]bool{}
	for i, p := range stmts {
		if p.st.Index != "" {
			return nil, ddberr.Validationf("Validation failed in TransactStatements[%d]: Reads on indices are not supported within transactions.", i)
		}
		key, cond, err := p.getPlan(true)
		if err != nil {
			return nil, err
		}
		k := encodedKey(p.t, key)
		if seen[k] {
			return nil, ddberr.Validationf("Transaction request cannot include multiple operations on one item")
		}
		seen[k] = true
		refs[i], conds[i] = store.ItemRef{Table: p.t, Key: key}, cond
	}
	rds, err := s.admitTxReads(c, refs)
	if err != nil {
		return nil, err
	}
	items, err := s.db.GetConsistent(refs)
	if err != nil {
		return nil, err
	}
	s.chargeTxReads(rds, items)
	c.chargeTxReads(refs, items)
	return transactReadResponse(refs, items, rcc, func(i int, it attr.Item) attr.Item {
		return stmts[i].readItem(it, conds[i])
	}), nil
}
