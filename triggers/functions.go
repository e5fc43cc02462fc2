package triggers

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/eddydb/eddy/internal/kv"
)

// DefaultHandler is the export called when a function names no handler. The
// guest SDK exports it.
const DefaultHandler = "handle"

// ABIMarker is the export every eddy-abi-v1 module carries; ABIMarkerV2
// the one of eddy-abi-v2 (v1 and call_many), ABIMarkerV3 of eddy-abi-v3
// (v2 and input_index). The host accepts any of them.
const (
	ABIMarker   = "eddy_abi_v1"
	ABIMarkerV2 = "eddy_abi_v2"
	ABIMarkerV3 = "eddy_abi_v3"
)

var (
	nameRE  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	aliasRE = regexp.MustCompile(`^[A-Za-z_-][A-Za-z0-9_-]{0,127}$`)
)

// FunctionSpec is the input of CreateFunction. Zero Timeout and MemoryMB
// take Options.DefaultTimeout and DefaultMemoryMB; empty Handler takes
// DefaultHandler.
type FunctionSpec struct {
	Name        string
	Code        []byte
	Handler     string
	Runtime     string
	Description string
	Timeout     time.Duration
	MemoryMB    int
	Environment map[string]string
	// Role is the execution role's ARN (CreateFunction's Role): the
	// function's table calls act as it (see FunctionConfig.Role).
	Role string
	// Publish also publishes version 1 from the new $LATEST.
	Publish bool
}

// ConfigUpdate changes the set fields of $LATEST's configuration.
type ConfigUpdate struct {
	Handler     *string
	Runtime     *string
	Description *string
	Timeout     *time.Duration
	MemoryMB    *int
	Environment map[string]string // nil: unchanged; empty: cleared
	Role        *string
	// RevisionID, when set, must match $LATEST's current revision.
	RevisionID string
}

func (h *Host) checkConfig(c *FunctionConfig) error {
	if c.Timeout < time.Second || c.Timeout > h.opts.MaxTimeout {
		return newErr(ErrInvalidParameter, "Timeout must be between 1 and %d seconds", int(h.opts.MaxTimeout/time.Second))
	}
	if c.MemoryMB < 1 || c.MemoryMB > h.opts.MaxMemoryMB {
		return newErr(ErrInvalidParameter, "MemorySize must be between 1 and %d MB", h.opts.MaxMemoryMB)
	}
	if c.Handler == "" {
		return newErr(ErrInvalidParameter, "Handler must not be empty")
	}
	return nil
}

// checkCode compiles code and checks it against eddy-abi-v1, handler and
// memoryMB.
func (h *Host) checkCode(ctx context.Context, code []byte, handler string, memoryMB int) (string, error) {
	if len(code) == 0 {
		return "", newErr(ErrInvalidParameter, "Code must not be empty")
	}
	if len(code) > h.opts.MaxCodeSize {
		return "", newErr(ErrTooLarge, "Code size %d exceeds the limit of %d bytes", len(code), h.opts.MaxCodeSize)
	}
	hash := hashCode(code)
	cm, err := h.compiledFor(ctx, hash, code)
	if err != nil {
		return "", err
	}
	if err := h.checkABI(cm, handler); err != nil {
		return "", err
	}
	if err := checkMemory(cm.info, memoryMB); err != nil {
		return "", err
	}
	return hash, nil
}

// checkABI verifies the module's exports and imports against eddy-abi-v1.
func (h *Host) checkABI(cm *compiledCode, handler string) error {
	exp := cm.ExportedFunctions()
	_, v1 := exp[ABIMarker]
	_, v2 := exp[ABIMarkerV2]
	_, v3 := exp[ABIMarkerV3]
	if !v1 && !v2 && !v3 {
		return newErr(ErrInvalidParameter, "The module does not implement eddy-abi-v1: missing export %q (build it with the triggers/guest SDK)", ABIMarker)
	}
	fn, ok := exp[handler]
	if !ok {
		return newErr(ErrInvalidParameter, "The module does not export the handler %q", handler)
	}
	if len(fn.ParamTypes()) != 0 || !slices.Equal(fn.ResultTypes(), []api.ValueType{api.ValueTypeI32}) {
		return newErr(ErrInvalidParameter, "Handler export %q must have type () -> i32", handler)
	}
	return h.checkImports(cm)
}

// checkImports refuses a module that imports anything the host does not
// provide: every import is resolved when an instance starts, so a missing
// one would otherwise fail every invocation's init, not CreateFunction.
// Only functions are provided (wasi_snapshot_preview1 and eddy-abi-v1),
// and each must have the signature the host exports.
func (h *Host) checkImports(cm *compiledCode) error {
	for _, im := range cm.info.imports {
		if im.module != "wasi_snapshot_preview1" && im.module != abiModule {
			return newErr(ErrInvalidParameter, "The module imports %s %s from unknown module %q: eddy provides only wasi_snapshot_preview1 and %s functions", im.kindName(), im, im.module, abiModule)
		}
		if im.kind != 0 {
			return newErr(ErrInvalidParameter, "The module imports %s %s, which eddy does not provide (only functions are imported)", im.kindName(), im)
		}
	}
	for _, imp := range cm.ImportedFunctions() {
		mod, name, _ := imp.Import()
		var have api.FunctionDefinition
		if m := h.rt.Module(mod); m != nil {
			have = m.ExportedFunctionDefinitions()[name]
		}
		if have == nil {
			return newErr(ErrInvalidParameter, "The module imports function %s.%s, which eddy does not provide", mod, name)
		}
		if !slices.Equal(have.ParamTypes(), imp.ParamTypes()) || !slices.Equal(have.ResultTypes(), imp.ResultTypes()) {
			return newErr(ErrInvalidParameter, "The module imports function %s.%s with type %s, but eddy provides it with type %s",
				mod, name, signature(imp), signature(have))
		}
	}
	return nil
}

// signature renders a function type as "(i32,i32) -> i32".
func signature(f api.FunctionDefinition) string {
	names := func(ts []api.ValueType) string {
		out := make([]string, len(ts))
		for i, t := range ts {
			out[i] = api.ValueTypeName(t)
		}
		return "(" + strings.Join(out, ",") + ")"
	}
	return names(f.ParamTypes()) + " -> " + names(f.ResultTypes())
}

// CreateFunction stores and validates a new function. It fails with
// ErrConflict if the name exists and ErrInvalidParameter if the code is not
// a compilable eddy-abi-v1 module exporting the handler.
func (h *Host) CreateFunction(ctx context.Context, s FunctionSpec) (*FunctionConfig, error) {
	if !nameRE.MatchString(FunctionName(s.Name)) {
		return nil, newErr(ErrInvalidParameter, "Invalid function name %q: 1-64 characters of A-Z a-z 0-9 - _", FunctionName(s.Name))
	}
	c := FunctionConfig{
		Name: s.Name, Version: LatestVersion, Handler: s.Handler, Runtime: s.Runtime,
		Description: s.Description, Timeout: s.Timeout, MemoryMB: s.MemoryMB,
		Environment: maps.Clone(s.Environment), CodeSize: int64(len(s.Code)), Role: s.Role,
	}
	if c.Handler == "" {
		c.Handler = DefaultHandler
	}
	if c.Runtime == "" {
		c.Runtime = "provided"
	}
	if c.Timeout == 0 {
		c.Timeout = h.opts.DefaultTimeout
	}
	if c.MemoryMB == 0 {
		c.MemoryMB = h.opts.DefaultMemoryMB
	}
	if err := h.checkConfig(&c); err != nil {
		return nil, err
	}
	hash, err := h.checkCode(ctx, s.Code, c.Handler, c.MemoryMB)
	if err != nil {
		return nil, err
	}
	c.CodeHash = hash
	c.LastModified = time.Now().UTC()
	c.RevisionID = newRevision()

	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	if _, ok := h.fns[s.Name]; ok {
		return nil, newErr(ErrConflict, "Function already exist: %s", FunctionName(s.Name))
	}
	r := &record{Latest: c, NextVersion: 1, Aliases: map[string]Alias{}}
	if s.Publish {
		publishLocked(r, "")
	}
	h.fns[s.Name] = r
	if err := h.saveLocked(r, s.Code, nil); err != nil {
		delete(h.fns, s.Name)
		return nil, err
	}
	if s.Publish {
		return r.Versions[len(r.Versions)-1].clone(), nil
	}
	return r.Latest.clone(), nil
}

// resolveLocked maps a qualifier (empty, $LATEST, a version number or an
// alias) to a version of the function. Caller holds h.mu.
func (h *Host) resolveLocked(name, qualifier string) (*record, *FunctionConfig, error) {
	r, ok := h.fns[name]
	if !ok {
		return nil, nil, newErr(ErrNotFound, "Function not found: %s", h.FunctionARN(name, qualifier))
	}
	q := qualifier
	if a, ok := r.Aliases[q]; ok {
		q = a.FunctionVersion
	}
	c := r.version(q)
	if c == nil {
		return nil, nil, newErr(ErrNotFound, "Function not found: %s", h.FunctionARN(name, qualifier))
	}
	return r, c, nil
}

// GetFunction returns the configuration of the version qualifier names
// (empty: $LATEST).
func (h *Host) GetFunction(name, qualifier string) (*FunctionConfig, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, c, err := h.resolveLocked(name, qualifier)
	if err != nil {
		return nil, err
	}
	return c.clone(), nil
}

// Code returns the module bytes of the version qualifier names.
func (h *Host) Code(name, qualifier string) ([]byte, error) {
	c, err := h.GetFunction(name, qualifier)
	if err != nil {
		return nil, err
	}
	return loadCode(h.deps.DB, c.CodeHash)
}

// ListFunctions returns $LATEST of every function, sorted by name.
func (h *Host) ListFunctions() []*FunctionConfig {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*FunctionConfig, 0, len(h.fns))
	for _, r := range h.fns {
		out = append(out, r.Latest.clone())
	}
	slices.SortFunc(out, func(a, b *FunctionConfig) int { return cmpString(a.Name, b.Name) })
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ListVersions returns $LATEST followed by the published versions.
func (h *Host) ListVersions(name string) ([]*FunctionConfig, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r, _, err := h.resolveLocked(name, "")
	if err != nil {
		return nil, err
	}
	out := []*FunctionConfig{r.Latest.clone()}
	for i := range r.Versions {
		out = append(out, r.Versions[i].clone())
	}
	return out, nil
}

// UpdateFunctionCode replaces $LATEST's code (and publishes a version if
// publish is set).
func (h *Host) UpdateFunctionCode(ctx context.Context, name string, code []byte, publish bool) (*FunctionConfig, error) {
	h.mu.Lock()
	r, _, err := h.resolveLocked(name, "")
	var handler string
	var memoryMB int
	if err == nil {
		handler, memoryMB = r.Latest.Handler, r.Latest.MemoryMB
	}
	h.mu.Unlock()
	if err != nil {
		return nil, err
	}
	hash, err := h.checkCode(ctx, code, handler, memoryMB)
	if err != nil {
		return nil, err
	}
	return h.mutate(name, "", func(r *record) ([]string, error) {
		if r.Latest.MemoryMB != memoryMB || r.Latest.Handler != handler {
			return nil, newErr(ErrConflict, "The operation cannot be performed at this time. An update is in progress for resource: %s", h.FunctionARN(name, ""))
		}
		old := r.Latest.CodeHash
		r.Latest.CodeHash, r.Latest.CodeSize = hash, int64(len(code))
		r.Latest.LastModified, r.Latest.RevisionID = time.Now().UTC(), newRevision()
		if publish {
			publishLocked(r, "")
		}
		return []string{old}, nil
	}, code, publish)
}

// UpdateFunctionConfiguration changes $LATEST's configuration. A new Handler
// must be exported by the current code.
func (h *Host) UpdateFunctionConfiguration(ctx context.Context, name string, u ConfigUpdate) (*FunctionConfig, error) {
	h.mu.Lock()
	r, _, err := h.resolveLocked(name, "")
	var hash string
	if err == nil {
		hash = r.Latest.CodeHash
	}
	h.mu.Unlock()
	if err != nil {
		return nil, err
	}
	var cm *compiledCode
	if u.Handler != nil || u.MemoryMB != nil {
		if cm, err = h.compiledFor(ctx, hash, nil); err != nil {
			return nil, err
		}
	}
	if u.Handler != nil {
		if err := h.checkABI(cm, *u.Handler); err != nil {
			return nil, err
		}
	}
	return h.mutate(name, u.RevisionID, func(r *record) ([]string, error) {
		if r.Latest.CodeHash != hash {
			return nil, newErr(ErrConflict, "The operation cannot be performed at this time. An update is in progress for resource: %s", h.FunctionARN(name, ""))
		}
		c := r.Latest.clone()
		if u.Handler != nil {
			c.Handler = *u.Handler
		}
		if u.Runtime != nil {
			c.Runtime = *u.Runtime
		}
		if u.Description != nil {
			c.Description = *u.Description
		}
		if u.Timeout != nil {
			c.Timeout = *u.Timeout
		}
		if u.MemoryMB != nil {
			c.MemoryMB = *u.MemoryMB
		}
		if u.Environment != nil {
			c.Environment = maps.Clone(u.Environment)
		}
		if u.Role != nil {
			c.Role = *u.Role
		}
		if err := h.checkConfig(c); err != nil {
			return nil, err
		}
		if cm != nil {
			if err := checkMemory(cm.info, c.MemoryMB); err != nil {
				return nil, err
			}
		}
		c.LastModified, c.RevisionID = time.Now().UTC(), newRevision()
		r.Latest = *c
		return nil, nil
	}, nil, false)
}

// mutate applies fn to a copy of the function's record under h.mu and
// persists it; on error nothing changes. The result is $LATEST, or the newest
// published version if published is set.
func (h *Host) mutate(name, revision string, fn func(*record) ([]string, error), code []byte, published bool) (*FunctionConfig, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	old, _, err := h.resolveLocked(name, "")
	if err != nil {
		return nil, err
	}
	if revision != "" && revision != old.Latest.RevisionID {
		return nil, StaleRevision()
	}
	r := cloneRecord(old)
	dropped, err := fn(r)
	if err != nil {
		return nil, err
	}
	h.fns[name] = r
	if err := h.saveLocked(r, code, dropped); err != nil {
		h.fns[name] = old
		return nil, err
	}
	h.dropPoolsLocked(name)
	if published {
		return r.Versions[len(r.Versions)-1].clone(), nil
	}
	return r.Latest.clone(), nil
}

// StaleRevision is Lambda's answer to a RevisionId that is not the
// current one, for functions and aliases alike.
func StaleRevision() error {
	return newErr(ErrPrecondition, "%s", "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
}

func cloneRecord(r *record) *record {
	cp := &record{Latest: *r.Latest.clone(), NextVersion: r.NextVersion, Aliases: maps.Clone(r.Aliases)}
	if r.ReservedConcurrency != nil {
		n := *r.ReservedConcurrency
		cp.ReservedConcurrency = &n
	}
	for i := range r.Versions {
		cp.Versions = append(cp.Versions, *r.Versions[i].clone())
	}
	if cp.Aliases == nil {
		cp.Aliases = map[string]Alias{}
	}
	return cp
}

// publishLocked publishes $LATEST as the next version unless the newest
// published version already has the same code and configuration (Lambda
// returns that version instead).
func publishLocked(r *record, description string) {
	if n := len(r.Versions); n > 0 {
		last := r.Versions[n-1]
		if last.CodeHash == r.Latest.CodeHash && last.Handler == r.Latest.Handler &&
			last.Timeout == r.Latest.Timeout && last.MemoryMB == r.Latest.MemoryMB &&
			maps.Equal(last.Environment, r.Latest.Environment) {
			return
		}
	}
	v := *r.Latest.clone()
	v.Version = strconv.Itoa(r.NextVersion)
	if description != "" {
		v.Description = description
	}
	v.RevisionID = newRevision()
	r.NextVersion++
	r.Versions = append(r.Versions, v)
}

// PublishVersion publishes $LATEST as a numbered, immutable version.
func (h *Host) PublishVersion(name, description, revision string) (*FunctionConfig, error) {
	return h.mutate(name, revision, func(r *record) ([]string, error) {
		publishLocked(r, description)
		return nil, nil
	}, nil, true)
}

func (h *Host) checkAliasTarget(r *record, version string) error {
	if version != LatestVersion && r.version(version) == nil {
		return newErr(ErrNotFound, "Function not found: %s", h.FunctionARN(r.Latest.Name, version))
	}
	return nil
}

// CreateAlias points a new alias at a version.
func (h *Host) CreateAlias(name string, a Alias) (*Alias, error) {
	if !aliasRE.MatchString(a.Name) || a.Name == LatestVersion {
		return nil, newErr(ErrInvalidParameter, "Invalid alias name %q", a.Name)
	}
	a.RevisionID = newRevision()
	_, err := h.mutate(name, "", func(r *record) ([]string, error) {
		if _, ok := r.Aliases[a.Name]; ok {
			return nil, newErr(ErrConflict, "Alias already exists: %s", h.FunctionARN(name, a.Name))
		}
		if err := h.checkAliasTarget(r, a.FunctionVersion); err != nil {
			return nil, err
		}
		r.Aliases[a.Name] = a
		return nil, nil
	}, nil, false)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// GetAlias returns one alias.
func (h *Host) GetAlias(name, alias string) (*Alias, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r, _, err := h.resolveLocked(name, "")
	if err != nil {
		return nil, err
	}
	a, ok := r.Aliases[alias]
	if !ok {
		return nil, newErr(ErrNotFound, "Cannot find alias arn: %s", h.FunctionARN(name, alias))
	}
	return &a, nil
}

// ListAliases returns the function's aliases sorted by name; a non-empty
// version keeps only the aliases pointing at it.
func (h *Host) ListAliases(name, version string) ([]Alias, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r, _, err := h.resolveLocked(name, "")
	if err != nil {
		return nil, err
	}
	var out []Alias
	for _, a := range r.Aliases {
		if version == "" || a.FunctionVersion == version {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b Alias) int { return cmpString(a.Name, b.Name) })
	return out, nil
}

// UpdateAlias changes the set fields of an alias.
func (h *Host) UpdateAlias(name, alias string, version, description *string, revision string) (*Alias, error) {
	var out Alias
	_, err := h.mutate(name, "", func(r *record) ([]string, error) {
		a, ok := r.Aliases[alias]
		if !ok {
			return nil, newErr(ErrNotFound, "Cannot find alias arn: %s", h.FunctionARN(name, alias))
		}
		if revision != "" && revision != a.RevisionID {
			return nil, StaleRevision()
		}
		if version != nil {
			if err := h.checkAliasTarget(r, *version); err != nil {
				return nil, err
			}
			a.FunctionVersion = *version
		}
		if description != nil {
			a.Description = *description
		}
		a.RevisionID = newRevision()
		r.Aliases[alias] = a
		out = a
		return nil, nil
	}, nil, false)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteAlias removes an alias. Deleting a missing alias succeeds, as in
// Lambda.
func (h *Host) DeleteAlias(name, alias string) error {
	_, err := h.mutate(name, "", func(r *record) ([]string, error) {
		delete(r.Aliases, alias)
		return nil, nil
	}, nil, false)
	return err
}

// DeleteFunction deletes the whole function (qualifier empty) or one
// published version. $LATEST can not be deleted alone, and neither can a
// version an alias points at.
func (h *Host) DeleteFunction(name, qualifier string) error {
	if qualifier != "" && qualifier != LatestVersion {
		_, err := h.mutate(name, "", func(r *record) ([]string, error) {
			i := slices.IndexFunc(r.Versions, func(c FunctionConfig) bool { return c.Version == qualifier })
			if i < 0 {
				return nil, newErr(ErrNotFound, "Function not found: %s", h.FunctionARN(name, qualifier))
			}
			for _, a := range r.Aliases {
				if a.FunctionVersion == qualifier {
					return nil, newErr(ErrConflict, "Unable to delete version because the following aliases reference it: [%s]", a.Name)
				}
			}
			hash := r.Versions[i].CodeHash
			r.Versions = slices.Delete(r.Versions, i, i+1)
			return []string{hash}, nil
		}, nil, false)
		return err
	}
	if qualifier == LatestVersion {
		return newErr(ErrInvalidParameter, "$LATEST version cannot be deleted without deleting the function.")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	r, ok := h.fns[name]
	if !ok {
		return newErr(ErrNotFound, "Function not found: %s", h.FunctionARN(name, ""))
	}
	delete(h.fns, name)
	if err := h.deps.DB.Write(true, func(b kv.Writer) error {
		_ = b.Delete(fnKey(name))
		h.gcCodeLocked(b, r.hashes())
		return nil
	}); err != nil {
		h.fns[name] = r
		return err
	}
	h.limits.setReservation(name, -1)
	h.dropPoolsLocked(name)
	return nil
}
