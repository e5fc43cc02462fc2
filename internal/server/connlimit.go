package server

import (
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// connListener caps the connections the HTTP server holds open. Unlike
// netutil.LimitListener it never blocks Accept (a connection left in the
// kernel's backlog looks like a hung server) and it does not let idle
// keep-alive connections, or clients that stall their request bodies,
// starve new ones:
//
//  1. below max, a new connection is accepted;
//  2. at max, one open connection is closed and the new one takes its
//     place: the one idle longest if it has been idle (between two
//     requests, per the server's ConnState) for stallAfter; else the one
//     whose request body has been stalled longest, if for stallAfter
//     (a legitimate body of the sizes DynamoDB takes arrives in well
//     under a second); else the one idle longest;
//  3. with none of those, the new connection is accepted into a small
//     reserve (reserveConns) that serves only /healthz and /metrics, so a
//     probe still gets an answer while the cap holds; other requests on it
//     are answered with the throttling error and the connection is closed;
//  4. with the reserve full too, the reserve connection that has been
//     waiting longest without a request in progress is closed for it, and
//     failing that the new connection is closed at once.
//
// A connection whose request is running (its body read) is never closed
// here: the write deadline bounds how long it lasts. Safe for concurrent
// use.
type connListener struct {
	net.Listener
	max        int // regular connections; the reserve is on top
	reserve    int
	stallAfter time.Duration // idle or stalled this long: closed first at the cap
	m          *httpMetrics
	log        *slog.Logger

	mu       sync.Mutex
	open     int // regular connections open
	reserved int // reserve connections open
	conns    map[*limitConn]struct{}
	atCap    bool // logged "connection cap reached", not yet "below"
}

// reserveConns is how many connections beyond the cap are kept for
// /healthz and /metrics.
const reserveConns = 16

// stallAfter is how long a connection must be idle, or its request body
// stalled, to be closed first at the cap.
const stallAfter = time.Second

func newConnListener(ln net.Listener, max int, m *httpMetrics, log *slog.Logger) *connListener {
	return &connListener{Listener: ln, max: max, reserve: reserveConns, stallAfter: stallAfter, m: m, log: log,
		conns: make(map[*limitConn]struct{})}
}

// limitConn is one accepted connection, counted until it is closed.
type limitConn struct {
	net.Conn
	l       *connListener
	reserve bool // accepted beyond the cap: /healthz and /metrics only
	// bodySince is when the request in progress started to send its body
	// (unix nanoseconds), 0 when none is being read; set by the handler.
	bodySince atomic.Int64

	// guarded by l.mu
	active   bool      // a request is in progress (http.StateActive)
	idleOnce bool      // it has finished a request (http.StateIdle seen)
	since    time.Time // accepted, or last became idle
	closed   bool
}

// Close closes the connection and gives its place back; later calls only
// close the net.Conn again (which reports its own error).
func (c *limitConn) Close() error {
	c.l.release(c)
	return c.Conn.Close()
}

func (l *connListener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if c := l.admit(nc); c != nil {
			return c, nil
		}
		l.m.connsRejected.Inc()
		_ = nc.Close() // refused: nothing was read or written on it
	}
}

// admit places nc as a regular or a reserve connection, closing an idle
// one to make room if it must; nil means refused.
func (l *connListener) admit(nc net.Conn) *limitConn {
	c := &limitConn{Conn: nc, l: l, since: time.Now()}
	for range 3 { // a victim closes outside the lock; retry after it
		l.mu.Lock()
		if l.open < l.max {
			l.open++
			if l.atCap && l.open < l.max*9/10 {
				l.atCap = false
				l.log.Info("http: connections below the cap again", "open", l.open, "max", l.max)
			}
			l.conns[c] = struct{}{}
			l.mu.Unlock()
			return c
		}
		if !l.atCap {
			l.atCap = true
			l.log.Warn("http: connection cap reached: closing idle connections, then refusing",
				"max", l.max, "reserve", l.reserve)
		}
		now := time.Now()
		victim := l.oldest(func(v *limitConn) bool { return !v.reserve && v.idle() && now.Sub(v.since) >= l.stallAfter })
		if victim == nil {
			victim = l.stalledLongest(now)
		}
		if victim == nil {
			victim = l.oldest(func(v *limitConn) bool { return !v.reserve && v.idle() })
		}
		if victim == nil && l.reserved < l.reserve {
			l.reserved++
			c.reserve = true
			l.conns[c] = struct{}{}
			l.mu.Unlock()
			return c
		}
		if victim == nil {
			victim = l.oldest(func(v *limitConn) bool { return v.reserve && !v.active })
		}
		l.mu.Unlock()
		if victim == nil {
			return nil
		}
		l.m.connsEvicted.Inc()
		_ = victim.Close() // the server's read on it ends with an error: nothing to report
	}
	return nil
}

// idle reports a keep-alive connection between two requests; l.mu held.
// A connection that has not sent its first request yet is not idle: the
// header timeout bounds it.
func (c *limitConn) idle() bool { return c.idleOnce && !c.active }

// oldest returns the matching open connection waiting longest; l.mu held.
func (l *connListener) oldest(match func(*limitConn) bool) *limitConn {
	var v *limitConn
	for c := range l.conns {
		if !c.closed && match(c) && (v == nil || c.since.Before(v.since)) {
			v = c
		}
	}
	return v
}

// stalledLongest returns the regular connection whose request body has
// been stalled longest, for at least stallAfter; l.mu held.
func (l *connListener) stalledLongest(now time.Time) *limitConn {
	var v *limitConn
	var vSince int64
	limit := now.Add(-l.stallAfter).UnixNano()
	for c := range l.conns {
		if c.closed || c.reserve {
			continue
		}
		if b := c.bodySince.Load(); b != 0 && b <= limit && (v == nil || b < vSince) {
			v, vSince = c, b
		}
	}
	return v
}

func (l *connListener) release(c *limitConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	delete(l.conns, c)
	if c.reserve {
		l.reserved--
	} else {
		l.open--
	}
}

// connState follows the server's view of each connection (http.Server's
// ConnState): idle connections are the first to be closed at the cap.
func (l *connListener) connState(nc net.Conn, st http.ConnState) {
	c, ok := nc.(*limitConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch st {
	case http.StateActive:
		c.active = true
	case http.StateIdle:
		c.active, c.idleOnce, c.since = false, true, time.Now()
	}
}

// counts returns the regular and reserve connections open.
func (l *connListener) counts() (open, reserved int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open, l.reserved
}
