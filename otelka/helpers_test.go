package otelka_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/redshift-ka/redshift-ka/otelka"
)

// started is a Start with a manual reader, stopped with the test.
func started(t testing.TB) *sdkmetric.ManualReader {
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	stop, err := otelka.Start(otelka.WithMeterProvider(mp))
	require.NoError(t, err)
	t.Cleanup(func() { stop(); _ = mp.Shutdown(context.Background()) })
	return r
}

// point is one data point: its attributes and value (a histogram's count).
type point struct {
	attrs attribute.Set
	value float64
}

// collect reads every instrument: name -> its points.
func collect(t testing.TB, r *sdkmetric.ManualReader) map[string][]point {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	out := map[string][]point{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			var ps []point
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					ps = append(ps, point{p.Attributes, float64(p.Value)})
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					ps = append(ps, point{p.Attributes, p.Value})
				}
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					ps = append(ps, point{p.Attributes, float64(p.Value)})
				}
			case metricdata.Sum[float64]:
				for _, p := range d.DataPoints {
					ps = append(ps, point{p.Attributes, p.Value})
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					ps = append(ps, point{p.Attributes, float64(p.Count)})
				}
			}
			out[m.Name] = append(out[m.Name], ps...)
		}
	}
	return out
}

// only returns the value of the one point of name, failing otherwise.
func only(t testing.TB, got map[string][]point, name string) point {
	t.Helper()
	require.Len(t, got[name], 1, "%s: want one series, got %v", name, got[name])
	return got[name][0]
}

// with returns the value of the point of name whose attributes include kv; 0 if none.
func with(got map[string][]point, name string, kv attribute.KeyValue) float64 {
	for _, p := range got[name] {
		if v, ok := p.attrs.Value(kv.Key); ok && v == kv.Value {
			return p.value
		}
	}
	return 0
}
