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
func serializesConditionalPublish(v string) bool { return atLeast(v, 2, 10) }

// filtersSeveralSubjects reports whether nats-server version v takes a
// consumer with several filter subjects (2.10 and later): a re-backfill's
// markers then have a subject of their own (Manager.markSubject).
func filtersSeveralSubjects(v string) bool { return atLeast(v, 2, 10) }

// atLeast reports whether version v is major.minor or later; an unreadable
// version is given the benefit of the doubt.
func atLeast(v string, major, minor int) bool {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		return true
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return true
	}
	return ma > major || (ma == major && mi >= minor)
}
