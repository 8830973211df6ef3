package dialer

import (
	"fmt"
	"net"
	"time"
)

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
// arrived. c may be a [*Conn], a [*net.TCPConn], or a TLS connection over
// either (its NetConn is followed); any other connection gives an error
// wrapping [ErrNotTCP]. Only Linux offers it: elsewhere the error wraps
// [errors.ErrUnsupported]. It is safe to call while other goroutines read
// and write c.
func Health(c net.Conn) (TCPHealth, error) {
	tc, err := tcpConnOf(c)
	if err != nil {
		return TCPHealth{}, err
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return TCPHealth{}, fmt.Errorf("redshift-ka: read TCP_INFO: %w", err)
	}
	var (
		h     TCPHealth
		opErr error
	)
	if err := rc.Control(func(fd uintptr) { h, opErr = readHealth(fd) }); err != nil {
		return TCPHealth{}, fmt.Errorf("redshift-ka: read TCP_INFO: %w", err)
	}
	return h, opErr
}

// tcpConnOf finds the *net.TCPConn under c: c itself, the socket of a
// *Conn, or either under a TLS connection.
func tcpConnOf(c net.Conn) (*net.TCPConn, error) {
	if t, ok := c.(interface{ NetConn() net.Conn }); ok {
		c = t.NetConn()
	}
	switch tc := c.(type) {
	case *Conn:
		if tc != nil && tc.TCPConn != nil {
			return tc.TCPConn, nil
		}
	case *net.TCPConn:
		if tc != nil {
			return tc, nil
		}
	}
	return nil, fmt.Errorf("%w: got %T", ErrNotTCP, c)
}
