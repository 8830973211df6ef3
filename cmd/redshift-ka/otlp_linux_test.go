//go:build linux

package main

import (
	"compress/gzip"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// receiver is an OTLP/HTTP collector: it decodes each
// ExportMetricsServiceRequest posted to it.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	posts  []post
	posted chan struct{} // one send per post, dropped when full
	// answer, when set, writes the response instead of 200.
	answer func(w http.ResponseWriter, r *http.Request)
}

// post is one request the receiver decoded.
type post struct {
	path, auth, tenant string
	points             []point
}

// point is one data point: its metric, attributes and the resource's.
type point struct {
	name            string
	attrs, resource map[string]string
}

func startReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{posted: make(chan struct{}, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body := io.Reader(r.Body)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	var req colmetricpb.ExportMetricsServiceRequest
	if err == nil {
		err = proto.Unmarshal(b, &req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p := post{path: r.URL.Path, auth: r.Header.Get("Authorization"), tenant: r.Header.Get("X-Tenant"), points: points(&req)}
	rc.mu.Lock()
	rc.posts = append(rc.posts, p)
	answer := rc.answer
	rc.mu.Unlock()
	select {
	case rc.posted <- struct{}{}:
	default:
	}
	if answer != nil {
		answer(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

// setAnswer makes f answer each request from now on.
func (rc *receiver) setAnswer(f func(http.ResponseWriter, *http.Request)) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.answer = f
}

// got returns the posts so far.
func (rc *receiver) got() []post {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]post(nil), rc.posts...)
}

// points flattens req into its data points.
func points(req *colmetricpb.ExportMetricsServiceRequest) []point {
	var out []point
	for _, rm := range req.ResourceMetrics {
		res := kvs(rm.GetResource().GetAttributes())
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				var attrs [][]*commonpb.KeyValue
				switch d := m.Data.(type) {
				case *metricpb.Metric_Sum:
					for _, p := range d.Sum.DataPoints {
						attrs = append(attrs, p.Attributes)
					}
				case *metricpb.Metric_Gauge:
					for _, p := range d.Gauge.DataPoints {
						attrs = append(attrs, p.Attributes)
					}
				case *metricpb.Metric_Histogram:
					for _, p := range d.Histogram.DataPoints {
						attrs = append(attrs, p.Attributes)
					}
				}
				for _, a := range attrs {
					out = append(out, point{name: m.Name, attrs: kvs(a), resource: res})
				}
			}
		}
	}
	return out
}

// kvs renders attributes as text: "5432" for server.port.
func kvs(kv []*commonpb.KeyValue) map[string]string {
	m := map[string]string{}
	for _, a := range kv {
		switch v := a.Value.Value.(type) {
		case *commonpb.AnyValue_StringValue:
			m[a.Key] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			m[a.Key] = fmt.Sprint(v.IntValue)
		default:
			m[a.Key] = a.Value.String()
		}
	}
	return m
}

// has reports whether ps hold a point of metric name carrying every
// attribute of want.
func has(ps []point, name string, want map[string]string) bool {
	for _, p := range ps {
		if p.name != name {
			continue
		}
		ok := true
		for k, v := range want {
			ok = ok && p.attrs[k] == v
		}
		if ok {
			return true
		}
	}
	return false
}

func allPoints(posts []post) []point {
	var ps []point
	for _, p := range posts {
		ps = append(ps, p.points...)
	}
	return ps
}

// hostileToken returns an API token that holds a space, both quotes and
// #;&?%={}, around random hex pieces that no output may show.
func hostileToken(t *testing.T) (token string, pieces []string) {
	t.Helper()
	for range 3 {
		b := make([]byte, 5)
		_, err := rand.Read(b)
		require.NoError(t, err)
		pieces = append(pieces, hex.EncodeToString(b))
	}
	token = fmt.Sprintf(`%s '%s" #;&?%%={}%s`, pieces[0], pieces[1], pieces[2])
	return token, append(pieces, `#;&?%={}`, url.PathEscape(token))
}

// noToken fails the test if out shows the token or a piece of it.
func noToken(t *testing.T, pieces []string, what, out string) {
	t.Helper()
	for _, p := range pieces {
		assert.NotContains(t, out, p, "%s shows the token:\n%s", what, out)
	}
}

// cliEnv is this process's environment without the OTEL_ variables and
// the DSN, plus env.
func cliEnv(env ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OTEL_") && !strings.HasPrefix(kv, dsnEnv+"=") {
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

// ended is how a process of the command ended.
type ended struct {
	code           int
	stdout, stderr string
}

// startCmd starts cmd with env; it is killed when the test ends.
func startCmd(t *testing.T, cmd *exec.Cmd, env []string) <-chan ended {
	t.Helper()
	var out, errOut strings.Builder
	cmd.Env, cmd.Stdout, cmd.Stderr = env, &out, &errOut
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	ch := make(chan ended, 1)
	go func() {
		_ = cmd.Wait()
		ch <- ended{cmd.ProcessState.ExitCode(), out.String(), errOut.String()}
	}()
	return ch
}

// runBinary runs the built command with env and returns how it ended,
// failing the test if it has not within bound.
func runBinary(t *testing.T, bound time.Duration, env []string, args ...string) ended {
	t.Helper()
	return harness.Await(t, startCmd(t, exec.Command(binary(t), args...), env), bound, "redshift-ka "+args[0])
}

// TestOTLPPush: with OTEL_EXPORTER_OTLP_ENDPOINT set, check and exec push
// otelka's metrics to an OTLP/HTTP collector: the server's series with
// db.system.name, server.address and server.port, the dials, the pool's
// statistics under the command's name, with the headers of
// OTEL_EXPORTER_OTLP_HEADERS (an API token with a space, quotes and
// #;&?%={}, percent-encoded as the variable wants it), which no output
// shows. exec pushes every OTEL_METRIC_EXPORT_INTERVAL while a statement
// runs, and once more when it ends.
func TestOTLPPush(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	token, pieces := hostileToken(t)
	server := map[string]string{
		"db.system.name": "postgresql", "db.namespace": pg.Database,
		"server.address": pg.Host, "server.port": fmt.Sprint(pg.Port),
	}
	check := func(t *testing.T, rc *receiver, pool string) []point {
		posts := rc.got()
		require.NotEmpty(t, posts, "nothing pushed")
		for _, p := range posts {
			assert.Equal(t, "/v1/metrics", p.path)
			assert.Equal(t, "Bearer "+token, p.auth, "the header as OTEL_EXPORTER_OTLP_HEADERS gave it")
			assert.Equal(t, "etl", p.tenant)
		}
		ps := allPoints(posts)
		assert.True(t, has(ps, "redshift_ka.connection.count", server), "the server's series: %v", ps)
		assert.True(t, has(ps, "redshift_ka.connection.rtt.max", server), "TCP_INFO read")
		assert.True(t, has(ps, "redshift_ka.connection.dials", map[string]string{"server.address": pg.Host, "server.port": fmt.Sprint(pg.Port)}))
		assert.True(t, has(ps, "db.client.connection.count", map[string]string{"db.client.connection.pool.name": pool, "db.client.connection.state": "idle"}))
		assert.Equal(t, "redshift-ka", ps[0].resource["service.name"])
		return ps
	}
	env := func(rc *receiver, extra ...string) []string {
		return cliEnv(append([]string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + rc.URL,
			"OTEL_EXPORTER_OTLP_HEADERS=Authorization=" + url.PathEscape("Bearer "+token) + ",x-tenant=etl"}, extra...)...)
	}

	for _, asJSON := range []bool{false, true} {
		t.Run(fmt.Sprintf("check json=%t", asJSON), func(t *testing.T) {
			rc := startReceiver(t)
			args := []string{"check", pg.URL("")}
			if asJSON {
				args = append(args, "--json")
			}
			e := runBinary(t, time.Minute, env(rc), args...)
			require.Equal(t, exitOK, e.code, e.stdout+e.stderr)
			assert.NotContains(t, e.stderr, "metrics:")
			check(t, rc, "check")
			noToken(t, pieces, "check", e.stdout+e.stderr)
			noSecret(t, pg, e.stdout+e.stderr)
		})
	}

	t.Run("exec, pushed while a statement runs", func(t *testing.T) {
		rc := startReceiver(t)
		// The statement waits for an advisory lock the test holds until
		// the collector has a push.
		lock := holdLock(t, pg, 2727)

		cmd := exec.Command(binary(t), "exec", "--json", "-c", "SELECT pg_advisory_lock(2727)", pg.URL(""))
		ch := startCmd(t, cmd, env(rc, "OTEL_METRIC_EXPORT_INTERVAL=100"))
		// Once the statement waits for the lock, the next push shows the
		// connection.
		waiting := false
		for deadline := time.Now().Add(time.Minute); !waiting && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			var n int
			require.NoError(t, lock.QueryRowContext(t.Context(), "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").Scan(&n))
			waiting = n == 1
		}
		require.True(t, waiting, "exec's statement never waited for the lock")
		// A push under way when the statement started waiting may have
		// been collected before it connected: wait for one that has it.
		seen := len(rc.got())
		mid := allPoints(nil)
		for deadline := time.Now().Add(time.Minute); !has(mid, "redshift_ka.connection.count", server) && time.Now().Before(deadline); {
			harness.Await(t, rc.posted, time.Minute, "a periodic push")
			mid = allPoints(rc.got()[seen:])
		}
		assert.True(t, has(mid, "redshift_ka.connection.count", server), "pushed while the statement runs: %v", mid)
		assert.True(t, has(mid, "db.client.connection.count", map[string]string{"db.client.connection.pool.name": "exec", "db.client.connection.state": "used"}))
		_, err := lock.ExecContext(t.Context(), "SELECT pg_advisory_unlock(2727)")
		require.NoError(t, err)
		e := harness.Await(t, ch, 2*time.Minute, "exec")
		require.Equal(t, exitOK, e.code, e.stdout+e.stderr)
		assert.Contains(t, e.stdout, `"exit": 0`)
		assert.NotContains(t, e.stderr, "metrics:")
		check(t, rc, "exec")
		noToken(t, pieces, "exec", e.stdout+e.stderr)
		noSecret(t, pg, e.stdout+e.stderr)
		t.Logf("%d pushes", len(rc.got()))
	})
}

// TestOTLPHeadersNotShown: an API token in OTEL_EXPORTER_OTLP_HEADERS (or
// _METRICS_HEADERS) is shown by no output of check or exec, in text or
// --json, when the collector refuses it and echoes it in its answer, nor
// when it is written raw (not percent-encoded), so that the SDK cannot
// read it and says so.
func TestOTLPHeadersNotShown(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	token, pieces := hostileToken(t)
	rc := startReceiver(t)
	rc.setAnswer(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "invalid token: "+r.Header.Get("Authorization")+" "+r.Header.Get("X-Api-Key"), http.StatusUnauthorized)
	})
	for _, tc := range []struct{ name, variable, value string }{
		{"encoded, refused and echoed", "OTEL_EXPORTER_OTLP_HEADERS", "authorization=" + url.PathEscape("Bearer "+token)},
		{"metrics headers, encoded", "OTEL_EXPORTER_OTLP_METRICS_HEADERS", "x-api-key=" + url.PathEscape(token)},
		{"raw, unreadable", "OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer " + token},
		{"raw, no name", "OTEL_EXPORTER_OTLP_HEADERS", token},
	} {
		for _, args := range [][]string{{"check"}, {"check", "--json"}, {"exec", "-c", "SELECT 1"}, {"exec", "--json", "-c", "SELECT 1"}} {
			t.Run(tc.name+" "+strings.Join(args, " "), func(t *testing.T) {
				before := len(rc.got())
				env := cliEnv("OTEL_EXPORTER_OTLP_ENDPOINT="+rc.URL, tc.variable+"="+tc.value)
				e := runBinary(t, time.Minute, env, append(args, pg.URL(""))...)
				assert.Equal(t, exitOK, e.code, "a collector's refusal does not fail the command:\n%s%s", e.stdout, e.stderr)
				assert.Greater(t, len(rc.got()), before, "pushed")
				assert.Contains(t, e.stderr, "redshift-ka: metrics: ")
				noToken(t, pieces, "the output", e.stdout+e.stderr)
				noSecret(t, pg, e.stdout+e.stderr)
				t.Logf("stderr:\n%s", e.stderr)
			})
		}
	}
}

// holdLock takes advisory lock n on a connection of its own, closed with
// the test, for a statement of the command's to wait on.
func holdLock(t *testing.T, pg *harness.Postgres, n int) *sql.Conn {
	t.Helper()
	db, err := sql.Open(driver.Name, pg.URL(""))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	lock, err := db.Conn(t.Context())
	require.NoError(t, err)
	t.Cleanup(func() { lock.Close() })
	_, err = lock.ExecContext(t.Context(), "SELECT pg_advisory_lock($1)", n)
	require.NoError(t, err)
	return lock
}

// TestOTLPStopCancelsQuietly: a periodic push still under way when the
// command ends is cancelled by the shutdown, which then pushes the figures
// itself; that cancel prints no warning.
func TestOTLPStopCancelsQuietly(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	rc := startReceiver(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	var slow atomic.Bool // the first push is held until the command ends
	rc.setAnswer(func(w http.ResponseWriter, _ *http.Request) {
		if slow.CompareAndSwap(false, true) {
			select {
			case <-release:
			case <-time.After(time.Minute):
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	})
	// exec's statement waits for a lock the test holds until the first
	// periodic push is under way, whatever the machine's load.
	lock := holdLock(t, pg, 2728)
	env := cliEnv("OTEL_EXPORTER_OTLP_ENDPOINT="+rc.URL, "OTEL_METRIC_EXPORT_INTERVAL=50")
	cmd := exec.Command(binary(t), "exec", "-c", "SELECT pg_advisory_lock(2728)", pg.URL(""))
	ch := startCmd(t, cmd, env)
	harness.Await(t, rc.posted, 30*time.Second, "a periodic push")
	_, err := lock.ExecContext(t.Context(), "SELECT pg_advisory_unlock(2728)")
	require.NoError(t, err)
	e := harness.Await(t, ch, metricsFlushWait+time.Minute, "redshift-ka exec")
	assert.Equal(t, exitOK, e.code, e.stdout+e.stderr)
	assert.NotContains(t, e.stderr, "metrics:")
	assert.GreaterOrEqual(t, len(rc.got()), 2, "the held push, and the last one")
}

// TestOTLPStalledCollector: a collector that takes the request and never
// answers holds the command up for metricsFlushWait at most, though
// OTEL_EXPORTER_OTLP_TIMEOUT would let the SDK wait ten minutes; the
// command still exits 0 and says the figures were not pushed.
func TestOTLPStalledCollector(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	rc := startReceiver(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // before the server closes
	rc.setAnswer(func(http.ResponseWriter, *http.Request) { <-release })
	env := cliEnv("OTEL_EXPORTER_OTLP_ENDPOINT="+rc.URL, "OTEL_EXPORTER_OTLP_TIMEOUT=600000", "OTEL_METRIC_EXPORT_TIMEOUT=600000")
	start := time.Now()
	// The bound is far below the SDK's ten minutes, and far above
	// metricsFlushWait and connecting.
	e := runBinary(t, metricsFlushWait+time.Minute, env, "check", pg.URL(""))
	t.Logf("check ended after %s with a stalled collector", time.Since(start).Round(time.Millisecond))
	assert.Equal(t, exitOK, e.code, e.stdout+e.stderr)
	assert.Len(t, rc.got(), 1, "the last push reached the collector")
	assert.Contains(t, e.stderr, fmt.Sprintf("redshift-ka: metrics: the collector did not take the last figures within %s; not pushed", metricsFlushWait))
}

// TestOTLPOff: without OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_METRICS_ENDPOINT (other OTEL_ variables set), or with
// OTEL_SDK_DISABLED=true or OTEL_METRICS_EXPORTER=none, nothing of
// OpenTelemetry starts, and nothing dials the exporter's default
// endpoint (localhost:4318, listened on in a network namespace of its
// own); check --offline pushes nothing either.
func TestOTLPOff(t *testing.T) {
	t.Run("not started", func(t *testing.T) {
		pg := harness.StartPostgresT(t, harness.PostgresOptions{})
		var started atomic.Int32
		real := startOTLP
		startOTLP = func(a *app, cmd string, db *sql.DB) (func(), error) {
			started.Add(1)
			return func() {}, nil
		}
		t.Cleanup(func() { startOTLP = real })
		others := map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "authorization=x", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_METRIC_EXPORT_INTERVAL": "100"}
		with := map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://127.0.0.1:1"}
		for _, tc := range []struct {
			name  string
			env   map[string]string
			args  []string
			start int32
		}{
			{"check, no endpoint", others, []string{"check", pg.URL("")}, 0},
			{"exec, no endpoint", others, []string{"exec", "-c", "SELECT 1", pg.URL("")}, 0},
			{"check --offline, endpoint", with, []string{"check", "--offline", pg.URL("")}, 0},
			{"check, endpoint, OTEL_SDK_DISABLED", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_SDK_DISABLED": "true"}, []string{"check", pg.URL("")}, 0},
			{"exec, endpoint, OTEL_METRICS_EXPORTER=none", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_METRICS_EXPORTER": "none"}, []string{"exec", "-c", "SELECT 1", pg.URL("")}, 0},
			{"check, endpoint", with, []string{"check", pg.URL("")}, 1},
			{"exec, endpoint", with, []string{"exec", "-c", "SELECT 1", pg.URL("")}, 1},
		} {
			t.Run(tc.name, func(t *testing.T) {
				started.Store(0)
				r := runCLI(t.Context(), "", tc.env, tc.args...)
				require.Equal(t, exitOK, r.code, r.all())
				assert.Equal(t, tc.start, started.Load(), "OpenTelemetry started")
			})
		}
	})

	t.Run("nothing dialed", func(t *testing.T) {
		ns := harness.NewNetnsT(t, "otlp")
		pg := harness.StartPostgresT(t, harness.PostgresOptions{Netns: ns.Name})
		var accepted atomic.Int32
		rc := &receiver{posted: make(chan struct{}, 100)}
		for _, addr := range []string{"127.0.0.1:4318", "[::1]:4318"} {
			var ln net.Listener
			err := ns.Do(func() (err error) { ln, err = net.Listen("tcp", addr); return err })
			if addr == "[::1]:4318" && err != nil {
				continue // no IPv6 here: localhost is 127.0.0.1 alone
			}
			require.NoError(t, err)
			srv := &http.Server{Handler: http.HandlerFunc(rc.serve)}
			go srv.Serve(countingListener{ln, &accepted})
			t.Cleanup(func() { srv.Close() })
		}
		run := func(env ...string) {
			t.Helper()
			cmd := exec.Command("ip", "netns", "exec", ns.Name, binary(t), "exec", "-c", "SELECT 1", pg.URL(""))
			e := harness.Await(t, startCmd(t, cmd, cliEnv(env...)), time.Minute, "exec in the namespace")
			require.Equal(t, exitOK, e.code, e.stdout+e.stderr)
		}
		run("OTEL_EXPORTER_OTLP_HEADERS=authorization=x", "OTEL_EXPORTER_OTLP_INSECURE=true", "OTEL_METRIC_EXPORT_INTERVAL=100")
		assert.Zero(t, accepted.Load(), "dialed without an endpoint set")
		// The control: with an endpoint set, the same listener is dialed.
		run("OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318")
		assert.NotZero(t, accepted.Load(), "the control was not dialed: the test proves nothing")
		assert.NotEmpty(t, rc.got())
	})
}

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	n *atomic.Int32
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// grpcReceiver is an OTLP/gRPC collector.
type grpcReceiver struct {
	colmetricpb.UnimplementedMetricsServiceServer
	addr  string
	mu    sync.Mutex
	posts []post
}

func startGRPCReceiver(t *testing.T) *grpcReceiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g := &grpcReceiver{addr: ln.Addr().String()}
	srv := grpc.NewServer()
	colmetricpb.RegisterMetricsServiceServer(srv, g)
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return g
}

func (g *grpcReceiver) Export(ctx context.Context, req *colmetricpb.ExportMetricsServiceRequest) (*colmetricpb.ExportMetricsServiceResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	p := post{path: "grpc", points: points(req)}
	if v := md.Get("authorization"); len(v) == 1 {
		p.auth = v[0]
	}
	g.mu.Lock()
	g.posts = append(g.posts, p)
	g.mu.Unlock()
	return &colmetricpb.ExportMetricsServiceResponse{}, nil
}

// TestOTLPProtocols: OTEL_EXPORTER_OTLP_PROTOCOL=grpc pushes over gRPC,
// with the headers as metadata; a protocol the SDK lacks (http/json) is a
// warning naming the variable, and nothing is pushed.
func TestOTLPProtocols(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	token, pieces := hostileToken(t)
	t.Run("grpc", func(t *testing.T) {
		g := startGRPCReceiver(t)
		env := cliEnv("OTEL_EXPORTER_OTLP_PROTOCOL=grpc", "OTEL_EXPORTER_OTLP_ENDPOINT=http://"+g.addr,
			"OTEL_EXPORTER_OTLP_HEADERS=authorization="+url.PathEscape("Bearer "+token))
		e := runBinary(t, time.Minute, env, "exec", "-c", "SELECT 1", pg.URL(""))
		require.Equal(t, exitOK, e.code, e.stdout+e.stderr)
		assert.NotContains(t, e.stderr, "metrics:")
		g.mu.Lock()
		posts := append([]post(nil), g.posts...)
		g.mu.Unlock()
		require.NotEmpty(t, posts)
		assert.Equal(t, "Bearer "+token, posts[0].auth)
		assert.True(t, has(allPoints(posts), "redshift_ka.connection.count", map[string]string{
			"db.system.name": "postgresql", "server.address": pg.Host, "server.port": fmt.Sprint(pg.Port)}))
		noToken(t, pieces, "exec", e.stdout+e.stderr)
	})
	t.Run("http/json", func(t *testing.T) {
		rc := startReceiver(t)
		env := cliEnv("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=http/json", "OTEL_EXPORTER_OTLP_ENDPOINT="+rc.URL)
		e := runBinary(t, time.Minute, env, "check", "--json", pg.URL(""))
		require.Equal(t, exitOK, e.code, e.stdout+e.stderr)
		assert.Contains(t, e.stderr, `redshift-ka: metrics: OTEL_EXPORTER_OTLP_METRICS_PROTOCOL "http/json": want http/protobuf or grpc; metrics not pushed`)
		assert.Empty(t, rc.got())
	})
}
