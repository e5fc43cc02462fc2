// Package sinks is where emitted documents leave eddy: the kinds of
// outbox.Target and the --sink flag's shorthand for them.
//
//	kind           package              target
//	search         sinks/search         an embedded full-text index (bleve) under the data directory
//	elasticsearch  sinks/elasticsearch  Elasticsearch or OpenSearch through _bulk, external versions
//	nats           sinks/natssink       a JetStream stream (deduplicated by Nats-Msg-Id) or core NATS subjects
//	file           sinks/file           append-only JSON lines, rotated by size, exactly once by position
//	http           sinks/webhook        one request per document, ID and version in headers
//
// Open makes the Target of a Config; package outbox delivers to it.
package sinks

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/eddydb/eddy/outbox"
	"github.com/eddydb/eddy/sinks/elasticsearch"
	"github.com/eddydb/eddy/sinks/file"
	"github.com/eddydb/eddy/sinks/natssink"
	"github.com/eddydb/eddy/sinks/search"
	"github.com/eddydb/eddy/sinks/webhook"
)

// kinds are the sink kinds by name.
var kinds = map[string]outbox.Opener{
	"elasticsearch": opener(elasticsearch.New),
	"file":          opener(file.New),
	"http":          opener(webhook.New),
	"nats":          opener(natssink.New),
	"search":        opener(search.New),
}

// opener adapts a kind's constructor to an outbox.Opener, returning a nil
// interface (not a nil pointer in one) on error.
func opener[T outbox.Target](newTarget func(outbox.Config, outbox.Env) (T, error)) outbox.Opener {
	return func(c outbox.Config, e outbox.Env) (outbox.Target, error) {
		t, err := newTarget(c, e)
		if err != nil {
			return nil, err
		}
		return t, nil
	}
}

// Kinds returns the names of the sink kinds, sorted.
func Kinds() []string {
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Open is the outbox.Opener of every kind.
func Open(cfg outbox.Config, env outbox.Env) (outbox.Target, error) {
	open, ok := kinds[cfg.Kind]
	if !ok {
		return nil, fmt.Errorf("sink %s: unknown kind %q (one of %s)", cfg.Name, cfg.Kind, strings.Join(Kinds(), ", "))
	}
	return open(cfg, env)
}

// ParseFlag turns eddy serve's --sink NAME=TARGET into a Config:
//
//	NAME=search                                  the embedded index
//	NAME=http://host/path, NAME=https://...      a webhook
//	NAME=elasticsearch+http://host:9200/INDEX    Elasticsearch/OpenSearch (also es+https://, opensearch+https://)
//	NAME=nats://host:4222/SUBJECT[?stream=S]     NATS: JetStream stream S (created if missing), else core NATS
//	NAME=file:///var/log/eddy/audit.jsonl        a file (file:relative/path too)
//
// The URL's query parameters become the kind's options (e.g.
// ?username=u&password=p, ?max_bytes=1048576); the webhook keeps its query
// as part of its URL.
func ParseFlag(spec string) (outbox.Config, error) {
	name, raw, ok := strings.Cut(spec, "=")
	if !ok || name == "" || raw == "" {
		return outbox.Config{}, fmt.Errorf("--sink %q: want NAME=TARGET (search, http(s)://..., elasticsearch+http://host:9200/index, nats://host:4222/subject, file:///path)", spec)
	}
	cfg := outbox.Config{Name: name, FromFlag: true}
	if raw == "search" || raw == "search:" {
		cfg.Kind = "search"
		return cfg, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return cfg, fmt.Errorf("--sink %s: %v", name, err)
	}
	options := func() map[string]string {
		q := u.Query()
		if len(q) == 0 {
			return nil
		}
		m := map[string]string{}
		for k, v := range q {
			m[k] = v[len(v)-1]
		}
		u.RawQuery = ""
		return m
	}
	switch scheme := u.Scheme; {
	case scheme == "http" || scheme == "https":
		cfg.Kind, cfg.URL = "http", raw
	case strings.HasSuffix(scheme, "+http") || strings.HasSuffix(scheme, "+https"):
		kind, proto, _ := strings.Cut(scheme, "+")
		if kind != "elasticsearch" && kind != "es" && kind != "opensearch" {
			return cfg, fmt.Errorf("--sink %s: unknown scheme %q (elasticsearch+http, es+https, opensearch+https)", name, scheme)
		}
		cfg.Kind = "elasticsearch"
		cfg.Options = options()
		index := strings.Trim(u.Path, "/")
		if index == "" || strings.Contains(index, "/") {
			return cfg, fmt.Errorf("--sink %s: name the index as the URL's path: %s://host:9200/INDEX", name, scheme)
		}
		if cfg.Options == nil {
			cfg.Options = map[string]string{}
		}
		cfg.Options["index"] = index
		u.Scheme, u.Path = proto, ""
		cfg.URL = u.String()
	case scheme == "nats" || scheme == "tls":
		cfg.Kind = "nats"
		cfg.Options = options()
		subject := strings.Trim(u.Path, "/")
		if subject != "" {
			if cfg.Options == nil {
				cfg.Options = map[string]string{}
			}
			cfg.Options["subject"] = subject
		}
		u.Path = ""
		cfg.URL = u.String()
	case scheme == "file":
		cfg.Kind = "file"
		cfg.Options = options()
		p := u.Path
		if u.Opaque != "" {
			p = u.Opaque
		}
		if p == "" {
			return cfg, fmt.Errorf("--sink %s: file:///absolute/path or file:relative/path", name)
		}
		cfg.URL = p
	default:
		return cfg, fmt.Errorf("--sink %s: unsupported target %q (search, http(s)://, elasticsearch+http(s)://, nats://, file:)", name, raw)
	}
	return cfg, nil
}
