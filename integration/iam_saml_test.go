//go:build linux

package integration

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// The SAML tests: AdfsCredentialsProvider and PingCredentialsProvider sign
// in at fake IdPs (their real forms, over HTTPS), BasicSamlCredentialsProvider
// is given the assertion; STS AssumeRoleWithSAML at the fake AWS checks the
// assertion's XML signature, audience, expiry and role pair; then
// GetClusterCredentials, signed with STS's keys, logs in as the
// assertion's DbUser on the real server.

const (
	samlRole      = "arn:aws:iam::123456789012:role/etl-saml"
	samlPrincipal = "arn:aws:iam::123456789012:saml-provider/CorpIdP"
	samlIdPUser   = "ann@corp.example"
)

// samlFixture is a server, the fake AWS, and IdPs that sign in
// samlIdPUser with a hostile password.
type samlFixture struct {
	pg         *harness.Postgres
	fake       *harness.AWSFake
	signer     *harness.SAMLSigner
	adfs, ping *harness.FakeSAMLIdP
	password   string             // the IdP user's
	secret     *harness.Postgres  // holds password, for harness.NoLeak
	claims     harness.SAMLClaims // what the IdPs assert
}

func samlSetup(t *testing.T) *samlFixture {
	t.Helper()
	pg, fake := iamSetup(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "") // only STS gives AWS credentials
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	f := &samlFixture{pg: pg, fake: fake, password: harness.HostileSecret(t)}
	f.secret = &harness.Postgres{Password: f.password}
	f.signer = harness.NewSAMLSigner(t, "http://idp.corp.example/adfs/services/trust", samlPrincipal)
	f.signer.Now = fake.Now
	fake.AllowSAML(f.signer)
	f.claims = harness.SAMLClaims{Roles: []string{samlRole}, RoleSessionName: samlIdPUser, DbUser: "ann_db", AutoCreate: "true"}
	f.adfs = harness.StartFakeSAMLIdP(t, "adfs", f.signer, samlIdPUser, f.password)
	f.adfs.SetClaims(f.claims)
	f.ping = harness.StartFakeSAMLIdP(t, "ping", f.signer, samlIdPUser, f.password)
	f.ping.SetClaims(f.claims)
	return f
}

// samlPlugin is one plugin and its keys, as a form spells them.
type samlPlugin struct {
	name string
	keys func(f *samlFixture, form string) []string
}

// idpKeys are the keys of an IdP sign-in: the plugin (ODBC's short name in
// the ODBC form), the IdP's host and port, ssl_insecure (its certificate
// is the test's own), and the IdP user and password as the form writes a
// user and password.
func idpKeys(f *samlFixture, form, long, short string, idp *harness.FakeSAMLIdP, role string) []string {
	plugin := long
	if form == "odbc" {
		plugin = short
	}
	keys := []string{"plugin_name=" + plugin, "idp_host=" + idp.Host, fmt.Sprintf("idp_port=%d", idp.Port), "ssl_insecure=true",
		"preferred_role=" + role}
	switch form {
	case "odbc":
		keys = append(keys, "UID="+samlIdPUser, "PWD="+harness.ODBCQuote(f.password))
	case "keyvalue":
		keys = append(keys, "user="+samlIdPUser, "password="+kvQuoted(f.password))
	case "url": // percent-encoded as libpq decodes a URL's query: '+' is no space
		keys = append(keys, "user="+url.QueryEscape(samlIdPUser), "password="+strings.ReplaceAll(url.QueryEscape(f.password), "+", "%20"))
	default: // JDBC's query, as its driver decodes it
		keys = append(keys, "user="+url.QueryEscape(samlIdPUser), "password="+url.QueryEscape(f.password))
	}
	return keys
}

// kvQuoted quotes v for the key=value form.
func kvQuoted(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

var samlPlugins = []samlPlugin{
	{"adfs", func(f *samlFixture, form string) []string {
		return idpKeys(f, form, "AdfsCredentialsProvider", "ADFS", f.adfs, samlRole)
	}},
	{"ping", func(f *samlFixture, form string) []string {
		return idpKeys(f, form, "PingCredentialsProvider", "Ping", f.ping, samlRole)
	}},
	{"basic", func(f *samlFixture, form string) []string {
		a := f.signer.Response(f.claims)
		if form == "url" || form == "jdbc" {
			a = url.QueryEscape(a)
		}
		return []string{"plugin_name=BasicSamlCredentialsProvider", "saml_assertion=" + a}
	}},
}

// samlDSN is a SAML login of plugin p in form f for cluster etl-prod, its
// STS duration d (a request of its own per duration).
func samlDSN(fx *samlFixture, f iamForm, p samlPlugin, d int) string {
	return f.dsn(fx.pg, map[string]string{"cluster": "etl-prod"}) + f.sep +
		strings.Join(append(p.keys(fx, f.name), fmt.Sprintf("duration=%d", d)), f.sep)
}

// samlRequests returns the fake's AssumeRoleWithSAML requests and the
// others, from index from on.
func samlRequests(fake *harness.AWSFake, from int) (sts, other []url.Values) {
	for _, r := range fake.Requests()[from:] {
		if r.Get("Action") == "AssumeRoleWithSAML" {
			sts = append(sts, r)
		} else {
			other = append(other, r)
		}
	}
	return sts, other
}

// TestIAMSAMLForms: each SAML plugin logs in, in every DSN form, through
// database/sql with both backends and through pgx: one IdP sign-in (for
// ADFS and Ping) with the DSN's user and password, one unsigned
// AssumeRoleWithSAML for the preferred role, then one
// GetClusterCredentials signed with STS's keys, as the assertion's
// DbUser, created as the assertion's AutoCreate asks.
func TestIAMSAMLForms(t *testing.T) {
	fx := samlSetup(t)
	ctx := iamCtx(t)
	duration := 900
	for _, p := range samlPlugins {
		for _, b := range append(slices.Clone(backends), "pgx") {
			for _, f := range iamForms {
				duration += 60
				t.Run(p.name+"/"+b+"/"+f.name, func(t *testing.T) {
					from := len(fx.fake.Requests())
					pages0, signIns0 := fx.adfs.Counts()
					pages1, signIns1 := fx.ping.Counts()
					dsn := samlDSN(fx, f, p, duration)
					if b == "pgx" {
						cfg, err := driver.ParseConfig(dsn)
						require.NoError(t, err)
						c, err := pgx.ConnectConfig(ctx, cfg)
						require.NoError(t, err)
						defer c.Close(ctx)
						var u string
						require.NoError(t, c.QueryRow(ctx, "SELECT current_user").Scan(&u))
						assert.Equal(t, "IAM:ann_db", u)
					} else {
						_, conn := open(t, b, dsn)
						assert.Equal(t, "IAM:ann_db", currentUser(t, conn))
					}
					sts, other := samlRequests(fx.fake, from)
					require.Len(t, sts, 1)
					require.Len(t, other, 1)
					assert.Equal(t, "", sts[0].Get(harness.FakeKeyParam), "AssumeRoleWithSAML goes unsigned")
					assert.Equal(t, samlRole+" "+samlPrincipal, sts[0].Get("RoleArn")+" "+sts[0].Get("PrincipalArn"))
					assert.Equal(t, fmt.Sprint(duration), sts[0].Get("DurationSeconds"))
					assert.Equal(t, "GetClusterCredentials", other[0].Get("Action"))
					assert.True(t, strings.HasPrefix(other[0].Get(harness.FakeKeyParam), "ASIAFAKE"), "signed with STS's keys")
					assert.Equal(t, "ann_db true", other[0].Get("DbUser")+" "+other[0].Get("AutoCreate"))
					pages0b, signIns0b := fx.adfs.Counts()
					pages1b, signIns1b := fx.ping.Counts()
					want := map[string][4]int{"adfs": {1, 1, 0, 0}, "ping": {0, 0, 1, 1}, "basic": {}}[p.name]
					assert.Equal(t, want, [4]int{pages0b - pages0, signIns0b - signIns0, pages1b - pages1, signIns1b - signIns1},
						"ADFS pages, sign-ins; Ping pages, sign-ins")
					if p.name != "basic" {
						idp := map[string]*harness.FakeSAMLIdP{"adfs": fx.adfs, "ping": fx.ping}[p.name]
						u, pw := idp.LastSignIn()
						assert.Equal(t, samlIdPUser, u)
						assert.Equal(t, fx.password, pw, "the form carried the password")
					}
				})
			}
		}
	}
}

// TestIAMSAMLConcurrentConnects: 20 connections dialed at once by a new
// connector make one IdP sign-in, one AssumeRoleWithSAML and one
// GetClusterCredentials between them; a second connector of the same DSN
// makes none.
func TestIAMSAMLConcurrentConnects(t *testing.T) {
	fx := samlSetup(t)
	fx.fake.SetDelay(200 * time.Millisecond) // every connect arrives while the call is under way
	ctx := iamCtx(t)
	for i, b := range backends {
		t.Run(b, func(t *testing.T) {
			before := fx.fake.Calls("")
			sts0 := fx.fake.Calls("AssumeRoleWithSAML")
			_, signIns0 := fx.adfs.Counts()
			dsn := samlDSN(fx, iamForms[0], samlPlugins[0], 1200+60*i)
			start := time.Now()
			for round := range 2 {
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
							var u string
							err = c.QueryRowContext(ctx, "SELECT current_user").Scan(&u)
							if err == nil && u != "IAM:ann_db" {
								err = fmt.Errorf("logged in as %s", u)
							}
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
				_, signIns := fx.adfs.Counts()
				assert.Equal(t, [3]int{1, 1, 2}, [3]int{signIns - signIns0, fx.fake.Calls("AssumeRoleWithSAML") - sts0, fx.fake.Calls("") - before},
					"round %d: IdP sign-ins, AssumeRoleWithSAML, AWS calls in all (STS and GetClusterCredentials)", round)
				if round == 0 {
					t.Logf("20 concurrent connects: %d sign-in, %d STS call, %d AWS calls in all, in %v",
						signIns-signIns0, fx.fake.Calls("AssumeRoleWithSAML")-sts0, fx.fake.Calls("")-before, time.Since(start).Round(time.Millisecond))
				}
			}
		})
	}
}

// TestIAMSAMLRefused: a wrong IdP password, a preferred role the assertion
// lacks, an assertion STS refuses (expired, unsigned), and an IdP that
// never answers: each refused with the step named, through both backends
// and pgx, with neither the IdP password nor the assertion in the error or
// in any log line.
func TestIAMSAMLRefused(t *testing.T) {
	fx := samlSetup(t)
	ctx := iamCtx(t)
	wrong := *fx
	wrong.password = fx.password[:len(fx.password)-1] + "!"
	otherRole := samlPlugin{"adfs", func(f *samlFixture, form string) []string {
		return idpKeys(f, form, "AdfsCredentialsProvider", "ADFS", f.adfs, "arn:aws:iam::123456789012:role/admin")
	}}
	basicOf := func(c harness.SAMLClaims) (samlPlugin, string) {
		a := fx.signer.Response(c)
		return samlPlugin{"basic", func(f *samlFixture, form string) []string {
			v := a
			if form == "url" || form == "jdbc" {
				v = url.QueryEscape(a)
			}
			return []string{"plugin_name=BasicSamlCredentialsProvider", "saml_assertion=" + v}
		}}, a
	}
	expired := fx.claims
	expired.NotOnOrAfter = fx.fake.Now().Add(-time.Minute)
	unsigned := fx.claims
	unsigned.Unsigned = true
	expiredPlugin, expiredA := basicOf(expired)
	unsignedPlugin, unsignedA := basicOf(unsigned)
	adfsHost := fmt.Sprintf("127.0.0.1:%d", fx.adfs.Port)
	for _, tc := range []struct {
		name      string
		fx        *samlFixture
		p         samlPlugin
		assertion string
		want      string
	}{
		{"wrong password", &wrong, samlPlugins[0], "", "ADFS sign-in for cluster etl-prod: ADFS sign-in at " + adfsHost + " refused the user's password"},
		{"role not in the assertion", fx, otherRole, "", "STS AssumeRoleWithSAML for cluster etl-prod: the SAML assertion has no role " +
			"arn:aws:iam::123456789012:role/admin (preferred_role); it has " + samlRole},
		{"expired", fx, expiredPlugin, expiredA, "STS AssumeRoleWithSAML for role " + samlRole + ", for cluster etl-prod: ExpiredTokenException"},
		{"unsigned", fx, unsignedPlugin, unsignedA, "STS AssumeRoleWithSAML for role " + samlRole + ", for cluster etl-prod: InvalidIdentityToken"},
	} {
		for j, b := range append(slices.Clone(backends), "pgx") {
			t.Run(tc.name+"/"+b, func(t *testing.T) {
				var logs bytes.Buffer
				logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				dsn := samlDSN(tc.fx, iamForms[j%len(iamForms)], tc.p, 2400+60*j)
				var err error
				switch b {
				case "pgx":
					cfg, perr := driver.ParseConfig(dsn, driver.WithLogger(logger))
					if err = perr; err == nil {
						var c *pgx.Conn
						if c, err = pgx.ConnectConfig(ctx, cfg); err == nil {
							c.Close(ctx)
						}
					}
				case driver.Name:
					c, cerr := driver.NewConnector(dsn, driver.WithLogger(logger))
					require.NoError(t, cerr)
					db := sql.OpenDB(c)
					defer db.Close()
					err = db.PingContext(ctx)
				default:
					c, cerr := rkpq.NewConnector(dsn, driver.WithLogger(logger))
					require.NoError(t, cerr)
					db := sql.OpenDB(c)
					defer db.Close()
					err = db.PingContext(ctx)
				}
				require.Error(t, err)
				t.Log(err)
				assert.Contains(t, err.Error(), tc.want)
				for what, s := range map[string]string{"the error": err.Error(), "the log": logs.String()} {
					harness.NoLeak(t, fx.secret, what, s)
					if tc.assertion != "" {
						assert.NotContains(t, s, tc.assertion[:64], what)
					}
				}
			})
		}
	}
}

// TestIAMSAMLNoSecretInLogs: a SAML login that succeeds logs, at debug
// level, and prints its connector's DSN and plan, without the IdP
// password or the assertion.
func TestIAMSAMLNoSecretInLogs(t *testing.T) {
	fx := samlSetup(t)
	ctx := iamCtx(t)
	for i, p := range samlPlugins {
		t.Run(p.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c, err := driver.NewConnector(samlDSN(fx, iamForms[0], p, 3600+60*i), driver.WithLogger(logger))
			require.NoError(t, err)
			db := sql.OpenDB(c)
			defer db.Close()
			require.NoError(t, db.PingContext(ctx))
			plan, err := json.Marshal(c.Login().Plan())
			require.NoError(t, err)
			d := c.DSN()
			out := map[string]string{"the log": logs.String(), "the DSN %v": fmt.Sprintf("%v", d), "the DSN %+v": fmt.Sprintf("%+v", d),
				"the DSN %#v": fmt.Sprintf("%#v", d), "the plan": string(plan), "the login": fmt.Sprintf("%v %+v", c.Login(), c.Login())}
			assert.Contains(t, out["the plan"], `"plugin":"`)
			for what, s := range out {
				harness.NoLeak(t, fx.secret, what, s)
				assert.NotContains(t, s, fx.signer.Response(fx.claims)[:64], what)
			}
		})
	}
}
