package driver

import (
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
)

// protoServer is a loopback server that speaks enough of PostgreSQL's
// protocol for pgx's queries: every statement has one parameter per '$'
// (INT4) and returns one row, (7, DATE '2024-01-02'), in the formats the
// client's Bind asks for. With padb set it announces itself as Redshift.
type protoServer struct {
	ln   net.Listener
	padb bool
	wg   sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn
	binds [][]int16 // ResultFormatCodes of each Bind, in order
}

// startProtoServer starts a protoServer; the test's cleanup stops it and
// waits for its goroutines.
func startProtoServer(t testing.TB, padb bool) *protoServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &protoServer{ln: ln, padb: padb}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// URL is the server's DSN.
func (s *protoServer) URL() string {
	return "postgres://u@" + s.ln.Addr().String() + "/db?sslmode=disable"
}

// Binds returns the result formats each Bind so far asked for.
func (s *protoServer) Binds() [][]int16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]int16(nil), s.binds...)
}

func (s *protoServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			_ = s.serve(c)
		}()
	}
}

// fields are the columns of every statement.
var fields = []pgproto3.FieldDescription{
	{Name: []byte("n"), DataTypeOID: pgtype.Int4OID, DataTypeSize: 4, TypeModifier: -1},
	{Name: []byte("d"), DataTypeOID: pgtype.DateOID, DataTypeSize: 4, TypeModifier: -1},
}

// row is the row of every statement in formats.
func row(formats []int16) *pgproto3.DataRow {
	format := func(i int) int16 {
		switch len(formats) {
		case 0:
			return pgtype.TextFormatCode
		case 1:
			return formats[0]
		}
		return formats[i]
	}
	n, d := []byte("7"), []byte("2024-01-02")
	if format(0) == pgtype.BinaryFormatCode {
		n = binary.BigEndian.AppendUint32(nil, 7)
	}
	if format(1) == pgtype.BinaryFormatCode {
		d = binary.BigEndian.AppendUint32(nil, 8767) // days since 2000-01-01
	}
	return &pgproto3.DataRow{Values: [][]byte{n, d}}
}

func (s *protoServer) serve(c net.Conn) error {
	be := pgproto3.NewBackend(c, c)
	if _, err := be.ReceiveStartupMessage(); err != nil {
		return err
	}
	be.Send(&pgproto3.AuthenticationOk{})
	be.Send(&pgproto3.ParameterStatus{Name: "server_version", Value: "8.0.2"})
	if s.padb {
		be.Send(&pgproto3.ParameterStatus{Name: redshiftParam, Value: "1.0.122914"})
	}
	be.Send(&pgproto3.BackendKeyData{ProcessID: 4242, SecretKey: []byte{1, 2, 3, 4}})
	be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if err := be.Flush(); err != nil {
		return err
	}
	stmts := map[string]string{}
	var portal []int16
	for {
		msg, err := be.Receive()
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *pgproto3.Parse:
			stmts[m.Name] = m.Query
			be.Send(&pgproto3.ParseComplete{})
		case *pgproto3.Describe:
			if m.ObjectType == 'S' {
				params := make([]uint32, strings.Count(stmts[m.Name], "$"))
				for i := range params {
					params[i] = pgtype.Int4OID
				}
				be.Send(&pgproto3.ParameterDescription{ParameterOIDs: params})
			}
			be.Send(&pgproto3.RowDescription{Fields: fields})
		case *pgproto3.Bind:
			portal = append([]int16(nil), m.ResultFormatCodes...)
			s.mu.Lock()
			s.binds = append(s.binds, portal)
			s.mu.Unlock()
			be.Send(&pgproto3.BindComplete{})
		case *pgproto3.Execute:
			be.Send(row(portal))
			be.Send(&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")})
		case *pgproto3.Close:
			be.Send(&pgproto3.CloseComplete{})
		case *pgproto3.Query: // pgx's ping
			be.Send(&pgproto3.EmptyQueryResponse{})
			be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
		case *pgproto3.Sync:
			be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
		case *pgproto3.Flush:
		case *pgproto3.Terminate:
			return nil
		default:
			return fmt.Errorf("protoServer: unexpected %T", msg)
		}
		if err := be.Flush(); err != nil {
			return err
		}
	}
}
