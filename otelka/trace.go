package otelka

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/internal/connwatch"
)

// LostEventName is the name of the span event [AddLostEvent] adds.
const LostEventName = "redshift_ka.connection.lost"

// AddLostEvent adds an event named [LostEventName] to the span of ctx
// when err is a lost connection ([*dialer.ConnLostError]), with the
// cause as error.type, the server, and what TCP_INFO read when the loss
// was noticed. Any other error, a nil one, or a span that is not
// recording adds nothing.
func AddLostEvent(ctx context.Context, err error) {
	if err == nil || !errors.Is(err, dialer.ErrConnectionLost) {
		return
	}
	span := trace.SpanFromContext(ctx)
	var lost *dialer.ConnLostError
	if !span.IsRecording() || !errors.As(err, &lost) || lost == nil {
		return
	}
	span.AddEvent(LostEventName, trace.WithAttributes(lostAttrs(lost)...))
}

// lostAttrs are the attributes of the event of lost.
func lostAttrs(lost *dialer.ConnLostError) []attribute.KeyValue {
	host, port := connwatch.SplitAddr(lost.Addr)
	kv := make([]attribute.KeyValue, 0, 10)
	kv = append(kv, attribute.String("error.type", lost.Kind),
		attribute.String("server.address", host), attribute.Int("server.port", port))
	if lost.ServerPID != 0 {
		kv = append(kv, attribute.Int64("redshift_ka.server.pid", int64(lost.ServerPID)))
	}
	if s := lost.TCP; s != nil {
		kv = append(kv,
			attribute.Int("redshift_ka.connection.probes", s.Probes),
			attribute.Int("redshift_ka.connection.retransmits", s.TotalRetrans),
			attribute.Float64("redshift_ka.connection.rtt", s.RTT.Seconds()),
			attribute.Float64("redshift_ka.connection.rttvar", s.RTTVar.Seconds()),
			attribute.Float64("redshift_ka.connection.since_receive", s.SinceDataReceived.Seconds()),
			attribute.Float64("redshift_ka.connection.since_send", s.SinceDataSent.Seconds()))
	}
	return kv
}

// Tracer is a pgx tracer that calls [AddLostEvent] with the error of
// each query, batch, CopyFrom and Prepare: the span of the context they
// were given gets the event of a lost connection. Combine it with the
// tracer redshift-ka's configuration holds:
//
//	cfg.Tracer = multitracer.New(cfg.Tracer, otelka.Tracer{}) // github.com/jackc/pgx/v5/multitracer
type Tracer struct{}

// TraceQueryStart returns ctx.
func (Tracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

// TraceQueryEnd adds the event of a lost connection to the span of ctx.
func (Tracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryEndData) {
	AddLostEvent(ctx, d.Err)
}

// TraceBatchStart returns ctx.
func (Tracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

// TraceBatchQuery does nothing: the batch's end reports the loss, once.
func (Tracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

// TraceBatchEnd adds the event of a lost connection to the span of ctx.
func (Tracer) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchEndData) {
	AddLostEvent(ctx, d.Err)
}

// TraceCopyFromStart returns ctx.
func (Tracer) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	return ctx
}

// TraceCopyFromEnd adds the event of a lost connection to the span of ctx.
func (Tracer) TraceCopyFromEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceCopyFromEndData) {
	AddLostEvent(ctx, d.Err)
}

// TracePrepareStart returns ctx.
func (Tracer) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	return ctx
}

// TracePrepareEnd adds the event of a lost connection to the span of ctx.
func (Tracer) TracePrepareEnd(ctx context.Context, _ *pgx.Conn, d pgx.TracePrepareEndData) {
	AddLostEvent(ctx, d.Err)
}

var (
	_ pgx.QueryTracer    = Tracer{}
	_ pgx.BatchTracer    = Tracer{}
	_ pgx.CopyFromTracer = Tracer{}
	_ pgx.PrepareTracer  = Tracer{}
)
