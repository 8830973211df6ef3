//go:build linux

package integration

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// The secrets audit of issue 26: every plugin, with hostile secrets
// (spaces, quotes, #;&?%={}) its IdP, STS, the AWS API or the server
// refuses, in every DSN form, through every output path: sql.Open's error,
// the connect error (database/sql and pgx), the debug log, redshift-ka
// check (text and --json, offline and online), the parsed DSN and its
// parts printed with every verb and as JSON, DSN.Keys, Config.Ignored,
// Warnings and Redact.

// secretsFixture is the fakes of the audit: the server, the AWS fake, IdPs
// (ADFS, Ping, Okta, Azure AD) whose user has a password other than the
// DSN's, an OIDC issuer STS trusts, and the Redshift front end of the
// native logins.
type secretsFixture struct {
	*idpFakes
	adfs, ping *harness.FakeSAMLIdP
	echo       *harness.FakeSAMLIdP // an ADFS that quotes the password posted
	fe         *harness.Postgres    // the front end, for native logins
	// wrong is the hostile secret every row gives where a secret goes:
	// the IdPs, STS and the server know others.
	wrong string
	// untrusted is an assertion for idpRole, signed by a signer STS does
	// not trust.
	untrusted string
	// closed is a port nothing listens on.
	closed int
}

// secretRow is one plugin: its keys in form f, with the row's hostile
// secrets (the fixture's wrong, or a secret of its own in secrets).
type secretRow struct {
	name string
	// native rows log in at the front end, the others through IAM.
	native bool
	// user and password are the DSN's (the IdP's for user-and-password
	// plugins); empty for none.
	user, password string
	keys           func(fx *secretsFixture, f form) [][2]string
	// secrets are what no output may show, beside fx.wrong.
	secrets func(fx *secretsFixture) []string
	// refused is what the connect error says.
	refused string
}

// esc writes v as a value in form f: braced for ODBC, quoted for
// key=value, %-escaped (a space as %20) in a URL, as written in odbc.ini.
func esc(f form, v string) string {
	switch f.name {
	case "odbc.ini":
		return v
	case "odbc":
		return harness.ODBCQuote(v)
	case "keyvalue":
		return kvQuoted(v)
	}
	return pctEscapeAll(v)
}

// pick returns the plugin's name as form f's driver spells it.
func pick(f form, odbc, jdbc, other string) string {
	switch f.name {
	case "odbc", "odbc.ini":
		return odbc
	case "jdbc":
		return jdbc
	}
	return other
}

var secretRows = []secretRow{
	{name: "ADFS", user: samlIdPUser, refused: "ADFS sign-in for cluster etl-prod: ",
		keys: func(fx *secretsFixture, f form) [][2]string {
			return [][2]string{{"plugin_name", pick(f, "ADFS", "com.amazon.redshift.plugin.AdfsCredentialsProvider", "AdfsCredentialsProvider")},
				{"idp_host", fx.adfs.Host}, {"idp_port", fmt.Sprint(fx.adfs.Port)}, {"ssl_insecure", "true"}}
		}},
	{name: "ADFS echoing the password", user: samlIdPUser, refused: "refused the user's password (The password xxxxx is not right.)",
		keys: func(fx *secretsFixture, f form) [][2]string {
			return [][2]string{{"plugin_name", "AdfsCredentialsProvider"}, {"idp_host", fx.echo.Host}, {"idp_port", fmt.Sprint(fx.echo.Port)}, {"ssl_insecure", "true"}}
		}},
	{name: "Ping", user: samlIdPUser, refused: "Ping sign-in for cluster etl-prod: ",
		keys: func(fx *secretsFixture, f form) [][2]string {
			return [][2]string{{"plugin_name", pick(f, "Ping", "com.amazon.redshift.plugin.PingCredentialsProvider", "PingCredentialsProvider")},
				{"idp_host", fx.ping.Host}, {"idp_port", fmt.Sprint(fx.ping.Port)}, {"ssl_insecure", "true"}}
		}},
	{name: "Okta", user: samlIdPUser, refused: "Okta authn for cluster etl-prod: ",
		keys: func(fx *secretsFixture, f form) [][2]string {
			return [][2]string{{"plugin_name", pick(f, "Okta", "com.amazon.redshift.plugin.OktaCredentialsProvider", "OktaCredentialsProvider")},
				{"idp_host", fx.okta.Host}, {"idp_port", fmt.Sprint(fx.okta.Port)}, {"app_id", oktaAppID}, {"ssl_insecure", "true"}}
		}},
	{name: "Azure", user: samlIdPUser, refused: "Azure AD token endpoint for cluster etl-prod: ",
		keys: func(fx *secretsFixture, f form) [][2]string {
			return [][2]string{{"plugin_name", pick(f, "AzureAD", "com.amazon.redshift.plugin.AzureCredentialsProvider", "AzureCredentialsProvider")},
				{"idp_tenant", azureTenant}, {"client_id", azureClient}, {"client_secret", esc(f, fx.wrong)}}
		}},
	{name: "BasicSaml not an assertion", refused: "SAML assertion given for cluster etl-prod: ",
		keys: func(fx *secretsFixture, f form) [][2]string {
			return [][2]string{{"plugin_name", "BasicSamlCredentialsProvider"}, {"saml_assertion", esc(f, fx.wrong)}, {"DbUser", "u"}}
		}},
	{name: "BasicSaml untrusted", refused: "STS AssumeRoleWithSAML for role " + idpRole,
		keys: func(fx *secretsFixture, f form) [][2]string {
			return [][2]string{{"plugin_name", "BasicSamlCredentialsProvider"}, {"saml_assertion", esc(f, untrustedAssertion(fx))}}
		},
		secrets: func(fx *secretsFixture) []string {
			a := untrustedAssertion(fx)
			return []string{a, a[len(a)/2 : len(a)/2+40]}
		}},
	{name: "JwtIamAuthPlugin", refused: "STS AssumeRoleWithWebIdentity for role " + webRole,
		keys: func(fx *secretsFixture, f form) [][2]string {
			return [][2]string{{"plugin_name", "JwtIamAuthPlugin"}, {"web_identity_token", esc(f, fx.wrong)}, {"role_arn", webRole}, {"DbUser", "u"}}
		}},
	{name: "JwtIamAuthPlugin StsEndpointUrl with user info", refused: "connection refused",
		keys: func(fx *secretsFixture, f form) [][2]string {
			sts := &url.URL{Scheme: "http", User: url.UserPassword("sts", fx.wrong), Host: fmt.Sprintf("127.0.0.1:%d", fx.closed)}
			return [][2]string{{"plugin_name", "JwtIamAuthPlugin"}, {"web_identity_token", esc(f, fx.wrong)}, {"role_arn", webRole}, {"DbUser", "u"},
				{"StsEndpointUrl", esc(f, sts.String())}}
		}},
	{name: "static AWS keys", refused: "GetClusterCredentials for cluster etl-prod: ",
		keys: func(fx *secretsFixture, f form) [][2]string {
			return [][2]string{{"DbUser", "u"}, {"AccessKeyID", "AKIAUNKNOWN"}, {"SecretAccessKey", esc(f, fx.wrong)}, {"SessionToken", esc(f, fx.wrong)},
				{"https_proxy_host", "127.0.0.1"}, {"https_proxy_port", "1"}, {"https_proxy_password", esc(f, fx.wrong)},
				{"StsEndpointUrl", esc(f, (&url.URL{Scheme: "https", User: url.UserPassword("sts", fx.wrong), Host: "sts.example"}).String())}}
		}},
	{name: "BasicJwt", native: true, refused: "refused the identity-provider token",
		keys: func(fx *secretsFixture, f form) [][2]string {
			return [][2]string{{"plugin_name", pick(f, "JWT", "com.amazon.redshift.plugin.BasicJwtCredentialsProvider", "BasicJwtCredentialsProvider")},
				{"web_identity_token", esc(f, fx.wrong)}, {"provider_name", testProvider}}
		}},
	{name: "IdpTokenAuthPlugin token", native: true, refused: "refused the identity-provider token",
		keys: func(fx *secretsFixture, f form) [][2]string {
			return [][2]string{{"plugin_name", "IdpTokenAuthPlugin"}, {"token", esc(f, fx.wrong)}, {"token_type", "EXT_JWT"}}
		}},
	{name: "IdpTokenAuthPlugin exchange", native: true, refused: "GetIdentityCenterAuthToken for cluster etl-prod: ",
		keys: func(fx *secretsFixture, f form) [][2]string {
			return [][2]string{{"plugin_name", "IdpTokenAuthPlugin"}, {"ClusterID", "etl-prod"}, {"Region", "us-east-1"},
				{"AccessKeyID", "AKIAUNKNOWN"}, {"SecretAccessKey", esc(f, fx.wrong)}, {"SessionToken", esc(f, fx.wrong)}}
		}},
}

func untrustedAssertion(fx *secretsFixture) string { return fx.untrusted }

// dsn is row r's DSN in form f.
func (fx *secretsFixture) dsn(r secretRow, f form) string {
	target := &harness.Postgres{Host: fx.pg.Host, Port: fx.pg.Port, Database: fx.pg.Database, User: r.user, Password: r.password}
	kv := [][2]string{{"sslmode", "verify-ca"}, {"sslrootcert", fx.pg.CAFile}}
	if r.native {
		// The front end's certificate is its own: TLS without checking it.
		target.Host, target.Port, kv = fx.fe.Host, fx.fe.Port, [][2]string{{"sslmode", "require"}}
		if r.name == "BasicJwt" && strings.HasPrefix(f.name, "odbc") {
			kv = append(kv, [2]string{"IAM", "1"})
		}
	} else {
		kv = append(kv, [2]string{"IAM", "1"}, [2]string{"ClusterID", "etl-prod"})
	}
	if r.user == "" {
		target.User = "etl"
	}
	return f.dsn(target, append(kv, r.keys(fx, f)...))
}

func TestNoIdPSecretInAnyOutput(t *testing.T) {
	fx := &secretsFixture{idpFakes: idpSetup(t)}
	fx.wrong = harness.HostileSecret(t)
	fx.closed = closedPort(t)
	fx.adfs = harness.StartFakeSAMLIdP(t, "adfs", fx.signer, samlIdPUser, fx.password)
	fx.ping = harness.StartFakeSAMLIdP(t, "ping", fx.signer, samlIdPUser, fx.password)
	fx.echo = harness.StartFakeSAMLIdP(t, "adfs", fx.signer, samlIdPUser, fx.password)
	fx.echo.SetFault(harness.FaultEchoPassword)
	fx.adfs.SetClaims(harness.SAMLClaims{Roles: []string{idpRole}, RoleSessionName: "ann", DbUser: "ann_db", AutoCreate: "true"})
	fx.addUser(samlIdPUser)
	other := harness.NewSAMLSigner(t, "http://idp.other.example/saml", idpPrincipal)
	other.Now = fx.aws.Now
	fx.untrusted = other.Response(harness.SAMLClaims{Roles: []string{idpRole}, RoleSessionName: "ann", DbUser: "ann"})
	oidc := harness.NewFakeOIDC(t, "https://oidc.example.com/fake")
	fx.aws.AllowWebIdentity(webRole, oidc, webAudience)
	fe, _, _ := nativeFrontEnd(t, fx.pg)
	fx.fe = fe.Server()
	bin := buildCLI(t)
	ctx := iamCtx(t)
	// odbc.ini: the keys in a data source of $ODBCINI, the DSN naming it.
	ini := filepath.Join(t.TempDir(), "odbc.ini")
	t.Setenv("ODBCINI", ini)
	iniForm := form{"odbc.ini", func(pg *harness.Postgres, kv [][2]string) string {
		lines := []string{"[Audit]", "Driver = Amazon Redshift (x64)", "Server = " + pg.Host, fmt.Sprint("Port = ", pg.Port),
			"Database = " + pg.Database, "UID = " + pg.User, "PWD = " + pg.Password}
		for _, p := range kv {
			lines = append(lines, p[0]+" = "+p[1])
		}
		require.NoError(t, os.WriteFile(ini, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
		return "DSN={Audit}"
	}}

	for _, r := range secretRows {
		r.password = fx.wrong
		if r.user == "" {
			r.password = ""
		}
		secrets := []string{fx.wrong}
		if r.secrets != nil {
			secrets = append(secrets, r.secrets(fx)...)
		}
		for _, f := range append(slices.Clone(forms), iniForm) {
			t.Run(r.name+"/"+f.name, func(t *testing.T) {
				outs := map[string]string{}
				dsn := fx.dsn(r, f)

				// sql.Open's error, both backends.
				sep := map[string]string{"url": "&", "keyvalue": " ", "odbc": ";", "jdbc": "&", "odbc.ini": ";"}[f.name]
				for _, b := range backends {
					_, err := sql.Open(b, dsn+sep+"KeepAlivesIdle=x")
					require.Error(t, err)
					outs["sql.Open "+b] = fmt.Sprintf("%v %+v %#v", err, err, err)
				}

				// The connect error and the debug log, database/sql and pgx.
				text := &strings.Builder{}
				logger := slog.New(slog.NewTextHandler(text, &slog.HandlerOptions{Level: slog.LevelDebug}))
				c, err := driver.NewConnector(dsn, driver.WithLogger(logger))
				require.NoError(t, err)
				outs["connector"] = fmt.Sprintf("%v %+v %#v", c, c, c.DSN())
				db := sql.OpenDB(c)
				err = db.PingContext(ctx)
				db.Close()
				require.Error(t, err, "refused")
				assert.Contains(t, err.Error(), r.refused)
				outs["connect error"] = fmt.Sprintf("%v %+v", err, err)
				cfg, err := driver.ParseConfig(dsn, driver.WithLogger(logger))
				require.NoError(t, err)
				// Sent in the startup message. (cfg.Password is the DSN's,
				// the IdP's here, until AfterNetConnect sets the issued one.)
				outs["pgx runtime params"] = fmt.Sprintf("%v", cfg.RuntimeParams)
				_, err = pgx.ConnectConfig(ctx, cfg)
				require.Error(t, err)
				outs["pgx connect error"] = fmt.Sprintf("%v %+v", err, err)
				if pc, err := rkpq.NewConnector(dsn, driver.WithLogger(logger)); err != nil {
					outs["lib/pq"] = err.Error() // a native login: pgx only
				} else {
					db := sql.OpenDB(pc)
					err = db.PingContext(ctx)
					db.Close()
					require.Error(t, err, "lib/pq refused")
					outs["lib/pq connect error"] = fmt.Sprintf("%v %+v", err, err)
				}
				outs["log"] = text.String()

				// The parsed DSN, its parts, its keys.
				d, err := dsnparse.Parse(dsn)
				require.NoError(t, err)
				js, err := json.Marshal(d)
				require.NoError(t, err)
				parts := []any{d, d.Config, d.Keys, d.Config.Ignored, d.Config.Warnings}
				if d.IAM != nil {
					parts = append(parts, d.IAM, *d.IAM, d.IAM.SAML, d.IAM.WebIdentity)
				}
				if d.Native != nil {
					parts = append(parts, d.Native, *d.Native, d.Native.AWS)
				}
				for i, p := range parts {
					pj, err := json.Marshal(p)
					require.NoError(t, err)
					outs[fmt.Sprintf("part %d", i)] = fmt.Sprintf("%v\n%+v\n%#v\n%s\n%s", p, p, p, p, pj)
				}
				outs["DSN JSON"] = string(js)
				outs["Redact"] = dsnparse.Redact(dsn)

				// redshift-ka check, text and --json, offline and online.
				for _, args := range [][]string{{"--offline"}, {"--offline", "--json"}, {}, {"--json"}} {
					cctx, cancel := context.WithTimeout(ctx, time.Minute)
					out, err := exec.CommandContext(cctx, bin, append(append([]string{"check", "--connect-timeout", "20s"}, args...), dsn)...).CombinedOutput()
					cancel()
					if len(args) > 0 && args[0] == "--offline" {
						assert.NoError(t, err, "%v: %s", args, out)
					} else {
						assert.Error(t, err, "%v: refused: %s", args, out)
					}
					outs[fmt.Sprint("check ", args)] = string(out)
				}

				if testing.Verbose() && f.name == "odbc" {
					t.Logf("connect: %s\npgx: %s\ncheck: %s\ncheck offline: %s", outs["connect error"], outs["pgx connect error"], outs["check []"], outs["check [--offline]"])
				}
				for what, out := range outs {
					for _, s := range secrets {
						harness.NoLeak(t, &harness.Postgres{Password: s}, what, out)
					}
				}
			})
		}
	}

	// A login that succeeds: its debug log and check show neither the IdP
	// password nor the keys STS issued.
	t.Run("ADFS signed in", func(t *testing.T) {
		r := secretRows[0]
		r.password = fx.password
		dsn := fx.dsn(r, forms[2])
		text := &strings.Builder{}
		c, err := driver.NewConnector(dsn, driver.WithLogger(slog.New(slog.NewTextHandler(text, &slog.HandlerOptions{Level: slog.LevelDebug}))))
		require.NoError(t, err)
		db := sql.OpenDB(c)
		defer db.Close()
		require.NoError(t, db.PingContext(ctx))
		out, err := exec.CommandContext(ctx, bin, "check", "--json", dsn).CombinedOutput()
		require.NoError(t, err, "%s", out)
		id, secret, session := fx.aws.STSIssued()
		require.NotEmpty(t, secret)
		for what, s := range map[string]string{"log": text.String(), "check": string(out)} {
			harness.NoLeak(t, &harness.Postgres{Password: fx.password}, what, s)
			assert.NotContains(t, s, secret, what)
			assert.NotContains(t, s, session, what)
			assert.NotContains(t, s, id, what, "the STS key id")
		}
	})
}
