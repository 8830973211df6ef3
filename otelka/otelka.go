package otelka

import (
	"context"
	"errors"
	"net"
	"sync"
	"syscall"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/redshift-ka/redshift-ka/internal/connwatch"
	"github.com/redshift-ka/redshift-ka/internal/sockopt"
)

// ScopeName is the instrumentation scope of every instrument here.
const ScopeName = "github.com/redshift-ka/redshift-ka/otelka"

// Option configures [Start] and [ObserveDB].
type Option func(*config)

type config struct{ mp metric.MeterProvider }

// WithMeterProvider records into mp instead of the global MeterProvider.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

func meter(opts []Option) metric.Meter {
	c := config{}
	for _, o := range opts {
		o(&c)
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	return c.mp.Meter(ScopeName)
}

// Start observes every TCP connection redshift-ka dials from now on, with
// either backend, until stop is called: the instruments listed in the
// package docs. Connections dialed before Start are not observed.
func Start(opts ...Option) (stop func(), err error) {
	w, err := newWatcher(meter(opts))
	if err != nil {
		return nil, err
	}
	unregister := connwatch.Register(w)
	var once sync.Once
	return func() {
		once.Do(func() {
			unregister()
			_ = w.reg.Unregister()
		})
	}, nil
}

// tcpInfo reads TCP_INFO at collection; tests replace it.
var tcpInfo = sockopt.TCPInfo

// maxPending bounds the dial durations kept for the next collection; a
// dial beyond it is counted but its duration is not recorded.
const maxPending = 4096

// watcher is the connwatch.Observer of one Start. The dialer's calls
// (Dialed, DialFailed, Lost, Closed) only count under mu: the provider is
// called from the reader's collection alone, so one that is slow, blocks
// or panics never delays a dial or a statement.
type watcher struct {
	dials, dialFailures, losses, lostStatements metric.Int64ObservableCounter
	dialDuration                                metric.Float64Histogram

	count, probing                       metric.Int64ObservableUpDownCounter
	probes                               metric.Int64ObservableGauge
	rtt, rttVar, sinceReceive, sinceSend metric.Float64ObservableGauge
	retransmits                          metric.Int64ObservableCounter
	reg                                  metric.Registration

	mu      sync.Mutex
	conns   map[*connwatch.Conn]*connState
	base    map[key]int64 // retransmits counted on connections closed or moved to another key
	counts  map[counted]int64
	pending []timedDial // dial durations not yet recorded
}

// counted is one series of the counters of dials, dial failures, losses
// and lost statements.
type counted struct {
	of      *metric.Int64ObservableCounter
	key     key
	errType string // the error.type attribute, if any
}

// timedDial is a dial's duration, recorded at the next collection.
type timedDial struct {
	key     key
	errType string
	secs    float64
}

// key is the attributes a connection is reported under.
type key struct {
	system, namespace, host string
	port                    int
}

func keyOf(c *connwatch.Conn) key {
	s := c.Session()
	return key{system: s.System, namespace: s.Namespace, host: c.Host, port: c.Port}
}

func (k key) attrs(extra ...attribute.KeyValue) attribute.Set {
	kv := make([]attribute.KeyValue, 0, 4+len(extra))
	if k.system != "" {
		kv = append(kv, attribute.String("db.system.name", k.system))
	}
	if k.namespace != "" {
		kv = append(kv, attribute.String("db.namespace", k.namespace))
	}
	kv = append(kv, attribute.String("server.address", k.host), attribute.Int("server.port", k.port))
	return attribute.NewSet(append(kv, extra...)...)
}

// connState keeps a connection's retransmits monotonic per key: offset
// is what was already counted under an earlier key.
type connState struct {
	key          key
	offset, seen int64
}

// account moves c to k and records total; it returns what k counts of c.
func (s *connState) account(k key, total int64, base map[key]int64) int64 {
	if k != s.key {
		if s.seen > s.offset {
			base[s.key] += s.seen - s.offset
		}
		s.key, s.offset = k, s.seen
	}
	s.seen = max(s.seen, total)
	return s.seen - s.offset
}

func newWatcher(m metric.Meter) (*watcher, error) {
	w := &watcher{conns: map[*connwatch.Conn]*connState{}, base: map[key]int64{}, counts: map[counted]int64{}}
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	var err error
	w.dials, err = m.Int64ObservableCounter("redshift_ka.connection.dials", metric.WithUnit("{connection}"),
		metric.WithDescription("TCP connections dialed."))
	add(err)
	w.dialFailures, err = m.Int64ObservableCounter("redshift_ka.connection.dial_failures", metric.WithUnit("{dial}"),
		metric.WithDescription("Dials that failed, by error.type."))
	add(err)
	w.dialDuration, err = m.Float64Histogram("redshift_ka.connection.dial.duration", metric.WithUnit("s"),
		metric.WithDescription("Time to connect a TCP socket; error.type on failures."),
		metric.WithExplicitBucketBoundaries(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
	add(err)
	w.losses, err = m.Int64ObservableCounter("redshift_ka.connection.losses", metric.WithUnit("{connection}"),
		metric.WithDescription("Connections the kernel ended for want of answers, or that were reset, by error.type."))
	add(err)
	w.lostStatements, err = m.Int64ObservableCounter("redshift_ka.connection.lost_statements", metric.WithUnit("{statement}"),
		metric.WithDescription("Statements whose connection was lost while they ran."))
	add(err)
	w.count, err = m.Int64ObservableUpDownCounter("redshift_ka.connection.count", metric.WithUnit("{connection}"),
		metric.WithDescription("Open TCP connections."))
	add(err)
	w.probing, err = m.Int64ObservableUpDownCounter("redshift_ka.connection.probing.count", metric.WithUnit("{connection}"),
		metric.WithDescription("Open connections with at least one probe unanswered."))
	add(err)
	w.probes, err = m.Int64ObservableGauge("redshift_ka.connection.probes.max", metric.WithUnit("{probe}"),
		metric.WithDescription("Most probes unanswered on one open connection."))
	add(err)
	w.rtt, err = m.Float64ObservableGauge("redshift_ka.connection.rtt.max", metric.WithUnit("s"),
		metric.WithDescription("Largest smoothed round-trip time of the open connections."))
	add(err)
	w.rttVar, err = m.Float64ObservableGauge("redshift_ka.connection.rttvar.max", metric.WithUnit("s"),
		metric.WithDescription("Largest round-trip time variation (the kernel's rttvar) of the open connections."))
	add(err)
	w.sinceReceive, err = m.Float64ObservableGauge("redshift_ka.connection.since_receive.max", metric.WithUnit("s"),
		metric.WithDescription("Longest time since an open connection last received data."))
	add(err)
	w.sinceSend, err = m.Float64ObservableGauge("redshift_ka.connection.since_send.max", metric.WithUnit("s"),
		metric.WithDescription("Longest time since an open connection last sent data."))
	add(err)
	w.retransmits, err = m.Int64ObservableCounter("redshift_ka.connection.retransmits", metric.WithUnit("{segment}"),
		metric.WithDescription("Segments retransmitted, on open and closed connections."))
	add(err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	w.reg, err = m.RegisterCallback(w.collect, w.dials, w.dialFailures, w.losses, w.lostStatements, w.count, w.probing, w.probes, w.rtt, w.rttVar, w.sinceReceive, w.sinceSend, w.retransmits)
	if err != nil {
		return nil, err
	}
	return w, nil
}

func (w *watcher) Dialed(c *connwatch.Conn, took time.Duration) {
	k := key{host: c.Host, port: c.Port}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.conns[c] = &connState{key: keyOf(c)}
	w.counts[counted{&w.dials, k, ""}]++
	w.timed(k, "", took)
}

func (w *watcher) DialFailed(host string, port int, took time.Duration, err error) {
	k, errType := key{host: host, port: port}, dialErrorType(err)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.counts[counted{&w.dialFailures, k, errType}]++
	w.timed(k, errType, took)
}

// timed keeps a dial's duration for the next collection; w.mu is held.
func (w *watcher) timed(k key, errType string, took time.Duration) {
	if len(w.pending) < maxPending {
		w.pending = append(w.pending, timedDial{k, errType, took.Seconds()})
	}
}

func (w *watcher) Lost(c *connwatch.Conn, l connwatch.Loss) {
	k := keyOf(c)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.counts[counted{&w.losses, k, l.Cause}]++
	if l.InFlight {
		w.counts[counted{&w.lostStatements, k, ""}]++
	}
}

// errAttr is the error.type attribute, or none for "".
func errAttr(errType string) []attribute.KeyValue {
	if errType == "" {
		return nil
	}
	return []attribute.KeyValue{attribute.String("error.type", errType)}
}

func (w *watcher) Closed(c *connwatch.Conn) {
	info, err := sockopt.TCPInfo(c.Sock)
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.conns[c]
	if s == nil {
		return
	}
	delete(w.conns, c)
	total := s.seen // TCP_INFO unreadable: keep what was counted
	if err == nil {
		total = int64(info.TotalRetrans)
	}
	if n := s.account(keyOf(c), total, w.base); err == nil || n > 0 {
		w.base[s.key] += n // the series stays, where TCP_INFO is read
	}
}

// dialErrorType names err for the error.type attribute.
func dialErrorType(err error) string {
	var dnsErr *net.DNSError
	var optErr *sockopt.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT):
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "unreachable"
	case errors.As(err, &dnsErr):
		return "dns"
	case errors.As(err, &optErr):
		return "socket_option"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return "_OTHER"
}

// sample is what one collection aggregates for a key.
type sample struct {
	conns, withInfo, probing, probes  int64
	rtt, rttVar, sinceRecv, sinceSent time.Duration
	retransmits                       int64
}

// collect reads TCP_INFO from every open connection, outside the lock,
// and reports per key.
func (w *watcher) collect(ctx context.Context, o metric.Observer) error {
	w.mu.Lock()
	conns := make([]*connwatch.Conn, 0, len(w.conns))
	for c := range w.conns {
		conns = append(conns, c)
	}
	w.mu.Unlock()

	type read struct {
		info sockopt.Info
		ok   bool
	}
	reads := make([]read, len(conns))
	for i, c := range conns {
		info, err := tcpInfo(c.Sock) // fails once c is closed
		reads[i] = read{info, err == nil}
	}

	samples := map[key]*sample{}
	w.mu.Lock()
	for i, c := range conns {
		st := w.conns[c]
		if st == nil {
			continue // closed meanwhile
		}
		k := keyOf(c)
		s := samples[k]
		if s == nil {
			s = &sample{}
			samples[k] = s
		}
		s.conns++
		r := reads[i]
		if !r.ok {
			continue
		}
		s.withInfo++
		s.retransmits += st.account(k, int64(r.info.TotalRetrans), w.base)
		if r.info.Probes > 0 {
			s.probing++
		}
		s.probes = max(s.probes, int64(r.info.Probes))
		s.rtt = max(s.rtt, r.info.RTT)
		s.rttVar = max(s.rttVar, r.info.RTTVar)
		s.sinceRecv = max(s.sinceRecv, r.info.SinceDataReceived)
		s.sinceSent = max(s.sinceSent, r.info.SinceDataSent)
	}
	retransmits := make(map[key]int64, len(w.base))
	for k, n := range w.base {
		retransmits[k] = n
	}
	counts := make(map[counted]int64, len(w.counts))
	for c, n := range w.counts {
		counts[c] = n
	}
	pending := w.pending
	w.pending = nil
	w.mu.Unlock()

	// Recorded inside the callback: the SDK aggregates them in this same
	// collection (pinned by TestSDKRecordsInCallback).
	for _, d := range pending {
		w.dialDuration.Record(ctx, d.secs, metric.WithAttributeSet(d.key.attrs(errAttr(d.errType)...)))
	}
	for c, n := range counts {
		o.ObserveInt64(*c.of, n, metric.WithAttributeSet(c.key.attrs(errAttr(c.errType)...)))
	}

	for k, s := range samples {
		attrs := metric.WithAttributeSet(k.attrs())
		o.ObserveInt64(w.count, s.conns, attrs)
		if s.withInfo == 0 {
			continue // no TCP_INFO here: nothing rather than zeros
		}
		retransmits[k] += s.retransmits
		o.ObserveInt64(w.probing, s.probing, attrs)
		o.ObserveInt64(w.probes, s.probes, attrs)
		o.ObserveFloat64(w.rtt, s.rtt.Seconds(), attrs)
		o.ObserveFloat64(w.rttVar, s.rttVar.Seconds(), attrs)
		o.ObserveFloat64(w.sinceReceive, s.sinceRecv.Seconds(), attrs)
		o.ObserveFloat64(w.sinceSend, s.sinceSent.Seconds(), attrs)
	}
	for k, n := range retransmits {
		o.ObserveInt64(w.retransmits, n, metric.WithAttributeSet(k.attrs()))
	}
	return nil
}
