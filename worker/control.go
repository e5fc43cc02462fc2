package worker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/eddydb/eddy/internal/kv"
	"github.com/eddydb/eddy/mappings"
	"github.com/eddydb/eddy/streams"
	"github.com/eddydb/eddy/triggers"
)

// control is the worker's client of eddy: its worker routes (signed for
// service "eddy", as the client subcommands sign them) and its DynamoDB
// API (service "dynamodb").
type control struct {
	base   string
	region string
	creds  *aws.Credentials
	hc     *http.Client
}

// errMoved is a 409 of the commit route: the lane's checkpoint is not
// the one the batch started after.
var errMoved = errors.New("worker: the lane's checkpoint moved")

// statusError is a non-2xx answer.
type statusError struct {
	code int
	body []byte
}

func (e *statusError) Error() string {
	return fmt.Sprintf("eddy answered %d: %s", e.code, strings.TrimSpace(string(e.body)))
}

// do sends one request and returns the body of a 2xx answer.
func (c *control) do(ctx context.Context, method, path, service string, hdr http.Header, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if c.creds != nil {
		h := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(ctx, *c.creds, req, hex.EncodeToString(h[:]), service, c.region, time.Now()); err != nil {
			return nil, err
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return b, &statusError{resp.StatusCode, b}
	}
	return b, nil
}

func (c *control) getJSON(ctx context.Context, path string, out any) error {
	b, err := c.do(ctx, "GET", path, "eddy", nil, nil)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// mappings lists the mappings that run on workers.
func (c *control) mappings(ctx context.Context) ([]mappings.WorkerMapping, error) {
	var out struct{ Mappings []mappings.WorkerMapping }
	err := c.getJSON(ctx, "/eddy/workers/mappings", &out)
	return out.Mappings, err
}

// code fetches a function's module.
func (c *control) code(ctx context.Context, m *mappings.WorkerMapping) ([]byte, error) {
	q := url.Values{"qualifier": {m.Qualifier}, "region": {m.Region}}
	return c.do(ctx, "GET", "/eddy/workers/functions/"+url.PathEscape(m.Function)+"/code?"+q.Encode(), "eddy", nil, nil)
}

// checkpoint reads a lane's checkpoint.
func (c *control) checkpoint(ctx context.Context, uuid, shard string) (streams.Seq, bool, error) {
	var out struct {
		Checkpoint streams.Seq `json:",string"`
		Exists     bool
	}
	err := c.getJSON(ctx, "/eddy/workers/checkpoints/"+url.PathEscape(uuid)+"/"+url.PathEscape(shard), &out)
	return out.Checkpoint, out.Exists, err
}

// commit sends a lane's outcome. errMoved (with the current checkpoint)
// when another commit moved the lane; a *statusError 400 when eddy
// refused a write.
func (c *control) commit(ctx context.Context, wc *mappings.WorkerCommit) (streams.Seq, error) {
	body, err := json.Marshal(wc)
	if err != nil {
		return 0, err
	}
	b, err := c.do(ctx, "POST", "/eddy/workers/commit", "eddy", http.Header{"Content-Type": {"application/json"}}, body)
	var out struct {
		Checkpoint streams.Seq `json:",string"`
	}
	_ = json.Unmarshal(b, &out)
	var se *statusError
	if errors.As(err, &se) && se.code == http.StatusConflict {
		return out.Checkpoint, errMoved
	}
	return out.Checkpoint, err
}

// dynamodb calls eddy's DynamoDB API.
func (c *control) dynamodb(ctx context.Context, op string, req []byte) ([]byte, error) {
	h := http.Header{"Content-Type": {"application/x-amz-json-1.0"}, "X-Amz-Target": {"DynamoDB_20120810." + op}}
	b, err := c.do(ctx, "POST", "/", "dynamodb", h, req)
	var se *statusError
	if errors.As(err, &se) && se.code/100 == 4 {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if json.Unmarshal(b, &e) == nil && e.Type != "" {
			return nil, &triggers.TableError{Type: e.Type, Message: e.Message}
		}
	}
	return b, err
}

// writeBuf holds one invocation's table writes for its commit
// (delivery.Writes).
type writeBuf struct {
	mu     sync.Mutex
	writes []mappings.WorkerWrite
}

func (w *writeBuf) Empty() bool {
	if w == nil {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.writes) == 0
}

func (w *writeBuf) list() []mappings.WorkerWrite {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]mappings.WorkerWrite(nil), w.writes...)
}

type bufKey struct{}

// tables is the worker host's triggers.Tables: writes during a mapping
// invocation go into its writeBuf (answered {}), reads to eddy.
type tables struct{ c *control }

func (t tables) Call(ctx context.Context, op string, req []byte) ([]byte, error) {
	switch op {
	case "PutItem", "UpdateItem", "DeleteItem":
		if buf, ok := ctx.Value(bufKey{}).(*writeBuf); ok {
			buf.mu.Lock()
			buf.writes = append(buf.writes, mappings.WorkerWrite{Op: op, Request: append(json.RawMessage(nil), req...)})
			buf.mu.Unlock()
			return []byte("{}"), nil
		}
	case "GetItem", "Query":
	default:
		return nil, &triggers.TableError{Type: "com.amazon.coral.service#UnknownOperationException",
			Message: "eddy: " + op + " is not available to trigger functions"}
	}
	return t.c.dynamodb(ctx, op, req)
}

// memKV is the host's function store: in memory, the worker keeps no
// state (functions are fetched from eddy at start).
type memKV struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newMemKV() *memKV { return &memKV{m: map[string][]byte{}} }

func (s *memKV) Get(key []byte) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[string(key)]
	return append([]byte(nil), v...), ok, nil
}

func (s *memKV) Scan(lower, upper []byte, fn func(key, value []byte) error) error {
	s.mu.Lock()
	var keys []string
	for k := range s.m {
		if k >= string(lower) && (upper == nil || k < string(upper)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	vals := make([][]byte, len(keys))
	for i, k := range keys {
		vals[i] = s.m[k]
	}
	s.mu.Unlock()
	for i, k := range keys {
		if err := fn([]byte(k), vals[i]); err != nil {
			return err
		}
	}
	return nil
}

func (s *memKV) Write(_ bool, fn func(w kv.Writer) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fn(memWriter{s})
}

type memWriter struct{ s *memKV }

func (w memWriter) Set(key, value []byte) error {
	w.s.m[string(key)] = append([]byte(nil), value...)
	return nil
}

func (w memWriter) Delete(key []byte) error {
	delete(w.s.m, string(key))
	return nil
}

func (w memWriter) DeleteRange(lower, upper []byte) error {
	for k := range w.s.m {
		if k >= string(lower) && (upper == nil || k < string(upper)) {
			delete(w.s.m, k)
		}
	}
	return nil
}
