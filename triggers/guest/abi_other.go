//go:build !wasip1

package guest

import "errors"

// Stubs so the SDK builds (and its pure-Go parts test) outside wasip1.

var errNotWasm = errors.New("guest: host functions exist only under GOOS=wasip1")

func inputInto(*[]byte) []byte                 { return nil }
func inputIndex(*[]byte) []byte                { return nil }
func outputWrite([]byte)                       {}
func hostLog(string)                           {}
func tableCall(string, []byte) ([]byte, error) { return nil, errNotWasm }
func hostEmit(string, []byte) error            { return errNotWasm }
func hostCallMany([]byte, int) (int, error)    { return 0, errNotWasm }
