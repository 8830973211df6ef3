//go:build linux

package iam

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/azurehost"
	"github.com/redshift-ka/redshift-ka/internal/backend"
	"github.com/redshift-ka/redshift-ka/internal/browser"
	"github.com/redshift-ka/redshift-ka/internal/clock"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// useBrowser makes b the browser of the test's logins, and the fake at
// azure Microsoft's login host; it returns what the logins print
// without a logger.
func useBrowser(t *testing.T, b *harness.Browser, azure string) *bytes.Buffer {
	var printed bytes.Buffer
	oldOpen, oldStderr := browser.Open, browser.Stderr
	browser.Open, browser.Stderr = b.Open, &printed
	t.Cleanup(azurehost.Set(azure))
	t.Cleanup(func() { browser.Open, browser.Stderr = oldOpen, oldStderr })
	return &printed
}

// claims decodes a JWT's claims.
func claims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(b, &c))
	return c
}

// freePort returns a port nothing listens on.
func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// portFree fails the test if something listens on port.
func portFree(t *testing.T, port int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	require.NoError(t, err, "the listener is gone")
	ln.Close()
}

func TestBrowserAzure(t *testing.T) {
	oidc := harness.NewFakeOIDC(t, "https://login.microsoftonline.com/tenant-1/v2.0")
	fake := harness.StartFakeAzureOAuth2(t, oidc, "tenant-1", "client-1", "alice@example.com")
	b := &harness.Browser{}
	useBrowser(t, b, fake.URL)
	var logged bytes.Buffer
	port := freePort(t)
	a := &azureBrowser{tenant: "tenant-1", clientID: "client-1", scope: "api://redshift-app/User.Read", port: port, timeout: time.Minute,
		logger: slog.New(slog.NewTextHandler(&logged, nil))}
	token, exp, err := a.login(context.Background())
	require.NoError(t, err)
	c := claims(t, token)
	assert.Equal(t, "alice@example.com", c["upn"])
	assert.Equal(t, "api://redshift-app", c["aud"])
	assert.WithinDuration(t, time.Now().Add(time.Hour), exp, time.Minute)
	opened, status, errs := b.Wait()
	assert.Equal(t, 1, opened)
	assert.Equal(t, []int{200}, status)
	assert.Empty(t, errs)
	assert.Contains(t, logged.String(), "oauth2/v2.0/authorize?", "the URL is logged for the user")
	assert.Contains(t, logged.String(), "redirect_uri=http%3A%2F%2Flocalhost%3A"+strconv.Itoa(port)+"%2Fredshift%2F")
	assert.NotContains(t, logged.String(), token)
	portFree(t, port)
}

func TestBrowserAzureRefused(t *testing.T) {
	oidc := harness.NewFakeOIDC(t, "https://login.microsoftonline.com/tenant-1/v2.0")
	fake := harness.StartFakeAzureOAuth2(t, oidc, "tenant-1", "client-1", "alice@example.com")
	for _, tc := range []struct {
		name, hostile string
		tamper        func(url.Values)
		skip          bool
		step, want    string
	}{
		{name: "wrong state", tamper: func(v url.Values) { v.Set("state", "FORGED") }, step: stepBrowser, want: "state is not the one sent"},
		{name: "another code", tamper: func(v url.Values) { v.Set("code", "0.AFORGED") }, step: stepAzureToken, want: `refused the code: "invalid_grant": "AADSTS70008`},
		{name: "html", hostile: "html", step: stepAzureToken, want: "answered HTTP 200 with text/html, not JSON"},
		{name: "huge", hostile: "huge", step: stepAzureToken, want: "the answer is larger than 1048576 bytes"},
		{name: "redirect", hostile: "redirect", step: stepAzureToken, want: "to http, without TLS"},
		{name: "no answer", skip: true, step: stepBrowser, want: "no answer from the browser within idp_response_timeout (1s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &harness.Browser{Tamper: tc.tamper, Skip: tc.skip}
			useBrowser(t, b, fake.URL)
			fake.SetFault(harness.IdPFault(tc.hostile))
			defer fake.SetFault(harness.FaultNone)
			var logged bytes.Buffer
			a := &azureBrowser{tenant: "tenant-1", clientID: "client-1", scope: "api://redshift-app/User.Read", timeout: time.Second,
				logger: slog.New(slog.NewTextHandler(&logged, nil))}
			start := time.Now()
			_, _, err := a.login(context.Background())
			took := time.Since(start)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "redshift-ka: "+tc.step+" for BrowserAzureOAuth2CredentialsProvider (tenant tenant-1): ")
			assert.Contains(t, err.Error(), tc.want)
			var se *Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.step, se.FailedStep())
			// Bounded by idp_response_timeout: generous for a busy machine,
			// short of the login's 2 minutes by default.
			assert.Less(t, took, 3*a.timeout+30*time.Second, "bounded by idp_response_timeout")
			b.Wait()
			for _, s := range []string{"0.A", "FORGED", "eyJ"} {
				assert.NotContains(t, err.Error(), s, "no code or token shown")
			}
		})
	}
}

func TestBrowserAzurePortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	b := &harness.Browser{}
	useBrowser(t, b, "http://127.0.0.1:1")
	port := busy.Addr().(*net.TCPAddr).Port
	_, _, err = (&azureBrowser{tenant: "t", clientID: "c", port: port}).login(context.Background())
	require.ErrorIs(t, err, browser.ErrPortInUse)
	assert.Contains(t, err.Error(), "browser sign-in for BrowserAzureOAuth2CredentialsProvider (tenant t): listen_port "+strconv.Itoa(port)+" is in use")
	opened, _, _ := b.Wait()
	assert.Zero(t, opened, "no browser opened")
}

// idcEnv points the SDK at fake and nowhere else.
func idcEnv(t *testing.T, fake *harness.FakeSSOOIDC) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_SSO_OIDC": fake.URL, "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_CONFIG_FILE": dir + "/config", "AWS_SHARED_CREDENTIALS_FILE": dir + "/credentials",
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_PROFILE": "", "AWS_ENDPOINT_URL": "",
	} {
		t.Setenv(k, v)
	}
}

func TestBrowserIdC(t *testing.T) {
	oidc := harness.NewFakeOIDC(t, "https://identitycenter.amazonaws.com/ssoins-1")
	fake := harness.StartFakeSSOOIDC(t, oidc, "https://identitycenter.amazonaws.com/ssoins-1", "bob@example.com", "redshift-aud")
	idcEnv(t, fake)
	fake.SetPending(1) // polled once
	b := &harness.Browser{}
	useBrowser(t, b, "")
	var logged bytes.Buffer
	port := freePort(t)
	idc := &idcBrowser{issuerURL: fake.IssuerURL, region: "us-east-1", port: port, timeout: time.Minute,
		logger: slog.New(slog.NewTextHandler(&logged, nil))}
	for i := 0; i < 2; i++ {
		token, exp, err := idc.login(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "bob@example.com", claims(t, token)["upn"])
		assert.WithinDuration(t, time.Now().Add(time.Hour), exp, time.Minute)
		assert.NotContains(t, logged.String(), token)
		portFree(t, port)
	}
	assert.Equal(t, 1, fake.Calls("RegisterClient"), "the client is registered once while its secret is valid")
	assert.Equal(t, 2, fake.Calls("authorize"))
	assert.Equal(t, 3, fake.Calls("CreateToken"), "polled while pending")
	assert.Contains(t, logged.String(), fake.URL+"/authorize?")
	opened, status, errs := b.Wait()
	assert.Equal(t, 2, opened)
	assert.Equal(t, []int{200, 200}, status)
	assert.Empty(t, errs)
}

func TestBrowserIdCRefused(t *testing.T) {
	oidc := harness.NewFakeOIDC(t, "https://identitycenter.amazonaws.com/ssoins-2")
	fake := harness.StartFakeSSOOIDC(t, oidc, "https://identitycenter.amazonaws.com/ssoins-2", "bob@example.com", "redshift-aud")
	idcEnv(t, fake)
	for _, tc := range []struct {
		name, issuer, region string
		hostile              string
		tamper               func(url.Values)
		step, want           string
	}{
		{name: "wrong state", tamper: func(v url.Values) { v.Set("state", "FORGED") }, step: stepBrowser, want: "state is not the one sent"},
		{name: "another code", tamper: func(v url.Values) { v.Set("code", "code-FORGED") }, step: stepCreateToken, want: "InvalidGrantException: Invalid grant provided"},
		{name: "issuer", issuer: "https://other.example", step: stepRegisterClient, want: "InvalidRequestException: Invalid issuer URL"},
		{name: "html", hostile: "html", step: stepCreateToken, want: "deserialization failed"},
		{name: "huge", hostile: "huge", step: stepCreateToken, want: "the answer is larger than 1048576 bytes"},
		{name: "region", region: "us-east-1.evil.example/x", step: stepRegisterClient, want: "is not an AWS region"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &harness.Browser{Tamper: tc.tamper}
			printed := useBrowser(t, b, "")
			fake.SetFault(harness.IdPFault(tc.hostile))
			defer fake.SetFault(harness.FaultNone)
			idc := &idcBrowser{issuerURL: fake.IssuerURL, region: "us-east-1", port: freePort(t), timeout: 10 * time.Second}
			if tc.issuer != "" {
				idc.issuerURL = tc.issuer
			}
			if tc.region != "" {
				idc.region = tc.region
			}
			_, _, err := idc.login(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), "redshift-ka: "+tc.step+" for BrowserIdcAuthPlugin (issuer ")
			assert.Contains(t, err.Error(), tc.want)
			for _, s := range []string{"code-", "cs-", "FORGED", "eyJ"} {
				assert.NotContains(t, err.Error(), s, "no code, client secret or token shown")
			}
			b.Wait()
			portFree(t, idc.port)
			if tc.step != stepRegisterClient {
				assert.Contains(t, printed.String(), "redshift-ka: BrowserIdcAuthPlugin: log in to Amazon Redshift in a browser at:\n"+fake.URL+"/authorize?",
					"without a logger the URL is printed")
			}
		})
	}
}

// TestBrowserSAMLRefused: login_url not https, a listen_port in use, no
// answer within idp_response_timeout: errors that say so, bounded by the
// setting, the port free afterwards.
func TestBrowserSAMLRefused(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	free := freePort(t)
	for _, tc := range []struct {
		name string
		s    dsnparse.SAML
		want string
	}{
		{"http", dsnparse.SAML{LoginURL: "http://idp.example/sso", ListenPort: free}, "login_url must be an https URL"},
		{"port in use", dsnparse.SAML{LoginURL: "https://idp.example/sso", ListenPort: busyPort}, "listen_port " + strconv.Itoa(busyPort) + " is in use"},
		{"no answer", dsnparse.SAML{LoginURL: "https://idp.example/sso", ListenPort: free, ResponseTimeout: time.Second},
			"no answer from the browser within idp_response_timeout (1s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &harness.Browser{Skip: true}
			printed := useBrowser(t, b, "")
			start := time.Now()
			_, err := browserSAML(context.Background(), nil, tc.s, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Less(t, time.Since(start), 3*tc.s.ResponseTimeout+30*time.Second, "bounded by idp_response_timeout, generously")
			if tc.name == "no answer" {
				assert.Contains(t, printed.String(), "https://idp.example/sso")
			}
			b.Wait()
			portFree(t, free)
		})
	}
}

// TestBrowserSourceCanceled: a connect that gives up while the browser
// sign-in is under way gets an error naming the plugin, and, as no other
// connect waits, the sign-in stops: its listener is gone.
func TestBrowserSourceCanceled(t *testing.T) {
	b := &harness.Browser{Skip: true}
	useBrowser(t, b, "http://127.0.0.1:1")
	port := freePort(t)
	n := &dsnparse.Native{Plugin: "BrowserAzureOAuth2CredentialsProvider", IdPType: "AzureAD", Tenant: "t-" + t.Name(), ClientID: "c",
		ListenPort: port, ResponseTimeout: time.Minute}
	src, err := newAzureBrowserSource(n, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = src.Token(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.EqualError(t, err, "redshift-ka: browser sign-in for BrowserAzureOAuth2CredentialsProvider: context deadline exceeded")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			ln.Close()
			break
		}
		require.True(t, time.Now().Before(deadline), "the listener outlived the connect")
	}
	steps := src.(interface{ Steps() []backend.Step }).Steps()
	require.Len(t, steps, 2)
	assert.Equal(t, stepBrowser, steps[0].Name)
	assert.Equal(t, stepAzureToken, steps[1].Name)
}

// TestBrowserSAMLLogger: the SAML browser login shows its URL with the
// driver's logger at info level, not on standard error.
func TestBrowserSAMLLogger(t *testing.T) {
	samlEnv(t)
	b := &harness.Browser{Skip: true}
	printed := useBrowser(t, b, "")
	var logged bytes.Buffer
	d := samlDSN(dsnparse.SAML{Plugin: pluginBrowserSAML, LoginURL: "https://idp.example/sso/redshift", ListenPort: freePort(t), ResponseTimeout: time.Second})
	d.DisableCache = true
	bl, err := newLogin(d, slog.New(slog.NewTextHandler(&logged, nil)))
	require.NoError(t, err)
	_, err = bl.Credentials(context.Background())
	require.ErrorContains(t, err, "browser sign-in for cluster etl-prod: ")
	assert.ErrorContains(t, err, "no answer from the browser within idp_response_timeout (1s)")
	b.Wait()
	assert.Regexp(t, `level=INFO msg="redshift-ka: log in to Amazon Redshift in a browser" plugin=BrowserSamlCredentialsProvider url=https://idp.example/sso/redshift`, logged.String())
	assert.Empty(t, printed.String())
}

// TestBrowserIdCNoProfile: a shared configuration that does not load
// (AWS_PROFILE naming no profile) does not fail the unsigned SSO-OIDC
// calls, which still go to the environment's endpoint; the SDK logs to
// the login's logger, not to stderr.
func TestBrowserIdCNoProfile(t *testing.T) {
	oidc := harness.NewFakeOIDC(t, "https://identitycenter.amazonaws.com/ssoins-3")
	fake := harness.StartFakeSSOOIDC(t, oidc, "https://identitycenter.amazonaws.com/ssoins-3", "bob@example.com", "redshift-aud")
	idcEnv(t, fake)
	t.Setenv("AWS_PROFILE", "nope")
	b := &harness.Browser{}
	useBrowser(t, b, "")
	var logged bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	idc := &idcBrowser{issuerURL: fake.IssuerURL, region: "us-east-1", port: freePort(t), timeout: time.Minute, logger: logger}
	token, _, err := idc.login(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "bob@example.com", claims(t, token)["upn"])
	b.Wait()
	cfg := idcConfig(context.Background(), "us-east-1", logger)
	cfg.Logger.Logf("WARN", "a line %d", 1)
	assert.Contains(t, logged.String(), "AWS SDK: a line 1", "the SDK's lines go to the logger")
	t.Setenv("AWS_PROFILE", "")
	cfg = idcConfig(context.Background(), "us-east-1", logger)
	assert.IsType(t, sdkLogger{}, cfg.Logger, "with a configuration that loads too")
}

// TestBrowserClock: the browser plugins date their tokens by the clock
// the cache schedules by (internal/clock), not the wall clock: a token
// whose expiration came from the wall clock would be stale, or fresh, to
// the cache at the wrong time.
func TestBrowserClock(t *testing.T) {
	base := time.Now().Add(240 * time.Hour)
	t.Cleanup(clock.Set(func() time.Time { return base }))

	fetches := 0
	n := &dsnparse.Native{Plugin: pluginAzureOAuth2, Scope: "clock-" + strconv.FormatInt(time.Now().UnixNano(), 10)}
	src := browserSource(n, nil, time.Minute, nil, func(context.Context) (string, time.Time, error) {
		fetches++
		return "opaque-token", time.Time{}, nil // no expires_in: the default lifetime
	})
	for range 2 {
		_, err := src.Token(context.Background())
		require.NoError(t, err)
	}
	assert.Equal(t, 1, fetches, "the default lifetime counts from the cache's clock: the second connect is served")

	oidc := harness.NewFakeOIDC(t, "https://login.microsoftonline.com/tenant-1/v2.0")
	fake := harness.StartFakeAzureOAuth2(t, oidc, "tenant-1", "client-1", "alice@example.com")
	b := &harness.Browser{}
	useBrowser(t, b, fake.URL)
	a := &azureBrowser{tenant: "tenant-1", clientID: "client-1", scope: "api://redshift-app/User.Read", port: freePort(t), timeout: time.Minute}
	_, exp, err := a.login(context.Background())
	require.NoError(t, err)
	assert.WithinDuration(t, base.Add(time.Hour), exp, time.Minute, "Azure: expires_in from the cache's clock")
	b.Wait()

	sso := harness.StartFakeSSOOIDC(t, oidc, "https://identitycenter.amazonaws.com/ssoins-4", "bob@example.com", "redshift-aud")
	idcEnv(t, sso)
	b = &harness.Browser{}
	useBrowser(t, b, "")
	idc := &idcBrowser{issuerURL: sso.IssuerURL, region: "us-east-1", port: freePort(t), timeout: time.Minute}
	_, exp, err = idc.login(context.Background())
	require.NoError(t, err)
	assert.WithinDuration(t, base.Add(time.Hour), exp, time.Minute, "IdC: expiresIn from the cache's clock")
	b.Wait()
}

// TestIdCRegisterPerKey: a RegisterClient under way for one issuer does
// not hold up another issuer's login.
func TestIdCRegisterPerKey(t *testing.T) {
	received := make(chan struct{}, 1)
	release := make(chan struct{})
	answer := func(block bool) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if block {
				received <- struct{}{}
				<-release
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"clientId":"c","clientSecret":"cs-x","clientSecretExpiresAt":%d}`, time.Now().Add(time.Hour).Unix())
		}))
	}
	slow, fast := answer(true), answer(false)
	defer slow.Close()
	defer fast.Close()
	defer close(release)
	client := func(url string) *ssooidc.Client {
		return ssooidc.New(ssooidc.Options{Region: "us-east-1", BaseEndpoint: aws.String(url)})
	}
	suffix := strconv.FormatInt(time.Now().UnixNano(), 10)
	a := &idcBrowser{issuerURL: "https://a.example/" + suffix, region: "us-east-1"}
	b := &idcBrowser{issuerURL: "https://b.example/" + suffix, region: "us-east-1"}
	slowDone := make(chan error, 1)
	go func() {
		_, err := a.register(context.Background(), client(slow.URL), "http://127.0.0.1:7890")
		slowDone <- err
	}()
	harness.Await(t, received, 10*time.Second, "issuer a's RegisterClient")
	fastDone := make(chan error, 1)
	go func() {
		_, err := b.register(context.Background(), client(fast.URL), "http://127.0.0.1:7890")
		fastDone <- err
	}()
	require.NoError(t, harness.Await(t, fastDone, 10*time.Second, "issuer b's RegisterClient while a's is under way"))
	// Another login for issuer a waits for a's registration only as long
	// as its own context lets it.
	ctx, cancel := context.WithCancel(context.Background())
	waitDone := make(chan error, 1)
	go func() {
		_, err := a.register(ctx, client(slow.URL), "http://127.0.0.1:7890")
		waitDone <- err
	}()
	cancel()
	require.ErrorIs(t, harness.Await(t, waitDone, 10*time.Second, "a login that gave up while a's RegisterClient is under way"), context.Canceled)
	release <- struct{}{}
	require.NoError(t, harness.Await(t, slowDone, 10*time.Second, "issuer a's RegisterClient"))
}
