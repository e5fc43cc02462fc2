package arn

import (
	"context"
	"strings"
)

// RegionOf returns the region field of an ARN
// ("arn:aws:dynamodb:us-east-2:..." → "us-east-2"), or "" when s is no ARN.
func RegionOf(s string) string {
	f := strings.SplitN(s, ":", 5)
	if len(f) < 5 || f[0] != "arn" {
		return ""
	}
	return f[3]
}

type regionKey struct{}

// WithRegion returns ctx carrying the region an operation acts in: a
// function invoked by a mapping of a us-east-2 stream, or through a
// request signed for us-east-2, reads and writes us-east-2's tables.
func WithRegion(ctx context.Context, region string) context.Context {
	return context.WithValue(ctx, regionKey{}, region)
}

// RegionFrom returns the region WithRegion put in ctx, or "" (the
// server's default).
func RegionFrom(ctx context.Context) string {
	r, _ := ctx.Value(regionKey{}).(string)
	return r
}

type principalKey struct{}

// WithPrincipal returns ctx carrying the ARN of the principal an operation
// acts as: a function's table calls act as its execution role (its
// CreateFunction Role), and api authorizes them with that role's policies.
func WithPrincipal(ctx context.Context, principal string) context.Context {
	return context.WithValue(ctx, principalKey{}, principal)
}

// PrincipalFrom returns the principal WithPrincipal put in ctx, or ""
// (anonymous: allowed while eddy runs without credentials).
func PrincipalFrom(ctx context.Context) string {
	p, _ := ctx.Value(principalKey{}).(string)
	return p
}
