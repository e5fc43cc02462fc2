// Package datadriven reads and rewrites the test files of eddy's
// data-driven tests (store/expr, api's error corpus), in the style of
// pebble's datadriven package:
//
//	# comments and blank lines (kept on rewrite)
//	<command> [args...]
//	<input lines>
//	----
//	<expected output lines>
//	<blank line>
package datadriven

import (
	"bytes"
	"fmt"
	"os"
	"strings"
)

// Case is one command of a file.
type Case struct {
	Line     int // 1-based line of the command
	Cmd      string
	Args     []string
	Input    string
	Expected string
	// Preamble is the comment and blank lines before the command.
	Preamble []string
}

// File is a parsed test file.
type File struct {
	Path  string
	Cases []Case
	// Trailer is the comment and blank lines after the last case.
	Trailer []string
}

// Parse reads a test file.
func Parse(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f := &File{Path: path}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	i := 0
	for i < len(lines) {
		var pre []string
		for i < len(lines) && (lines[i] == "" || strings.HasPrefix(lines[i], "#")) {
			pre = append(pre, lines[i])
			i++
		}
		if i >= len(lines) {
			f.Trailer = pre
			break
		}
		c := Case{Line: i + 1, Preamble: pre}
		fields := strings.Fields(lines[i])
		c.Cmd, c.Args = fields[0], fields[1:]
		i++
		var in []string
		for i < len(lines) && lines[i] != "----" {
			in = append(in, lines[i])
			i++
		}
		if i >= len(lines) {
			return nil, fmt.Errorf("%s:%d: missing ----", path, c.Line)
		}
		i++
		var out []string
		for i < len(lines) && lines[i] != "" {
			out = append(out, lines[i])
			i++
		}
		c.Input = strings.Join(in, "\n")
		c.Expected = strings.Join(out, "\n")
		f.Cases = append(f.Cases, c)
	}
	return f, nil
}

// Write writes the file back with each case's Expected (a -rewrite run).
func (f *File) Write() error {
	var buf bytes.Buffer
	for _, c := range f.Cases {
		for _, l := range c.Preamble {
			buf.WriteString(l + "\n")
		}
		buf.WriteString(strings.Join(append([]string{c.Cmd}, c.Args...), " ") + "\n")
		if c.Input != "" {
			buf.WriteString(c.Input + "\n")
		}
		buf.WriteString("----\n" + c.Expected + "\n")
	}
	for _, l := range f.Trailer {
		buf.WriteString(l + "\n")
	}
	return os.WriteFile(f.Path, buf.Bytes(), 0o644)
}

// Arg reports whether the case has the bare argument a.
func (c *Case) Arg(a string) bool {
	for _, x := range c.Args {
		if x == a {
			return true
		}
	}
	return false
}

// ArgValue returns the value of the argument k=<value>, or "".
func (c *Case) ArgValue(k string) string {
	for _, x := range c.Args {
		if v, ok := strings.CutPrefix(x, k+"="); ok {
			return v
		}
	}
	return ""
}
