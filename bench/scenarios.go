package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// A scenario is one measured workload: setup runs once per target before the
// warmup (create tables, preload items; return a *skipError to skip the
// scenario on this target), op is one operation, called in a loop by every
// client. To add a scenario, add an entry to scenarios.
type scenario struct {
	name  string
	about string
	setup func(ctx context.Context, e *env) error
	op    func(ctx context.Context, w *worker) error
	// writes marks scenarios whose operations write (the durable null
	// endpoint only differs from the null endpoint on those).
	writes bool
}

var scenarios = []scenario{
	{"put", "PutItem of one item (random key among -items)", setupTable, opPut, true},
	{"get", "GetItem of one preloaded item (random key among -items)", setupPreloaded, opGet, false},
	{"query", "Query of a whole -query-items partition (random partition among 4)", setupQuery, opQuery, false},
	{"mix", "50% GetItem / 40% PutItem / 10% UpdateItem (ADD a counter)", setupPreloaded, opMix, true},
}

func findScenario(name string) (scenario, bool) {
	for _, s := range scenarios {
		if s.name == name {
			return s, true
		}
	}
	return scenario{}, false
}

const (
	benchTable      = "bench"
	queryPartitions = 4
)

// env is what setup functions share for one target: the client and the
// options, and which preloads are done.
type env struct {
	ddb *dynamodb.Client
	cfg *config

	mu   sync.Mutex
	done map[string]bool
}

// once runs f the first time key is asked for on this target.
func (e *env) once(key string, f func() error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done[key] {
		return nil
	}
	if err := f(); err != nil {
		return err
	}
	if e.done == nil {
		e.done = map[string]bool{}
	}
	e.done[key] = true
	return nil
}

// worker is one client's state: its own random source and request payload.
type worker struct {
	ddb  *dynamodb.Client
	cfg  *config
	rng  *rand.Rand
	data string
}

// skipError skips a scenario on a target with a note (e.g. an operation the
// server does not implement yet).
type skipError struct{ reason string }

func (e *skipError) Error() string { return e.reason }

func isUnknownOperation(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "UnknownOperationException"
}

// payload returns n bytes of printable data, different per seed.
func payload(n int, seed uint64) string {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	r := rand.New(rand.NewPCG(seed, 42))
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	return string(b)
}

func itemKey(i int) string { return fmt.Sprintf("k%08d", i) }

func benchItem(pk string, sk int, data string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk":   &types.AttributeValueMemberS{Value: pk},
		"sk":   &types.AttributeValueMemberN{Value: strconv.Itoa(sk)},
		"data": &types.AttributeValueMemberS{Value: data},
	}
}

func key(pk string, sk int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk},
		"sk": &types.AttributeValueMemberN{Value: strconv.Itoa(sk)},
	}
}

// setupTable creates the benchmark table (pk S HASH, sk N RANGE,
// on-demand) and waits until it is ACTIVE.
func setupTable(ctx context.Context, e *env) error {
	return e.once("table", func() error {
		_, err := e.ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName: aws.String(benchTable),
			AttributeDefinitions: []types.AttributeDefinition{
				{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
				{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
			},
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
			},
			BillingMode: types.BillingModePayPerRequest,
		})
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) {
			return fmt.Errorf("create table: %w", err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			out, err := e.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(benchTable)})
			if err != nil {
				return fmt.Errorf("describe table: %w", err)
			}
			if out.Table != nil && out.Table.TableStatus == types.TableStatusActive {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("table %s never became ACTIVE", benchTable)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// preload writes items with -clients concurrent PutItem calls.
func preload(ctx context.Context, e *env, n int, item func(i int) map[string]types.AttributeValue) error {
	var (
		wg    sync.WaitGroup
		next  = make(chan int)
		errMu sync.Mutex
		first error
	)
	for c := 0; c < e.cfg.clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if _, err := e.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(benchTable), Item: item(i)}); err != nil {
					errMu.Lock()
					if first == nil {
						first = err
					}
					errMu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		return fmt.Errorf("preload: %w", first)
	}
	return nil
}

func setupPreloaded(ctx context.Context, e *env) error {
	if err := setupTable(ctx, e); err != nil {
		return err
	}
	return e.once("items", func() error {
		return preload(ctx, e, e.cfg.items, func(i int) map[string]types.AttributeValue {
			return benchItem(itemKey(i), 0, payload(e.cfg.itemSize, uint64(i)))
		})
	})
}

func setupQuery(ctx context.Context, e *env) error {
	if err := setupTable(ctx, e); err != nil {
		return err
	}
	_, err := e.ddb.Query(ctx, queryInput(0))
	if isUnknownOperation(err) {
		return &skipError{"Query is not implemented by this server (UnknownOperationException)"}
	}
	if err != nil {
		return fmt.Errorf("probe query: %w", err)
	}
	return e.once("partitions", func() error {
		q := e.cfg.queryItems
		return preload(ctx, e, queryPartitions*q, func(i int) map[string]types.AttributeValue {
			return benchItem("q"+strconv.Itoa(i/q), i%q, payload(e.cfg.itemSize, uint64(i)))
		})
	})
}

func queryInput(part int) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:                 aws.String(benchTable),
		KeyConditionExpression:    aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "q" + strconv.Itoa(part)}},
	}
}

func opPut(ctx context.Context, w *worker) error {
	_, err := w.ddb.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(benchTable),
		Item:      benchItem(itemKey(w.rng.IntN(w.cfg.items)), 0, w.data),
	})
	return err
}

func opGet(ctx context.Context, w *worker) error {
	out, err := w.ddb.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(benchTable),
		Key:       key(itemKey(w.rng.IntN(w.cfg.items)), 0),
	})
	if err == nil && out.Item == nil {
		return errors.New("GetItem returned no item for a preloaded key")
	}
	return err
}

func opQuery(ctx context.Context, w *worker) error {
	out, err := w.ddb.Query(ctx, queryInput(w.rng.IntN(queryPartitions)))
	if err == nil && int(out.Count) != w.cfg.queryItems {
		return fmt.Errorf("Query returned %d items, want %d", out.Count, w.cfg.queryItems)
	}
	return err
}

func opUpdate(ctx context.Context, w *worker) error {
	_, err := w.ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(benchTable),
		Key:                       key(itemKey(w.rng.IntN(w.cfg.items)), 0),
		UpdateExpression:          aws.String("ADD #c :one"),
		ExpressionAttributeNames:  map[string]string{"#c": "counter"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
	})
	return err
}

func opMix(ctx context.Context, w *worker) error {
	switch n := w.rng.IntN(10); {
	case n < 5:
		return opGet(ctx, w)
	case n < 9:
		return opPut(ctx, w)
	default:
		return opUpdate(ctx, w)
	}
}
