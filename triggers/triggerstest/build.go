// Package triggerstest builds the test guests under triggers/testdata with the
// standard Go toolchain (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared), once
// per name per test process, into a directory removed once the module is
// read. It exists for tests and benchmarks only.
package triggerstest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

var (
	mu    sync.Mutex
	built = map[string]*entry{}
)

type entry struct {
	once sync.Once
	code []byte
	err  error
}

// Build returns the wasm bytes of triggers/testdata/<name>, building it on
// first use. Safe for concurrent use.
func Build(name string) ([]byte, error) { return BuildPackage("./triggers/testdata/" + name) }

// BuildPackage is Build for any package of the module, named by its path
// from the module's root ("./wasm-examples/audit-trail").
func BuildPackage(pkg string) ([]byte, error) {
	name := pkg
	mu.Lock()
	e, ok := built[name]
	if !ok {
		e = &entry{}
		built[name] = e
	}
	mu.Unlock()
	e.once.Do(func() { e.code, e.err = build(name) })
	return e.code, e.err
}

func build(pkg string) ([]byte, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	// The module is read into memory: its directory goes at once, so no
	// test process leaves one behind (TestMain or not).
	d, err := os.MkdirTemp("", "eddy-guest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(d)
	out := filepath.Join(d, "guest.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build guest %s: %w\n%s", pkg, err, msg)
	}
	return os.ReadFile(out)
}
