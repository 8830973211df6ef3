//go:build linux

package harness

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

const (
	// logFileName names the server log in the data directory.
	logFileName = "redshift-ka-server.log"

	portAttempts = 3 // auto-chosen ports tried when the port is taken meanwhile
	netnsPort    = 5432
	logTailLines = 40
)

// PostgresOptions configures [StartPostgres]. The zero value starts a plain
// TCP server on 127.0.0.1 and a free port.
type PostgresOptions struct {
	// Netns is the name of a network namespace (see [Netns]) to run the
	// server in; "" runs it in the current one. The server is then reachable
	// over TCP only from inside that namespace, for example from
	// [Netns.Do].
	Netns string
	// ListenAddr is the IP address to listen on; "" means "127.0.0.1".
	ListenAddr string
	// Port is the TCP port; 0 picks a free one, or 5432 inside Netns.
	Port int
	// TLS turns on ssl=on with a self-signed certificate made for the
	// occasion (see [Postgres.CertPEM]). Plain connections still work.
	TLS bool
	// ClientCA, with TLS, is the PEM of a CA: TCP connections must then
	// be TLS and present a client certificate it signed (pg_hba hostssl
	// with clientcert=verify-ca), besides the password.
	ClientCA []byte
	// Settings are extra server settings, each passed as -c name=value after
	// the harness's own, so they can override them.
	Settings map[string]string
}

// Postgres is a running throw-away PostgreSQL server started by
// [StartPostgres]. Its fields say how to reach it; [Postgres.URL],
// [Postgres.KeyValue] and [Postgres.ODBC] put them into connection strings.
type Postgres struct {
	// Host is the address to connect to: the listen address, or loopback
	// when listening on all addresses.
	Host string
	// Port is the TCP port the server listens on.
	Port int
	// User is the superuser, "postgres".
	User string
	// Password is the superuser's password, random for each server and
	// hostile to every DSN form: it holds a space, both quotes, '#', ';',
	// '&', '?', '%', '=', '{' and '}' between random hex pieces (see
	// [Postgres.Leaks]). TCP connections authenticate with SCRAM-SHA-256.
	Password string
	// Database is the database to connect to, "postgres".
	Database string
	// Dir is the data directory. It lies inside a temporary directory that
	// [Postgres.Stop] removes.
	Dir string
	// CertPEM is the server's self-signed certificate in PEM form when
	// started with TLS, usable as sslrootcert for sslmode=verify-full; its
	// names are Host, 127.0.0.1, ::1 and localhost. Nil without TLS.
	CertPEM []byte
	// CAFile is a file holding CertPEM, readable by the tests, to give as
	// sslrootcert; "" without TLS.
	CAFile string

	base    string // temporary directory holding Dir, the socket and the PID file
	logPath string
	netns   string
	cmd     *exec.Cmd
	done    chan struct{} // closed once cmd has been waited for
	waitErr error         // cmd.Wait's result, set before done is closed

	stopOnce sync.Once
	stopErr  error

	mu       sync.Mutex
	stopped  bool
	logCache string // the log as it was at Stop
}

// StartPostgres initializes a new cluster in a fresh temporary directory
// (named redshift-ka-pg-*), starts a server on it and waits, up to 30 s, until
// it accepts TCP connections. Call [Postgres.Stop] to stop it and remove the
// directory.
//
// TCP connections authenticate as "postgres" with [Postgres.Password] over
// SCRAM-SHA-256 from any address; connections over the Unix socket in the
// temporary directory are trusted. The server runs with fsync off, so it is
// fast and not crash-safe. Run as root, initdb and the server run as the
// "postgres" system user. The server runs in its own process group and is
// sent SIGQUIT if this process dies; its directory then is removed by the
// next StartPostgres of a later process.
//
// Errors never hold the password; a start failure holds the log's tail.
// Call it from a goroutine that is not locked to its OS thread for good: the
// server's parent-death signal fires when the thread that started it ends.
func StartPostgres(opts PostgresOptions) (*Postgres, error) {
	bin, err := PGBinDir()
	if err != nil {
		return nil, err
	}
	cleanStaleOnce.Do(cleanStale)
	su, err := lookupServerUser()
	if err != nil {
		return nil, err
	}
	listen := opts.ListenAddr
	if listen == "" {
		listen = "127.0.0.1"
	}
	ip := net.ParseIP(listen)
	if ip == nil {
		return nil, fmt.Errorf("harness: ListenAddr %q: want an IP address", listen)
	}
	if opts.Port < 0 || opts.Port > 65535 {
		return nil, fmt.Errorf("harness: Port %d: want 0..65535", opts.Port)
	}
	password, err := hostilePassword()
	if err != nil {
		return nil, err
	}
	base, err := os.MkdirTemp("", tempPrefix)
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	p := &Postgres{
		Host:     connectHost(ip),
		Port:     opts.Port,
		User:     "postgres",
		Password: password,
		Database: "postgres",
		Dir:      filepath.Join(base, "data"),
		base:     base,
		netns:    opts.Netns,
	}
	p.logPath = filepath.Join(p.Dir, logFileName)
	if err := p.setUp(bin, su, opts, listen); err != nil {
		return nil, errors.Join(err, p.Stop())
	}
	return p, nil
}

// StartPostgresT is [StartPostgres] for a test: it skips (or, when [Strict],
// fails) the test when PostgreSQL is not installed, fails it when the server
// does not start, and stops the server when the test ends.
func StartPostgresT(t T, opts PostgresOptions) *Postgres {
	t.Helper()
	_, err := PGBinDir()
	Need(t, err == nil, errString(err, "needs PostgreSQL server binaries"))
	if os.Geteuid() == 0 {
		_, err := lookupServerUser()
		Need(t, err == nil, errString(err, "needs the postgres system user when run as root"))
	}
	p, err := StartPostgres(opts)
	if err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("stop postgres: %v\nlog:\n%s", err, Tail(p.Log(), logTailLines))
		}
	})
	return p
}

func errString(err error, otherwise string) string {
	if err != nil {
		return err.Error()
	}
	return otherwise
}

// setUp runs initdb, writes the configuration and starts the server.
func (p *Postgres) setUp(bin string, su serverUser, opts PostgresOptions, listen string) error {
	if err := p.writePidFile(0); err != nil {
		return err
	}
	if err := su.chown(p.base); err != nil {
		return err
	}
	if err := p.initdb(bin, su); err != nil {
		return err
	}
	if opts.ClientCA != nil && !opts.TLS {
		return errors.New("harness: ClientCA needs TLS")
	}
	tcp, auth := "host", "scram-sha-256"
	if opts.ClientCA != nil {
		tcp, auth = "hostssl", "scram-sha-256 clientcert=verify-ca"
	}
	hba := "# Written by redshift-ka/internal/harness.\n" +
		"local all all trust\n" +
		tcp + " all all 0.0.0.0/0 " + auth + "\n" +
		tcp + " all all ::/0 " + auth + "\n"
	if err := writeOwned(filepath.Join(p.Dir, "pg_hba.conf"), []byte(hba), 0o600, su); err != nil {
		return err
	}

	args := []string{
		"-D", p.Dir,
		"-k", p.base,
		"-c", "listen_addresses=" + listen,
		"-c", "fsync=off",
		"-c", "full_page_writes=off",
	}
	if opts.TLS {
		certFile, keyFile, err := p.writeCert(su)
		if err != nil {
			return err
		}
		args = append(args, "-c", "ssl=on", "-c", "ssl_cert_file="+certFile, "-c", "ssl_key_file="+keyFile)
	}
	if opts.ClientCA != nil {
		caFile := filepath.Join(p.Dir, "client-ca.crt")
		if err := writeOwned(caFile, opts.ClientCA, 0o644, su); err != nil {
			return err
		}
		args = append(args, "-c", "ssl_ca_file="+caFile)
	}
	names := make([]string, 0, len(opts.Settings))
	for name := range opts.Settings {
		if name == "" || strings.ContainsAny(name, "= ") {
			return fmt.Errorf("harness: Settings: bad setting name %q", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		args = append(args, "-c", name+"="+opts.Settings[name])
	}

	autoPort := p.Port == 0
	if autoPort && p.netns != "" {
		p.Port, autoPort = netnsPort, false
	}
	for attempt := 1; ; attempt++ {
		if autoPort {
			port, err := freePort(listen)
			if err != nil {
				return err
			}
			p.Port = port
		}
		err := p.start(bin, su, append(args, "-p", strconv.Itoa(p.Port)))
		if err == nil {
			return nil
		}
		// Someone may have taken the free port between our probe and the
		// server's bind; try another.
		if autoPort && attempt < portAttempts && p.exited() && strings.Contains(p.Log(), "could not bind") {
			continue
		}
		return err
	}
}

// UnixSocket returns the path of the server's Unix-domain socket, over
// which connections are trusted (no password). It lies in the temporary
// directory beside [Postgres.Dir].
func (p *Postgres) UnixSocket() string {
	return filepath.Join(p.base, ".s.PGSQL."+strconv.Itoa(p.Port))
}

// Log returns the server's log so far, or as it was at [Postgres.Stop]. The
// password, should it appear, is masked.
func (p *Postgres) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return p.logCache
	}
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(no server log: %v)", err)
	}
	return p.redact(string(b))
}

// connectHost returns the address clients should dial for a server
// listening on ip: ip itself, or loopback for an unspecified address.
func connectHost(ip net.IP) string {
	switch {
	case ip.IsUnspecified() && ip.To4() != nil:
		return "127.0.0.1"
	case ip.IsUnspecified():
		return "::1"
	}
	return ip.String()
}

// freePort returns a TCP port that was free on addr a moment ago.
func freePort(addr string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		return 0, fmt.Errorf("harness: find a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

// Tail returns the last n lines of s, for a log in a failure message.
func Tail(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
