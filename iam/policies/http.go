package policies

import (
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/eddydb/eddy/iam"
	"github.com/eddydb/eddy/internal/arn"
)

// The admin API, JSON in and out, principals and names in the query:
//
//	PUT    /eddy/policies?principal=ARN&name=N   body: the policy document → {PrincipalArn, PolicyName}
//	GET    /eddy/policies?principal=ARN&name=N   → the policy document
//	GET    /eddy/policies[?principal=ARN]        → {"Policies":[{PrincipalArn, PolicyName}]}
//	DELETE /eddy/policies?principal=ARN&name=N   → {}
//	POST   /eddy/policies/simulate               body: SimulateInput → SimulateOutput
//
// Errors: {"__type": "MalformedPolicyDocument"|"NoSuchEntity"|"InvalidInput", "Message": ...}
// with 400 or 404, as IAM names them.
const (
	Prefix   = "/eddy/policies"
	maxBody  = 64 << 10
	typeMalf = "MalformedPolicyDocument"
)

// SimulateInput is the simulator's question: would Principal be allowed
// Action on Resource, with these condition keys?
type SimulateInput struct {
	PrincipalArn string
	Action       string
	Resource     string
	Context      map[string][]string
}

// SimulateOutput is its answer, shaped like IAM's SimulatePrincipalPolicy
// EvalDecision: "allowed", "explicitDeny" or "implicitDeny", and the
// statement that decided.
type SimulateOutput struct {
	EvalDecision      string
	MatchedStatements []MatchedStatement
	// Enforced is false while no policy is stored at all (open mode: every
	// request is allowed, whatever EvalDecision says).
	Enforced bool
}

// MatchedStatement names a statement: the policy, its index, its Sid.
type MatchedStatement struct {
	SourcePolicyId string
	StatementIndex int
	Sid            string `json:",omitempty"`
}

// Simulate answers in for the stored policies. aws:PrincipalArn and,
// for a user, aws:username are set from the principal unless given.
func (s *Store) Simulate(in SimulateInput) SimulateOutput {
	ctx := iam.Context{}
	for k, v := range in.Context {
		ctx.Set(k, v...)
	}
	iam.PrincipalKeys(ctx, in.PrincipalArn)
	pols, enforced := s.For(in.PrincipalArn)
	d := iam.Evaluate(pols, &iam.Request{Principal: in.PrincipalArn, Action: in.Action, Resource: in.Resource, Context: ctx})
	out := SimulateOutput{EvalDecision: "implicitDeny", Enforced: enforced}
	switch {
	case d.Allowed:
		out.EvalDecision = "allowed"
	case d.ExplicitDeny:
		out.EvalDecision = "explicitDeny"
	}
	if d.Allowed || d.ExplicitDeny {
		out.MatchedStatements = []MatchedStatement{{SourcePolicyId: d.Policy, StatementIndex: d.Statement, Sid: d.Sid}}
	}
	return out
}

// iamAction is the IAM action of an operation on the policies of target:
// verb "Put" on a user is iam:PutUserPolicy, on a role iam:PutRolePolicy.
func iamAction(verb, target string) string {
	if strings.Contains(target, ":role/") {
		return "iam:" + verb + "RolePolicy"
	}
	return "iam:" + verb + "UserPolicy"
}

// authorized reports whether the request's principal may perform action
// on resource, answering IAM's AccessDenied (403) when not. principalOf
// maps the access key ID of the request's SigV4 credential scope to its
// principal; an anonymous request, and any while no policy is stored, is
// allowed, as on the DynamoDB API.
func (s *Store) authorized(w http.ResponseWriter, r *http.Request, principalOf func(string) string, action, resource string) bool {
	if principalOf == nil {
		return true
	}
	scope, err := arn.ParseScope(r)
	if err != nil || scope.AccessKeyID == "" {
		return err == nil
	}
	principal := principalOf(scope.AccessKeyID)
	if principal == "" {
		return true
	}
	pols, enforced := s.For(principal)
	if !enforced {
		return true
	}
	ctx := iam.Context{}
	iam.PrincipalKeys(ctx, principal)
	d := iam.Evaluate(pols, &iam.Request{Principal: principal, Action: action, Resource: resource, Context: ctx})
	if d.Allowed {
		return true
	}
	why := "because no identity-based policy allows the " + action + " action"
	if d.ExplicitDeny {
		why = "with an explicit deny in an identity-based policy"
	}
	writeErr(w, http.StatusForbidden, "AccessDenied", "User: "+principal+" is not authorized to perform: "+action+" on resource: "+resource+" "+why)
	return false
}

// Handler serves the admin API over s. principalOf, when set, maps a
// signed request's access key ID to its principal, whose policies must
// allow the iam: action (iam:PutUserPolicy, iam:GetRolePolicy,
// iam:ListUserPolicies, iam:DeleteUserPolicy, iam:SimulatePrincipalPolicy,
// ...) on the target principal's ARN ("*" to list every principal's).
func Handler(s *Store, principalOf func(accessKeyID string) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		principal, name := q.Get("principal"), q.Get("name")
		var action, resource string
		switch r.Method {
		case http.MethodPut:
			action, resource = iamAction("Put", principal), principal
		case http.MethodDelete:
			action, resource = iamAction("Delete", principal), principal
		case http.MethodGet:
			action, resource = iamAction("Get", principal), principal
			if name == "" {
				action, resource = iamAction("List", principal), cmp.Or(principal, "*")
				if principal == "" {
					action = "iam:ListUserPolicies"
				}
			}
		}
		if action != "" && r.URL.Path == Prefix && !s.authorized(w, r, principalOf, action, resource) {
			return
		}
		switch {
		case r.URL.Path == Prefix+"/simulate" && r.Method == http.MethodPost:
			var in SimulateInput
			body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
			if err != nil || json.Unmarshal(body, &in) != nil || in.PrincipalArn == "" || in.Action == "" || in.Resource == "" {
				writeErr(w, 400, "InvalidInput", "simulate needs a JSON body with PrincipalArn, Action and Resource")
				return
			}
			if !s.authorized(w, r, principalOf, "iam:SimulatePrincipalPolicy", in.PrincipalArn) {
				return
			}
			writeJSON(w, 200, s.Simulate(in))
		case r.URL.Path != Prefix:
			writeErr(w, 404, "NotFound", "no such route")
		case r.Method == http.MethodGet && name == "":
			writeJSON(w, 200, map[string]any{"Policies": s.List(principal)})
		case r.Method == http.MethodGet:
			doc, err := s.Get(principal, name)
			if err != nil {
				writeErr(w, 404, "NoSuchEntity", "The policy "+name+" of "+principal+" cannot be found.")
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(doc)
		case r.Method == http.MethodPut:
			doc, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
			if err != nil || len(doc) > maxBody {
				writeErr(w, 400, "InvalidInput", "policy document too large")
				return
			}
			err = s.Put(principal, name, doc)
			var me *iam.MalformedError
			var le *iam.LimitError
			var ie *InputError
			switch {
			case errors.As(err, &me):
				writeErr(w, 400, typeMalf, me.Message)
			case errors.As(err, &le):
				writeErr(w, 409, "LimitExceeded", le.Message)
			case errors.As(err, &ie):
				writeErr(w, 400, "InvalidInput", ie.Message)
			case err != nil:
				writeErr(w, 500, "ServiceFailure", err.Error())
			default:
				writeJSON(w, 200, Attached{principal, name})
			}
		case r.Method == http.MethodDelete:
			err := s.Delete(principal, name)
			switch {
			case errors.Is(err, ErrNotFound):
				writeErr(w, 404, "NoSuchEntity", "The policy "+name+" of "+principal+" cannot be found.")
			case err != nil:
				writeErr(w, 500, "ServiceFailure", err.Error())
			default:
				writeJSON(w, 200, struct{}{})
			}
		default:
			writeErr(w, 405, "MethodNotAllowed", r.Method+" is not supported on "+Prefix)
		}
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeErr(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, map[string]string{"__type": typ, "Message": msg})
}
