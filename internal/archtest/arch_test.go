// Package archtest holds the test that keeps ARCHITECTURE.md true: the
// imports between eddy's packages, as `go list` reports them, must be
// exactly the table in ARCHITECTURE.md's "imports" block, and no package
// may break the rules written beside it.
package archtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/eddydb/eddy"

type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Deps         []string
}

// listPackages runs go list over the module (non-test code only).
func listPackages(t *testing.T, root string) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,TestImports,XTestImports,Deps", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errorsAs(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs[rel(p.ImportPath)] = p
	}
	return pkgs
}

func errorsAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}

// rel turns an import path of the module into its folder ("." for the root).
func rel(path string) string {
	if path == module {
		return "."
	}
	return strings.TrimPrefix(path, module+"/")
}

func eddyImports(p pkg) []string {
	var out []string
	for _, imp := range p.Imports {
		if imp == module || strings.HasPrefix(imp, module+"/") {
			out = append(out, rel(imp))
		}
	}
	slices.Sort(out)
	return out
}

// documented reads the fenced "imports" block of ARCHITECTURE.md: one line
// per package, "pkg: dep dep ...".
func documented(t *testing.T, root string) map[string][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc := map[string][]string{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "```imports":
			in = true
			continue
		case in && line == "```":
			in = false
			continue
		case !in || line == "":
			continue
		}
		name, deps, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("ARCHITECTURE.md imports block: %q is not \"pkg: deps\"", line)
		}
		d := strings.Fields(deps)
		slices.Sort(d)
		doc[strings.TrimSpace(name)] = d
	}
	if len(doc) == 0 {
		t.Fatal("ARCHITECTURE.md has no ```imports block")
	}
	return doc
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// TestImportsMatchArchitecture fails when a package's eddy imports differ
// from ARCHITECTURE.md's table (either way: an undocumented import, or a
// documented one that no longer exists), or a package is missing from it.
func TestImportsMatchArchitecture(t *testing.T) {
	root := moduleRoot(t)
	pkgs := listPackages(t, root)
	doc := documented(t, root)
	for name, p := range pkgs {
		got := eddyImports(p)
		want, ok := doc[name]
		if !ok {
			t.Errorf("ARCHITECTURE.md's imports block lacks package %s (imports: %s)", name, strings.Join(got, " "))
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s imports %v; ARCHITECTURE.md says %v", name, got, want)
		}
	}
	for name := range doc {
		if _, ok := pkgs[name]; !ok {
			t.Errorf("ARCHITECTURE.md lists package %s, which does not exist", name)
		}
	}
}

// rules are the directions ARCHITECTURE.md forbids, checked on the full
// transitive dependencies (not just direct imports).
var rules = []struct {
	pkgs   []string // folders the rule applies to (a trailing /... means the subtree)
	forbid []string // import paths (module-relative for eddy, or full) they must not depend on
	why    string
	direct bool // only the packages' own imports, not what they pull in
}{
	{[]string{"store/...", "attr/...", "shards/...", "streams/...", "triggers/...", "dlq/...", "internal/delivery", "mappings", "outbox", "relay"},
		[]string{"api", "lambdaapi", "internal/server", "cwlogs", "sinks", "sinks/search", "sinks/elasticsearch", "sinks/natssink", "sinks/file", "sinks/webhook"},
		"lower layers never import the protocols or the server that wires them", false},
	{[]string{"store/...", "attr/...", "shards/...", "streams/...", "triggers/...", "dlq/...", "internal/delivery"},
		[]string{"mappings"},
		"nothing below the mappings manager calls back up into it (redrive is the manager's operation)", false},
	{[]string{"triggers"},
		[]string{"store", "streams", "dlq"},
		"the wasm host knows no tables: table calls go through triggers.Tables, its keys through triggers.KV", false},
	{[]string{"api"},
		[]string{"lambdaapi", "mappings", "dlq", "triggers", "internal/server", "cwlogs", "sinks"},
		"api keeps the DynamoDB and Streams protocols only", false},
	{[]string{"mappings", "internal/delivery", "dlq", "outbox"},
		[]string{"github.com/aws/aws-sdk-go-v2/service/sqs", "github.com/aws/aws-sdk-go-v2/service/sns", "github.com/aws/aws-sdk-go-v2/service/s3", "github.com/nats-io/nats.go"},
		"the delivery path carries no outbound client SDKs; dlq/destinations and sinks/* are wired by the server", false},
	{[]string{"internal/delivery"},
		[]string{"github.com/tetratelabs/wazero", "triggers"},
		"the delivery engine runs without wasm", false},
	// Pebble pulls net/http in (its metrics and crash reporting), so only
	// the engine's own code is held to this one.
	{[]string{"internal/delivery"},
		[]string{"net/http"},
		"the delivery engine speaks no HTTP", true},
}

func matches(pattern, name string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return name == base || strings.HasPrefix(name, base+"/")
	}
	return name == pattern
}

func TestForbiddenDependencies(t *testing.T) {
	root := moduleRoot(t)
	pkgs := listPackages(t, root)
	for _, r := range rules {
		for name, p := range pkgs {
			if strings.HasSuffix(name, "/e2e") || !slices.ContainsFunc(r.pkgs, func(pat string) bool { return matches(pat, name) }) {
				continue
			}
			deps := p.Deps
			if r.direct {
				deps = p.Imports
			}
			for _, f := range r.forbid {
				if i := slices.IndexFunc(deps, func(dep string) bool {
					return rel(dep) == f || dep == f || strings.HasPrefix(dep, f+"/") && !strings.HasPrefix(dep, module)
				}); i >= 0 {
					t.Errorf("%s depends on %s: %s", name, deps[i], r.why)
				}
			}
		}
	}
}

// TestPebbleOnlyInStore: only package store opens or addresses Pebble;
// every other owner reaches its keys through a store.KeySpace handle (its
// tests too: they open a store, not a Pebble DB).
func TestPebbleOnlyInStore(t *testing.T) {
	root := moduleRoot(t)
	for name, p := range listPackages(t, root) {
		if matches("store/...", name) {
			continue
		}
		for _, imp := range slices.Concat(p.Imports, p.TestImports, p.XTestImports) {
			if strings.HasPrefix(imp, "github.com/cockroachdb/pebble") {
				t.Errorf("%s imports %s: only store touches Pebble", name, imp)
			}
		}
	}
}
