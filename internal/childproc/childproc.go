// Package childproc ties a child process's life to its parent's: tests
// and harnesses that start eddy, nats-server or moto as processes call
// DieWithParent, so that a test binary killed by its timeout (which skips
// every t.Cleanup) leaves no server running behind it.
package childproc

import "os/exec"

// DieWithParent arranges for cmd's process to be killed (SIGKILL) when
// the process that started it dies. On Linux it sets the parent-death
// signal; elsewhere it does nothing. Call it before cmd.Start.
func DieWithParent(cmd *exec.Cmd) { dieWithParent(cmd) }
