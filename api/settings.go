package api

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/store"
)

// Per-table settings kept beside a table's descriptor, in
// store.SpaceTableSettings by table ID (a table created again under the same
// name starts without them, as in DynamoDB; DeleteTable removes them):
//
//   - Contributor Insights (DescribeContributorInsights,
//     UpdateContributorInsights, ListContributorInsights): the setting of a
//     table and of each of its global indexes, DISABLED until enabled. eddy
//     records it and answers as DynamoDB does; it creates no CloudWatch
//     Contributor Insights rules and reports no contributors.
//   - resource-based policies (PutResourcePolicy, GetResourcePolicy,
//     DeleteResourcePolicy) of a table or its stream: stored with
//     DynamoDB's revision rules and messages (moto's AWS-verified
//     tests/test_dynamodb/test_dynamodb_resource_policy.py); eddy evaluates
//     only identity-based policies (iam/policies), not these.
//
// Keys: 'c' tableID(4) index-name for Contributor Insights ("" the table's),
// 'p' tableID(4) resource (the ARN's part after "table/NAME": "" or
// "/stream/LABEL") for policies.

func (s *Server) registerSettingsOps() {
	s.ops["DescribeContributorInsights"] = s.describeContributorInsights
	s.ops["UpdateContributorInsights"] = s.updateContributorInsights
	s.ops["ListContributorInsights"] = s.listContributorInsights
	s.ops["PutResourcePolicy"] = s.putResourcePolicy
	s.ops["GetResourcePolicy"] = s.getResourcePolicy
	s.ops["DeleteResourcePolicy"] = s.deleteResourcePolicy
}

func (s *Server) settings() store.KeySpace { return s.db.KeySpace(store.SpaceTableSettings) }

func settingsKey(kind byte, id uint32, rest string) []byte {
	k := binary.BigEndian.AppendUint32([]byte{kind}, id)
	return append(k, rest...)
}

// forgetSettings removes a deleted table's settings; a failure is logged
// (they are unreachable once the table is gone: its ID is never reused).
func (s *Server) forgetSettings(t *store.Table) {
	ks := s.settings()
	b := s.db.NewBatch()
	defer b.Close()
	var err error
	for _, kind := range []byte{'c', 'p'} {
		lo := settingsKey(kind, t.ID, "")
		hi := settingsKey(kind, t.ID+1, "")
		if e := ks.DeleteRange(b, lo, hi); e != nil && err == nil {
			err = e
		}
	}
	if err == nil {
		err = b.Commit(true)
	}
	if err != nil {
		slog.Warn("api: could not remove a deleted table's settings", "table", t.Name, "id", t.ID, "err", err)
	}
}

// ciSetting is a stored Contributor Insights setting.
type ciSetting struct {
	Status  string `json:"status"` // ENABLED or DISABLED
	Mode    string `json:"mode,omitempty"`
	Updated int64  `json:"updated"` // Unix milliseconds
}

func (s *Server) ciGet(t *store.Table, index string) (ciSetting, error) {
	v, ok, err := s.settings().Get(settingsKey('c', t.ID, index))
	if err != nil || !ok {
		return ciSetting{Status: "DISABLED"}, err
	}
	var c ciSetting
	if err := json.Unmarshal(v, &c); err != nil {
		return ciSetting{}, err
	}
	return c, nil
}

type ciInput struct {
	TableName                 *string `json:"TableName"`
	IndexName                 *string `json:"IndexName"`
	ContributorInsightsAction *string `json:"ContributorInsightsAction"`
	ContributorInsightsMode   *string `json:"ContributorInsightsMode"`
}

// ciTarget checks the members and finds the table and, when named, its
// global index (Contributor Insights covers a table and its global
// secondary indexes).
func (s *Server) ciTarget(c *call, in *ciInput) (*store.Table, string, error) {
	var v constraints
	v.tableName(in.TableName, "tableName")
	if in.IndexName != nil {
		v.resourceName(*in.IndexName, "indexName")
	}
	if err := v.err(); err != nil {
		return nil, "", err
	}
	t := s.db.TableIn(c.region, *in.TableName)
	if t == nil {
		return nil, "", ddberr.TableNotFound(*in.TableName)
	}
	if in.IndexName == nil {
		return t, "", nil
	}
	for _, ix := range t.Indexes {
		if ix.Name == *in.IndexName && ix.Global {
			return t, ix.Name, nil
		}
	}
	return nil, "", ddberr.New(ddberr.KindResourceNotFound, "Requested resource not found: Index: %s not found", *in.IndexName)
}

func ciView(t *store.Table, index string, c ciSetting) map[string]any {
	out := map[string]any{"TableName": t.Name, "ContributorInsightsStatus": c.Status}
	if index != "" {
		out["IndexName"] = index
	}
	if c.Mode != "" && c.Status == "ENABLED" {
		out["ContributorInsightsMode"] = c.Mode
	}
	return out
}

func (s *Server) describeContributorInsights(ctx context.Context, c *call) (any, error) {
	var in ciInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	t, index, err := s.ciTarget(c, &in)
	if err != nil {
		return nil, err
	}
	set, err := s.ciGet(t, index)
	if err != nil {
		return nil, err
	}
	out := ciView(t, index, set)
	if set.Updated > 0 {
		out["LastUpdateDateTime"] = float64(set.Updated) / 1000
	}
	return out, nil
}

// updateContributorInsights records the setting at once and answers the
// transition DynamoDB answers (ENABLING, DISABLING); DescribeContributorInsights
// then reports ENABLED or DISABLED.
func (s *Server) updateContributorInsights(ctx context.Context, c *call) (any, error) {
	var in ciInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	v.tableName(in.TableName, "tableName")
	v.notNull(in.ContributorInsightsAction != nil, "contributorInsightsAction")
	if in.ContributorInsightsAction != nil {
		v.enum(*in.ContributorInsightsAction, "contributorInsightsAction", "ENABLE", "DISABLE")
	}
	if in.ContributorInsightsMode != nil {
		v.enum(*in.ContributorInsightsMode, "contributorInsightsMode", "ACCESSED_AND_THROTTLED_KEYS", "THROTTLED_KEYS")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	t, index, err := s.ciTarget(c, &in)
	if err != nil {
		return nil, err
	}
	set := ciSetting{Status: "DISABLED", Updated: time.Now().UnixMilli()}
	answer := "DISABLING"
	if *in.ContributorInsightsAction == "ENABLE" {
		set.Status, answer = "ENABLED", "ENABLING"
		set.Mode = "ACCESSED_AND_THROTTLED_KEYS"
		if in.ContributorInsightsMode != nil {
			set.Mode = *in.ContributorInsightsMode
		}
	}
	val, _ := json.Marshal(set)
	b := s.db.NewBatch()
	defer b.Close()
	if err := s.settings().Set(b, settingsKey('c', t.ID, index), val); err != nil {
		return nil, err
	}
	if err := b.Commit(true); err != nil {
		return nil, err
	}
	out := map[string]any{"TableName": t.Name, "ContributorInsightsStatus": answer}
	if index != "" {
		out["IndexName"] = index
	}
	if set.Mode != "" {
		out["ContributorInsightsMode"] = set.Mode
	}
	return out, nil
}

// listContributorInsights lists a table and its global indexes with their
// settings (TableName given), or every table and index of the region with
// Contributor Insights enabled, ordered by table then index name.
func (s *Server) listContributorInsights(ctx context.Context, c *call) (any, error) {
	var in struct {
		TableName  *string `json:"TableName"`
		NextToken  *string `json:"NextToken"`
		MaxResults *int64  `json:"MaxResults"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	if in.TableName != nil {
		v.tableName(in.TableName, "tableName")
	}
	if in.MaxResults != nil && (*in.MaxResults < 0 || *in.MaxResults > 100) {
		if *in.MaxResults < 0 {
			v.fail(in.MaxResults, "maxResults", "Member must have value greater than or equal to 0")
		} else {
			v.fail(in.MaxResults, "maxResults", "Member must have value less than or equal to 100")
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	var tables []*store.Table
	if in.TableName != nil {
		t := s.db.TableIn(c.region, *in.TableName)
		if t == nil {
			return nil, ddberr.TableNotFound(*in.TableName)
		}
		tables = []*store.Table{t}
	} else {
		for _, name := range s.db.TableNamesIn(c.region) {
			if t := s.db.TableIn(c.region, name); t != nil {
				tables = append(tables, t)
			}
		}
	}
	sort.Slice(tables, func(i, j int) bool { return tables[i].Name < tables[j].Name })
	var all []map[string]any
	var keys []string
	for _, t := range tables {
		targets := []string{""}
		for _, ix := range t.Indexes {
			if ix.Global {
				targets = append(targets, ix.Name)
			}
		}
		sort.Strings(targets[1:])
		for _, index := range targets {
			set, err := s.ciGet(t, index)
			if err != nil {
				return nil, err
			}
			if in.TableName == nil && set.Status != "ENABLED" {
				continue
			}
			all = append(all, ciView(t, index, set))
			keys = append(keys, t.Name+"/"+index)
		}
	}
	start := 0
	if in.NextToken != nil {
		start = sort.SearchStrings(keys, *in.NextToken)
		for start < len(keys) && keys[start] <= *in.NextToken {
			start++
		}
	}
	all, keys = all[start:], keys[start:]
	out := map[string]any{}
	if n := int(derefInt(in.MaxResults)); n > 0 && len(all) > n {
		all = all[:n]
		out["NextToken"] = keys[n-1]
	}
	if all == nil {
		all = []map[string]any{}
	}
	out["ContributorInsightsSummaries"] = all
	return out, nil
}

func derefInt(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// Resource-based policies.

// maxPolicyBytes is DynamoDB's limit on a resource-based policy's size
// (developer guide, "Resource-based policy considerations": 20 KB).
const maxPolicyBytes = 20 * 1024

type policyRecord struct {
	Policy   string `json:"policy"`
	Revision string `json:"revision"`
}

type policyInput struct {
	ResourceArn        *string `json:"ResourceArn"`
	Policy             *string `json:"Policy"`
	ExpectedRevisionID *string `json:"ExpectedRevisionId"`
}

// policyTarget resolves a table's or its stream's ARN to the table and the
// key of its policy.
func (s *Server) policyTarget(c *call, resourceArn *string) (*store.Table, []byte, error) {
	var v constraints
	v.notNull(resourceArn != nil, "resourceArn")
	if err := v.err(); err != nil {
		return nil, nil, err
	}
	arn := *resourceArn
	prefix := s.accountIn(c.region).TablePrefix()
	rest, ok := strings.CutPrefix(arn, prefix)
	if !ok {
		if !strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":table/") {
			return nil, nil, ddberr.Validationf("One or more parameter values were invalid: Provided Arn is not a DynamoDB resource arn: %s", arn)
		}
		// Another account's or region's table: not one of these tables.
		name := arn[strings.Index(arn, ":table/")+len(":table/"):]
		name, _, _ = strings.Cut(name, "/")
		return nil, nil, ddberr.New(ddberr.KindResourceNotFound, "Requested resource not found: Table: %s not found", name)
	}
	name, sub, _ := strings.Cut(rest, "/")
	if sub != "" {
		sub = "/" + sub
		if !strings.HasPrefix(sub, "/stream/") || strings.Count(sub, "/") != 2 {
			return nil, nil, ddberr.Validationf("One or more parameter values were invalid: Provided Arn is not a DynamoDB resource arn: %s", arn)
		}
	}
	t := s.db.TableIn(c.region, name)
	if t == nil {
		return nil, nil, ddberr.New(ddberr.KindResourceNotFound, "Requested resource not found: Table: %s not found", name)
	}
	return t, settingsKey('p', t.ID, sub), nil
}

func (s *Server) policyGet(key []byte) (*policyRecord, error) {
	v, ok, err := s.settings().Get(key)
	if err != nil || !ok {
		return nil, err
	}
	var p policyRecord
	if err := json.Unmarshal(v, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

func policyNotFound(arn string) error {
	return ddberr.New(ddberr.KindPolicyNotFound, "Resource-based policy not found for the provided ResourceArn: %s", arn)
}

func revisionMismatch(expected, table, current string) error {
	return ddberr.New(ddberr.KindPolicyNotFound, "Resource-based policy not found for the provided ResourceArn: Requested update for policy with revision id %s, but the policy associated to target table %s has revision id %s.", expected, table, current)
}

// lastRevision keeps revision IDs increasing within the process even when
// the clock does not move between two writes.
var lastRevision int64

func nextRevision() string {
	r := time.Now().UnixMilli()
	if r <= lastRevision {
		r = lastRevision + 1
	}
	lastRevision = r
	return strconv.FormatInt(r, 10)
}

// putResourcePolicy stores a policy document: a revision ID (a timestamp,
// comparable) is returned; the same document again is a no-op that keeps
// its revision; ExpectedRevisionId must name the current revision, or be
// NO_POLICY when there is none.
func (s *Server) putResourcePolicy(ctx context.Context, c *call) (any, error) {
	var in policyInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	v.notNull(in.ResourceArn != nil, "resourceArn")
	v.notNull(in.Policy != nil, "policy")
	if err := v.err(); err != nil {
		return nil, err
	}
	t, key, err := s.policyTarget(c, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if err := checkPolicyDocument(*in.Policy); err != nil {
		return nil, err
	}
	s.settingsMu.Lock()
	defer s.settingsMu.Unlock()
	cur, err := s.policyGet(key)
	if err != nil {
		return nil, err
	}
	exp := in.ExpectedRevisionID
	switch {
	case cur != nil && exp != nil && *exp == "NO_POLICY":
		return nil, ddberr.New(ddberr.KindPolicyNotFound, "Resource-based policy not found for the provided ResourceArn: Requested policy update expecting none to be present for table %s, but a policy exists with revision id %s.", t.Name, cur.Revision)
	case cur != nil && exp != nil && *exp != cur.Revision:
		return nil, revisionMismatch(*exp, t.Name, cur.Revision)
	case cur == nil && exp != nil && *exp != "NO_POLICY":
		return nil, policyNotFound(*in.ResourceArn)
	case cur != nil && cur.Policy == *in.Policy:
		return map[string]any{"RevisionId": cur.Revision}, nil
	}
	rev, err := s.storePolicyLocked(key, *in.Policy)
	if err != nil {
		return nil, err
	}
	return map[string]any{"RevisionId": rev}, nil
}

// storePolicy stores a policy document under a new revision (CreateTable's
// ResourcePolicy).
func (s *Server) storePolicy(key []byte, doc string) error {
	s.settingsMu.Lock()
	defer s.settingsMu.Unlock()
	_, err := s.storePolicyLocked(key, doc)
	return err
}

// storePolicyLocked is storePolicy with settingsMu held; it returns the
// new revision.
func (s *Server) storePolicyLocked(key []byte, doc string) (string, error) {
	rec := policyRecord{Policy: doc, Revision: nextRevision()}
	val, _ := json.Marshal(rec)
	b := s.db.NewBatch()
	defer b.Close()
	if err := s.settings().Set(b, key, val); err != nil {
		return "", err
	}
	return rec.Revision, b.Commit(true)
}

// refuseVectorIndexes answers a request that asks for vector indexes
// (CreateTable's VectorIndexes, UpdateTable's VectorIndexUpdates) with a
// ValidationException: eddy has no vector search, and creating the table
// without the index the caller asked for would hide that.
func refuseVectorIndexes(c *call, member string) error {
	var m map[string]json.RawMessage
	if json.Unmarshal(c.body, &m) != nil {
		return nil // the request's own decoding answers a malformed body
	}
	if v, ok := m[member]; ok && string(v) != "null" {
		return ddberr.Validationf("One or more parameter values were invalid: %s is not supported by eddy (no vector search)", member)
	}
	return nil
}

// checkPolicyDocument refuses a document that is not a JSON policy
// (an object with a Statement) or is over maxPolicyBytes.
func checkPolicyDocument(doc string) error {
	if len(doc) > maxPolicyBytes {
		return ddberr.Validationf("1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to %d", maxPolicyBytes)
	}
	var p struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil || len(p.Statement) == 0 {
		return ddberr.Validationf("Invalid policy document: a resource-based policy is a JSON object with a Statement")
	}
	return nil
}

func (s *Server) getResourcePolicy(ctx context.Context, c *call) (any, error) {
	var in policyInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	_, key, err := s.policyTarget(c, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	cur, err := s.policyGet(key)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, policyNotFound(*in.ResourceArn)
	}
	return map[string]any{"Policy": cur.Policy, "RevisionId": cur.Revision}, nil
}

// deleteResourcePolicy removes the policy; without one it answers no
// RevisionId ("This value will be empty if you make a request against a
// resource without a policy": the API reference).
func (s *Server) deleteResourcePolicy(ctx context.Context, c *call) (any, error) {
	var in policyInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	t, key, err := s.policyTarget(c, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	s.settingsMu.Lock()
	defer s.settingsMu.Unlock()
	cur, err := s.policyGet(key)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return map[string]any{}, nil
	}
	if in.ExpectedRevisionID != nil && *in.ExpectedRevisionID != cur.Revision {
		return nil, revisionMismatch(*in.ExpectedRevisionID, t.Name, cur.Revision)
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := s.settings().Delete(b, key); err != nil {
		return nil, err
	}
	if err := b.Commit(true); err != nil {
		return nil, err
	}
	return map[string]any{"RevisionId": cur.Revision}, nil
}
