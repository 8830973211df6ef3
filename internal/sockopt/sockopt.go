// Package sockopt sets and reads the TCP options redshift-ka cares about,
// per operating system: the keep-alive options, TCP_USER_TIMEOUT and
// TCP_INFO. The dialer sets them and classifies lost connections with
// them; the settings package reports them.
package sockopt

import (
	"syscall"
	"time"
)

// Values are the keep-alive options as the kernel holds them.
type Values struct {
	KeepAlive   bool          // SO_KEEPALIVE
	Idle        time.Duration // TCP_KEEPIDLE (TCP_KEEPALIVE on macOS)
	Interval    time.Duration // TCP_KEEPINTVL
	Count       int           // TCP_KEEPCNT
	UserTimeout time.Duration // TCP_USER_TIMEOUT; zero where unset or unsupported
}

// Info is what TCP_INFO tells (Linux only). The dialer exports it as
// dialer.TCPSnapshot: its fields are public API.
type Info struct {
	State             string        // such as "ESTABLISHED"; "CLOSE" once the kernel gave up
	Probes            int           // probes sent without an answer
	Retransmits       int           // retransmissions of the oldest unacknowledged data
	RTT               time.Duration // smoothed round-trip time
	RTTVar            time.Duration // the round-trip time's mean deviation
	SinceDataReceived time.Duration
	SinceDataSent     time.Duration
	SinceAckReceived  time.Duration
	TotalRetrans      int  // segments retransmitted over the connection's life
	Unacked           int  // segments sent and not acknowledged
	Pending           bool // data unacknowledged or not yet sent
}

// Error is a socket option the kernel refused to set or read.
type Error struct {
	Op     string // "setsockopt" or "getsockopt"
	Option string // such as "TCP_USER_TIMEOUT"
	Err    error  // the system's error, such as EINVAL
}

func (e *Error) Error() string { return e.Op + " " + e.Option + ": " + e.Err.Error() }

// Unwrap returns the system error.
func (e *Error) Unwrap() error { return e.Err }

// Read reads the keep-alive options in force on c with getsockopt. On
// Linux the kernel reports its namespace's sysctl for an option no one
// set. Where the options cannot be read back (Windows), the error wraps
// errors.ErrUnsupported.
func Read(c syscall.Conn) (Values, error) {
	var ka Values
	err := control(c, func(fd int) (err error) { ka, err = readKeepAlive(fd); return err })
	return ka, err
}

// TCPInfo reads TCP_INFO; outside Linux the error wraps
// errors.ErrUnsupported. It is safe while other goroutines use c.
func TCPInfo(c syscall.Conn) (Info, error) {
	var info Info
	err := control(c, func(fd int) (err error) { info, err = readInfo(fd); return err })
	return info, err
}

// control runs f on the file descriptor of c.
func control(c syscall.Conn, f func(fd int) error) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var opErr error
	if err := rc.Control(func(fd uintptr) { opErr = f(int(fd)) }); err != nil {
		return err
	}
	return opErr
}
