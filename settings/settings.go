package settings

import (
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/sockopt"
	"github.com/redshift-ka/redshift-ka/sysfallback"
)

// ErrNotRedshiftKA is returned for a connection that was not dialed by
// redshift-ka over TCP: another driver's, or a Unix-domain socket, where
// keep-alive does not apply.
var ErrNotRedshiftKA = errors.New("redshift-ka: connection was not dialed by redshift-ka over TCP")

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

// String names the source, as check prints it.
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
	// Observed are the values in force: read from the kernel when
	// FromSocket is true, else resolved from the DSN and the OS values.
	dialer.Observed
	// FromSocket is true when the values were read back from the socket
	// with getsockopt, false when they were resolved (by [Resolve], or by
	// [Read] where the OS cannot read them back: Windows).
	FromSocket bool
	// Where each value came from.
	KeepAliveFrom, IdleFrom, IntervalFrom, CountFrom, UserTimeoutFrom Source
	// OS are the operating system's own values, read now.
	OS sysfallback.Values
	// Config is what the DSN asked for, with the ODBC keys it ignored and
	// the odbc.ini data source it read.
	Config dsnparse.Config
	// Server names the server and its version: "Amazon Redshift
	// 1.0.122914" (its padb_version) or PostgreSQL's server_version. Empty
	// when unknown: lib/pq does not tell, and Resolve dials nothing.
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

// Read reports the keep-alive options in force on the socket of conn, read
// from the kernel, and where each came from (a DSN key, or the OS). It works
// for connections of both drivers, "redshift-ka" and "redshift-ka-pq";
// any other gives [ErrNotRedshiftKA]. Where the OS cannot read the options
// back (Windows), the report is resolved from the DSN and the OS values,
// with FromSocket false.
func Read(conn *sql.Conn) (Report, error) {
	var r Report
	err := conn.Raw(func(dc any) error {
		var err error
		switch c := dc.(type) {
		case *stdlib.Conn:
			r, err = ReadPgx(c.Conn().PgConn())
		case interface{ NetConn() net.Conn }: // the lib/pq backend's connection
			r, err = read(c.NetConn())
		default:
			err = ErrNotRedshiftKA
		}
		return err
	})
	return r, err
}

// ReadPgx is [Read] for a pgx connection: conn.PgConn() of a *pgx.Conn,
// or of a pooled connection's Conn().
func ReadPgx(pc *pgconn.PgConn) (Report, error) {
	r, err := read(pc.Conn())
	if v := pc.ParameterStatus("padb_version"); v != "" {
		r.Server = "Amazon Redshift " + v
	} else {
		r.Server = pc.ParameterStatus("server_version")
	}
	return r, err
}

// read reads the report of a redshift-ka socket, under TLS or not.
func read(c net.Conn) (Report, error) {
	kc, err := dialerConn(c)
	if err != nil {
		return Report{}, err
	}
	osv, err := sysfallback.Read()
	if err != nil {
		return Report{}, err
	}
	r := Resolve(kc.Config(), osv)
	ka, err := sockopt.Read(kc.TCPConn)
	if errors.Is(err, errors.ErrUnsupported) {
		return r, nil
	}
	if err != nil {
		return Report{}, fmt.Errorf("redshift-ka: read socket options: %w", err)
	}
	r.Observed = dialer.Observed(ka) // the kernel's word, not our expectation
	r.FromSocket = true
	return r, nil
}

// dialerConn finds the redshift-ka socket under c, through TLS if need be.
func dialerConn(c net.Conn) (*dialer.Conn, error) {
	if t, ok := c.(*tls.Conn); ok {
		c = t.NetConn()
	}
	if kc, ok := c.(*dialer.Conn); ok && kc != nil && kc.TCPConn != nil {
		return kc, nil
	}
	return nil, fmt.Errorf("%w: got %T", ErrNotRedshiftKA, c)
}

// Resolve says, without dialing, what a socket dialed with cfg holds where
// the OS values are osv (see [sysfallback.Read]), and where each value
// comes from: the DSN's non-zero values, the OS's for the rest. With
// keep-alive off the dialer sets neither idle, interval nor count, so all
// three are the OS's.
func Resolve(cfg dsnparse.Config, osv sysfallback.Values) Report {
	on := !cfg.NoKeepAlive
	r := Report{
		Observed: dialer.Observed{KeepAlive: on, Idle: osv.Idle, Interval: osv.Interval, Count: osv.Count, UserTimeout: cfg.UserTimeout},
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
	r.UserTimeoutFrom = from(dsnparse.UserTimeout, cfg.UserTimeout > 0, false, sockopt.OSUserTimeout)
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

// TCPHealth is the kernel's view of a TCP connection's recent traffic:
// whether the other end still answers, and how long it has been silent.
// Read it with [Health]. During a long statement the server sends nothing,
// so SinceDataReceived grows; while keep-alive works, every answered probe
// resets Probes to 0 and SinceAckReceived stays under the keep-alive idle
// time.
type TCPHealth struct {
	// State is the TCP state, such as "ESTABLISHED"; "CLOSE" once the
	// kernel has given up on the connection.
	State string
	// Probes is how many probes went out without an answer: keep-alive
	// probes while the connection is idle, zero-window probes while sent
	// data waits. It returns to 0 as soon as the other end answers; when
	// it reaches the keep-alive count, the kernel ends the connection.
	Probes int
	// Retransmits is how many times in a row the oldest unacknowledged
	// data was sent again; 0 when nothing waits for an acknowledgement.
	Retransmits int
	// RTT is the kernel's smoothed round-trip time; 0 before the first
	// measurement.
	RTT time.Duration
	// SinceDataReceived is the time since data last arrived from the
	// other end.
	SinceDataReceived time.Duration
	// SinceAckReceived is the time since the other end last acknowledged
	// anything, an answered keep-alive probe included.
	SinceAckReceived time.Duration
	// Unacked is the number of segments sent and not yet acknowledged.
	Unacked int
}

// Health reads TCP_INFO from the socket of c: unanswered probes,
// round-trip time, and the time since data and acknowledgements last
// arrived. c is the net.Conn of a redshift-ka connection (pgconn's
// PgConn.Conn(), say), under TLS or not; any other connection gives
// [ErrNotRedshiftKA]. Only Linux offers it: elsewhere the error wraps
// [errors.ErrUnsupported]. It is safe to call while other goroutines read
// and write c, as during a long statement.
func Health(c net.Conn) (TCPHealth, error) {
	kc, err := dialerConn(c)
	if err != nil {
		return TCPHealth{}, err
	}
	info, err := sockopt.TCPInfo(kc.TCPConn)
	if err != nil {
		return TCPHealth{}, fmt.Errorf("redshift-ka: read TCP_INFO: %w", err)
	}
	return TCPHealth{
		State:             info.State,
		Probes:            info.Probes,
		Retransmits:       info.Retransmits,
		RTT:               info.RTT,
		SinceDataReceived: info.SinceDataReceived,
		SinceAckReceived:  info.SinceAckReceived,
		Unacked:           info.Unacked,
	}, nil
}
