package api

import (
	"context"
	"math"
	"strconv"
	"strings"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/capacity"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/store/expr"
)

func (s *Server) registerItemOps() {
	s.ops["PutItem"] = s.putItem
	s.ops["GetItem"] = s.getItem
	s.ops["DeleteItem"] = s.deleteItem
	s.ops["UpdateItem"] = s.updateItem
}

// exprInput is what every expression-taking request shares.
type exprInput struct {
	ExpressionAttributeNames  map[string]string `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues exprValues        `json:"ExpressionAttributeValues"`
}

// returnOpts are the Return* members of the item operations.
type returnOpts struct {
	ReturnValues                        string `json:"ReturnValues"`
	ReturnConsumedCapacity              string `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics         string `json:"ReturnItemCollectionMetrics"`
	ReturnValuesOnConditionCheckFailure string `json:"ReturnValuesOnConditionCheckFailure"`
}

// msgReturnValuesEnum is how DynamoDB has reported a ReturnValues outside its
// enum since the 2026-06 rewording reached every captured region: without
// the value or the member, and with the set as sent (UPDATE_NEW sic)
// (nubo-db/dynamodb-conformance captures/2026-08-12-wording-drift.json,
// us-east-1, probes o_put_three_bad_enums, o_del_two_bad_enums,
// o_upd_two_bad_enums).
const msgReturnValuesEnum = "Failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATE_NEW, NONE]"

var returnValuesEnum = [...]string{"ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"}

func validReturnValues(s string) bool {
	for _, a := range returnValuesEnum {
		if s == a {
			return true
		}
	}
	return s == ""
}

// check records the Return* members' violations in DynamoDB's order
// (returnConsumedCapacity, returnValues, returnItemCollectionMetrics: the
// recorded PutItem and DeleteItem answers). UpdateItem stops at an invalid
// ReturnValues, reported alone (probe o_upd_two_bad_enums).
func (r *returnOpts) check(v *constraints, update bool) {
	if update && !validReturnValues(r.ReturnValues) && v.first == nil {
		v.first = ddberr.Validationf("1 validation error detected: %s", msgReturnValuesEnum)
	}
	v.enum(r.ReturnConsumedCapacity, "returnConsumedCapacity", "INDEXES", "TOTAL", "NONE")
	if !validReturnValues(r.ReturnValues) {
		v.msgs = append(v.msgs, msgReturnValuesEnum)
	}
	v.enum(r.ReturnItemCollectionMetrics, "returnItemCollectionMetrics", "SIZE", "NONE")
	v.enum(r.ReturnValuesOnConditionCheckFailure, "returnValuesOnConditionCheckFailure", "ALL_OLD", "NONE")
}

// compileExprs validates the names/values maps against the expressions the
// request uses (usedExprs lists the expression members present, for the
// "can only be specified when using expressions" messages) and returns a
// compiler for them.
func compileExprs(in *exprInput, missing string, anyExpr bool) (*expr.Compiler, error) {
	if in.ExpressionAttributeNames != nil && !anyExpr {
		return nil, ddberr.Validationf("ExpressionAttributeNames can only be specified when using expressions")
	}
	if in.ExpressionAttributeValues != nil && !anyExpr {
		return nil, ddberr.Validationf("ExpressionAttributeValues can only be specified when using expressions: %s", missing)
	}
	if in.ExpressionAttributeNames != nil && len(in.ExpressionAttributeNames) == 0 {
		return nil, ddberr.Validationf("ExpressionAttributeNames must not be empty")
	}
	for k, n := range in.ExpressionAttributeNames {
		if !strings.HasPrefix(k, "#") || len(k) < 2 {
			return nil, ddberr.Validationf("ExpressionAttributeNames contains invalid key: Syntax error; key: %q", k)
		}
		if n == "" {
			// The service's answer, as an application met it
			// (topics form handling an empty #DE).
			return nil, ddberr.Validationf("ExpressionAttributeNames contains invalid value: Empty attribute name for key %s", k)
		}
		if len(n) > attr.MaxNameLen {
			// ExtendDB issue #365 (measured 2026-09-16): UpdateItem
			// SET #n = :v with #n a name of 65,536 bytes.
			return nil, ddberr.Validationf("1 validation error detected: %s", attr.MsgNameTooLarge)
		}
	}
	if in.ExpressionAttributeValues != nil && len(in.ExpressionAttributeValues) == 0 {
		return nil, ddberr.Validationf("ExpressionAttributeValues must not be empty")
	}
	for k := range in.ExpressionAttributeValues {
		if !strings.HasPrefix(k, ":") || len(k) < 2 {
			return nil, ddberr.Validationf("ExpressionAttributeValues contains invalid key: Syntax error; key: %q", k)
		}
	}
	return expr.NewCompiler(in.ExpressionAttributeNames, in.ExpressionAttributeValues), nil
}

// conditionalWrite is what PutItem and DeleteItem share: a condition given
// as a ConditionExpression or as legacy Expected, and the Return* members.
type conditionalWrite struct {
	ConditionExpression *string                 `json:"ConditionExpression"`
	Expected            map[string]expectedCond `json:"Expected"`
	ConditionalOperator string                  `json:"ConditionalOperator"`
	exprInput
	returnOpts
}

// compile validates the members (v already holds the request's own
// constraint checks) and compiles the condition, nil when there is none.
func (w *conditionalWrite) compile(v *constraints) (*expr.Condition, error) {
	w.returnOpts.check(v, false)
	legacyConstraints(v, w.Expected, w.ConditionalOperator, nil)
	if err := v.err(); err != nil {
		return nil, err
	}
	if w.ReturnValues != "" && w.ReturnValues != "NONE" && w.ReturnValues != "ALL_OLD" {
		return nil, ddberr.Validationf("ReturnValues can only be ALL_OLD or NONE")
	}
	if err := mixedWriteParams([]string{"ConditionExpression"}, []string{"Expected", "ConditionalOperator"}, map[string]bool{
		"ConditionExpression": w.ConditionExpression != nil, "Expected": w.Expected != nil, "ConditionalOperator": w.ConditionalOperator != ""}); err != nil {
		return nil, err
	}
	if err := checkConditionalOperator(w.ConditionalOperator, len(w.Expected)); err != nil {
		return nil, err
	}
	cond, err := expectedCondition(w.Expected, w.ConditionalOperator)
	if err != nil {
		return nil, err
	}
	comp, err := compileExprs(&w.exprInput, "ConditionExpression is null", w.ConditionExpression != nil)
	if err != nil {
		return nil, err
	}
	if w.ConditionExpression != nil {
		if cond, err = comp.Condition(*w.ConditionExpression); err != nil {
			return nil, err
		}
	}
	return cond, comp.CheckUnused()
}

type putItemInput struct {
	TableName *string   `json:"TableName"`
	Item      attr.Item `json:"Item"`
	conditionalWrite
}

func (s *Server) putItem(ctx context.Context, c *call) (any, error) {
	var in putItemInput
	scanned, err := c.decodePutItem(&in)
	if err != nil {
		return nil, err
	}
	var v constraints
	v.itemTableName(in.TableName, "tableName")
	v.notNull(in.Item != nil, "item")
	if !scanned { // the request scanner returns no value nested too deeply
		v.nested(in.Item, in.ExpressionAttributeValues)
	}
	v.names(in.Item, in.ExpressionAttributeValues)
	cond, err := in.compile(&v)
	if err != nil {
		return nil, err
	}
	t := s.db.TableIn(c.region, *in.TableName)
	if t == nil {
		return nil, ddberr.NotFound()
	}
	if err := t.ValidateItem(in.Item); err != nil {
		return nil, err
	}
	onFail := in.ReturnValuesOnConditionCheckFailure == "ALL_OLD"
	res, err := s.writeItem(ctx, c, store.Mutation{
		Table: t, Key: t.KeyOf(in.Item),
		Apply: func(old attr.Item) (attr.Item, error) {
			if err := checkCondition(cond, old, onFail); err != nil {
				return nil, err
			}
			return in.Item, nil
		},
	})
	if err != nil {
		return nil, err
	}
	r := res[0]
	out := respWriter{}
	if in.ReturnValues == "ALL_OLD" && r.Old != nil {
		out.item("Attributes", r.Old)
	}
	out.writeCapacity(in.ReturnConsumedCapacity, t, r.Old, r.New)
	c.chargeWrite(t, r.Old, r.New)
	if err := s.collectionMetrics(&out, in.ReturnItemCollectionMetrics, t, in.Item); err != nil {
		return nil, err
	}
	return out.done(), nil
}

// checkCondition evaluates a condition against the current item (nil when
// absent); a false condition is ConditionalCheckFailedException, carrying
// the item when asked.
func checkCondition(cond *expr.Condition, old attr.Item, returnOld bool) error {
	if cond == nil {
		return nil
	}
	ok, err := cond.Eval(old)
	if err != nil {
		return err
	}
	if !ok {
		if returnOld && old != nil {
			return ddberr.ConditionFailed(old)
		}
		return ddberr.ConditionFailed(nil)
	}
	return nil
}

func principal(c *call) store.Principal {
	if c.principal == "" {
		return store.Principal{}
	}
	return store.Principal{Type: "User", ID: c.principal}
}

type keyInput struct {
	TableName *string   `json:"TableName"`
	Key       attr.Item `json:"Key"`
}

// lookupKey resolves the table and validates the Key member.
func (s *Server) lookupKey(c *call, in *keyInput) (*store.Table, error) {
	t := s.db.TableIn(c.region, *in.TableName)
	if t == nil {
		return nil, ddberr.NotFound()
	}
	if err := t.ValidateKey(in.Key); err != nil {
		return nil, err
	}
	return t, nil
}

type getItemInput struct {
	keyInput
	ConsistentRead         *bool    `json:"ConsistentRead"`
	ProjectionExpression   *string  `json:"ProjectionExpression"`
	AttributesToGet        []string `json:"AttributesToGet"`
	ReturnConsumedCapacity string   `json:"ReturnConsumedCapacity"`
	exprInput
}

func (s *Server) getItem(ctx context.Context, c *call) (any, error) {
	var in getItemInput
	if err := c.decodeGetItem(&in); err != nil {
		return nil, err
	}
	var v constraints
	v.itemTableName(in.TableName, "tableName")
	v.notNull(in.Key != nil, "key")
	v.enum(in.ReturnConsumedCapacity, "returnConsumedCapacity", "INDEXES", "TOTAL", "NONE")
	if err := v.err(); err != nil {
		return nil, err
	}
	if in.AttributesToGet != nil && in.ProjectionExpression != nil {
		return nil, ddberr.Validationf("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}")
	}
	if in.ExpressionAttributeValues != nil {
		return nil, ddberr.Validationf("ExpressionAttributeValues can only be specified when using expressions: ProjectionExpression is null")
	}
	comp, err := compileExprs(&in.exprInput, "", in.ProjectionExpression != nil)
	if err != nil {
		return nil, err
	}
	var proj *expr.Projection
	if in.ProjectionExpression != nil {
		if proj, err = comp.Projection(*in.ProjectionExpression); err != nil {
			return nil, err
		}
	}
	if err := comp.CheckUnused(); err != nil {
		return nil, err
	}
	if in.AttributesToGet != nil { // legacy projection (query.go)
		if proj, err = legacyProjection(in.AttributesToGet); err != nil {
			return nil, err
		}
	}
	t, err := s.lookupKey(c, &in.keyInput)
	if err != nil {
		return nil, err
	}
	consistent := in.ConsistentRead != nil && *in.ConsistentRead
	pk := in.Key[t.Hash.Name]
	rd := capacity.Read{Table: t, Key: &pk, Op: c.op}
	if err := s.admitRead(rd); err != nil {
		return nil, err
	}
	if proj == nil {
		// The hot path: render the stored bytes straight to JSON.
		raw, err := s.db.GetRaw(t, in.Key)
		if err != nil {
			return nil, err
		}
		out := respWriter{}
		size := 0
		if raw != nil {
			out.key("Item")
			if out.buf, size, err = attr.AppendJSONFromStoredSize(out.buf, raw); err != nil {
				return nil, err
			}
		}
		s.chargeRead(rd, readUnits(size, consistent))
		out.capacity(in.ReturnConsumedCapacity, t.Name, readUnits(size, consistent))
		c.chargeRead(t, nil, readUnits(size, consistent), 0, b2i(raw != nil))
		return out.done(), nil
	}
	it, err := s.db.Get(t, in.Key)
	if err != nil {
		return nil, err
	}
	out := respWriter{}
	s.chargeRead(rd, readUnits(attr.ItemSize(it), consistent))
	if it != nil {
		size := attr.ItemSize(it)
		if proj != nil {
			it = proj.Apply(it)
		}
		out.item("Item", it)
		out.capacity(in.ReturnConsumedCapacity, t.Name, readUnits(size, consistent))
		c.chargeRead(t, nil, readUnits(size, consistent), 0, 1)
	} else {
		out.capacity(in.ReturnConsumedCapacity, t.Name, readUnits(0, consistent))
		c.chargeRead(t, nil, readUnits(0, consistent), 0, 0)
	}
	return out.done(), nil
}

func (s *Server) deleteItem(ctx context.Context, c *call) (any, error) {
	var in struct {
		keyInput
		conditionalWrite
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	v.itemTableName(in.TableName, "tableName")
	v.notNull(in.Key != nil, "key")
	v.nested(in.ExpressionAttributeValues)
	v.names(in.ExpressionAttributeValues)
	cond, err := in.compile(&v)
	if err != nil {
		return nil, err
	}
	t, err := s.lookupKey(c, &in.keyInput)
	if err != nil {
		return nil, err
	}
	onFail := in.ReturnValuesOnConditionCheckFailure == "ALL_OLD"
	res, err := s.writeItem(ctx, c, store.Mutation{
		Table: t, Key: in.Key,
		Apply: func(old attr.Item) (attr.Item, error) {
			return nil, checkCondition(cond, old, onFail)
		},
	})
	if err != nil {
		return nil, err
	}
	r := res[0]
	out := respWriter{}
	if in.ReturnValues == "ALL_OLD" && r.Old != nil {
		out.item("Attributes", r.Old)
	}
	out.writeCapacity(in.ReturnConsumedCapacity, t, r.Old, nil)
	c.chargeWrite(t, r.Old, nil)
	if err := s.collectionMetrics(&out, in.ReturnItemCollectionMetrics, t, in.Key); err != nil {
		return nil, err
	}
	return out.done(), nil
}

type updateItemInput struct {
	keyInput
	UpdateExpression    *string                    `json:"UpdateExpression"`
	ConditionExpression *string                    `json:"ConditionExpression"`
	AttributeUpdates    map[string]attributeUpdate `json:"AttributeUpdates"`
	Expected            map[string]expectedCond    `json:"Expected"`
	ConditionalOperator string                     `json:"ConditionalOperator"`
	exprInput
	returnOpts
}

func (s *Server) updateItem(ctx context.Context, c *call) (any, error) {
	var in updateItemInput
	if err := c.decodeUpdateItem(&in); err != nil {
		return nil, err
	}
	var v constraints
	v.itemTableName(in.TableName, "tableName")
	v.notNull(in.Key != nil, "key")
	v.nested(in.ExpressionAttributeValues)
	v.names(in.ExpressionAttributeValues)
	in.returnOpts.check(&v, true)
	legacyConstraints(&v, in.Expected, in.ConditionalOperator, in.AttributeUpdates)
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := mixedWriteParams([]string{"UpdateExpression", "ConditionExpression"}, []string{"AttributeUpdates", "Expected", "ConditionalOperator"}, map[string]bool{
		"UpdateExpression": in.UpdateExpression != nil, "ConditionExpression": in.ConditionExpression != nil,
		"AttributeUpdates": in.AttributeUpdates != nil, "Expected": in.Expected != nil, "ConditionalOperator": in.ConditionalOperator != ""}); err != nil {
		return nil, err
	}
	if err := checkConditionalOperator(in.ConditionalOperator, len(in.Expected)); err != nil {
		return nil, err
	}
	upd, pre, err := legacyUpdate(in.AttributeUpdates)
	if err != nil {
		return nil, err
	}
	cond, err := expectedCondition(in.Expected, in.ConditionalOperator)
	if err != nil {
		return nil, err
	}
	missing := "UpdateExpression and ConditionExpression are null"
	comp, err := compileExprs(&in.exprInput, missing, in.ConditionExpression != nil || in.UpdateExpression != nil)
	if err != nil {
		return nil, err
	}
	if in.UpdateExpression != nil {
		if upd, err = comp.Update(*in.UpdateExpression); err != nil {
			return nil, err
		}
	}
	if in.ConditionExpression != nil {
		if cond, err = comp.Condition(*in.ConditionExpression); err != nil {
			return nil, err
		}
	}
	if err := comp.CheckUnused(); err != nil {
		return nil, err
	}
	t, err := s.lookupKey(c, &in.keyInput)
	if err != nil {
		return nil, err
	}
	if upd != nil {
		for _, k := range t.KeyNames() {
			if upd.Touches(k) {
				return nil, ddberr.Invalidf("Cannot update attribute %s. This attribute is part of the key", k)
			}
		}
	}
	onFail := in.ReturnValuesOnConditionCheckFailure == "ALL_OLD"
	res, err := s.writeItem(ctx, c, store.Mutation{
		Table: t, Key: in.Key,
		Apply: func(old attr.Item) (attr.Item, error) {
			nu, err := applyUpdate(old, in.Key, cond, upd, pre, onFail)
			if err == nil {
				if e := emptyIndexKey(t, old, nu); e != nil {
					return nil, e // in the update expression's words, not PutItem's
				}
				if in.UpdateExpression != nil && nu != nil && upd.WriteSize(nu) > attr.MaxItemSize {
					// UpdateItem alone also measures what it writes (see WriteSize).
					return nil, ddberr.Validationf("Item size to update has exceeded the maximum allowed size")
				}
			}
			return nu, err
		},
	})
	if err != nil {
		return nil, err
	}
	r := res[0]
	out := respWriter{}
	switch in.ReturnValues {
	case "ALL_OLD":
		if r.Old != nil {
			out.item("Attributes", r.Old)
		}
	case "ALL_NEW":
		if r.New != nil { // an update that only removes writes no absent item
			out.item("Attributes", r.New)
		}
	case "UPDATED_OLD", "UPDATED_NEW":
		src := r.New
		if in.ReturnValues == "UPDATED_OLD" {
			src = r.Old
		}
		if upd != nil && src != nil {
			if p := expr.ProjectPaths(src, upd.UpdatedPaths()); len(p) > 0 {
				out.item("Attributes", p)
			}
		}
	}
	out.writeCapacity(in.ReturnConsumedCapacity, t, r.Old, r.New)
	c.chargeWrite(t, r.Old, r.New)
	if err := s.collectionMetrics(&out, in.ReturnItemCollectionMetrics, t, in.Key); err != nil {
		return nil, err
	}
	return out.done(), nil
}

// collectionMetrics adds ItemCollectionMetrics for the item collection of
// key's partition key value when the request asked for SIZE and the table
// has a local secondary index (DynamoDB reports nothing otherwise).
func (s *Server) collectionMetrics(out *respWriter, mode string, t *store.Table, key attr.Item) error {
	if mode != "SIZE" || !t.HasLocalIndexes() {
		return nil
	}
	m, err := s.appendCollectionMetrics(nil, t, key[t.Hash.Name])
	if err != nil {
		return err
	}
	out.raw("ItemCollectionMetrics", m)
	return nil
}

// appendCollectionMetrics appends one ItemCollectionMetrics object: the
// partition key and DynamoDB's estimate of the collection's size as a
// range of whole gigabytes ([0.0,1.0] below 1 GB), items and local index
// entries included.
func (s *Server) appendCollectionMetrics(dst []byte, t *store.Table, pk attr.Value) ([]byte, error) {
	size, err := s.db.CollectionSize(t, pk)
	if err != nil {
		return nil, err
	}
	lo := math.Floor(float64(size) / (1 << 30))
	dst = append(dst, `{"ItemCollectionKey":`...)
	dst = attr.AppendItemJSON(dst, attr.Item{t.Hash.Name: pk})
	dst = append(dst, `,"SizeEstimateRangeGB":[`...)
	dst = strconv.AppendFloat(dst, lo, 'f', 1, 64)
	dst = append(dst, ',')
	dst = strconv.AppendFloat(dst, lo+1, 'f', 1, 64)
	return append(dst, "]}"...), nil
}

// writeUnits is DynamoDB's write capacity: 1 unit per started KB of the
// larger of the old and new item, at least 1.
func writeUnits(old, nu attr.Item) float64 {
	size := max(attr.ItemSize(old), attr.ItemSize(nu))
	return math.Max(1, math.Ceil(float64(size)/1024))
}

// readUnits is DynamoDB's read capacity: 1 unit per started 4 KB (at least
// 1), half for eventually consistent reads.
func readUnits(size int, consistent bool) float64 {
	u := math.Max(1, math.Ceil(float64(size)/4096))
	if !consistent {
		u /= 2
	}
	return u
}

// respWriter builds a response object by hand (the hot paths skip
// reflection-based encoding).
type respWriter struct{ buf []byte }

func (r *respWriter) key(name string) {
	if len(r.buf) == 0 {
		r.buf = append(r.buf, '{')
	} else {
		r.buf = append(r.buf, ',')
	}
	r.buf = append(r.buf, '"')
	r.buf = append(r.buf, name...)
	r.buf = append(r.buf, `":`...)
}

func (r *respWriter) item(name string, it attr.Item) {
	r.key(name)
	r.buf = attr.AppendItemJSON(r.buf, it)
}

func (r *respWriter) raw(name string, v []byte) {
	r.key(name)
	r.buf = append(r.buf, v...)
}

// capacity adds ConsumedCapacity for TOTAL or INDEXES.
func (r *respWriter) capacity(mode, table string, units float64) {
	if mode != "TOTAL" && mode != "INDEXES" {
		return
	}
	r.key("ConsumedCapacity")
	r.buf = append(r.buf, `{"TableName":`...)
	r.buf = attr.AppendJSONString(r.buf, table)
	r.buf = append(r.buf, `,"CapacityUnits":`...)
	r.buf = append(r.buf, strconvFloat(units)...)
	if mode == "INDEXES" {
		r.buf = append(r.buf, `,"Table":{"CapacityUnits":`...)
		r.buf = append(r.buf, strconvFloat(units)...)
		r.buf = append(r.buf, '}')
	}
	r.buf = append(r.buf, '}')
}

// writeCapacity adds the ConsumedCapacity of a write that turned old into
// nu, with the secondary indexes it charged (see tableUnits.addWrite).
func (r *respWriter) writeCapacity(mode string, t *store.Table, old, nu attr.Item) {
	if mode != "TOTAL" && mode != "INDEXES" {
		return
	}
	u := tableUnits{table: t.Name}
	u.addWrite(t, old, nu)
	r.key("ConsumedCapacity")
	r.buf = u.appendJSON(r.buf, mode)
}

func (r *respWriter) done() rawJSON {
	if len(r.buf) == 0 {
		return rawJSON("{}")
	}
	return rawJSON(append(r.buf, '}'))
}

// admitRead asks the capacity limiter whether a read may run (before it
// reads: a throttled read reads nothing); chargeRead charges it what it
// read. Both are no-ops without a limiter.
func (s *Server) admitRead(rd capacity.Read) error {
	if s.cap == nil {
		return nil
	}
	return s.cap.AdmitRead(rd)
}

func (s *Server) chargeRead(rd capacity.Read, units float64) {
	if s.cap != nil {
		s.cap.ChargeRead(rd, units)
	}
}

// admitTxReads asks the capacity limiter to admit every read of a
// transaction (TransactGetItems, a read-only ExecuteTransaction) before
// any is read, each on its item's partition. One refused cancels the
// transaction, as DynamoDB cancels one with "insufficient provisioned
// capacity": capacity.TransactionRefusal. Nil reads without a limiter.
func (s *Server) admitTxReads(c *call, refs []store.ItemRef) ([]capacity.Read, error) {
	if s.cap == nil {
		return nil, nil
	}
	rds := make([]capacity.Read, len(refs))
	for i, r := range refs {
		pk := r.Key[r.Table.Hash.Name]
		rds[i] = capacity.Read{Table: r.Table, Key: &pk, Op: c.op}
		if err := s.cap.AdmitRead(rds[i]); err != nil {
			return nil, capacity.TransactionRefusal(err, i, len(refs))
		}
	}
	return rds, nil
}

// chargeTxReads charges admitted transactional reads what they read:
// twice the strongly consistent units of each item ("transactional read
// requests require two read capacity units to perform one read per second
// for items up to 4 KB", developer guide, read/write capacity mode).
func (s *Server) chargeTxReads(rds []capacity.Read, items []attr.Item) {
	for i := range rds {
		s.cap.ChargeRead(rds[i], 2*readUnits(attr.ItemSize(items[i]), true))
	}
}
