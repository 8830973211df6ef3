package dialer

import (
	"log/slog"
	"net"
	"time"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/connwatch"
	"github.com/redshift-ka/redshift-ka/internal/serverpid"
	"github.com/redshift-ka/redshift-ka/internal/sockopt"
)

// Conn is a TCP connection made by a [Dialer]. It is a [*net.TCPConn] that
// also knows the settings it was dialed with, and reports a connection the
// kernel ended for want of answers as a [*ConnLostError].
type Conn struct {
	*net.TCPConn
	cfg   *dsnparse.Config // the dialer's, shared by its connections
	lost  lostState
	watch *connwatch.Conn // nil unless an observer was registered at the dial
	log   *slog.Logger    // the dialer's; may be nil
}

// Close closes the connection.
func (c *Conn) Close() error {
	if c.watch != nil {
		connwatch.Closed(c.watch)
	}
	return c.TCPConn.Close()
}

// Config returns the settings the connection was dialed with.
func (c *Conn) Config() dsnparse.Config { return *c.cfg }

func init() {
	serverpid.Set = func(c net.Conn, s serverpid.Session) {
		if t, ok := c.(interface{ NetConn() net.Conn }); ok {
			c = t.NetConn()
		}
		if kc, ok := c.(*Conn); ok {
			kc.lost.pid.Store(s.PID)
			if kc.watch != nil {
				kc.watch.SetSession(connwatch.Session{System: s.System, Namespace: s.Database})
			}
		}
	}
}

// Observed are keep-alive options as the kernel holds them on a socket.
type Observed struct {
	// KeepAlive is SO_KEEPALIVE.
	KeepAlive bool
	// Idle is TCP_KEEPIDLE (TCP_KEEPALIVE on macOS).
	Idle time.Duration
	// Interval is TCP_KEEPINTVL.
	Interval time.Duration
	// Count is TCP_KEEPCNT.
	Count int
	// UserTimeout is TCP_USER_TIMEOUT; zero where unset or unsupported.
	UserTimeout time.Duration
}

// observe reads the options in force on c with getsockopt.
func observe(c *net.TCPConn) (Observed, error) {
	ka, err := sockopt.Read(c)
	return Observed(ka), err
}

// DeadAfter is the longest a silent dead path goes unnoticed with these
// options, counted from the last packet received: Idle, then Count probes
// Interval apart. On Linux, when UserTimeout is set it replaces Count: the
// kernel gives up at the first probe tick at least UserTimeout after the
// last packet received, and at least one probe after Idle. Zero when
// keep-alive is off: then a dead path is not noticed while the connection
// is silent (tcp_user_timeout still ends one with data in flight).
func (o Observed) DeadAfter() time.Duration {
	if !o.KeepAlive {
		return 0
	}
	if o.UserTimeout > 0 && sockopt.UserTimeoutSupported && o.Interval > 0 {
		probes := time.Duration(1)
		if rest := o.UserTimeout - o.Idle - o.Interval; rest > 0 {
			probes += (rest + o.Interval - 1) / o.Interval
		}
		return o.Idle + probes*o.Interval
	}
	return o.Idle + time.Duration(o.Count)*o.Interval
}
