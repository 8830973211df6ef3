package dialer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/connwatch"
	"github.com/redshift-ka/redshift-ka/internal/sockopt"
)

// Dialer dials TCP connections with the keep-alive settings of one DSN.
// Its zero value is not usable; make one with [New]. A Dialer is safe for
// concurrent use.
type Dialer struct {
	cfg dsnparse.Config
	ka  net.KeepAliveConfig
	nd  net.Dialer
	log *slog.Logger
}

// New returns a Dialer for cfg. It fails when cfg asks for something this
// platform cannot do (tcp_user_timeout outside Linux). With a logger, the
// dialer logs, at debug level, each connection it makes and the keep-alive
// settings it asked for, and at warning level each connection lost, with
// the kernel's TCP figures; nothing logged contains a password. log may
// be nil.
func New(cfg dsnparse.Config, log *slog.Logger) (*Dialer, error) {
	if cfg.UserTimeout > 0 && !sockopt.UserTimeoutSupported {
		return nil, fmt.Errorf("redshift-ka: %s: not supported on %s: %w",
			keyOf(cfg, dsnparse.UserTimeout), runtime.GOOS, errors.ErrUnsupported)
	}
	d := &Dialer{cfg: cfg, ka: keepAliveConfig(cfg), log: log}
	// A negative KeepAlive with KeepAliveConfig.Enable false keeps Go's
	// dialer from touching keep-alive at all: its own attempt would ignore
	// errors. DialContext sets the options itself and returns them.
	d.nd.KeepAlive = -1
	if cfg.UserTimeout > 0 {
		ms := int(cfg.UserTimeout / time.Millisecond)
		d.nd.Control = func(network, _ string, rc syscall.RawConn) error {
			if !strings.HasPrefix(network, "tcp") {
				return nil
			}
			return sockopt.SetUserTimeout(rc, ms)
		}
	}
	return d, nil
}

// keepAliveConfig converts cfg into Go's form. Go reads a zero field as
// "Go's default" (15 s, 15 s, 9) and a negative one as "leave the OS value";
// redshift-ka's zero means the OS value, so zero becomes -1 here. This is
// the only place the two meanings of zero meet.
func keepAliveConfig(cfg dsnparse.Config) net.KeepAliveConfig {
	if cfg.NoKeepAlive {
		return net.KeepAliveConfig{Enable: false, Idle: -1, Interval: -1, Count: -1}
	}
	orOS := func(d time.Duration) time.Duration {
		if d <= 0 {
			return -1
		}
		return d
	}
	count := cfg.Count
	if count <= 0 {
		count = -1
	}
	return net.KeepAliveConfig{Enable: true, Idle: orOS(cfg.Idle), Interval: orOS(cfg.Interval), Count: count}
}

// DialContext connects to addr and sets the keep-alive options on the
// socket. A TCP connection comes back as a [*Conn]; a failure to set an
// option closes the socket and is returned. Other networks ("unix") are
// dialed as they are: keep-alive does not apply to them. [LostNetwork]
// is refused with [ErrNoCancel].
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if network == LostNetwork {
		return nil, ErrNoCancel
	}
	watched := connwatch.Active() && strings.HasPrefix(network, "tcp")
	var start time.Time
	if watched {
		start = time.Now()
	}
	c, err := d.nd.DialContext(ctx, network, addr)
	if err != nil {
		if watched {
			connwatch.DialFailed(addr, time.Since(start), err)
		}
		return nil, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c, nil
	}
	if d.ka.Enable {
		err = tc.SetKeepAliveConfig(d.ka)
	} else {
		err = tc.SetKeepAlive(false)
	}
	if err != nil {
		tc.Close()
		err = fmt.Errorf("redshift-ka: set keep-alive options on the connection to %s: %w", addr, err)
		if watched {
			connwatch.DialFailed(addr, time.Since(start), err)
		}
		return nil, err
	}
	if d.log != nil {
		d.log.LogAttrs(ctx, slog.LevelDebug, "redshift-ka: connected",
			slog.String("addr", addr),
			slog.String("local", tc.LocalAddr().String()),
			slog.String("keepalive", d.describe()))
	}
	kc := &Conn{TCPConn: tc, cfg: &d.cfg, log: d.log}
	if watched {
		kc.watch = connwatch.NewConn(tc, addr)
		connwatch.Dialed(kc.watch, time.Since(start))
	}
	return kc, nil
}

// describe says in a few words what the dialer asks of each socket.
func (d *Dialer) describe() string {
	if !d.ka.Enable {
		return "off"
	}
	val := func(v time.Duration) string {
		if v < 0 {
			return "OS"
		}
		return v.String()
	}
	cnt := "OS"
	if d.ka.Count > 0 {
		cnt = fmt.Sprint(d.ka.Count)
	}
	ut := "OS"
	if d.cfg.UserTimeout > 0 {
		ut = d.cfg.UserTimeout.String()
	}
	return fmt.Sprintf("on, idle %s, interval %s, count %s, user timeout %s",
		val(d.ka.Idle), val(d.ka.Interval), cnt, ut)
}

// keyOf names the key that set s in cfg, or the canonical key.
func keyOf(cfg dsnparse.Config, s dsnparse.Setting) string {
	if k := cfg.Keys[s]; k != "" {
		return k
	}
	return s.String()
}
