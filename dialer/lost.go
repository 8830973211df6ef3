package dialer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redshift-ka/redshift-ka/internal/connwatch"
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
// the connection bad; it is never a timeout, so that crypto/tls keeps it
// for every later call. The pgx backend reports it as a timeout once, to
// the read pgx ignores after a statement (see DESIGN.md).
type ConnLostError struct {
	// Addr is the server's address.
	Addr string
	// Cause says in words why the kernel gave up.
	Cause string
	// Kind names the cause as the error.type attribute of otelka's
	// redshift_ka.connection.losses does: "keepalive_timeout",
	// "user_timeout", "retransmission_timeout", or "timeout" when TCP_INFO
	// could not tell.
	Kind string
	// TCP is what TCP_INFO read when the loss was noticed; nil where it
	// cannot be read (outside Linux).
	TCP *TCPSnapshot
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

// Error says first that the connection to the server was lost, then why.
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
		fmt.Fprintf(&b, "; the statement may have finished on the server: look for server process id %d (pg_stat_activity, or SYS_QUERY_HISTORY on Redshift; outcome.Of looks)", e.ServerPID)
	}
	return b.String()
}

// Unwrap returns [ErrConnectionLost]. The kernel's error (Sys) is not
// unwrapped: it calls itself a timeout, which would undo the above.
func (e *ConnLostError) Unwrap() error { return ErrConnectionLost }

// Is reports the kernel's ETIMEDOUT, which a lost connection is.
func (e *ConnLostError) Is(target error) bool { return target == syscall.ETIMEDOUT }

// TCPSnapshot is the kernel's TCP_INFO of a connection, read when its loss
// was noticed. It is the one type that the loss's log line and otelka's
// instruments read. Its fields:
//
//	State             string        // such as "ESTABLISHED"; "CLOSE" once the kernel gave up
//	Probes            int           // keep-alive probes sent without an answer
//	Retransmits       int           // retransmissions of the oldest unacknowledged data
//	RTT, RTTVar       time.Duration // smoothed round-trip time and its mean deviation
//	SinceDataReceived time.Duration // since data was last received
//	SinceDataSent     time.Duration // since data was last sent
//	SinceAckReceived  time.Duration // since an acknowledgement was last received
//	TotalRetrans      int           // segments retransmitted over the connection's life
//	Unacked           int           // segments sent and not acknowledged
//	Pending           bool          // data unacknowledged or not yet sent
type TCPSnapshot = sockopt.Info

// lostState is kept on the connection for the error above.
type lostState struct {
	pid  atomic.Uint32
	sent atomic.Int64 // Unix nanoseconds of the last write
	err  atomic.Pointer[ConnLostError]
}

// Read reads from the connection; a connection the kernel ended for want
// of answers comes back as a [*ConnLostError].
func (c *Conn) Read(p []byte) (int, error) {
	if e := c.lost.err.Load(); e != nil {
		return 0, c.opError("read", e)
	}
	n, err := c.TCPConn.Read(p)
	return n, c.check("read", err)
}

// Write writes to the connection; see [Conn.Read] for errors.
func (c *Conn) Write(p []byte) (int, error) {
	if e := c.lost.err.Load(); e != nil {
		return 0, c.opError("write", e)
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
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.TCPConn.RemoteAddr(), Err: err}
}

// LostNetwork is the network of a lost connection's [Conn.RemoteAddr]. A
// [Dialer] refuses to dial it with [ErrNoCancel]: pgx dials RemoteAddr to
// cancel the statement of a connection it drops (see DESIGN.md).
const LostNetwork = "redshift-ka-lost"

// ErrNoCancel is the error of a dial to a lost connection's address.
var ErrNoCancel = errors.New("redshift-ka: no cancel request for the statement of a lost connection: it may still finish on the server")

// RemoteAddr returns the server's address; once the connection is lost,
// with [LostNetwork] for its network.
func (c *Conn) RemoteAddr() net.Addr {
	a := c.TCPConn.RemoteAddr()
	if a != nil && c.lost.err.Load() != nil {
		return lostAddr{a}
	}
	return a
}

// lostAddr is a lost connection's remote address.
type lostAddr struct{ net.Addr }

func (lostAddr) Network() string { return LostNetwork }

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
		return c.opError(op, e)
	}
	timedOut := errors.Is(err, syscall.ETIMEDOUT)
	if !timedOut && !errors.Is(err, io.EOF) && !errors.Is(err, syscall.EPIPE) {
		if c.watch != nil && errors.Is(err, syscall.ECONNRESET) {
			connwatch.Lost(c.watch, connwatch.Loss{Cause: connwatch.CauseReset, InFlight: op == "read"})
		}
		return err
	}
	info, infoErr := sockopt.TCPInfo(c.TCPConn)
	aborted := infoErr == nil && info.State == "CLOSE" && (info.Probes > 0 || info.Retransmits > 0)
	if !timedOut && !aborted {
		return err
	}
	settings, _ := observe(c.TCPConn) // the options stay readable after the abort
	lost := &ConnLostError{
		Addr:      c.TCPConn.RemoteAddr().String(),
		Cause:     describeLost(info, settings),
		Kind:      lossCause(info, settings),
		Settings:  settings,
		ServerPID: c.lost.pid.Load(),
		Sys:       err,
	}
	if infoErr == nil {
		lost.TCP = &info
	}
	if ns := c.lost.sent.Load(); ns != 0 {
		lost.Sent = time.Unix(0, ns)
	}
	if !c.lost.err.CompareAndSwap(nil, lost) {
		lost = c.lost.err.Load() // a concurrent Read or Write got there first
	} else {
		c.reportLost(op, lost)
	}
	return c.opError(op, lost)
}

// reportLost logs a loss and tells the observers of it.
func (c *Conn) reportLost(op string, lost *ConnLostError) {
	cause := lost.Kind
	inFlight := op == "read" || cause == connwatch.CauseUserTimeout || cause == connwatch.CauseRetransmits
	if c.log != nil {
		attrs := []slog.Attr{slog.String("addr", lost.Addr), slog.String("cause", cause),
			slog.Bool("statement_running", inFlight), slog.Uint64("server_pid", uint64(lost.ServerPID))}
		if info := lost.TCP; info != nil {
			attrs = append(attrs, slog.Int("probes_unanswered", info.Probes), slog.Int("retransmits", info.TotalRetrans),
				slog.Duration("rtt", info.RTT), slog.Duration("rttvar", info.RTTVar),
				slog.Duration("since_receive", info.SinceDataReceived), slog.Duration("since_send", info.SinceDataSent))
		}
		c.log.LogAttrs(context.Background(), slog.LevelWarn, "redshift-ka: connection lost", attrs...)
	}
	if c.watch != nil {
		connwatch.Lost(c.watch, connwatch.Loss{Cause: cause, InFlight: inFlight})
	}
}

// lossCause names the cause describeLost words.
func lossCause(a sockopt.Info, s Observed) string {
	data := a.Pending || a.Retransmits > 0
	switch {
	case data && s.UserTimeout > 0:
		return connwatch.CauseUserTimeout
	case data:
		return connwatch.CauseRetransmits
	case a.Probes > 0:
		return connwatch.CauseKeepAlive
	}
	return connwatch.CauseUnresponsive
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
