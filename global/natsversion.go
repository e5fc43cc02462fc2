package global

import (
	"strconv"
	"strings"
)

// serializesConditionalPublish reports whether nats-server version v
// (nats.Conn.ConnectedServerVersion, "2.9.10") checks a publish's
// Nats-Expected-Last-Subject-Sequence against the publishes still in
// flight in a clustered stream. 2.9 up to at least 2.9.20 does not
// (nats-io/nats-server#4320): two regions' MRSC writes to one item can
// then both be stored. eddy asks for 2.10 or later, released after the
// fix. An unreadable version is given the benefit of the doubt.
func serializesConditionalPublish(v string) bool {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		return true
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return true
	}
	return major > 2 || (major == 2 && minor >= 10)
}
