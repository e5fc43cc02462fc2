package api_test

import (
	"go/build"
	"strings"
	"testing"
)

// TestForbiddenImports holds the dependency rule: api speaks the DynamoDB
// and Streams protocols over store and streams and never reaches up into
// the trigger side (internal/server wires those together).
func TestForbiddenImports(t *testing.T) {
	const mod = "github.com/eddydb/eddy/"
	forbidden := []string{mod + "triggers", mod + "mappings", mod + "dlq", mod + "api/lambdaapi", mod + "internal/server", mod + "sinks"}
	seen := map[string]string{} // package → who imported it
	var walk func(path, from string)
	walk = func(path, from string) {
		if _, ok := seen[path]; ok || !strings.HasPrefix(path, mod) && path != "github.com/eddydb/eddy" {
			return
		}
		seen[path] = from
		pkg, err := build.Default.Import(path, ".", 0)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, imp := range pkg.Imports {
			walk(imp, path)
		}
	}
	walk(mod+"api", "")
	for _, f := range forbidden {
		for p, from := range seen {
			if p == f || strings.HasPrefix(p, f+"/") {
				t.Errorf("api depends on %s (imported by %s)", p, from)
			}
		}
	}
}
