package lambdaapi

import (
	"net/http"
	"strings"

	"github.com/eddydb/eddy/iam"
	"github.com/eddydb/eddy/internal/arn"
)

// Policies is where the handler finds a principal's IAM policies
// (iam/policies.Store); enforced is false while none is stored at all.
type Policies interface {
	For(principal string) (policies []iam.Named, enforced bool)
}

// WithPolicies authorizes every request with the IAM policies of its
// principal: principal maps the access key ID of the request's SigV4
// credential scope to a principal ARN ("" is anonymous, allowed). Without
// it, every request is allowed.
func WithPolicies(p Policies, principal func(accessKeyID string) string) Option {
	return func(h *handler) { h.policies, h.principalOf = p, principal }
}

// WithDenied has denied hear of every request the policies refused (the
// server counts them and logs them once per principal and minute).
func WithDenied(denied func(principal, action, resource string)) Option {
	return func(h *handler) { h.denied = denied }
}

// lambdaActions names the IAM action of each route (the Service
// Authorization Reference, "Actions defined by AWS Lambda").
var lambdaActions = map[string]string{
	"POST " + prefix:                                  "CreateFunction",
	"GET " + prefix:                                   "ListFunctions",
	"GET " + prefix + "/{$}":                          "ListFunctions",
	"GET " + prefix + "/{name}":                       "GetFunction",
	"DELETE " + prefix + "/{name}":                    "DeleteFunction",
	"GET " + prefix + "/{name}/configuration":         "GetFunctionConfiguration",
	"PUT " + prefix + "/{name}/configuration":         "UpdateFunctionConfiguration",
	"PUT " + prefix + "/{name}/code":                  "UpdateFunctionCode",
	"POST " + prefix + "/{name}/versions":             "PublishVersion",
	"GET " + prefix + "/{name}/versions":              "ListVersionsByFunction",
	"POST " + prefix + "/{name}/aliases":              "CreateAlias",
	"GET " + prefix + "/{name}/aliases":               "ListAliases",
	"GET " + prefix + "/{name}/aliases/{alias}":       "GetAlias",
	"PUT " + prefix + "/{name}/aliases/{alias}":       "UpdateAlias",
	"DELETE " + prefix + "/{name}/aliases/{alias}":    "DeleteAlias",
	"POST " + prefix + "/{name}/invocations":          "InvokeFunction",
	"PUT /2017-10-31/functions/{name}/concurrency":    "PutFunctionConcurrency",
	"DELETE /2017-10-31/functions/{name}/concurrency": "DeleteFunctionConcurrency",
	"GET /2019-09-30/functions/{name}/concurrency":    "GetFunctionConcurrency",
	"POST " + esmPrefix + "/{$}":                      "CreateEventSourceMapping",
	"POST " + esmPrefix:                               "CreateEventSourceMapping",
	"GET " + esmPrefix + "/{$}":                       "ListEventSourceMappings",
	"GET " + esmPrefix:                                "ListEventSourceMappings",
	"GET " + esmPrefix + "/{uuid}":                    "GetEventSourceMapping",
	"PUT " + esmPrefix + "/{uuid}":                    "UpdateEventSourceMapping",
	"DELETE " + esmPrefix + "/{uuid}":                 "DeleteEventSourceMapping",
	"GET " + esmPrefix + "/{uuid}/shards":             "GetEventSourceMapping",
	"GET " + esmPrefix + "/{uuid}/failures":           "GetEventSourceMapping",
}

// authorize answers whether the request may run: nil, or Lambda's
// AccessDeniedException (403).
func (h *handler) authorize(r *http.Request, accessKeyID, region string) error {
	if h.policies == nil || h.principalOf == nil || accessKeyID == "" {
		return nil
	}
	principal := h.principalOf(accessKeyID)
	if principal == "" {
		return nil
	}
	pols, enforced := h.policies.For(principal)
	if !enforced {
		return nil
	}
	_, pattern := h.mux.Handler(r)
	op, ok := lambdaActions[pattern]
	if !ok {
		return nil // an unknown route: answered UnknownOperationException
	}
	action := "lambda:" + op
	acct := arn.Account{Region: region, ID: h.host.Options().Account}
	resource := "*"
	rest := r.URL.Path
	for _, p := range []string{prefix + "/", "/2017-10-31/functions/", "/2019-09-30/functions/"} {
		if name, ok := strings.CutPrefix(rest, p); ok {
			name, _, _ = strings.Cut(name, "/")
			if strings.HasPrefix(name, "arn:") {
				resource = name
			} else if name != "" {
				resource = acct.Function(name, "")
			}
		}
	}
	if uuid, ok := strings.CutPrefix(rest, esmPrefix+"/"); ok {
		if uuid, _, _ = strings.Cut(uuid, "/"); uuid != "" {
			resource = acct.Mapping(uuid)
		}
	}
	ctx := iam.Context{}
	iam.PrincipalKeys(ctx, principal)
	d := iam.Evaluate(pols, &iam.Request{Principal: principal, Action: action, Resource: resource, Context: ctx})
	if d.Allowed {
		return nil
	}
	if h.denied != nil {
		h.denied(principal, action, resource)
	}
	why := "because no identity-based policy allows the " + action + " action"
	if d.ExplicitDeny {
		why = "with an explicit deny in an identity-based policy"
	}
	return &apiError{http.StatusForbidden, "AccessDeniedException", true,
		"User: " + principal + " is not authorized to perform: " + action + " on resource: " + resource + " " + why}
}
