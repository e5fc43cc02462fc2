package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A server the harness benchmarks: started as a child process, stopped with
// SIGTERM by PID.
type server struct {
	name string
	url  string
	pid  int
	cmd  *exec.Cmd
	logs *bytes.Buffer
	exit chan error
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServer runs bin with args (addr substituted for "{addr}") and waits
// until GET /healthz answers 200.
func startServer(ctx context.Context, name, bin string, args ...string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "{addr}", addr)
	}
	s := &server{name: name, url: "http://" + addr, logs: &bytes.Buffer{}, exit: make(chan error, 1)}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout = s.logs
	s.cmd.Stderr = s.logs
	// If the harness dies, the server goes with it.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s.pid = s.cmd.Process.Pid
	go func() { s.exit <- s.cmd.Wait() }()

	deadline := time.Now().Add(30 * time.Second)
	hc := &http.Client{Timeout: time.Second}
	for {
		select {
		case err := <-s.exit:
			return nil, fmt.Errorf("%s exited before it was healthy (%v):\n%s", name, err, s.logs)
		default:
		}
		if resp, err := hc.Get(s.url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			_ = s.stop()
			return nil, fmt.Errorf("%s never became healthy at %s:\n%s", name, s.url, s.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop sends SIGTERM to the server's PID and waits for it to exit (SIGKILL
// after 15 s). A non-zero exit is reported with the server's log.
func (s *server) stop() error {
	_ = syscall.Kill(s.pid, syscall.SIGTERM)
	select {
	case err := <-s.exit:
		if err != nil {
			return fmt.Errorf("%s: exit: %v:\n%s", s.name, err, s.logs)
		}
		return nil
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(s.pid, syscall.SIGKILL)
		<-s.exit
		return fmt.Errorf("%s did not stop within 15s of SIGTERM; killed", s.name)
	}
}

// moduleRoot is the directory of the main module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside a Go module: run the harness from the eddy repository")
	}
	return filepath.Dir(mod), nil
}

// goBuild runs `go build -o out pkg` in dir.
func goBuild(ctx context.Context, dir, out, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s in %s: %v\n%s", pkg, dir, err, b)
	}
	return nil
}

// checkoutRef writes the tree of a git ref into dir with `git archive`
// (read-only on the repository: no worktree or index state is touched,
// which matters while others commit in the same repository) and returns
// the ref's short commit hash.
func checkoutRef(ctx context.Context, repo, ref, dir string) (string, error) {
	rev, err := exec.CommandContext(ctx, "git", "-C", repo, "rev-parse", "--short", ref+"^{commit}").Output()
	if err != nil {
		return "", fmt.Errorf("git rev-parse %s: %w", ref, err)
	}
	short := strings.TrimSpace(string(rev))
	cmd := exec.CommandContext(ctx, "git", "-C", repo, "archive", "--format=tar", short)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", err
	}
	if err := untar(stdout, dir); err != nil {
		_ = cmd.Wait()
		return "", fmt.Errorf("git archive %s: %w", ref, err)
	}
	if err := cmd.Wait(); err != nil {
		return "", fmt.Errorf("git archive %s: %v: %s", ref, err, stderr.String())
	}
	return short, nil
}

func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(p, filepath.Clean(dir)+string(os.PathSeparator)) {
			continue
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o777)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}

// fetchProfile saves a CPU profile of the server over the next seconds
// (the profserve build serves net/http/pprof).
func fetchProfile(url string, seconds int, path string) error {
	resp, err := http.Get(url + "/debug/pprof/profile?seconds=" + strconv.Itoa(seconds))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: HTTP %d (is the server the profserve build?)", resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
