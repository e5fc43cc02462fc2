package elasticsearch

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eddydb/eddy/outbox"
)

// Defaults of the settings New fills in.
const (
	DefaultBatchSize  = 500
	DefaultBatchBytes = 5 << 20
	DefaultTimeout    = 30 * time.Second
)

// options are the Config.Options keys New accepts.
var options = []string{"api_key", "ca_file", "index", "insecure_skip_verify", "password", "refresh", "timeout", "username"}

// Sink is the outbox.Target of one Elasticsearch/OpenSearch sink. Safe for
// concurrent use.
type Sink struct {
	name       string
	bulkURL    string // {base}/_bulk[?refresh=...]
	index      string
	indexJSON  []byte // index as a JSON string
	auth       string // the Authorization header, "" for none
	batchSize  int
	batchBytes int

	transport *http.Transport
	client    *http.Client
	log       *slog.Logger
}

var _ outbox.Target = (*Sink)(nil)

// New returns the Sink of cfg (see the package doc for cfg.URL and
// cfg.Options). It reads ca_file but does not contact the server; every
// problem of cfg is reported at once, each naming its setting.
func New(cfg outbox.Config, env outbox.Env) (*Sink, error) {
	s := &Sink{name: cfg.Name, batchSize: cfg.BatchSize, batchBytes: cfg.BatchBytes, log: env.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	opt := cfg.Options
	for k := range opt {
		if !slices.Contains(options, k) {
			bad("option %q is unknown (the elasticsearch kind takes %s)", k, strings.Join(options, ", "))
		}
	}

	// URL and index.
	base, index, https := parseURL(cfg.URL, opt["index"], bad)
	s.index = index

	// Authentication.
	user, hasUser := opt["username"]
	pass, hasPass := opt["password"]
	key, hasKey := opt["api_key"]
	switch {
	case hasUser != hasPass:
		bad("options username and password go together (basic authentication)")
	case hasUser && hasKey:
		bad("option api_key excludes username and password: choose one authentication")
	case hasUser:
		if user == "" || strings.Contains(user, ":") {
			bad("option username %q: want a non-empty name without ':'", user)
		}
		s.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	case hasKey:
		switch {
		case key == "" || strings.ContainsAny(key, " \t\r\n"):
			bad("option api_key: want the encoded API key (or id:api_key), without spaces")
		case strings.Contains(key, ":"):
			// id:api_key; the base64 alphabet has no ':', so an
			// encoded key never contains one.
			s.auth = "ApiKey " + base64.StdEncoding.EncodeToString([]byte(key))
		default:
			s.auth = "ApiKey " + key
		}
	}
	if s.auth != "" && !https && base != nil {
		s.log.Warn("elasticsearch sink sends credentials over plain http", "host", base.Host)
	}

	// TLS.
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if v, ok := opt["insecure_skip_verify"]; ok {
		skip, err := strconv.ParseBool(v)
		switch {
		case err != nil:
			bad("option insecure_skip_verify %q: want true or false", v)
		case skip && !https:
			bad("option insecure_skip_verify needs an https URL")
		}
		tlsConf.InsecureSkipVerify = skip
	}
	if f, ok := opt["ca_file"]; ok {
		if !https {
			bad("option ca_file needs an https URL")
		} else if pool, err := readCA(f); err != nil {
			bad("option ca_file: %v", err)
		} else {
			tlsConf.RootCAs = pool
		}
	}

	// Request settings.
	q := url.Values{}
	if v, ok := opt["refresh"]; ok {
		switch v {
		case "true", "false", "wait_for":
			q.Set("refresh", v)
		default:
			bad("option refresh %q: want true, false or wait_for", v)
		}
	}
	timeout := DefaultTimeout
	if v, ok := opt["timeout"]; ok {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			bad("option timeout %q: want a positive Go duration (30s, 2m)", v)
		}
		timeout = d
	}
	switch {
	case s.batchSize < 0:
		bad("BatchSize %d: want a positive number of documents (0 for %d)", s.batchSize, DefaultBatchSize)
	case s.batchSize == 0:
		s.batchSize = DefaultBatchSize
	}
	switch {
	case s.batchBytes < 0:
		bad("BatchBytes %d: want a positive number of bytes (0 for %d)", s.batchBytes, DefaultBatchBytes)
	case s.batchBytes == 0:
		s.batchBytes = DefaultBatchBytes
	}

	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("elasticsearch sink %s: %w", cfg.Name, err)
	}

	u := *base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/_bulk"
	u.RawPath = ""
	u.RawQuery = q.Encode()
	s.bulkURL = u.String()
	s.indexJSON = appendJSONString(nil, index)

	s.transport = http.DefaultTransport.(*http.Transport).Clone()
	s.transport.TLSClientConfig = tlsConf
	s.transport.ResponseHeaderTimeout = timeout
	s.client = &http.Client{
		Transport: s.transport,
		Timeout:   timeout,
		// _bulk is a POST: a redirect would lose the body (or resend it
		// somewhere unexpected); report it instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return s, nil
}

// parseURL checks raw and returns the base URL (without the index segment)
// and the index. bad reports problems.
func parseURL(raw, indexOpt string, bad func(string, ...any)) (base *url.URL, index string, https bool) {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		bad("URL is empty: want the cluster's base URL, http://host:9200")
		return nil, "", false
	case err != nil:
		bad("URL %q: %v", raw, err)
		return nil, "", false
	case u.Scheme != "http" && u.Scheme != "https":
		bad("URL %q: want an http or https URL", raw)
		return nil, "", false
	case u.Host == "":
		bad("URL %q: no host", raw)
		return nil, "", false
	case u.User != nil:
		bad("URL %q: give credentials as the username and password options, not in the URL", u.Redacted())
	case u.RawQuery != "" || u.Fragment != "":
		bad("URL %q: no query or fragment", u.Redacted())
	}
	u.User = nil
	u.RawQuery, u.Fragment = "", ""
	https = u.Scheme == "https"
	index = indexOpt
	if indexOpt == "" {
		// The URL's last path segment names the index.
		path := strings.TrimSuffix(u.Path, "/")
		i := strings.LastIndexByte(path, '/')
		if path == "" || i < 0 {
			bad("option index is missing: name the index with option index or as the URL's path (http://host:9200/products)")
			return u, "", https
		}
		index = path[i+1:]
		u.Path = path[:i]
		u.RawPath = ""
	}
	if err := checkIndex(index); err != nil {
		bad("option index: %v", err)
	}
	return u, index, https
}

// checkIndex applies Elasticsearch's rules for index names (and aliases).
func checkIndex(name string) error {
	switch {
	case name == "":
		return errors.New("empty index name")
	case name == "." || name == "..":
		return fmt.Errorf("index name %q is not allowed", name)
	case len(name) > 255:
		return fmt.Errorf("index name %q is longer than 255 bytes", name)
	case strings.ContainsAny(name[:1], "-_+"):
		return fmt.Errorf("index name %q must not start with '-', '_' or '+'", name)
	case strings.ContainsAny(name, `\/*?"<>| ,#:`):
		return fmt.Errorf(`index name %q must not contain \ / * ? " < > | space , # :`, name)
	case strings.ToLower(name) != name:
		return fmt.Errorf("index name %q must be lowercase", name)
	}
	return nil
}

// readCA reads a PEM file of CA certificates.
func readCA(path string) (*x509.CertPool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	const maxPEM = 4 << 20
	pem, err := io.ReadAll(io.LimitReader(f, maxPEM+1))
	if err != nil {
		return nil, err
	}
	if len(pem) > maxPEM {
		return nil, fmt.Errorf("%s is larger than %d bytes: not a CA file", path, maxPEM)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// Close releases the Sink's idle connections. A Deliver under way ends
// normally. Idempotent.
func (s *Sink) Close() error {
	if s.transport != nil {
		s.transport.CloseIdleConnections()
	}
	return nil
}
