// Package connwatch tells observers, such as the otelka package, of the
// connections the dialer makes, fails to make, loses and closes. The
// dialer calls it on those events only, never per read or write; with no
// observer registered, each call is one atomic load.
package connwatch

import (
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is a connection the dialer made while an observer was registered.
type Conn struct {
	// Sock is the socket, for TCP_INFO.
	Sock *net.TCPConn
	// Host and Port are the server's, as dialed.
	Host string
	Port int

	session atomic.Pointer[Session]
	lost    atomic.Bool
	closed  atomic.Bool
}

// Session is what the driver learns at login.
type Session struct {
	// System is "aws.redshift" or "postgresql", as the server announced
	// itself; "" when the backend cannot tell.
	System string
	// Namespace is the database.
	Namespace string
}

// Session returns the session set on c; zero before login.
func (c *Conn) Session() Session {
	if s := c.session.Load(); s != nil {
		return *s
	}
	return Session{}
}

// SetSession records s on c.
func (c *Conn) SetSession(s Session) { c.session.Store(&s) }

// Causes of a loss, the values of the error.type attribute.
const (
	CauseKeepAlive    = "keepalive_timeout"      // keep-alive probes unanswered
	CauseUserTimeout  = "user_timeout"           // sent data unacknowledged for tcp_user_timeout
	CauseRetransmits  = "retransmission_timeout" // sent data unacknowledged through every retransmission
	CauseReset        = "connection_reset"       // the other end or a middlebox reset the connection
	CauseUnresponsive = "timeout"                // the kernel timed the connection out, cause not told
)

// Loss is a connection lost.
type Loss struct {
	// Cause is one of the Cause constants.
	Cause string
	// InFlight tells that a statement was running: the loss was seen
	// reading its answer, or sending its data.
	InFlight bool
}

// Observer is told of the dialer's connections. Its methods must not
// block; a panic in them is recovered.
type Observer interface {
	Dialed(c *Conn, took time.Duration)
	DialFailed(host string, port int, took time.Duration, err error)
	Lost(c *Conn, l Loss)
	Closed(c *Conn)
}

var (
	mu        sync.Mutex
	observers atomic.Pointer[[]Observer]
)

// Register adds o; unregister removes it.
func Register(o Observer) (unregister func()) {
	mu.Lock()
	defer mu.Unlock()
	var cur []Observer
	if p := observers.Load(); p != nil {
		cur = *p
	}
	next := append(slices.Clip(cur), o)
	observers.Store(&next)
	var once sync.Once
	return func() {
		once.Do(func() {
			mu.Lock()
			defer mu.Unlock()
			next := slices.DeleteFunc(slices.Clone(*observers.Load()), func(x Observer) bool { return x == o })
			if len(next) == 0 {
				observers.Store(nil)
				return
			}
			observers.Store(&next)
		})
	}
}

// Active reports whether an observer is registered.
func Active() bool { return observers.Load() != nil }

// each calls f for each observer, recovering a panic.
func each(f func(Observer)) {
	p := observers.Load()
	if p == nil {
		return
	}
	for _, o := range *p {
		func() {
			defer func() { _ = recover() }()
			f(o)
		}()
	}
}

// NewConn returns the Conn of a socket dialed to addr ("host:port").
func NewConn(sock *net.TCPConn, addr string) *Conn {
	host, port := SplitAddr(addr)
	return &Conn{Sock: sock, Host: host, Port: port}
}

// SplitAddr splits "host:port"; the port is 0 when addr has none.
func SplitAddr(addr string) (string, int) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 0
	}
	port, _ := strconv.Atoi(p)
	return host, port
}

// Dialed tells the observers of a new connection.
func Dialed(c *Conn, took time.Duration) { each(func(o Observer) { o.Dialed(c, took) }) }

// DialFailed tells the observers of a dial to addr that failed.
func DialFailed(addr string, took time.Duration, err error) {
	host, port := SplitAddr(addr)
	each(func(o Observer) { o.DialFailed(host, port, took, err) })
}

// Lost tells the observers that c was lost, once per connection.
func Lost(c *Conn, l Loss) {
	if c.lost.CompareAndSwap(false, true) {
		each(func(o Observer) { o.Lost(c, l) })
	}
}

// Closed tells the observers, once, that c is about to be closed: the
// socket is still open.
func Closed(c *Conn) {
	if c.closed.CompareAndSwap(false, true) {
		each(func(o Observer) { o.Closed(c) })
	}
}
