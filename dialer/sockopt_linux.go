package dialer

import (
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const userTimeoutSupported = true

// osUserTimeout names what Linux does when TCP_USER_TIMEOUT is unset.
const osUserTimeout = "retransmission limit (sysctl net.ipv4.tcp_retries2)"

func setUserTimeout(rc syscall.RawConn, ms int) error {
	var opErr error
	if err := rc.Control(func(fd uintptr) {
		opErr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, ms)
	}); err != nil {
		return err
	}
	if opErr != nil {
		return &OptionError{Op: "setsockopt", Option: "TCP_USER_TIMEOUT", Err: opErr}
	}
	return nil
}

func readSockopts(fd uintptr) (Observed, error) {
	r := sockReader{fd: int(fd)}
	o := Observed{
		KeepAlive:   r.get(unix.SOL_SOCKET, unix.SO_KEEPALIVE, "SO_KEEPALIVE") != 0,
		Idle:        time.Duration(r.get(unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, "TCP_KEEPIDLE")) * time.Second,
		Interval:    time.Duration(r.get(unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, "TCP_KEEPINTVL")) * time.Second,
		Count:       r.get(unix.IPPROTO_TCP, unix.TCP_KEEPCNT, "TCP_KEEPCNT"),
		UserTimeout: time.Duration(r.get(unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT")) * time.Millisecond,
	}
	return o, r.err
}

// readAbortInfo reads TCP_INFO: icsk_probes_out counts the probes sent
// without answer, icsk_retransmits the retransmissions of data, and the
// unacknowledged and unsent counts tell whether data was waiting.
func readAbortInfo(fd uintptr) (abortInfo, error) {
	info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return abortInfo{}, err
	}
	return abortInfo{
		closed:      info.State == unix.BPF_TCP_CLOSE,
		probes:      int(info.Probes),
		retransmits: int(info.Retransmits),
		pending:     info.Unacked > 0 || info.Notsent_bytes > 0,
	}, nil
}
