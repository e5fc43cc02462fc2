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
