package auth

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// Identity is who sent a request: what authorization decides on and what
// change records and admin actions name.
//
// A request to a server without credentials (eddy running open, on
// loopback) has Anonymous set and the access key ID its signature claims,
// unverified, if any.
type Identity struct {
	AccessKeyID string
	UserName    string
	ARN         string // arn:aws:iam::<account>:user/<name>
	Anonymous   bool
}

type identityKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the identity WithIdentity put in ctx, and whether
// there was one (in-process calls that never crossed HTTP have none).
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// Anonymous is the identity of r when eddy runs open: nothing verified,
// and the access key ID its signature claims, if any.
func Anonymous(r *http.Request) Identity {
	akid := ""
	if h := r.Header.Get("Authorization"); h != "" {
		if _, cred, ok := strings.Cut(h, "Credential="); ok {
			akid, _, _ = strings.Cut(cred, "/")
		}
	} else if i := strings.Index(r.URL.RawQuery, "X-Amz-Credential="); i >= 0 {
		cred := r.URL.RawQuery[i+len("X-Amz-Credential="):]
		cred, _, _ = strings.Cut(cred, "&")
		if c, err := url.QueryUnescape(cred); err == nil {
			akid, _, _ = strings.Cut(c, "/")
		}
	}
	return Identity{AccessKeyID: akid, Anonymous: true}
}
