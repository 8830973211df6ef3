// Package otelka exports redshift-ka's view of the network in
// OpenTelemetry metrics: the kernel's TCP health of every connection the
// driver dialed, its dials and losses, and database/sql pool statistics;
// and a lost connection as an event on the active span. It is built on
// the OTel metric and trace APIs alone; the program picks the SDK and
// exporter. Programs that do not import it link no OpenTelemetry package.
//
//	stop, err := otelka.Start() // the global MeterProvider; see WithMeterProvider
//	defer stop()
//	db, err := sql.Open("redshift-ka", dsn)
//	stopDB, err := otelka.ObserveDB(db, "etl")
//
// # Connections
//
// The TCP figures are read from TCP_INFO when the reader collects: nothing
// runs between collections or per query. They are reported per server,
// never per connection, so series grow with servers and databases, not
// with connections: each is the largest value among the server's open
// connections, or a count of them.
//
//	redshift_ka.connection.count             {connection}  open connections
//	redshift_ka.connection.probing.count     {connection}  those with a probe unanswered
//	redshift_ka.connection.probes.max        {probe}       most probes unanswered on one
//	redshift_ka.connection.rtt.max           s             largest smoothed round-trip time
//	redshift_ka.connection.rttvar.max        s             largest round-trip variation
//	redshift_ka.connection.since_receive.max s             longest since data was received
//	redshift_ka.connection.since_send.max    s             longest since data was sent
//	redshift_ka.connection.retransmits       {segment}     segments retransmitted (counter)
//
// They carry db.system.name ("aws.redshift" or "postgresql", as the server
// announced itself), db.namespace, server.address and server.port (as
// dialed: an IP address). A connection still logging in, or one of the
// lib/pq backend, which cannot tell, lacks db.system.name; lib/pq's lack
// db.namespace too. Only Linux has TCP_INFO: elsewhere only the count is
// reported, no zeros.
//
// Events are counted as they happen: redshift_ka.connection.dials,
// redshift_ka.connection.dial_failures (by error.type),
// redshift_ka.connection.dial.duration (a histogram, s),
// redshift_ka.connection.losses (by error.type: keepalive_timeout,
// user_timeout, retransmission_timeout, connection_reset, timeout) and
// redshift_ka.connection.lost_statements. A connection is observed from
// its dial: dial after [Start]. The counters are observable: a dial or a
// loss is counted under a lock and handed to the provider, with its dial
// duration, at the next collection, so a provider that is slow, blocks or
// panics never delays a dial or a statement (up to 4096 durations wait for
// a collection; later ones are counted, not timed).
//
// # Pools
//
// [ObserveDB], and [ObservePool] for pgxpool, report
// db.client.connection.count (by
// db.client.connection.state, idle or used) and db.client.connection.max
// with db.client.connection.pool.name, and redshift_ka.pool.waits,
// redshift_ka.pool.wait_time and redshift_ka.pool.closed (by
// redshift_ka.pool.close_reason) from [sql.DBStats] or [pgxpool.Stat].
//
// # Traces
//
// When a connection is lost, [AddLostEvent] puts an event,
// redshift_ka.connection.lost, on the span of a context: error.type (the
// cause, as on the losses counter), server.address, server.port,
// redshift_ka.server.pid and what TCP_INFO read at the loss,
// redshift_ka.connection.probes, .retransmits, .rtt, .rttvar,
// .since_receive and .since_send (seconds). [Tracer] calls it from pgx's
// tracer hooks; add it to redshift-ka's pgx configuration,
//
//	cfg.Tracer = multitracer.New(cfg.Tracer, otelka.Tracer{}) // github.com/jackc/pgx/v5/multitracer
//
// or, through database/sql, in driver.NewConnector's
// driver.WithPgxOptions(stdlib.OptionBeforeConnect(...)) doing the same to
// each connection's configuration. Without a loss it costs no allocation.
//
// # Dashboards
//
// A Prometheus exporter writes dots as underscores and adds _seconds and
// _total (see Example_prometheus). Servers whose connections have probes
// going unanswered (PromQL):
//
//	max by (server_address) (redshift_ka_connection_probes_max) > 0
//
// The slowest round trip to each server:
//
//	max by (server_address) (redshift_ka_connection_rtt_max_seconds)
//
// Connections lost, by cause, over the last hour:
//
//	sum by (server_address, error_type) (increase(redshift_ka_connection_losses_total[1h]))
package otelka
