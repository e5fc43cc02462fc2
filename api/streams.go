package api

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/internal/ddberr"
	"github.com/eddydb/eddy/shards"
	"github.com/eddydb/eddy/streams"
)

// The DynamoDB Streams API (DynamoDBStreams_20120810.*) on the server's
// port: ListStreams, DescribeStream, GetShardIterator, GetRecords, over the
// change log of package streams.

func (s *Server) registerStreamOps() {
	s.ops["Streams.ListStreams"] = s.listStreams
	s.ops["Streams.DescribeStream"] = s.describeStream
	s.ops["Streams.GetShardIterator"] = s.getShardIterator
	s.ops["Streams.GetRecords"] = s.getRecords
}

// Streams returns the change log: the in-process Reader the trigger host
// consumes (streams.Reader), plus stream listing and description.
func (s *Server) Streams() *streams.Log { return s.log }

// streamsError maps the change log's errors to DynamoDB's.
func streamsError(err error, arn, shardID string) error {
	switch {
	case errors.Is(err, streams.ErrStreamNotFound):
		return ddberr.New(ddberr.KindResourceNotFound, "Requested resource not found: Stream: %s not found", arn)
	case errors.Is(err, streams.ErrShardNotFound):
		return ddberr.New(ddberr.KindResourceNotFound, "Requested resource not found: Shard does not exist")
	case errors.Is(err, streams.ErrTrimmed):
		return ddberr.New(ddberr.KindTrimmedDataAccess, "The data you are trying to access has been trimmed.")
	case errors.Is(err, streams.ErrExpiredIterator):
		return ddberr.New(ddberr.KindExpiredIterator, "The provided iterator exceeds the maximum age allowed.")
	case errors.Is(err, streams.ErrBadIterator):
		return ddberr.Validationf("Invalid ShardIterator")
	case errors.Is(err, streams.ErrBadSeq):
		return ddberr.Validationf("Invalid SequenceNumber for shard %s", shardID)
	}
	return err
}

// invalidStreamArn is DynamoDB Streams' answer to a StreamArn that is not
// a stream ARN at all (a well-formed ARN of no stream is
// ResourceNotFoundException instead).
func invalidStreamArn() error { return ddberr.Validationf("Invalid StreamArn") }

// isStreamArn reports whether s has the shape of a DynamoDB stream ARN,
// arn:<partition>:dynamodb:<region>:<account>:table/<name>/stream/<label>.
func isStreamArn(s string) bool {
	f := strings.SplitN(s, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[1] == "" || f[2] != "dynamodb" || f[3] == "" || f[4] == "" {
		return false
	}
	table, label, ok := strings.Cut(strings.TrimPrefix(f[5], "table/"), "/stream/")
	return ok && strings.HasPrefix(f[5], "table/") && table != "" && label != ""
}

func (c *constraints) limit(v *int64, at string, hi int64) {
	if v == nil {
		return
	}
	if *v < 1 {
		c.fail(v, at, "Member must have value greater than or equal to 1")
	}
	if *v > hi {
		c.fail(v, at, "Member must have value less than or equal to "+strconv.FormatInt(hi, 10))
	}
}

func (c *constraints) arn(v *string, at string, required bool) {
	if v == nil {
		if required {
			c.fail(nil, at, "Member must not be null")
		}
		return
	}
	c.length(*v, at, 37, 1024)
}

// shardID checks a ShardId member (28..65 characters).
func (c *constraints) shardID(v *string, at string) {
	if v == nil {
		return
	}
	c.length(*v, at, 28, 65)
}

type streamSummary struct {
	StreamArn   string `json:"StreamArn"`
	TableName   string `json:"TableName"`
	StreamLabel string `json:"StreamLabel"`
}

func (s *Server) listStreams(ctx context.Context, c *call) (any, error) {
	var in struct {
		TableName               *string `json:"TableName"`
		ExclusiveStartStreamArn *string `json:"ExclusiveStartStreamArn"`
		Limit                   *int64  `json:"Limit"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	if in.TableName != nil {
		v.tableName(in.TableName, "tableName")
	}
	v.arn(in.ExclusiveStartStreamArn, "exclusiveStartStreamArn", false)
	v.limit(in.Limit, "limit", 100)
	if err := v.err(); err != nil {
		return nil, err
	}
	if in.ExclusiveStartStreamArn != nil && !isStreamArn(*in.ExclusiveStartStreamArn) {
		return nil, invalidStreamArn()
	}
	if err := s.log.Sync(); err != nil {
		return nil, err
	}
	table := ""
	if in.TableName != nil {
		table = *in.TableName
		if s.db.TableIn(c.region, table) == nil && len(s.log.StreamsIn(c.region, table)) == 0 {
			return nil, ddberr.TableNotFound(table)
		}
	}
	all := s.log.StreamsIn(c.region, table)
	i := 0
	if in.ExclusiveStartStreamArn != nil {
		i = -1
		for j, st := range all {
			if st.Arn == *in.ExclusiveStartStreamArn {
				i = j + 1
				break
			}
		}
		if i < 0 {
			return nil, streamsError(streams.ErrStreamNotFound, *in.ExclusiveStartStreamArn, "")
		}
	}
	limit := 100
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	out := struct {
		Streams                []streamSummary `json:"Streams"`
		LastEvaluatedStreamArn string          `json:"LastEvaluatedStreamArn,omitempty"`
	}{Streams: []streamSummary{}}
	for ; i < len(all) && len(out.Streams) < limit; i++ {
		out.Streams = append(out.Streams, streamSummary{all[i].Arn, all[i].TableName, all[i].Label})
	}
	if i < len(all) {
		out.LastEvaluatedStreamArn = out.Streams[len(out.Streams)-1].StreamArn
	}
	return out, nil
}

type seqRange struct {
	StartingSequenceNumber string `json:"StartingSequenceNumber"`
	EndingSequenceNumber   string `json:"EndingSequenceNumber,omitempty"`
}

type shardWire struct {
	ShardId             string   `json:"ShardId"`
	SequenceNumberRange seqRange `json:"SequenceNumberRange"`
	ParentShardId       string   `json:"ParentShardId,omitempty"`
}

type streamDescription struct {
	StreamArn               string              `json:"StreamArn"`
	StreamLabel             string              `json:"StreamLabel"`
	StreamStatus            string              `json:"StreamStatus"`
	StreamViewType          string              `json:"StreamViewType"`
	CreationRequestDateTime epochTime           `json:"CreationRequestDateTime"`
	TableName               string              `json:"TableName"`
	KeySchema               []map[string]string `json:"KeySchema"`
	Shards                  []shardWire         `json:"Shards"`
	LastEvaluatedShardId    string              `json:"LastEvaluatedShardId,omitempty"`
}

func (s *Server) describeStream(ctx context.Context, c *call) (any, error) {
	var in struct {
		StreamArn             *string `json:"StreamArn"`
		ExclusiveStartShardId *string `json:"ExclusiveStartShardId"`
		Limit                 *int64  `json:"Limit"`
		ShardFilter           *struct {
			Type    string  `json:"Type"`
			ShardId *string `json:"ShardId"`
		} `json:"ShardFilter"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	v.arn(in.StreamArn, "streamArn", true)
	v.limit(in.Limit, "limit", 100)
	v.shardID(in.ExclusiveStartShardId, "exclusiveStartShardId")
	if in.ShardFilter != nil {
		v.enum(in.ShardFilter.Type, "shardFilter.type", "CHILD_SHARDS")
		v.shardID(in.ShardFilter.ShardId, "shardFilter.shardId")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if !isStreamArn(*in.StreamArn) {
		return nil, invalidStreamArn()
	}
	if err := s.log.Sync(); err != nil {
		return nil, err
	}
	info, all, err := s.log.Describe(*in.StreamArn)
	if err == nil && info.Region != c.region {
		err = streams.ErrStreamNotFound // another region's stream
	}
	if err != nil {
		return nil, streamsError(err, *in.StreamArn, "")
	}
	if in.ShardFilter != nil && in.ShardFilter.Type == "CHILD_SHARDS" {
		var kids []shards.Info
		for _, sh := range all {
			if in.ShardFilter.ShardId != nil && sh.ParentID == *in.ShardFilter.ShardId {
				kids = append(kids, sh)
			}
		}
		all = kids
	}
	d := &streamDescription{
		StreamArn: info.Arn, StreamLabel: info.Label, StreamStatus: "ENABLED",
		StreamViewType: info.ViewType, CreationRequestDateTime: epochTime(info.Created),
		TableName: info.TableName, Shards: []shardWire{},
	}
	if !info.Enabled {
		d.StreamStatus = "DISABLED"
	}
	for _, k := range info.KeySchema {
		d.KeySchema = append(d.KeySchema, map[string]string{"AttributeName": k.AttributeName, "KeyType": k.KeyType})
	}
	// The page starts after ExclusiveStartShardId, or, when no shard has
	// that id, at the first whose id sorts after it (ids sort by creation,
	// as all is listed, by ordinal). An id that is no shard of the
	// stream is no error: a client whose last shard was trimmed between
	// pages goes on with the newer shards, and an id past them all lists
	// none (DynamoDB answers an empty page for "zzzz...").
	i := 0
	if start := in.ExclusiveStartShardId; start != nil {
		i = len(all)
		for j, sh := range all {
			if sh.ID == *start {
				i = j + 1
				break
			}
			if sh.ID > *start && i == len(all) {
				i = j // no such shard (yet): the first after it
			}
		}
	}
	limit := 100
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	for ; i < len(all) && len(d.Shards) < limit; i++ {
		sh := all[i]
		w := shardWire{ShardId: sh.ID, ParentShardId: sh.ParentID,
			SequenceNumberRange: seqRange{StartingSequenceNumber: streams.Seq(sh.Start).String()}}
		if sh.Closed {
			w.SequenceNumberRange.EndingSequenceNumber = streams.Seq(sh.End).String()
		}
		d.Shards = append(d.Shards, w)
	}
	if i < len(all) {
		d.LastEvaluatedShardId = d.Shards[len(d.Shards)-1].ShardId
	}
	return map[string]any{"StreamDescription": d}, nil
}

func (s *Server) getShardIterator(ctx context.Context, c *call) (any, error) {
	var in struct {
		StreamArn         *string `json:"StreamArn"`
		ShardId           *string `json:"ShardId"`
		ShardIteratorType *string `json:"ShardIteratorType"`
		SequenceNumber    *string `json:"SequenceNumber"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	v.arn(in.StreamArn, "streamArn", true)
	v.notNull(in.ShardId != nil, "shardId")
	v.shardID(in.ShardId, "shardId")
	v.notNull(in.ShardIteratorType != nil, "shardIteratorType")
	if in.ShardIteratorType != nil {
		v.enum(*in.ShardIteratorType, "shardIteratorType", streams.TrimHorizon, streams.Latest, streams.AtSequenceNumber, streams.AfterSequenceNumber)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if !isStreamArn(*in.StreamArn) {
		return nil, invalidStreamArn()
	}
	typ, seq := *in.ShardIteratorType, ""
	if typ == streams.AtSequenceNumber || typ == streams.AfterSequenceNumber {
		if in.SequenceNumber == nil {
			return nil, ddberr.Validationf("Must provide SequenceNumber for ShardIteratorType %s", typ)
		}
		seq = *in.SequenceNumber
	} else if in.SequenceNumber != nil {
		return nil, ddberr.Validationf("Cannot provide SequenceNumber for ShardIteratorType %s", typ)
	}
	if err := s.log.Sync(); err != nil {
		return nil, err
	}
	if !arnInRegion(*in.StreamArn, c.region) {
		return nil, streamsError(streams.ErrStreamNotFound, *in.StreamArn, *in.ShardId)
	}
	it, err := s.log.NewIterator(*in.StreamArn, *in.ShardId, typ, seq)
	if err != nil {
		return nil, streamsError(err, *in.StreamArn, *in.ShardId)
	}
	return map[string]string{"ShardIterator": it}, nil
}

func (s *Server) getRecords(ctx context.Context, c *call) (any, error) {
	var in struct {
		ShardIterator *string `json:"ShardIterator"`
		Limit         *int64  `json:"Limit"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	var v constraints
	v.notNull(in.ShardIterator != nil, "shardIterator")
	if in.ShardIterator != nil {
		v.length(*in.ShardIterator, "shardIterator", 1, 2048)
	}
	v.limit(in.Limit, "limit", 1000)
	if err := v.err(); err != nil {
		return nil, err
	}
	limit := 1000
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	recs, next, err := s.log.ReadIterator(*in.ShardIterator, limit)
	if err != nil {
		return nil, streamsError(err, "", "")
	}
	buf := append(make([]byte, 0, 256*len(recs)+256), `{"Records":[`...)
	for i := range recs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = s.log.AppendRecordJSON(buf, &recs[i])
	}
	buf = append(buf, ']')
	if next != "" {
		buf = append(buf, `,"NextShardIterator":`...)
		buf = attr.AppendJSONString(buf, next)
	}
	buf = append(buf, '}')
	return rawJSON(buf), nil
}

// arnInRegion reports whether an ARN names region (its fourth field): a
// request acts on its own region's resources only, as a regional endpoint
// knows no others.
func arnInRegion(arn, region string) bool {
	f := strings.SplitN(arn, ":", 5)
	return len(f) == 5 && f[3] == region
}
