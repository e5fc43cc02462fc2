package api

import (
	"context"
	"sort"
	"strings"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/capacity"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/store"
	"github.com/eddydb/eddy/store/expr"
)

// Query and Scan: the read path. Both compile their request into a
// store.ReadSpec (one range scan: a partition, or a hash range of the
// table or index), read one page, and apply the filter and the projection
// to what was read. Limit, the 1 MB page limit, ScannedCount and capacity
// all count items read, before the filter, as DynamoDB counts them.

func (s *Server) registerReadOps() {
	s.ops["Query"] = func(ctx context.Context, c *call) (any, error) { return s.read(ctx, c, true) }
	s.ops["Scan"] = func(ctx context.Context, c *call) (any, error) { return s.read(ctx, c, false) }
}

// legacyCond is one entry of KeyConditions, QueryFilter or ScanFilter.
type legacyCond struct {
	AttributeValueList []attr.Value `json:"AttributeValueList"`
	ComparisonOperator *string      `json:"ComparisonOperator"`
}

type readInput struct {
	TableName              *string   `json:"TableName"`
	IndexName              *string   `json:"IndexName"`
	Select                 string    `json:"Select"`
	Limit                  *int64    `json:"Limit"`
	ConsistentRead         *bool     `json:"ConsistentRead"`
	ExclusiveStartKey      attr.Item `json:"ExclusiveStartKey"`
	ReturnConsumedCapacity string    `json:"ReturnConsumedCapacity"`
	ProjectionExpression   *string   `json:"ProjectionExpression"`
	FilterExpression       *string   `json:"FilterExpression"`
	AttributesToGet        []string  `json:"AttributesToGet"`
	ConditionalOperator    string    `json:"ConditionalOperator"`
	exprInput

	// Query.
	KeyConditionExpression *string               `json:"KeyConditionExpression"`
	KeyConditions          map[string]legacyCond `json:"KeyConditions"`
	QueryFilter            map[string]legacyCond `json:"QueryFilter"`
	ScanIndexForward       *bool                 `json:"ScanIndexForward"`

	// Scan.
	ScanFilter    map[string]legacyCond `json:"ScanFilter"`
	Segment       *int64                `json:"Segment"`
	TotalSegments *int64                `json:"TotalSegments"`
}

// read runs a Query or a Scan in four steps: check the request
// (checkRead), compile its expressions (compileRead), plan the read
// (planRead: target, key condition → key range, select, paging), then read
// one page and render it (renderRead).
func (s *Server) read(ctx context.Context, c *call, isQuery bool) (any, error) {
	var in readInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if !isQuery && (in.KeyConditionExpression != nil || in.KeyConditions != nil || in.QueryFilter != nil || in.ScanIndexForward != nil) {
		in.KeyConditionExpression, in.KeyConditions, in.QueryFilter, in.ScanIndexForward = nil, nil, nil, nil // not Scan members: ignored as unknown members
	}
	if isQuery {
		in.ScanFilter, in.Segment, in.TotalSegments = nil, nil, nil
	}
	if err := checkRead(&in, isQuery); err != nil {
		return nil, err
	}
	ex, err := compileRead(&in, isQuery)
	if err != nil {
		return nil, err
	}
	p, err := s.planRead(c.region, &in, isQuery, ex)
	if err != nil {
		return nil, err
	}
	return s.renderRead(ctx, c, p)
}

// legacyFilter returns the legacy filter member of a Query (QueryFilter)
// or a Scan (ScanFilter), and its name.
func (in *readInput) legacyFilter(isQuery bool) (string, map[string]legacyCond) {
	if isQuery {
		return "QueryFilter", in.QueryFilter
	}
	return "ScanFilter", in.ScanFilter
}

// checkRead validates a Query's or a Scan's members, alone and together
// (no expression is parsed yet).
func checkRead(in *readInput, isQuery bool) error {
	var v constraints
	v.itemTableName(in.TableName, "tableName")
	if in.IndexName != nil {
		v.resourceName(*in.IndexName, "indexName")
	}
	v.enum(in.Select, "select", "SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES")
	if in.Limit != nil && *in.Limit < 1 {
		if isQuery {
			// Query's answer since DynamoDB's 2026-06 rewording: no echoed
			// value, PascalCase member (nubo-db/dynamodb-conformance
			// tests/tier3/error-messages/query.test.ts "Limit of 0",
			// validation-ordering/query.test.ts). Scan's recorded answer
			// is still the older "Value '0' at 'limit'" (error-messages/scan.test.ts).
			v.failUnechoed("Limit", "Member must have value greater than or equal to 1")
		} else {
			v.fail(in.Limit, "limit", "Member must have value greater than or equal to 1")
		}
	}
	v.enum(in.ReturnConsumedCapacity, "returnConsumedCapacity", "INDEXES", "TOTAL", "NONE")
	v.enum(in.ConditionalOperator, "conditionalOperator", "AND", "OR")
	if in.Segment != nil {
		if *in.Segment < 0 {
			v.fail(in.Segment, "segment", "Member must have value greater than or equal to 0")
		} else if *in.Segment > 999999 {
			v.fail(in.Segment, "segment", "Member must have value less than or equal to 999999")
		}
	}
	if in.TotalSegments != nil {
		if *in.TotalSegments < 1 {
			v.fail(in.TotalSegments, "totalSegments", "Member must have value greater than or equal to 1")
		} else if *in.TotalSegments > 1000000 {
			v.fail(in.TotalSegments, "totalSegments", "Member must have value less than or equal to 1000000")
		}
	}
	for _, m := range []map[string]legacyCond{in.KeyConditions, in.QueryFilter, in.ScanFilter} {
		for _, lc := range m {
			v.notNull(lc.ComparisonOperator != nil, "keyConditions.comparisonOperator")
			if lc.ComparisonOperator != nil {
				v.enum(*lc.ComparisonOperator, "comparisonOperator", "EQ", "NE", "IN", "LE", "LT", "GE", "GT", "BETWEEN", "NOT_NULL", "NULL", "CONTAINS", "NOT_CONTAINS", "BEGINS_WITH")
			}
		}
	}
	if err := v.err(); err != nil {
		return err
	}
	filterName, legacyFilter := in.legacyFilter(isQuery)
	if err := mixedParams(in, filterName, legacyFilter != nil); err != nil {
		return err
	}
	if err := checkConditionalOperator(in.ConditionalOperator, len(legacyFilter)); err != nil {
		return err
	}
	if !isQuery {
		if in.Segment != nil && in.TotalSegments == nil {
			return ddberr.Validationf("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
		}
		if in.TotalSegments != nil && in.Segment == nil {
			return ddberr.Validationf("The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
		}
		if in.Segment != nil && *in.Segment >= *in.TotalSegments {
			return ddberr.Validationf("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: %d is not less than TotalSegments: %d", *in.Segment, *in.TotalSegments)
		}
	}

	// Select against the projection members (DynamoDB prefixes these with
	// "1 validation error detected: " on Query, not on Scan).
	prefix := ""
	if isQuery {
		prefix = "1 validation error detected: "
	}
	hasProj := in.ProjectionExpression != nil || in.AttributesToGet != nil
	projMember := "ProjectionExpression"
	if in.AttributesToGet != nil {
		projMember = "AttributesToGet"
	}
	switch in.Select {
	case "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "COUNT":
		if hasProj {
			what := in.Select
			if what == "COUNT" {
				what = "only the Count"
			}
			return ddberr.Validationf("%sCannot specify the %s when choosing to get %s", prefix, projMember, what)
		}
	case "SPECIFIC_ATTRIBUTES":
		if !hasProj {
			return ddberr.Validationf("%sMust specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES", prefix)
		}
	}
	if in.Select == "ALL_PROJECTED_ATTRIBUTES" && in.IndexName == nil {
		return ddberr.Validationf("%sALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName", prefix)
	}
	return nil
}

// readExprs are a read's compiled expressions, from the expression members
// or their legacy equivalents.
type readExprs struct {
	kc           *expr.KeyCondition // nil on a Scan
	filter       *expr.Condition
	proj         *expr.Projection
	legacyFilter bool // the filter came from QueryFilter or ScanFilter
}

// compileRead parses a read's expressions (or translates their legacy
// forms) and checks the expression attribute names and values.
func compileRead(in *readInput, isQuery bool) (readExprs, error) {
	var ex readExprs
	missing := "FilterExpression is null"
	if isQuery {
		missing = "KeyConditionExpression and FilterExpression are null"
	}
	if in.ExpressionAttributeValues != nil && in.KeyConditionExpression == nil && in.FilterExpression == nil {
		return ex, ddberr.Validationf("ExpressionAttributeValues can only be specified when using expressions: %s", missing)
	}
	anyExpr := in.KeyConditionExpression != nil || in.FilterExpression != nil || in.ProjectionExpression != nil
	comp, err := compileExprs(&in.exprInput, missing, anyExpr)
	if err != nil {
		return ex, err
	}
	if in.KeyConditionExpression != nil {
		if ex.kc, err = comp.KeyCondition(*in.KeyConditionExpression); err != nil {
			return ex, err
		}
	}
	if in.FilterExpression != nil {
		if ex.filter, err = comp.Filter(*in.FilterExpression); err != nil {
			return ex, err
		}
	}
	if in.ProjectionExpression != nil {
		if ex.proj, err = comp.Projection(*in.ProjectionExpression); err != nil {
			return ex, err
		}
	}
	if err := comp.CheckUnused(); err != nil {
		return ex, err
	}
	if in.AttributesToGet != nil {
		if ex.proj, err = legacyProjection(in.AttributesToGet); err != nil {
			return ex, err
		}
	}
	if _, legacy := in.legacyFilter(isQuery); legacy != nil {
		if ex.filter, err = legacyCondition(legacy, in.ConditionalOperator); err != nil {
			return ex, err
		}
		ex.legacyFilter = true
	}
	if isQuery && in.KeyConditions != nil {
		if ex.kc, err = legacyKeyCondition(in.KeyConditions); err != nil {
			return ex, err
		}
	}
	if isQuery && ex.kc == nil {
		return ex, ddberr.Validationf("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
	}
	return ex, nil
}

// readPlan is a Query or Scan ready to run: the page to read and what to
// make of each item read.
type readPlan struct {
	spec       store.ReadSpec
	filter     *expr.Condition
	proj       *expr.Projection
	sel        string // the Select in effect (its default resolved)
	indexView  bool   // render table items fetched for a filter as the index projects them
	consistent bool
	capacity   string // ReturnConsumedCapacity
}

// keySchema is the key of a read's target: the table's, or its index's.
type keySchema struct {
	hashName, rangeName string // the first of each; rangeName "" for none
	hashType, rangeType attr.Type
	// Every partition and sort key attribute, in key-schema order: more
	// than one of a kind only on a global index with a multi-attribute key.
	hashNames, rangeNames []string
	hashTypes, rangeTypes []attr.Type
}

// targetKeys returns the key schema of index ix of t, or of t itself when
// ix is nil.
func targetKeys(t *store.Table, ix *store.Index) keySchema {
	hash := []store.KeyElement{t.Hash}
	var rng []store.KeyElement
	if t.Range != nil {
		rng = []store.KeyElement{*t.Range}
	}
	if ix != nil {
		hash, rng = ix.HashElements(), ix.RangeElements()
	}
	k := keySchema{hashName: hash[0].Name, hashType: hash[0].Type}
	if len(rng) > 0 {
		k.rangeName, k.rangeType = rng[0].Name, rng[0].Type
	}
	for _, ke := range hash {
		k.hashNames, k.hashTypes = append(k.hashNames, ke.Name), append(k.hashTypes, ke.Type)
	}
	for _, ke := range rng {
		k.rangeNames, k.rangeTypes = append(k.rangeNames, ke.Name), append(k.rangeTypes, ke.Type)
	}
	return k
}

// isKey reports whether name is one of the schema's key attributes.
func (k *keySchema) isKey(name string) bool {
	for _, n := range k.hashNames {
		if n == name {
			return true
		}
	}
	for _, n := range k.rangeNames {
		if n == name {
			return true
		}
	}
	return false
}

// readIndex returns the index a read names, refusing what it cannot read:
// an unknown index, a consistent read of a global one, an index still
// backfilling. PartiQL words the first two differently (partiQL).
func readIndex(t *store.Table, name string, consistent, partiQL bool) (*store.Index, error) {
	ix := t.Index(name)
	switch {
	case ix == nil && partiQL:
		// Unlike Query, PartiQL does not name the index.
		return nil, ddberr.Validationf("The table does not have the specified index")
	case ix == nil:
		return nil, ddberr.Validationf("The table does not have the specified index: %s", name)
	case ix.Global && consistent && partiQL:
		return nil, ddberr.Validationf("Strongly consistent read is not supported on Global Secondary Indexes")
	case ix.Global && consistent:
		return nil, ddberr.Validationf("Consistent reads are not supported on global secondary indexes")
	case ix.Backfilling:
		return nil, ddberr.Validationf("Cannot read from backfilling global secondary index: %s", ix.Name)
	}
	return ix, nil
}

// planRead resolves a read's target (table or index), turns its key
// condition into the partition and sort-key range to read, resolves Select
// and whether table items must be fetched, and sets the paging members
// (ExclusiveStartKey, Limit, Segment).
func (s *Server) planRead(region string, in *readInput, isQuery bool, ex readExprs) (*readPlan, error) {
	t := s.db.TableIn(region, *in.TableName)
	if t == nil {
		return nil, ddberr.NotFound()
	}
	p := &readPlan{
		spec: store.ReadSpec{Table: t}, filter: ex.filter, proj: ex.proj,
		consistent: in.ConsistentRead != nil && *in.ConsistentRead,
		capacity:   in.ReturnConsumedCapacity,
	}
	spec := &p.spec
	if in.IndexName != nil {
		ix, err := readIndex(t, *in.IndexName, p.consistent, false)
		if err != nil {
			return nil, err
		}
		spec.Index = ix
	}
	keys := targetKeys(t, spec.Index)
	if kc := ex.kc; kc != nil {
		if err := kc.ValidateKeys(keys.hashNames, keys.rangeNames); err != nil {
			return nil, err
		}
		if err := kc.CheckKeyTypes(keys.hashTypes, keys.rangeTypes); err != nil {
			return nil, err
		}
		spec.Partition, spec.Sort = kc.Hash, kc.Range
		spec.MorePartition, spec.SortEq = kc.MoreHash, kc.SortEq
		spec.Reverse = in.ScanIndexForward != nil && !*in.ScanIndexForward
	}
	if isQuery && p.filter != nil {
		for _, path := range p.filter.Paths() {
			if n := path[0].Name; keys.isKey(n) {
				if ex.legacyFilter {
					return nil, ddberr.Validationf("QueryFilter can only contain non-primary key attributes: Primary key attribute: %s", n)
				}
				return nil, ddberr.Validationf("Filter Expression can only contain non-primary key attributes: Primary key attribute: %s", n)
			}
		}
	}
	p.sel = in.Select
	if p.sel == "" {
		switch {
		case p.proj != nil:
			p.sel = "SPECIFIC_ATTRIBUTES"
		case spec.Index != nil:
			p.sel = "ALL_PROJECTED_ATTRIBUTES"
		default:
			p.sel = "ALL_ATTRIBUTES"
		}
	}
	if ix := spec.Index; ix != nil && ix.Projection != "ALL" {
		if ix.Global && p.sel == "ALL_ATTRIBUTES" {
			return nil, ddberr.Invalidf("Select type ALL_ATTRIBUTES is not supported for global secondary index %s because its projection type is not ALL", ix.Name)
		}
		var names []string
		if p.proj != nil && p.sel != "COUNT" {
			names = p.proj.TopLevelNames()
		}
		if ix.Global {
			// A global index cannot reach back to the table: asking it
			// for an attribute it does not project is refused (the
			// DynamoDB Query reference; scylla's test_gsi.py
			// test_gsi_query_select_2, run against DynamoDB, which pins no
			// words: these are eddy's, after the ALL_ATTRIBUTES message).
			for _, n := range names {
				if !ix.Projects(t, n) {
					return nil, ddberr.Invalidf("Attribute %s is not projected into global secondary index %s", n, ix.Name)
				}
			}
		}
		spec.FetchTable = needsTableFetch(t, ix, p.sel == "ALL_ATTRIBUTES", names, p.filter)
	}
	// Items fetched from the table for a filter are still returned as the
	// index projects them.
	p.indexView = p.sel == "ALL_PROJECTED_ATTRIBUTES" && spec.FetchTable
	if in.TotalSegments != nil {
		spec.Segment, spec.TotalSegments = int(*in.Segment), int(*in.TotalSegments)
	}
	if in.ExclusiveStartKey != nil {
		if err := spec.CheckStartKey(in.ExclusiveStartKey); err != nil {
			return nil, err
		}
		spec.Start = in.ExclusiveStartKey
	}
	if in.Limit != nil {
		spec.Limit = int(min(*in.Limit, 1<<31))
	}
	// Without a filter or a projection, items are rendered from their
	// stored bytes (no maps built).
	spec.Raw = p.filter == nil && (p.proj == nil || p.sel == "COUNT")
	spec.RawSized = spec.Raw && p.sel != "COUNT" // sized while rendered
	return p, nil
}

// renderRead reads the plan's page and renders the response: Items (unless
// COUNT), Count, ScannedCount, LastEvaluatedKey, ConsumedCapacity.
func (s *Server) renderRead(ctx context.Context, c *call, p *readPlan) (any, error) {
	t, spec := p.spec.Table, &p.spec
	out := respWriter{buf: c.respBuffer()}
	count := p.sel == "COUNT"
	if !count {
		out.key("Items")
		out.buf = append(out.buf, '[')
	}
	rd := capacity.Read{Table: t, Index: spec.Index, Op: c.op}
	if !spec.Partition.IsZero() {
		rd.Key = &spec.Partition
	}
	if err := s.admitRead(rd); err != nil {
		return nil, err
	}
	fr := filteredRead{filter: p.filter}
	err := fr.read(ctx, s.db, spec, func(r store.Row) error {
		if count {
			return nil
		}
		it := r.Item
		switch {
		case p.proj != nil:
			it = p.proj.Apply(it)
		case p.indexView:
			it = spec.Index.Entry(t, it)
		}
		if fr.count > 1 {
			out.buf = append(out.buf, ',')
		}
		if it == nil {
			var err error
			out.buf, *r.SizeOut, err = attr.AppendJSONFromStoredSize(out.buf, r.Raw)
			return err
		}
		out.buf = attr.AppendItemJSON(out.buf, it)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !count {
		out.buf = append(out.buf, ']')
	}
	out.raw("Count", []byte(itoa(fr.count)))
	out.raw("ScannedCount", []byte(itoa(fr.total.Scanned)))
	if fr.total.More {
		out.item("LastEvaluatedKey", fr.total.LastKey)
	}
	s.chargeRead(rd, readUnits(fr.total.Bytes, p.consistent))
	readCapacity(&out, p.capacity, t, spec.Index, fr.total, p.consistent)
	if c.metered {
		tu, iu := readSplit(spec.Index, fr.total, p.consistent)
		c.chargeRead(t, spec.Index, tu, iu, fr.count)
	}
	return out.done(), nil
}

// filteredRead reads one or more pages (PartiQL reads one per partition
// of an IN list), keeps the items that pass filter and sums what was read.
type filteredRead struct {
	filter *expr.Condition // nil: every item passes
	count  int             // items that passed, over every page so far
	// total sums the pages read (Scanned, Bytes, TableBytes); More and
	// LastKey are the last page's that stopped early.
	total store.Page
}

// read reads one page of spec and calls emit for each item that passes the
// filter, after counting it (so count is 1 for the first item emitted).
// It stops with ctx.Err() once ctx is done (the client went away).
func (f *filteredRead) read(ctx context.Context, db *store.DB, spec *store.ReadSpec, emit func(store.Row) error) error {
	page, err := db.Read(ctx, spec, func(r store.Row) error {
		if f.filter != nil {
			ok, err := f.filter.Eval(r.Item)
			if err != nil || !ok {
				return err
			}
		}
		f.count++
		return emit(r)
	})
	f.total.Scanned += page.Scanned
	f.total.Bytes += page.Bytes
	f.total.TableBytes += page.TableBytes
	f.total.TableBlocks += page.TableBlocks
	if page.More {
		f.total.More, f.total.LastKey = true, page.LastKey
	}
	return err
}

// readCapacity is the one place a read's capacity is accounted (and where
// per-partition accounting will hook in): DynamoDB charges 1 unit per
// started 4 KB of the total size of the items read, halved for eventually
// consistent reads, at least one (half) unit. A local index read that
// fetches table items charges the table for them.
func readCapacity(out *respWriter, mode string, t *store.Table, ix *store.Index, page store.Page, consistent bool) {
	if mode != "TOTAL" && mode != "INDEXES" {
		return
	}
	tableUnits, indexUnits := readSplit(ix, page, consistent)
	total := tableUnits + indexUnits
	out.key("ConsumedCapacity")
	b := append(out.buf, `{"TableName":`...)
	b = attr.AppendJSONString(b, t.Name)
	b = append(b, `,"CapacityUnits":`...)
	b = append(b, strconvFloat(total)...)
	if mode == "INDEXES" {
		b = append(b, `,"Table":{"CapacityUnits":`...)
		b = append(b, strconvFloat(tableUnits)...)
		b = append(b, '}')
		if ix != nil {
			if ix.Global {
				b = append(b, `,"GlobalSecondaryIndexes":{`...)
			} else {
				b = append(b, `,"LocalSecondaryIndexes":{`...)
			}
			b = attr.AppendJSONString(b, ix.Name)
			b = append(b, `:{"CapacityUnits":`...)
			b = append(b, strconvFloat(indexUnits)...)
			b = append(b, "}}"...)
		}
	}
	out.buf = append(b, '}')
}

// readSplit is a read's units: the table's, and index ix's (nil: none).
func readSplit(ix *store.Index, page store.Page, consistent bool) (tableUnits, indexUnits float64) {
	if ix == nil {
		return readUnits(page.Bytes, consistent), 0
	}
	indexUnits = readUnits(page.Bytes-page.TableBytes, consistent)
	// Each table item fetched is charged rounded up to 4 KB on its own
	// ("with each item individually rounded up to the next 4 KB": DynamoDB
	// developer guide, LSI.ThroughputConsiderations.Reads).
	if page.TableBlocks > 0 {
		tableUnits = float64(page.TableBlocks)
		if !consistent {
			tableUnits /= 2
		}
	}
	return tableUnits, indexUnits
}

// mixedParams rejects requests that use both legacy and expression
// parameters, naming both sets as DynamoDB does.
func mixedParams(in *readInput, filterName string, hasLegacyFilter bool) error {
	var legacy, exprs []string
	if in.AttributesToGet != nil {
		legacy = append(legacy, "AttributesToGet")
	}
	if hasLegacyFilter {
		legacy = append(legacy, filterName)
	}
	if in.ConditionalOperator != "" {
		legacy = append(legacy, "ConditionalOperator")
	}
	// KeyConditions mixes only with KeyConditionExpression: beside a
	// FilterExpression or ProjectionExpression alone DynamoDB accepts it.
	if in.KeyConditions != nil && in.KeyConditionExpression != nil {
		legacy = append(legacy, "KeyConditions")
	}
	if in.ProjectionExpression != nil {
		exprs = append(exprs, "ProjectionExpression")
	}
	if in.FilterExpression != nil {
		exprs = append(exprs, "FilterExpression")
	}
	if in.KeyConditionExpression != nil {
		exprs = append(exprs, "KeyConditionExpression")
	}
	if len(legacy) > 0 && len(exprs) > 0 {
		return ddberr.Validationf("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {%s} Expression parameters: {%s}", strings.Join(legacy, ", "), strings.Join(exprs, ", "))
	}
	return nil
}

// legacyProjection turns the legacy AttributesToGet member (top-level
// names, no document paths) into a projection.
func legacyProjection(names []string) (*expr.Projection, error) {
	if len(names) == 0 {
		return nil, ddberr.Validationf("1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	seen := map[string]bool{}
	paths := make([]expr.Path, 0, len(names))
	for _, n := range names {
		if len(n) > attr.MaxNameLen { // scylladb's test_limits.py: refused as in an Item
			return nil, ddberr.Validationf("1 validation error detected: %s", attr.MsgNameTooLarge)
		}
		if seen[n] {
			return nil, ddberr.Invalidf("Duplicate value in attribute name: %s", n)
		}
		seen[n] = true
		paths = append(paths, expr.Path{{Name: n, Index: -1}})
	}
	return expr.NewProjection(paths), nil
}

// legacyCondition translates QueryFilter / ScanFilter (joined by
// ConditionalOperator, AND by default) into the equivalent filter
// expression (legacy.go), so both forms share one evaluator.
func legacyCondition(m map[string]legacyCond, conj string) (*expr.Condition, error) {
	if len(m) == 0 {
		return nil, nil // QueryFilter: {} filters nothing
	}
	if conj == "" {
		conj = "AND"
	}
	g := newLegacyGen("n")
	var terms []string
	for _, name := range sortedTables(m) {
		t, err := g.term(name, *m[name].ComparisonOperator, m[name].AttributeValueList)
		if err != nil {
			return nil, err
		}
		terms = append(terms, "("+t+")")
	}
	return g.compiler().Filter(strings.Join(terms, " "+conj+" "))
}

// legacyKeyCondition translates KeyConditions into a key condition.
func legacyKeyCondition(m map[string]legacyCond) (*expr.KeyCondition, error) {
	kc := &expr.KeyCondition{}
	if len(m) > 2 {
		// Up to eight on a global index with a multi-attribute key
		// (api/composite.go, rule 6); ValidateKeys refuses them elsewhere.
		kc.OverTwo = ddberr.Validationf("Conditions can be of length 1 or 2 only")
		if len(m) > 2*maxKeyAttrs {
			return nil, kc.OverTwo
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, name := range keys {
		lc := m[name]
		op := *lc.ComparisonOperator
		if err := checkLegacyArgs(op, lc.AttributeValueList); err != nil {
			if kc.OverTwo != nil {
				kc.PartErr = err // after OverTwo, as ValidateKeys decides
				return kc, nil
			}
			return nil, err
		}
		var kop expr.KeyOp
		switch op {
		case "EQ":
			kop = expr.KeyEQ
		case "LE":
			kop = expr.KeyLE
		case "LT":
			kop = expr.KeyLT
		case "GE":
			kop = expr.KeyGE
		case "GT":
			kop = expr.KeyGT
		case "BEGINS_WITH":
			kop = expr.KeyBeginsWith
		case "BETWEEN":
			kop = expr.KeyBetween
		default:
			err := ddberr.Validationf("Unsupported operator on KeyCondition: %s", op)
			if kc.OverTwo != nil {
				kc.PartErr = err
				return kc, nil
			}
			return nil, err
		}
		kc.Parts = append(kc.Parts, expr.KeyPart{Name: name, Op: kop, Values: lc.AttributeValueList})
	}
	return kc, nil
}

// needsTableFetch reports whether a read of index ix must fetch each item
// from the table: only a local index can, and it must when the read asks
// for all attributes (all) or needs one, for its projection (names) or its
// filter, that ix does not project.
func needsTableFetch(t *store.Table, ix *store.Index, all bool, names []string, filter *expr.Condition) bool {
	if ix == nil || ix.Global || ix.Projection == "ALL" {
		return false
	}
	if all {
		return true
	}
	for _, n := range names {
		if !ix.Projects(t, n) {
			return true
		}
	}
	if filter != nil {
		for _, p := range filter.Paths() {
			if !ix.Projects(t, p[0].Name) {
				return true
			}
		}
	}
	return false
}
