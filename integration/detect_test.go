//go:build linux

package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/redshift-ka/redshift-ka/internal/sockopt"
	"github.com/redshift-ka/redshift-ka/settings"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/harness"
	"github.com/redshift-ka/redshift-ka/sysfallback"
)

// The detection-time table: how long after the network path dies a
// statement waiting on it fails, for several keep-alive settings, measured
// through the kernel firewall, beside what the defaults would give.
//
// The full table takes about two and a half minutes, so it runs only when
// env REDSHIFTKA_DETECT is set (scripts/bench sets it). Otherwise, as in
// CI, a reduced table runs (about 15 s): the README's rows 1/1/3 and
// 2/1/5 with tcp_user_timeout 3500 ms, once each, held to the same target,
// and the computed rows of the defaults, read from real sockets. The
// README prints the table, so CI checks it.
//
// # Method
//
// Linux sends the first keep-alive probe idle after the last packet it
// received on the socket, then one every interval while none is answered,
// and gives up (ETIMEDOUT) at the tick after the count-th unanswered probe:
// idle + interval x count after that last packet. Timed from the cut, the
// error therefore comes anywhere in (idle + interval x (count-1), idle +
// interval x count], depending on how long before the cut the last packet
// (a query's acknowledgement, or the answer to a probe) came. So each run
// cuts the path, then reads TCP_INFO on the client socket
// (tcpi_last_data_recv and tcpi_last_ack_recv, milliseconds since each
// kind of packet was last received; no packet can arrive after the cut),
// and times the error from that last packet. That figure is compared with
// idle + interval x count (with tcp_user_timeout set, with
// [dialer.Observed.DeadAfter], which Linux then follows instead).

const (
	// detectEnv turns the table on.
	detectEnv = "REDSHIFTKA_DETECT"
	// detectOutEnv, when set, names a file the table is written to, in
	// Markdown.
	detectOutEnv = "REDSHIFTKA_DETECT_OUT"
	// detectRunsEnv overrides the number of runs per setting.
	detectRunsEnv = "REDSHIFTKA_DETECT_RUNS"
	// detectRuns is the number of runs per setting, each on a new
	// connection.
	detectRuns = 3
	// detectFirewallIdle is the firewall's idle timeout here: longer than
	// any idle below, so that the firewall never forgets a flow on its
	// own and only the cut kills it.
	detectFirewallIdle = 60 * time.Second
	// detectCutAfter is how long a statement has been waiting when the
	// path is cut. With idle 1 s a probe has been answered by then; with
	// longer idles the last packet is the query's acknowledgement.
	detectCutAfter = 1500 * time.Millisecond
	// detectTarget is the target: the error within this of the
	// formula, every time.
	detectTarget = 500 * time.Millisecond
	// detectStatement outlasts every setting below and then ends by itself.
	detectStatement = "SELECT pg_sleep(30)"
)

// detectSetting is one measured row.
type detectSetting struct {
	label  string // as the table shows it
	params string // the DSN's query
}

// want is what the row's DSN asks the kernel for: the figures the README
// prints come from these, so the measurements are held to them.
func (d detectSetting) want() dialer.Observed {
	cfg, err := dsnparse.Parse("host=h " + strings.ReplaceAll(d.params, "&", " "))
	if err != nil {
		panic(err)
	}
	c := cfg.Config
	return dialer.Observed{KeepAlive: true, Idle: c.Idle, Interval: c.Interval, Count: c.Count, UserTimeout: c.UserTimeout}
}

// detectSettings are the measured rows. Amazon's guidance for Linux
// clients behind a firewall (Redshift Management Guide, "Firewall timeout
// issue": tcp_keepalive_time 200, tcp_keepalive_intvl 200,
// tcp_keepalive_probes 5) is run scaled down 100 times.
var detectSettings = []detectSetting{
	{"1/1/3", ka{1, 1, 3}.params()},
	{"2/1/5", ka{2, 1, 5}.params()},
	{"5/2/3", ka{5, 2, 3}.params()},
	{"2/2/5 (Amazon's 200/200/5 ÷ 100)", ka{2, 2, 5}.params()},
	{"1/1/3, tcp_user_timeout 6000 ms", ka{1, 1, 3}.params() + "&tcp_user_timeout=6000"},
	{"2/1/5, tcp_user_timeout 3500 ms", ka{2, 1, 5}.params() + "&tcp_user_timeout=3500"},
}

// detectCISettings are the rows measured when REDSHIFTKA_DETECT is not
// set: the shortest of the README's rows, one by count and one where
// tcp_user_timeout replaces the count.
var detectCISettings = []detectSetting{detectSettings[0], detectSettings[5]}

// detectEarly is how far before the formula an error may come, for the
// millisecond (and jiffy) resolution of TCP_INFO's times: the kernel gives
// up at the formula, never before it.
const detectEarly = 50 * time.Millisecond

// detectSample is one run.
type detectSample struct {
	fromLast time.Duration // from the last packet received to the error
	fromCut  time.Duration // from the cut to the error
}

// TestDetectionTable measures the detection table. See the comment above
// for the method; scripts/bench runs it and BENCHMARKS.md holds a run.
func TestDetectionTable(t *testing.T) {
	rows, runs := detectSettings, detectRuns
	if os.Getenv(detectEnv) == "" {
		rows, runs = detectCISettings, 1
		t.Logf("reduced detection-time table (%d rows, 1 run each); the full one (about 2.5 minutes): %s=1 go test ./integration -run '^TestDetectionTable$' -v, or bash scripts/bench", len(rows), detectEnv)
	}
	if v := os.Getenv(detectRunsEnv); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, detectRunsEnv)
		require.Positive(t, n, detectRunsEnv)
		runs = n
	}
	fw := harness.NewFirewallT(t, detectFirewallIdle)
	s := &setup{fw: fw, pg: harness.StartPostgresT(t, harness.PostgresOptions{Netns: fw.Server.Name, ListenAddr: harness.ServerAddr})}

	var table strings.Builder
	table.WriteString("| keep-alive idle/interval/count (s) | expected: idle + interval × count | error after the last packet received: min / median / max | worst deviation | error after the cut: min .. max | runs within 0.5 s |\n")
	table.WriteString("|---|---|---|---|---|---|\n")
	for _, set := range rows {
		want := set.want()
		var samples []detectSample
		for i := range runs {
			o, smp, err := detectOnce(t, s, set.params)
			if err != nil {
				t.Errorf("%s, run %d: %v", set.label, i+1, err)
				continue
			}
			samples = append(samples, smp)
			assert.Equal(t, want, o, "%s: the options in force on the socket", set.label)
			t.Logf("%s, run %d: error %.3fs after the last packet received, %.3fs after the cut (formula %s)",
				set.label, i+1, smp.fromLast.Seconds(), smp.fromCut.Seconds(), secs(o.DeadAfter()))
			// Bounds from the settings: the kernel gives up at the
			// formula after the last packet received, late by at most
			// the target; the cut came at most detectCutAfter after
			// that packet.
			dead := want.DeadAfter()
			timing(t, fmt.Sprintf("%s: error after the last packet received (formula %s)", set.label, dead), smp.fromLast, dead-detectEarly, dead+detectTarget)
			// (The cut is timed once nft has loaded the rule, which under
			// load takes a while after the drops begin: 500 ms of slack.)
			timing(t, fmt.Sprintf("%s: error after the cut", set.label), smp.fromCut, dead-detectCutAfter-500*time.Millisecond, dead+detectTarget)
		}
		if len(samples) == 0 {
			fmt.Fprintf(&table, "| %s | | no run succeeded | | | 0/%d |\n", set.label, runs)
			continue
		}
		row, ok := detectRow(want, samples)
		fmt.Fprintf(&table, "| %s | %s |\n", set.label, row)
		if ok < len(samples) {
			t.Errorf("%s: %d of %d runs missed the target (within %s of %s)", set.label, len(samples)-ok, len(samples), detectTarget, want.DeadAfter())
		}
	}
	table.WriteString("\n" + defaultRows(t, s))

	t.Log("\n" + table.String())
	if path := os.Getenv(detectOutEnv); path != "" {
		require.NoError(t, os.WriteFile(path, []byte(table.String()), 0o644))
	}
}

// detectOnce opens a connection with params, starts a long statement,
// cuts the path and waits for the error. It returns the options the kernel
// held on the socket and the timings. The path is restored before it
// returns.
func detectOnce(t *testing.T, s *setup, params string) (dialer.Observed, detectSample, error) {
	db, conn := s.open(t, driver.Name, s.pg.URL(params))
	defer db.Close()
	defer conn.Close()
	r, err := settings.Read(conn)
	if err != nil {
		return dialer.Observed{}, detectSample{}, err
	}
	want := r.Observed
	sock, err := socketOf(conn)
	if err != nil {
		return want, detectSample{}, err
	}

	type end struct {
		err error
		at  time.Time
	}
	ch := make(chan end, 1)
	bound := want.DeadAfter() + detectCutAfter + 10*time.Second
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), bound)
		defer cancel()
		_, err := conn.ExecContext(ctx, detectStatement)
		ch <- end{err, time.Now()}
	}()
	time.Sleep(detectCutAfter)
	if err := s.fw.Cut(); err != nil {
		return want, detectSample{}, err
	}
	cut := time.Now()
	defer func() {
		if err := s.fw.Restore(); err != nil {
			t.Errorf("restore the path: %v", err)
		}
	}()
	since, err := sinceLastReceived(sock)
	if err != nil {
		return want, detectSample{}, err
	}
	last := time.Now().Add(-since)

	var e end
	select {
	case e = <-ch:
	case <-time.After(bound + ctxGrace):
		return want, detectSample{}, fmt.Errorf("the statement did not end within %s of its deadline", ctxGrace)
	}
	if !errors.Is(e.err, dialer.ErrConnectionLost) {
		return want, detectSample{}, fmt.Errorf("want a lost connection, got %v", e.err)
	}
	return want, detectSample{fromLast: e.at.Sub(last), fromCut: e.at.Sub(cut)}, nil
}

// socketOf returns the socket under a pgx connection opened through
// database/sql (plain pgx or redshift-ka).
func socketOf(conn *sql.Conn) (syscall.Conn, error) {
	var nc net.Conn
	if err := conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("not a pgx connection: %T", dc)
		}
		nc = sc.Conn().PgConn().Conn()
		return nil
	}); err != nil {
		return nil, err
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("not a socket: %T", nc)
	}
	return sc, nil
}

// sinceLastReceived reads TCP_INFO: the time since the socket last
// received a packet, data or acknowledgement, which is what the kernel's
// keep-alive timer counts from.
func sinceLastReceived(c syscall.Conn) (time.Duration, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var (
		info  *unix.TCPInfo
		opErr error
	)
	if err := rc.Control(func(fd uintptr) {
		info, opErr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); err != nil {
		return 0, err
	}
	if opErr != nil {
		return 0, fmt.Errorf("getsockopt TCP_INFO: %w", opErr)
	}
	return time.Duration(min(info.Last_data_recv, info.Last_ack_recv)) * time.Millisecond, nil
}

// detectRow formats a measured row's cells after the label and counts the
// runs within the target.
func detectRow(o dialer.Observed, samples []detectSample) (string, int) {
	dead := o.DeadAfter()
	var fromLast, fromCut []time.Duration
	ok := 0
	var worst time.Duration
	for _, s := range samples {
		fromLast = append(fromLast, s.fromLast)
		fromCut = append(fromCut, s.fromCut)
		dev := s.fromLast - dead
		if dev.Abs() > worst.Abs() {
			worst = dev
		}
		if dev.Abs() <= detectTarget {
			ok++
		}
	}
	slices.Sort(fromLast)
	slices.Sort(fromCut)
	return fmt.Sprintf("%s | %s / %s / %s | %+.3f s | %s .. %s | %d/%d",
		formula(o),
		secs(fromLast[0]), secs(fromLast[len(fromLast)/2]), secs(fromLast[len(fromLast)-1]),
		worst.Seconds(),
		secs(fromCut[0]), secs(fromCut[len(fromCut)-1]),
		ok, len(samples)), ok
}

// formula writes out the dead-peer figure of o: idle + interval x count,
// or with tcp_user_timeout, the first probe tick at least that long after
// the last packet ([dialer.Observed.DeadAfter]).
func formula(o dialer.Observed) string {
	byCount := o.Idle + time.Duration(o.Count)*o.Interval
	s := fmt.Sprintf("%g + %g × %d = %s", o.Idle.Seconds(), o.Interval.Seconds(), o.Count, secs(byCount))
	if o.UserTimeout > 0 {
		s = fmt.Sprintf("%s (tcp_user_timeout %s replaces count %d: first probe tick ≥ %s; by count alone %s)",
			secs(o.DeadAfter()), o.UserTimeout, o.Count, o.UserTimeout, secs(byCount))
	}
	return s
}

// secs formats d in seconds with three decimals, or as hours and minutes
// when long.
func secs(d time.Duration) string {
	if d >= 10*time.Minute {
		return fmt.Sprintf("%.0f s (%s)", d.Seconds(), d)
	}
	return fmt.Sprintf("%.3f s", d.Seconds())
}

// defaultRows is the second table: what the defaults give, computed from
// the options read on real sockets (or, for Amazon's guidance at full
// scale, from the figures).
func defaultRows(t *testing.T, s *setup) string {
	var b strings.Builder
	b.WriteString("| client, settings | keep-alive in force (read from the socket) | a dead path is noticed after |\n")
	b.WriteString("|---|---|---|\n")
	row := func(who string, o dialer.Observed) {
		fmt.Fprintf(&b, "| %s | idle %s, interval %s, count %d | %s |\n", who, o.Idle, o.Interval, o.Count, secs(o.DeadAfter()))
	}

	// Plain pgx: Go's dialer defaults.
	db, conn := s.open(t, "pgx", s.pg.URL(""))
	sock, err := socketOf(conn)
	require.NoError(t, err)
	o, err := observe(sock)
	require.NoError(t, err)
	goDefaults := dialer.Observed{KeepAlive: true, Idle: 15 * time.Second, Interval: 15 * time.Second, Count: 9}
	require.Equal(t, goDefaults, o, "plain pgx: the README's 15/15/9")
	require.Equal(t, 150*time.Second, o.DeadAfter(), "plain pgx: the README's 150 s")
	row("plain pgx (Go's net.Dialer defaults)", o)
	conn.Close()
	db.Close()

	// lib/pq keeps its socket to itself: find the one it opened.
	before, err := socketFDs()
	require.NoError(t, err)
	db, conn = s.open(t, "postgres", s.pg.URL(""))
	o, err = newSocketOptions(before, &net.TCPAddr{IP: net.ParseIP(harness.ServerAddr), Port: s.pg.Port})
	require.NoError(t, err)
	require.Equal(t, goDefaults, o, "lib/pq: the README's 15/15/9")
	row("lib/pq (Go's net.Dialer defaults)", o)
	conn.Close()
	db.Close()

	// redshift-ka with no keys: the OS values of the client namespace, a
	// fresh one, so Linux's own defaults.
	db, conn = s.open(t, driver.Name, s.pg.URL(""))
	r, err := settings.Read(conn)
	require.NoError(t, err)
	row("redshift-ka, no keep-alive keys: the OS values (Linux defaults in a fresh namespace)", r.Observed)
	conn.Close()
	db.Close()
	var osv sysfallback.Values
	require.NoError(t, s.fw.Client.Do(func() error { osv, err = sysfallback.Read(); return err }))
	require.Equal(t, dialer.Observed{KeepAlive: true, Idle: osv.Idle, Interval: osv.Interval, Count: osv.Count}, r.Observed,
		"redshift-ka with no keys: the OS values")
	require.Equal(t, 7875*time.Second, osv.DeadAfter(), "a fresh namespace: the README's 7200/75/9, 7 875 s")
	fmt.Fprintf(&b, "| Linux defaults (%s) | idle %s, interval %s, count %d | %s |\n", "sysctl net.ipv4.tcp_keepalive_*", osv.Idle, osv.Interval, osv.Count, secs(osv.DeadAfter()))

	amazon := dialer.Observed{KeepAlive: true, Idle: 200 * time.Second, Interval: 200 * time.Second, Count: 5}
	fmt.Fprintf(&b, "| Amazon's guidance at full scale, 200/200/5 (computed) | idle %s, interval %s, count %d | %s |\n",
		amazon.Idle, amazon.Interval, amazon.Count, secs(amazon.DeadAfter()))
	return b.String()
}

// socketFDs lists the file descriptors of this process that are sockets.
func socketFDs() (map[int]bool, error) {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, err
	}
	fds := make(map[int]bool)
	for _, e := range entries {
		link, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil || !strings.HasPrefix(link, "socket:") {
			continue
		}
		if fd, err := strconv.Atoi(e.Name()); err == nil {
			fds[fd] = true
		}
	}
	return fds, nil
}

// newSocketOptions finds the one socket, not in before, connected to peer,
// and reads its keep-alive options.
func newSocketOptions(before map[int]bool, peer *net.TCPAddr) (dialer.Observed, error) {
	now, err := socketFDs()
	if err != nil {
		return dialer.Observed{}, err
	}
	var found []int
	for fd := range now {
		if before[fd] {
			continue
		}
		sa, err := unix.Getpeername(fd)
		if err != nil {
			continue
		}
		if in4, ok := sa.(*unix.SockaddrInet4); ok && net.IP(in4.Addr[:]).Equal(peer.IP) && in4.Port == peer.Port {
			found = append(found, fd)
		}
	}
	if len(found) != 1 {
		return dialer.Observed{}, fmt.Errorf("want one new socket connected to %s, found %d", peer, len(found))
	}
	// A duplicate of the descriptor shares the socket, and its options;
	// the descriptor itself stays lib/pq's.
	dup, err := unix.Dup(found[0])
	if err != nil {
		return dialer.Observed{}, fmt.Errorf("dup: %w", err)
	}
	f := os.NewFile(uintptr(dup), "lib/pq socket")
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return dialer.Observed{}, err
	}
	defer c.Close()
	sc, ok := c.(syscall.Conn)
	if !ok {
		return dialer.Observed{}, fmt.Errorf("not a socket: %T", c)
	}
	return observe(sc)
}

// observe reads the keep-alive options the kernel holds on any TCP socket,
// redshift-ka's or not.
func observe(c syscall.Conn) (dialer.Observed, error) {
	v, err := sockopt.Read(c)
	return dialer.Observed(v), err
}
