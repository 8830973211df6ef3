package driver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dialer"
)

// These tests pin what redshift-ka relies on inside pgx (see DESIGN.md),
// against a loopback server that logs in anyone and then stays silent, as
// a server running a long statement does. The client's socket is wrapped
// so that a test can make it lost: its reads then fail as a lost
// dialer.Conn's do, and its RemoteAddr names another network.

// silentServer accepts connections, logs them in, and answers nothing
// more. Cancel requests it receives are counted.
type silentServer struct {
	ln      net.Listener
	cancels atomic.Int32
}

func newSilentServer(t *testing.T) *silentServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &silentServer{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *silentServer) serve(c net.Conn) {
	defer c.Close()
	be := pgproto3.NewBackend(c, c)
	msg, err := be.ReceiveStartupMessage()
	if err != nil {
		return
	}
	if _, ok := msg.(*pgproto3.CancelRequest); ok {
		s.cancels.Add(1)
		return
	}
	be.Send(&pgproto3.AuthenticationOk{})
	be.Send(&pgproto3.BackendKeyData{ProcessID: 42, SecretKey: []byte{0, 0, 0, 7}})
	be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if be.Flush() != nil {
		return
	}
	for {
		if _, err := be.Receive(); err != nil {
			return
		}
	}
}

// losable is a client socket a test can make lost.
type losable struct {
	net.Conn
	lost atomic.Pointer[dialer.ConnLostError]
}

func (c *losable) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if e := c.lost.Load(); e != nil {
		return 0, &net.OpError{Op: "read", Net: "tcp", Addr: c.Conn.RemoteAddr(), Err: e}
	}
	return n, err
}

func (c *losable) RemoteAddr() net.Addr {
	if c.lost.Load() != nil {
		return pinAddr{c.Conn.RemoteAddr()}
	}
	return c.Conn.RemoteAddr()
}

// lose makes the connection lost and ends a read in progress.
func (c *losable) lose() {
	c.lost.Store(&dialer.ConnLostError{Addr: c.Conn.RemoteAddr().String(), Cause: "3 keep-alive probes went unanswered"})
	c.Conn.SetReadDeadline(time.Now())
}

type pinAddr struct{ net.Addr }

func (pinAddr) Network() string { return "pin-lost" }

// dial is a pgx configuration for s whose connections are losable; dials
// are sent on dials as network and address.
type pinClient struct {
	cfg   *pgx.ConnConfig
	conns chan *losable
	dials chan string
}

func newPinClient(t *testing.T, s *silentServer, withLost bool) *pinClient {
	cfg, err := pgx.ParseConfig(fmt.Sprintf("postgres://u@%s/db?sslmode=disable", s.ln.Addr()))
	require.NoError(t, err)
	pc := &pinClient{cfg: cfg, conns: make(chan *losable, 4), dials: make(chan string, 8)}
	var d net.Dialer
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		pc.dials <- network + " " + addr
		if network == "pin-lost" {
			return nil, dialer.ErrNoCancel
		}
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		l := &losable{Conn: c}
		pc.conns <- l
		return l, nil
	}
	if withLost {
		cfg.AfterNetConnect = reportLost(nil)
	}
	return pc
}

func (pc *pinClient) connect(t *testing.T) (*pgx.Conn, *losable) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, pc.cfg)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	<-pc.dials
	return conn, <-pc.conns
}

// lostDuring runs f on conn, makes the connection lost once f waits, and
// returns f's error.
func lostDuring(t *testing.T, l *losable, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		t.Fatalf("returned before the loss: %v", err)
	case <-time.After(50 * time.Millisecond): // waiting on the silent server
	}
	l.lose()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("no return within 10 s of the loss")
		return nil
	}
}

// statements are the two ways pgx reads a statement's answer: pgx's simple
// protocol (Exec without arguments: MultiResultReader), and the extended
// one (ResultReader). dropped says whether pgx drops the error of the
// first read after the statement.
var statements = []struct {
	name    string
	dropped bool
	run     func(ctx context.Context, c *pgx.Conn) error
}{
	{"simple protocol", true, func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, "COPY t FROM 's3://b/k'")
		return err
	}},
	{"extended protocol", false, func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, "SELECT $1::int", pgx.QueryExecModeExec, 1)
		return err
	}},
}

// TestPgxPeekDropsError pins what lostConn relies on: after a statement
// sent with the simple protocol, pgx ignores the error of its first read
// (MultiResultReader.NextResult peeks), closing the connection unless the
// error is a timeout, and the statement reports pgconn.ErrConnClosed; after
// one sent with the extended protocol, pgx reports the error of its first
// read (ResultReader). Should either change, lostConn must too.
func TestPgxPeekDropsError(t *testing.T) {
	s := newSilentServer(t)
	for _, st := range statements {
		t.Run(st.name, func(t *testing.T) {
			conn, l := newPinClient(t, s, false).connect(t)
			err := lostDuring(t, l, func() error { return st.run(context.Background(), conn) })
			require.Error(t, err)
			var lost *dialer.ConnLostError
			if st.dropped {
				assert.False(t, errors.As(err, &lost),
					"pgx now reports the error of the read after a simple-protocol statement (%v): lostConn's timeout may go (driver/lost.go)", err)
				assert.ErrorIs(t, err, pgconn.ErrConnClosed, "pgx reported the loss otherwise than as conn closed")
				assert.False(t, pgconn.SafeToRetry(err), "pgx v5.13 marks it not safe to retry")
			} else {
				assert.True(t, errors.As(err, &lost),
					"pgx no longer reports the error of the first read after an extended-protocol statement (%v): see lostConn (driver/lost.go)", err)
			}
			assert.True(t, conn.IsClosed())
		})
	}
}

// TestLostReported: with reportLost, both ways report the loss itself,
// not as a timeout, its text first, and close the connection.
func TestLostReported(t *testing.T) {
	s := newSilentServer(t)
	for _, st := range statements {
		t.Run(st.name, func(t *testing.T) {
			conn, l := newPinClient(t, s, true).connect(t)
			err := lostDuring(t, l, func() error { return st.run(context.Background(), conn) })
			var lost *dialer.ConnLostError
			require.ErrorAs(t, err, &lost)
			assert.ErrorIs(t, err, dialer.ErrConnectionLost)
			assert.False(t, pgconn.Timeout(err), "reported as a timeout: %v", err)
			assert.True(t, strings.HasPrefix(err.Error(), "redshift-ka: connection to "), "the text: %v", err)
			assert.True(t, conn.IsClosed())
		})
	}
	t.Run("LISTEN loop", func(t *testing.T) {
		conn, l := newPinClient(t, s, true).connect(t)
		waits := 0
		err := lostDuring(t, l, func() error {
			for {
				waits++
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				_, err := conn.WaitForNotification(ctx)
				cancel()
				if !pgconn.Timeout(err) || waits == 100 {
					return err
				}
			}
		})
		require.ErrorIs(t, err, dialer.ErrConnectionLost)
		assert.LessOrEqual(t, waits, 2, "the loop waits at most once more, then ends")
		assert.True(t, conn.IsClosed())
	})
}

// TestPgxCancelDialsRemoteAddr pins what the dialer's LostNetwork relies
// on: when pgx drops a connection after a read error (pgconn's asyncClose)
// it sends a cancel request, dialed with the configuration's DialFunc to
// the network and address of the connection's RemoteAddr. A lost
// dialer.Conn names dialer.LostNetwork there, which the dialer refuses.
func TestPgxCancelDialsRemoteAddr(t *testing.T) {
	s := newSilentServer(t)
	pc := newPinClient(t, s, true)
	conn, l := pc.connect(t)
	err := lostDuring(t, l, func() error { return statements[0].run(context.Background(), conn) })
	require.ErrorIs(t, err, dialer.ErrConnectionLost)
	select {
	case d := <-pc.dials:
		assert.Equal(t, "pin-lost "+s.ln.Addr().String(), d, "pgx's cancel request dialed another address")
	case <-time.After(10 * time.Second):
		t.Fatal("pgx sent no cancel request for a dropped connection: the dialer's LostNetwork may go")
	}
	assert.Zero(t, s.cancels.Load(), "a cancel request reached the server")
}

// failingWriter fails every write with err.
type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// TestPgxWriteErrorPrefix pins what the driver's docs say of a loss that
// pgx sees on a write (a COPY's data, a statement's message): pgproto3's
// Frontend wraps the writer's error in its writeError, whose text puts
// "write failed: " before the loss's own text, and unwraps to it.
func TestPgxWriteErrorPrefix(t *testing.T) {
	lost := errors.New("redshift-ka: connection to h:5439 lost: why")
	fe := pgproto3.NewFrontend(strings.NewReader(""), failingWriter{lost})
	fe.Send(&pgproto3.Sync{})
	err := fe.Flush()
	require.ErrorIs(t, err, lost)
	assert.Equal(t, "write failed: "+lost.Error(), err.Error(),
		"pgx changed how it reports a write's error: update driver/doc.go and TestUploadCut")
	err = fe.SendUnbufferedEncodedCopyData([]byte{'d', 0, 0, 0, 4})
	require.ErrorIs(t, err, lost)
	assert.Equal(t, "write failed: "+lost.Error(), err.Error())
}
