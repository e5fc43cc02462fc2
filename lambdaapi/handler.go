package lambdaapi

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/mappings"
	"github.com/eddydb/eddy/triggers"
)

// Option configures the handler.
type Option func(*handler)

// WithMaxRequestBytes caps request bodies (default 70 MiB: a 50 MiB module
// base64-encoded in JSON).
func WithMaxRequestBytes(n int64) Option { return func(h *handler) { h.maxBody = n } }

type handler struct {
	host    *triggers.Host
	esm     *mappings.Manager // nil: no event source mappings
	maxBody int64
	mux     *http.ServeMux

	policies    Policies // nil: every request allowed (WithPolicies)
	denied      func(principal, action, resource string)
	principalOf func(accessKeyID string) string
}

const prefix = "/2015-03-31/functions"

// NewHandler returns an http.Handler serving the Lambda API subset under
// /2015-03-31/ over host. Mount it at the server root (or under a mux route
// for "/2015-03-31/"). It is safe for concurrent use.
func NewHandler(host *triggers.Host, opts ...Option) http.Handler {
	h := &handler{host: host, maxBody: 70 << 20, mux: http.NewServeMux()}
	for _, o := range opts {
		o(h)
	}
	m := h.mux
	m.HandleFunc("POST "+prefix, h.createFunction)
	m.HandleFunc("GET "+prefix, h.listFunctions)
	m.HandleFunc("GET "+prefix+"/{$}", h.listFunctions)
	m.HandleFunc("GET "+prefix+"/{name}", h.getFunction)
	m.HandleFunc("DELETE "+prefix+"/{name}", h.deleteFunction)
	m.HandleFunc("GET "+prefix+"/{name}/configuration", h.getConfiguration)
	m.HandleFunc("PUT "+prefix+"/{name}/configuration", h.updateConfiguration)
	m.HandleFunc("PUT "+prefix+"/{name}/code", h.updateCode)
	m.HandleFunc("POST "+prefix+"/{name}/versions", h.publishVersion)
	m.HandleFunc("GET "+prefix+"/{name}/versions", h.listVersions)
	m.HandleFunc("POST "+prefix+"/{name}/aliases", h.createAlias)
	m.HandleFunc("GET "+prefix+"/{name}/aliases", h.listAliases)
	m.HandleFunc("GET "+prefix+"/{name}/aliases/{alias}", h.getAlias)
	m.HandleFunc("PUT "+prefix+"/{name}/aliases/{alias}", h.updateAlias)
	m.HandleFunc("DELETE "+prefix+"/{name}/aliases/{alias}", h.deleteAlias)
	m.HandleFunc("POST "+prefix+"/{name}/invocations", h.invoke)
	h.routeConcurrency()
	if h.esm != nil {
		h.routeMappings()
	}
	unknown := func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{http.StatusNotFound, "UnknownOperationException", true,
			fmt.Sprintf("eddy does not support %s %s", r.Method, r.URL.Path)})
	}
	m.HandleFunc("/2015-03-31/", unknown)
	m.HandleFunc(ConcurrencyPrefix2017, unknown)
	m.HandleFunc(ConcurrencyPrefix2019, unknown)
	return h
}

// ServeHTTP serves a request in its region, its SigV4 credential scope's
// (the host's for an unsigned one), which the request's context carries
// (arn.WithRegion) to the mappings it lists and the functions it invokes.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, h.maxBody)
	scope, err := arn.ParseScope(r)
	if err != nil {
		// Lambda's REST protocol: 403 with the error type (as AWS answers
		// a signature it cannot read).
		writeError(w, &apiError{http.StatusForbidden, "IncompleteSignatureException", true, err.Error()})
		return
	}
	region := cmp.Or(scope.Region, h.host.Options().Region)
	if err := h.authorize(r, scope.AccessKeyID, region); err != nil {
		writeError(w, err)
		return
	}
	h.mux.ServeHTTP(w, r.WithContext(arn.WithRegion(r.Context(), region)))
}

// Wire shapes, as Lambda names them.

type environment struct {
	Variables map[string]string `json:"Variables"`
}

type functionConfiguration struct {
	FunctionName     string       `json:"FunctionName"`
	FunctionArn      string       `json:"FunctionArn"`
	Runtime          string       `json:"Runtime"`
	Role             string       `json:"Role,omitempty"`
	Handler          string       `json:"Handler"`
	CodeSize         int64        `json:"CodeSize"`
	Description      string       `json:"Description"`
	Timeout          int          `json:"Timeout"`
	MemorySize       int          `json:"MemorySize"`
	LastModified     string       `json:"LastModified"`
	CodeSha256       string       `json:"CodeSha256"`
	Version          string       `json:"Version"`
	Environment      *environment `json:"Environment,omitempty"`
	RevisionID       string       `json:"RevisionId"`
	State            string       `json:"State,omitempty"`
	LastUpdateStatus string       `json:"LastUpdateStatus,omitempty"`
	PackageType      string       `json:"PackageType"`
	Architectures    []string     `json:"Architectures"`
	// Fixed: eddy has no /tmp quota, SnapStart or X-Ray; Lambda reports
	// these defaults for such functions.
	EphemeralStorage struct {
		Size int `json:"Size"`
	} `json:"EphemeralStorage"`
	SnapStart struct {
		ApplyOn            string `json:"ApplyOn"`
		OptimizationStatus string `json:"OptimizationStatus"`
	} `json:"SnapStart"`
	TracingConfig struct {
		Mode string `json:"Mode"`
	} `json:"TracingConfig"`
	LoggingConfig struct {
		LogFormat string `json:"LogFormat"`
		LogGroup  string `json:"LogGroup"`
	} `json:"LoggingConfig"`
}

type aliasConfiguration struct {
	AliasArn        string `json:"AliasArn"`
	Name            string `json:"Name"`
	FunctionVersion string `json:"FunctionVersion"`
	Description     string `json:"Description"`
	RevisionID      string `json:"RevisionId"`
}

// config is the FunctionConfiguration of c. Lambda names $LATEST by the
// unqualified ARN; callers that answer with a qualified one (a read with a
// qualifier, ListVersionsByFunction, ListFunctions with FunctionVersion=ALL)
// set FunctionArn themselves.
func (h *handler) config(c *triggers.FunctionConfig) functionConfiguration {
	arn := h.host.FunctionARN(c.Name, c.Version)
	if c.Version == triggers.LatestVersion {
		arn = h.host.FunctionARN(c.Name, "")
	}
	fc := functionConfiguration{
		FunctionName: triggers.FunctionName(c.Name),
		FunctionArn:  arn,
		Runtime:      c.Runtime, Role: c.Role, Handler: c.Handler, CodeSize: c.CodeSize,
		Description: c.Description, Timeout: int(c.Timeout / time.Second), MemorySize: c.MemoryMB,
		LastModified: c.LastModified.UTC().Format("2006-01-02T15:04:05.000-0700"),
		CodeSha256:   c.CodeSha256(), Version: c.Version, RevisionID: c.RevisionID,
		State: "Active", LastUpdateStatus: "Successful", PackageType: "Zip",
		Architectures: []string{"wasm32"},
	}
	fc.EphemeralStorage.Size = 512
	fc.SnapStart.ApplyOn, fc.SnapStart.OptimizationStatus = "None", "Off"
	fc.TracingConfig.Mode = "PassThrough"
	fc.LoggingConfig.LogFormat, fc.LoggingConfig.LogGroup = "Text", "/aws/lambda/"+triggers.FunctionName(c.Name)
	if c.Environment != nil {
		fc.Environment = &environment{Variables: c.Environment}
	}
	return fc
}

// qualified is the configuration as read through qualifier q: Lambda's
// FunctionArn then carries q as given (an alias name, $LATEST or a version).
func (h *handler) qualified(c *triggers.FunctionConfig, q string) functionConfiguration {
	fc := h.config(c)
	if q != "" {
		fc.FunctionArn = h.host.FunctionARN(c.Name, q)
	}
	return fc
}

// listed is the configuration as the List operations return it: without
// State and LastUpdateStatus (Lambda returns those from Get only).
func (h *handler) listed(c *triggers.FunctionConfig) functionConfiguration {
	fc := h.config(c)
	fc.State, fc.LastUpdateStatus = "", ""
	return fc
}

func (h *handler) alias(name string, a *triggers.Alias) aliasConfiguration {
	return aliasConfiguration{
		AliasArn: h.host.FunctionARN(name, a.Name), Name: a.Name,
		FunctionVersion: a.FunctionVersion, Description: a.Description, RevisionID: a.RevisionID,
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return &tooLarge{apiError{http.StatusRequestEntityTooLarge, "RequestTooLargeException", true, err.Error()}, err}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return invalidContent("Could not parse request body into json: " + err.Error())
	}
	return nil
}

// tooLarge is decode's answer to a body past a limit; it keeps the read
// error (an *http.MaxBytesError) for callers with their own message.
type tooLarge struct {
	apiError
	err error
}

func (e *tooLarge) Unwrap() []error { return []error{&e.apiError, e.err} }

// target parses the {name} path segment: a name, "name:qualifier", a full
// ARN or a partial ARN ("account:function:name[:qualifier]"). An explicit
// ?Qualifier= wins over the one in the name. The name is returned as the
// host's function key in the request's region (functions are per region);
// a full ARN of another region is Lambda's ResourceNotFoundException
// "Functions from 'us-east-1' are not reachable in this region
// ('us-east-2')" (recorded in aws/aws-cli#3954).
func (h *handler) target(r *http.Request) (name, qualifier string, err error) {
	s := r.PathValue("name")
	parts := strings.Split(s, ":")
	region := arn.RegionFrom(r.Context())
	if i := indexOf(parts, "function"); i >= 0 {
		if i >= 4 && parts[0] == "arn" && parts[3] != region {
			return "", "", &apiError{http.StatusNotFound, "ResourceNotFoundException", true,
				fmt.Sprintf("Functions from '%s' are not reachable in this region ('%s')", parts[3], region)}
		}
		parts = parts[i+1:]
	}
	switch len(parts) {
	case 1:
		name = parts[0]
	case 2:
		name, qualifier = parts[0], parts[1]
	default:
		return "", "", invalidParam("Invalid function name or ARN: " + s)
	}
	if strings.ContainsRune(name, '/') { // an escaped slash: never a function's, nor another region's
		return "", "", invalidParam("Invalid function name or ARN: " + s)
	}
	if q := r.URL.Query().Get("Qualifier"); q != "" {
		if qualifier != "" && qualifier != q {
			return "", "", invalidParam("The derived qualifier from the function name does not match the specified qualifier.")
		}
		qualifier = q
	}
	return h.key(r, name), qualifier, nil
}

// key is the host's key of the function called name in the request's
// region.
func (h *handler) key(r *http.Request, name string) string {
	return h.host.FunctionKey(arn.RegionFrom(r.Context()), name)
}

func indexOf(ss []string, s string) int {
	for i, v := range ss {
		if v == s {
			return i
		}
	}
	return -1
}

func (h *handler) createFunction(w http.ResponseWriter, r *http.Request) {
	var in struct {
		FunctionName string
		Runtime      string
		Role         string
		Handler      string
		Description  string
		Timeout      *int
		MemorySize   *int
		Publish      bool
		Environment  *environment
		Code         struct {
			ZipFile  []byte
			S3Bucket string
			ImageUri string
		}
	}
	if err := h.decodeCode(w, r, &in, "CreateFunction"); err != nil {
		writeError(w, err)
		return
	}
	if in.Code.S3Bucket != "" || in.Code.ImageUri != "" {
		writeError(w, invalidParam("eddy accepts code only as Code.ZipFile"))
		return
	}
	if in.Environment != nil {
		if err := checkReservedEnv(in.Environment.Variables); err != nil {
			writeError(w, err)
			return
		}
	}
	code, err := unpackCode(in.Code.ZipFile, h.host.Options().MaxCodeSize)
	if err != nil {
		writeError(w, err)
		return
	}
	if strings.ContainsRune(in.FunctionName, '/') {
		writeError(w, invalidParam(fmt.Sprintf("Invalid function name %q: 1-64 characters of A-Z a-z 0-9 - _", in.FunctionName)))
		return
	}
	spec := triggers.FunctionSpec{
		Name: h.key(r, in.FunctionName), Code: code, Handler: in.Handler, Runtime: in.Runtime,
		Description: in.Description, Publish: in.Publish, Role: in.Role,
	}
	if in.Timeout != nil {
		if spec.Timeout, err = h.timeout(*in.Timeout); err != nil {
			writeError(w, err)
			return
		}
	}
	if in.MemorySize != nil {
		if *in.MemorySize < 1 {
			writeError(w, invalidParam("MemorySize must be at least 1 MB"))
			return
		}
		spec.MemoryMB = *in.MemorySize
	}
	if in.Environment != nil {
		spec.Environment = in.Environment.Variables
	}
	c, err := h.host.CreateFunction(r.Context(), spec)
	if err != nil {
		writeError(w, err)
		return
	}
	// Lambda answers with the unqualified ARN even when Publish made
	// Version "1".
	fc := h.config(c)
	fc.FunctionArn = h.host.FunctionARN(c.Name, "")
	writeJSON(w, http.StatusCreated, fc)
}

// timeout checks a Timeout in seconds against Lambda's range (1 to
// Options.MaxTimeout, 900 s by default) before it becomes a Duration: a
// number of seconds past 9.2e9 would overflow it (18446744075 wrapped to
// about 1 s). Lambda's answer is a ValidationException, e.g. for 3000:
// "1 validation error detected: Value '3000' at 'timeout' failed to satisfy
// constraint: Member must have value less than or equal to 900"
// (CloudFormation relaying it, covidatlas/li#575).
func (h *handler) timeout(sec int) (time.Duration, error) {
	maxSec := int(h.host.Options().MaxTimeout / time.Second)
	switch {
	case sec < 1:
		return 0, validation(fmt.Sprintf("1 validation error detected: Value '%d' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1", sec))
	case sec > maxSec:
		return 0, validation(fmt.Sprintf("1 validation error detected: Value '%d' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to %d", sec, maxSec))
	}
	return time.Duration(sec) * time.Second, nil
}

func (h *handler) getFunction(w http.ResponseWriter, r *http.Request) {
	name, q, err := h.target(r)
	if err == nil {
		var c *triggers.FunctionConfig
		if c, err = h.host.GetFunction(name, q); err == nil {
			// eddy has no tags: Lambda leaves Tags out then.
			out := map[string]any{
				"Configuration": h.qualified(c, q),
				// eddy keeps code in its own store; there is no download URL.
				"Code": map[string]string{"RepositoryType": "eddy", "Location": ""},
			}
			// Lambda adds Concurrency when the function has a reservation.
			if n, ok, cerr := h.host.GetFunctionConcurrency(name); cerr == nil && ok {
				out["Concurrency"] = concurrency{&n}
			}
			writeJSON(w, http.StatusOK, out)
			return
		}
	}
	writeError(w, err)
}

func (h *handler) getConfiguration(w http.ResponseWriter, r *http.Request) {
	name, q, err := h.target(r)
	if err == nil {
		var c *triggers.FunctionConfig
		if c, err = h.host.GetFunction(name, q); err == nil {
			writeJSON(w, http.StatusOK, h.qualified(c, q))
			return
		}
	}
	writeError(w, err)
}

// page applies Marker (the index to start at, as a decimal string) and
// MaxItems (default and cap 50) to n items.
func page(r *http.Request, n int) (from, to int, next string, err error) {
	q := r.URL.Query()
	if m := q.Get("Marker"); m != "" {
		if from, err = strconv.Atoi(m); err != nil || from < 0 || from > n {
			return 0, 0, "", invalidParam("Invalid Marker")
		}
	}
	max := 50
	if s := q.Get("MaxItems"); s != "" {
		if max, err = strconv.Atoi(s); err != nil || max < 1 || max > 10000 {
			return 0, 0, "", invalidParam("MaxItems must be between 1 and 10000")
		}
	}
	to = min(n, from+max)
	if to < n {
		next = strconv.Itoa(to)
	}
	return from, to, next, nil
}

func (h *handler) listFunctions(w http.ResponseWriter, r *http.Request) {
	var all []*triggers.FunctionConfig
	region := arn.RegionFrom(r.Context())
	for _, c := range h.host.ListFunctions() {
		if h.host.RegionOf(c.Name) != region {
			continue // another region's
		}
		if r.URL.Query().Get("FunctionVersion") == "ALL" {
			vs, err := h.host.ListVersions(c.Name)
			if err != nil {
				continue // deleted meanwhile
			}
			all = append(all, vs...)
		} else {
			all = append(all, c)
		}
	}
	from, to, next, err := page(r, len(all))
	if err != nil {
		writeError(w, err)
		return
	}
	out := struct {
		Functions  []functionConfiguration
		NextMarker string `json:"NextMarker,omitempty"`
	}{Functions: []functionConfiguration{}, NextMarker: next}
	allVersions := r.URL.Query().Get("FunctionVersion") == "ALL"
	for _, c := range all[from:to] {
		fc := h.listed(c)
		// With FunctionVersion=ALL $LATEST keeps its qualified ARN, as in
		// ListVersionsByFunction.
		if c.Version == triggers.LatestVersion && allVersions {
			fc.FunctionArn = h.host.FunctionARN(c.Name, c.Version)
		}
		out.Functions = append(out.Functions, fc)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) deleteFunction(w http.ResponseWriter, r *http.Request) {
	name, q, err := h.target(r)
	if err == nil {
		if err = h.host.DeleteFunction(name, q); err == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	writeError(w, err)
}

func (h *handler) updateCode(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ZipFile    []byte
		S3Bucket   string
		ImageUri   string
		Publish    bool
		RevisionId string
	}
	name, _, err := h.target(r)
	if err == nil {
		err = h.decodeCode(w, r, &in, "UpdateFunctionCode")
	}
	if err == nil && (in.S3Bucket != "" || in.ImageUri != "") {
		err = invalidParam("eddy accepts code only as ZipFile")
	}
	var code []byte
	if err == nil {
		code, err = unpackCode(in.ZipFile, h.host.Options().MaxCodeSize)
	}
	if err == nil && in.RevisionId != "" {
		var cur *triggers.FunctionConfig
		if cur, err = h.host.GetFunction(name, ""); err == nil && cur.RevisionID != in.RevisionId {
			err = triggers.StaleRevision()
		}
	}
	if err == nil {
		var c *triggers.FunctionConfig
		if c, err = h.host.UpdateFunctionCode(r.Context(), name, code, in.Publish); err == nil {
			writeJSON(w, http.StatusOK, h.config(c))
			return
		}
	}
	writeError(w, err)
}

func (h *handler) updateConfiguration(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Handler     *string
		Runtime     *string
		Role        *string
		Description *string
		Timeout     *int
		MemorySize  *int
		Environment *environment
		RevisionId  string
	}
	name, _, err := h.target(r)
	if err == nil {
		err = decode(r, &in)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	u := triggers.ConfigUpdate{Handler: in.Handler, Runtime: in.Runtime, Role: in.Role, Description: in.Description,
		MemoryMB: in.MemorySize, RevisionID: in.RevisionId}
	if in.Timeout != nil {
		d, err := h.timeout(*in.Timeout)
		if err != nil {
			writeError(w, err)
			return
		}
		u.Timeout = &d
	}
	if in.Environment != nil {
		if err := checkReservedEnv(in.Environment.Variables); err != nil {
			writeError(w, err)
			return
		}
		u.Environment = in.Environment.Variables
		if u.Environment == nil {
			u.Environment = map[string]string{}
		}
	}
	c, err := h.host.UpdateFunctionConfiguration(r.Context(), name, u)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, h.config(c))
}

func (h *handler) publishVersion(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Description string
		CodeSha256  string
		RevisionId  string
	}
	name, _, err := h.target(r)
	if err == nil {
		err = decode(r, &in)
	}
	if err == nil && in.CodeSha256 != "" {
		var cur *triggers.FunctionConfig
		if cur, err = h.host.GetFunction(name, ""); err == nil && cur.CodeSha256() != in.CodeSha256 {
			err = invalidParam("CodeSHA256 (" + in.CodeSha256 + ") is different from current CodeSHA256 in $LATEST (" + cur.CodeSha256() + "). Please try again with the CodeSHA256 in $LATEST.")
		}
	}
	if err == nil {
		var c *triggers.FunctionConfig
		if c, err = h.host.PublishVersion(name, in.Description, in.RevisionId); err == nil {
			writeJSON(w, http.StatusCreated, h.config(c))
			return
		}
	}
	writeError(w, err)
}

func (h *handler) listVersions(w http.ResponseWriter, r *http.Request) {
	name, _, err := h.target(r)
	var vs []*triggers.FunctionConfig
	if err == nil {
		vs, err = h.host.ListVersions(name)
	}
	var from, to int
	var next string
	if err == nil {
		from, to, next, err = page(r, len(vs))
	}
	if err != nil {
		writeError(w, err)
		return
	}
	out := struct {
		Versions   []functionConfiguration
		NextMarker string `json:"NextMarker,omitempty"`
	}{Versions: []functionConfiguration{}, NextMarker: next}
	for _, c := range vs[from:to] {
		// Here Lambda names $LATEST by its qualified ARN.
		fc := h.listed(c)
		fc.FunctionArn = h.host.FunctionARN(c.Name, c.Version)
		out.Versions = append(out.Versions, fc)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) createAlias(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name            string
		FunctionVersion string
		Description     string
	}
	name, _, err := h.target(r)
	if err == nil {
		err = decode(r, &in)
	}
	if err == nil {
		var a *triggers.Alias
		a, err = h.host.CreateAlias(name, triggers.Alias{Name: in.Name, FunctionVersion: in.FunctionVersion, Description: in.Description})
		if err == nil {
			writeJSON(w, http.StatusCreated, h.alias(name, a))
			return
		}
	}
	writeError(w, err)
}

func (h *handler) getAlias(w http.ResponseWriter, r *http.Request) {
	name, _, err := h.target(r)
	if err == nil {
		var a *triggers.Alias
		if a, err = h.host.GetAlias(name, r.PathValue("alias")); err == nil {
			writeJSON(w, http.StatusOK, h.alias(name, a))
			return
		}
	}
	writeError(w, err)
}

func (h *handler) listAliases(w http.ResponseWriter, r *http.Request) {
	name, _, err := h.target(r)
	var as []triggers.Alias
	if err == nil {
		as, err = h.host.ListAliases(name, r.URL.Query().Get("FunctionVersion"))
	}
	var from, to int
	var next string
	if err == nil {
		from, to, next, err = page(r, len(as))
	}
	if err != nil {
		writeError(w, err)
		return
	}
	out := struct {
		Aliases    []aliasConfiguration
		NextMarker string `json:"NextMarker,omitempty"`
	}{Aliases: []aliasConfiguration{}, NextMarker: next}
	for i := range as[from:to] {
		out.Aliases = append(out.Aliases, h.alias(name, &as[from+i]))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) updateAlias(w http.ResponseWriter, r *http.Request) {
	var in struct {
		FunctionVersion *string
		Description     *string
		RevisionId      string
	}
	name, _, err := h.target(r)
	if err == nil {
		err = decode(r, &in)
	}
	if err == nil {
		var a *triggers.Alias
		if a, err = h.host.UpdateAlias(name, r.PathValue("alias"), in.FunctionVersion, in.Description, in.RevisionId); err == nil {
			writeJSON(w, http.StatusOK, h.alias(name, a))
			return
		}
	}
	writeError(w, err)
}

func (h *handler) deleteAlias(w http.ResponseWriter, r *http.Request) {
	name, _, err := h.target(r)
	if err == nil {
		if err = h.host.DeleteAlias(name, r.PathValue("alias")); err == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	writeError(w, err)
}

func (h *handler) invoke(w http.ResponseWriter, r *http.Request) {
	name, q, err := h.target(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if q == "" {
		// Invoke names an unqualified function by $LATEST, also in its
		// not-found message.
		q = triggers.LatestVersion
	}
	payload, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, &apiError{http.StatusRequestEntityTooLarge, "RequestTooLargeException", true, err.Error()})
		return
	}
	switch typ := r.Header.Get("X-Amz-Invocation-Type"); typ {
	case "", "RequestResponse":
	case "DryRun":
		// Lambda answers a DryRun with 204 and no X-Amz-Executed-Version.
		if _, err := h.host.GetFunction(name, q); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	case "Event":
		if err := h.host.InvokeAsync(name, q, payload); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		return
	default:
		writeError(w, invalidParam("Invalid X-Amz-Invocation-Type: "+typ))
		return
	}
	res, err := h.host.Invoke(r.Context(), name, q, payload)
	if err != nil {
		writeError(w, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("X-Amz-Executed-Version", res.ExecutedVersion)
	hd.Set("X-Amzn-Requestid", res.RequestID)
	if res.FunctionError != "" {
		hd.Set("X-Amz-Function-Error", res.FunctionError)
	}
	if r.Header.Get("X-Amz-Log-Type") == "Tail" {
		hd.Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString(res.Logs))
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.Payload)
}
