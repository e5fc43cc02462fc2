package api_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/eddydb/eddy/internal/eddytest"
	"github.com/eddydb/eddy/internal/server"
)

// TestCompression: gzip and deflate request bodies are inflated (within
// the 16 MB limit, counted after inflating), and a client that accepts
// gzip gets a gzipped response whose X-Amz-Crc32 is the checksum of the
// gzipped bytes, which aws-sdk-go-v2 validates with EnableAcceptEncodingGzip.
func TestCompression(t *testing.T) {
	s := eddytest.Start(t, server.Options{})
	createTable(t, s.DDB, "zipped", false)
	big := strings.Repeat("compressible ", 2000) // 26 KB
	raw := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	post := func(op string, body []byte, hdr map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("POST", s.URL(), bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := raw.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	put := []byte(`{"TableName":"zipped","Item":{"pk":{"S":"k"},"v":{"S":"` + big + `"}}}`)

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(put)
	zw.Close()
	if r := post("PutItem", gz.Bytes(), map[string]string{"Content-Encoding": "gzip"}); r.StatusCode != 200 {
		b, _ := io.ReadAll(r.Body)
		t.Fatalf("gzip PutItem: %d %s", r.StatusCode, b)
	}
	var zl bytes.Buffer
	zlw := zlib.NewWriter(&zl)
	zlw.Write(bytes.Replace(put, []byte(`"k"`), []byte(`"k2"`), 1))
	zlw.Close()
	if r := post("PutItem", zl.Bytes(), map[string]string{"Content-Encoding": "deflate"}); r.StatusCode != 200 {
		b, _ := io.ReadAll(r.Body)
		t.Fatalf("deflate PutItem: %d %s", r.StatusCode, b)
	}

	// A small bomb: 64 MB of zeros in about 64 KB is refused by size.
	var bomb bytes.Buffer
	bw := gzip.NewWriter(&bomb)
	zeros := make([]byte, 1<<20)
	for range 64 {
		bw.Write(zeros)
	}
	bw.Close()
	r := post("PutItem", bomb.Bytes(), map[string]string{"Content-Encoding": "gzip"})
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != 413 || len(b) != 0 {
		t.Fatalf("gzip bomb: %d %s", r.StatusCode, b)
	}
	// A plain body over 16 MB gets the same 413 with no body (dynalite's
	// index.js, which recorded DynamoDB's answer).
	r = post("PutItem", bytes.Repeat([]byte(" "), 16<<20+1), nil)
	b, _ = io.ReadAll(r.Body)
	if r.StatusCode != 413 || len(b) != 0 {
		t.Fatalf("17 MB body: %d %s", r.StatusCode, b)
	}

	// A gzipped response, checksummed as sent.
	get := []byte(`{"TableName":"zipped","Key":{"pk":{"S":"k"}},"ConsistentRead":true}`)
	r = post("GetItem", get, map[string]string{"Accept-Encoding": "gzip"})
	zipped, _ := io.ReadAll(r.Body)
	if r.Header.Get("Content-Encoding") != "gzip" || r.Header.Get("X-Amz-Crc32") != strconv.FormatUint(uint64(crc32.ChecksumIEEE(zipped)), 10) {
		t.Fatalf("GetItem with Accept-Encoding gzip: %v", r.Header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !strings.Contains(string(plain), big) || len(zipped) >= len(plain) {
		t.Fatalf("gzipped GetItem: %d bytes for %d plain", len(zipped), len(plain))
	}
	// Without Accept-Encoding, or with identity, the body is plain.
	for _, h := range []map[string]string{nil, {"Accept-Encoding": "identity"}, {"Accept-Encoding": "gzip;q=0"}} {
		if r := post("GetItem", get, h); r.Header.Get("Content-Encoding") != "" {
			t.Fatalf("GetItem with %v: Content-Encoding %q", h, r.Header.Get("Content-Encoding"))
		}
	}

	// The SDK with gzip enabled validates the checksum and decodes.
	c := dynamodb.NewFromConfig(s.Config(), func(o *dynamodb.Options) { o.EnableAcceptEncodingGzip = true })
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("zipped"), Key: item{"pk": S("k2")}, ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		t.Fatalf("SDK GetItem with gzip: %v %v", out, err)
	}
}
