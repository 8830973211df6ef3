package dialer

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redshift-ka/redshift-ka/internal/sockopt"
)

// ErrConnectionLost is wrapped by every [*ConnLostError].
var ErrConnectionLost = errors.New("redshift-ka: connection lost")

// ConnLostError reports a connection the kernel ended because the server
// stopped answering: its keep-alive probes went unanswered, or data it sent
// stayed unacknowledged past tcp_user_timeout. The statement may still have
// finished on the server; ServerPID says which session to look for. Check
// for it with errors.Is(err, [ErrConnectionLost]) or errors.As;
// errors.Is(err, syscall.ETIMEDOUT) holds too.
//
// Read and Write return it inside a [*net.OpError], so that lib/pq marks
// the connection bad. The first two times, it comes as a timeout (Timeout
// true): pgx ignores the error of its first read after a statement
// (MultiResultReader.NextResult) and, for any error but a timeout, closes
// the connection there and then reports "conn closed", which database/sql
// takes for a connection that is safe to retry, and runs the statement
// again on another. The second is for pgx's background reader: started
// when a write takes over 15 ms, it can stay blocked in a read through a
// long statement, and it drops a timeout it reads. Every later Read and
// Write returns it as not a timeout, so that pgx closes the connection and
// loops that wait again on a timeout (WaitForNotification) end.
type ConnLostError struct {
	// Addr is the server's address.
	Addr string
	// Cause says in words why the kernel gave up.
	Cause string
	// Settings are the options that were in force on the socket.
	Settings Observed
	// ServerPID is the server process id of the session, 0 if unknown.
	ServerPID uint32
	// Sent is when data was last written to the connection: for a
	// statement that was waiting on the server, when it was sent. Zero if
	// nothing was written.
	Sent time.Time
	// Sys is the error the kernel returned, for its text.
	Sys error
}

func (e *ConnLostError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "redshift-ka: connection to %s lost: %s", e.Addr, e.Cause)
	s := e.Settings
	if s.KeepAlive {
		fmt.Fprintf(&b, " (keep-alive idle %s, interval %s, count %d", s.Idle, s.Interval, s.Count)
	} else {
		b.WriteString(" (keep-alive off")
	}
	if s.UserTimeout > 0 {
		fmt.Fprintf(&b, ", tcp_user_timeout %s", s.UserTimeout)
	}
	b.WriteString(")")
	if e.ServerPID != 0 {
		fmt.Fprintf(&b, "; the statement may have finished on the server: look for server process id %d (pg_stat_activity, or STV_RECENTS and STL_QUERY on Redshift)", e.ServerPID)
	}
	return b.String()
}

// Unwrap returns [ErrConnectionLost]. The kernel's error (Sys) is not
// unwrapped: it calls itself a timeout, which would undo the above.
func (e *ConnLostError) Unwrap() error { return ErrConnectionLost }

// Is reports the kernel's ETIMEDOUT, which a lost connection is.
func (e *ConnLostError) Is(target error) bool { return target == syscall.ETIMEDOUT }

// lostTimeout is a ConnLostError as the first timeoutReturns reports give it: a timeout.
type lostTimeout struct{ *ConnLostError }

func (e lostTimeout) Timeout() bool   { return true }
func (e lostTimeout) Temporary() bool { return false }
func (e lostTimeout) Unwrap() error   { return e.ConnLostError }

// lostState is kept on the connection for the error above.
type lostState struct {
	pid      atomic.Uint32
	sent     atomic.Int64 // Unix nanoseconds of the last write
	err      atomic.Pointer[ConnLostError]
	returned atomic.Int32 // how often err was returned
}

// timeoutReturns is how many times a lost connection's error is returned
// as a timeout; see [ConnLostError].
const timeoutReturns = 2

// lostError returns e as op's error, as a timeout the first
// timeoutReturns times.
func (c *Conn) lostError(op string, e *ConnLostError) error {
	if c.lost.returned.Add(1) <= timeoutReturns {
		return c.opError(op, lostTimeout{e})
	}
	return c.opError(op, e)
}

// Read reads from the connection; a connection the kernel ended for want
// of answers comes back as a [*ConnLostError].
func (c *Conn) Read(p []byte) (int, error) {
	if e := c.lost.err.Load(); e != nil {
		return 0, c.lostError("read", e)
	}
	n, err := c.TCPConn.Read(p)
	return n, c.check("read", err)
}

// Write writes to the connection; see [Conn.Read] for errors.
func (c *Conn) Write(p []byte) (int, error) {
	if e := c.lost.err.Load(); e != nil {
		return 0, c.lostError("write", e)
	}
	n, err := c.TCPConn.Write(p)
	if n > 0 {
		c.lost.sent.Store(time.Now().UnixNano())
	}
	return n, c.check("write", err)
}

// Lost returns the [*ConnLostError] of a connection the kernel ended, or
// nil while it is not known to be lost.
func (c *Conn) Lost() error {
	if e := c.lost.err.Load(); e != nil {
		return e
	}
	return nil
}

func (c *Conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}

// WriteTo copies what is read from the connection to w through
// [Conn.Read]; the promoted method of the embedded socket would go around
// it (io.Copy prefers WriteTo).
func (c *Conn) WriteTo(w io.Writer) (int64, error) {
	return io.Copy(w, struct{ io.Reader }{c})
}

// ReadFrom copies r to the connection through [Conn.Write], for the same
// reason.
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(struct{ io.Writer }{c}, r)
}

// check turns a connection the kernel timed out into a ConnLostError, kept
// for later calls; other errors pass. The kernel reports ETIMEDOUT to one
// call only: a Read and a Write racing on the connection see ETIMEDOUT and
// EOF (or EPIPE), so an EOF or EPIPE on a socket the kernel aborted after
// unanswered probes or retransmissions counts too.
func (c *Conn) check(op string, err error) error {
	if err == nil {
		return nil
	}
	if e := c.lost.err.Load(); e != nil {
		return c.lostError(op, e)
	}
	timedOut := errors.Is(err, syscall.ETIMEDOUT)
	if !timedOut && !errors.Is(err, io.EOF) && !errors.Is(err, syscall.EPIPE) {
		return err
	}
	info, infoErr := sockopt.TCPInfo(c.TCPConn)
	aborted := infoErr == nil && info.State == "CLOSE" && (info.Probes > 0 || info.Retransmits > 0)
	if !timedOut && !aborted {
		return err
	}
	settings, _ := observe(c.TCPConn) // the options stay readable after the abort
	lost := &ConnLostError{
		Addr:      c.RemoteAddr().String(),
		Cause:     describeLost(info, settings),
		Settings:  settings,
		ServerPID: c.lost.pid.Load(),
		Sys:       err,
	}
	if ns := c.lost.sent.Load(); ns != 0 {
		lost.Sent = time.Unix(0, ns)
	}
	if !c.lost.err.CompareAndSwap(nil, lost) {
		lost = c.lost.err.Load() // a concurrent Read or Write got there first
	}
	return c.lostError(op, lost)
}

// describeLost words the cause from what the kernel counted.
func describeLost(a sockopt.Info, s Observed) string {
	// Keep-alive probes go out only when no data waits; with data waiting,
	// the probes counted are zero-window probes and the data is the cause.
	data := a.Pending || a.Retransmits > 0
	switch {
	case data && s.UserTimeout > 0:
		return fmt.Sprintf("sent data stayed unacknowledged for tcp_user_timeout (%s), so the network path or the server is gone", s.UserTimeout)
	case data:
		return "sent data stayed unacknowledged through every retransmission, so the network path or the server is gone"
	case a.Probes > 0:
		return fmt.Sprintf("%d keep-alive probes went unanswered, so the network path or the server is gone", a.Probes)
	}
	return "the server stopped answering"
}
