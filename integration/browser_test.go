//go:build linux

package integration

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	_ "github.com/redshift-ka/redshift-ka/iam"
	"github.com/redshift-ka/redshift-ka/internal/azurehost"
	"github.com/redshift-ka/redshift-ka/internal/browser"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// The browser plugins log in through the Redshift front end
// (frontend_idp_test.go), which checks the token the plugin got: the
// "browser" is a harness.Browser, an HTTP client that follows the
// identity provider's redirects (and posts Azure's form_post form) to the
// plugin's loopback listener.

const (
	oauthTenant   = "tenant-1"
	oauthClient   = "client-1"
	azureApp      = "api://redshift-app"
	azureProvider = "azure_idp"
	idcAudience   = "redshift-idc-app"
)

// browserRig is a front end that trusts an identity provider's tokens, the
// provider's fake, and the browser the plugins open.
type browserRig struct {
	pg      *harness.Postgres
	fe      *frontEnd
	idp     *frontEndIdP
	azure   *harness.FakeAzureOAuth2
	sso     *harness.FakeSSOOIDC
	browser *harness.Browser
	printed *bytes.Buffer
}

// useTestBrowser makes b the browser of the logins, until the test ends.
func useTestBrowser(t *testing.T, r *browserRig, b *harness.Browser) {
	r.browser = b
	oldOpen, oldStderr := browser.Open, browser.Stderr
	azure := "http://127.0.0.1:1" // nothing: an IdC test asks no Azure
	if r.azure != nil {
		azure = r.azure.URL
	}
	r.printed = &bytes.Buffer{}
	browser.Open, browser.Stderr = b.Open, safe(r.printed)
	t.Cleanup(azurehost.Set(azure))
	t.Cleanup(func() { browser.Open, browser.Stderr = oldOpen, oldStderr })
}

// safe returns a writer to buf that concurrent logins may share.
func safe(buf *bytes.Buffer) io.Writer { return lockedWriter{&sync.Mutex{}, buf} }

// startBrowserRig starts PostgreSQL, the fake of the plugin's provider
// ("azure" or "idc") and a front end trusting it.
func startBrowserRig(t *testing.T, provider string) *browserRig {
	t.Helper()
	r := &browserRig{pg: harness.StartPostgresT(t, harness.PostgresOptions{})}
	cert, _, err := harness.SelfSignedCert("127.0.0.1")
	require.NoError(t, err)
	switch provider {
	case "azure":
		oidc := harness.NewFakeOIDC(t, "https://login.microsoftonline.com/"+oauthTenant+"/v2.0")
		r.azure = harness.StartFakeAzureOAuth2(t, oidc, oauthTenant, oauthClient, r.pg.User)
		r.idp = &frontEndIdP{JWKS: r.azure.URL + "/" + oauthTenant + "/discovery/v2.0/keys", Issuer: oidc.Issuer, Audience: azureApp, Provider: azureProvider}
	case "idc":
		oidc := harness.NewFakeOIDC(t, "https://identitycenter.amazonaws.com/ssoins-test")
		r.sso = harness.StartFakeSSOOIDC(t, oidc, oidc.Issuer, r.pg.User, idcAudience)
		keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(oidc.JWKS())
		}))
		t.Cleanup(keys.Close)
		r.idp = &frontEndIdP{JWKS: keys.URL, Issuer: oidc.Issuer, Audience: idcAudience}
		dir := t.TempDir()
		for k, v := range map[string]string{"AWS_ENDPOINT_URL_SSO_OIDC": r.sso.URL, "AWS_EC2_METADATA_DISABLED": "true",
			"AWS_CONFIG_FILE": dir + "/config", "AWS_SHARED_CREDENTIALS_FILE": dir + "/credentials", "AWS_ENDPOINT_URL": "",
			"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_PROFILE": "", "AWS_REGION": ""} {
			t.Setenv(k, v)
		}
	}
	r.fe = startFrontEnd(t, r.pg, frontEndOptions{Login: &frontEndLogin{Cert: &cert, IdP: r.idp}})
	useTestBrowser(t, r, &harness.Browser{})
	return r
}

// loginSeq makes each login's DSN its own, so that it does not take a
// token another test cached.
var loginSeq atomic.Int64

// azureKeys are the keys of a BrowserAzureOAuth2 login in one form, as
// that form's driver spells the plugin.
func azureKeys(form string, port int, more ...[2]string) [][2]string {
	plugin := map[string]string{"url": "BrowserAzureOAuth2CredentialsProvider",
		"keyvalue": "redshift_connector.plugin.BrowserAzureOAuth2CredentialsProvider",
		"odbc":     "BrowserAzureADOAuth2", "jdbc": "com.amazon.redshift.plugin.BrowserAzureOAuth2CredentialsProvider"}[form]
	kv := [][2]string{{"sslmode", "require"}}
	if form == "odbc" {
		kv = append(kv, [2]string{"IAM", "1"})
	}
	kv = append(kv, [2]string{"plugin_name", plugin}, [2]string{"idp_tenant", oauthTenant}, [2]string{"client_id", oauthClient},
		[2]string{"scope", azureApp + "/login" + strconv.FormatInt(loginSeq.Add(1), 10)},
		[2]string{"provider_name", azureProvider}, [2]string{"listen_port", strconv.Itoa(port)})
	return append(kv, more...)
}

// idcKeys are the keys of a BrowserIdcAuthPlugin login.
func idcKeys(form string, r *browserRig, port int, more ...[2]string) [][2]string {
	plugin := "BrowserIdcAuthPlugin"
	if form == "jdbc" || form == "keyvalue" {
		plugin = "com.amazon.redshift.plugin.BrowserIdcAuthPlugin"
	}
	kv := [][2]string{{"sslmode", "require"}}
	kv = append(kv, [2]string{"plugin_name", plugin}, [2]string{"issuer_url", r.sso.IssuerURL}, [2]string{"idc_region", "us-east-1"},
		[2]string{"idc_client_display_name", "test-" + strconv.FormatInt(loginSeq.Add(1), 10)}, [2]string{"listen_port", strconv.Itoa(port)})
	return append(kv, more...)
}

// loopbackPort returns a port nothing listens on.
func loopbackPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// listenerGone fails the test if something listens on port or a
// goroutine of the listener is left.
func listenerGone(t *testing.T, port int) {
	t.Helper()
	if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
		c.Close()
		t.Errorf("127.0.0.1:%d still listening", port)
	}
	if left := harness.GoroutinesLeft(10*time.Second, "redshift-ka/internal/browser."); left != "" {
		t.Fatalf("the listener's goroutines are left:\n%s", left)
	}
}

// browserUsers logs in with database/sql and then pgx and returns the
// users they are.
func browserUsers(t *testing.T, ctx context.Context, dsn string) (viaSQL, viaPgx string) {
	t.Helper()
	db, err := sql.Open(driver.Name, dsn)
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.QueryRowContext(ctx, "SELECT current_user").Scan(&viaSQL))
	cfg, err := driver.ParseConfig(dsn)
	require.NoError(t, err)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	defer conn.Close(ctx)
	require.NoError(t, conn.QueryRow(ctx, "SELECT current_user").Scan(&viaPgx))
	return viaSQL, viaPgx
}

// TestBrowserAzureLogin: BrowserAzureOAuth2CredentialsProvider logs in
// through the front end in every DSN form, with database/sql and then
// pgx: one browser sign-in for both (the token is cached), the URL
// logged for the user, the listener gone afterwards.
func TestBrowserAzureLogin(t *testing.T) {
	r := startBrowserRig(t, "azure")
	srv := r.fe.Server()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			port := loopbackPort(t)
			before, _ := r.azure.Calls()
			accepted := r.idp.Accepted.Load()
			viaSQL, viaPgx := browserUsers(t, ctx, f.dsn(srv, azureKeys(f.name, port)))
			assert.Equal(t, r.pg.User, viaSQL)
			assert.Equal(t, r.pg.User, viaPgx)
			after, _ := r.azure.Calls()
			assert.Equal(t, before+1, after, "one browser sign-in for both connections")
			assert.Equal(t, accepted+2, r.idp.Accepted.Load())
			listenerGone(t, port)
		})
	}
	opened, status, errs := r.browser.Wait()
	assert.Equal(t, len(forms), opened)
	assert.Empty(t, errs)
	for _, s := range status {
		assert.Equal(t, http.StatusOK, s, "the listener's page")
	}
	printed := r.printed.String()
	assert.Contains(t, printed, "redshift-ka: BrowserAzureOAuth2CredentialsProvider: log in to Amazon Redshift in a browser at:\n"+r.azure.URL+"/"+oauthTenant+"/oauth2/v2.0/authorize?")
	for _, s := range r.azure.Issued() {
		assert.NotContains(t, printed, s, "no code or token printed")
	}
	if errs := r.fe.errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// TestBrowserIdCLogin: BrowserIdcAuthPlugin logs in through the front
// end in every DSN form, with database/sql and then pgx (the token
// cached), the SDK sent to the
// SSO-OIDC fake by AWS_ENDPOINT_URL_SSO_OIDC, the URL logged.
func TestBrowserIdCLogin(t *testing.T) {
	r := startBrowserRig(t, "idc")
	srv := r.fe.Server()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var logged bytes.Buffer
	logger := slog.New(slog.NewTextHandler(safe(&logged), &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			port := loopbackPort(t)
			before := r.sso.Calls("authorize")
			dsn := f.dsn(srv, idcKeys(f.name, r, port))
			c, err := driver.NewConnector(dsn, driver.WithLogger(logger))
			require.NoError(t, err)
			db := sql.OpenDB(c)
			defer db.Close()
			var user string
			require.NoError(t, db.QueryRowContext(ctx, "SELECT current_user").Scan(&user))
			assert.Equal(t, r.pg.User, user)
			cfg, err := driver.ParseConfig(dsn)
			require.NoError(t, err)
			conn, err := pgx.ConnectConfig(ctx, cfg)
			require.NoError(t, err)
			defer conn.Close(ctx)
			require.NoError(t, conn.QueryRow(ctx, "SELECT current_user").Scan(&user))
			assert.Equal(t, r.pg.User, user)
			assert.Equal(t, before+1, r.sso.Calls("authorize"), "one browser sign-in for both")
			listenerGone(t, port)
		})
	}
	_, _, errs := r.browser.Wait()
	assert.Empty(t, errs)
	assert.Contains(t, logged.String(), "log in to Amazon Redshift in a browser")
	assert.Contains(t, logged.String(), `url="`+r.sso.URL+"/authorize?")
	for _, s := range r.sso.Issued() {
		assert.NotContains(t, logged.String(), s, "no client secret, code or token logged")
	}
	if errs := r.fe.errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// TestBrowserLoginOnce: 20 connections dialed at once make one browser
// sign-in and one token request: the token is cached process-wide.
func TestBrowserLoginOnce(t *testing.T) {
	r := startBrowserRig(t, "azure")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	port := loopbackPort(t)
	db, err := sql.Open(driver.Name, r.fe.Server().URL(join(azureKeys("url", port), "&")))
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxIdleConns(20)
	accepted := r.idp.Accepted.Load()
	start := time.Now()
	var wg sync.WaitGroup
	conns := make([]*sql.Conn, 20)
	errs := make([]error, 20)
	for i := range conns {
		wg.Go(func() {
			conns[i], errs[i] = db.Conn(ctx)
			if errs[i] == nil {
				errs[i] = conns[i].PingContext(ctx)
			}
		})
	}
	wg.Wait()
	for i := range conns {
		require.NoError(t, errs[i])
		defer conns[i].Close()
	}
	authorize, token := r.azure.Calls()
	t.Logf("20 concurrent connects: %d browser sign-in, %d token request, %d logins let in, in %v",
		authorize, token, r.idp.Accepted.Load()-accepted, time.Since(start).Round(time.Millisecond))
	assert.Equal(t, 1, authorize, "one browser sign-in")
	assert.Equal(t, 1, token, "one token request")
	assert.Equal(t, accepted+20, r.idp.Accepted.Load(), "20 logins with the token")
	opened, _, _ := r.browser.Wait()
	assert.Equal(t, 1, opened, "one browser window")
	listenerGone(t, port)
}

// TestBrowserBadInput: a listen_port in use, no answer within
// idp_response_timeout, a redirect with another state, HTML or 100 MB
// where JSON is expected, a redirect to another host: a clear error naming the step, in bounded time,
// nothing left listening, no listener goroutine left, no code or token
// in the error or the log.
func TestBrowserBadInput(t *testing.T) {
	r := startBrowserRig(t, "azure")
	srv := r.fe.Server()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	const timeout = 10 // idp_response_timeout, seconds: Amazon's drivers' least
	for _, tc := range []struct {
		name    string
		busy    bool
		browser *harness.Browser
		hostile string
		want    []string
	}{
		{name: "port in use", busy: true, want: []string{"browser sign-in for BrowserAzureOAuth2CredentialsProvider (tenant tenant-1)",
			"listen_port " + strconv.Itoa(busyPort) + " is in use"}},
		{name: "no answer", browser: &harness.Browser{Skip: true}, want: []string{"browser sign-in for",
			fmt.Sprintf("no answer from the browser within idp_response_timeout (%ds)", timeout)}},
		{name: "wrong state", browser: &harness.Browser{Tamper: func(v url.Values) { v.Set("state", "Xstate") }},
			want: []string{"browser sign-in for", "state is not the one sent"}},
		{name: "html", hostile: "html", want: []string{"Azure AD token endpoint for", "answered HTTP 200 with text/html, not JSON"}},
		{name: "huge", hostile: "huge", want: []string{"Azure AD token endpoint for", "the answer is larger than 1048576 bytes"}},
		{name: "redirect", hostile: "redirect", want: []string{"Azure AD token endpoint for", "to http, without TLS"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.browser
			if b == nil {
				b = &harness.Browser{}
			}
			useTestBrowser(t, r, b)
			r.azure.SetFault(harness.IdPFault(tc.hostile))
			defer r.azure.SetFault(harness.FaultNone)
			port := loopbackPort(t)
			if tc.busy {
				port = busyPort
			}
			var logged bytes.Buffer
			logger := slog.New(slog.NewTextHandler(safe(&logged), &slog.HandlerOptions{Level: slog.LevelDebug}))
			c, err := driver.NewConnector(srv.URL(join(azureKeys("url", port, [2]string{"idp_response_timeout", strconv.Itoa(timeout)}), "&")),
				driver.WithLogger(logger))
			require.NoError(t, err)
			db := sql.OpenDB(c)
			defer db.Close()
			start := time.Now()
			err = db.PingContext(context.Background())
			took := time.Since(start)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			t.Logf("%s after %s: %v", tc.name, took.Round(time.Millisecond), err)
			// The wait for the browser is the setting, then the token
			// request: nothing waits much longer (generous for a busy
			// machine, short of the default 120 s).
			assert.Less(t, took, 3*timeout*time.Second+30*time.Second)
			r.browser.Wait()
			if !tc.busy {
				listenerGone(t, port)
			}
			for _, s := range append(r.azure.Issued(), "Xstate") {
				assert.NotContains(t, err.Error(), s, "no code, token or state in the error")
				assert.NotContains(t, logged.String(), s, "no code or token in the log")
			}
		})
	}
}

// TestBrowserSAMLLogin: BrowserSamlCredentialsProvider (ODBC: BrowserSAML)
// logs in in every DSN form, with database/sql and then pgx: the browser
// opens login_url, the IdP's page posts the assertion to the listener,
// STS AssumeRoleWithSAML takes it and GetClusterCredentials logs in as the
// assertion's DbUser. One sign-in per DSN: the second connection takes
// the cached credentials. The listener is gone afterwards.
func TestBrowserSAMLLogin(t *testing.T) {
	fx := samlSetup(t)
	ctx := iamCtx(t)
	port := loopbackPort(t)
	idp := harness.StartFakeBrowserSAML(t, fx.signer, fx.claims, "http://localhost:"+strconv.Itoa(port)+"/redshift/")
	r := &browserRig{}
	useTestBrowser(t, r, &harness.Browser{})
	for i, f := range iamForms {
		t.Run(f.name, func(t *testing.T) {
			plugin := "BrowserSamlCredentialsProvider"
			if f.name == "odbc" {
				plugin = "BrowserSAML"
			}
			loginURL := idp.LoginURL
			if f.sep == "&" {
				loginURL = url.QueryEscape(loginURL)
			}
			dsn := f.dsn(fx.pg, map[string]string{"cluster": "etl-prod"}) + f.sep + strings.Join([]string{"plugin_name=" + plugin,
				"login_url=" + loginURL, "listen_port=" + strconv.Itoa(port), "preferred_role=" + samlRole,
				fmt.Sprintf("duration=%d", 900+60*i)}, f.sep)
			before := idp.SignIns()
			db, err := sql.Open(driver.Name, dsn)
			require.NoError(t, err)
			defer db.Close()
			var user string
			require.NoError(t, db.QueryRowContext(ctx, "SELECT current_user").Scan(&user))
			assert.Equal(t, "IAM:ann_db", user)
			cfg, err := driver.ParseConfig(dsn)
			require.NoError(t, err)
			conn, err := pgx.ConnectConfig(ctx, cfg)
			require.NoError(t, err)
			defer conn.Close(ctx)
			require.NoError(t, conn.QueryRow(ctx, "SELECT current_user").Scan(&user))
			assert.Equal(t, "IAM:ann_db", user)
			assert.Equal(t, before+1, idp.SignIns(), "one browser sign-in for both")
			listenerGone(t, port)
		})
	}
	_, status, errs := r.browser.Wait()
	assert.Empty(t, errs)
	assert.NotContains(t, status, http.StatusBadRequest)
	assert.Contains(t, r.printed.String(), "redshift-ka: BrowserSamlCredentialsProvider: log in to Amazon Redshift in a browser at:\n"+idp.LoginURL)
	assert.NotContains(t, r.printed.String(), "SAMLResponse")
}
