//go:build linux

package integration

import (
	"context"
	"database/sql"
	"encoding/base64"
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
	"github.com/redshift-ka/redshift-ka/internal/azurehost"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// The Okta and Azure AD tests: OktaCredentialsProvider and
// AzureCredentialsProvider sign in at a fake IdP (harness.FakeOkta,
// harness.FakeAzure) with the DSN's user and password, get an assertion
// a harness.SAMLSigner signed, trade it at the fake STS
// (AssumeRoleWithSAML, which checks the signature) for AWS keys, and
// log in to the real server with the password GetClusterCredentials,
// signed with those keys, issued for the assertion's DbUser.
//
// The fakes serve HTTPS with a certificate of their own, which the DSNs
// trust with ssl_insecure=true, as Amazon's drivers document for an IdP
// with a self-signed certificate; TestIdPCertificateChecked shows the
// check is made without it. Azure AD's host is Microsoft's in every
// driver and in no DSN key: internal/azurehost.Set points it at the fake,
// a test seam that programs outside the module cannot reach.

const (
	idpRole      = "arn:aws:iam::123456789012:role/etl-saml"
	idpPrincipal = "arn:aws:iam::123456789012:saml-provider/corp"
	azureTenant  = "contoso.onmicrosoft.com"
	azureClient  = "5e1c0f1a-fake"
	oktaAppID    = "0oa1fakeapp"
)

// idpFakes is the IdPs of a test, their signer, and the AWS fake.
type idpFakes struct {
	pg     *harness.Postgres
	aws    *harness.AWSFake
	signer *harness.SAMLSigner
	okta   *harness.FakeOkta
	azure  *harness.FakeAzure
	// password (the IdP users') and clientSecret (Azure AD's app's) hold
	// spaces, quotes and #;&?%={} (harness.HostileSecret); secrets holds
	// each, for harness.NoLeak.
	password, clientSecret string
	secrets                []*harness.Postgres
}

// noLeak fails the test if s shows the IdP password or the client
// secret, whole or in distinctive pieces.
func (f *idpFakes) noLeak(t *testing.T, what, s string) {
	t.Helper()
	for _, sec := range f.secrets {
		harness.NoLeak(t, sec, what, s)
	}
}

// idpSetup is iamSetup with no AWS keys (only STS gives any), a SAML
// signer STS trusts, and a fake Okta and Azure AD whose assertions it
// signs: the IdP user's DbUser is the part of its name before '@'.
func idpSetup(t *testing.T) *idpFakes {
	t.Helper()
	pg, fake := iamSetup(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	s := harness.NewSAMLSigner(t, "http://idp.corp.example/saml", idpPrincipal)
	s.Now = fake.Now
	fake.AllowSAML(s)
	response := func(user string) string {
		db, _, _ := strings.Cut(user, "@")
		return s.Response(harness.SAMLClaims{Roles: []string{idpRole}, Subject: user, RoleSessionName: db, DbUser: db, AutoCreate: "true"})
	}
	f := &idpFakes{pg: pg, aws: fake, signer: s, password: harness.HostileSecret(t), clientSecret: harness.HostileSecret(t)}
	f.secrets = []*harness.Postgres{{Password: f.password}, {Password: f.clientSecret}}
	f.okta = harness.StartFakeOkta(t)
	f.okta.AddApp("amazon_aws", oktaAppID)
	f.okta.SetSAMLResponse(response)
	f.azure = harness.StartFakeAzure(t)
	f.azure.AddTenant(azureTenant)
	f.azure.AddClient(azureClient, f.clientSecret)
	f.azure.Assertion = func(user string) string { return harness.AssertionOf(response(user)) }
	t.Cleanup(azurehost.Set(f.azure.URL))
	return f
}

// addUser adds user, with password f.password, to both IdPs.
func (f *idpFakes) addUser(user string) {
	f.okta.AddUser(user, f.password)
	f.azure.AddUser(user, f.password)
}

// trips returns the IdP round trips of plugin so far: Okta's sign-ins
// (each followed by one app page), Azure AD's token requests.
func (f *idpFakes) trips(plugin string) int {
	if plugin == "okta" {
		return f.okta.Calls("authn")
	}
	return f.azure.Calls("token")
}

// formQuote writes v as a value of form f: braced for ODBC, quoted for
// key=value, %-escaped in a URL.
func formQuote(f iamForm, v string) string {
	switch f.name {
	case "odbc":
		return harness.ODBCQuote(v)
	case "keyvalue":
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
	}
	return pctEscapeAll(v)
}

// idpCreds are the secrets a DSN gives the IdP.
type idpCreds struct{ user, password, clientSecret string }

// goodCreds is user's right password and client secret.
func (f *idpFakes) goodCreds(user string) idpCreds { return idpCreds{user, f.password, f.clientSecret} }

// idpDSN is an IAM DSN of form f for cluster etl-prod that logs in with
// plugin ("okta" or "azure") with c, the plugin and its keys spelt as the
// form's driver spells them (ODBC's Okta and AzureAD, redshift_connector's
// credentials_provider, JDBC's class name), with extra keys (written as
// given) added.
func (f *idpFakes) idpDSN(form iamForm, plugin string, c idpCreds, extra ...string) string {
	name := map[string]map[string]string{
		"okta":  {"odbc": "plugin_name=Okta", "jdbc": "plugin_name=com.amazon.redshift.plugin.OktaCredentialsProvider", "": "credentials_provider=OktaCredentialsProvider"},
		"azure": {"odbc": "plugin_name=AzureAD", "jdbc": "plugin_name=com.amazon.redshift.plugin.AzureCredentialsProvider", "": "credentials_provider=AzureCredentialsProvider"},
	}[plugin]
	p, ok := name[form.name]
	if !ok {
		p = name[""]
	}
	keys := []string{p, "ssl_insecure=true"}
	if plugin == "okta" {
		keys = append(keys, "idp_host="+f.okta.Host, fmt.Sprintf("idp_port=%d", f.okta.Port), "app_id="+oktaAppID)
	} else {
		keys = append(keys, "idp_tenant="+azureTenant, "client_id="+azureClient, "client_secret="+formQuote(form, c.clientSecret))
	}
	userKey, pwKey := "user", "password"
	if form.name == "odbc" {
		userKey, pwKey = "UID", "PWD"
	}
	keys = append(keys, userKey+"="+formQuote(form, c.user), pwKey+"="+formQuote(form, c.password))
	return form.dsn(f.pg, map[string]string{"cluster": "etl-prod"}) + form.sep + strings.Join(append(keys, extra...), form.sep)
}

// idpPlugins are the plugins of these tests.
var idpPlugins = []string{"okta", "azure"}

// TestIdPForms: Okta and Azure AD log in, in every DSN form, through
// database/sql with both backends and through pgx: one IdP round trip,
// one unsigned AssumeRoleWithSAML for the assertion's role, one
// GetClusterCredentials signed with the keys STS issued, as the
// assertion's user, created if need be.
func TestIdPForms(t *testing.T) {
	f := idpSetup(t)
	ctx := iamCtx(t)
	for _, plugin := range idpPlugins {
		for i, b := range append(slices.Clone(backends), "pgx") {
			for j, form := range iamForms {
				t.Run(plugin+"/"+b+"/"+form.name, func(t *testing.T) {
					db := fmt.Sprintf("%s%d%d", plugin, i, j) // a user, so a request, of its own
					f.addUser(db + "@corp.example")
					from, trips := len(f.aws.Requests()), f.trips(plugin)
					dsn := f.idpDSN(form, plugin, f.goodCreds(db+"@corp.example"))
					if b == "pgx" {
						cfg, err := driver.ParseConfig(dsn)
						require.NoError(t, err)
						c, err := pgx.ConnectConfig(ctx, cfg)
						require.NoError(t, err)
						defer c.Close(ctx)
						var u string
						require.NoError(t, c.QueryRow(ctx, "SELECT current_user").Scan(&u))
						assert.Equal(t, "IAM:"+db, u)
					} else {
						_, conn := open(t, b, dsn)
						assert.Equal(t, "IAM:"+db, currentUser(t, conn))
					}
					assert.Equal(t, 1, f.trips(plugin)-trips, "IdP round trips")
					reqs := f.aws.Requests()[from:]
					require.Len(t, reqs, 2)
					assert.Equal(t, "AssumeRoleWithSAML", reqs[0].Get("Action"))
					assert.Equal(t, "", reqs[0].Get(harness.FakeKeyParam), "AssumeRoleWithSAML goes unsigned")
					assert.Equal(t, idpRole+" "+idpPrincipal, reqs[0].Get("RoleArn")+" "+reqs[0].Get("PrincipalArn"))
					assert.Equal(t, "GetClusterCredentials", reqs[1].Get("Action"))
					assert.True(t, strings.HasPrefix(reqs[1].Get(harness.FakeKeyParam), "ASIAFAKE"), "signed with STS's keys")
					assert.Equal(t, db+" true", reqs[1].Get("DbUser")+" "+reqs[1].Get("AutoCreate"))
				})
			}
		}
	}
}

// TestIdPConcurrent: 20 connections dialed at once by a new connector
// make one IdP round trip, one STS call and one GetClusterCredentials
// between them, with both backends.
func TestIdPConcurrent(t *testing.T) {
	f := idpSetup(t)
	f.aws.SetDelay(200 * time.Millisecond)
	ctx := iamCtx(t)
	for _, plugin := range idpPlugins {
		for i, b := range backends {
			t.Run(plugin+"/"+b, func(t *testing.T) {
				db := fmt.Sprintf("%sconc%d", plugin, i)
				f.addUser(db + "@corp.example")
				trips, sts, gcc := f.trips(plugin), f.aws.Calls("AssumeRoleWithSAML"), f.aws.Calls("GetClusterCredentials")
				pool, err := sql.Open(b, f.idpDSN(iamForms[0], plugin, f.goodCreds(db+"@corp.example")))
				require.NoError(t, err)
				defer pool.Close()
				pool.SetMaxOpenConns(20)
				pool.SetMaxIdleConns(20)
				var wg sync.WaitGroup
				errs := make(chan error, 20)
				for range 20 {
					wg.Go(func() {
						c, err := pool.Conn(ctx)
						if err == nil {
							var u string
							if err = c.QueryRowContext(ctx, "SELECT current_user").Scan(&u); err == nil && u != "IAM:"+db {
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
					assert.NoError(t, err)
				}
				assert.Equal(t, 1, f.trips(plugin)-trips, "IdP round trips for 20 concurrent first connections")
				assert.Equal(t, 1, f.aws.Calls("AssumeRoleWithSAML")-sts, "STS calls")
				assert.Equal(t, 1, f.aws.Calls("GetClusterCredentials")-gcc, "GetClusterCredentials calls")
			})
		}
	}
}

// TestIdPRefused: a wrong password, a second factor asked for, an app
// Okta does not have, a client secret Azure AD refuses, an IdP that
// answers HTML, redirects to another host, sends 100 MB, or does not
// answer within the connect's context, each fail the connection naming
// the plugin (and, but for the silence, the step) within bounds, before
// any AWS call.
func TestIdPRefused(t *testing.T) {
	f := idpSetup(t)
	f.addUser("ann@corp.example")
	f.addUser("mfa@corp.example")
	f.okta.RequireMFA("mfa@corp.example")
	f.azure.RequireMFA("mfa@corp.example")
	odbc := iamForms[0]
	for _, c := range []struct {
		name, plugin, dsn, want string
		fault                   harness.IdPFault
	}{
		{"okta wrong password", "okta", f.idpDSN(odbc, "okta", idpCreds{"ann@corp.example", f.password + "x", ""}),
			"redshift-ka: Okta authn for cluster etl-prod: Okta refused the password for user ann@corp.example", ""},
		{"okta MFA", "okta", f.idpDSN(odbc, "okta", f.goodCreds("mfa@corp.example")),
			"Okta asks for multi-factor authentication (status MFA_REQUIRED), which OktaCredentialsProvider does not support", ""},
		{"okta no such app", "okta", f.idpDSN(odbc, "okta", f.goodCreds("ann@corp.example"), "app_name=salesforce"),
			"/home/salesforce/" + oktaAppID + "): Okta has no such app (HTTP 404): check app_id and app_name", ""},
		{"okta HTML", "okta", f.idpDSN(odbc, "okta", f.goodCreds("ann@corp.example")), "answered HTTP 200 with text/html, not JSON", harness.FaultHTML},
		{"azure wrong password", "azure", f.idpDSN(odbc, "azure", idpCreds{"ann@corp.example", f.password + "x", f.clientSecret}),
			"redshift-ka: Azure AD token endpoint for cluster etl-prod: Azure AD refused the password for user ann@corp.example (tenant " + azureTenant + "): invalid_grant: AADSTS50126", ""},
		{"azure wrong client secret", "azure", f.idpDSN(odbc, "azure", idpCreds{"ann@corp.example", f.password, f.clientSecret + "x"}),
			"Azure AD refused the client " + azureClient + " (client_id or client_secret) for tenant " + azureTenant + ": invalid_client: AADSTS7000215", ""},
		{"azure MFA", "azure", f.idpDSN(odbc, "azure", f.goodCreds("mfa@corp.example")), "Azure AD asks for multi-factor authentication", ""},
		{"okta redirect", "okta", f.idpDSN(odbc, "okta", f.goodCreds("ann@corp.example")), "to another host, localhost:", harness.FaultRedirect},
		{"azure 100 MB", "azure", f.idpDSN(odbc, "azure", f.goodCreds("ann@corp.example")), "the answer is larger than 1048576 bytes", harness.FaultHuge},
		{"azure hang", "azure", f.idpDSN(odbc, "azure", f.goodCreds("ann@corp.example")), "context deadline exceeded", harness.FaultSilent},
	} {
		for _, b := range backends {
			t.Run(c.name+"/"+b, func(t *testing.T) {
				if c.fault != "" {
					srv := map[string]interface{ SetFault(harness.IdPFault) }{"okta": f.okta, "azure": f.azure}[c.plugin]
					srv.SetFault(c.fault)
					defer srv.SetFault(harness.FaultNone)
				}
				db, err := sql.Open(b, c.dsn+";DisableCache=1")
				require.NoError(t, err)
				defer db.Close()
				// A hang ends at the connect's context, well before the IdP
				// client's 60 s timeout.
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				defer cancel()
				start := time.Now()
				err = db.PingContext(ctx)
				require.Error(t, err)
				t.Logf("after %v: %v", time.Since(start).Round(time.Millisecond), err)
				assert.Contains(t, err.Error(), c.want)
				f.noLeak(t, "the error", err.Error())
			})
		}
	}
	assert.Zero(t, f.aws.Calls(""), "nothing reached AWS")
	assert.Zero(t, f.okta.Calls("redirected")+f.azure.Calls("redirected"), "a redirect was followed")
}

// TestIdPCertificateChecked: without ssl_insecure the IdP's certificate
// is checked, and the fakes' own is refused, naming the step.
func TestIdPCertificateChecked(t *testing.T) {
	f := idpSetup(t)
	f.addUser("ann@corp.example")
	for _, plugin := range idpPlugins {
		t.Run(plugin, func(t *testing.T) {
			dsn := strings.Replace(f.idpDSN(iamForms[0], plugin, f.goodCreds("ann@corp.example")), ";ssl_insecure=true", "", 1)
			db, err := sql.Open(driver.Name, dsn+";DisableCache=1")
			require.NoError(t, err)
			defer db.Close()
			err = db.PingContext(iamCtx(t))
			require.Error(t, err)
			assert.Contains(t, err.Error(), map[string]string{"okta": "Okta sign-in for user ann@corp.example", "azure": "Azure AD token request for user ann@corp.example"}[plugin])
			assert.Contains(t, err.Error(), "x509: certificate signed by unknown authority")
		})
	}
	assert.Zero(t, f.okta.Calls("")+f.azure.Calls(""), "no request got through")
}

// TestIdPNoSecret: in every form, with both backends, neither the IdP
// password nor the client secret, the assertion, the keys STS issued or
// the password GetClusterCredentials issued show in the logs, the
// settings report, the connector, its DSN, login and plan printed, or the
// error of a refused password.
func TestIdPNoSecret(t *testing.T) {
	f := idpSetup(t)
	// What the IdPs handed out: Okta's SAML responses, Azure AD's access
	// tokens.
	var (
		mu     sync.Mutex // the fakes' handlers append, the test reads
		handed []string
	)
	hand := func(s string) string {
		mu.Lock()
		defer mu.Unlock()
		handed = append(handed, s)
		return s
	}
	response := func(user string) string {
		return hand(f.signer.Response(harness.SAMLClaims{Roles: []string{idpRole}, RoleSessionName: "s", DbUser: strings.Split(user, "@")[0]}))
	}
	f.okta.SetSAMLResponse(response)
	f.azure.Assertion = func(user string) string {
		a := harness.AssertionOf(response(user))
		hand(base64.RawURLEncoding.EncodeToString([]byte(a)))
		return a
	}
	for _, plugin := range idpPlugins {
		for i, b := range backends {
			for j, form := range iamForms {
				t.Run(plugin+"/"+b+"/"+form.name, func(t *testing.T) {
					user := fmt.Sprintf("%ssecret%d%d@corp.example", plugin, i, j)
					f.addUser(user)
					nocache := map[bool]string{true: "DisableCache=1", false: "iam_disable_cache=true"}[form.name == "odbc"]
					dsn := f.idpDSN(form, plugin, f.goodCreds(user), nocache)
					_, conn, logs := openLogged(t, b, dsn)
					_, password := f.aws.Issued()
					_, stsSecret, stsToken := f.aws.STSIssued()
					out := logs.lines()
					require.NotEmpty(t, out, "the login logs")
					r := reportOf(t, conn)
					out = append(out, r.String(), fmt.Sprintf("%+v %#v", r, r))
					c := newIAMConnector(t, b, dsn)
					out = append(out, fmt.Sprintf("%v %+v %#v", c.DSN(), c.DSN(), c.DSN().IAM),
						fmt.Sprintf("%v %+v %#v", c.Login(), c.Login(), c.Login().Plan()))
					db, err := sql.Open(b, f.idpDSN(form, plugin, idpCreds{user, f.password + "x", f.clientSecret}, nocache))
					require.NoError(t, err)
					err = db.PingContext(iamCtx(t))
					require.Error(t, err)
					assert.Contains(t, err.Error(), "refused the password for user "+user)
					out = append(out, err.Error(), fmt.Sprintf("%+v", err))
					db.Close()
					all := strings.Join(out, "\n")
					f.noLeak(t, "the output", all)
					for _, s := range []string{password, stsSecret, stsToken} {
						require.NotEmpty(t, s)
						assert.NotContains(t, all, s)
					}
					mu.Lock()
					defer mu.Unlock()
					require.NotEmpty(t, handed)
					for _, a := range handed {
						assert.NotContains(t, all, a[len(a)/2:len(a)/2+32])
					}
				})
			}
		}
	}
}

// TestIdPODBCDataSource: Okta's and Azure AD's keys in odbc.ini data
// sources, as ODBC's driver reads them (its plugin names, UID and PWD,
// the hostile password and client secret written raw), log in with both
// backends.
func TestIdPODBCDataSource(t *testing.T) {
	f := idpSetup(t)
	f.addUser("ini@corp.example")
	ini := filepath.Join(t.TempDir(), "odbc.ini")
	common := fmt.Sprintf("Driver = /opt/amazon/redshiftodbc/lib/64/libamazonredshiftodbc64.so\nServer = %s\nPort = %d\nDatabase = %s\n"+
		"sslrootcert = %s\nIAM = 1\nClusterID = etl-prod\nssl_insecure = true\nUID = ini@corp.example\nPWD = %s\n",
		f.pg.Host, f.pg.Port, f.pg.Database, f.pg.CAFile, f.password)
	require.NoError(t, os.WriteFile(ini, []byte(fmt.Sprintf("[Okta DS]\n%splugin_name = Okta\nidp_host = %s\nidp_port = %d\napp_id = %s\n\n"+
		"[Azure DS]\n%splugin_name = AzureAD\nidp_tenant = %s\nclient_id = %s\nclient_secret = %s\n",
		common, f.okta.Host, f.okta.Port, oktaAppID, common, azureTenant, azureClient, f.clientSecret)), 0o600))
	t.Setenv("ODBCINI", ini)
	for _, ds := range []string{"Okta DS", "Azure DS"} {
		for i, b := range backends {
			t.Run(ds+"/"+b, func(t *testing.T) {
				trips := f.okta.Calls("authn") + f.azure.Calls("token")
				_, conn := open(t, b, "DSN={"+ds+"}")
				assert.Equal(t, "IAM:ini", currentUser(t, conn))
				assert.Equal(t, 1-i, f.okta.Calls("authn")+f.azure.Calls("token")-trips, "the second backend is served by the process cache")
			})
		}
	}
}
