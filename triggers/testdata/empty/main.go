// Command empty is the smallest handler: it reads nothing and returns null.
// Used by the benchmarks to measure host overhead.
package main

import "github.com/eddydb/eddy/triggers/guest"

func init() {
	guest.Handle(func([]byte) ([]byte, error) { return nil, nil })
}

func main() {}
