package dialer

import (
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// readHealth reads TCP_INFO.
func readHealth(fd uintptr) (TCPHealth, error) {
	info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return TCPHealth{}, &OptionError{Op: "getsockopt", Option: "TCP_INFO", Err: err}
	}
	return TCPHealth{
		State:             tcpStateName(info.State),
		Probes:            int(info.Probes),
		Retransmits:       int(info.Retransmits),
		RTT:               time.Duration(info.Rtt) * time.Microsecond,
		SinceDataReceived: time.Duration(info.Last_data_recv) * time.Millisecond,
		SinceAckReceived:  time.Duration(info.Last_ack_recv) * time.Millisecond,
		Unacked:           int(info.Unacked),
	}, nil
}

// tcpStates names the states of include/net/tcp_states.h.
var tcpStates = [...]string{
	1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
	6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING",
}

func tcpStateName(s uint8) string {
	if int(s) < len(tcpStates) && tcpStates[s] != "" {
		return tcpStates[s]
	}
	return "state " + strconv.Itoa(int(s))
}
