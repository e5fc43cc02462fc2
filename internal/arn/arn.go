// Package arn builds the Amazon Resource Names eddy hands out: tables,
// their streams, KMS keys, Lambda functions and event source mappings, all
// in one account of one region (eddy serves one of each).
//
//	arn:<partition>:dynamodb:<region>:<account>:table/<name>
//	arn:<partition>:dynamodb:<region>:<account>:table/<name>/index/<index>
//	arn:<partition>:dynamodb:<region>:<account>:table/<name>/stream/<label>
//	arn:<partition>:kms:<region>:<account>:key/<id>      (or :alias/<name>)
//	arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]
//	arn:<partition>:lambda:<region>:<account>:event-source-mapping:<uuid>
package arn

// Defaults of an Account's fields: DynamoDB Local's and LocalStack's
// account, the SDKs' usual region.
const (
	DefaultPartition = "aws"
	DefaultRegion    = "us-east-1"
	DefaultAccount   = "000000000000"
)

// Account is where eddy's resources live. The zero value is usable: empty
// fields mean the defaults above.
type Account struct {
	Partition string // default "aws"
	Region    string // default "us-east-1"
	ID        string // the 12-digit account ID; default "000000000000"
}

// WithDefaults returns a with its empty fields set to the defaults.
func (a Account) WithDefaults() Account {
	if a.Partition == "" {
		a.Partition = DefaultPartition
	}
	if a.Region == "" {
		a.Region = DefaultRegion
	}
	if a.ID == "" {
		a.ID = DefaultAccount
	}
	return a
}

// prefix returns "arn:<partition>:<service>:<region>:<account>:".
func (a Account) prefix(service string) string {
	a = a.WithDefaults()
	return "arn:" + a.Partition + ":" + service + ":" + a.Region + ":" + a.ID + ":"
}

// TablePrefix is the ARN of every table up to its name
// ("arn:aws:dynamodb:<region>:<account>:table/").
func (a Account) TablePrefix() string { return a.prefix("dynamodb") + "table/" }

// Table is a table's ARN.
func (a Account) Table(name string) string { return a.TablePrefix() + name }

// Index is the ARN of a table's secondary index.
func (a Account) Index(table, index string) string { return a.Table(table) + "/index/" + index }

// Stream is the ARN of a table's stream with the given label (its
// creation time, DynamoDB's StreamLabel).
func (a Account) Stream(table, label string) string { return a.Table(table) + "/stream/" + label }

// KMSKey is the ARN of a KMS key given by id ("1234abcd-...") or by alias
// ("alias/name").
func (a Account) KMSKey(key string) string {
	if len(key) >= 6 && key[:6] == "alias/" {
		return a.prefix("kms") + key
	}
	return a.prefix("kms") + "key/" + key
}

// Function is a Lambda function's ARN, with ":<qualifier>" (a version or
// an alias) when qualifier is not empty.
func (a Account) Function(name, qualifier string) string {
	s := a.prefix("lambda") + "function:" + name
	if qualifier != "" {
		s += ":" + qualifier
	}
	return s
}

// Mapping is an event source mapping's ARN.
func (a Account) Mapping(uuid string) string {
	return a.prefix("lambda") + "event-source-mapping:" + uuid
}
