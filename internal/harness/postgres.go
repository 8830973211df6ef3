//go:build linux

package harness

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// tempPrefix starts the name of every temporary directory StartPostgres
	// makes, so stale ones can be found (and `pgrep -f` finds servers).
	tempPrefix = "redshift-ka-pg-"
	// pidFileName names the file in that directory holding the PIDs of the
	// process that made it and of the server it started.
	pidFileName = "redshift-ka-pg.pid"
	// logFileName names the server log in the data directory.
	logFileName = "redshift-ka-server.log"

	startTimeout = 30 * time.Second // until the server accepts connections
	stopTimeout  = 10 * time.Second // from SIGINT until SIGKILL, and after
	initdbLimit  = 2 * time.Minute
	portAttempts = 3 // auto-chosen ports tried when the port is taken meanwhile
	netnsPort    = 5432
	logTailLines = 40
	redacted     = "xxxxx"
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

// serverUser is who runs initdb and postgres.
type serverUser struct {
	cred *syscall.Credential // nil: the current user
}

// chown gives path to the server user, when that is not the current user.
func (u serverUser) chown(path string) error {
	if u.cred == nil {
		return nil
	}
	if err := os.Chown(path, int(u.cred.Uid), int(u.cred.Gid)); err != nil {
		return fmt.Errorf("integration: %w", err)
	}
	return nil
}

// lookupServerUser returns the current user, or when root, Debian's
// "postgres" system user: initdb and postgres refuse to run as root.
func lookupServerUser() (serverUser, error) {
	if os.Geteuid() != 0 {
		return serverUser{}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return serverUser{}, fmt.Errorf("integration: running as root needs the postgres system user to run the server: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return serverUser{}, fmt.Errorf("integration: postgres uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return serverUser{}, fmt.Errorf("integration: postgres gid %q: %w", u.Gid, err)
	}
	return serverUser{cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}, nil
}

var cleanStaleOnce sync.Once

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
		return nil, fmt.Errorf("integration: ListenAddr %q: want an IP address", listen)
	}
	if opts.Port < 0 || opts.Port > 65535 {
		return nil, fmt.Errorf("integration: Port %d: want 0..65535", opts.Port)
	}
	password, err := hostilePassword()
	if err != nil {
		return nil, err
	}
	base, err := os.MkdirTemp("", tempPrefix)
	if err != nil {
		return nil, fmt.Errorf("integration: %w", err)
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
func StartPostgresT(t testing.TB, opts PostgresOptions) *Postgres {
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
	hba := "# Written by redshift-ka/integration.\n" +
		"local all all trust\n" +
		"host all all 0.0.0.0/0 scram-sha-256\n" +
		"host all all ::/0 scram-sha-256\n"
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
	names := make([]string, 0, len(opts.Settings))
	for name := range opts.Settings {
		if name == "" || strings.ContainsAny(name, "= ") {
			return fmt.Errorf("integration: Settings: bad setting name %q", name)
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

// initdb makes the cluster in p.Dir, with the superuser's password read from
// a file so it never shows on a command line.
func (p *Postgres) initdb(bin string, su serverUser) error {
	pwfile := filepath.Join(p.base, "pwfile")
	if err := writeOwned(pwfile, []byte(p.Password+"\n"), 0o600, su); err != nil {
		return err
	}
	defer os.Remove(pwfile)

	ctx, cancel := context.WithTimeout(context.Background(), initdbLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", p.Dir,
		"-U", "postgres",
		"--pwfile="+pwfile,
		"--auth-local=trust",
		"--auth-host=scram-sha-256",
		"--encoding=UTF8",
		"--no-locale",
		"--no-sync",
	)
	cmd.Dir = p.base
	cmd.Env = serverEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: su.cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("integration: initdb: %w\n%s", err, p.redact(Tail(string(out), logTailLines)))
	}
	return nil
}

// writeCert writes a new self-signed certificate and its key into the data
// directory, sets p.CertPEM and returns the files' paths.
func (p *Postgres) writeCert(su serverUser) (certFile, keyFile string, err error) {
	certPEM, keyPEM, err := selfSignedCert(p.Host)
	if err != nil {
		return "", "", err
	}
	certFile = filepath.Join(p.Dir, "server.crt")
	keyFile = filepath.Join(p.Dir, "server.key")
	if err := writeOwned(certFile, certPEM, 0o644, su); err != nil {
		return "", "", err
	}
	// The server refuses a key others can read.
	if err := writeOwned(keyFile, keyPEM, 0o600, su); err != nil {
		return "", "", err
	}
	p.CertPEM = certPEM
	return certFile, keyFile, nil
}

// selfSignedCert makes an ECDSA P-256 key and a certificate for it, signed by
// itself and valid for host, 127.0.0.1, ::1 and localhost for a day.
func selfSignedCert(host string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("integration: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("integration: serial number: %w", err)
	}
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	if ip := net.ParseIP(host); ip != nil && !ip.IsLoopback() {
		ips = append(ips, ip)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: host, Organization: []string{"redshift-ka integration test"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           ips,
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("integration: create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("integration: marshal key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}

// start starts postgres with args, inside p.netns if set, and waits until it
// accepts connections. On failure the server is not running.
func (p *Postgres) start(bin string, su serverUser, args []string) error {
	logFile, err := os.OpenFile(p.logPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("integration: %w", err)
	}
	defer logFile.Close() // the server has its own copy
	if err := su.chown(p.logPath); err != nil {
		return err
	}

	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Dir = p.base
	cmd.Env = serverEnv()
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:    true,            // a terminal's ^C goes to the test binary only
		Pdeathsig:  syscall.SIGQUIT, // immediate shutdown if the test binary dies
		Credential: su.cred,
	}
	if p.netns != "" {
		// The child is forked from the thread that entered the namespace.
		err = (&Netns{Name: p.netns}).Do(cmd.Start)
	} else {
		err = cmd.Start()
	}
	if err != nil {
		return fmt.Errorf("integration: start postgres: %w", err)
	}
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	go func() {
		p.waitErr = cmd.Wait()
		close(done)
	}()
	if err := p.writePidFile(cmd.Process.Pid); err != nil {
		return errors.Join(err, p.terminate())
	}
	if err := p.waitReady(); err != nil {
		return errors.Join(err, p.terminate())
	}
	return nil
}

// waitReady waits until postmaster.pid says "ready" and a TCP connection to
// Host:Port (from inside the namespace, if any) succeeds.
func (p *Postgres) waitReady() error {
	addr := net.JoinHostPort(p.Host, strconv.Itoa(p.Port))
	deadline := time.Now().Add(startTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if p.pidFileReady() && p.dial(addr) == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("integration: postgres not accepting connections on %s after %v; log tail:\n%s",
				addr, startTimeout, Tail(p.Log(), logTailLines))
		}
		select {
		case <-p.done:
			return fmt.Errorf("integration: postgres exited while starting (%v); log tail:\n%s",
				p.waitErr, Tail(p.Log(), logTailLines))
		case <-tick.C:
		}
	}
}

// pidFileReady reports whether the server's postmaster.pid says it accepts
// connections, as pg_ctl -w checks.
func (p *Postgres) pidFileReady() bool {
	b, err := os.ReadFile(filepath.Join(p.Dir, "postmaster.pid"))
	if err != nil {
		return false
	}
	lines := strings.Split(string(b), "\n")
	const pmStatusLine = 8 // LOCK_FILE_LINE_PM_STATUS, 1-based
	return len(lines) >= pmStatusLine && strings.TrimSpace(lines[pmStatusLine-1]) == "ready"
}

// dial opens and closes a TCP connection to addr from the server's namespace.
func (p *Postgres) dial(addr string) error {
	dial := func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	}
	if p.netns == "" {
		return dial()
	}
	return (&Netns{Name: p.netns}).Do(dial)
}

// UnixSocket returns the path of the server's Unix-domain socket, over
// which connections are trusted (no password). It lies in the temporary
// directory beside [Postgres.Dir].
func (p *Postgres) UnixSocket() string {
	return filepath.Join(p.base, ".s.PGSQL."+strconv.Itoa(p.Port))
}

// exited reports whether the server process was started and has exited.
func (p *Postgres) exited() bool {
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop shuts the server down (SIGINT, a fast shutdown; SIGKILL to its process
// group after 10 s), waits for it and removes its temporary directory. It
// does not hang: it gives up 10 s after SIGKILL. The log stays available
// from [Postgres.Log]. Calling Stop again returns the first call's result.
func (p *Postgres) Stop() error {
	p.stopOnce.Do(func() {
		err := p.terminate()
		log := p.Log()
		p.mu.Lock()
		p.logCache, p.stopped = log, true
		p.mu.Unlock()
		if rmErr := os.RemoveAll(p.base); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("integration: %w", rmErr))
		}
		p.stopErr = err
	})
	return p.stopErr
}

// terminate stops the server process, if running, and waits for it.
func (p *Postgres) terminate() error {
	if p.cmd == nil || p.exited() {
		return nil
	}
	pid := p.cmd.Process.Pid
	_ = p.cmd.Process.Signal(syscall.SIGINT) // fails only if it already exited
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
		return nil
	case <-timer.C:
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL) // the server and its backends
	timer.Reset(stopTimeout)
	select {
	case <-p.done:
		return fmt.Errorf("integration: postgres (pid %d) ignored SIGINT for %v; killed", pid, stopTimeout)
	case <-timer.C:
		return fmt.Errorf("integration: postgres (pid %d) still running %v after SIGKILL", pid, stopTimeout)
	}
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

// redact masks the password in s, in every form it may take.
func (p *Postgres) redact(s string) string {
	for _, f := range p.secretForms() {
		s = strings.ReplaceAll(s, f, redacted)
	}
	return s
}

// hostileSpecials is the run of characters in every password
// [StartPostgres] makes that each DSN form must quote, escape or brace.
const hostileSpecials = `#;&?%={}`

// hostilePassword returns a new random password that holds a space, both
// quotes and every character of hostileSpecials, around three pieces of 8
// random hex digits, such as 1f0e9c2a '5d4b3a21" #;&?%={}9e8d7c6b. Each piece
// is distinctive, so a fragment of the password in some output (cut at a
// space or a quote by a parser) can be found.
func hostilePassword() (string, error) {
	var h [3]string
	for i := range h {
		var err error
		if h[i], err = randomHex(4); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf(`%s '%s" %s%s`, h[0], h[1], hostileSpecials, h[2]), nil
}

// secretForms returns the password as each DSN form writes it (raw,
// percent-encoded in a URL's user info, path or query, quoted for
// key=value, braced for ODBC), longest first.
func (p *Postgres) secretForms() []string {
	if p.Password == "" {
		return nil
	}
	forms := []string{
		p.Password,
		strings.TrimPrefix(url.UserPassword("", p.Password).String(), ":"),
		url.PathEscape(p.Password),
		url.QueryEscape(p.Password),
		kvQuote(p.Password),
		ODBCQuote(p.Password),
	}
	sort.Slice(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
	return forms
}

// secretPieces returns what no output may hold: the password in each form
// it is written in ([Postgres.secretForms]) and its distinctive pieces,
// each random hex piece and the run of special characters, which a parser
// that cut the password at a space or a quote would show.
func (p *Postgres) secretPieces() []string {
	pieces := p.secretForms()
	for _, f := range strings.FieldsFunc(p.Password, func(r rune) bool { return !strings.ContainsRune("0123456789abcdef", r) }) {
		if len(f) >= 8 {
			pieces = append(pieces, f)
		}
	}
	if strings.Contains(p.Password, hostileSpecials) {
		pieces = append(pieces, hostileSpecials)
	}
	return pieces
}

// Leaks returns every form and piece of the password (see
// [Postgres.Password]) that s holds: the password raw, percent-encoded,
// quoted or braced, a random hex piece of it, or its run of special
// characters. Nil means s shows nothing of the password. It fails loudly
// on a server without a password: a check against nothing cannot fail.
func (p *Postgres) Leaks(s string) []string {
	if p.Password == "" {
		return []string{"(the server has no password: nothing to look for)"}
	}
	var found []string
	for _, piece := range p.secretPieces() {
		if strings.Contains(s, piece) {
			found = append(found, piece)
		}
	}
	return found
}

// NoLeak fails the test if s shows the password of p in any form or any
// piece of it ([Postgres.Leaks]); what names where s came from.
func NoLeak(t testing.TB, p *Postgres, what, s string) {
	t.Helper()
	if found := p.Leaks(s); len(found) > 0 {
		t.Errorf("%s shows the password (%q):\n%s", what, found, s)
	}
}

// URL returns a libpq URL for the server,
//
//	postgres://postgres:PASSWORD@HOST:PORT/postgres?sslmode=disable&PARAMS
//
// where params (like "connect_timeout=5&keepalives_idle=30") is appended
// as is. When params sets sslmode, sslmode=disable is left out.
func (p *Postgres) URL(params string) string {
	u := url.URL{
		Scheme: "postgres",
		User:   url.UserPassword(p.User, p.Password),
		Host:   net.JoinHostPort(p.Host, strconv.Itoa(p.Port)),
		Path:   "/" + p.Database,
	}
	params = strings.TrimLeft(params, "?&")
	query := "sslmode=disable"
	switch {
	case hasSSLMode(params):
		query = params
	case params != "":
		query += "&" + params
	}
	return u.String() + "?" + query
}

// KeyValue returns a libpq key/value connection string for the server,
//
//	host=HOST port=PORT user=postgres password=PASSWORD dbname=postgres sslmode=disable PARAMS
//
// where params (like "connect_timeout=5 keepalives_idle=30") is appended as
// is. When params sets sslmode, sslmode=disable is left out.
func (p *Postgres) KeyValue(params string) string {
	s := fmt.Sprintf("host=%s port=%d user=%s password=%s dbname=%s",
		kvQuote(p.Host), p.Port, kvQuote(p.User), kvQuote(p.Password), kvQuote(p.Database))
	params = strings.TrimSpace(params)
	if !hasSSLMode(params) {
		s += " sslmode=disable"
	}
	if params != "" {
		s += " " + params
	}
	return s
}

// ODBC returns an ODBC-style connection string for the server,
//
//	Driver={Amazon Redshift (x64)};Server=HOST;Port=PORT;Database=postgres;UID=postgres;PWD=PASSWORD;SSLMode=disable;PARAMS
//
// where params (like "KeepAlivesIdle=30;") is appended as is. When params
// sets SSLMode (in any case), SSLMode=disable; is left out.
func (p *Postgres) ODBC(params string) string {
	s := fmt.Sprintf("Driver={Amazon Redshift (x64)};Server=%s;Port=%d;Database=%s;UID=%s;PWD=%s;",
		p.Host, p.Port, p.Database, p.User, ODBCQuote(p.Password))
	if !hasSSLMode(params) {
		s += "SSLMode=disable;"
	}
	return s + params
}

// hasSSLMode reports whether connection parameters set sslmode, in any case.
func hasSSLMode(params string) bool {
	return strings.Contains(strings.ToLower(params), "sslmode")
}

// kvQuote quotes a libpq key/value value when it needs it.
func kvQuote(v string) string {
	if v != "" && !strings.ContainsAny(v, ` '\`) {
		return v
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// ODBCQuote braces an ODBC value when it needs it, as [Postgres.ODBC] does
// for the password.
func ODBCQuote(v string) string {
	if !strings.ContainsAny(v, ";{}") && strings.TrimSpace(v) == v {
		return v
	}
	return "{" + strings.ReplaceAll(v, "}", "}}") + "}"
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
		return 0, fmt.Errorf("integration: find a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

// serverEnv is the environment for initdb and postgres: ours without libpq
// and locale variables, in the C locale so logs read the same everywhere.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "PG") || strings.HasPrefix(name, "LC_") || name == "LANG" || name == "LANGUAGE" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}

// writeOwned writes a file and gives it to the server user.
func writeOwned(path string, data []byte, perm os.FileMode, su serverUser) error {
	if err := os.WriteFile(path, data, perm); err != nil {
		return fmt.Errorf("integration: %w", err)
	}
	if err := os.Chmod(path, perm); err != nil { // in case the file existed
		return fmt.Errorf("integration: %w", err)
	}
	return su.chown(path)
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

// writePidFile records, in the temporary directory, this process's PID and
// the server's (0 before it starts), so that cleanStale can tell an
// abandoned directory from one in use.
func (p *Postgres) writePidFile(serverPID int) error {
	data := fmt.Sprintf("%d %d\n", os.Getpid(), serverPID)
	if err := os.WriteFile(filepath.Join(p.base, pidFileName), []byte(data), 0o644); err != nil {
		return fmt.Errorf("integration: %w", err)
	}
	return nil
}

// cleanStale removes what earlier test processes that died without calling
// Stop left behind: for each redshift-ka-pg-* temporary directory whose
// owning process is gone, it kills the server still running from it and
// removes the directory. Best effort; directories without a PID file, or
// whose owner is alive, are left alone.
func cleanStale() {
	dirs, err := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	if err != nil {
		return
	}
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, pidFileName))
		if err != nil {
			continue
		}
		var owner, server int
		if _, err := fmt.Sscan(string(b), &owner, &server); err != nil || owner <= 0 {
			continue
		}
		if owner == os.Getpid() || processAlive(owner) {
			continue
		}
		if server > 0 && processAlive(server) && cmdlineContains(server, dir) {
			killGroup(server)
		}
		_ = os.RemoveAll(dir)
	}
}

// killGroup asks the process group pgid to quit, then kills it after 5 s.
func killGroup(pgid int) {
	_ = syscall.Kill(-pgid, syscall.SIGQUIT)
	for range 50 {
		if !processAlive(pgid) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// processAlive reports whether a process with this PID exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// cmdlineContains reports whether process pid's command line contains s, to
// avoid killing an unrelated process that reused a PID.
func cmdlineContains(pid int, s string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && bytes.Contains(b, []byte(s))
}
