//go:build linux

package integration

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/internal/browser"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// The BrowserAzureCredentialsProvider tests: the user signs in to the
// fake Azure AD (harness.FakeAzure's v1 authorize endpoint) in the test's
// browser (harness.Browser), whose form_post page brings the code to the
// plugin's listener; the token endpoint redeems it for an assertion a
// harness.SAMLSigner signed, which the fake STS checks before it issues
// the keys that sign GetClusterCredentials; the password it issues logs
// in to the real server, as the assertion's DbUser. The fake's codes are
// hostile (a space, both quotes, #;&?%={}), so that an unencoded form
// breaks the login and a code in some output is found.

// browserAzureFakes is idpFakes with the browser's sign-in.
type browserAzureFakes struct {
	*idpFakes
	code string // the hostile part of every code

	mu         sync.Mutex
	assertions []string // the assertions Azure AD issued
}

// browserAzureSetup is idpSetup with hostile codes and the assertions
// issued kept.
func browserAzureSetup(t *testing.T) *browserAzureFakes {
	t.Helper()
	f := &browserAzureFakes{idpFakes: idpSetup(t), code: harness.HostileSecret(t)}
	n := 0
	f.azure.SetCodes(func() string { n++; return "0.A" + f.code + strconv.Itoa(n) })
	assertion := f.azure.Assertion
	f.azure.Assertion = func(user string) string {
		a := assertion(user)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.assertions = append(f.assertions, a)
		return a
	}
	return f
}

// useAzureBrowser makes b the browser of the logins until the test ends
// and returns what they print without a logger.
func useAzureBrowser(t *testing.T, b *harness.Browser) *bytes.Buffer {
	printed := &bytes.Buffer{}
	oldOpen, oldStderr := browser.Open, browser.Stderr
	browser.Open, browser.Stderr = b.Open, safe(printed)
	t.Cleanup(func() { browser.Open, browser.Stderr = oldOpen, oldStderr })
	return printed
}

// browserAzureDSN is an IAM DSN of form for cluster etl-prod that logs in
// with BrowserAzureCredentialsProvider (ODBC's BrowserAzureAD, JDBC's class
// name, redshift_connector's credentials_provider) listening on port,
// with extra keys added.
func (f *browserAzureFakes) browserAzureDSN(form iamForm, port int, extra ...string) string {
	plugin, ok := map[string]string{"odbc": "plugin_name=BrowserAzureAD",
		"jdbc": "plugin_name=com.amazon.redshift.plugin.BrowserAzureCredentialsProvider"}[form.name]
	if !ok {
		plugin = "credentials_provider=BrowserAzureCredentialsProvider"
	}
	keys := []string{plugin, "ssl_insecure=true", "idp_tenant=" + azureTenant, "client_id=" + azureClient,
		"listen_port=" + strconv.Itoa(port), "preferred_role=" + idpRole}
	return form.dsn(f.pg, map[string]string{"cluster": "etl-prod"}) + form.sep + strings.Join(append(keys, extra...), form.sep)
}

// noSecret fails the test if s shows a code, an assertion, STS's secret
// key or session token, or the password GetClusterCredentials issued.
func (f *browserAzureFakes) noSecret(t *testing.T, what, s string) {
	t.Helper()
	harness.NoLeak(t, &harness.Postgres{Password: f.code}, what, s)
	var secrets []string
	secrets = append(secrets, f.azure.Codes()...)
	f.mu.Lock()
	for _, a := range f.assertions {
		if m := regexp.MustCompile(`SignatureValue>([^<]{40,})<`).FindStringSubmatch(a); m != nil {
			secrets = append(secrets, m[1][:40])
		}
		b64 := base64.StdEncoding.EncodeToString([]byte(a))
		secrets = append(secrets, b64[len(b64)/2:len(b64)/2+40], base64.RawURLEncoding.EncodeToString([]byte(a))[200:240])
	}
	f.mu.Unlock()
	if _, secret, token := f.aws.STSIssued(); secret != "" {
		secrets = append(secrets, secret, token)
	}
	if _, pw := f.aws.Issued(); pw != "" {
		secrets = append(secrets, pw)
	}
	for _, sec := range secrets {
		assert.NotContains(t, s, sec, "%s shows a secret", what)
	}
}

// TestBrowserAzureSAMLLogin: BrowserAzureCredentialsProvider logs in, in
// every DSN form, with database/sql (with a logger) and then pgx: one
// browser sign-in and one token request for both (the credentials are
// cached), one unsigned AssumeRoleWithSAML for the assertion's role, one
// GetClusterCredentials signed with STS's keys, as the assertion's user.
// The URL is logged at info level, no secret is; the listener is gone.
func TestBrowserAzureSAMLLogin(t *testing.T) {
	f := browserAzureSetup(t)
	b := &harness.Browser{}
	printed := useAzureBrowser(t, b)
	ctx := iamCtx(t)
	var logged bytes.Buffer
	logger := slog.New(slog.NewTextHandler(safe(&logged), &slog.HandlerOptions{Level: slog.LevelDebug}))
	for i, form := range iamForms {
		t.Run(form.name, func(t *testing.T) {
			db := fmt.Sprintf("bazure%d", i)
			f.azure.SetBrowserUser(db + "@corp.example")
			port := loopbackPort(t)
			dsn := f.browserAzureDSN(form, port, fmt.Sprintf("duration=%d", 900+60*i)) // a login of its own
			from, authorize, token := len(f.aws.Requests()), f.azure.Calls("authorize"), f.azure.Calls("token")
			c, err := driver.NewConnector(dsn, driver.WithLogger(logger))
			require.NoError(t, err)
			pool := sql.OpenDB(c)
			defer pool.Close()
			var user string
			require.NoError(t, pool.QueryRowContext(ctx, "SELECT current_user").Scan(&user))
			assert.Equal(t, "IAM:"+db, user)
			cfg, err := driver.ParseConfig(dsn)
			require.NoError(t, err)
			conn, err := pgx.ConnectConfig(ctx, cfg)
			require.NoError(t, err)
			defer conn.Close(ctx)
			require.NoError(t, conn.QueryRow(ctx, "SELECT current_user").Scan(&user))
			assert.Equal(t, "IAM:"+db, user)
			assert.Equal(t, 1, f.azure.Calls("authorize")-authorize, "browser sign-ins for both connections")
			assert.Equal(t, 1, f.azure.Calls("token")-token, "token requests")
			reqs := f.aws.Requests()[from:]
			require.Len(t, reqs, 2)
			assert.Equal(t, "AssumeRoleWithSAML", reqs[0].Get("Action"))
			assert.Equal(t, "", reqs[0].Get(harness.FakeKeyParam), "AssumeRoleWithSAML goes unsigned")
			assert.Equal(t, idpRole+" "+idpPrincipal, reqs[0].Get("RoleArn")+" "+reqs[0].Get("PrincipalArn"))
			assert.Equal(t, strconv.Itoa(900+60*i), reqs[0].Get("DurationSeconds"))
			assert.Equal(t, "GetClusterCredentials", reqs[1].Get("Action"))
			assert.True(t, strings.HasPrefix(reqs[1].Get(harness.FakeKeyParam), "ASIAFAKE"), "signed with STS's keys")
			assert.Equal(t, db+" true", reqs[1].Get("DbUser")+" "+reqs[1].Get("AutoCreate"))
			listenerGone(t, port)
		})
	}
	opened, status, errs := b.Wait()
	assert.Equal(t, len(iamForms), opened)
	assert.Empty(t, errs)
	for _, s := range status {
		assert.Equal(t, http.StatusOK, s, "the listener's page")
	}
	assert.Contains(t, logged.String(), "level=INFO msg=\"redshift-ka: log in to Amazon Redshift in a browser\" plugin=BrowserAzureCredentialsProvider url=\""+
		f.azure.URL+"/"+azureTenant+"/oauth2/authorize?")
	assert.Empty(t, printed.String(), "with a logger, nothing on standard error")
	f.noSecret(t, "the log", logged.String())
}

// TestBrowserAzureSAMLOnce: 20 connections dialed at once by a new
// connector make one browser sign-in, one token request, one STS call and
// one GetClusterCredentials between them.
func TestBrowserAzureSAMLOnce(t *testing.T) {
	f := browserAzureSetup(t)
	b := &harness.Browser{}
	printed := useAzureBrowser(t, b)
	f.azure.SetBrowserUser("bazureonce@corp.example")
	ctx := iamCtx(t)
	port := loopbackPort(t)
	pool, err := sql.Open(driver.Name, f.browserAzureDSN(iamForms[1], port))
	require.NoError(t, err)
	defer pool.Close()
	pool.SetMaxOpenConns(20)
	pool.SetMaxIdleConns(20)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			c, err := pool.Conn(ctx)
			if err == nil {
				var u string
				if err = c.QueryRowContext(ctx, "SELECT current_user").Scan(&u); err == nil && u != "IAM:bazureonce" {
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
	t.Logf("20 concurrent connects: %d browser sign-in, %d token request, %d AssumeRoleWithSAML, %d GetClusterCredentials, in %v",
		f.azure.Calls("authorize"), f.azure.Calls("token"), f.aws.Calls("AssumeRoleWithSAML"), f.aws.Calls("GetClusterCredentials"),
		time.Since(start).Round(time.Millisecond))
	assert.Equal(t, 1, f.azure.Calls("authorize"), "browser sign-ins")
	assert.Equal(t, 1, f.azure.Calls("token"), "token requests")
	assert.Equal(t, 1, f.aws.Calls("AssumeRoleWithSAML"), "STS calls")
	assert.Equal(t, 1, f.aws.Calls("GetClusterCredentials"), "GetClusterCredentials calls")
	opened, _, _ := b.Wait()
	assert.Equal(t, 1, opened, "browser windows")
	assert.Contains(t, printed.String(), "redshift-ka: BrowserAzureCredentialsProvider: log in to Amazon Redshift in a browser at:\n"+
		f.azure.URL+"/"+azureTenant+"/oauth2/authorize?", "without a logger the URL is printed")
	f.noSecret(t, "standard error", printed.String())
	listenerGone(t, port)
}

// TestBrowserAzureSAMLBadInput: a forged state, no answer within
// idp_response_timeout, a listen_port in use, HTML, 100 MB or a redirect
// from the token endpoint, GetClusterCredentials refused after STS: an
// error naming the step, bounded by the setting, nothing left listening,
// no listener goroutine left, no code, assertion, STS key or password in
// the error or the log.
func TestBrowserAzureSAMLBadInput(t *testing.T) {
	f := browserAzureSetup(t)
	f.azure.SetBrowserUser("bazurebad@corp.example")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	const timeout = 10 // idp_response_timeout, seconds: Amazon's drivers' least
	for i, tc := range []struct {
		name    string
		busy    bool
		browser *harness.Browser
		fault   harness.IdPFault
		awsFail bool
		want    []string
	}{
		{name: "wrong state", browser: &harness.Browser{Tamper: func(v url.Values) { v.Set("state", "Xstate9") }},
			want: []string{"browser sign-in for cluster etl-prod: BrowserAzureCredentialsProvider (Azure AD tenant " + azureTenant, "state is not the one sent"}},
		{name: "no answer", browser: &harness.Browser{Skip: true},
			want: []string{"browser sign-in for cluster etl-prod: BrowserAzureCredentialsProvider (Azure AD tenant", fmt.Sprintf("no answer from the browser within idp_response_timeout (%ds)", timeout)}},
		{name: "port in use", busy: true, browser: &harness.Browser{Skip: true},
			want: []string{"browser sign-in for cluster etl-prod: BrowserAzureCredentialsProvider (Azure AD tenant", "listen_port " + strconv.Itoa(busyPort) + " is in use"}},
		{name: "html", fault: harness.FaultHTML, want: []string{"browser sign-in for cluster etl-prod: BrowserAzureCredentialsProvider: Azure AD token endpoint (POST " + f.azure.URL, "answered HTTP 200 with text/html, not JSON"}},
		{name: "huge", fault: harness.FaultHuge, want: []string{"browser sign-in for cluster etl-prod: BrowserAzureCredentialsProvider: Azure AD token endpoint (POST", "the answer is larger than 1048576 bytes"}},
		{name: "redirect", fault: harness.FaultRedirect, want: []string{"browser sign-in for cluster etl-prod: BrowserAzureCredentialsProvider: Azure AD token endpoint (POST", "to another host, localhost:"}},
		{name: "GetClusterCredentials refused", awsFail: true, want: []string{"GetClusterCredentials", "AccessDenied"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.browser
			if b == nil {
				b = &harness.Browser{}
			}
			useAzureBrowser(t, b)
			f.azure.SetFault(tc.fault)
			defer f.azure.SetFault(harness.FaultNone)
			if tc.awsFail {
				f.aws.Fail("AccessDenied", "not for this role")
				defer f.aws.Fail("", "")
			}
			port := loopbackPort(t)
			if tc.busy {
				port = busyPort
			}
			var logged bytes.Buffer
			logger := slog.New(slog.NewTextHandler(safe(&logged), &slog.HandlerOptions{Level: slog.LevelDebug}))
			c, err := driver.NewConnector(f.browserAzureDSN(iamForms[1], port, "idp_response_timeout="+strconv.Itoa(timeout),
				fmt.Sprintf("duration=%d", 1800+60*i)), driver.WithLogger(logger))
			require.NoError(t, err)
			pool := sql.OpenDB(c)
			defer pool.Close()
			start := time.Now()
			err = pool.PingContext(context.Background())
			took := time.Since(start)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			t.Logf("%s after %s: %v", tc.name, took.Round(time.Millisecond), err)
			// The wait for the browser is the setting; the IdP's and AWS's
			// answers here come at once.
			assert.Less(t, took, timeout*time.Second+5*time.Second)
			b.Wait()
			if !tc.busy {
				listenerGone(t, port)
			}
			if tc.awsFail {
				_, secret, _ := f.aws.STSIssued()
				assert.NotEmpty(t, secret, "STS issued keys, which the error must not show")
			}
			f.noSecret(t, "the error", err.Error())
			f.noSecret(t, "the log", logged.String())
			assert.NotContains(t, err.Error()+logged.String(), "Xstate9", "the forged state")
			assert.Zero(t, f.azure.Calls("redirected"), "the client followed the redirect")
		})
	}
}

// TestBrowserAzureSAMLGiveUp: a connect that gives up while the browser
// sign-in waits gets an error naming that step, at its own deadline; as
// no other connect waits, the sign-in stops: nothing listens any more and
// no listener goroutine is left.
func TestBrowserAzureSAMLGiveUp(t *testing.T) {
	f := browserAzureSetup(t)
	f.azure.SetBrowserUser("bazuregiveup@corp.example")
	b := &harness.Browser{Skip: true}
	useAzureBrowser(t, b)
	port := loopbackPort(t)
	pool, err := sql.Open(driver.Name, f.browserAzureDSN(iamForms[1], port, "idp_response_timeout=600"))
	require.NoError(t, err)
	defer pool.Close()
	const deadline = 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	err = pool.PingContext(ctx)
	took := time.Since(start)
	require.Error(t, err)
	t.Logf("gave up after %v: %v", took.Round(time.Millisecond), err)
	assert.Contains(t, err.Error(), "browser sign-in")
	assert.Less(t, took, deadline+5*time.Second, "the connect's deadline, not idp_response_timeout")
	opened, _, _ := b.Wait()
	assert.Equal(t, 1, opened)
	listenerGone(t, port)
	assert.Zero(t, f.azure.Calls("token"))
}
