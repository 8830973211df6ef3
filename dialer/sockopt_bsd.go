//go:build darwin || freebsd

package dialer

import (
	"errors"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// TCP_USER_TIMEOUT is Linux's; macOS and FreeBSD have no equivalent that
// bounds unacknowledged data the same way.
const userTimeoutSupported = false

const osUserTimeout = "retransmission limit (not settable here)"

func setUserTimeout(syscall.RawConn, int) error { return nil }

func readSockopts(fd uintptr) (Observed, error) {
	r := sockReader{fd: int(fd)}
	o := Observed{
		KeepAlive: r.get(unix.SOL_SOCKET, unix.SO_KEEPALIVE, "SO_KEEPALIVE") != 0,
		Idle:      time.Duration(r.get(unix.IPPROTO_TCP, tcpKeepIdle, "TCP_KEEPIDLE")) * time.Second,
		Interval:  time.Duration(r.get(unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, "TCP_KEEPINTVL")) * time.Second,
		Count:     r.get(unix.IPPROTO_TCP, unix.TCP_KEEPCNT, "TCP_KEEPCNT"),
	}
	return o, r.err
}

// readAbortInfo is not available here: only ETIMEDOUT itself tells a lost
// connection.
func readAbortInfo(uintptr) (abortInfo, error) { return abortInfo{}, errors.ErrUnsupported }
