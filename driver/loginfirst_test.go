package driver

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/internal/backend"
)

// events records the order of a connect's steps.
type events struct {
	mu  sync.Mutex
	got []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, s)
}

func (e *events) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.got...)
}

// loginFunc is a backend.Login.
type loginFunc func(ctx context.Context) (backend.Credentials, error)

func (f loginFunc) Credentials(ctx context.Context) (backend.Credentials, error) { return f(ctx) }
func (f loginFunc) Plan() backend.Plan                                           { return backend.Plan{} }

// TestLoginBeforeDial: a connect gets its IAM credentials, and its token
// when the connection may use TLS, before pgconn dials (the server's
// authentication_timeout runs from the dial); AfterNetConnect asks again,
// a cache hit. Without TLS the token source is not asked at all. A cancel
// request logs in nowhere. Relied on: pgconn calls LookupFunc before
// DialFunc, and not for a cancel request, which it dials with DialFunc.
func TestLoginBeforeDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close() // the connect fails after the dial: only the order counts
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	for _, tc := range []struct {
		name, dsn string
		want      []string
	}{
		{"iam", "host=127.0.0.1 port=" + port + " sslmode=disable user=u", []string{"login", "dial", "login"}},
		{"token tls", "host=127.0.0.1 port=" + port + " sslmode=require plugin_name=JWT provider_name=p web_identity_token=t", []string{"token", "dial"}},
		{"token prefer", "host=127.0.0.1 port=" + port + " sslmode=prefer plugin_name=JWT provider_name=p web_identity_token=t", []string{"token", "token", "dial", "dial"}}, // a lookup for each of prefer's configurations: cache hits
		{"token plain", "host=127.0.0.1 port=" + port + " sslmode=disable plugin_name=JWT provider_name=p web_identity_token=t", []string{"dial"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := backend.Prepare(tc.dsn, &backend.Options{})
			require.NoError(t, err)
			var ev events
			if p.DSN.Native != nil {
				p.DSN.Native.Token = "" // from the source, as a browser plugin's
				p.Tokens = tokenFunc(func(context.Context) (string, error) { ev.add("token"); return hostile, nil })
			} else {
				p.Login = loginFunc(func(context.Context) (backend.Credentials, error) {
					ev.add("login")
					return backend.Credentials{User: "u", Password: hostile, Expiration: time.Now().Add(time.Hour)}, nil
				})
			}
			cfg, err := pgconn.ParseConfig(p.DSN.Rest)
			require.NoError(t, err)
			install(cfg, p)
			dial := cfg.DialFunc
			cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
				ev.add("dial")
				return dial(ctx, network, addr)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err = pgconn.ConnectConfig(ctx, cfg)
			require.Error(t, err, "the listener closes every connection")
			assert.Equal(t, tc.want, ev.list())
		})
	}
}

// withEvents makes p's login record its calls, and cfg's dials, in ev.
func withEvents(t *testing.T, dsn string, ev *events) *pgconn.Config {
	p, err := backend.Prepare(dsn, &backend.Options{})
	require.NoError(t, err)
	p.Login = loginFunc(func(context.Context) (backend.Credentials, error) {
		ev.add("login")
		return backend.Credentials{User: "u", Password: hostile, Expiration: time.Now().Add(time.Hour)}, nil
	})
	cfg, err := pgconn.ParseConfig(p.DSN.Rest)
	require.NoError(t, err)
	install(cfg, p)
	dial := cfg.DialFunc
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		ev.add("dial")
		return dial(ctx, network, addr)
	}
	return cfg
}

func TestLoginNotForCancel(t *testing.T) {
	srv := startProtoServer(t, false)
	var ev events
	cfg := withEvents(t, srv.URL(), &ev)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pc, err := pgconn.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	defer pc.Close(ctx)
	require.Equal(t, []string{"login", "dial", "login"}, ev.list())
	_ = pc.CancelRequest(ctx) // the server's answer does not matter
	assert.Equal(t, []string{"login", "dial", "login", "dial"}, ev.list(), "a cancel request dials, and logs in nowhere")
}

// TestLoginOncePerConnect: the lookups of one connect (sslmode=prefer's
// two configurations, two hosts) share one login: a refused login is not
// tried again, and a login that hangs is bounded by one connect_timeout,
// not one per lookup. The next connect logs in anew, with a new context
// or the same. Relied on: pgconn looks up each configuration of a connect
// (1+len(Fallbacks) lookups) with the connect's context, before it dials.
func TestLoginOncePerConnect(t *testing.T) {
	refused := errors.New("the identity provider refused the password")
	for _, tc := range []struct {
		name, dsn string
		hang      bool
	}{
		{"prefer refused", "host=127.0.0.1 port=1 sslmode=prefer plugin_name=JWT provider_name=p web_identity_token=t", false},
		{"two hosts refused", "host=127.0.0.1,127.0.0.1 port=1 sslmode=require plugin_name=JWT provider_name=p web_identity_token=t", false},
		{"prefer hangs", "host=127.0.0.1 port=1 sslmode=prefer connect_timeout=1 plugin_name=JWT provider_name=p web_identity_token=t", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := backend.Prepare(tc.dsn, &backend.Options{})
			require.NoError(t, err)
			var ev events
			p.DSN.Native.Token = ""
			p.Tokens = tokenFunc(func(ctx context.Context) (string, error) {
				ev.add("token")
				if tc.hang {
					<-ctx.Done()
					return "", ctx.Err()
				}
				return "", refused
			})
			cfg, err := pgconn.ParseConfig(p.DSN.Rest)
			require.NoError(t, err)
			install(cfg, p)
			for i := 1; i <= 2; i++ {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				_, err = pgconn.ConnectConfig(ctx, cfg)
				cancel()
				require.Error(t, err)
				assert.Len(t, ev.list(), i, "one login per connect: %v", err)
			}
			// A program that connects again with one long-lived context
			// logs in again at each connect: a failure is kept for the
			// lookups of its own connect only.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for i := 3; i <= 4; i++ {
				_, err = pgconn.ConnectConfig(ctx, cfg)
				require.Error(t, err)
				assert.Len(t, ev.list(), i, "one login per connect, the context shared: %v", err)
			}
		})
	}
}

// TestConnectorLogsInFirst: database/sql's connect logs in once, before
// pgx, so a refused login is its own error, not pgx's "hostname resolving
// error".
func TestConnectorLogsInFirst(t *testing.T) {
	p, err := backend.Prepare("host=127.0.0.1 port=1 sslmode=prefer plugin_name=JWT provider_name=p web_identity_token=t", &backend.Options{})
	require.NoError(t, err)
	var ev events
	p.DSN.Native.Token = ""
	p.Tokens = tokenFunc(func(context.Context) (string, error) {
		ev.add("token")
		return "", errors.New("redshift-ka: browser sign-in for BrowserIdcAuthPlugin: refused")
	})
	cfg, err := pgx.ParseConfig(p.DSN.Rest)
	require.NoError(t, err)
	c := &Connector{dsn: p.DSN, tokens: p.Tokens, first: install(&cfg.Config, p), inner: stdlib.GetConnector(*cfg)}
	_, err = c.Connect(context.Background())
	require.EqualError(t, err, "redshift-ka: browser sign-in for BrowserIdcAuthPlugin: refused")
	assert.Equal(t, []string{"token"}, ev.list())
}
