package dataport

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Bucket is where exports are written and imports read: an S3 bucket
// (package dataport/s3dest) or a local directory (DirBucket). Keys are S3
// keys ("prefix/AWSDynamoDB/<id>/data/x.json.gz").
type Bucket interface {
	// Put stores body at key and returns its ETag as S3 reports it (the
	// MD5 of the body in hex, for a single-part upload).
	Put(ctx context.Context, key string, body []byte) (etag string, err error)
	// List returns the keys and sizes of the objects whose key begins with
	// prefix, in key order.
	List(ctx context.Context, prefix string) ([]Object, error)
	// Get opens the object at key.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
}

// Object is one listed object.
type Object struct {
	Key  string
	Size int64
}

// Opener opens the bucket an export or import names (S3Bucket and
// S3BucketOwner of the request) in the request's region.
type Opener func(ctx context.Context, region, bucket, owner string) (Bucket, error)

// FileScheme is eddy's extension: an S3Bucket of the form file:///abs/dir
// names a local directory instead of a bucket.
const FileScheme = "file://"

// errNoBucket is wrapped by Opener errors for a bucket that does not
// exist.
var errNoBucket = errors.New("dataport: no such bucket")

// DirBucket is a local directory used as a bucket: a key is a path under
// it. Writes go to a temporary file renamed into place, so a reader never
// sees half a file.
type DirBucket struct{ Root string }

// OpenDir returns the directory bucket of a file:///abs/dir S3Bucket; the
// directory is created for an export (create) and must exist otherwise.
func OpenDir(bucket string, create bool) (*DirBucket, error) {
	root := strings.TrimPrefix(bucket, FileScheme)
	if !filepath.IsAbs(root) {
		return nil, fmt.Errorf("%w: %s is not an absolute file:// path", errNoBucket, bucket)
	}
	if create {
		if err := os.MkdirAll(root, 0o755); err != nil {
			return nil, fmt.Errorf("%w: %v", errNoBucket, err)
		}
	} else if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%w: %s", errNoBucket, root)
	}
	return &DirBucket{Root: root}, nil
}

func (d *DirBucket) path(key string) (string, error) {
	p := filepath.Join(d.Root, filepath.FromSlash(key))
	if p != d.Root && !strings.HasPrefix(p, d.Root+string(filepath.Separator)) {
		return "", fmt.Errorf("dataport: key %q leaves the directory", key)
	}
	return p, nil
}

func (d *DirBucket) Put(_ context.Context, key string, body []byte) (string, error) {
	p, err := d.path(key)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	sum := md5.Sum(body)
	return hex.EncodeToString(sum[:]), nil
}

func (d *DirBucket) List(ctx context.Context, prefix string) ([]Object, error) {
	var out []Object
	err := filepath.WalkDir(d.Root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if e.IsDir() || strings.HasPrefix(e.Name(), ".tmp-") {
			return nil
		}
		rel, err := filepath.Rel(d.Root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		out = append(out, Object{Key: key, Size: info.Size()})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, err
}

func (d *DirBucket) Get(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}
