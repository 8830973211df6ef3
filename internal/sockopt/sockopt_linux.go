package sockopt

import (
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// UserTimeoutSupported tells whether TCP_USER_TIMEOUT can be set.
const UserTimeoutSupported = true

// OSUserTimeout names what the OS does when TCP_USER_TIMEOUT is unset.
const OSUserTimeout = "retransmission limit (sysctl net.ipv4.tcp_retries2)"

// SetUserTimeout sets TCP_USER_TIMEOUT, in milliseconds, on a socket
// before it connects.
func SetUserTimeout(rc syscall.RawConn, ms int) error {
	var opErr error
	if err := rc.Control(func(fd uintptr) {
		opErr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, ms)
	}); err != nil {
		return err
	}
	if opErr != nil {
		return &Error{Op: "setsockopt", Option: "TCP_USER_TIMEOUT", Err: opErr}
	}
	return nil
}

func readKeepAlive(fd int) (Values, error) {
	r := reader{fd: fd}
	ka := Values{
		KeepAlive:   r.get(unix.SOL_SOCKET, unix.SO_KEEPALIVE, "SO_KEEPALIVE") != 0,
		Idle:        time.Duration(r.get(unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, "TCP_KEEPIDLE")) * time.Second,
		Interval:    time.Duration(r.get(unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, "TCP_KEEPINTVL")) * time.Second,
		Count:       r.get(unix.IPPROTO_TCP, unix.TCP_KEEPCNT, "TCP_KEEPCNT"),
		UserTimeout: time.Duration(r.get(unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT")) * time.Millisecond,
	}
	return ka, r.err
}

func readInfo(fd int) (Info, error) {
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return Info{}, &Error{Op: "getsockopt", Option: "TCP_INFO", Err: err}
	}
	return Info{
		State:             stateName(info.State),
		Probes:            int(info.Probes),
		Retransmits:       int(info.Retransmits),
		RTT:               time.Duration(info.Rtt) * time.Microsecond,
		RTTVar:            time.Duration(info.Rttvar) * time.Microsecond,
		SinceDataReceived: time.Duration(info.Last_data_recv) * time.Millisecond,
		SinceDataSent:     time.Duration(info.Last_data_sent) * time.Millisecond,
		TotalRetrans:      int(info.Total_retrans),
		SinceAckReceived:  time.Duration(info.Last_ack_recv) * time.Millisecond,
		Unacked:           int(info.Unacked),
		Pending:           info.Unacked > 0 || info.Notsent_bytes > 0,
	}, nil
}

// states names the states of include/net/tcp_states.h.
var states = [...]string{
	1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
	6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING",
}

func stateName(s uint8) string {
	if int(s) < len(states) && states[s] != "" {
		return states[s]
	}
	return "state " + strconv.Itoa(int(s))
}
