//go:build darwin || freebsd

package sockopt

import (
	"errors"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// UserTimeoutSupported: TCP_USER_TIMEOUT is Linux's; macOS and FreeBSD
// have no equivalent that bounds unacknowledged data the same way.
const UserTimeoutSupported = false

// OSUserTimeout names what the OS does when TCP_USER_TIMEOUT is unset.
const OSUserTimeout = "retransmission limit (not settable here)"

// SetUserTimeout does nothing here; the dialer refuses the setting first.
func SetUserTimeout(syscall.RawConn, int) error { return nil }

func readKeepAlive(fd int) (Values, error) {
	r := reader{fd: fd}
	ka := Values{
		KeepAlive: r.get(unix.SOL_SOCKET, unix.SO_KEEPALIVE, "SO_KEEPALIVE") != 0,
		Idle:      time.Duration(r.get(unix.IPPROTO_TCP, tcpKeepIdle, "TCP_KEEPIDLE")) * time.Second,
		Interval:  time.Duration(r.get(unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, "TCP_KEEPINTVL")) * time.Second,
		Count:     r.get(unix.IPPROTO_TCP, unix.TCP_KEEPCNT, "TCP_KEEPCNT"),
	}
	return ka, r.err
}

func readInfo(int) (Info, error) { return Info{}, errors.ErrUnsupported }
