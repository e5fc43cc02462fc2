// Package s3dest is dataport's S3 bucket: exports written and imports read
// through aws-sdk-go-v2's S3 client, against AWS or any S3-compatible
// endpoint (MinIO, moto_server). It is the only part of export and import
// that imports the SDK; internal/server wires it in as dataport.Options.Open.
package s3dest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/eddydb/eddy/dataport"
)

// Options configure the S3 client.
type Options struct {
	// Endpoint is the S3 endpoint URL; empty means AWS's. With an endpoint,
	// requests use path-style addressing (what S3-compatible stores
	// expect).
	Endpoint string
	// Credentials, when set, replaces the SDK's default chain (the
	// environment, ~/.aws, ...).
	Credentials aws.CredentialsProvider
}

// Opener returns a dataport.Opener over S3. The SDK's configuration is
// loaded at first use.
func Opener(o Options) dataport.Opener {
	var (
		mu  sync.Mutex
		cfg *aws.Config
	)
	return func(ctx context.Context, region, name, owner string) (dataport.Bucket, error) {
		mu.Lock()
		if cfg == nil {
			var lo []func(*config.LoadOptions) error
			if o.Credentials != nil {
				lo = append(lo, config.WithCredentialsProvider(o.Credentials))
			}
			c, err := config.LoadDefaultConfig(ctx, lo...)
			if err != nil {
				mu.Unlock()
				return nil, fmt.Errorf("s3dest: AWS configuration: %w", err)
			}
			cfg = &c
		}
		c := cfg.Copy()
		mu.Unlock()
		if region != "" {
			c.Region = region
		}
		client := s3.NewFromConfig(c, func(so *s3.Options) {
			if o.Endpoint != "" {
				so.BaseEndpoint = aws.String(o.Endpoint)
				so.UsePathStyle = true
			}
		})
		b := &bucket{c: client, name: name}
		if owner != "" {
			b.owner = aws.String(owner)
		}
		return b, nil
	}
}

type bucket struct {
	c     *s3.Client
	name  string
	owner *string // ExpectedBucketOwner
}

func (b *bucket) Put(ctx context.Context, key string, body []byte) (string, error) {
	out, err := b.c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(b.name), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))), ExpectedBucketOwner: b.owner,
	})
	if err != nil {
		return "", wrap(err)
	}
	return strings.Trim(aws.ToString(out.ETag), `"`), nil
}

func (b *bucket) List(ctx context.Context, prefix string) ([]dataport.Object, error) {
	var out []dataport.Object
	p := s3.NewListObjectsV2Paginator(b.c, &s3.ListObjectsV2Input{
		Bucket: aws.String(b.name), Prefix: aws.String(prefix), ExpectedBucketOwner: b.owner,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrap(err)
		}
		for _, o := range page.Contents {
			out = append(out, dataport.Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size)})
		}
	}
	return out, nil
}

func (b *bucket) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := b.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.name), Key: aws.String(key), ExpectedBucketOwner: b.owner})
	if err != nil {
		return nil, wrap(err)
	}
	return out.Body, nil
}

// wrap names a missing bucket the way the jobs' FailureMessage shows it.
func wrap(err error) error {
	var nb *types.NoSuchBucket
	if errors.As(err, &nb) {
		return fmt.Errorf("NoSuchBucket: %w", err)
	}
	return err
}
