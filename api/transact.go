package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/store/expr"
)

// maxTransactItems is DynamoDB's limit on actions in one transaction.
const maxTransactItems = 100

func (s *Server) registerTransactOps() {
	s.ops["TransactWriteItems"] = s.transactWriteItems
	s.ops["TransactGetItems"] = s.transactGetItems
}

// tokenLocks serialize requests carrying the same ClientRequestToken, so
// that two concurrent retries cannot both apply: the second waits, then
// finds the first one's record.
type tokenLocks struct{ stripes [64]sync.Mutex }

func (l *tokenLocks) lock(token string) func() {
	h := uint32(2166136261)
	for i := 0; i < len(token); i++ {
		h = (h ^ uint32(token[i])) * 16777619
	}
	m := &l.stripes[h%uint32(len(l.stripes))]
	m.Lock()
	return m.Unlock
}

// txAction is the common shape of Put, Update, Delete and ConditionCheck.
type txAction struct {
	TableName                           *string   `json:"TableName"`
	Key                                 attr.Item `json:"Key"`
	Item                                attr.Item `json:"Item"`
	ConditionExpression                 *string   `json:"ConditionExpression"`
	UpdateExpression                    *string   `json:"UpdateExpression"`
	ReturnValuesOnConditionCheckFailure string    `json:"ReturnValuesOnConditionCheckFailure"`
	exprInput
}

type transactWriteItem struct {
	Put            *txAction `json:"Put"`
	Update         *txAction `json:"Update"`
	Delete         *txAction `json:"Delete"`
	ConditionCheck *txAction `json:"ConditionCheck"`
}

// txPlan is one validated action, ready to become a Mutation.
type txPlan struct {
	kind  string // Put, Update, Delete, ConditionCheck
	t     *store.Table
	key   attr.Item
	item  attr.Item // Put
	cond  *expr.Condition
	upd   *expr.Update
	onAll bool // ReturnValuesOnConditionCheckFailure ALL_OLD
	// invalid is the action's key or item error that DynamoDB reports as
	// a ValidationError cancellation reason (see actionInvalid).
	invalid error
}

func (s *Server) transactWriteItems(ctx context.Context, c *call) (any, error) {
	var in struct {
		TransactItems               []transactWriteItem `json:"TransactItems"`
		ClientRequestToken          *string             `json:"ClientRequestToken"`
		ReturnConsumedCapacity      string              `json:"ReturnConsumedCapacity"`
		ReturnItemCollectionMetrics string              `json:"ReturnItemCollectionMetrics"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	v.enum(in.ReturnConsumedCapacity, "returnConsumedCapacity", "INDEXES", "TOTAL", "NONE")
	v.enum(in.ReturnItemCollectionMetrics, "returnItemCollectionMetrics", "SIZE", "NONE")
	v.notNull(in.TransactItems != nil, "transactItems")
	if len(in.TransactItems) > maxTransactItems {
		v.fail(javaTransactItems(in.TransactItems), "transactItems", maxLength(maxTransactItems))
	} else {
		v.listLength(len(in.TransactItems), in.TransactItems != nil, "transactItems", 0)
	}
	if tok := in.ClientRequestToken; tok != nil {
		v.length(*tok, "clientRequestToken", 1, 36)
	}
	for i, ti := range in.TransactItems {
		at := "transactItems." + itoa(i+1) + ".member"
		for name, a := range map[string]*txAction{"put": ti.Put, "update": ti.Update, "delete": ti.Delete, "conditionCheck": ti.ConditionCheck} {
			if a == nil {
				continue
			}
			v.itemTableName(a.TableName, "tableName")
			if name == "put" {
				v.notNull(a.Item != nil, at+".put.item")
			} else {
				v.notNull(a.Key != nil, at+"."+name+".key")
			}
			if name == "update" {
				v.notNull(a.UpdateExpression != nil, at+".update.updateExpression")
			}
			if name == "conditionCheck" {
				v.notNull(a.ConditionExpression != nil, at+".conditionCheck.conditionExpression")
			}
			v.enum(a.ReturnValuesOnConditionCheckFailure, at+"."+name+".returnValuesOnConditionCheckFailure", "ALL_OLD", "NONE")
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := txNesting(in.TransactItems); err != nil {
		return nil, err
	}
	if err := txPayload(in.TransactItems); err != nil {
		return nil, err
	}
	if err := s.refuseStrong(c.region, txTables(in.TransactItems)); err != nil {
		return nil, err
	}

	plans := make([]txPlan, len(in.TransactItems))
	seen := map[string]bool{}
	var invalid []error
	for i, ti := range in.TransactItems {
		p, err := s.planTxAction(c.region, ti)
		if err != nil {
			return nil, err
		}
		if p.invalid != nil {
			if invalid == nil {
				invalid = make([]error, len(in.TransactItems))
			}
			invalid[i] = p.invalid
			continue
		}
		k := encodedKey(p.t, p.key)
		if seen[k] {
			return nil, ddberr.Validationf("Transaction request cannot include multiple operations on one item")
		}
		seen[k] = true
		plans[i] = p
	}
	if invalid != nil {
		return nil, cancellation(&store.CanceledError{Errs: invalid}, len(plans))
	}

	muts := make([]store.Mutation, len(plans))
	for i := range plans {
		muts[i] = plans[i].mutation()
	}
	wo := store.WriteOptions{Principal: principal(c), Metering: store.MeterTransaction, Op: c.op}
	if in.ClientRequestToken != nil {
		unlock, replay, err := s.checkToken(&wo, c.region, *in.ClientRequestToken, c.body)
		if err != nil {
			return nil, err
		}
		defer unlock()
		if replay {
			return s.replayTransaction(plans, muts, nil, in.ReturnConsumedCapacity, in.ReturnItemCollectionMetrics)
		}
	}
	res, err := s.db.Write(ctx, wo, muts...)
	if err != nil {
		return nil, cancellation(err, len(plans))
	}
	out := respWriter{}
	txCapacity(&out, in.ReturnConsumedCapacity, plans, muts, res)
	c.chargeTx(plans, muts, res)
	if err := s.collectionMetricsByTable(&out, in.ReturnItemCollectionMetrics, muts); err != nil {
		return nil, err
	}
	return rawJSON(out.done()), nil
}

// txNesting checks the nesting of a transaction's values before anything
// else is looked at, as DynamoDB does (dynamodb-conformance,
// tests/tier3/limits/nestingDepth.test.ts, us-east-1 2026-10-08/09): a Put
// item nested past the limit is refused with the bare message, and an
// ExpressionAttributeValues value of any action only when it crosses one map
// or list more than an item may (33), naming its key. A value of exactly 32
// passes: a condition compares it, and an Update that writes it into the
// item cancels on the item's limit (applyUpdate).
func txNesting(items []transactWriteItem) error {
	for _, ti := range items {
		for _, a := range []*txAction{ti.ConditionCheck, ti.Put, ti.Delete, ti.Update} {
			if a == nil {
				continue
			}
			if a == ti.Put && attr.ItemTooDeep(a.Item) {
				return ddberr.Validationf("%s", attr.MsgNesting)
			}
			// A name over 65535 bytes in a Put item or any action's
			// values: as the nesting check, bare (not recorded for
			// transactions; ExtendDB #347, #365 enforce it there).
			if (a == ti.Put && attr.ItemLongName(a.Item)) || attr.ItemLongName(a.ExpressionAttributeValues) {
				return ddberr.Validationf("%s", attr.MsgNameTooLarge)
			}
			bad := ""
			for k, v := range a.ExpressionAttributeValues {
				if (bad == "" || k < bad) && attr.NestedDeeper(v, attr.MaxNestedContainers+1) {
					bad = k // the first in key order, for a stable answer
				}
			}
			if bad != "" {
				return ddberr.Validationf("ExpressionAttributeValues contains invalid value: %s for key %s", attr.MsgNesting, bad)
			}
		}
	}
	return nil
}

// txCapacity renders the ConsumedCapacity of a committed transaction of
// writes, when mode asks for it: each action charged as addTxWrite says, a
// check (a ReadOnly mutation) as a write of nothing.
func txCapacity(out *respWriter, mode string, plans []txPlan, muts []store.Mutation, res []store.Result) {
	if mode != "TOTAL" && mode != "INDEXES" {
		return
	}
	var consumed capacityByTable
	for i, p := range plans {
		check, nu := muts[i].ReadOnly, res[i].New
		if check {
			nu = res[i].Old
		}
		consumed.entry(p.t.Name).addTxWrite(p.t, res[i].Old, nu, check)
	}
	out.capacityList(mode, consumed.list)
}

// replayTransaction answers a transaction whose ClientRequestToken
// committed within the last 10 minutes, without applying it again. As
// DynamoDB documents, the response may differ from the first one:
// ConsumedCapacity reports the read capacity consumed in reading the items
// (a transactional read of each one's current state, two units per 4 KB,
// charged to its table) instead of the write capacity, and ItemCollectionMetrics are the
// collections' sizes now. responses, if not nil, is rendered first
// (ExecuteTransaction's "Responses"). The doubled read is what
// dynamodb-conformance measured for ExecuteTransaction's replay (two units
// per small item, eu-west-2), which it says TransactWriteItems mirrors.
func (s *Server) replayTransaction(plans []txPlan, muts []store.Mutation, responses []byte, returnCapacity, returnMetrics string) (any, error) {
	out := respWriter{}
	if responses != nil {
		out.raw("Responses", responses)
	}
	if returnCapacity == "TOTAL" || returnCapacity == "INDEXES" {
		refs := make([]store.ItemRef, len(plans))
		for i, p := range plans {
			refs[i] = store.ItemRef{Table: p.t, Key: p.key}
		}
		items, err := s.db.GetConsistent(refs)
		if err != nil {
			return nil, err
		}
		var consumed capacityByTable
		for i, it := range items {
			consumed.add(refs[i].Table.Name, 2*readUnits(attr.ItemSize(it), true), true)
		}
		out.capacityList(returnCapacity, consumed.list)
	}
	if err := s.collectionMetricsByTable(&out, returnMetrics, muts); err != nil {
		return nil, err
	}
	return rawJSON(out.done()), nil
}

// planTxAction validates one TransactItems entry and compiles its
// expressions. Errors here are plain ValidationExceptions (the request is
// malformed), not cancellation reasons, except a key of the wrong type or
// shape, which is left in p.invalid.
func (s *Server) planTxAction(region string, ti transactWriteItem) (txPlan, error) {
	var p txPlan
	var a *txAction
	n := 0
	for kind, x := range map[string]*txAction{"Put": ti.Put, "Update": ti.Update, "Delete": ti.Delete, "ConditionCheck": ti.ConditionCheck} {
		if x != nil {
			p.kind, a = kind, x
			n++
		}
	}
	if n != 1 {
		return p, ddberr.Validationf("TransactItems can only contain one of Check, Put, Update or Delete")
	}
	var missing string
	anyExpr := a.ConditionExpression != nil
	switch p.kind {
	case "Update":
		missing = "UpdateExpression and ConditionExpression are null"
		anyExpr = anyExpr || a.UpdateExpression != nil
	default:
		missing = "ConditionExpression is null"
	}
	comp, err := compileExprs(&a.exprInput, missing, anyExpr)
	if err != nil {
		return p, err
	}
	if a.UpdateExpression != nil {
		if p.upd, err = comp.Update(*a.UpdateExpression); err != nil {
			return p, err
		}
	}
	if a.ConditionExpression != nil {
		if p.cond, err = comp.Condition(*a.ConditionExpression); err != nil {
			return p, err
		}
	}
	if err := comp.CheckUnused(); err != nil {
		return p, err
	}
	p.onAll = a.ReturnValuesOnConditionCheckFailure == "ALL_OLD"
	p.t = s.db.TableIn(region, *a.TableName)
	if p.t == nil {
		return p, ddberr.NotFound()
	}
	if p.kind == "Put" {
		if err := p.t.ValidateItem(a.Item); err != nil {
			if actionInvalid(err) {
				p.invalid = err
				return p, nil
			}
			return p, err
		}
		p.item = a.Item
		p.key = p.t.KeyOf(a.Item)
		return p, nil
	}
	if err := p.t.ValidateKey(a.Key); err != nil {
		if actionInvalid(err) {
			p.invalid = err
			return p, nil
		}
		return p, err
	}
	p.key = a.Key
	if p.upd != nil {
		for _, k := range p.t.KeyNames() {
			if p.upd.Touches(k) {
				return p, ddberr.Invalidf("Cannot update attribute %s. This attribute is part of the key", k)
			}
		}
	}
	return p, nil
}

// mutation turns a plan into the store's conditional change.
func (p *txPlan) mutation() store.Mutation {
	m := store.Mutation{Table: p.t, Key: p.key}
	switch p.kind {
	case "Put":
		m.Apply = func(old attr.Item) (attr.Item, error) {
			if err := checkCondition(p.cond, old, p.onAll); err != nil {
				return nil, err
			}
			return p.item, nil
		}
	case "Delete":
		m.Apply = func(old attr.Item) (attr.Item, error) {
			return nil, checkCondition(p.cond, old, p.onAll)
		}
	case "Update":
		m.Apply = func(old attr.Item) (attr.Item, error) {
			nu, err := applyUpdate(old, p.key, p.cond, p.upd, nil, p.onAll)
			if err == nil {
				if e := emptyIndexKey(p.t, old, nu); e != nil {
					return nil, upfrontError{e} // the request's error, not a cancellation
				}
			}
			return nu, err
		}
	case "ConditionCheck":
		m.ReadOnly = true
		m.Apply = func(old attr.Item) (attr.Item, error) {
			return old, checkCondition(p.cond, old, p.onAll)
		}
	}
	return m
}

// applyUpdate is UpdateItem's change of one item: the condition (or the
// legacy Expected, already compiled into cond), then the update (or the
// legacy AttributeUpdates, whose type checks pre runs on the current item)
// on the current item, or on the bare key when there is none.
func applyUpdate(old, key attr.Item, cond *expr.Condition, upd *expr.Update, pre func(attr.Item) error, onFail bool) (attr.Item, error) {
	if err := checkCondition(cond, old, onFail); err != nil {
		return nil, err
	}
	if old == nil && upd != nil && upd.OnlyRemoves() {
		return nil, nil // nothing to take away from an absent item: no write
	}
	base := old
	if base == nil {
		base = key
	}
	if pre != nil {
		if err := pre(base); err != nil {
			return nil, err
		}
	}
	if upd == nil {
		return base, nil
	}
	nu, err := upd.Apply(base)
	if err == nil && upd.NestsTooDeep(nu) {
		// The short sentence is the cancellation reason DynamoDB gives a
		// transaction's Update that writes a value nested too deeply
		// (dynamodb-conformance, tests/tier3/limits/nestingDepth.test.ts,
		// NEST_REASON, us-east-1); UpdateItem is taken to say the same.
		return nil, ddberr.Validationf("Nesting Levels have exceeded supported limits")
	}
	if err == nil && attr.ItemSize(nu) > attr.MaxItemSize {
		return nil, ddberr.Validationf("Item size to update has exceeded the maximum allowed size")
	}
	return nu, err
}

// upfrontError is an action's error that DynamoDB reports for the whole
// request, as a ValidationException, not as a cancellation reason.
type upfrontError struct{ err error }

func (e upfrontError) Error() string { return e.err.Error() }
func (e upfrontError) Unwrap() error { return e.err }

// emptyIndexKey rejects an update that sets a secondary index key to an
// empty string or binary value. DynamoDB rejects it up front, in its own
// words (a Put names the index and key instead). A value the update left as
// it was (an item older than the index) is the backfill's concern.
// maxTxPayload is DynamoDB's limit on the aggregate size of the items of
// one transaction.
const maxTxPayload = 4 << 20

// txPayload refuses a transaction whose items (Put's item, the key of the
// other actions) measure more than 4 MB together, with the message
// DynamoDB sends (as a DynamoDB driver's tests transcribe it, "Payload
// Size" doubled and all).
func txPayload(items []transactWriteItem) error {
	size := 0
	for _, ti := range items {
		switch {
		case ti.Put != nil:
			size += attr.ItemSize(ti.Put.Item)
		case ti.Update != nil:
			size += attr.ItemSize(ti.Update.Key)
		case ti.Delete != nil:
			size += attr.ItemSize(ti.Delete.Key)
		case ti.ConditionCheck != nil:
			size += attr.ItemSize(ti.ConditionCheck.Key)
		}
	}
	return checkTxPayload(size)
}

// txPlansPayload is txPayload for ExecuteTransaction's planned writes.
func txPlansPayload(plans []txPlan) error {
	size := 0
	for _, p := range plans {
		if p.item != nil {
			size += attr.ItemSize(p.item)
		} else {
			size += attr.ItemSize(p.key)
		}
	}
	return checkTxPayload(size)
}

func checkTxPayload(size int) error {
	if size > maxTxPayload {
		return ddberr.Validationf("Transaction payload size cannot exceed 4MB. Payload Size: : Transaction payload size cannot exceed 4MB. Payload Size: %d", size)
	}
	return nil
}

func emptyIndexKey(t *store.Table, old, nu attr.Item) error {
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		for _, ke := range ix.KeyElements() {
			if t.IsKey(ke.Name) {
				continue
			}
			v, ok := nu[ke.Name]
			if !ok || v.Type() != ke.Type {
				continue
			}
			if ov, had := old[ke.Name]; had && attr.Equal(ov, v) {
				continue
			}
			if kind := store.EmptyKeyKind(v); kind != "" {
				return ddberr.Validationf("One or more parameter values are not valid. The update expression attempted to update a secondary index key to a value that is not supported. The AttributeValue for a key attribute cannot contain an empty %s value.", kind)
			}
		}
	}
	return nil
}

// upfront returns the error a failed transaction reports for the whole
// request, not as a cancellation reason (an action's upfrontError), if any.
func upfront(err error) error {
	var up upfrontError
	if errors.As(err, &up) {
		return up.err
	}
	var ce *store.CanceledError
	if errors.As(err, &ce) {
		for _, e := range ce.Errs {
			if errors.As(e, &up) {
				return up.err
			}
		}
	}
	return nil
}

// cancellation renders a failed transaction write as
// TransactionCanceledException, with one reason per action in order.
func cancellation(err error, n int) error {
	if e := upfront(err); e != nil {
		return e
	}
	var errs []error
	var ce *store.CanceledError
	switch {
	case errors.As(err, &ce):
		errs = ce.Errs
	case n == 1 && isItemError(err):
		errs = []error{err}
	default:
		return err
	}
	reasons := make([]ddberr.CancellationReason, n)
	codes := make([]string, n)
	invalid := false // DynamoDB looks at no action after an invalid one
	for i := range reasons {
		var e error
		if i < len(errs) && !invalid {
			e = errs[i]
		}
		reasons[i] = cancellationReason(e)
		codes[i] = reasons[i].Code
		invalid = invalid || reasons[i].Code == "ValidationError"
	}
	ex := ddberr.New(ddberr.KindTransactionCanceled, "Transaction cancelled, please refer cancellation reasons for specific reasons [%s]", strings.Join(codes, ", "))
	ex.CancellationReasons = reasons
	return ex
}

// actionInvalid reports whether a transaction action's key or item error is
// one DynamoDB reports per action, as a ValidationError cancellation reason:
// a key that does not match the schema, a key or index key of the wrong
// type. Empty key values, like malformed requests, are rejected up front as
// a ValidationException.
func actionInvalid(err error) bool {
	var de *ddberr.Error
	if !errors.As(err, &de) || de.Kind != ddberr.KindValidation {
		return false
	}
	return de.Message == "The provided key element does not match the schema" ||
		strings.HasPrefix(de.Message, "One or more parameter values were invalid: Type mismatch for ")
}

// isItemError reports whether a single-mutation Write failed in its Apply
// (a condition or a validation error) rather than in the engine.
func isItemError(err error) bool {
	var de *ddberr.Error
	return errors.As(err, &de) && (de.Kind == ddberr.KindConditionalCheckFailed || de.Kind == ddberr.KindValidation)
}

func cancellationReason(err error) ddberr.CancellationReason {
	if err == nil {
		return ddberr.CancellationReason{Code: "None"}
	}
	de := ddberr.As(err)
	switch de.Kind {
	case ddberr.KindConditionalCheckFailed:
		return ddberr.CancellationReason{Code: "ConditionalCheckFailed", Message: de.Message, Item: de.Item}
	case ddberr.KindValidation:
		return ddberr.CancellationReason{Code: "ValidationError", Message: de.Message}
	}
	return ddberr.CancellationReason{Code: de.Name(), Message: de.Message}
}

// checkToken handles a ClientRequestToken (TransactWriteItems,
// ExecuteTransaction): it locks the token until unlock is called, so that
// concurrent requests with it run one after the other, and looks it up. A
// request seen within the last 10 minutes is a replay; the same token on a
// different request is IdempotentParameterMismatch. Otherwise it sets
// wo.Extra to record the token in the transaction's own batch, so that
// the record is exactly as durable as the transaction.
//
// Tokens are per region, as every other name: the token is recorded as
// region/token (a region holds no '/').
func (s *Server) checkToken(wo *store.WriteOptions, region, token string, body []byte) (unlock func(), replay bool, err error) {
	token = region + "/" + token
	digest := requestDigest(body)
	unlock = s.txTokens.lock(token)
	rec, ok, err := s.db.Token(token, time.Now())
	switch {
	case err != nil:
	case ok && rec.Digest != digest:
		err = ddberr.New(ddberr.KindIdempotentParameterMismatch, "")
	case ok:
		replay = true
	}
	if err != nil {
		unlock()
		return nil, false, err
	}
	wo.Extra = store.TokenWriter(token, func() store.TokenRecord {
		return store.TokenRecord{Created: time.Now(), Digest: digest}
	})
	return unlock, replay, nil
}

// requestDigest identifies a request for idempotency checks: the hash of
// its canonical JSON (object members sorted, numbers as written), so that
// the member order a client's map iteration happened to produce does not
// make a retry look like a different request.
func requestDigest(body []byte) [32]byte {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err == nil {
		if canon, err := json.Marshal(v); err == nil {
			body = canon
		}
	}
	return sha256.Sum256(body)
}

type transactGetItem struct {
	Get *struct {
		TableName                *string           `json:"TableName"`
		Key                      attr.Item         `json:"Key"`
		ProjectionExpression     *string           `json:"ProjectionExpression"`
		ExpressionAttributeNames map[string]string `json:"ExpressionAttributeNames"`
	} `json:"Get"`
}

func (s *Server) transactGetItems(ctx context.Context, c *call) (any, error) {
	var in struct {
		TransactItems          []transactGetItem `json:"TransactItems"`
		ReturnConsumedCapacity string            `json:"ReturnConsumedCapacity"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	v.enum(in.ReturnConsumedCapacity, "returnConsumedCapacity", "INDEXES", "TOTAL", "NONE")
	v.notNull(in.TransactItems != nil, "transactItems")
	if len(in.TransactItems) > maxTransactItems {
		v.fail(javaTransactGets(in.TransactItems), "transactItems", maxLength(maxTransactItems))
	} else {
		v.listLength(len(in.TransactItems), in.TransactItems != nil, "transactItems", 0)
	}
	for i, ti := range in.TransactItems {
		at := "transactItems." + itoa(i+1) + ".member.get"
		v.notNull(ti.Get != nil, "transactItems."+itoa(i+1)+".member.get")
		if ti.Get != nil {
			v.itemTableName(ti.Get.TableName, "tableName")
			v.notNull(ti.Get.Key != nil, at+".key")
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	refs := make([]store.ItemRef, len(in.TransactItems))
	projs := make([]*expr.Projection, len(in.TransactItems))
	seen := map[string]bool{}
	var invalid []error // per item, as for TransactWriteItems
	for _, ti := range in.TransactItems {
		if err := s.refuseStrong(c.region, []*string{ti.Get.TableName}); err != nil {
			return nil, err
		}
	}
	for i, ti := range in.TransactItems {
		g := ti.Get
		proj, err := getProjection(&keysAndAttributes{ProjectionExpression: g.ProjectionExpression, ExpressionAttributeNames: g.ExpressionAttributeNames})
		if err != nil {
			return nil, err
		}
		t := s.db.TableIn(c.region, *g.TableName)
		if t == nil {
			return nil, ddberr.NotFound()
		}
		if err := t.ValidateKey(g.Key); err != nil {
			if !actionInvalid(err) {
				return nil, err
			}
			if invalid == nil {
				invalid = make([]error, len(in.TransactItems))
			}
			invalid[i] = err
			continue
		}
		k := encodedKey(t, g.Key)
		if seen[k] {
			return nil, ddberr.Validationf("Transaction request cannot include multiple operations on one item")
		}
		seen[k] = true
		refs[i] = store.ItemRef{Table: t, Key: g.Key}
		projs[i] = proj
	}
	if invalid != nil {
		return nil, cancellation(&store.CanceledError{Errs: invalid}, len(refs))
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
	return transactReadResponse(refs, items, in.ReturnConsumedCapacity, func(i int, it attr.Item) attr.Item {
		if it != nil && projs[i] != nil {
			return projs[i].Apply(it)
		}
		return it
	}), nil
}

// transactReadResponse renders {"Responses":[...]} for TransactGetItems and
// read-only ExecuteTransaction: item(i, it) gives what read i returns (nil
// renders {}), and each table is charged twice the strongly consistent read
// units of what was read, as DynamoDB charges transactional reads.
func transactReadResponse(refs []store.ItemRef, items []attr.Item, returnCapacity string, item func(i int, it attr.Item) attr.Item) rawJSON {
	out := respWriter{}
	out.key("Responses")
	out.buf = append(out.buf, '[')
	var consumed capacityByTable
	for i, it := range items {
		if i > 0 {
			out.buf = append(out.buf, ',')
		}
		consumed.add(refs[i].Table.Name, 2*readUnits(attr.ItemSize(it), true), true)
		if r := item(i, it); r != nil {
			out.buf = append(out.buf, `{"Item":`...)
			out.buf = attr.AppendItemJSON(out.buf, r)
			out.buf = append(out.buf, '}')
		} else {
			out.buf = append(out.buf, "{}"...)
		}
	}
	out.buf = append(out.buf, ']')
	out.capacityList(returnCapacity, consumed.list)
	return out.done()
}
