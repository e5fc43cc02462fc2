package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The SigV4 constants (AWS IAM user guide, "Elements of an AWS API request
// signature").
const (
	algorithm       = "AWS4-HMAC-SHA256"
	amzDateFormat   = "20060102T150405Z"
	scopeTerminator = "aws4_request"
	// UnsignedPayload is X-Amz-Content-Sha256's value for a body left out
	// of the signature.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// DefaultMaxSkew is how far a request's X-Amz-Date may be from the
	// server's clock: AWS's 15 minutes.
	DefaultMaxSkew = 15 * time.Minute
	// maxPresignExpires is the longest X-Amz-Expires AWS accepts: 7 days.
	maxPresignExpires = 7 * 24 * 3600
)

// Options configure a Verifier.
type Options struct {
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// MaxSkew is the largest difference allowed between a request's date
	// and Now. Default DefaultMaxSkew (15 minutes).
	MaxSkew time.Duration
}

// Verifier checks SigV4 signatures against a set of Keys. It is safe for
// concurrent use; SetKeys swaps the keys (a reloaded credentials file)
// without stopping requests.
type Verifier struct {
	keys    atomic.Pointer[Keys]
	now     func() time.Time
	maxSkew time.Duration

	// signing keys by (key, secret, date, region, service): deriving one
	// takes four HMACs, so each is computed once a day per scope.
	mu    sync.RWMutex
	cache map[cacheKey][]byte
}

type cacheKey struct{ akid, secret, date, region, service string }

// maxCached bounds the signing-key cache; past it the cache starts over.
const maxCached = 4096

// NewVerifier returns a Verifier of keys.
func NewVerifier(keys *Keys, opts Options) *Verifier {
	v := &Verifier{now: opts.Now, maxSkew: opts.MaxSkew, cache: map[cacheKey][]byte{}}
	if v.now == nil {
		v.now = time.Now
	}
	if v.maxSkew <= 0 {
		v.maxSkew = DefaultMaxSkew
	}
	v.keys.Store(keys)
	return v
}

// SetKeys replaces the keys the verifier accepts.
func (v *Verifier) SetKeys(k *Keys) { v.keys.Store(k) }

// Keys returns the keys the verifier accepts.
func (v *Verifier) Keys() *Keys { return v.keys.Load() }

// Signed reports whether r carries a signature (an Authorization header or
// a presigned X-Amz-Credential), which Verify then checks.
func Signed(r *http.Request) bool {
	return r.Header.Get("Authorization") != "" || strings.Contains(r.URL.RawQuery, "X-Amz-Credential=")
}

// NeedsBody reports whether verifying r needs its body: false when the
// payload is unsigned (X-Amz-Content-Sha256: UNSIGNED-PAYLOAD).
func NeedsBody(r *http.Request) bool {
	return r.Header.Get("X-Amz-Content-Sha256") != UnsignedPayload
}

// Verify authenticates r, whose body (as sent, before any
// Content-Encoding is undone) is body, and returns who signed it. The
// error, if any, is an *Error.
func (v *Verifier) Verify(r *http.Request, body []byte) (Identity, error) {
	return v.verify(r, body, false)
}

// Precheck runs every check of Verify that does not need the body (the
// signature's form, the key, the session token and its expiry, the date),
// so that a server reads the body of a request only when it may be
// authentic: an unknown key or a stale date costs no buffering. The error,
// if any, is Verify's.
func (v *Verifier) Precheck(r *http.Request) error {
	_, err := v.verify(r, nil, true)
	return err
}

func (v *Verifier) verify(r *http.Request, body []byte, precheck bool) (Identity, error) {
	var (
		p         parsedAuth
		err       *Error
		presigned bool
		query     url.Values
	)
	if h := r.Header.Get("Authorization"); h != "" {
		p, err = parseAuthorization(h)
	} else if strings.Contains(r.URL.RawQuery, "X-Amz-Credential=") {
		presigned = true
		query, _ = url.ParseQuery(r.URL.RawQuery)
		p, err = parsePresigned(query)
	} else {
		return Identity{}, authErr(MissingAuthenticationToken, msgMissingToken, "")
	}
	if err != nil {
		return Identity{}, err
	}
	cred, ok := v.keys.Load().Lookup(p.akid)
	if !ok {
		return Identity{}, authErr(UnrecognizedClient, msgUnrecognizedClient, p.akid)
	}
	token := r.Header.Get("X-Amz-Security-Token")
	if presigned {
		token = query.Get("X-Amz-Security-Token")
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(cred.SessionToken)) != 1 {
		return Identity{}, authErr(UnrecognizedClient, msgUnrecognizedClient, p.akid)
	}
	now := v.now().UTC()
	if !cred.Expires.IsZero() && !now.Before(cred.Expires) {
		return Identity{}, authErr(ExpiredToken, msgExpiredToken, p.akid)
	}

	// The request's date: X-Amz-Date, else the Date header.
	var dateStr string
	if presigned {
		dateStr = query.Get("X-Amz-Date")
	} else if dateStr = r.Header.Get("X-Amz-Date"); dateStr == "" {
		dateStr = r.Header.Get("Date")
	}
	t, perr := parseDate(dateStr)
	if perr != nil {
		return Identity{}, authErr(IncompleteSignature, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization="+r.Header.Get("Authorization"), p.akid)
	}
	if d := t.Format("20060102"); d != p.date {
		return Identity{}, authErr(InvalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"+p.date+"' != '"+d+"', from '"+dateStr+"'.", p.akid)
	}
	if presigned {
		exp, e := strconv.Atoi(query.Get("X-Amz-Expires"))
		if e != nil || exp < 0 || exp > maxPresignExpires {
			return Identity{}, authErr(IncompleteSignature, "X-Amz-Expires must be a number of seconds from 0 to 604800", p.akid)
		}
		if now.After(t.Add(time.Duration(exp) * time.Second)) {
			// S3's wording is "Request has expired"; the JSON services
			// answer a stale presigned request as a stale signature.
			return Identity{}, authErr(InvalidSignature, "Signature expired: "+t.Format(amzDateFormat)+" is now earlier than "+now.Add(-time.Duration(exp)*time.Second).Format(amzDateFormat)+" ("+now.Format(amzDateFormat)+" - "+strconv.Itoa(exp)+" sec.)", p.akid)
		}
		if t.After(now.Add(v.maxSkew)) {
			return Identity{}, skewErr(t, now, v.maxSkew, p.akid)
		}
	} else if t.Before(now.Add(-v.maxSkew)) || t.After(now.Add(v.maxSkew)) {
		return Identity{}, skewErr(t, now, v.maxSkew, p.akid)
	}

	payload := r.Header.Get("X-Amz-Content-Sha256")
	if precheck {
		if strings.HasPrefix(payload, "STREAMING-") {
			return Identity{}, authErr(InvalidSignature, "eddy does not accept streaming (aws-chunked) payloads: x-amz-content-sha256 "+payload, p.akid)
		}
		return Identity{}, nil
	}
	switch {
	case payload == "":
		payload = hashHex(body)
	case payload == UnsignedPayload:
	case strings.HasPrefix(payload, "STREAMING-"):
		return Identity{}, authErr(InvalidSignature, "eddy does not accept streaming (aws-chunked) payloads: x-amz-content-sha256 "+payload, p.akid)
	default:
		// The header names the body's hash; a body that does not match it
		// is a body changed on the way.
		if h := hashHex(body); subtle.ConstantTimeCompare([]byte(h), []byte(strings.ToLower(payload))) != 1 {
			return Identity{}, authErr(InvalidSignature, msgInvalidSignature, p.akid)
		}
	}

	canonical := canonicalRequest(r, p.signedHeaders, payload, presigned)
	sts := make([]byte, 0, 160)
	sts = append(sts, algorithm+"\n"...)
	sts = append(sts, dateStr...)
	sts = append(sts, '\n')
	sts = append(sts, p.date...)
	sts = append(sts, '/')
	sts = append(sts, p.region...)
	sts = append(sts, '/')
	sts = append(sts, p.service...)
	sts = append(sts, "/"+scopeTerminator+"\n"...)
	ch := sha256.Sum256(canonical)
	sts = hex.AppendEncode(sts, ch[:])

	mac := hmac.New(sha256.New, v.signingKey(cred, p))
	mac.Write(sts)
	var got [sha256.Size]byte
	want := mac.Sum(got[:0])
	var sig [sha256.Size]byte
	if n, e := hex.Decode(sig[:], []byte(p.signature)); e != nil || n != len(sig) || !hmac.Equal(sig[:], want) {
		return Identity{}, authErr(InvalidSignature, msgInvalidSignature, p.akid)
	}
	return Identity{AccessKeyID: cred.AccessKeyID, UserName: cred.UserName, ARN: cred.ARN}, nil
}

func skewErr(t, now time.Time, skew time.Duration, akid string) *Error {
	m := strconv.Itoa(int(skew / time.Minute))
	if t.Before(now) {
		return authErr(InvalidSignature, "Signature expired: "+t.Format(amzDateFormat)+" is now earlier than "+
			now.Add(-skew).Format(amzDateFormat)+" ("+now.Format(amzDateFormat)+" - "+m+" min.)", akid)
	}
	return authErr(InvalidSignature, "Signature not yet current: "+t.Format(amzDateFormat)+" is still later than "+
		now.Add(skew).Format(amzDateFormat)+" ("+now.Format(amzDateFormat)+" + "+m+" min.)", akid)
}

func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(amzDateFormat, s); err == nil {
		return t, nil
	}
	return http.ParseTime(s)
}

func hashHex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// signingKey is HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region),
// service), "aws4_request"), cached.
func (v *Verifier) signingKey(c Credential, p parsedAuth) []byte {
	k := cacheKey{c.AccessKeyID, c.SecretAccessKey, p.date, p.region, p.service}
	v.mu.RLock()
	key, ok := v.cache[k]
	v.mu.RUnlock()
	if ok {
		return key
	}
	key = hmacSHA256([]byte("AWS4"+c.SecretAccessKey), p.date)
	key = hmacSHA256(key, p.region)
	key = hmacSHA256(key, p.service)
	key = hmacSHA256(key, scopeTerminator)
	v.mu.Lock()
	if len(v.cache) >= maxCached {
		clear(v.cache)
	}
	v.cache[k] = key
	v.mu.Unlock()
	return key
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// canonicalRequest is SigV4's canonical request of r:
//
//	METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n PayloadHash
//
// The URI is the path as sent, URI-encoded once more (every service but
// S3); the query's names and values are URI-encoded and sorted after
// encoding (without X-Amz-Signature when presigned); each signed header is
// its lowercase name, ':', and its values with runs of spaces collapsed and
// ends trimmed, joined by ','.
func canonicalRequest(r *http.Request, signed []string, payload string, presigned bool) []byte {
	b := make([]byte, 0, 512)
	b = append(b, r.Method...)
	b = append(b, '\n')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b = appendEscaped(b, path, false)
	b = append(b, '\n')
	b = appendCanonicalQuery(b, r.URL.RawQuery, presigned)
	b = append(b, '\n')
	for _, h := range signed {
		b = append(b, h...)
		b = append(b, ':')
		switch h {
		case "host":
			b = append(b, stripSpaces(r.Host)...)
		default:
			vals := r.Header.Values(h)
			if len(vals) == 0 && h == "content-length" && r.ContentLength >= 0 {
				vals = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
			for i, v := range vals {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, stripSpaces(v)...)
			}
		}
		b = append(b, '\n')
	}
	b = append(b, '\n')
	for i, h := range signed {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, h...)
	}
	b = append(b, '\n')
	return append(b, payload...)
}

// stripSpaces trims s and collapses each run of spaces to one.
func stripSpaces(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "  ") {
		return s
	}
	var sb strings.Builder
	space := false
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

// appendEscaped URI-encodes s: every byte but A-Z a-z 0-9 - _ . ~ (and
// '/' unless encodeSep) as %XX with uppercase hex.
func appendEscaped(b []byte, s string, encodeSep bool) []byte {
	const hexUpper = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (c == '/' && !encodeSep) {
			b = append(b, c)
		} else {
			b = append(b, '%', hexUpper[c>>4], hexUpper[c&15])
		}
	}
	return b
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

// appendCanonicalQuery appends the canonical form of a raw query: each
// name=value decoded, re-encoded strictly, sorted by name then value.
func appendCanonicalQuery(b []byte, raw string, presigned bool) []byte {
	if raw == "" {
		return b
	}
	type param struct{ k, v string }
	var params []param
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			dk, dv = k, v // left as sent: the signature will not match
		}
		if presigned && dk == "X-Amz-Signature" {
			continue
		}
		params = append(params, param{string(appendEscaped(nil, dk, true)), string(appendEscaped(nil, dv, true))})
	}
	sort.Slice(params, func(i, j int) bool {
		if params[i].k != params[j].k {
			return params[i].k < params[j].k
		}
		return params[i].v < params[j].v
	})
	for i, p := range params {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, p.k...)
		b = append(b, '=')
		b = append(b, p.v...)
	}
	return b
}
