package otelka_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// TestSDKRecordsInCallback pins what the dial duration histogram relies
// on (otelka.go, watcher.collect): the SDK runs the registered callbacks
// of a collection before it aggregates the synchronous instruments, so a
// duration recorded inside the callback is in that same collection, not
// one later. If an upgrade of the SDK changes the order, dial durations
// would reach the exporter one export late.
func TestSDKRecordsInCallback(t *testing.T) {
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	defer mp.Shutdown(context.Background())
	m := mp.Meter("pin")
	h, err := m.Float64Histogram("h")
	require.NoError(t, err)
	c, err := m.Int64ObservableCounter("c")
	require.NoError(t, err)
	_, err = m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		h.Record(ctx, 1.5)
		o.ObserveInt64(c, 1)
		return nil
	}, c)
	require.NoError(t, err)

	for i := 1; i <= 2; i++ {
		got := collect(t, r)
		require.Len(t, got["h"], 1, "collection %d: the histogram recorded in its callback", i)
		require.Equal(t, float64(i), got["h"][0].value, "collection %d: the count includes this collection's record", i)
	}
}
