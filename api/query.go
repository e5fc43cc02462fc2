package api

import (
	"context"
	"sort"
	"strings"

	"github.com/eddydb/eddy/attr"
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
	var v constraints
	v.itemTableName(in.TableName, "tableName")
	if in.IndexName != nil {
		v.resourceName(*in.IndexName, "indexName")
	}
	v.enum(in.Select, "select", "SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES")
	if in.Limit != nil && *in.Limit < 1 {
		v.fail(in.Limit, "limit", "Member must have value greater than or equal to 1")
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
		return nil, err
	}
	filterName := "ScanFilter"
	legacyFilter := in.ScanFilter
	if isQuery {
		filterName, legacyFilter = "QueryFilter", in.QueryFilter
	}
	if err := mixedParams(&in, filterName, legacyFilter != nil); err != nil {
		return nil, err
	}
	if !isQuery {
		if in.Segment != nil && in.TotalSegments == nil {
			return nil, ddberr.Validationf("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
		}
		if in.TotalSegments != nil && in.Segment == nil {
			return nil, ddberr.Validationf("The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
		}
		if in.Segment != nil && *in.Segment >= *in.TotalSegments {
			return nil, ddberr.Validationf("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: %d is not less than TotalSegments: %d", *in.Segment, *in.TotalSegments)
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
			return nil, ddberr.Validationf("%sCannot specify the %s when choosing to get %s", prefix, projMember, what)
		}
	case "SPECIFIC_ATTRIBUTES":
		if !hasProj {
			return nil, ddberr.Validationf("%sMust specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES", prefix)
		}
	}
	if in.Select == "ALL_PROJECTED_ATTRIBUTES" && in.IndexName == nil {
		return nil, ddberr.Validationf("%sALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName", prefix)
	}

	// Expressions.
	missing := "FilterExpression is null"
	if isQuery {
		missing = "KeyConditionExpression and FilterExpression are null"
	}
	if in.ExpressionAttributeValues != nil && in.KeyConditionExpression == nil && in.FilterExpression == nil {
		return nil, ddberr.Validationf("ExpressionAttributeValues can only be specified when using expressions: %s", missing)
	}
	anyExpr := in.KeyConditionExpression != nil || in.FilterExpression != nil || in.ProjectionExpression != nil
	comp, err := compileExprs(&in.exprInput, missing, anyExpr)
	if err != nil {
		return nil, err
	}
	var kc *expr.KeyCondition
	if in.KeyConditionExpression != nil {
		if kc, err = comp.KeyCondition(*in.KeyConditionExpression); err != nil {
			return nil, err
		}
	}
	var filter *expr.Condition
	if in.FilterExpression != nil {
		if filter, err = comp.Filter(*in.FilterExpression); err != nil {
			return nil, err
		}
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
	if in.AttributesToGet != nil {
		if proj, err = legacyProjection(in.AttributesToGet); err != nil {
			return nil, err
		}
	}
	if legacyFilter != nil {
		if filter, err = legacyCondition(legacyFilter, in.ConditionalOperator); err != nil {
			return nil, err
		}
	}
	if isQuery && in.KeyConditions != nil {
		if kc, err = legacyKeyCondition(in.KeyConditions); err != nil {
			return nil, err
		}
	}
	if isQuery && kc == nil {
		return nil, ddberr.Validationf("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
	}

	// The target: the table or one of its indexes.
	t := s.db.Table(*in.TableName)
	if t == nil {
		return nil, ddberr.NotFound()
	}
	consistent := in.ConsistentRead != nil && *in.ConsistentRead
	spec := &store.ReadSpec{Table: t}
	hashName, hashType := t.Hash.Name, t.Hash.Type
	rangeName, rangeType := "", attr.Type(0)
	if t.Range != nil {
		rangeName, rangeType = t.Range.Name, t.Range.Type
	}
	if in.IndexName != nil {
		ix := t.Index(*in.IndexName)
		if ix == nil {
			return nil, ddberr.Validationf("The table does not have the specified index: %s", *in.IndexName)
		}
		if ix.Global && consistent {
			return nil, ddberr.Validationf("Consistent reads are not supported on global secondary indexes")
		}
		if ix.Backfilling {
			return nil, ddberr.Validationf("Cannot read from backfilling global secondary index: %s", ix.Name)
		}
		spec.Index = ix
		hashName, hashType = ix.Hash.Name, ix.Hash.Type
		rangeName, rangeType = "", 0
		if ix.Range != nil {
			rangeName, rangeType = ix.Range.Name, ix.Range.Type
		}
	}
	if kc != nil {
		if err := kc.Validate(hashName, rangeName); err != nil {
			return nil, err
		}
		if err := kc.CheckTypes(hashType, rangeType); err != nil {
			return nil, err
		}
		spec.Partition, spec.Sort = kc.Hash, kc.Range
		spec.Reverse = in.ScanIndexForward != nil && !*in.ScanIndexForward
	}
	if isQuery && filter != nil {
		for _, p := range filter.Paths() {
			if n := p[0].Name; n == hashName || n == rangeName {
				if legacyFilter != nil {
					return nil, ddberr.Validationf("QueryFilter can only contain non-primary key attributes: Primary key attribute: %s", n)
				}
				return nil, ddberr.Validationf("Filter Expression can only contain non-primary key attributes: Primary key attribute: %s", n)
			}
		}
	}
	sel := in.Select
	if sel == "" {
		switch {
		case proj != nil:
			sel = "SPECIFIC_ATTRIBUTES"
		case spec.Index != nil:
			sel = "ALL_PROJECTED_ATTRIBUTES"
		default:
			sel = "ALL_ATTRIBUTES"
		}
	}
	if ix := spec.Index; ix != nil && ix.Projection != "ALL" {
		if ix.Global && sel == "ALL_ATTRIBUTES" {
			return nil, ddberr.Invalidf("Select type ALL_ATTRIBUTES is not supported for global secondary index %s because its projection type is not ALL", ix.Name)
		}
		var names []string
		if proj != nil && sel != "COUNT" {
			names = proj.TopLevelNames()
		}
		spec.FetchTable = needsTableFetch(t, ix, sel == "ALL_ATTRIBUTES", names, filter)
	}
	// Items fetched from the table for a filter are still returned as the
	// index projects them.
	indexView := sel == "ALL_PROJECTED_ATTRIBUTES" && spec.FetchTable
	if in.ExclusiveStartKey != nil {
		if err := spec.CheckStartKey(in.ExclusiveStartKey); err != nil {
			return nil, err
		}
		spec.Start = in.ExclusiveStartKey
	}
	if in.Limit != nil {
		spec.Limit = int(min(*in.Limit, 1<<31))
	}
	if in.TotalSegments != nil {
		spec.Segment, spec.TotalSegments = int(*in.Segment), int(*in.TotalSegments)
	}

	// Read one page. Without a filter or a projection, items are rendered
	// from their stored bytes (no maps built).
	spec.Raw = filter == nil && (proj == nil || sel == "COUNT")
	spec.RawSized = spec.Raw && sel != "COUNT" // sized while rendered
	out := respWriter{buf: c.respBuffer()}
	if sel != "COUNT" {
		out.key("Items")
		out.buf = append(out.buf, '[')
	}
	count := 0
	page, err := s.db.Read(ctx, spec, func(r store.Row) error {
		if filter != nil {
			ok, err := filter.Eval(r.Item)
			if err != nil || !ok {
				return err
			}
		}
		count++
		if sel == "COUNT" {
			return nil
		}
		it := r.Item
		switch {
		case proj != nil:
			it = proj.Apply(it)
		case indexView:
			it = spec.Index.Entry(t, it)
		}
		if count > 1 {
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
	if sel != "COUNT" {
		out.buf = append(out.buf, ']')
	}
	out.raw("Count", []byte(itoa(count)))
	out.raw("ScannedCount", []byte(itoa(page.Scanned)))
	if page.More {
		out.item("LastEvaluatedKey", page.LastKey)
	}
	readCapacity(&out, in.ReturnConsumedCapacity, t, spec.Index, page, consistent)
	return out.done(), nil
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
	var tableUnits, indexUnits float64
	switch {
	case ix == nil:
		tableUnits = readUnits(page.Bytes, consistent)
	default:
		indexUnits = readUnits(page.Bytes-page.TableBytes, consistent)
		if page.TableBytes > 0 {
			tableUnits = readUnits(page.TableBytes, consistent)
		}
	}
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

// mixedParams rejects requests that use both legacy and expression
// parameters, naming both sets as DynamoDB does.
func mixedParams(in *readInput, filterName string, hasLegacyFilter bool) error {
	var legacy, exprs []string
	if in.AttributesToGet != nil {
		legacy = append(legacy, "AttributesToGet")
	}
	if in.KeyConditions != nil {
		legacy = append(legacy, "KeyConditions")
	}
	if hasLegacyFilter {
		legacy = append(legacy, filterName)
	}
	if in.ConditionalOperator != "" {
		legacy = append(legacy, "ConditionalOperator")
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
	if len(m) > 2 {
		return nil, ddberr.Validationf("Conditions can be of length 1 or 2 only")
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	kc := &expr.KeyCondition{}
	for _, name := range keys {
		lc := m[name]
		op := *lc.ComparisonOperator
		if err := checkLegacyArgs(op, lc.AttributeValueList); err != nil {
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
			return nil, ddberr.Validationf("Unsupported operator on KeyCondition: %s", op)
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
