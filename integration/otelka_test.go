//go:build linux

package integration

import (
	"context"
	"crypto/tls"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/internal/harness"
	"github.com/redshift-ka/redshift-ka/otelka"
	"github.com/redshift-ka/redshift-ka/settings"
)

// otelPoints collects r: instrument name -> attributes -> value, for
// integer sums and gauges.
func otelPoints(t *testing.T, r *sdkmetric.ManualReader) map[string]map[attribute.Distinct]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	out := map[string]map[attribute.Distinct]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			pts := map[attribute.Distinct]int64{}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					pts[p.Attributes.Equivalent()] = p.Value
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					pts[p.Attributes.Equivalent()] = p.Value
				}
			}
			out[m.Name] = pts
		}
	}
	return out
}

// startOTel starts otelka on a manual reader, stopped with the test.
func startOTel(t *testing.T) *sdkmetric.ManualReader {
	t.Helper()
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	stop, err := otelka.Start(otelka.WithMeterProvider(mp))
	require.NoError(t, err)
	t.Cleanup(func() { stop(); _ = mp.Shutdown(context.Background()) })
	return r
}

// TestOTelKeepAliveLoss: the path of a long statement is cut. While the
// kernel probes, the probes gauge rises on the server's one series; once
// it gives up, the loss counter counts one keep-alive loss, and one lost
// statement.
func TestOTelKeepAliveLoss(t *testing.T) {
	s := newSetup(t)
	r := startOTel(t)

	var logged strings.Builder
	var logMu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logged}, nil))
	var conn *sql.Conn
	s.inClient(t, func() error {
		c, err := driver.NewConnector(s.pg.URL(fastKA.params()), driver.WithLogger(log))
		if err != nil {
			return err
		}
		db := sql.OpenDB(c)
		t.Cleanup(func() { db.Close() })
		conn, err = db.Conn(context.Background())
		return err
	})
	t.Cleanup(func() { conn.Close() })
	server := []attribute.KeyValue{
		attribute.String("db.system.name", "postgresql"),
		attribute.String("db.namespace", s.pg.Database),
		attribute.String("server.address", s.pg.Host),
		attribute.Int("server.port", s.pg.Port),
	}
	attrs := distinct(server...)
	ch := runFor(conn, time.Minute, "SELECT pg_sleep(60)")
	time.Sleep(fastKA.d(fastKA.idle) + 1500*time.Millisecond) // a probe or two answered
	got := otelPoints(t, r)
	assert.Equal(t, map[attribute.Distinct]int64{attrs: 0}, got["redshift_ka.connection.probes.max"], "probes answered before the cut")
	require.NoError(t, s.fw.Cut())

	maxProbes, probing := int64(0), int64(0)
	bound := time.NewTimer(time.Minute + ctxGrace)
	defer bound.Stop()
	var res result
	for done := false; !done; {
		select {
		case res = <-ch:
			done = true
		case <-time.After(200 * time.Millisecond):
			got := otelPoints(t, r)
			require.LessOrEqual(t, len(got["redshift_ka.connection.probes.max"]), 1, "one series")
			maxProbes = max(maxProbes, got["redshift_ka.connection.probes.max"][attrs])
			probing = max(probing, got["redshift_ka.connection.probing.count"][attrs])
		case <-bound.C:
			t.Fatal("the statement on the cut path did not end")
		}
	}
	require.ErrorIs(t, res.err, dialer.ErrConnectionLost)
	t.Logf("most probes unanswered seen: %d; connections probing: %d", maxProbes, probing)
	assert.GreaterOrEqual(t, maxProbes, int64(1), "unanswered probes rose")
	assert.LessOrEqual(t, maxProbes, int64(fastKA.count))
	assert.Equal(t, int64(1), probing)

	got = otelPoints(t, r)
	lost := distinct(append(server, attribute.String("error.type", "keepalive_timeout"))...)
	assert.Equal(t, map[attribute.Distinct]int64{lost: 1}, got["redshift_ka.connection.losses"])
	assert.Equal(t, map[attribute.Distinct]int64{attrs: 1}, got["redshift_ka.connection.lost_statements"])

	logMu.Lock()
	line := logged.String()
	logMu.Unlock()
	t.Logf("logged: %s", line)
	assert.Contains(t, line, `level=WARN msg="redshift-ka: connection lost"`)
	assert.Contains(t, line, "cause=keepalive_timeout statement_running=true")
	assert.Contains(t, line, fmt.Sprintf("probes_unanswered=%d", fastKA.count))
	harness.NoLeak(t, s.pg, "the log", line)
}

// distinct is the key of the attribute set of kv.
func distinct(kv ...attribute.KeyValue) attribute.Distinct {
	s := attribute.NewSet(kv...)
	return s.Equivalent()
}

// TestOTelRedshift: connections through the Redshift front end are
// reported with db.system.name aws.redshift, those straight to
// PostgreSQL with postgresql, each on its own series.
func TestOTelRedshift(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	fe := startFrontEnd(t, pg, frontEndOptions{})
	r := startOTel(t)

	ctx := context.Background()
	for _, p := range []*harness.Postgres{fe.Server(), pg} {
		db, err := sql.Open(driver.Name, p.URL(""))
		require.NoError(t, err)
		defer db.Close()
		require.NoError(t, db.PingContext(ctx))
	}
	series := func(p *harness.Postgres, system string) attribute.Distinct {
		return distinct(attribute.String("db.system.name", system), attribute.String("db.namespace", p.Database),
			attribute.String("server.address", p.Host), attribute.Int("server.port", p.Port))
	}
	assert.Equal(t, map[attribute.Distinct]int64{series(fe.Server(), "aws.redshift"): 1, series(pg, "postgresql"): 1},
		otelPoints(t, r)["redshift_ka.connection.count"])
}

// TestOTelLostEvent: the path of a long statement is cut, over TCP and
// TLS, on a database/sql connection whose pgx configuration holds
// otelka's tracer. The statement's span gets one event whose attributes
// are the cause and what the kernel's TCP_INFO read at the loss, with
// every keep-alive probe unanswered.
func TestOTelLostEvent(t *testing.T) {
	s := newSetup(t)
	for _, tc := range []struct {
		name, params string
		tls          bool
	}{{"TCP", "", false}, {"TLS", "&sslmode=require", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(func() { require.NoError(t, s.fw.Restore()) })
			lostEvent(t, s, fastKA.params()+tc.params, tc.tls)
		})
	}
}

func lostEvent(t *testing.T, s *setup, params string, wantTLS bool) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

	var sock net.Conn
	var conn *sql.Conn
	s.inClient(t, func() error {
		c, err := driver.NewConnector(s.pg.URL(params), driver.WithPgxOptions(
			stdlib.OptionBeforeConnect(func(_ context.Context, cfg *pgx.ConnConfig) error {
				cfg.Tracer = multitracer.New(cfg.Tracer, otelka.Tracer{})
				return nil
			}),
			stdlib.OptionAfterConnect(func(_ context.Context, c *pgx.Conn) error {
				sock = c.PgConn().Conn()
				return nil
			})))
		if err != nil {
			return err
		}
		db := sql.OpenDB(c)
		t.Cleanup(func() { db.Close() })
		conn, err = db.Conn(context.Background())
		return err
	})
	t.Cleanup(func() { conn.Close() })
	_, isTLS := sock.(*tls.Conn)
	require.Equal(t, wantTLS, isTLS, "TLS")
	var pid uint32
	require.NoError(t, conn.QueryRowContext(context.Background(), "SELECT pg_backend_pid()").Scan(&pid))

	_, span := tp.Tracer("test").Start(context.Background(), "job")
	ch := runFor(spanExecer{span, conn}, time.Minute, "SELECT pg_sleep(60)")
	// Cut once the server runs the statement and acknowledged it: then
	// only keep-alive probes go unanswered.
	waitFor(t, func() bool { return active(t, s, pid) })
	waitFor(t, func() bool { h, err := settings.Health(sock); return err == nil && h.Unacked == 0 })
	require.NoError(t, s.fw.Cut())
	res := harness.Await(t, ch, fastKA.d(fastKA.idle+fastKA.interval*fastKA.count)+ctxGrace, "the statement on the cut path")
	span.End()

	var lost *dialer.ConnLostError
	require.ErrorAs(t, res.err, &lost)
	require.NotNil(t, lost.TCP, "TCP_INFO read at the loss")
	assert.Equal(t, "keepalive_timeout", lost.Kind)
	assert.Equal(t, fastKA.count, lost.TCP.Probes, "every probe unanswered")
	spans := rec.Ended()
	require.Len(t, spans, 1)
	evs := spans[0].Events()
	require.Len(t, evs, 1, "one event")
	assert.Equal(t, "redshift_ka.connection.lost", evs[0].Name)
	got := attribute.NewSet(evs[0].Attributes...)
	k := lost.TCP
	want := attribute.NewSet(
		attribute.String("error.type", "keepalive_timeout"),
		attribute.String("server.address", s.pg.Host),
		attribute.Int("server.port", s.pg.Port),
		attribute.Int64("redshift_ka.server.pid", int64(pid)),
		attribute.Int("redshift_ka.connection.probes", k.Probes),
		attribute.Int("redshift_ka.connection.retransmits", k.TotalRetrans),
		attribute.Float64("redshift_ka.connection.rtt", k.RTT.Seconds()),
		attribute.Float64("redshift_ka.connection.rttvar", k.RTTVar.Seconds()),
		attribute.Float64("redshift_ka.connection.since_receive", k.SinceDataReceived.Seconds()),
		attribute.Float64("redshift_ka.connection.since_send", k.SinceDataSent.Seconds()))
	assert.Equal(t, want.Equivalent(), got.Equivalent(), "event attributes %v", got.Encoded(attribute.DefaultEncoder()))
	t.Logf("event: %s", got.Encoded(attribute.DefaultEncoder()))
	probes, _ := got.Value("redshift_ka.connection.probes")
	assert.GreaterOrEqual(t, probes.AsInt64(), int64(1), "probes unanswered")
}

// spanExecer runs statements on c in span.
type spanExecer struct {
	span trace.Span
	c    execer
}

func (e spanExecer) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return e.c.ExecContext(trace.ContextWithSpan(ctx, e.span), query, args...)
}

// lockedWriter writes to w under mu.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
