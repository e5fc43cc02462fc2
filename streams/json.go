package streams

import (
	"cmp"
	"strconv"

	"github.com/eddydb/eddy/attr"
)

// AppendRecordJSON appends r in DynamoDB Streams' JSON shape, the element
// of GetRecords' "Records" array, and returns the extended buffer:
//
//	{"eventID":"…","eventName":"INSERT|MODIFY|REMOVE","eventVersion":"1.1",
//	 "eventSource":"aws:dynamodb","awsRegion":"<region>",
//	 "dynamodb":{"ApproximateCreationDateTime":<epoch s>,"Keys":{…},
//	             ["NewImage":{…},]["OldImage":{…},]
//	             "SequenceNumber":"<21 digits>","SizeBytes":<n>,"StreamViewType":"…"}
//	 [,"userIdentity":{"PrincipalId":"…","Type":"Service"}]}
//
// The object ends with its closing brace as the last byte, so a Lambda
// event record is this object with `,"eventSourceARN":"…"}` in place of
// that brace (package mappings does so). Safe for concurrent use.
func AppendRecordJSON(dst []byte, r *Record, region string) []byte {
	dst = append(dst, `{"eventID":`...)
	dst = attr.AppendJSONString(dst, r.EventID)
	dst = append(dst, `,"eventName":`...)
	dst = attr.AppendJSONString(dst, r.EventName)
	dst = append(dst, `,"eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":`...)
	dst = attr.AppendJSONString(dst, region)
	dst = append(dst, `,"dynamodb":{"ApproximateCreationDateTime":`...)
	dst = strconv.AppendInt(dst, r.Time.Unix(), 10)
	dst = append(dst, `,"Keys":`...)
	if r.keysEnc != nil { // Log.ReadEncoded: rendered from the stored bytes
		dst = appendStoredJSON(dst, r.keysEnc)
		if r.newEnc != nil {
			dst = appendStoredJSON(append(dst, `,"NewImage":`...), r.newEnc)
		}
		if r.oldEnc != nil {
			dst = appendStoredJSON(append(dst, `,"OldImage":`...), r.oldEnc)
		}
	} else {
		dst = attr.AppendItemJSON(dst, r.Keys)
		if r.New != nil {
			dst = append(dst, `,"NewImage":`...)
			dst = attr.AppendItemJSON(dst, r.New)
		}
		if r.Old != nil {
			dst = append(dst, `,"OldImage":`...)
			dst = attr.AppendItemJSON(dst, r.Old)
		}
	}
	dst = append(dst, `,"SequenceNumber":"`...)
	if r.SeqText != "" {
		dst = append(dst, r.SeqText...)
	} else {
		dst = r.Seq.Append(dst)
	}
	dst = append(dst, `","SizeBytes":`...)
	dst = strconv.AppendInt(dst, int64(r.SizeBytes), 10)
	dst = append(dst, `,"StreamViewType":`...)
	dst = attr.AppendJSONString(dst, r.ViewType)
	dst = append(dst, '}')
	if r.Principal.Type == "Service" {
		dst = append(dst, `,"userIdentity":{"PrincipalId":`...)
		dst = attr.AppendJSONString(dst, r.Principal.ID)
		dst = append(dst, `,"Type":"Service"}`...)
	}
	return append(dst, '}')
}

// AppendRecordJSON is the package function with the record's region (its
// table's), or the log's for a record read elsewhere.
func (l *Log) AppendRecordJSON(dst []byte, r *Record) []byte {
	return AppendRecordJSON(dst, r, cmp.Or(r.Region, l.opts.Region))
}

// appendStoredJSON renders an image ReadEncoded checked when it read it.
func appendStoredJSON(dst, enc []byte) []byte {
	out, err := attr.AppendJSONFromStored(dst, enc)
	if err != nil { // not reached: decodeRecordEncoded validated enc
		panic("streams: " + err.Error())
	}
	return out
}
