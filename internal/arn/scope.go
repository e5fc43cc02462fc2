package arn

import (
	"errors"
	"net/http"
	"strings"
)

// Scope is what a request's SigV4 credential scope says
// ("Credential=AKID/20240101/us-east-2/dynamodb/aws4_request"): who signed
// it and for which region. Package auth verifies the signature; the region
// picks the namespace the request acts in, as DynamoDB's regional
// endpoints do.
type Scope struct {
	AccessKeyID string
	Region      string // empty for an unsigned request: the server's default
}

// ErrIncompleteSignature is the kind of ParseScope's errors: the request
// carries a SigV4 signature that does not name a credential scope.
// DynamoDB answers these with IncompleteSignatureException.
var ErrIncompleteSignature = errors.New("incomplete signature")

type scopeError struct{ msg string }

func (e *scopeError) Error() string      { return e.msg }
func (e *scopeError) Unwrap() error      { return ErrIncompleteSignature }
func scopeErrorf(msg string) *scopeError { return &scopeError{msg} }

// ParseScope reads the credential scope of r: from the Authorization
// header, else from the X-Amz-Credential query parameter of a presigned
// request. A request with neither is unsigned (zero Scope, nil error). A
// header or parameter that names no well-formed scope is an error wrapping
// ErrIncompleteSignature whose text is what AWS says (recorded answers:
// "Authorization header requires 'Credential' parameter. ...", "Credential
// must have exactly 5 slash-delimited elements, e.g. keyid/date/region/
// service/term, got '...'").
func ParseScope(r *http.Request) (Scope, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		cred, ok := authParam(h, "Credential")
		if !ok {
			return Scope{}, scopeErrorf("Authorization header requires 'Credential' parameter. Authorization=" + h)
		}
		return parseCredential(cred)
	}
	if cred := r.URL.Query().Get("X-Amz-Credential"); cred != "" {
		return parseCredential(cred)
	}
	return Scope{}, nil
}

// authParam finds name=value among the comma-separated parameters after
// the algorithm ("AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...").
func authParam(h, name string) (string, bool) {
	if i := strings.IndexByte(h, ' '); i >= 0 {
		h = h[i+1:]
	}
	for _, p := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && k == name {
			return v, true
		}
	}
	return "", false
}

func parseCredential(c string) (Scope, error) {
	p := strings.Split(c, "/")
	if len(p) != 5 {
		return Scope{}, scopeErrorf("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" + c + "'")
	}
	if p[2] == "" {
		return Scope{}, scopeErrorf("Credential should be scoped to a valid region. ")
	}
	return Scope{AccessKeyID: p[0], Region: p[2]}, nil
}
