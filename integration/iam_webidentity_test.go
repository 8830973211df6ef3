//go:build linux

package integration

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// The web identity tests: plugin_name=JwtIamAuthPlugin (ODBC's) and the
// AWS SDK's own chain (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN, as on
// EKS) assume a role with STS AssumeRoleWithWebIdentity at the fake, which
// checks the token's RS256 signature, issuer, audience and expiry, then
// log in through GetClusterCredentials signed with the keys STS issued.

const (
	webRole     = "arn:aws:iam::123456789012:role/etl-web"
	webAudience = "sts.amazonaws.com"
)

// webSetup is iamSetup with an OIDC issuer the fake trusts for webRole,
// and no AWS keys in the environment: only STS can give credentials.
func webSetup(t *testing.T) (*harness.Postgres, *harness.AWSFake, *harness.FakeOIDC) {
	t.Helper()
	pg, fake := iamSetup(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	oidc := harness.NewFakeOIDC(t, "https://oidc.example.com/fake")
	fake.AllowWebIdentity(webRole, oidc, webAudience)
	return pg, fake, oidc
}

// webToken is a token of oidc for the fake's audience, valid for an hour
// of the fake's time, whose preferred_username is user.
func webToken(fake *harness.AWSFake, oidc *harness.FakeOIDC, user string) string {
	return oidc.Token(webAudience, "sub-"+user, fake.Now().Add(time.Hour), map[string]any{"preferred_username": user})
}

// webDSN is an IAM DSN of form f with JwtIamAuthPlugin's keys, spelt as
// ODBC does (JDBC's spelling in a JDBC URL), and extra IAM keys.
func webDSN(pg *harness.Postgres, f iamForm, token, role string, extra map[string]string) string {
	keys := map[string]string{"cluster": "etl-prod"}
	for k, v := range extra {
		keys[k] = v
	}
	tok, arn, session := "web_identity_token", "role_arn", "role_session_name"
	if f.name == "jdbc" {
		tok, arn, session = "webIdentityToken", "roleArn", "roleSessionName"
	}
	return f.dsn(pg, keys) + f.sep + strings.Join([]string{"plugin_name=JwtIamAuthPlugin", tok + "=" + token, arn + "=" + role,
		session + "=etl-run", "duration=1800"}, f.sep)
}

// stsRequests returns the fake's AssumeRoleWithWebIdentity requests and
// the others, from index from on.
func stsRequests(fake *harness.AWSFake, from int) (sts, other []map[string]string) {
	for _, r := range fake.Requests()[from:] {
		m := map[string]string{}
		for k := range r {
			m[k] = r.Get(k)
		}
		if m["Action"] == "AssumeRoleWithWebIdentity" {
			sts = append(sts, m)
		} else {
			other = append(other, m)
		}
	}
	return sts, other
}

// TestIAMWebIdentityForms: JwtIamAuthPlugin logs in, in every DSN form,
// through database/sql with both backends and through pgx: one unsigned
// AssumeRoleWithWebIdentity with the DSN's token, role, session name and
// duration, then one GetClusterCredentials signed with the keys it
// issued, as the token's user, created if need be.
func TestIAMWebIdentityForms(t *testing.T) {
	pg, fake, oidc := webSetup(t)
	ctx := iamCtx(t)
	for i, b := range append(slices.Clone(backends), "pgx") {
		for j, f := range iamForms {
			t.Run(b+"/"+f.name, func(t *testing.T) {
				from := len(fake.Requests())
				user := fmt.Sprintf("web%d%d", i, j) // a token, so a request, of its own
				token := webToken(fake, oidc, user)
				dsn := webDSN(pg, f, token, webRole, nil)
				if b == "pgx" {
					cfg, err := driver.ParseConfig(dsn)
					require.NoError(t, err)
					c, err := pgx.ConnectConfig(ctx, cfg)
					require.NoError(t, err)
					defer c.Close(ctx)
					var u string
					require.NoError(t, c.QueryRow(ctx, "SELECT current_user").Scan(&u))
					assert.Equal(t, "IAM:"+user, u)
				} else {
					_, conn := open(t, b, dsn)
					assert.Equal(t, "IAM:"+user, currentUser(t, conn))
				}
				sts, other := stsRequests(fake, from)
				require.Len(t, sts, 1)
				require.Len(t, other, 1)
				assert.Equal(t, "", sts[0][harness.FakeKeyParam], "AssumeRoleWithWebIdentity goes unsigned")
				assert.Equal(t, token, sts[0]["WebIdentityToken"])
				assert.Equal(t, webRole, sts[0]["RoleArn"])
				assert.Equal(t, "etl-run", sts[0]["RoleSessionName"])
				assert.Equal(t, "1800", sts[0]["DurationSeconds"])
				assert.Equal(t, "GetClusterCredentials", other[0]["Action"])
				assert.True(t, strings.HasPrefix(other[0][harness.FakeKeyParam], "ASIAFAKE"), "signed with STS's keys: %q", other[0][harness.FakeKeyParam])
				assert.Equal(t, user, other[0]["DbUser"])
				assert.Equal(t, "true", other[0]["AutoCreate"])
			})
		}
	}
}

// TestIAMWebIdentityODBCDataSource: the plugin's keys in an odbc.ini data
// source, the role session name defaulting to ODBC's.
func TestIAMWebIdentityODBCDataSource(t *testing.T) {
	pg, fake, oidc := webSetup(t)
	ini := filepath.Join(t.TempDir(), "odbc.ini")
	require.NoError(t, os.WriteFile(ini, []byte(fmt.Sprintf(`[Warehouse Web]
Driver = /opt/amazon/redshiftodbc/lib/64/libamazonredshiftodbc64.so
Server = %s
Port = %d
Database = %s
sslrootcert = %s
IAM = 1
ClusterID = etl-prod
plugin_name = JwtIamAuthPlugin
web_identity_token = %s
role_arn = %s
`, pg.Host, pg.Port, pg.Database, pg.CAFile, webToken(fake, oidc, "webini"), webRole)), 0o600))
	t.Setenv("ODBCINI", ini)
	for i, b := range backends {
		t.Run(b, func(t *testing.T) {
			from := len(fake.Requests())
			_, conn := open(t, b, "DSN={Warehouse Web}")
			assert.Equal(t, "IAM:webini", currentUser(t, conn))
			sts, other := stsRequests(fake, from)
			assert.Len(t, sts, 1-i, "the second backend is served by the process cache")
			assert.Len(t, other, 1-i)
			if i == 0 {
				assert.Equal(t, "jwt_redshift_session", sts[0]["RoleSessionName"])
				assert.Empty(t, sts[0]["DurationSeconds"])
			}
		})
	}
}

// TestIAMWebIdentityRefused: an expired token, a token for another
// audience, a token another issuer signed, and a role the fake does not
// let the issuer assume, are each refused by STS; the error names STS's
// step, the role and STS's code, and GetClusterCredentials is never
// called. No error shows the token.
func TestIAMWebIdentityRefused(t *testing.T) {
	pg, fake, oidc := webSetup(t)
	other := harness.NewFakeOIDC(t, "https://oidc.example.com/other")
	now := fake.Now()
	claims := map[string]any{"preferred_username": "refused"}
	for _, c := range []struct {
		name, token, role, want string
	}{
		{"expired", oidc.Token(webAudience, "s", now.Add(-time.Minute), claims), webRole, "ExpiredTokenException: Token expired"},
		{"audience", oidc.Token("another-audience", "s", now.Add(time.Hour), claims), webRole, "InvalidIdentityToken: Incorrect token audience"},
		{"issuer", other.Token(webAudience, "s", now.Add(time.Hour), claims), webRole, "InvalidIdentityToken: the web identity token's signature could not be verified"},
		{"role", oidc.Token(webAudience, "s", now.Add(time.Hour), claims), "arn:aws:iam::123456789012:role/not-allowed", "AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity"},
	} {
		for _, b := range backends {
			t.Run(c.name+"/"+b, func(t *testing.T) {
				before := fake.Calls("GetClusterCredentials")
				db, err := sql.Open(b, webDSN(pg, iamForms[0], c.token, c.role, map[string]string{"nocache": "1"}))
				require.NoError(t, err)
				defer db.Close()
				err = db.PingContext(iamCtx(t))
				require.Error(t, err)
				msg := err.Error()
				assert.Contains(t, msg, "redshift-ka: STS AssumeRoleWithWebIdentity for role "+c.role+", for cluster etl-prod: "+c.want)
				assert.Contains(t, msg, "(request id fake-")
				assert.NotContains(t, msg, c.token)
				assert.NotContains(t, msg, strings.Split(c.token, ".")[1])
				assert.Equal(t, before, fake.Calls("GetClusterCredentials"))
			})
		}
	}
}

// TestIAMWebIdentityHostileToken: a token holding spaces, quotes and
// #;&?%={} is refused by STS (not a JWT), and shows in no error, in any
// form.
func TestIAMWebIdentityHostileToken(t *testing.T) {
	pg, fake, _ := webSetup(t)
	const token = `s k'e"y #;&?%={}+/@ z-J4T`
	escaped := map[string]string{
		"odbc": "{" + strings.ReplaceAll(token, "}", "}}") + "}", "keyvalue": `'s k\'e"y #;&?%={}+/@ z-J4T'`,
		"url": pctEscapeAll(token), "jdbc": pctEscapeAll(token),
	}
	for _, f := range iamForms {
		for _, b := range backends {
			t.Run(f.name+"/"+b, func(t *testing.T) {
				before := fake.Calls("AssumeRoleWithWebIdentity")
				db, err := sql.Open(b, webDSN(pg, f, escaped[f.name], webRole, map[string]string{"user": "etl", "nocache": "1"}))
				require.NoError(t, err)
				defer db.Close()
				err = db.PingContext(iamCtx(t))
				require.Error(t, err)
				assert.Contains(t, err.Error(), "STS AssumeRoleWithWebIdentity for role "+webRole)
				// The SDK tries InvalidIdentityToken again (stscreds).
				assert.Greater(t, fake.Calls("AssumeRoleWithWebIdentity"), before)
				for _, p := range []string{token, "k'e", `"y`, "#;&?", "%={}", "+/@", escaped[f.name]} {
					assert.NotContains(t, err.Error(), p)
				}
				assert.Equal(t, token, fake.Requests()[len(fake.Requests())-1].Get("WebIdentityToken"), "read exactly")
			})
		}
	}
}

// pctEscapeAll %-escapes every byte but letters and digits.
func pctEscapeAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// TestIAMWebIdentityCache: 20 connections dialed at once by a new
// connector make one STS call and one GetClusterCredentials call between
// them, with both backends; another connector of the same DSN makes
// none. The database credentials are renewed with the STS keys while they
// last, and the STS keys once they are about to expire: one STS call per
// STS lifetime. Another role session name is another request.
func TestIAMWebIdentityCache(t *testing.T) {
	pg, fake, oidc := webSetup(t)
	fake.SetDelay(200 * time.Millisecond)
	ctx := iamCtx(t)
	for i, b := range backends {
		t.Run(b, func(t *testing.T) {
			stsBefore, gccBefore := fake.Calls("AssumeRoleWithWebIdentity"), fake.Calls("GetClusterCredentials")
			user := fmt.Sprintf("webcache%d", i)
			token := webToken(fake, oidc, user)
			dsn := webDSN(pg, iamForms[1], token, webRole, nil)
			db, err := sql.Open(b, dsn)
			require.NoError(t, err)
			defer db.Close()
			db.SetMaxOpenConns(20)
			db.SetMaxIdleConns(20)
			var wg sync.WaitGroup
			errs := make(chan error, 20)
			for range 20 {
				wg.Go(func() {
					c, err := db.Conn(ctx)
					if err == nil {
						var one int
						err = c.QueryRowContext(ctx, "SELECT 1").Scan(&one)
						c.Close()
					}
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			assert.Equal(t, 1, fake.Calls("AssumeRoleWithWebIdentity")-stsBefore, "STS calls for 20 concurrent first connections")
			assert.Equal(t, 1, fake.Calls("GetClusterCredentials")-gccBefore, "GetClusterCredentials calls for 20 concurrent first connections")

			_, conn := open(t, b, dsn)
			assert.Equal(t, "IAM:"+user, currentUser(t, conn))
			assert.Equal(t, 1, fake.Calls("AssumeRoleWithWebIdentity")-stsBefore, "another connector of the same DSN: the process cache")
			assert.Equal(t, 1, fake.Calls("GetClusterCredentials")-gccBefore)

			db.SetMaxIdleConns(0) // every Conn below dials
			fake.Advance(t, 901*time.Second)
			c, err := db.Conn(ctx)
			require.NoError(t, err)
			assert.Equal(t, "IAM:"+user, currentUser(t, c))
			c.Close()
			assert.Equal(t, 1, fake.Calls("AssumeRoleWithWebIdentity")-stsBefore, "the STS keys (1800 s) still serve")
			assert.Equal(t, 2, fake.Calls("GetClusterCredentials")-gccBefore, "new database credentials")

			fake.Advance(t, 901*time.Second) // 1802 s: the STS keys have expired
			c, err = db.Conn(ctx)
			require.NoError(t, err)
			assert.Equal(t, "IAM:"+user, currentUser(t, c))
			c.Close()
			assert.Equal(t, 2, fake.Calls("AssumeRoleWithWebIdentity")-stsBefore, "new STS keys")
			assert.Equal(t, 3, fake.Calls("GetClusterCredentials")-gccBefore)
		})
	}
	t.Run("session name", func(t *testing.T) {
		token := webToken(fake, oidc, "websession")
		before := fake.Calls("AssumeRoleWithWebIdentity")
		for _, s := range []string{"a-run", "b-run"} {
			dsn := strings.Replace(webDSN(pg, iamForms[0], token, webRole, nil), "role_session_name=etl-run", "role_session_name="+s, 1)
			_, conn := open(t, driver.Name, dsn)
			assert.Equal(t, "IAM:websession", currentUser(t, conn))
		}
		assert.Equal(t, 2, fake.Calls("AssumeRoleWithWebIdentity")-before, "one request per role session name")
	})
}

// TestIAMWebIdentityEnvChain: a plain IAM DSN logs in with the AWS SDK's
// own web identity chain, as on EKS: AWS_WEB_IDENTITY_TOKEN_FILE,
// AWS_ROLE_ARN and AWS_ROLE_SESSION_NAME, no keys; STS at the fake
// through AWS_ENDPOINT_URL. A role the fake does not allow is refused
// with STS's code, and the token file's content shows in no error.
func TestIAMWebIdentityEnvChain(t *testing.T) {
	pg, fake, oidc := webSetup(t)
	ctx := iamCtx(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	token := oidc.Token(webAudience, "system:serviceaccount:etl:loader", fake.Now().Add(time.Hour), nil)
	require.NoError(t, os.WriteFile(tokenFile, []byte(token), 0o600))
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tokenFile)
	t.Setenv("AWS_ROLE_ARN", webRole)
	t.Setenv("AWS_ROLE_SESSION_NAME", "eks-pod")
	for i, b := range append(slices.Clone(backends), "pgx") {
		t.Run(b, func(t *testing.T) {
			from := len(fake.Requests())
			user := fmt.Sprintf("eks%d", i)
			dsn := iamForms[0].dsn(pg, map[string]string{"cluster": "etl-prod", "user": user})
			if b == "pgx" {
				cfg, err := driver.ParseConfig(dsn)
				require.NoError(t, err)
				c, err := pgx.ConnectConfig(ctx, cfg)
				require.NoError(t, err)
				c.Close(ctx)
			} else {
				_, conn := open(t, b, dsn)
				assert.Equal(t, "IAM:"+user, currentUser(t, conn))
			}
			sts, other := stsRequests(fake, from)
			require.Len(t, sts, 1)
			require.Len(t, other, 1)
			assert.Equal(t, token, sts[0]["WebIdentityToken"])
			assert.Equal(t, "eks-pod", sts[0]["RoleSessionName"])
			assert.Equal(t, "", sts[0][harness.FakeKeyParam])
			assert.True(t, strings.HasPrefix(other[0][harness.FakeKeyParam], "ASIAFAKE"), other[0][harness.FakeKeyParam])
		})
	}
	t.Run("role refused", func(t *testing.T) {
		t.Setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/not-allowed")
		db, err := sql.Open(driver.Name, iamForms[0].dsn(pg, map[string]string{"cluster": "etl-prod", "user": "eksrefused"}))
		require.NoError(t, err)
		defer db.Close()
		err = db.PingContext(ctx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "redshift-ka: GetClusterCredentials for cluster etl-prod: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity")
		assert.NotContains(t, err.Error(), strings.Split(token, ".")[1])
	})
}

// TestIAMWebIdentityNoSecret: in every form, with both backends, neither
// the token nor the keys STS issued nor the password show in the logs,
// the settings report, the connector, its DSN, login and plan printed, or
// the errors of a refused token and of a DSN that does not parse.
func TestIAMWebIdentityNoSecret(t *testing.T) {
	pg, fake, oidc := webSetup(t)
	for i, b := range backends {
		for j, f := range iamForms {
			t.Run(b+"/"+f.name, func(t *testing.T) {
				token := webToken(fake, oidc, fmt.Sprintf("websecret%d%d", i, j))
				dsn := webDSN(pg, f, token, webRole, map[string]string{"nocache": "1"})
				_, conn, logs := openLogged(t, b, dsn)
				_, password := fake.Issued()
				_, stsSecret, stsToken := fake.STSIssued()
				out := logs.lines()
				require.NotEmpty(t, out, "the login logs")
				r := reportOf(t, conn)
				out = append(out, r.String(), fmt.Sprintf("%+v %#v", r, r))
				c := newIAMConnector(t, b, dsn)
				out = append(out, fmt.Sprintf("%v %+v %#v", c.DSN(), c.DSN(), c.DSN().IAM),
					fmt.Sprintf("%v %+v %#v", c.Login(), c.Login(), c.Login().Plan()))
				bad := oidc.Token("another-audience", "s", fake.Now().Add(time.Hour), nil)
				db, err := sql.Open(b, webDSN(pg, f, bad, webRole, map[string]string{"nocache": "1", "user": "etl"}))
				require.NoError(t, err)
				err = db.PingContext(iamCtx(t))
				require.Error(t, err)
				out = append(out, err.Error(), fmt.Sprintf("%+v", err))
				db.Close()
				_, err = sql.Open(b, dsn+f.sep+"KeepAlivesIdle=nope")
				require.Error(t, err)
				out = append(out, err.Error())
				all := strings.Join(out, "\n")
				assert.Contains(t, all, webRole)
				for _, s := range append(strings.Split(token, "."), strings.Split(bad, ".")[1], password, stsSecret, stsToken) {
					require.NotEmpty(t, s)
					assert.NotContains(t, all, s)
				}
			})
		}
	}
}
