package childproc

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDieWithParent: a grandchild started with DieWithParent by a child
// that is then SIGKILLed (as a test binary killed by its timeout is) dies
// too.
func TestDieWithParent(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the parent-death signal is Linux's")
	}
	if os.Getenv("CHILDPROC_PARENT") != "" {
		// The middle process: start a long sleep that must die with us,
		// print its PID, and wait to be killed.
		c := exec.Command("sleep", "300")
		DieWithParent(c)
		if err := c.Start(); err != nil {
			os.Exit(1)
		}
		os.Stdout.WriteString(strconv.Itoa(c.Process.Pid) + "\n")
		time.Sleep(time.Hour)
		os.Exit(0)
	}
	mid := exec.Command(os.Args[0], "-test.run=^TestDieWithParent$")
	mid.Env = append(os.Environ(), "CHILDPROC_PARENT=1")
	out, err := mid.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := mid.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		mid.Process.Kill()
		t.Fatalf("middle process: %v", err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	if err := mid.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = mid.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("grandchild %d still running 10 s after its parent was killed", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
