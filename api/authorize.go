package api

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/iam"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/store/expr"
	"github.com/eddydb/eddy/store/partiql"
)

// Policies is where api finds a principal's IAM policies (iam/policies.Store
// implements it). enforced is false while no policy exists at all: then
// every request is allowed, as before eddy had policies.
type Policies interface {
	For(principal string) (policies []iam.Named, enforced bool)
}

// authCheck is one question a request asks IAM: an operation may ask
// several (BatchGetItem one per table, TransactWriteItems one per action).
type authCheck struct {
	action   string // "dynamodb:GetItem"
	resource string // the table's, index's or stream's ARN, or "*"
	ctx      iam.Context
}

// authorize evaluates the call's principal's policies on every question
// the call asks, before its handler runs, so a denied request reads and
// writes nothing. An anonymous call (no principal) and a server with no
// policies allow everything.
func (s *Server) authorize(c *call) error {
	if s.policies == nil || c.principalARN == "" {
		return nil
	}
	pols, enforced := s.policies.For(c.principalARN)
	if !enforced {
		return nil
	}
	checks, err := s.authChecks(c)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	for _, ch := range checks {
		if ch.ctx == nil {
			ch.ctx = iam.Context{}
		}
		iam.PrincipalKeys(ch.ctx, c.principalARN)
		ch.ctx.Set("aws:CurrentTime", now.Format(time.RFC3339))
		ch.ctx.Set("aws:EpochTime", itoa(int(now.Unix())))
		if c.sourceIP != "" {
			ch.ctx.Set("aws:SourceIp", c.sourceIP)
		}
		d := iam.Evaluate(pols, &iam.Request{Principal: c.principalARN, Action: ch.action, Resource: ch.resource, Context: ch.ctx})
		if !d.Allowed {
			if s.denied != nil {
				s.denied(c.principalARN, ch.action, ch.resource)
			}
			return accessDenied(c.principalARN, ch.action, ch.resource, d.ExplicitDeny)
		}
	}
	return nil
}

// accessDenied is DynamoDB's AccessDeniedException (400) in the shape of
// IAM's denial messages since 2021 (the IAM User Guide, "Troubleshooting
// access denied error messages"): who, what, on which resource, and why.
func accessDenied(principal, action, resource string, explicit bool) error {
	why := "because no identity-based policy allows the " + action + " action"
	if explicit {
		why = "with an explicit deny in an identity-based policy"
	}
	return ddberr.New(ddberr.KindAccessDenied, "User: %s is not authorized to perform: %s on resource: %s %s", principal, action, resource, why)
}

// sourceIP is the address of r's peer, for aws:SourceIp.
func sourceIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}

// authKeys are the members of a request authorization reads: a second,
// lenient decoding of the body (only when policies are enforced).
type authKeys struct {
	TableName                 *string                    `json:"TableName"`
	IndexName                 *string                    `json:"IndexName"`
	ResourceArn               *string                    `json:"ResourceArn"`
	StreamArn                 *string                    `json:"StreamArn"`
	ShardIterator             *string                    `json:"ShardIterator"`
	Key                       attr.Item                  `json:"Key"`
	Item                      attr.Item                  `json:"Item"`
	Select                    string                     `json:"Select"`
	ReturnValues              string                     `json:"ReturnValues"`
	ReturnConsumedCapacity    string                     `json:"ReturnConsumedCapacity"`
	ProjectionExpression      *string                    `json:"ProjectionExpression"`
	AttributesToGet           []string                   `json:"AttributesToGet"`
	UpdateExpression          *string                    `json:"UpdateExpression"`
	AttributeUpdates          map[string]json.RawMessage `json:"AttributeUpdates"`
	KeyConditionExpression    *string                    `json:"KeyConditionExpression"`
	KeyConditions             map[string]legacyCond      `json:"KeyConditions"`
	ExpressionAttributeNames  map[string]string          `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues map[string]attr.Value      `json:"ExpressionAttributeValues"`
	RequestItems              map[string]json.RawMessage `json:"RequestItems"`
	TransactItems             []map[string]*authKeys     `json:"TransactItems"`
	Statement                 *string                    `json:"Statement"`
	Parameters                []attr.Value               `json:"Parameters"`
	Statements                []pqInput                  `json:"Statements"`
	TransactStatements        []pqInput                  `json:"TransactStatements"`
	// Backups, restores, exports and imports (backupChecks).
	BackupArn               *string `json:"BackupArn"`
	ExportArn               *string `json:"ExportArn"`
	ImportArn               *string `json:"ImportArn"`
	TableArn                *string `json:"TableArn"`
	SourceTableArn          *string `json:"SourceTableArn"`
	SourceTableName         *string `json:"SourceTableName"`
	TargetTableName         *string `json:"TargetTableName"`
	TableCreationParameters *struct {
		TableName *string `json:"TableName"`
	} `json:"TableCreationParameters"`
}

// authChecks lists the questions c asks: the action (dynamodb:<op>; the
// underlying item actions for transactions, PartiQLSelect/Insert/Update/
// Delete for PartiQL), the resource, and the condition keys DynamoDB sets
// (the DynamoDB Developer Guide, "Using IAM policy conditions for
// fine-grained access control").
func (s *Server) authChecks(c *call) ([]authCheck, error) {
	op := c.op
	if strings.HasPrefix(op, "Streams.") {
		op = op[len("Streams."):]
	}
	var in authKeys
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	acct := s.accountIn(c.region)
	switch op {
	case "ListTables", "DescribeLimits", "DescribeEndpoints", "ListStreams":
		return []authCheck{{action: "dynamodb:" + op, resource: "*"}}, nil
	case "GetRecords":
		// The iterator begins with its stream's ARN (streams/iterator.go);
		// a bare token names none, and only a policy on "*" allows it.
		res := "*"
		if in.ShardIterator != nil {
			if i := strings.LastIndex(*in.ShardIterator, "|1|"); i > 0 {
				res = (*in.ShardIterator)[:i]
			}
		}
		return []authCheck{{action: "dynamodb:GetRecords", resource: res}}, nil
	case "DescribeStream", "GetShardIterator":
		return []authCheck{{action: "dynamodb:" + op, resource: deref(in.StreamArn)}}, nil
	case "BatchGetItem", "BatchWriteItem":
		return s.batchChecks(c, op, in.RequestItems)
	case "TransactGetItems", "TransactWriteItems":
		var checks []authCheck
		for _, ti := range in.TransactItems {
			for kind, a := range ti {
				if a == nil {
					continue
				}
				action := map[string]string{"Get": "GetItem", "Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}[kind]
				if action == "" {
					continue
				}
				ch := s.itemCheck(c, action, a)
				ch.ctx.Set("dynamodb:EnclosingOperation", op)
				checks = append(checks, ch)
			}
		}
		return checks, nil
	case "ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction":
		stmts := append([]pqInput{{Statement: in.Statement, Parameters: in.Parameters}}, in.Statements...)
		stmts = append(stmts, in.TransactStatements...)
		var checks []authCheck
		for _, st := range stmts {
			if st.Statement != nil {
				checks = append(checks, s.partiqlCheck(c, *st.Statement, st.Parameters))
			}
		}
		return checks, nil
	case "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan":
		return []authCheck{s.itemCheck(c, op, &in)}, nil
	case "ListBackups", "ListExports", "ListImports", "DescribeBackup", "DeleteBackup", "DescribeExport", "DescribeImport",
		"RestoreTableFromBackup", "RestoreTableToPointInTime", "ExportTableToPointInTime", "ImportTable":
		return s.backupChecks(c, op, &in), nil
	}
	// Table-level operations (CreateTable, DescribeTable, UpdateTable,
	// DeleteTable, the TTL and tag operations, CreateBackup and the
	// continuous backups, and any added later): the named table, or the
	// ResourceArn.
	res := "*"
	switch {
	case in.ResourceArn != nil:
		res = *in.ResourceArn
	case in.TableName != nil:
		res = acct.Table(*in.TableName)
	}
	return []authCheck{{action: "dynamodb:" + op, resource: res}}, nil
}

// restoreTargetActions are the permissions a restore needs on its target
// table besides the restore action itself ("DynamoDB read and write
// permissions on the target table are necessary for restore
// functionality": the Developer Guide, "Using IAM with DynamoDB backup and
// restore", whose example policy lists these).
var restoreTargetActions = []string{"PutItem", "UpdateItem", "DeleteItem", "GetItem", "Query", "Scan", "BatchWriteItem"}

// backupChecks are the questions of the backup, restore, export and import
// operations, on the resource types the Service Authorization Reference
// gives them (list_amazondynamodb): a backup's ARN for DescribeBackup,
// DeleteBackup and RestoreTableFromBackup (backup*), the source table's
// for RestoreTableToPointInTime and ExportTableToPointInTime (table*), the
// created table's for ImportTable, the export's and the import's ARNs for
// DescribeExport and DescribeImport; ListBackups, ListExports and
// ListImports have no resource type ("*"). A restore also asks for read
// and write on its target table.
func (s *Server) backupChecks(c *call, op string, in *authKeys) []authCheck {
	acct := s.accountIn(c.region)
	res := "*"
	switch op {
	case "DescribeBackup", "DeleteBackup", "RestoreTableFromBackup":
		res = deref(in.BackupArn)
	case "DescribeExport":
		res = deref(in.ExportArn)
	case "DescribeImport":
		res = deref(in.ImportArn)
	case "ExportTableToPointInTime":
		res = deref(in.TableArn)
	case "RestoreTableToPointInTime":
		if in.SourceTableArn != nil {
			res = *in.SourceTableArn
		} else if in.SourceTableName != nil {
			res = acct.Table(*in.SourceTableName)
		}
	case "ImportTable":
		if p := in.TableCreationParameters; p != nil && p.TableName != nil {
			res = acct.Table(*p.TableName)
		}
	}
	if res == "" {
		res = "*"
	}
	checks := []authCheck{{action: "dynamodb:" + op, resource: res}}
	if (op == "RestoreTableFromBackup" || op == "RestoreTableToPointInTime") && in.TargetTableName != nil {
		target := acct.Table(*in.TargetTableName)
		for _, a := range restoreTargetActions {
			checks = append(checks, authCheck{action: "dynamodb:" + a, resource: target})
		}
	}
	return checks
}

// itemCheck is the question of one item operation (GetItem, PutItem,
// UpdateItem, DeleteItem, ConditionCheckItem, Query, Scan) on in's table.
func (s *Server) itemCheck(c *call, action string, in *authKeys) authCheck {
	acct := s.accountIn(c.region)
	name := deref(in.TableName)
	ch := authCheck{action: "dynamodb:" + action, resource: acct.Table(name), ctx: iam.Context{}}
	t := s.db.TableIn(c.region, name)
	if in.IndexName != nil {
		ch.resource = acct.Index(name, *in.IndexName)
	}
	comp := expr.NewCompiler(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	// dynamodb:LeadingKeys: the partition key value of the item touched
	// (Query: the key condition's).
	if t != nil {
		hash := t.Hash.Name
		if in.IndexName != nil {
			for _, ix := range t.Indexes {
				if ix.Name == *in.IndexName {
					hash = ix.Hash.Name
				}
			}
		}
		switch {
		case action == "Query":
			if v, ok := queryHash(comp, in, hash); ok {
				ch.ctx.Set("dynamodb:LeadingKeys", keyString(v))
			}
		case action == "Scan":
		case in.Item != nil:
			if v, ok := in.Item[hash]; ok {
				ch.ctx.Set("dynamodb:LeadingKeys", keyString(v))
			}
		case in.Key != nil:
			if v, ok := in.Key[hash]; ok {
				ch.ctx.Set("dynamodb:LeadingKeys", keyString(v))
			}
		}
	}
	// dynamodb:Attributes: the top-level attributes read (a projection) or
	// written (the item, the updated attributes and the key).
	attrs := map[string]bool{}
	specific := false
	if in.ProjectionExpression != nil {
		specific = true
		if p, err := comp.Projection(*in.ProjectionExpression); err == nil {
			for _, n := range p.TopLevelNames() {
				attrs[n] = true
			}
		}
	}
	if len(in.AttributesToGet) > 0 {
		specific = true
		for _, n := range in.AttributesToGet {
			attrs[n] = true
		}
	}
	for n := range in.Item {
		attrs[n] = true
	}
	if action == "UpdateItem" || action == "DeleteItem" {
		for n := range in.Key {
			attrs[n] = true
		}
	}
	if in.UpdateExpression != nil {
		if u, err := comp.Update(*in.UpdateExpression); err == nil {
			for _, p := range u.UpdatedPaths() {
				attrs[p[0].Name] = true
			}
		}
	}
	for n := range in.AttributeUpdates {
		attrs[n] = true
	}
	if len(attrs) > 0 {
		ch.ctx.Set("dynamodb:Attributes", slices.Sorted(maps.Keys(attrs))...)
	}
	// dynamodb:Select: the request's, or what it amounts to for a read
	// (SPECIFIC_ATTRIBUTES with a projection, ALL_ATTRIBUTES without), so
	// that "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"}
	// refuses a read of whole items (the IAM User Guide's example policy
	// "Allows access to specific attributes").
	switch {
	case in.Select != "":
		ch.ctx.Set("dynamodb:Select", in.Select)
	case specific:
		ch.ctx.Set("dynamodb:Select", "SPECIFIC_ATTRIBUTES")
	case action == "GetItem" || action == "Query" || action == "Scan":
		ch.ctx.Set("dynamodb:Select", "ALL_ATTRIBUTES")
	}
	if in.ReturnValues != "" {
		ch.ctx.Set("dynamodb:ReturnValues", in.ReturnValues)
	}
	if in.ReturnConsumedCapacity != "" {
		ch.ctx.Set("dynamodb:ReturnConsumedCapacity", in.ReturnConsumedCapacity)
	}
	return ch
}

// partiqlCheck is the question of one PartiQL statement: PartiQLSelect
// (also for EXISTS), PartiQLInsert, PartiQLUpdate or PartiQLDelete on its
// table or index, with dynamodb:LeadingKeys from the inserted item or the
// WHERE's equalities on the partition key (none for a statement that
// scans, as for Scan), and dynamodb:Attributes from the SELECT list, the
// inserted item or the SET and REMOVE paths.
func (s *Server) partiqlCheck(c *call, text string, params []attr.Value) authCheck {
	acct := s.accountIn(c.region)
	ch := authCheck{action: "dynamodb:PartiQLSelect", resource: "*", ctx: iam.Context{}}
	st, err := partiql.Parse(text)
	if err != nil {
		return ch // the handler refuses it; nothing runs
	}
	ch.action = "dynamodb:" + map[partiql.Kind]string{partiql.Select: "PartiQLSelect", partiql.Exists: "PartiQLSelect",
		partiql.Insert: "PartiQLInsert", partiql.Update: "PartiQLUpdate", partiql.Delete: "PartiQLDelete"}[st.Kind]
	ch.resource = acct.Table(st.Table)
	if st.Index != "" {
		ch.resource = acct.Index(st.Table, st.Index)
	}
	g, err := partiql.NewGen(st, params)
	t := s.db.TableIn(c.region, st.Table)
	if err != nil || t == nil {
		return ch
	}
	hash := t.Hash.Name
	for _, ix := range t.Indexes {
		if st.Index != "" && ix.Name == st.Index {
			hash = ix.Hash.Name
		}
	}
	attrs := map[string]bool{}
	switch st.Kind {
	case partiql.Insert:
		if v, ok, err := g.Value(st.Value); err == nil && ok && v.Type() == attr.TypeM {
			for n, av := range v.Map() {
				attrs[n] = true
				if n == hash {
					ch.ctx.Set("dynamodb:LeadingKeys", keyString(av))
				}
			}
		}
	default:
		if vals, ok, err := g.Equality(st.Where, hash, true); err == nil && ok {
			lead := make([]string, len(vals))
			for i, v := range vals {
				lead[i] = keyString(v)
			}
			ch.ctx.Set("dynamodb:LeadingKeys", lead...)
		}
		for _, p := range st.Projection {
			attrs[p[0].Name] = true
		}
		for _, a := range st.Sets {
			attrs[a.Path[0].Name] = true
		}
		for _, p := range st.Removes {
			attrs[p[0].Name] = true
		}
		if st.Kind == partiql.Select {
			ch.ctx.Set("dynamodb:Select", map[bool]string{true: "ALL_ATTRIBUTES", false: "SPECIFIC_ATTRIBUTES"}[st.Star])
		}
	}
	if len(attrs) > 0 {
		ch.ctx.Set("dynamodb:Attributes", slices.Sorted(maps.Keys(attrs))...)
	}
	return ch
}

// queryHash finds the equality on the partition key in a Query's key
// condition (expression or legacy KeyConditions).
func queryHash(comp *expr.Compiler, in *authKeys, hash string) (attr.Value, bool) {
	if in.KeyConditionExpression != nil {
		kc, err := comp.KeyCondition(*in.KeyConditionExpression)
		if err != nil {
			return attr.Value{}, false
		}
		for _, p := range kc.Parts {
			if p.Name == hash && p.Op == expr.KeyEQ && len(p.Values) == 1 {
				return p.Values[0], true
			}
		}
		return attr.Value{}, false
	}
	if kc, ok := in.KeyConditions[hash]; ok && len(kc.AttributeValueList) == 1 {
		return kc.AttributeValueList[0], true
	}
	return attr.Value{}, false
}

// batchChecks: BatchGetItem and BatchWriteItem ask one question per table,
// with every key (or item) of that table in dynamodb:LeadingKeys and every
// attribute in dynamodb:Attributes.
func (s *Server) batchChecks(c *call, op string, items map[string]json.RawMessage) ([]authCheck, error) {
	acct := s.accountIn(c.region)
	var checks []authCheck
	for _, name := range slices.Sorted(maps.Keys(items)) {
		ch := authCheck{action: "dynamodb:" + op, resource: acct.Table(name), ctx: iam.Context{}}
		t := s.db.TableIn(c.region, name)
		var keys []attr.Item
		attrs := map[string]bool{}
		specific := false
		if op == "BatchGetItem" {
			var ka keysAndAttributes
			if err := (&call{body: items[name]}).decode(&ka); err != nil {
				return nil, err
			}
			keys = ka.Keys
			if ka.ProjectionExpression != nil {
				specific = true
				if p, err := expr.NewCompiler(ka.ExpressionAttributeNames, nil).Projection(*ka.ProjectionExpression); err == nil {
					for _, n := range p.TopLevelNames() {
						attrs[n] = true
					}
				}
			}
			for _, n := range ka.AttributesToGet {
				specific = true
				attrs[n] = true
			}
			if specific {
				ch.ctx.Set("dynamodb:Select", "SPECIFIC_ATTRIBUTES")
			} else {
				ch.ctx.Set("dynamodb:Select", "ALL_ATTRIBUTES")
			}
		} else {
			var reqs []writeRequest
			if err := (&call{body: items[name]}).decode(&reqs); err != nil {
				return nil, err
			}
			for _, r := range reqs {
				switch {
				case r.PutRequest != nil:
					keys = append(keys, r.PutRequest.Item)
					for n := range r.PutRequest.Item {
						attrs[n] = true
					}
				case r.DeleteRequest != nil:
					keys = append(keys, r.DeleteRequest.Key)
					for n := range r.DeleteRequest.Key {
						attrs[n] = true
					}
				}
			}
		}
		if t != nil {
			var lead []string
			for _, k := range keys {
				if v, ok := k[t.Hash.Name]; ok && !slices.Contains(lead, keyString(v)) {
					lead = append(lead, keyString(v))
				}
			}
			if len(lead) > 0 {
				ch.ctx.Set("dynamodb:LeadingKeys", lead...)
			}
		}
		if len(attrs) > 0 {
			ch.ctx.Set("dynamodb:Attributes", slices.Sorted(maps.Keys(attrs))...)
		}
		checks = append(checks, ch)
	}
	return checks, nil
}

// keyString is a key value as a condition compares it: the string, the
// number's text, or the binary's base64.
func keyString(v attr.Value) string {
	if v.Type() == attr.TypeB {
		return base64.StdEncoding.EncodeToString(v.Bytes())
	}
	return v.Str()
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
