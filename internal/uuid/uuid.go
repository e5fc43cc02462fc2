// Package uuid makes the random (version 4) UUIDs eddy hands out: table
// IDs in DescribeTable, function revision IDs, invocation request IDs,
// event source mapping UUIDs.
package uuid

import (
	"crypto/rand"
	"encoding/hex"
)

// New returns a random version 4 UUID (RFC 9562) in its canonical form:
// 36 lowercase characters, "xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx" with V one
// of 8, 9, a, b. It reads 16 bytes from crypto/rand (which does not fail).
func New() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // variant 10
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
