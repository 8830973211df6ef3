package otelka

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ObserveDB reports the pool statistics of db ([sql.DB.Stats]) at each
// collection, under the semantic conventions' db.client.connection
// names, with db.client.connection.pool.name set to name, until stop is
// called.
func ObserveDB(db *sql.DB, name string, opts ...Option) (stop func(), err error) {
	return observePool(meter(opts), name, func() poolStats {
		s := db.Stats()
		return poolStats{
			idle: int64(s.Idle), used: int64(s.InUse), max: int64(s.MaxOpenConnections),
			waits: s.WaitCount, waitTime: s.WaitDuration,
			maxIdle: s.MaxIdleClosed, maxIdleTime: s.MaxIdleTimeClosed, maxLifetime: s.MaxLifetimeClosed,
		}
	})
}

// ObservePool is [ObserveDB] for a pgxpool ([pgxpool.Pool.Stat]):
// connections being made count as used, and a wait is an acquire that
// found no idle connection.
func ObservePool(p *pgxpool.Pool, name string, opts ...Option) (stop func(), err error) {
	return observePool(meter(opts), name, func() poolStats {
		s := p.Stat()
		return poolStats{
			idle: int64(s.IdleConns()), used: int64(s.AcquiredConns() + s.ConstructingConns()), max: int64(s.MaxConns()),
			waits: s.EmptyAcquireCount(), waitTime: s.EmptyAcquireWaitTime(),
			maxIdleTime: s.MaxIdleDestroyCount(), maxLifetime: s.MaxLifetimeDestroyCount(),
		}
	})
}

// poolStats is what both pools tell.
type poolStats struct {
	idle, used, max, waits            int64
	waitTime                          time.Duration
	maxIdle, maxIdleTime, maxLifetime int64 // connections closed, by reason
}

func observePool(m metric.Meter, name string, stats func() poolStats) (stop func(), err error) {
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	count, err := m.Int64ObservableUpDownCounter("db.client.connection.count", metric.WithUnit("{connection}"),
		metric.WithDescription("Connections in the pool, by db.client.connection.state (idle, used)."))
	add(err)
	maxConns, err := m.Int64ObservableUpDownCounter("db.client.connection.max", metric.WithUnit("{connection}"),
		metric.WithDescription("The most open connections allowed; 0: no limit."))
	add(err)
	waits, err := m.Int64ObservableCounter("redshift_ka.pool.waits", metric.WithUnit("{wait}"),
		metric.WithDescription("Requests for a connection that waited for one."))
	add(err)
	waitTime, err := m.Float64ObservableCounter("redshift_ka.pool.wait_time", metric.WithUnit("s"),
		metric.WithDescription("Time spent waiting for a connection, summed over the waits."))
	add(err)
	closed, err := m.Int64ObservableCounter("redshift_ka.pool.closed", metric.WithUnit("{connection}"),
		metric.WithDescription("Connections the pool closed, by redshift_ka.pool.close_reason (max_idle, max_idle_time, max_lifetime)."))
	add(err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	pool := attribute.String("db.client.connection.pool.name", name)
	set := func(kv ...attribute.KeyValue) metric.MeasurementOption {
		return metric.WithAttributeSet(attribute.NewSet(append(kv, pool)...))
	}
	idle, used, all := set(attribute.String("db.client.connection.state", "idle")),
		set(attribute.String("db.client.connection.state", "used")), set()
	reason := func(r string) metric.MeasurementOption {
		return set(attribute.String("redshift_ka.pool.close_reason", r))
	}
	byIdle, byIdleTime, byLifetime := reason("max_idle"), reason("max_idle_time"), reason("max_lifetime")
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := stats()
		o.ObserveInt64(count, s.idle, idle)
		o.ObserveInt64(count, s.used, used)
		o.ObserveInt64(maxConns, s.max, all)
		o.ObserveInt64(waits, s.waits, all)
		o.ObserveFloat64(waitTime, s.waitTime.Seconds(), all)
		o.ObserveInt64(closed, s.maxIdle, byIdle)
		o.ObserveInt64(closed, s.maxIdleTime, byIdleTime)
		o.ObserveInt64(closed, s.maxLifetime, byLifetime)
		return nil
	}, count, maxConns, waits, waitTime, closed)
	if err != nil {
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(func() { _ = reg.Unregister() }) }, nil
}
