// Package iam parses IAM identity-based policy documents and evaluates
// requests against them, as AWS's policy evaluation logic does for the
// policies of one principal in one account:
//
//  1. every statement whose Action/NotAction, Resource/NotResource and
//     Condition all match the request is collected;
//  2. a matching Deny decides: explicitly denied;
//  3. otherwise a matching Allow decides: allowed;
//  4. otherwise the request is implicitly denied (default deny).
//
// A Policy is immutable once parsed and safe for concurrent use. Parse
// returns a *MalformedError with IAM's MalformedPolicyDocument messages
// (moto's iam/policy_validation.py recorded them from IAM) for documents
// IAM refuses.
//
// Condition operators: StringEquals, StringNotEquals, StringEqualsIgnoreCase,
// StringNotEqualsIgnoreCase, StringLike, StringNotLike, NumericEquals,
// NumericNotEquals, NumericLessThan[Equals], NumericGreaterThan[Equals], DateEquals,
// DateNotEquals, DateLessThan[Equals], DateGreaterThan[Equals], Bool,
// BinaryEquals, IpAddress, NotIpAddress, ArnEquals, ArnLike, ArnNotEquals,
// ArnNotLike and Null, each with the ForAllValues:/ForAnyValue: set
// qualifiers and the IfExists suffix. A key missing from the request makes
// a positive operator false and a negated one (StringNotEquals, ...) true,
// IfExists makes it true, ForAllValues over no values is true and
// ForAnyValue false (the IAM User Guide, "Condition operators" and
// "Multivalued context keys").
//
// Policy variables ${aws:username}, ${aws:PrincipalArn} (any key of the
// request's context) are substituted in Resource and condition values; a
// variable the request has no value for makes that entry match nothing.
// ${*}, ${?} and ${$} stand for the literal characters.
//
// The package is pure: no I/O, no eddy imports. Storage, the admin API and
// enforcement live in iam/policies and api.
package iam
