package api

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/eddydb/eddy/internal/ddberr"
)

// constraints collects the front end's member constraint violations and
// renders them as DynamoDB does:
//
//	1 validation error detected: Value 'ab' at 'tableName' failed to satisfy
//	constraint: Member must have length greater than or equal to 3
//
// with "N validation errors detected: ...; ..." for several.
type constraints struct{ msgs []string }

func (c *constraints) fail(value any, at, rule string) {
	var v string
	switch x := value.(type) {
	case nil:
		v = "null"
	case *string:
		if x == nil {
			v = "null"
		} else {
			v = "'" + *x + "'"
		}
	case string:
		v = "'" + x + "'"
	case *int64:
		if x == nil {
			v = "null"
		} else {
			v = "'" + strconv.FormatInt(*x, 10) + "'"
		}
	default:
		v = fmt.Sprintf("'%v'", x)
	}
	c.msgs = append(c.msgs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", v, at, rule))
}

func (c *constraints) err() error {
	switch len(c.msgs) {
	case 0:
		return nil
	case 1:
		return ddberr.Validationf("1 validation error detected: %s", c.msgs[0])
	}
	return ddberr.Validationf("%d validation errors detected: %s", len(c.msgs), strings.Join(c.msgs, "; "))
}

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

// tableName checks a TableName member (3-255 of [a-zA-Z0-9_.-]).
func (c *constraints) tableName(name *string, at string) {
	if name == nil {
		c.fail(nil, at, "Member must not be null")
		return
	}
	c.resourceName(*name, at)
}

func (c *constraints) resourceName(name, at string) {
	if !namePattern.MatchString(name) {
		c.fail(name, at, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
	}
	if len(name) < 3 {
		c.fail(name, at, "Member must have length greater than or equal to 3")
	}
	if len(name) > 255 {
		c.fail(name, at, "Member must have length less than or equal to 255")
	}
}

func (c *constraints) enum(v string, at string, allowed ...string) {
	if v == "" {
		return
	}
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	c.fail(v, at, "Member must satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
}

func (c *constraints) notNull(present bool, at string) {
	if !present {
		c.fail(nil, at, "Member must not be null")
	}
}
