package otelka_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/otelka"
)

// recorder is an SDK tracer whose ended spans rec holds; sample false
// makes spans that do not record.
func recorder(t testing.TB, sample bool) (trace.Tracer, *tracetest.SpanRecorder) {
	rec := tracetest.NewSpanRecorder()
	sampler := sdktrace.AlwaysSample()
	if !sample {
		sampler = sdktrace.NeverSample()
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(sampler))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp.Tracer("test"), rec
}

// lostErr is a keep-alive loss as the dialer reports it, TCP_INFO read.
func lostErr() *dialer.ConnLostError {
	return &dialer.ConnLostError{Addr: "198.51.100.7:5439", Cause: "3 keep-alive probes went unanswered",
		Kind: "keepalive_timeout", ServerPID: 4242,
		TCP: &dialer.TCPSnapshot{State: "CLOSE", Probes: 3, TotalRetrans: 2, RTT: 1500 * time.Microsecond,
			RTTVar: 250 * time.Microsecond, SinceDataReceived: 4 * time.Second, SinceDataSent: 3500 * time.Millisecond}}
}

// lostAttrs are the event attributes of lostErr.
var lostAttrs = []attribute.KeyValue{
	attribute.String("error.type", "keepalive_timeout"),
	attribute.String("server.address", "198.51.100.7"),
	attribute.Int("server.port", 5439),
	attribute.Int64("redshift_ka.server.pid", 4242),
	attribute.Int("redshift_ka.connection.probes", 3),
	attribute.Int("redshift_ka.connection.retransmits", 2),
	attribute.Float64("redshift_ka.connection.rtt", 0.0015),
	attribute.Float64("redshift_ka.connection.rttvar", 0.00025),
	attribute.Float64("redshift_ka.connection.since_receive", 4),
	attribute.Float64("redshift_ka.connection.since_send", 3.5),
}

// events runs f in a recorded span and returns the span's events.
func events(t *testing.T, f func(ctx context.Context)) []sdktrace.Event {
	t.Helper()
	tr, rec := recorder(t, true)
	ctx, span := tr.Start(context.Background(), "statement")
	f(ctx)
	span.End()
	spans := rec.Ended()
	require.Len(t, spans, 1)
	return spans[0].Events()
}

// TestAddLostEvent: a loss, however wrapped, gives one event with the
// cause, the server and the TCP figures; one without TCP_INFO gives the
// cause and the server.
func TestAddLostEvent(t *testing.T) {
	noInfo := lostErr()
	noInfo.TCP, noInfo.ServerPID, noInfo.Kind = nil, 0, "timeout"
	for _, tc := range []struct {
		name string
		err  error
		want []attribute.KeyValue
	}{
		{"as it is", lostErr(), lostAttrs},
		{"in a *net.OpError", &net.OpError{Op: "read", Net: "tcp", Err: lostErr()}, lostAttrs},
		{"wrapped", fmt.Errorf("exec: %w", &net.OpError{Op: "read", Net: "tcp", Err: lostErr()}), lostAttrs},
		{"without TCP_INFO", noInfo, []attribute.KeyValue{attribute.String("error.type", "timeout"),
			attribute.String("server.address", "198.51.100.7"), attribute.Int("server.port", 5439)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs := events(t, func(ctx context.Context) { otelka.AddLostEvent(ctx, tc.err) })
			require.Len(t, evs, 1)
			assert.Equal(t, otelka.LostEventName, evs[0].Name)
			assert.Equal(t, attribute.NewSet(tc.want...), attribute.NewSet(evs[0].Attributes...))
		})
	}
}

// TestAddLostEventNothing: no event for an error that is not a loss, and
// no panic for a context without a span, a nil one, or a span that does
// not record.
func TestAddLostEventNothing(t *testing.T) {
	for _, err := range []error{nil, io.EOF, context.Canceled, errors.New("connection lost"),
		&net.OpError{Op: "read", Net: "tcp", Err: io.ErrUnexpectedEOF}} {
		t.Run(fmt.Sprint(err), func(t *testing.T) {
			assert.Empty(t, events(t, func(ctx context.Context) { otelka.AddLostEvent(ctx, err) }))
		})
	}
	t.Run("nil *ConnLostError", func(t *testing.T) {
		var lost *dialer.ConnLostError
		assert.Empty(t, events(t, func(ctx context.Context) { otelka.AddLostEvent(ctx, lost) }))
	})
	t.Run("no span", func(t *testing.T) {
		var nilCtx context.Context
		assert.NotPanics(t, func() {
			otelka.AddLostEvent(nilCtx, lostErr())
			otelka.AddLostEvent(context.Background(), lostErr())
			otelka.Tracer{}.TraceQueryEnd(nilCtx, nil, pgx.TraceQueryEndData{Err: lostErr()})
		})
	})
	t.Run("not recording", func(t *testing.T) {
		tr, rec := recorder(t, false)
		ctx, span := tr.Start(context.Background(), "statement")
		require.False(t, span.IsRecording())
		assert.NotPanics(t, func() { otelka.AddLostEvent(ctx, lostErr()) })
		span.End()
		assert.Empty(t, rec.Ended())
		sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}})
		assert.NotPanics(t, func() { otelka.AddLostEvent(trace.ContextWithRemoteSpanContext(context.Background(), sc), lostErr()) })
	})
}

// TestTracer: pgx's tracer hooks report a loss on the span of the
// context they get: a query, a batch's end (not each of its queries), a
// CopyFrom and a Prepare.
func TestTracer(t *testing.T) {
	var tr otelka.Tracer
	lost := lostErr()
	for _, tc := range []struct {
		name string
		call func(ctx context.Context)
		want int
	}{
		{"query", func(ctx context.Context) {
			ctx = tr.TraceQueryStart(ctx, nil, pgx.TraceQueryStartData{SQL: "COPY t FROM PROGRAM 'x'"})
			tr.TraceQueryEnd(ctx, nil, pgx.TraceQueryEndData{Err: lost})
		}, 1},
		{"query, no error", func(ctx context.Context) {
			tr.TraceQueryEnd(tr.TraceQueryStart(ctx, nil, pgx.TraceQueryStartData{}), nil, pgx.TraceQueryEndData{})
		}, 0},
		{"batch", func(ctx context.Context) {
			ctx = tr.TraceBatchStart(ctx, nil, pgx.TraceBatchStartData{})
			tr.TraceBatchQuery(ctx, nil, pgx.TraceBatchQueryData{Err: lost})
			tr.TraceBatchQuery(ctx, nil, pgx.TraceBatchQueryData{Err: lost})
			tr.TraceBatchEnd(ctx, nil, pgx.TraceBatchEndData{Err: lost})
		}, 1},
		{"copy from", func(ctx context.Context) {
			tr.TraceCopyFromEnd(tr.TraceCopyFromStart(ctx, nil, pgx.TraceCopyFromStartData{}), nil, pgx.TraceCopyFromEndData{Err: lost})
		}, 1},
		{"prepare", func(ctx context.Context) {
			tr.TracePrepareEnd(tr.TracePrepareStart(ctx, nil, pgx.TracePrepareStartData{}), nil, pgx.TracePrepareEndData{Err: lost})
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Len(t, events(t, tc.call), tc.want)
		})
	}
}

// TestTracerNoLossAllocs: without a loss the tracer allocates nothing,
// on a recording span too.
func TestTracerNoLossAllocs(t *testing.T) {
	tr, _ := recorder(t, true)
	ctx, span := tr.Start(context.Background(), "statement")
	defer span.End()
	var qt pgx.QueryTracer = otelka.Tracer{}
	other := &net.OpError{Op: "read", Net: "tcp", Err: io.ErrUnexpectedEOF}
	for _, err := range []error{nil, other} {
		allocs := testing.AllocsPerRun(100, func() {
			qctx := qt.TraceQueryStart(ctx, nil, pgx.TraceQueryStartData{})
			qt.TraceQueryEnd(qctx, nil, pgx.TraceQueryEndData{Err: err})
		})
		assert.Zero(t, allocs, "error %v", err)
	}
}

// BenchmarkTraceQueryEnd is the tracer's cost per query, against pgx's
// with no tracer (a nil check), on a recording span.
func BenchmarkTraceQueryEnd(b *testing.B) {
	tr, _ := recorder(b, true)
	ctx, span := tr.Start(context.Background(), "statement")
	defer span.End()
	other := &net.OpError{Op: "read", Net: "tcp", Err: io.ErrUnexpectedEOF}
	for _, bc := range []struct {
		name   string
		tracer pgx.QueryTracer
		err    error
	}{
		{"tracer=none", nil, nil},
		{"tracer=otelka/err=nil", otelka.Tracer{}, nil},
		{"tracer=otelka/err=other", otelka.Tracer{}, other},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if bc.tracer != nil {
					qctx := bc.tracer.TraceQueryStart(ctx, nil, pgx.TraceQueryStartData{})
					bc.tracer.TraceQueryEnd(qctx, nil, pgx.TraceQueryEndData{Err: bc.err})
				}
			}
		})
	}
}
