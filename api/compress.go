package api

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/eddydb/eddy/internal/ddberr"
)

// Compression on the wire. A request body may come gzip- or
// deflate-encoded (Content-Encoding); it is inflated with the same 16 MB
// limit as a plain body, counted on the inflated bytes, so a small bomb is
// refused after reading at most the limit. A response is gzipped when the
// client accepts gzip (the SDKs' EnableAcceptEncodingGzip) and the body is
// worth it; X-Amz-Crc32 is then the checksum of the gzipped bytes, as
// DynamoDB's is (aws-sdk-go-v2 validates it before decompressing). Clients
// that say nothing, or "identity" (the SDKs' default), get plain JSON.

// gzipMinBody is the smallest response body worth compressing.
const gzipMinBody = 1024

// inflate returns the decoded request body, or body itself when the request
// carries no (or an identity) Content-Encoding. An encoding eddy does not
// know is left as is: the JSON parser then reports the body.
func inflate(r *http.Request, body []byte) ([]byte, error) {
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	var zr io.Reader
	switch enc {
	case "", "identity":
		return body, nil
	case "gzip", "x-gzip":
		g, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, ddberr.New(ddberr.KindSerialization, "Unable to read request body")
		}
		zr = g
	case "deflate":
		// RFC 9110's deflate is zlib-wrapped; some clients send raw
		// deflate, which has no zlib header.
		if z, err := zlib.NewReader(bytes.NewReader(body)); err == nil {
			zr = z
		} else {
			zr = flate.NewReader(bytes.NewReader(body))
		}
	default:
		return body, nil
	}
	out, err := readAll(io.LimitReader(zr, maxRequestBody+1), int64(4*len(body)))
	if err != nil {
		return nil, ddberr.New(ddberr.KindSerialization, "Unable to read request body")
	}
	if len(out) > maxRequestBody {
		return nil, errBodyTooLarge
	}
	return out, nil
}

// acceptsGzip reports whether the request's Accept-Encoding names gzip
// with a non-zero quality.
func acceptsGzip(r *http.Request) bool {
	ae := r.Header["Accept-Encoding"]
	if len(ae) == 0 {
		return false
	}
	for _, h := range ae {
		for _, part := range strings.Split(h, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// writeBody writes a response body as writeJSON does, gzipped when the
// client accepts it and the body is large enough to gain from it.
func writeBody(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	if len(body) < gzipMinBody || !acceptsGzip(r) {
		writeJSON(w, status, body)
		return
	}
	var buf bytes.Buffer
	buf.Grow(len(body) / 4)
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&buf)
	_, _ = zw.Write(body) // writes into memory: no error
	_ = zw.Close()
	gzipWriters.Put(zw)
	w.Header()["Content-Encoding"] = []string{"gzip"}
	writeJSON(w, status, buf.Bytes())
}
