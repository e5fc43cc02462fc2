// Package linearize holds the linearizability model the MRSC tests check
// their histories against with porcupine (global/e2e in process, cmd/eddy
// across processes): one register per key. Test helper only.
package linearize

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/anishathalye/porcupine"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The model: one register per key, holding a string ("" when the item is
// absent). Operations:
//
//	read          output: the value a strongly consistent GetItem returned
//	query         output: the value a strongly consistent Query on the key
//	              returned (a table's read barrier, not an item's)
//	write v       PutItem; output ok
//	cas from→to   PutItem with ConditionExpression v = :from
//	              (attribute_not_exists(pk) when from is ""); output ok or
//	              ConditionalCheckFailed
//
// An operation answered ReplicatedWriteConflictException or
// ConditionalCheckFailed had no effect (DynamoDB's contract, and eddy's:
// nothing was stored); a read that failed is left out. A write whose
// outcome is unknown (InternalServerError, a connection cut by the region's
// death) may or may not have happened: its return is set to the end of
// time (Never), so the checker may linearize it anywhere after its call, or
// last (where no read sees it).
type Input struct {
	Key      string
	Op       string // read, query, write, cas
	From, To string
}

// IsRead says whether in is a read (a GetItem or a Query).
func (in Input) IsRead() bool { return in.Op == "read" || in.Op == "query" }

// Pick draws the next operation of client's j-th turn from rnd: a key of
// four (k0-k3); a read (20%), a query (20%), a write (20%) or a cas (40%)
// of the value c<client>-<j>. A cas expects, two times in three, what
// lastRead (called only then) says was read last of the key, else absence.
func Pick(rnd *rand.Rand, client, j int, lastRead func(key string) string) Input {
	in := Input{Key: "k" + strconv.Itoa(rnd.IntN(4))}
	val := fmt.Sprintf("c%d-%d", client, j)
	switch r := rnd.IntN(10); {
	case r < 2:
		in.Op = "read"
	case r < 4:
		in.Op = "query"
	case r < 6:
		in.Op, in.To = "write", val
	default:
		in.Op, in.To = "cas", val
		if rnd.IntN(3) > 0 {
			in.From = lastRead(in.Key)
		}
	}
	return in
}

// LastRead returns the value the last read of key in hist answered ("":
// none), among client's operations only when client is 0 or more.
func LastRead(hist []porcupine.Operation, client int, key string) string {
	for k := len(hist) - 1; k >= 0; k-- {
		h := hist[k]
		if in := h.Input.(Input); in.Key == key && in.IsRead() && (client < 0 || h.ClientId == client) {
			return h.Output.(Output).Value
		}
	}
	return ""
}

// Output is an operation's answer.
type Output struct {
	Value   string // read
	OK      bool   // write, cas: applied
	Unknown bool   // write, cas: no answer (its Return is Never)
}

// Never is the Return of an operation whose outcome is unknown.
const Never = int64(1) << 62

// Register is the model.
var Register = porcupine.Model{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		by := map[string][]porcupine.Operation{}
		for _, o := range h {
			k := o.Input.(Input).Key
			by[k] = append(by[k], o)
		}
		var out [][]porcupine.Operation
		for _, ops := range by {
			out = append(out, ops)
		}
		return out
	},
	Init: func() any { return "" },
	Step: func(state, input, output any) (bool, any) {
		st, in, out := state.(string), input.(Input), output.(Output)
		switch in.Op {
		case "read", "query":
			return out.Value == st, st
		case "write":
			return true, in.To
		default: // cas
			if out.Unknown {
				if st == in.From {
					return true, in.To
				}
				return true, st
			}
			if out.OK {
				return st == in.From, in.To
			}
			return st != in.From, st
		}
	},
	DescribeOperation: func(input, output any) string {
		return fmt.Sprintf("%+v → %+v", input, output)
	},
}

// Do runs in against table (hash key "pk", value attribute "v") through
// ddb: a read as a strongly consistent GetItem, a query as a strongly
// consistent Query on the key, a write as a PutItem, a cas
// as a PutItem conditioned on from. A cas whose condition failed is an
// answer (OK false, nil error); any other error is returned for the caller
// to classify (a conflict, or an unknown outcome).
func Do(ctx context.Context, ddb *dynamodb.Client, table string, in Input) (Output, error) {
	var out Output
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: in.Key}}
	switch in.Op {
	case "read":
		got, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return out, err
		}
		if v, ok := got.Item["v"].(*types.AttributeValueMemberS); ok {
			out.Value = v.Value
		}
		return out, nil
	case "query":
		got, err := ddb.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
			KeyConditionExpression:    aws.String("pk = :k"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":k": key["pk"]}})
		if err != nil {
			return out, err
		}
		if len(got.Items) > 0 {
			if v, ok := got.Items[0]["v"].(*types.AttributeValueMemberS); ok {
				out.Value = v.Value
			}
		}
		return out, nil
	case "write", "cas":
		pin := &dynamodb.PutItemInput{TableName: aws.String(table),
			Item: map[string]types.AttributeValue{"pk": key["pk"], "v": &types.AttributeValueMemberS{Value: in.To}}}
		if in.Op == "cas" {
			if in.From == "" {
				pin.ConditionExpression = aws.String("attribute_not_exists(pk)")
			} else {
				pin.ConditionExpression = aws.String("v = :from")
				pin.ExpressionAttributeValues = map[string]types.AttributeValue{":from": &types.AttributeValueMemberS{Value: in.From}}
			}
		}
		_, err := ddb.PutItem(ctx, pin)
		out.OK = err == nil
		var ccf *types.ConditionalCheckFailedException
		if in.Op == "cas" && errors.As(err, &ccf) {
			err = nil
		}
		return out, err
	}
	return out, fmt.Errorf("linearize: unknown operation %q", in.Op)
}

// Explain checks each key's operations alone and, for each key whose
// history is not linearizable, lists its operations by call time (client,
// call and return in milliseconds from the start, input, output): what a
// failing test prints, since porcupine's visualization needs a browser.
func Explain(hist []porcupine.Operation) string {
	var b strings.Builder
	for _, ops := range Register.Partition(hist) {
		if porcupine.CheckOperations(Register, ops) {
			continue
		}
		ops = slices.Clone(ops)
		slices.SortFunc(ops, func(a, b porcupine.Operation) int { return cmp.Compare(a.Call, b.Call) })
		fmt.Fprintf(&b, "key %s is not linearizable:\n", ops[0].Input.(Input).Key)
		for _, o := range ops {
			ret := "never"
			if o.Return != Never {
				ret = fmt.Sprintf("%.1f", float64(o.Return)/1e6)
			}
			fmt.Fprintf(&b, "  client %d  %9.1f-%-9s %+v → %+v\n", o.ClientId, float64(o.Call)/1e6, ret, o.Input, o.Output)
		}
	}
	return b.String()
}
