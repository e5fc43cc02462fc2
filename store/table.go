package store

import (
	"time"

	"github.com/eddydb/eddy/attr"
)

// KeyElement is one element of a key schema.
type KeyElement struct {
	Name string    `json:"name"`
	Type attr.Type `json:"type"` // S, N or B
}

// Throughput is a table's provisioned capacity and its change history.
type Throughput struct {
	Read                   int64     `json:"read"`
	Write                  int64     `json:"write"`
	LastIncrease           time.Time `json:"lastIncrease,omitzero"`
	LastDecrease           time.Time `json:"lastDecrease,omitzero"`
	NumberOfDecreasesToday int64     `json:"decreasesToday,omitempty"`
}

// WarmThroughput is a table's warm throughput: read and write units a
// second it can serve at once.
type WarmThroughput struct {
	Read  int64 `json:"read,omitempty"`
	Write int64 `json:"write,omitempty"`
}

// StreamSpec is the table's stream specification. The stream itself (ARN,
// label, shards) belongs to package streams.
type StreamSpec struct {
	Enabled  bool   `json:"enabled"`
	ViewType string `json:"viewType,omitempty"` // KEYS_ONLY, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES
	// Label is the current stream's label (a timestamp), set when a stream
	// is enabled; empty before the first enable.
	Label string `json:"label,omitempty"`
}

// Table is a table's descriptor, persisted in the catalog. A *Table handed
// out by the DB is a snapshot: never modify it; UpdateTable installs a new one.
type Table struct {
	ID   uint32 `json:"id"`
	UUID string `json:"uuid"`
	Name string `json:"name"`
	// Region is the region whose namespace holds the table: a table is
	// visible only to requests of its region (DynamoDB's regions are
	// separate namespaces). Entries written before regions existed have
	// none; Open moves them into the data directory's home region.
	Region    string       `json:"region,omitempty"`
	Hash      KeyElement   `json:"hash"`
	Range     *KeyElement  `json:"range,omitempty"`
	AttrDefs  []KeyElement `json:"attrDefs"`
	CreatedAt time.Time    `json:"createdAt"`

	BillingMode        string     `json:"billingMode"` // PROVISIONED or PAY_PER_REQUEST
	PayPerRequestSince time.Time  `json:"payPerRequestSince,omitzero"`
	Throughput         Throughput `json:"throughput"`
	// Warm is the highest throughput the table ever had (DescribeTable's
	// WarmThroughput); zero for tables created before it was recorded.
	Warm               WarmThroughput `json:"warm,omitzero"`
	Stream             StreamSpec     `json:"stream"`
	TableClass         string         `json:"tableClass,omitempty"`
	DeletionProtection bool           `json:"deletionProtection,omitempty"`
	// SSE is server-side encryption with a KMS key (SSESpecification
	// Enabled); its zero value is encryption with an AWS owned key, which
	// DescribeTable does not report.
	SSE SSESpec `json:"sse,omitzero"`
	// OnDemandThroughput caps an on-demand table's request units; zero
	// values are unset.
	OnDemandThroughput OnDemandThroughput `json:"onDemandThroughput,omitzero"`
	Tags               []Tag              `json:"tags,omitempty"`
	// TTL is the Time to Live setting (UpdateTimeToLive); see ttl.go.
	TTL TTLSpec `json:"ttl,omitzero"`

	// Indexes are the table's secondary indexes (see index.go), local ones
	// first as created, then global ones; LastIndexID is the highest index
	// ID ever assigned in this table (IDs are never reused).
	Indexes     []Index `json:"indexes,omitempty"`
	LastIndexID uint16  `json:"lastIndexID,omitempty"`

	// PITR is the point-in-time recovery setting (pitr.go).
	PITR PITRSpec `json:"pitr,omitzero"`
	// Restore is set on a table made by a restore; while InProgress the
	// table is CREATING and refuses writes.
	Restore *RestoreInfo `json:"restore,omitempty"`
}

// SSESpec is a table's KMS encryption setting.
type SSESpec struct {
	Enabled   bool   `json:"enabled,omitempty"`
	KMSKeyArn string `json:"kmsKeyArn,omitempty"`
}

// OnDemandThroughput is the maximum read and write request units of an
// on-demand table.
type OnDemandThroughput struct {
	MaxRead  int64 `json:"maxRead,omitempty"`
	MaxWrite int64 `json:"maxWrite,omitempty"`
}

// Tag is a resource tag; order of insertion is kept.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// KeyNames returns the names of the key attributes (one or two).
func (t *Table) KeyNames() []string {
	if t.Range == nil {
		return []string{t.Hash.Name}
	}
	return []string{t.Hash.Name, t.Range.Name}
}

// IsKey reports whether name is a key attribute of the table.
func (t *Table) IsKey(name string) bool {
	return name == t.Hash.Name || (t.Range != nil && name == t.Range.Name)
}

// KeyOf returns just the key attributes of an item.
func (t *Table) KeyOf(it attr.Item) attr.Item {
	k := attr.Item{t.Hash.Name: it[t.Hash.Name]}
	if t.Range != nil {
		k[t.Range.Name] = it[t.Range.Name]
	}
	return k
}

// keysOf is KeyOf for a Mutation's Key: validated keys hold exactly the key
// attributes, and are then shared rather than copied (neither side modifies
// them).
func (t *Table) keysOf(key attr.Item) attr.Item {
	want := 1
	if t.Range != nil {
		want = 2
	}
	if len(key) == want {
		return key
	}
	return t.KeyOf(key)
}

func (t *Table) clone() *Table {
	c := *t
	c.AttrDefs = append([]KeyElement(nil), t.AttrDefs...)
	c.Tags = append([]Tag(nil), t.Tags...)
	c.Indexes = make([]Index, len(t.Indexes))
	for i := range t.Indexes {
		c.Indexes[i] = t.Indexes[i].clone()
	}
	if t.Range != nil {
		r := *t.Range
		c.Range = &r
	}
	if t.Restore != nil {
		r := *t.Restore
		c.Restore = &r
	}
	return &c
}
