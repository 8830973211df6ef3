//go:build linux

package integration

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
	"github.com/redshift-ka/redshift-ka/internal/harness"
	"github.com/redshift-ka/redshift-ka/internal/idptoken"
	"github.com/redshift-ka/redshift-ka/settings"
)

const (
	testIssuerName = "https://idp.test/tenant/v2.0"
	testAudience   = "api://redshift-test"
	testProvider   = "test_idp"
)

// signJWT returns a JWT (RFC 7519) of claims, signed RS256 with key,
// whose header names kid.
func signJWT(t *testing.T, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	seg := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signed := seg(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid}) + "." + seg(claims)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	require.NoError(t, err)
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// claimsFor are the claims of a good token for user, valid an hour.
func claimsFor(user string) map[string]any {
	return map[string]any{"iss": testIssuerName, "aud": []string{testAudience}, "upn": user,
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
}

// nativeFrontEnd starts a Redshift front end before pg that answers
// SSLRequest with TLS and logs a native-plugin startup in with a token
// of an issuer whose key (published as "test") it returns.
func nativeFrontEnd(t *testing.T, pg *harness.Postgres) (*frontEnd, *frontEndIdP, *rsa.PrivateKey) {
	t.Helper()
	cert, _, err := harness.SelfSignedCert("127.0.0.1")
	require.NoError(t, err)
	iss := startIssuer(t)
	idp := &frontEndIdP{JWKS: iss.URL, Issuer: testIssuerName, Audience: testAudience, Provider: testProvider}
	return startFrontEnd(t, pg, frontEndOptions{Login: &frontEndLogin{Cert: &cert, IdP: idp}}), idp, iss.key
}

// nativeKeys are the keys of a native login with token in one form, as
// that form's driver spells them: BasicJwtCredentialsProvider (ODBC's
// JWT, with IAM=1 as ODBC wants it), or IdpTokenAuthPlugin for idc.
func nativeKeys(form string, idc bool, token string, more ...[2]string) [][2]string {
	kv := [][2]string{{"sslmode", "require"}}
	switch {
	case idc && form == "jdbc":
		kv = append(kv, [2]string{"plugin_name", "com.amazon.redshift.plugin.IdpTokenAuthPlugin"})
	case idc:
		kv = append(kv, [2]string{"plugin_name", "IdpTokenAuthPlugin"})
	case form == "url":
		kv = append(kv, [2]string{"credentials_provider", "BasicJwtCredentialsProvider"})
	case form == "keyvalue":
		kv = append(kv, [2]string{"plugin_name", "redshift_connector.plugin.BasicJwtCredentialsProvider"})
	case form == "odbc":
		kv = append(kv, [2]string{"IAM", "1"}, [2]string{"plugin_name", "JWT"})
	case form == "jdbc":
		kv = append(kv, [2]string{"plugin_name", "com.amazon.redshift.plugin.BasicJwtCredentialsProvider"})
	}
	switch {
	case idc:
		kv = append(kv, [2]string{"token", token}, [2]string{"token_type", "EXT_JWT"}, [2]string{"identity_namespace", "ns1"})
	case form == "jdbc":
		kv = append(kv, [2]string{"webIdentityToken", token}, [2]string{"providerName", testProvider})
	default:
		kv = append(kv, [2]string{"web_identity_token", token}, [2]string{"provider_name", testProvider})
	}
	return append(kv, more...)
}

// noToken fails the test if s shows token or its signature.
func noToken(t *testing.T, what, s, token string) {
	t.Helper()
	assert.NotContains(t, s, token, what)
	assert.NotContains(t, s, token[strings.LastIndexByte(token, '.')+1:], what)
	harness.NoLeak(t, &harness.Postgres{Password: token}, what, s)
}

// TestNativeLogin: redshift-ka logs in with each native plugin through the
// front end, in every DSN form, with database/sql and with pgx, over TLS,
// as the token's user (not the DSN's), the token NUL-terminated.
func TestNativeLogin(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	fe, idp, key := nativeFrontEnd(t, pg)
	srv := fe.Server()
	srv.User = "dsn_user" // the token's upn decides
	token := signJWT(t, key, "test", claimsFor(pg.User))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // no wait without an end
	defer cancel()

	for _, idc := range []bool{false, true} {
		plugin := map[bool]string{false: "jwt", true: "idc"}[idc]
		for _, f := range forms {
			dsn := f.dsn(srv, nativeKeys(f.name, idc, token))
			t.Run(plugin+"/"+f.name+"/sql.Open", func(t *testing.T) {
				before := idp.Accepted.Load()
				_, conn := open(t, driver.Name, dsn)
				var user string
				require.NoError(t, conn.QueryRowContext(ctx, "SELECT current_user").Scan(&user))
				assert.Equal(t, pg.User, user)
				require.NoError(t, conn.Raw(func(dc any) error {
					assert.True(t, isTLS(dc.(*stdlib.Conn).Conn().PgConn()), "not over TLS")
					return nil
				}))
				assert.Equal(t, before+1, idp.Accepted.Load())
			})
			t.Run(plugin+"/"+f.name+"/pgx", func(t *testing.T) {
				before := idp.Accepted.Load()
				cfg, err := driver.ParseConfig(dsn)
				require.NoError(t, err)
				conn, err := pgx.ConnectConfig(ctx, cfg)
				require.NoError(t, err)
				defer conn.Close(ctx)
				var user string
				require.NoError(t, conn.QueryRow(ctx, "SELECT current_user").Scan(&user))
				assert.Equal(t, pg.User, user)
				assert.Equal(t, before+1, idp.Accepted.Load())
			})
		}
	}
	t.Run("no user in the DSN", func(t *testing.T) {
		// An empty user, as redshift_connector sends, not the OS user.
		dsn := "postgres://" + net.JoinHostPort(srv.Host, strconv.Itoa(srv.Port)) + "/" + srv.Database + "?" + join(nativeKeys("url", false, token), "&")
		_, conn := open(t, driver.Name, dsn)
		var user string
		require.NoError(t, conn.QueryRowContext(ctx, "SELECT current_user").Scan(&user))
		assert.Equal(t, pg.User, user)
		assert.Equal(t, "", idp.LastUser.Load())
	})
	t.Run("pgxpool", func(t *testing.T) {
		before := idp.Accepted.Load()
		cfg, err := driver.ParsePoolConfig(srv.URL(join(nativeKeys("url", false, token, [2]string{"pool_max_conns", "2"}), "&")))
		require.NoError(t, err)
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		require.NoError(t, err)
		defer pool.Close()
		c1, err := pool.Acquire(ctx)
		require.NoError(t, err)
		c2, err := pool.Acquire(ctx)
		require.NoError(t, err)
		assert.NotEqual(t, c1.Conn().PgConn().PID(), c2.Conn().PgConn().PID())
		c1.Release()
		c2.Release()
		assert.Equal(t, before+2, idp.Accepted.Load())
	})
	assert.Zero(t, idp.Refused.Load())
	assert.Equal(t, idp.Accepted.Load(), idp.NUL.Load(), "every token NUL-terminated, as JDBC and ODBC send it")
}

// TestNativeRefusals: the front end refuses an expired token, one for
// another audience, one of another issuer and one signed with another
// key, and redshift-ka's error says Redshift refused the token, on both
// pgx paths, never showing it. Plain pgx cannot answer code 14; without
// TLS redshift-ka does not send the token; lib/pq refuses the DSN.
func TestNativeRefusals(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	fe, idp, key := nativeFrontEnd(t, pg)
	srv := fe.Server()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // no wait without an end
	defer cancel()
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	expired := claimsFor(pg.User)
	expired["exp"] = time.Now().Add(-time.Minute).Unix()
	audience := claimsFor(pg.User)
	audience["aud"] = "api://another-app"
	issuer := claimsFor(pg.User)
	issuer["iss"] = "https://evil.test/"
	for _, tc := range []struct {
		name, token, why string
	}{
		{"expired", signJWT(t, key, "test", expired), "expired at"},
		{"another audience", signJWT(t, key, "test", audience), "audience"},
		{"another issuer", signJWT(t, key, "test", issuer), "issuer"},
		{"bad signature", signJWT(t, other, "test", claimsFor(pg.User)), "signature does not verify"},
		{"key not published", signJWT(t, other, "other", claimsFor(pg.User)), `no key "other" published by the issuer`},
	} {
		for _, f := range forms {
			t.Run(tc.name+"/"+f.name, func(t *testing.T) {
				before := idp.Refused.Load()
				dsn := f.dsn(srv, nativeKeys(f.name, f.name == "jdbc", tc.token))
				db, err := sql.Open(driver.Name, dsn)
				require.NoError(t, err)
				defer db.Close()
				err = db.PingContext(ctx)
				require.Error(t, err)
				assert.Contains(t, err.Error(), idptoken.Refused+"invalid token: "+tc.why)
				noToken(t, "sql error", err.Error(), tc.token)

				cfg, err := driver.ParseConfig(dsn)
				require.NoError(t, err)
				_, err = pgx.ConnectConfig(ctx, cfg)
				require.Error(t, err)
				assert.Contains(t, err.Error(), idptoken.Refused)
				noToken(t, "pgx error", err.Error(), tc.token)
				assert.Equal(t, before+2, idp.Refused.Load())
			})
		}
	}

	good := signJWT(t, key, "test", claimsFor(pg.User))
	t.Run("plain pgx", func(t *testing.T) {
		// The startup parameters given as pgx's runtime parameters: the
		// front end asks for the token, which pgx does not know.
		before := idp.Accepted.Load()
		_, err := pgx.Connect(ctx, srv.URL("sslmode=require&plugin_name=JWT&idp_type=AzureAD&provider_name="+testProvider))
		require.Error(t, err)
		t.Logf("plain pgx: %v", err)
		assert.Contains(t, err.Error(), "14")
		assert.Equal(t, before, idp.Accepted.Load())
	})
	t.Run("no TLS", func(t *testing.T) {
		accepted, refused := idp.Accepted.Load(), idp.Refused.Load()
		kv := nativeKeys("keyvalue", false, good)
		kv[0][1] = "disable"
		db, err := sql.Open(driver.Name, srv.KeyValue(join(kv, " ")))
		require.NoError(t, err)
		defer db.Close()
		err = db.PingContext(ctx)
		require.ErrorIs(t, err, driver.ErrTokenWithoutTLS)
		noToken(t, "error", err.Error(), good)
		assert.Equal(t, accepted, idp.Accepted.Load())
		assert.Equal(t, refused, idp.Refused.Load())
	})
	t.Run("sslmode=prefer falls back without the token", func(t *testing.T) {
		// pgx tries TLS, then, refused with 28000, plain text: there the
		// token is not sent, and the error is still Redshift's refusal.
		before := idp.Refused.Load()
		kv := nativeKeys("url", false, signJWT(t, key, "test", expired))
		kv[0][1] = "prefer"
		db, err := sql.Open(driver.Name, srv.URL(join(kv, "&")))
		require.NoError(t, err)
		defer db.Close()
		err = db.PingContext(ctx)
		require.Error(t, err)
		t.Logf("prefer: %v", err)
		assert.Contains(t, err.Error(), idptoken.Refused)
		assert.ErrorIs(t, err, driver.ErrTokenWithoutTLS, "the plain-text try")
		assert.Equal(t, before+1, idp.Refused.Load(), "one token received, over TLS")
	})
	t.Run("lib/pq", func(t *testing.T) {
		for _, f := range forms {
			_, err := sql.Open(rkpq.Name, f.dsn(srv, nativeKeys(f.name, false, good)))
			require.ErrorIs(t, err, rkpq.ErrNativeLogin, f.name)
			assert.Contains(t, err.Error(), `use the pgx driver "redshift-ka"`)
			noToken(t, "lib/pq error", err.Error(), good)
		}
	})
	t.Run("PostgreSQL refuses the parameters", func(t *testing.T) {
		// Why they go only with a native plugin: straight to PostgreSQL.
		_, err := pgx.Connect(ctx, pg.URL("plugin_name=JWT"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), `unrecognized configuration parameter "plugin_name"`)
	})
	if errs := fe.errors(); len(errs) > 0 {
		t.Fatal(errors.Join(errs...))
	}
}

// TestNativeNoTokenInLogs: what WithLogger logs at debug level, the
// connector's parsed DSN printed and as JSON, and settings.Read's report
// show nothing of the token, for a login let in and one refused, in every
// form.
func TestNativeNoTokenInLogs(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	fe, _, key := nativeFrontEnd(t, pg)
	srv := fe.Server()
	good := signJWT(t, key, "test", claimsFor(pg.User))
	expired := claimsFor(pg.User)
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	bad := signJWT(t, key, "test", expired)
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			text := &strings.Builder{}
			logger := slog.New(slog.NewTextHandler(text, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c, err := driver.NewConnector(f.dsn(srv, nativeKeys(f.name, false, good, [2]string{"KeepAlivesIdle", "31"})), driver.WithLogger(logger))
			require.NoError(t, err)
			db := sql.OpenDB(c)
			defer db.Close()
			conn, err := db.Conn(context.Background())
			require.NoError(t, err)
			defer conn.Close()
			r, err := settings.Read(conn)
			require.NoError(t, err)
			assert.Equal(t, 31, int(r.Idle.Seconds()))
			js, err := json.Marshal(c.DSN())
			require.NoError(t, err)
			rs, err := json.Marshal(r)
			require.NoError(t, err)

			c2, err := driver.NewConnector(f.dsn(srv, nativeKeys(f.name, false, bad)), driver.WithLogger(logger))
			require.NoError(t, err)
			db2 := sql.OpenDB(c2)
			defer db2.Close()
			err = db2.PingContext(context.Background())
			require.Error(t, err)

			require.NotEmpty(t, text.String(), "the dial was logged")
			for how, out := range map[string]string{"log": text.String(), "DSN %+v": fmt.Sprintf("%+v", c.DSN()),
				"DSN %#v": fmt.Sprintf("%#v", c2.DSN()), "DSN JSON": string(js), "report": fmt.Sprintf("%+v", r),
				"report JSON": string(rs), "error": err.Error()} {
				noToken(t, how, out, good)
				noToken(t, how, out, bad)
			}
		})
	}
}
