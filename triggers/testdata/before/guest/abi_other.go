//go:build !wasip1

package guest

import "errors"

// Stubs so the SDK builds (and its pure-Go parts test) outside wasip1.

var errNotWasm = errors.New("guest: host functions exist only under GOOS=wasip1")

func inputRead() []byte                        { return nil }
func outputWrite([]byte)                       {}
func hostLog(string)                           {}
func tableCall(string, []byte) ([]byte, error) { return nil, errNotWasm }
func hostEmit(string, []byte) error            { return errNotWasm }
