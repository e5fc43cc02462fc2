package store

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// lockHolder returns the process holding the POSIX lock on path (Pebble's
// LOCK file), from /proc/locks, or 0 when it cannot tell (not Linux, the
// lock gone meanwhile, or held by a process in another PID namespace).
func lockHolder(path string) int {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0
	}
	f, err := os.Open("/proc/locks")
	if err != nil {
		return 0
	}
	defer f.Close()
	// "1: POSIX  ADVISORY  WRITE 24590 fe:00:10225642 0 EOF": the device
	// as major:minor in hex, then the inode.
	dev := uint64(st.Dev)
	want := fmt.Sprintf("%02x:%02x:%d", (dev>>8)&0xfff|(dev>>32)&^0xfff, dev&0xff|(dev>>12)&^0xff, st.Ino)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i, fl := range fields {
			if fl == want && i > 0 {
				if pid, err := strconv.Atoi(fields[i-1]); err == nil {
					return pid
				}
			}
		}
	}
	return 0
}

// inUse is the error for a data directory another process has open.
func inUse(dir string) error {
	return &inUseError{dir: dir, pid: lockHolder(dir + string(os.PathSeparator) + "LOCK")}
}

type inUseError struct {
	dir string
	pid int // 0: unknown
}

func (e *inUseError) Error() string {
	who := "another eddy"
	if e.pid > 0 {
		who += fmt.Sprintf(" (pid %d)", e.pid)
	}
	return fmt.Sprintf("%v: %s: the data directory is in use by %s; stop it first, or give this one another --data", ErrDataDir, e.dir, who)
}

// Is matches ErrDataDirInUse and ErrDataDir.
func (e *inUseError) Is(target error) bool { return target == ErrDataDirInUse || target == ErrDataDir }
