package api

import (
	"strings"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/store"
)

// Secondary indexes on the control plane: the definitions CreateTable and
// UpdateTable accept (with DynamoDB's validation order and messages) and the
// index members of a table description. The store backfills a global index
// UpdateTable adds (store.DB.UpdateTable starts it).

type (
	projectionWire struct {
		ProjectionType   *string  `json:"ProjectionType"`
		NonKeyAttributes []string `json:"NonKeyAttributes"`
	}
	indexWire struct {
		IndexName             *string         `json:"IndexName"`
		KeySchema             []keyElemWire   `json:"KeySchema"`
		Projection            *projectionWire `json:"Projection"`
		ProvisionedThroughput *throughputWire `json:"ProvisionedThroughput"`
		OnDemandThroughput    json0           `json:"OnDemandThroughput"`
	}
	gsiUpdateWire struct {
		Create *indexWire `json:"Create"`
		Update *indexWire `json:"Update"`
		Delete *indexWire `json:"Delete"`
	}
)

// checkIndexShapes adds the member constraint violations of index
// definitions (the "1 validation error detected" family).
func checkIndexShapes(v *constraints, list []indexWire, at string, global bool) {
	for i, ix := range list {
		checkIndexShape(v, ix, at+"."+itoa(i+1)+".member.", global)
	}
}

// checkIndexShape is checkIndexShapes for one definition whose members are
// at p ("globalSecondaryIndexes.1.member.",
// "globalSecondaryIndexUpdates.1.member.create.").
func checkIndexShape(v *constraints, ix indexWire, p string, global bool) {
	if ix.IndexName == nil {
		v.fail(nil, p+"indexName", "Member must not be null")
	} else {
		v.resourceName(*ix.IndexName, p+"indexName")
	}
	if ix.KeySchema == nil {
		v.fail(nil, p+"keySchema", "Member must not be null")
	} else if len(ix.KeySchema) < 1 {
		v.fail("[]", p+"keySchema", "Member must have length greater than or equal to 1")
	} else if !global && len(ix.KeySchema) > 2 {
		// A global index's KeySchema has no maximum length any more: its
		// limits are those of multi-attribute keys (api/composite.go).
		v.fail(javaKeySchema(ix.KeySchema), p+"keySchema", "Member must have length less than or equal to 2")
	}
	for j, k := range ix.KeySchema {
		kp := p + "keySchema." + itoa(j+1) + ".member."
		v.notNull(k.AttributeName != nil, kp+"attributeName")
		v.keyName(k.AttributeName, kp+"attributeName")
		if k.KeyType == nil {
			v.fail(nil, kp+"keyType", "Member must not be null")
		} else {
			v.enum(*k.KeyType, kp+"keyType", "HASH", "RANGE")
		}
	}
	if ix.Projection == nil {
		v.fail(nil, p+"projection", "Member must not be null")
	} else {
		if ix.Projection.ProjectionType != nil {
			v.enum(*ix.Projection.ProjectionType, p+"projection.projectionType", "ALL", "INCLUDE", "KEYS_ONLY")
		}
		v.listLength(len(ix.Projection.NonKeyAttributes), ix.Projection.NonKeyAttributes != nil, p+"projection.nonKeyAttributes", 0)
		for j, n := range ix.Projection.NonKeyAttributes {
			// The model's NonKeyAttributeName: 1 to 255 bytes.
			v.keyName(&n, p+"projection.nonKeyAttributes."+itoa(j+1)+".member")
		}
	}
	if global && ix.ProvisionedThroughput != nil {
		checkThroughput(v, ix.ProvisionedThroughput, p+"provisionedThroughput")
	}
}

// indexDef turns one validated-shape definition into a store.Index, with
// the per-index checks of CreateTable and of UpdateTable's Create.
func indexDef(w *indexWire, global bool, t *store.Table, defs map[string]attr.Type, defNames []string) (store.Index, error) {
	name := *w.IndexName
	var keys []string
	for _, k := range w.KeySchema {
		keys = append(keys, *k.AttributeName)
	}
	for _, k := range keys {
		if _, ok := defs[k]; !ok {
			return store.Index{}, ddberr.Invalidf("Some index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: [%s]", strings.Join(keys, ", "), strings.Join(defNames, ", "))
		}
	}
	var hash, rng []store.KeyElement
	if global {
		var err error
		if hash, rng, err = gsiKeySchema(name, w.KeySchema, defs); err != nil {
			return store.Index{}, err
		}
	} else {
		if len(keys) == 2 && keys[0] == keys[1] {
			return store.Index{}, ddberr.Validationf("Both the Hash Key and the Range Key element in the KeySchema have the same name")
		}
		if *w.KeySchema[0].KeyType != "HASH" {
			return store.Index{}, ddberr.Validationf("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
		}
		if len(keys) == 2 && *w.KeySchema[1].KeyType != "RANGE" {
			return store.Index{}, ddberr.Validationf("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
		}
		hash = []store.KeyElement{{Name: keys[0], Type: defs[keys[0]]}}
		if len(keys) == 2 {
			rng = []store.KeyElement{{Name: keys[1], Type: defs[keys[1]]}}
		}
	}
	if !global {
		if len(keys) != 2 {
			return store.Index{}, ddberr.Invalidf("Index KeySchema does not have a range key for index: %s", name)
		}
		if keys[0] != t.Hash.Name {
			return store.Index{}, ddberr.Invalidf("Index KeySchema does not have the same leading hash key as table KeySchema for index: %s. index hash key: %s, table hash key: %s", name, keys[0], t.Hash.Name)
		}
	}
	if w.Projection.ProjectionType == nil {
		return store.Index{}, ddberr.Invalidf("Unknown ProjectionType: null")
	}
	pt := *w.Projection.ProjectionType
	if w.Projection.NonKeyAttributes != nil && pt != "INCLUDE" {
		return store.Index{}, ddberr.Invalidf("ProjectionType is %s, but NonKeyAttributes is specified", pt)
	}
	if pt == "INCLUDE" && len(w.Projection.NonKeyAttributes) == 0 {
		return store.Index{}, ddberr.Invalidf("ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
	}
	ix := store.Index{
		Name: name, Global: global, Projection: pt, Status: "ACTIVE",
		NonKey: append([]string(nil), w.Projection.NonKeyAttributes...),
	}
	setIndexKey(&ix, hash, rng)
	if global {
		switch {
		case t.BillingMode == "PAY_PER_REQUEST" && w.ProvisionedThroughput != nil:
			return store.Index{}, ddberr.Invalidf("ProvisionedThroughput should not be specified for index: %s when BillingMode is PAY_PER_REQUEST", name)
		case t.BillingMode != "PAY_PER_REQUEST" && w.ProvisionedThroughput == nil:
			return store.Index{}, ddberr.Invalidf("ProvisionedThroughput must be specified for index: %s", name)
		case w.ProvisionedThroughput != nil:
			if err := throughputBounds(w.ProvisionedThroughput); err != nil {
				return store.Index{}, err
			}
			ix.Throughput = store.Throughput{Read: *w.ProvisionedThroughput.ReadCapacityUnits, Write: *w.ProvisionedThroughput.WriteCapacityUnits}
		}
	}
	return ix, nil
}

// createTableIndexes validates CreateTable's LocalSecondaryIndexes and
// GlobalSecondaryIndexes (after the table key schema) and adds them to t,
// in dynalite's recorded order of checks.
func createTableIndexes(in *createTableInput, t *store.Table, defs map[string]attr.Type, defNames []string, keys []string) error {
	if in.LocalSecondaryIndexes == nil && in.GlobalSecondaryIndexes == nil {
		if len(keys) != len(in.AttributeDefinitions) {
			return ddberr.Invalidf("Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
		}
		return nil
	}
	names := map[string]bool{}
	// addIndexes validates index definitions in request order and adds
	// them to the descriptor with fresh IDs; names are unique across both
	// kinds.
	addIndexes := func(list []indexWire, global bool) error {
		for i := range list {
			ix, err := indexDef(&list[i], global, t, defs, defNames)
			if err != nil {
				return err
			}
			if names[ix.Name] {
				return ddberr.Invalidf("Duplicate index name: %s", ix.Name)
			}
			names[ix.Name] = true
			t.LastIndexID++
			ix.ID = t.LastIndexID
			t.Indexes = append(t.Indexes, ix)
		}
		return nil
	}
	if in.LocalSecondaryIndexes != nil {
		if len(in.LocalSecondaryIndexes) == 0 {
			return ddberr.Invalidf("List of LocalSecondaryIndexes is empty")
		}
		if len(keys) != 2 {
			return ddberr.Invalidf("Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
		}
		if err := addIndexes(in.LocalSecondaryIndexes, false); err != nil {
			return err
		}
		if len(in.LocalSecondaryIndexes) > 5 {
			return ddberr.Invalidf("Number of LocalSecondaryIndexes exceeds per-table limit of 5")
		}
	}
	if in.GlobalSecondaryIndexes != nil {
		if len(in.GlobalSecondaryIndexes) == 0 {
			return ddberr.Invalidf("List of GlobalSecondaryIndexes is empty")
		}
		if err := addIndexes(in.GlobalSecondaryIndexes, true); err != nil {
			return err
		}
		if len(in.GlobalSecondaryIndexes) > 20 {
			return ddberr.Invalidf("GlobalSecondaryIndex count exceeds the per-table limit of 20")
		}
	}
	used := map[string]bool{}
	for _, k := range keys {
		used[k] = true
	}
	for _, ix := range t.Indexes {
		for _, k := range ix.KeyNames() {
			used[k] = true
		}
	}
	if len(used) != len(defs) {
		return ddberr.Invalidf("Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
	}
	return nil
}

// gsiUpdates applies UpdateTable's GlobalSecondaryIndexUpdates to a private
// copy of the descriptor. It returns the indexes whose entries to drop once
// the new descriptor is installed; the store starts the backfill of each
// index it adds (CREATING) itself.
func gsiUpdates(t *store.Table, ups []gsiUpdateWire, attrDefs []attrDefWire) (dropped []uint16, err error) {
	// The request's AttributeDefinitions serve a Create alone. One that
	// gives an existing attribute another type is ignored unless the new
	// index keys on it (then "Attributes cannot be redefined"); DynamoDB
	// accepts the rest and leaves the table's definitions as they were
	// (a behaviour catalogue verified against DynamoDB 2026-10-08,
	// DDB-TABLE-162; scylladb test_gsi_updatetable.py
	// test_gsi_key_type_conflict_on_update).
	defs := map[string]attr.Type{}
	var defNames []string
	for _, d := range t.AttrDefs {
		defs[d.Name] = d.Type
	}
	given := map[string]attr.Type{}
	for _, d := range attrDefs {
		typ, _ := attr.TypeFromString(*d.AttributeType)
		given[*d.AttributeName] = typ
		if _, ok := defs[*d.AttributeName]; !ok {
			defs[*d.AttributeName] = typ
		}
		defNames = append(defNames, *d.AttributeName)
	}
	online := 0
	for _, ix := range t.Indexes {
		if ix.Status == "CREATING" {
			online++
		}
	}
	// Each entry's shape, then the one-online-index limit over the whole
	// list, come before any index is looked up: [Delete g1, Delete g2] is
	// LimitExceededException even when g1 does not exist (the catalogue's
	// DDB-TABLE-159; scylladb test_gsi_updatetable.py
	// test_gsi_updatetable_errors).
	creates := online
	for _, u := range ups {
		n := 0
		for _, x := range []*indexWire{u.Create, u.Update, u.Delete} {
			if x != nil {
				n++
			}
		}
		// DynamoDB's words (dynalite's recordings, and the catalogue's
		// DDB-TABLE-160, verified 2026-10-08).
		if n == 0 {
			return nil, ddberr.Invalidf("One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null")
		}
		if n > 1 {
			return nil, ddberr.Invalidf("Only one global secondary index action is allowed per GlobalSecondaryIndexUpdate object")
		}
		if u.Create != nil || u.Delete != nil {
			creates++
		}
	}
	if creates > 1 {
		return nil, ddberr.New(ddberr.KindLimitExceeded, "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table")
	}
	for _, u := range ups {
		switch {
		case u.Create != nil:
			online++
			if online > 1 {
				return nil, ddberr.New(ddberr.KindLimitExceeded, "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table")
			}
			if t.Index(*u.Create.IndexName) != nil {
				return nil, ddberr.Invalidf("Attempting to create an index which already exists")
			}
			if len(attrDefs) == 0 {
				// Even when the table defines the key attributes already
				// (scylladb test_gsi_updatetable.py
				// test_gsi_backfill_with_lsi; the catalogue's DDB-TABLE-162).
				return nil, ddberr.Invalidf("AttributeDefinitions is not specified for index: %s", *u.Create.IndexName)
			}
			if err := redefined(t, u.Create, given); err != nil {
				return nil, err
			}
			ix, err := indexDef(u.Create, true, t, defs, defNames)
			if err != nil {
				return nil, err
			}
			for _, k := range ix.KeyNames() {
				t.AttrDefs = addAttrDef(t.AttrDefs, k, defs[k])
			}
			t.LastIndexID++
			ix.ID = t.LastIndexID
			ix.Status, ix.Backfilling = "CREATING", true
			t.Indexes = append(t.Indexes, ix)
		case u.Update != nil:
			ix := t.Index(*u.Update.IndexName)
			if ix == nil || !ix.Global {
				return nil, ddberr.New(ddberr.KindResourceNotFound, "Requested resource not found: Index: %s not found", *u.Update.IndexName)
			}
			if tp := u.Update.ProvisionedThroughput; tp != nil {
				if t.BillingMode == "PAY_PER_REQUEST" {
					return nil, ddberr.Invalidf("ProvisionedThroughput should not be specified for index: %s when BillingMode is PAY_PER_REQUEST", ix.Name)
				}
				if err := throughputBounds(tp); err != nil {
					return nil, err
				}
				ix.Throughput.Read, ix.Throughput.Write = *tp.ReadCapacityUnits, *tp.WriteCapacityUnits
			}
		case u.Delete != nil:
			online++
			if online > 1 {
				return nil, ddberr.New(ddberr.KindLimitExceeded, "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table")
			}
			ix := t.Index(*u.Delete.IndexName)
			if ix == nil || !ix.Global {
				return nil, ddberr.New(ddberr.KindResourceNotFound, "Requested resource not found: Index: %s not found", *u.Delete.IndexName)
			}
			dropped = append(dropped, ix.ID)
			kept := t.Indexes[:0]
			for _, x := range t.Indexes {
				if x.ID != ix.ID {
					kept = append(kept, x)
				}
			}
			t.Indexes = kept
		}
	}
	// Attribute definitions no key uses any more go with their index.
	used := map[string]bool{t.Hash.Name: true}
	if t.Range != nil {
		used[t.Range.Name] = true
	}
	for _, ix := range t.Indexes {
		for _, k := range ix.KeyNames() {
			used[k] = true
		}
	}
	kept := t.AttrDefs[:0]
	for _, d := range t.AttrDefs {
		if used[d.Name] {
			kept = append(kept, d)
		}
	}
	t.AttrDefs = kept
	return dropped, nil
}

func addAttrDef(defs []store.KeyElement, name string, typ attr.Type) []store.KeyElement {
	for _, d := range defs {
		if d.Name == name {
			return defs
		}
	}
	return append(defs, store.KeyElement{Name: name, Type: typ})
}

// checkGSIUpdateShapes adds the member constraints of
// GlobalSecondaryIndexUpdates.
func checkGSIUpdateShapes(v *constraints, ups []gsiUpdateWire) {
	for i, u := range ups {
		p := "globalSecondaryIndexUpdates." + itoa(i+1) + ".member."
		if u.Create != nil {
			checkIndexShape(v, *u.Create, p+"create.", true)
		}
		if u.Update != nil {
			if u.Update.IndexName == nil {
				v.fail(nil, p+"update.indexName", "Member must not be null")
			}
			if u.Update.ProvisionedThroughput != nil {
				checkThroughput(v, u.Update.ProvisionedThroughput, p+"update.provisionedThroughput")
			}
		}
		if u.Delete != nil && u.Delete.IndexName == nil {
			v.fail(nil, p+"delete.indexName", "Member must not be null")
		}
	}
}

// redefined refuses a new index that keys on an existing attribute with
// another type than the table gives it, in DynamoDB's words (scylladb
// test_gsi_updatetable.py test_gsi_key_type_conflict_on_update quotes
// them: "Attributes cannot be redefined. Please check that your attribute
// has the same type as previously defined. Existing schema:
// Schema:[SchemaElement: key{xyz:S:HASH}] New schema:
// Schema:[SchemaElement: key{xyz:N:HASH}]"). The existing schema is the
// first key schema (the table's, then its indexes') holding the attribute;
// how DynamoDB joins the elements of a two-element schema is not recorded
// (", " here).
func redefined(t *store.Table, w *indexWire, given map[string]attr.Type) error {
	type schema struct{ hash, rng []store.KeyElement }
	schemas := []schema{{hash: []store.KeyElement{t.Hash}}}
	if t.Range != nil {
		schemas[0].rng = []store.KeyElement{*t.Range}
	}
	for i := range t.Indexes {
		schemas = append(schemas, schema{t.Indexes[i].HashElements(), t.Indexes[i].RangeElements()})
	}
	tableType := map[string]attr.Type{}
	for _, d := range t.AttrDefs {
		tableType[d.Name] = d.Type
	}
	render := func(els []string) string { return "Schema:[" + strings.Join(els, ", ") + "]" }
	element := func(name string, typ attr.Type, kind string) string {
		return "SchemaElement: key{" + name + ":" + typ.String() + ":" + kind + "}"
	}
	for _, k := range w.KeySchema {
		name := *k.AttributeName
		nt, ok := given[name]
		if old, defined := tableType[name]; !ok || !defined || old == nt {
			continue
		}
		for _, sc := range schemas {
			var was []string
			holds := false
			for _, e := range sc.hash {
				was = append(was, element(e.Name, e.Type, "HASH"))
				holds = holds || e.Name == name
			}
			for _, e := range sc.rng {
				was = append(was, element(e.Name, e.Type, "RANGE"))
				holds = holds || e.Name == name
			}
			if !holds {
				continue
			}
			var now []string
			for _, e := range w.KeySchema {
				typ, ok := given[*e.AttributeName]
				if !ok {
					typ = tableType[*e.AttributeName]
				}
				now = append(now, element(*e.AttributeName, typ, *e.KeyType))
			}
			return ddberr.Invalidf("Attributes cannot be redefined. Please check that your attribute has the same type as previously defined. Existing schema: %s New schema: %s", render(was), render(now))
		}
	}
	return nil
}

// dropIndexes removes the entries of deleted indexes.
func (s *Server) dropIndexes(t *store.Table, ids []uint16) error {
	for _, id := range ids {
		if err := s.db.DropIndexEntries(t.ID, id); err != nil {
			return err
		}
	}
	return nil
}

// describeIndexes renders the GlobalSecondaryIndexes and
// LocalSecondaryIndexes members of a table description.
func (s *Server) describeIndexes(t *store.Table, tableStatus string) (gsis, lsis []map[string]any) {
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		var ks []map[string]string
		for _, ke := range ix.HashElements() {
			ks = append(ks, map[string]string{"AttributeName": ke.Name, "KeyType": "HASH"})
		}
		for _, ke := range ix.RangeElements() {
			ks = append(ks, map[string]string{"AttributeName": ke.Name, "KeyType": "RANGE"})
		}
		proj := map[string]any{"ProjectionType": ix.Projection}
		if len(ix.NonKey) > 0 {
			proj["NonKeyAttributes"] = ix.NonKey
		}
		d := map[string]any{
			"IndexName":  ix.Name,
			"KeySchema":  ks,
			"Projection": proj,
			"IndexArn":   s.accountIn(t.Region).Index(t.Name, ix.Name),
		}
		var count, size int64
		if tableStatus != "CREATING" {
			count, size, _ = s.db.IndexStats(t, ix)
		}
		d["ItemCount"], d["IndexSizeBytes"] = count, size
		if !ix.Global {
			lsis = append(lsis, d)
			continue
		}
		status := ix.Status
		if tableStatus == "CREATING" {
			status = "CREATING"
		}
		d["IndexStatus"] = status
		if ix.Backfilling {
			d["Backfilling"] = true
		}
		d["ProvisionedThroughput"] = map[string]any{
			"NumberOfDecreasesToday": ix.Throughput.NumberOfDecreasesToday,
			"ReadCapacityUnits":      ix.Throughput.Read,
			"WriteCapacityUnits":     ix.Throughput.Write,
		}
		gsis = append(gsis, d)
	}
	return gsis, lsis
}
