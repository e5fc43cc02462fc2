// Command sandbox is a test guest that tries to leave its sandbox: read and
// write the host's files, connect to a host port, read the host's
// environment. It reports what each attempt got (TestSandbox).
package main

import (
	"net"
	"os"
	"time"

	"github.com/eddydb/eddy/triggers/guest"
)

type request struct {
	Addr string `json:"addr"` // a TCP address on the host to dial
}

type report struct {
	ReadFile  string   `json:"readFile"`  // os.ReadFile("/etc/passwd")'s error
	ReadDir   string   `json:"readDir"`   // os.ReadDir("/")'s error
	WriteFile string   `json:"writeFile"` // os.WriteFile in /tmp's error
	Chdir     string   `json:"chdir"`     // os.Chdir("/etc")'s error
	Dial      string   `json:"dial"`      // net.Dial's error
	Listen    string   `json:"listen"`    // net.Listen's error
	Env       []string `json:"env"`
	Args      []string `json:"args"`
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func handle(in request) (any, error) {
	var r report
	_, err := os.ReadFile("/etc/passwd")
	r.ReadFile = errText(err)
	_, err = os.ReadDir("/")
	r.ReadDir = errText(err)
	r.WriteFile = errText(os.WriteFile("/tmp/eddy-sandbox-escape", []byte("x"), 0o644))
	r.Chdir = errText(os.Chdir("/etc"))
	c, err := net.DialTimeout("tcp", in.Addr, time.Second)
	if c != nil {
		c.Close()
	}
	r.Dial = errText(err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if l != nil {
		l.Close()
	}
	r.Listen = errText(err)
	r.Env = os.Environ()
	r.Args = os.Args
	return r, nil
}

func init() { guest.HandleJSON(handle) }

func main() {}
