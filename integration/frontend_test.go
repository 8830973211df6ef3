//go:build linux

package integration

import (
	"errors"
	"fmt"
	"math/big"
	"net"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// A Redshift-faithful front end: a small PostgreSQL protocol front end in
// front of a real PostgreSQL server, that behaves as Amazon Redshift does
// in the ways that matter to wire formats. Each behaviour names its
// source. Being a user-space proxy, it answers keep-alive probes itself:
// on 127.0.0.1 it is for wire-format tests only; behind a kernel firewall
// (frontEndOptions.Netns) the client's probes cross the firewall to the
// front end's kernel, so a cut path there is a real lost connection to
// "Redshift" (the front end's own path to PostgreSQL is a Unix-domain
// socket and is never cut).

const (
	// redshiftServerVersion is what Redshift gives as server_version: it
	// forked PostgreSQL 8.0.2 ("PostgreSQL 8.0.2 on i686-pc-linux-gnu, ...,
	// Redshift 1.0.122914" in duckdb/duckdb-postgres issue #373).
	redshiftServerVersion = "8.0.2"
	// redshiftPadbVersion is the padb_version ParameterStatus only Redshift
	// sends (lib/pq master conn.go processParameterStatus takes it as "this
	// is Redshift"; Amazon's ODBC driver reports it as SQL_DBMS_VER). The
	// value is the version in that duckdb issue.
	redshiftPadbVersion = "1.0.122914"

	// frontEndMaxConns bounds the connections a front end serves at once.
	frontEndMaxConns = 128
	// frontEndMaxMessage bounds a message's size, either way.
	frontEndMaxMessage = 8 << 20
)

// Redshift-only type OIDs, from aws/amazon-redshift-python-driver
// redshift_connector/utils/oids.py (RedshiftOID) and, for HLLSKETCH,
// aws/amazon-redshift-jdbc-driver core/Oid.java.
const (
	oidSuper           = 4000
	oidVarbyte         = 6551
	oidGeometry        = 3000
	oidGeography       = 3001
	oidHLLSketch       = 2935
	oidIntervalYM      = 1188 // INTERVAL YEAR TO MONTH
	oidIntervalYMArray = 1189
	oidIntervalDS      = 1190 // INTERVAL DAY TO SECOND
	oidIntervalDSArray = 1191
)

// copyFromStdin matches COPY ... FROM STDIN.
var copyFromStdin = regexp.MustCompile(`(?is)^\s*copy\s.*\bfrom\s+stdin\b`)

// redshiftCopyError is what Redshift answers COPY ... FROM STDIN with: its
// COPY reads S3 and other sources on the server, and its grammar has no
// STDIN ("ERROR: syntax error at or near "STDIN"", darwin-eu/CDMConnector
// issue #38). The front end has the real server raise it.
const redshiftCopyError = `DO $$BEGIN RAISE EXCEPTION USING ERRCODE = '42601', MESSAGE = 'syntax error at or near "STDIN"'; END$$`

// stringsSetting matches SHOW, SET and RESET of standard_conforming_strings.
var stringsSetting = regexp.MustCompile(`(?is)^\s*(show|reset|set(\s+session|\s+local)?)\s+standard_conforming_strings\b`)

// redshiftSettingError is what Redshift answers them with: it has no such
// setting (sqlalchemy issues #5698 and #9494, stripe mosql issue #38).
const redshiftSettingError = `DO $$BEGIN RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = 'unrecognized configuration parameter "standard_conforming_strings"'; END$$`

// frontEndOptions says how a front end behaves.
type frontEndOptions struct {
	// Passthrough changes nothing: PostgreSQL as it is, only watched.
	Passthrough bool
	// Relabel presents the columns of these names with these type OIDs
	// (Redshift's own types, say), the values' text unchanged.
	Relabel map[string]uint32
	// Login, if set, answers SSLRequest with TLS and logs a user in with
	// the digest login (frontend_auth_test.go).
	Login *frontEndLogin
	// Netns, if set, is the network namespace to listen in, at
	// harness.ServerAddr (the server's namespace of a [harness.Firewall]),
	// so that the path to the front end can be cut. The listening socket
	// belongs to the namespace it was made in, and so do the connections
	// it accepts; the front end still reaches pg over its Unix-domain
	// socket, which no network namespace confines.
	Netns *harness.Netns
	// AuthTimeout, if set, closes a client that has not logged in this
	// long after it connected, as PostgreSQL's authentication_timeout does.
	AuthTimeout time.Duration
}

// frontEnd is a running front end; see [startFrontEnd].
type frontEnd struct {
	opts frontEndOptions
	pg   *harness.Postgres
	ln   net.Listener
	wg   sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool

	// BinaryNumeric counts NUMERIC values the client asked for in binary
	// (re-encoded the Redshift way unless Passthrough).
	BinaryNumeric atomic.Int64
	// BinaryNumericParams counts NUMERIC parameters the client sent in
	// binary (passed on as they are).
	BinaryNumericParams atomic.Int64
	// BinaryDateTime counts DATE and TIME values the client asked for in
	// binary (passed on as they are).
	BinaryDateTime atomic.Int64
	// CopyRefused counts COPY ... FROM STDIN statements refused.
	CopyRefused atomic.Int64
	// errs holds what went wrong inside the front end; the test fails
	// with them.
	errs []error
	// upstream, when set, is the Unix-domain socket dialed in pg's place,
	// for tests of the front end itself.
	upstream string
}

// startFrontEnd starts a front end before pg on 127.0.0.1 (or, with
// opts.Netns, at harness.ServerAddr in that namespace) and stops it, every
// goroutine of it ended, when the test ends. It reaches pg over its
// Unix-domain socket, which the harness trusts, so it accepts clients
// without checking their password.
func startFrontEnd(t testing.TB, pg *harness.Postgres, opts frontEndOptions) *frontEnd {
	t.Helper()
	listen := func() (ln net.Listener, err error) {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		return ln, err
	}
	if opts.Netns != nil {
		listen = func() (ln net.Listener, err error) {
			err = opts.Netns.Do(func() error {
				ln, err = net.Listen("tcp", net.JoinHostPort(harness.ServerAddr, "0"))
				return err
			})
			return ln, err
		}
	}
	ln, err := listen()
	if err != nil {
		t.Fatalf("front end: %v", err)
	}
	f := &frontEnd{opts: opts, pg: pg, ln: ln, conns: map[net.Conn]bool{}}
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(func() {
		f.stop()
		for _, err := range f.errors() {
			t.Errorf("front end: %v", err)
		}
	})
	return f
}

// Server says how to reach the front end, for [harness.Postgres.URL] and the
// other DSN builders.
func (f *frontEnd) Server() *harness.Postgres {
	addr := f.ln.Addr().(*net.TCPAddr)
	return &harness.Postgres{Host: addr.IP.String(), Port: addr.Port, User: f.pg.User, Password: f.pg.Password, Database: f.pg.Database}
}

func (f *frontEnd) stop() {
	f.mu.Lock()
	f.closed = true
	f.ln.Close()
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

func (f *frontEnd) errors() []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.errs
}

func (f *frontEnd) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, err)
}

// track registers a connection, to be closed by stop; false when the
// front end is stopping or full.
func (f *frontEnd) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || len(f.conns) >= frontEndMaxConns {
		return false
	}
	f.conns[c] = true
	return true
}

func (f *frontEnd) untrack(c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
	c.Close()
}

func (f *frontEnd) accept() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return // closed by stop
		}
		if !f.track(c) {
			c.Close()
			continue
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer f.untrack(c)
			f.serve(c)
		}()
	}
}

// socket is pg's Unix-domain socket.
func (f *frontEnd) socket() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.upstream != "" {
		return f.upstream
	}
	return f.pg.UnixSocket()
}

// setAuthTimeout sets opts.AuthTimeout for the connections that follow.
func (f *frontEnd) setAuthTimeout(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opts.AuthTimeout = d
}

// serve runs one client connection.
func (f *frontEnd) serve(client net.Conn) {
	be := pgproto3.NewBackend(client, client)
	be.SetMaxBodyLen(frontEndMaxMessage)
	var startup *pgproto3.StartupMessage
	var err error
	f.mu.Lock() // a test may set it after the start (setAuthTimeout)
	limit := f.opts.AuthTimeout
	f.mu.Unlock()
	if limit > 0 {
		client.SetDeadline(time.Now().Add(limit))
	}
	for startup == nil {
		msg, err := be.ReceiveStartupMessage()
		if err != nil {
			return
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			if client, be, err = f.encrypt(client, be, m); err != nil {
				return
			}
		case *pgproto3.CancelRequest:
			f.cancel(m)
			return
		case *pgproto3.StartupMessage:
			startup = m
		}
	}
	if !f.login(client, be, startup) {
		return
	}
	client.SetDeadline(time.Time{})
	server, err := net.Dial("unix", f.socket())
	if err != nil {
		f.fail(err)
		return
	}
	if !f.track(server) {
		server.Close()
		return
	}
	defer f.untrack(server)
	fe := pgproto3.NewFrontend(server, server)
	fe.SetMaxBodyLen(frontEndMaxMessage)
	if !f.opts.Passthrough {
		startup = redshiftSession(startup)
	}
	fe.Send(startup)
	if err := fe.Flush(); err != nil {
		return
	}
	r := &relay{f: f, client: client, server: server, be: be, fe: fe, m: pgtype.NewMap(),
		stmts: map[string]*stmt{}, portals: map[string]*portal{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.toServer()
	}()
	r.toClient()
	client.Close()
	server.Close()
	<-done
}

// redshiftSession returns the startup message the server gets for a
// client of the Redshift front end: the client's, with the upstream
// session set to read string literals as Redshift does. Redshift reads a
// backslash in '...' as an escape, \' as a quote (jOOQ issue #10628,
// apache/datafusion-sqlparser-rs issue #1801, dbeaver issue #10747), which
// is PostgreSQL's standard_conforming_strings=off; escape_string_warning
// off keeps the server from warning about each one, which Redshift does
// not do either.
func redshiftSession(m *pgproto3.StartupMessage) *pgproto3.StartupMessage {
	params := map[string]string{}
	for k, v := range m.Parameters {
		params[k] = v
	}
	params["standard_conforming_strings"] = "off"
	params["escape_string_warning"] = "off"
	return &pgproto3.StartupMessage{ProtocolVersion: m.ProtocolVersion, Parameters: params}
}

// frontEndCancelWait bounds how long the front end waits for the server to hang
// up after a cancel request, so that stop never waits on it for ever.
const frontEndCancelWait = 10 * time.Second

// cancel passes a cancel request on to the server.
func (f *frontEnd) cancel(m *pgproto3.CancelRequest) {
	server, err := net.Dial("unix", f.socket())
	if err != nil {
		f.fail(err)
		return
	}
	if !f.track(server) { // stop closes it
		server.Close()
		return
	}
	defer f.untrack(server)
	if err := server.SetDeadline(time.Now().Add(frontEndCancelWait)); err != nil {
		f.fail(err)
		return
	}
	fe := pgproto3.NewFrontend(server, server)
	fe.Send(m)
	_ = fe.Flush()
	_, _ = server.Read(make([]byte, 1)) // until the server hangs up
}

// relay is one client's session: what the client asked for, so that each
// result column's type, type modifier and format are known when its
// values arrive (a cached prepared statement is executed with no
// RowDescription before its rows), and each parameter's type when it is
// bound. Statements and portals are values of their own, taken when the
// client names them: in a batch, a later Parse or Bind of the same name
// (the unnamed statement and portal, say) makes a new one, and the
// messages already sent keep theirs until the server answers them.
type relay struct {
	f              *frontEnd
	client, server net.Conn
	be             *pgproto3.Backend  // to and from the client
	fe             *pgproto3.Frontend // to and from the server
	m              *pgtype.Map        // decodes PostgreSQL's binary NUMERIC

	mu      sync.Mutex
	stmts   map[string]*stmt
	portals map[string]*portal
	pending []pending // what the server will answer next, in order
	simple  []pgproto3.FieldDescription
}

// stmt is a prepared statement: its parameter types (Parse's, then the
// server's ParameterDescription) and, once described, its result columns.
type stmt struct {
	params []uint32
	fields []pgproto3.FieldDescription
}

// portal is a bound statement: its statement, its own columns once
// described, and the result formats asked for.
type portal struct {
	stmt      *stmt
	fields    []pgproto3.FieldDescription
	described bool
	formats   []int16
}

// columns are the portal's result columns.
func (p *portal) columns() []pgproto3.FieldDescription {
	if p.described {
		return p.fields
	}
	return p.stmt.fields
}

// pending is a client message the server has yet to answer: 'S' or 'P'
// (Describe of a statement or portal), 'E' (Execute), 'Y' (Sync), 'Q'
// (a simple Query), with the statement or portal it names.
type pending struct {
	kind   byte
	stmt   *stmt
	portal *portal
}

// toServer passes the client's messages on, noting what they ask for.
func (r *relay) toServer() {
	for {
		msg, err := r.be.Receive()
		if err != nil {
			return
		}
		r.fromClient(msg)
		r.fe.Send(msg)
		if err := r.fe.Flush(); err != nil {
			return
		}
		if _, ok := msg.(*pgproto3.Terminate); ok {
			return
		}
	}
}

func (r *relay) fromClient(msg pgproto3.FrontendMessage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch m := msg.(type) {
	case *pgproto3.Query:
		m.String = r.refuseCopy(m.String)
		r.pending = append(r.pending, pending{kind: 'Q'})
	case *pgproto3.Parse:
		m.Query = r.refuseCopy(m.Query)
		r.stmts[m.Name] = &stmt{params: append([]uint32(nil), m.ParameterOIDs...)}
	case *pgproto3.Bind:
		st := r.stmt(m.PreparedStatement)
		r.countParams(st, m)
		r.portals[m.DestinationPortal] = &portal{stmt: st, formats: append([]int16(nil), m.ResultFormatCodes...)}
	case *pgproto3.Describe:
		if m.ObjectType == 'S' {
			r.pending = append(r.pending, pending{kind: 'S', stmt: r.stmt(m.Name)})
		} else {
			r.pending = append(r.pending, pending{kind: 'P', portal: r.portals[m.Name]})
		}
	case *pgproto3.Execute:
		r.pending = append(r.pending, pending{kind: 'E', portal: r.portals[m.Portal]})
	case *pgproto3.Sync:
		r.pending = append(r.pending, pending{kind: 'Y'})
	case *pgproto3.Close:
		if m.ObjectType == 'S' {
			delete(r.stmts, m.Name)
		} else {
			delete(r.portals, m.Name)
		}
	}
}

// stmt returns the statement of that name, an empty one if the client
// never prepared it (the server will say so).
func (r *relay) stmt(name string) *stmt {
	st := r.stmts[name]
	if st == nil {
		st = &stmt{}
		r.stmts[name] = st
	}
	return st
}

// countParams counts the NUMERIC parameters of a Bind sent in binary.
func (r *relay) countParams(st *stmt, m *pgproto3.Bind) {
	for i, v := range m.Parameters {
		if v != nil && i < len(st.params) && st.params[i] == pgtype.NumericOID && formatOf(m.ParameterFormatCodes, i) == pgtype.BinaryFormatCode {
			r.f.BinaryNumericParams.Add(1)
		}
	}
}

// formatOf is the format of value i for a message's format codes: none
// is text for all, one is for all, else one each.
func formatOf(codes []int16, i int) int16 {
	switch len(codes) {
	case 0:
		return pgtype.TextFormatCode
	case 1:
		return codes[0]
	}
	if i < len(codes) {
		return codes[i]
	}
	return pgtype.TextFormatCode
}

// refuseCopy replaces COPY ... FROM STDIN, and SHOW or SET of
// standard_conforming_strings, with a statement that fails as Redshift
// does.
func (r *relay) refuseCopy(sql string) string {
	switch {
	case r.f.opts.Passthrough:
	case copyFromStdin.MatchString(sql):
		r.f.CopyRefused.Add(1)
		return redshiftCopyError
	case stringsSetting.MatchString(sql):
		return redshiftSettingError
	}
	return sql
}

// toClient passes the server's messages on, the Redshift way.
func (r *relay) toClient() {
	for {
		msg, err := r.fe.Receive()
		if err != nil {
			return
		}
		out, err := r.fromServer(msg)
		if err != nil {
			r.f.fail(err)
			return
		}
		for _, m := range out {
			r.be.Send(m)
		}
		if err := r.be.Flush(); err != nil {
			return
		}
	}
}

// fromServer rewrites a message of the server's and returns what to send
// the client in its place: itself, nothing, or more.
func (r *relay) fromServer(msg pgproto3.BackendMessage) ([]pgproto3.BackendMessage, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	redshift := !r.f.opts.Passthrough
	out := []pgproto3.BackendMessage{msg}
	switch m := msg.(type) {
	case *pgproto3.AuthenticationOk:
		if redshift {
			out = append(out, &pgproto3.ParameterStatus{Name: "padb_version", Value: redshiftPadbVersion})
		}
	case *pgproto3.ParameterStatus:
		switch {
		case !redshift:
		case m.Name == "server_version":
			m.Value = redshiftServerVersion
		case m.Name == "standard_conforming_strings":
			// Redshift has no such setting: it does not report it, and
			// SHOW or SET of it fails with "unrecognized configuration
			// parameter" (sqlalchemy issues #5698 and #9494, stripe
			// mosql issue #38).
			return nil, nil
		case m.Name == "client_encoding":
			// Redshift reports UNICODE (psycopg issue #122, pg8000
			// issues #20 and #33, PostHog issue #63777).
			m.Value = "UNICODE"
		}
	case *pgproto3.ParameterDescription:
		if r.front('S') {
			r.pending[0].stmt.params = append([]uint32(nil), m.ParameterOIDs...)
		}
	case *pgproto3.RowDescription:
		fields := make([]pgproto3.FieldDescription, len(m.Fields))
		for i, fd := range m.Fields {
			fields[i] = fd
			fields[i].Name = append([]byte(nil), fd.Name...)
			if oid, ok := r.f.opts.Relabel[string(fd.Name)]; ok && redshift {
				m.Fields[i].DataTypeOID = oid
			}
		}
		r.described(fields)
	case *pgproto3.NoData:
		r.described(nil)
	case *pgproto3.DataRow:
		return out, r.row(m)
	case *pgproto3.CommandComplete, *pgproto3.EmptyQueryResponse, *pgproto3.PortalSuspended:
		if r.front('E') {
			r.pending = r.pending[1:]
		}
		r.simple = nil
	case *pgproto3.ErrorResponse:
		// The server skips the extended protocol's messages until Sync.
		for len(r.pending) > 0 && r.pending[0].kind != 'Y' && r.pending[0].kind != 'Q' {
			r.pending = r.pending[1:]
		}
	case *pgproto3.ReadyForQuery:
		for len(r.pending) > 0 {
			k := r.pending[0].kind
			r.pending = r.pending[1:]
			if k == 'Y' || k == 'Q' {
				break
			}
		}
		r.simple = nil
	}
	return out, nil
}

func (r *relay) front(kind byte) bool {
	return len(r.pending) > 0 && r.pending[0].kind == kind
}

// described records the result columns the server described: of a
// statement, a portal, or a simple query's next result.
func (r *relay) described(fields []pgproto3.FieldDescription) {
	switch {
	case r.front('S'):
		r.pending[0].stmt.fields = fields
		r.pending = r.pending[1:]
	case r.front('P'):
		if p := r.pending[0].portal; p != nil {
			p.fields, p.described = fields, true
		}
		r.pending = r.pending[1:]
	case r.front('Q'):
		r.simple = fields
	}
}

// row counts the binary DATE and TIME values of a row, and re-encodes its
// NUMERIC values that the client asked for in binary the way Redshift
// sends them: a big-endian two's complement integer scaled by the
// column's scale, 8 bytes or 16
// (aws/amazon-redshift-python-driver redshift_connector/utils/type_utils.py
// numeric_in_binary; aws/amazon-redshift-jdbc-driver
// util/ByteConverter.java redshiftNumeric).
func (r *relay) row(m *pgproto3.DataRow) error {
	var fields []pgproto3.FieldDescription
	format := func(i int) int16 { return fields[i].Format }
	switch {
	case r.front('E'):
		p := r.pending[0].portal
		if p == nil {
			return errors.New("a row for a portal never bound")
		}
		fields = p.columns()
		format = func(i int) int16 { return formatOf(p.formats, i) }
	case r.front('Q'):
		fields = r.simple
	}
	if len(fields) != len(m.Values) {
		return fmt.Errorf("a row of %d values for %d described columns", len(m.Values), len(fields))
	}
	for i, v := range m.Values {
		if v == nil || format(i) != pgtype.BinaryFormatCode {
			continue
		}
		switch fields[i].DataTypeOID {
		case pgtype.DateOID, pgtype.TimeOID:
			r.f.BinaryDateTime.Add(1)
			continue
		case pgtype.NumericOID:
		default:
			continue
		}
		r.f.BinaryNumeric.Add(1)
		if r.f.opts.Passthrough {
			continue
		}
		var n pgtype.Numeric
		if err := r.m.Scan(pgtype.NumericOID, pgtype.BinaryFormatCode, v, &n); err != nil {
			return err
		}
		b, err := redshiftNumeric(n, fields[i].TypeModifier)
		if err != nil {
			return err
		}
		m.Values[i] = b
	}
	return nil
}

// redshiftNumeric encodes n as Redshift's binary NUMERIC for a column of
// type modifier typmod: the value times 10^scale, big-endian, in 8 bytes
// up to precision 18 and 16 beyond (both decoders named above take 8 or
// 16 bytes; Amazon Redshift Database Developer Guide, "Numeric types":
// 64-bit DECIMAL up to precision 18, 128-bit beyond, and a precision of
// 18, scale 0, when none is given).
func redshiftNumeric(n pgtype.Numeric, typmod int32) ([]byte, error) {
	precision, scale := 18, 0
	if typmod >= 4 { // PostgreSQL's: ((precision << 16) | scale) + VARHDRSZ
		precision, scale = int((typmod-4)>>16), int((typmod-4)&0xffff)
	}
	if n.NaN || n.InfinityModifier != pgtype.Finite {
		return nil, errors.New("Redshift has no NaN or infinite NUMERIC")
	}
	v := new(big.Int).Set(n.Int)
	shift := int(n.Exp) + scale
	ten := big.NewInt(10)
	if shift >= 0 {
		v.Mul(v, new(big.Int).Exp(ten, big.NewInt(int64(shift)), nil))
	} else {
		v.Quo(v, new(big.Int).Exp(ten, big.NewInt(int64(-shift)), nil))
	}
	width := 8
	if precision > 18 {
		width = 16
	}
	if v.BitLen() >= 8*width {
		return nil, fmt.Errorf("NUMERIC(%d,%d) value %s does not fit %d bytes", precision, scale, v, width)
	}
	if v.Sign() < 0 { // two's complement
		v.Add(v, new(big.Int).Lsh(big.NewInt(1), uint(8*width)))
	}
	return v.FillBytes(make([]byte, width)), nil
}
