package triggers

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Key layout. The triggers package owns one key space, Deps.DB (in eddy
// the store's space 0x20, whose prefix byte is not part of the keys here):
//
//	[0x20] 'f' <function name>   -> JSON record (config of $LATEST, published
//	                                versions, aliases, next version number)
//	[0x20] 'c' <sha256 of code>  -> the wasm module bytes (32-byte raw hash)
//
// Code blobs are shared by every version and function with the same bytes
// and deleted when no record references them any more.
func fnKey(name string) []byte { return append([]byte{'f'}, name...) }

func codeKey(hexHash string) []byte {
	raw, _ := hex.DecodeString(hexHash)
	return append([]byte{'c'}, raw...)
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
	// Role is the execution role's ARN: every table call of an invocation
	// carries it in its context (arn.WithPrincipal), and the role's IAM
	// policies authorize the call. "" (functions created before roles were
	// kept) acts anonymously.
	Role string
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
	// ReservedConcurrency is the function's ReservedConcurrentExecutions
	// (PutFunctionConcurrency); nil: none, the function shares the
	// unreserved concurrency.
	ReservedConcurrency *int `json:",omitempty"`
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

func loadRecords(db KV) (map[string]*record, error) {
	out := map[string]*record{}
	err := db.Scan([]byte{'f'}, []byte{'f' + 1}, func(k, v []byte) error {
		var r record
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("triggers: decode function %q: %w", k[1:], err)
		}
		out[r.Latest.Name] = &r
		return nil
	})
	return out, err
}

// errNoCode is a code blob missing from the store.
var errNoCode = errors.New("not found")

func loadCode(db KV, hash string) ([]byte, error) {
	v, ok, err := db.Get(codeKey(hash))
	if err == nil && !ok {
		err = errNoCode
	}
	if err != nil {
		return nil, fmt.Errorf("triggers: load code %s: %w", hash, err)
	}
	return v, nil
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
