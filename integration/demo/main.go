//go:build linux

// Command demo shows the problem redshift-ka solves and the fix, on this
// machine, with real parts: a client, a kernel firewall that forgets flows
// idle for a few seconds (nftables and conntrack, like a NAT gateway), and a
// PostgreSQL server, each in its own network namespace. The same long
// statement runs through plain pgx and through redshift-ka, side by side.
//
// It needs root (network namespaces, nftables) and Debian's postgresql and
// nftables packages; scripts/demo installs them and runs it.
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/redshift-ka/redshift-ka/internal/sockopt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

const (
	fwIdle = 4 * time.Second  // the firewall forgets a flow silent this long
	sleep  = 12 * time.Second // the statement keeps the wire silent this long
	bound  = 20 * time.Second // how long the demonstration waits for either
	kaDSN  = "KeepAlivesIdle=2&KeepAlivesInterval=2&KeepAlivesCount=3"
)

func main() {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "demo: needs root, to make network namespaces and an nftables firewall; run: sudo bash scripts/demo")
		os.Exit(2)
	}
	// Ctrl-C: delete the namespaces; the server dies with this process.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		_ = harness.CloseAll()
		os.Exit(130)
	}()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	fmt.Printf("Building client -> firewall -> server in network namespaces.\n")
	fw, err := harness.NewFirewall(fwIdle)
	if err != nil {
		return err
	}
	defer fw.Close()
	pg, err := harness.StartPostgres(harness.PostgresOptions{Netns: fw.Server.Name, ListenAddr: harness.ServerAddr})
	if err != nil {
		return err
	}
	defer pg.Stop()
	fmt.Printf("  client %s -> kernel firewall (conntrack forgets flows idle for %s, drops their packets without a reset) -> PostgreSQL %s:%d\n\n",
		harness.ClientAddr, fwIdle, harness.ServerAddr, pg.Port)

	type side struct {
		name, driver, dsn string
		conn              *sql.Conn
		db                *sql.DB
	}
	sides := []*side{
		{name: "plain pgx (stdlib)", driver: "pgx", dsn: pg.URL("")},
		{name: "redshift-ka", driver: driver.Name, dsn: pg.URL(kaDSN)},
	}
	for _, s := range sides {
		if err := fw.Client.Do(func() error {
			var err error
			if s.db, err = sql.Open(s.driver, s.dsn); err != nil {
				return err
			}
			s.conn, err = s.db.Conn(context.Background())
			return err
		}); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		defer s.db.Close()
		defer s.conn.Close()
		o, err := observe(s.conn)
		if err != nil {
			return err
		}
		fmt.Printf("%-20s keep-alive on the socket: idle %s, interval %s, count %d: an idle flow is refreshed every %s\n",
			s.name, o.Idle, o.Interval, o.Count, o.Idle)
	}
	fmt.Printf("%-20s DSN keys: %s\n\n", "", kaDSN)

	query := fmt.Sprintf("SELECT pg_sleep(%g)", sleep.Seconds())
	fmt.Printf("Running %q on both (%.1fx the firewall's idle timeout); giving up after %s.\n", query, sleep.Seconds()/fwIdle.Seconds(), bound)
	type outcome struct {
		s       *side
		err     error
		elapsed time.Duration
	}
	done := make(chan outcome, len(sides))
	for _, s := range sides {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), bound)
			defer cancel()
			start := time.Now()
			_, err := s.conn.ExecContext(ctx, query)
			done <- outcome{s, err, time.Since(start)}
		}()
	}
	ok := map[string]bool{}
	for range sides {
		o := <-done
		switch {
		case o.err == nil:
			fmt.Printf("  %-20s completed after %.1fs\n", o.s.name, o.elapsed.Seconds())
			ok[o.s.name] = true
		case errors.Is(o.err, context.DeadlineExceeded):
			fmt.Printf("  %-20s no answer after %.1fs: the firewall forgot the silent flow and dropped the result; stopped here\n", o.s.name, o.elapsed.Seconds())
			fmt.Printf("  %-20s (its first keep-alive probe, after Go's 15 s, was dropped too; it would fail only after 15 s + 15 s x 9 = 150 s)\n", "")
		default:
			fmt.Printf("  %-20s failed after %.1fs: %v\n", o.s.name, o.elapsed.Seconds(), o.err)
		}
	}
	if !ok["redshift-ka"] || ok["plain pgx (stdlib)"] {
		return errors.New("the demonstration did not show the expected outcome (see above)")
	}
	fmt.Println("\nredshift-ka's probes kept the flow alive through the firewall; plain pgx's connection was silently lost.")
	return nil
}

// observe reads the keep-alive options on a connection's socket, whichever
// driver made it.
func observe(conn *sql.Conn) (dialer.Observed, error) {
	var o dialer.Observed
	err := conn.Raw(func(dc any) error {
		nc := dc.(*stdlib.Conn).Conn().PgConn().Conn()
		if kc, ok := nc.(*dialer.Conn); ok {
			nc = kc.TCPConn
		}
		tc, ok := nc.(*net.TCPConn)
		if !ok {
			return fmt.Errorf("not a TCP connection: %T", nc)
		}
		var err error
		var v sockopt.Values
		v, err = sockopt.Read(tc)
		o = dialer.Observed(v)
		return err
	})
	return o, err
}
