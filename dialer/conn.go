package dialer

import (
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/sysfallback"
)

// Conn is a TCP connection made by a [Dialer]. It is a [*net.TCPConn] that
// also knows the settings it was dialed with.
type Conn struct {
	*net.TCPConn
	cfg  *dsnparse.Config // the dialer's, shared by its connections
	lost lostState
}

// Config returns the settings the connection was dialed with.
func (c *Conn) Config() dsnparse.Config { return *c.cfg }

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
	if o.UserTimeout > 0 && userTimeoutSupported && o.Interval > 0 {
		probes := time.Duration(1)
		if rest := o.UserTimeout - o.Idle - o.Interval; rest > 0 {
			probes += (rest + o.Interval - 1) / o.Interval
		}
		return o.Idle + probes*o.Interval
	}
	return o.Idle + time.Duration(o.Count)*o.Interval
}

// Observe reads the keep-alive options in force on c with getsockopt. On
// Linux the kernel reports its namespace's sysctl for an option no one set,
// so the answer is the truth either way. Where the platform cannot read
// them back (Windows), the error wraps errors.ErrUnsupported.
func Observe(c syscall.Conn) (Observed, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return Observed{}, err
	}
	var o Observed
	var opErr error
	if err := rc.Control(func(fd uintptr) { o, opErr = readSockopts(fd) }); err != nil {
		return Observed{}, err
	}
	if opErr != nil {
		return Observed{}, fmt.Errorf("redshift-ka: read socket options: %w", opErr)
	}
	return o, nil
}

// Source tells where a value in force came from.
type Source struct {
	// Key is the DSN key that mentioned the setting, as written; empty if
	// the DSN did not.
	Key string
	// OS names the operating system's source (a sysctl, a registry value)
	// when the value is the OS's: the DSN omitted it or set it to 0.
	OS string
	// Unused is true when the DSN set the value but keep-alive is off, so
	// the dialer did not apply it.
	Unused bool
}

func (s Source) String() string {
	switch {
	case s.OS != "" && s.Key != "" && s.Unused:
		return "OS " + s.OS + " (" + s.Key + " unused: keep-alive off)"
	case s.OS != "" && s.Key != "":
		return "OS " + s.OS + " (" + s.Key + "=0)"
	case s.OS != "":
		return "OS " + s.OS
	case s.Key != "":
		return "DSN key " + s.Key
	}
	return "redshift-ka default"
}

// Report is what a connection's socket holds, and why.
type Report struct {
	// Observed are the values read from the kernel.
	Observed
	// Where each value came from.
	KeepAliveFrom, IdleFrom, IntervalFrom, CountFrom, UserTimeoutFrom Source
	// OS are the operating system's own values, read now.
	OS sysfallback.Values
	// Config is what the DSN asked for, with the ODBC keys it ignored and
	// the odbc.ini data source it read.
	Config dsnparse.Config
	// Server names the server and its version, as the driver's Settings
	// learn it from the server: "Amazon Redshift 1.0.122914" or
	// PostgreSQL's server_version. Empty when unknown (lib/pq does not
	// tell) and from Resolve.
	Server string
}

// String describes the report on one line.
func (r Report) String() string {
	if !r.KeepAlive {
		return "keep-alive off (" + r.KeepAliveFrom.String() + ")"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "keep-alive on (%s), idle %s (%s), interval %s (%s), count %d (%s)",
		r.KeepAliveFrom, r.Idle, r.IdleFrom, r.Interval, r.IntervalFrom, r.Count, r.CountFrom)
	if r.UserTimeout > 0 {
		fmt.Fprintf(&b, ", user timeout %s (%s)", r.UserTimeout, r.UserTimeoutFrom)
	}
	return b.String()
}

// Report reads the options in force on the socket and says where each
// came from. The OS values are read from the calling thread's view (on
// Linux, its network namespace).
func (c *Conn) Report() (Report, error) {
	o, err := Observe(c.TCPConn)
	if err != nil {
		return Report{}, err
	}
	osv, err := sysfallback.Read()
	if err != nil {
		return Report{}, err
	}
	r := Resolve(*c.cfg, osv)
	r.Observed = o // the kernel's word, not our expectation
	return r, nil
}

// Resolve says, without dialing, what a socket dialed with cfg holds where
// the OS values are osv, and where each value comes from: the DSN's
// non-zero values, the OS's for the rest. With keep-alive off the dialer
// sets neither idle, interval nor count, so all three are the OS's.
func Resolve(cfg dsnparse.Config, osv sysfallback.Values) Report {
	on := !cfg.NoKeepAlive
	r := Report{
		Observed: Observed{KeepAlive: on, Idle: osv.Idle, Interval: osv.Interval, Count: osv.Count, UserTimeout: cfg.UserTimeout},
		OS:       osv,
		Config:   cfg,
	}
	from := func(s dsnparse.Setting, set, probe bool, osName string) Source {
		src := Source{Key: cfg.Keys[s]}
		if !set || probe && !on {
			src.OS = osName
			src.Unused = set
		}
		return src
	}
	r.KeepAliveFrom = Source{Key: cfg.Keys[dsnparse.KeepAlive]}
	r.IdleFrom = from(dsnparse.Idle, cfg.Idle > 0, true, osv.IdleFrom)
	r.IntervalFrom = from(dsnparse.Interval, cfg.Interval > 0, true, osv.IntervalFrom)
	r.CountFrom = from(dsnparse.Count, cfg.Count > 0, true, osv.CountFrom)
	r.UserTimeoutFrom = from(dsnparse.UserTimeout, cfg.UserTimeout > 0, false, osUserTimeout)
	if r.IdleFrom.OS == "" {
		r.Idle = cfg.Idle
	}
	if r.IntervalFrom.OS == "" {
		r.Interval = cfg.Interval
	}
	if r.CountFrom.OS == "" {
		r.Count = cfg.Count
	}
	return r
}
