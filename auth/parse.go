package auth

import (
	"net/url"
	"strings"
)

// parsedAuth is what a SigV4 Authorization header (or a presigned query)
// says.
type parsedAuth struct {
	akid, date, region, service string
	signedHeaders               []string // lowercase, as listed
	signature                   string   // hex
}

// parseAuthorization parses a SigV4 Authorization header:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>
//
// A header that is not one is an *Error with Code IncompleteSignature and
// the message AWS answers (recorded by dynalite: "Authorization header
// requires 'Credential' parameter. ...", "Credential must have exactly 5
// slash-delimited elements, ...").
func parseAuthorization(h string) (parsedAuth, *Error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != algorithm {
		return parsedAuth{}, authErr(IncompleteSignature, "Unsupported AWS 'algorithm': '"+alg+"'", "")
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "Credential":
			cred, haveCred = v, true
		case "SignedHeaders":
			signed, haveSigned = v, true
		case "Signature":
			sig, haveSig = v, true
		}
	}
	var missing string
	if !haveCred {
		missing += "Authorization header requires 'Credential' parameter. "
	}
	if !haveSig {
		missing += "Authorization header requires 'Signature' parameter. "
	}
	if !haveSigned {
		missing += "Authorization header requires 'SignedHeaders' parameter. "
	}
	if missing != "" {
		return parsedAuth{}, authErr(IncompleteSignature, missing+"Authorization="+h, "")
	}
	return parseParts(cred, signed, sig)
}

// parsePresigned reads the X-Amz-* query parameters of a presigned URL.
func parsePresigned(q url.Values) (parsedAuth, *Error) {
	if alg := q.Get("X-Amz-Algorithm"); alg != algorithm {
		return parsedAuth{}, authErr(IncompleteSignature, "Unsupported AWS 'algorithm': '"+alg+"'", "")
	}
	var missing []string
	for _, k := range []string{"X-Amz-Credential", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Date", "X-Amz-Expires"} {
		if q.Get(k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return parsedAuth{}, authErr(IncompleteSignature, "AWS query-string parameters must include "+strings.Join(missing, ", ")+". Re-examine the query-string parameters.", "")
	}
	return parseParts(q.Get("X-Amz-Credential"), q.Get("X-Amz-SignedHeaders"), q.Get("X-Amz-Signature"))
}

func parseParts(cred, signed, sig string) (parsedAuth, *Error) {
	p := strings.Split(cred, "/")
	if len(p) != 5 {
		return parsedAuth{}, authErr(IncompleteSignature, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '"+cred+"'", "")
	}
	a := parsedAuth{akid: p[0], date: p[1], region: p[2], service: p[3], signature: sig}
	switch {
	case a.region == "":
		return parsedAuth{}, authErr(IncompleteSignature, "Credential should be scoped to a valid region. ", a.akid)
	case a.service == "":
		return parsedAuth{}, authErr(IncompleteSignature, "Credential should be scoped to correct service. ", a.akid)
	case p[4] != scopeTerminator:
		return parsedAuth{}, authErr(IncompleteSignature, "Credential should be scoped with a valid terminator: 'aws4_request', not '"+p[4]+"'. ", a.akid)
	case len(a.date) != 8:
		return parsedAuth{}, authErr(IncompleteSignature, "Date must be in ISO-8601 'basic format'. Got '"+a.date+"'. See http://en.wikipedia.org/wiki/ISO_8601", a.akid)
	}
	for h := range strings.SplitSeq(signed, ";") {
		if h == "" || h != strings.ToLower(h) {
			return parsedAuth{}, authErr(IncompleteSignature, "Signed headers must be lowercase and separated by ';', got '"+signed+"'", a.akid)
		}
		a.signedHeaders = append(a.signedHeaders, h)
	}
	return a, nil
}
