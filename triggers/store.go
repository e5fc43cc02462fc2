package triggers

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Key layout. The triggers package owns every Pebble key whose first byte is
// 0x20 and nothing else:
//
//	0x20 'f' <function name>   -> JSON record (config of $LATEST, published
//	                              versions, aliases, next version number)
//	0x20 'c' <sha256 of code>  -> the wasm module bytes (32-byte raw hash)
//
// Code blobs are shared by every version and function with the same bytes
// and deleted when no record references them any more.
const keyPrefix = 0x20

func fnKey(name string) []byte { return append([]byte{keyPrefix, 'f'}, name...) }

func codeKey(hexHash string) []byte {
	raw, _ := hex.DecodeString(hexHash)
	return append([]byte{keyPrefix, 'c'}, raw...)
}

// LatestVersion is the qualifier of a function's mutable, unpublished version.
const LatestVersion = "$LATEST"

// FunctionConfig is one version of a function ($LATEST or a published
// number). Values returned by the Host are copies the caller may keep.
type FunctionConfig struct {
	Name    string
	Version string // "$LATEST", "1", "2", ...
	// Handler names the wasm export to call; default "handle".
	Handler     string
	Runtime     string // stored and echoed, never interpreted
	Description string
	Timeout     time.Duration
	MemoryMB    int
	Environment map[string]string
	// CodeHash is the hex sha256 of the module; CodeSize its length.
	CodeHash     string
	CodeSize     int64
	LastModified time.Time
	// RevisionID changes on every change to this version.
	RevisionID string
}

// CodeSha256 returns the base64 sha256 of the code, as Lambda reports it.
func (c *FunctionConfig) CodeSha256() string {
	raw, _ := hex.DecodeString(c.CodeHash)
	return base64.StdEncoding.EncodeToString(raw)
}

func (c *FunctionConfig) clone() *FunctionConfig {
	cp := *c
	cp.Environment = maps.Clone(c.Environment)
	return &cp
}

// Alias names a published version (or $LATEST) of a function.
type Alias struct {
	Name            string
	FunctionVersion string
	Description     string
	RevisionID      string
}

// record is the stored state of one function.
type record struct {
	Latest      FunctionConfig
	Versions    []FunctionConfig // published, ascending by number
	NextVersion int              // number the next PublishVersion takes
	Aliases     map[string]Alias
}

func (r *record) version(v string) *FunctionConfig {
	if v == "" || v == LatestVersion {
		return &r.Latest
	}
	for i := range r.Versions {
		if r.Versions[i].Version == v {
			return &r.Versions[i]
		}
	}
	return nil
}

// codeRefs reports whether any version references the code hash.
func (r *record) codeRefs(hash string) bool {
	if r.Latest.CodeHash == hash {
		return true
	}
	return slices.ContainsFunc(r.Versions, func(c FunctionConfig) bool { return c.CodeHash == hash })
}

func (r *record) hashes() []string {
	hs := []string{r.Latest.CodeHash}
	for _, v := range r.Versions {
		hs = append(hs, v.CodeHash)
	}
	slices.Sort(hs)
	return slices.Compact(hs)
}

func loadRecords(db *pebble.DB) (map[string]*record, error) {
	it, err := db.NewIter(&pebble.IterOptions{
		LowerBound: []byte{keyPrefix, 'f'},
		UpperBound: []byte{keyPrefix, 'f' + 1},
	})
	if err != nil {
		return nil, err
	}
	out := map[string]*record{}
	for it.First(); it.Valid(); it.Next() {
		var r record
		if err := json.Unmarshal(it.Value(), &r); err != nil {
			_ = it.Close()
			return nil, fmt.Errorf("triggers: decode function %q: %w", it.Key()[2:], err)
		}
		out[r.Latest.Name] = &r
	}
	return out, it.Close()
}

func loadCode(db *pebble.DB, hash string) ([]byte, error) {
	v, closer, err := db.Get(codeKey(hash))
	if err != nil {
		return nil, fmt.Errorf("triggers: load code %s: %w", hash, err)
	}
	defer closer.Close()
	return slices.Clone(v), nil
}

func hashCode(code []byte) string {
	sum := sha256.Sum256(code)
	return hex.EncodeToString(sum[:])
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
