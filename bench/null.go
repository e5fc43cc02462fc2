package main

import (
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The null endpoint answers every DynamoDB operation with a fixed, valid
// response body and parses nothing. It runs on the same HTTP stack as eddy
// (net/http), so a run against it shows the ceiling that the SDK client,
// HTTP and JSON leave on this machine; eddy's figures are read against it.
//
// Responses have the shapes eddy's would have for the benchmark's requests
// (GetItem returns an item of -item-size payload bytes, Query a page of
// -query-items such items), so the client does the same decoding work
// against both servers. Each carries x-amz-crc32 (the SDK verifies it) and
// x-amzn-RequestId (fixed: generating one is server work).

const (
	// nullFsyncTarget is the durable null endpoint's name in reports.
	nullFsyncTarget = "null+fsync"
	nullRequestID   = "NULLENDPOINTNULLENDPOINTNULLENDPOINTNULLENDPOINTNULL"
	targetPrefix    = "DynamoDB_20120810."
)

// nullResponse is one precomputed answer.
type nullResponse struct {
	body  []byte
	crc32 []string
	clen  []string
}

func newNullResponse(body string) nullResponse {
	return nullResponse{
		body:  []byte(body),
		crc32: []string{strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(body))), 10)},
		clen:  []string{strconv.Itoa(len(body))},
	}
}

// benchItemJSON is the DynamoDB JSON of the item the scenarios write: the
// same key and payload shape as the benchmark's PutItem requests.
func benchItemJSON(pk string, sk int, itemSize int) string {
	return fmt.Sprintf(`{"pk":{"S":%q},"sk":{"N":"%d"},"data":{"S":%q}}`, pk, sk, payload(itemSize, 0))
}

func tableDescriptionJSON() string {
	return `{"TableName":"` + benchTable + `","TableStatus":"ACTIVE","TableArn":"arn:aws:dynamodb:us-east-1:000000000000:table/` + benchTable + `",` +
		`"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}],` +
		`"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],` +
		`"BillingMode":"PAY_PER_REQUEST","ItemCount":0,"TableSizeBytes":0,"CreationDateTime":1700000000}`
}

// nullWrites are the operations the durable null endpoint logs.
var nullWrites = map[string]bool{"PutItem": true, "UpdateItem": true, "DeleteItem": true, "BatchWriteItem": true, "TransactWriteItems": true}

// newNullHandler returns the null endpoint's handler. With a durable log,
// write operations append their request body to it and answer after it is
// synced; everything else is unchanged.
func newNullHandler(itemSize, queryItems int, dlog *durableLog) http.Handler {
	items := make([]string, queryItems)
	for i := range items {
		items[i] = benchItemJSON("q0", i, itemSize)
	}
	resp := map[string]nullResponse{
		"GetItem":        newNullResponse(`{"Item":` + benchItemJSON("k00000000", 0, itemSize) + `}`),
		"Query":          newNullResponse(fmt.Sprintf(`{"Count":%d,"Items":[%s],"ScannedCount":%d}`, queryItems, strings.Join(items, ","), queryItems)),
		"CreateTable":    newNullResponse(`{"TableDescription":` + tableDescriptionJSON() + `}`),
		"DescribeTable":  newNullResponse(`{"Table":` + tableDescriptionJSON() + `}`),
		"BatchWriteItem": newNullResponse(`{"UnprocessedItems":{}}`),
		"BatchGetItem":   newNullResponse(`{"Responses":{},"UnprocessedKeys":{}}`),
	}
	empty := newNullResponse(`{}`)
	ok := []byte("ok\n")
	ct := []string{"application/x-amz-json-1.0"}
	rid := []string{nullRequestID}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			_, _ = w.Write(ok)
			return
		}
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
		if dlog != nil && nullWrites[op] {
			body, err := io.ReadAll(r.Body)
			if err == nil {
				err = dlog.append(body)
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		} else {
			// Drain the body so the connection is reused; parse nothing.
			_, _ = io.Copy(io.Discard, r.Body)
		}
		re, found := resp[op]
		if !found {
			re = empty
		}
		h := w.Header()
		h["Content-Type"] = ct
		h["X-Amzn-Requestid"] = rid
		h["X-Amz-Crc32"] = re.crc32
		h["Content-Length"] = re.clen
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(re.body)
	})
}

// nullServe is the "null-serve" subcommand: the harness runs it as its own
// child process (bench re-executes itself) so its CPU time is its own.
func nullServe(args []string) int {
	fs := flag.NewFlagSet("null-serve", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	itemSize := fs.Int("item-size", 100, "payload bytes of the item GetItem and Query return")
	queryItems := fs.Int("query-items", 100, "items in a Query response")
	durable := fs.String("durable", "", "directory: log every write request there and answer after an fdatasync (group commit)")
	_ = fs.Parse(args)

	var dlog *durableLog
	if *durable != "" {
		var err error
		if dlog, err = openDurableLog(filepath.Join(*durable, "null.log")); err != nil {
			log.Printf("null-serve: %v", err)
			return 1
		}
		defer dlog.close()
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Printf("null-serve: %v", err)
		return 1
	}
	srv := &http.Server{Handler: newNullHandler(*itemSize, *queryItems, dlog), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	_ = srv.Close()
	return 0
}
