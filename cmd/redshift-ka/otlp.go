package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/redshift-ka/redshift-ka/otelka"
)

// metricsEndpointEnv are the variables that turn the OTLP push on: with
// neither set (or with OTEL_SDK_DISABLED=true or OTEL_METRICS_EXPORTER=none),
// nothing of OpenTelemetry runs.
var metricsEndpointEnv = []string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"}

// metricsHeadersEnv may hold credentials, such as an API key: no output
// shows their values.
var metricsHeadersEnv = []string{"OTEL_EXPORTER_OTLP_METRICS_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"}

// metricsFlushWait bounds the last push, when the command ends, and the
// exporter's shutdown: a collector that does not answer holds the command
// up no longer. A test seam.
var metricsFlushWait = 5 * time.Second

// startOTLP starts the push; pushMetrics calls it only when an endpoint
// variable is set. A test seam.
var startOTLP = (*app).startOTLP

// pushMetrics pushes otelka's metrics, with db's pool statistics under
// pool name cmd, to the OTLP endpoint the OTEL_EXPORTER_OTLP_* variables
// name, when one does. The returned func pushes the last figures, within
// metricsFlushWait, and stops. Problems are warnings: the command's
// outcome and exit status never depend on the collector.
func (a *app) pushMetrics(cmd string, db *sql.DB) (stop func()) {
	on := false
	for _, k := range metricsEndpointEnv {
		on = on || a.getenv(k) != ""
	}
	// The standard switches off, as the SDK's autoexport reads them.
	off := strings.EqualFold(strings.TrimSpace(a.getenv("OTEL_SDK_DISABLED")), "true") ||
		strings.EqualFold(strings.TrimSpace(a.getenv("OTEL_METRICS_EXPORTER")), "none")
	if !on || off {
		return func() {}
	}
	for _, k := range metricsHeadersEnv {
		a.scrubHeaders(a.getenv(k))
	}
	stop, err := startOTLP(a, cmd, db)
	if err != nil {
		a.errorf("metrics: %v; metrics not pushed", err)
		return func() {}
	}
	return stop
}

// startOTLP builds the exporter the variables ask for (the SDK reads
// them), a periodic reader (OTEL_METRIC_EXPORT_INTERVAL, default 60 s)
// and otelka's instruments.
func (a *app) startOTLP(cmd string, db *sql.DB) (stop func(), err error) {
	// The SDK's own log lines and export errors go through the scrubbed
	// standard error; its log lines quote the variables' values, never shown.
	otel.SetLogger(logr.New(otelLog{a}))
	// Shutdown cancels a periodic push under way and then pushes the
	// same figures, and more, itself: that cancel is no failure.
	var stopping atomic.Bool
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		if !stopping.Load() || !errors.Is(err, context.Canceled) {
			a.errorf("metrics: %v", err)
		}
	}))

	ctx := context.Background()
	var exp sdkmetric.Exporter
	switch k, p := a.metricsProtocol(); p {
	case "http/protobuf":
		exp, err = otlpmetrichttp.New(ctx)
	case "grpc":
		exp, err = otlpmetricgrpc.New(ctx)
	default:
		if len(p) > 32 || strings.Trim(p, "abcdefghijklmnopqrstuvwxyz0123456789/._-") != "" {
			p = "(not shown)"
		} else {
			p = strconv.Quote(p)
		}
		return nil, fmt.Errorf("%s %s: want http/protobuf or grpc", k, p)
	}
	if err != nil {
		return nil, err
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "redshift-ka"), attribute.String("service.version", version())),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
		resource.WithTelemetrySDK())
	if err != nil {
		a.errorf("metrics: resource attributes: %v", err) // res holds the rest
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)), sdkmetric.WithResource(res))
	stopConns, err := otelka.Start(otelka.WithMeterProvider(mp))
	if err != nil {
		return nil, errors.Join(err, mp.Shutdown(ctx))
	}
	stopDB, err := otelka.ObserveDB(db, cmd, otelka.WithMeterProvider(mp))
	if err != nil {
		stopConns()
		return nil, errors.Join(err, mp.Shutdown(ctx))
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), metricsFlushWait)
		defer cancel()
		stopping.Store(true)
		err := mp.Shutdown(ctx) // the last collection, then the exporter's shutdown
		stopDB()
		stopConns()
		if errors.Is(err, context.DeadlineExceeded) {
			a.errorf("metrics: the collector did not take the last figures within %s; not pushed", metricsFlushWait)
		} else if err != nil {
			a.errorf("metrics: the last push failed: %v", err)
		}
	}, nil
}

// metricsProtocol is the OTLP protocol asked for, and the variable that
// asks: OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL,
// or by default http/protobuf.
func (a *app) metricsProtocol() (variable, protocol string) {
	for _, k := range []string{"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if v := strings.TrimSpace(a.getenv(k)); v != "" {
			return k, v
		}
	}
	return "", "http/protobuf"
}

// scrubHeaders masks the values of an OTEL_EXPORTER_OTLP_HEADERS list
// ("name=value,...", values percent-encoded) in all output: the list,
// each value as written and as sent, and each long word of a value (the
// token of "Bearer TOKEN": a collector may echo it).
func (a *app) scrubHeaders(list string) {
	forms := []string{list}
	for _, pair := range strings.Split(list, ",") {
		forms = append(forms, pair)
		if _, v, ok := strings.Cut(pair, "="); ok {
			forms = append(forms, v)
			if dec, err := url.PathUnescape(v); err == nil {
				forms = append(forms, dec)
			}
		}
	}
	for _, f := range forms {
		if f = strings.TrimSpace(f); len(f) >= 4 {
			a.scrubSecret(f)
		}
		for _, w := range strings.Fields(f) {
			if len(w) >= 8 {
				a.scrubSecret(w)
			}
		}
	}
}

// otelLog prints the OpenTelemetry SDK's error lines, such as a header
// it could not read, without their values: those quote the
// OTEL_EXPORTER_OTLP_* variables, which may hold credentials.
type otelLog struct{ a *app }

func (otelLog) Init(logr.RuntimeInfo)            {}
func (otelLog) Enabled(int) bool                 { return false }
func (otelLog) Info(int, string, ...any)         {}
func (l otelLog) WithValues(...any) logr.LogSink { return l }
func (l otelLog) WithName(string) logr.LogSink   { return l }
func (l otelLog) Error(_ error, msg string, _ ...any) {
	l.a.errorf("metrics: OpenTelemetry SDK: %s (details not shown: they may quote an OTEL_EXPORTER_OTLP_* variable)", msg)
}
