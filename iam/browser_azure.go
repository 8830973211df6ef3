package iam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redshift-ka/redshift-ka/internal/azurehost"
	"github.com/redshift-ka/redshift-ka/internal/backend"
	"github.com/redshift-ka/redshift-ka/internal/browser"
	"github.com/redshift-ka/redshift-ka/internal/clock"
)

// BrowserAzureOAuth2CredentialsProvider (ODBC: BrowserAzureADOAuth2): the
// OAuth 2.0 authorization code flow of the Microsoft identity platform, as
// JDBC BrowserAzureOAuth2CredentialsProvider runs it (ODBC
// IAMBrowserAzureOAuth2CredentialsProvider.cpp, redshift_connector
// browser_azure_oauth2_credentials_provider.py agree but for the port):
// the browser opens
//
//	https://login.microsoftonline.com/<idp_tenant>/oauth2/v2.0/authorize?scope=openid+<scope>&response_type=code&response_mode=form_post&client_id=..&redirect_uri=http://localhost:<port>/redshift/&state=..
//
// the provider posts code and state to the listener on listen_port (0: a
// free one, as JDBC; ODBC and redshift_connector always take a free one),
// then the code is redeemed at .../oauth2/v2.0/token (code, grant_type
// authorization_code, scope, client_id, redirect_uri) for the JSON
// answer's access_token, the JWT Redshift checks (idp_type AzureAD).

const pluginAzureOAuth2 = "BrowserAzureOAuth2CredentialsProvider"

// azureBrowser is the settings of one BrowserAzureOAuth2 login.
type azureBrowser struct {
	tenant, clientID, scope string
	partition               string // idp_partition: "", "us-gov", "cn"
	port                    int
	timeout                 time.Duration // idp_response_timeout
	logger                  *slog.Logger
}

// Steps are the login's steps, as redshift-ka check shows them.
func (a *azureBrowser) Steps() []backend.Step {
	return []backend.Step{
		{Name: stepBrowser, Detail: "tenant " + a.tenant + ", client_id " + a.clientID + ", listener 127.0.0.1:" + portShown(a.port)},
		{Name: stepAzureToken, Detail: "tenant " + a.tenant},
	}
}

// target is what the login's errors name.
func (a *azureBrowser) target() string {
	return pluginAzureOAuth2 + " (tenant " + a.tenant + ")"
}

// portShown is a listen_port as Steps show it.
func portShown(port int) string {
	if port == 0 {
		return "(a free port)"
	}
	return strconv.Itoa(port)
}

// login runs the flow and returns the access token and its expiration.
func (a *azureBrowser) login(ctx context.Context) (string, time.Time, error) {
	fail := func(step string, err error) (string, time.Time, error) {
		return "", time.Time{}, &Error{API: step, Target: a.target(), Err: err}
	}
	host, err := azurehost.Authority(a.partition)
	if err != nil {
		return fail(stepBrowser, err)
	}
	l, err := browser.Listen(a.port)
	if err != nil {
		return fail(stepBrowser, err)
	}
	defer l.Close()
	redirect := "http://localhost:" + strconv.Itoa(l.Port()) + "/redshift/"
	state := randomString(32)
	base := strings.TrimSuffix(host, "/") + "/" + url.PathEscape(a.tenant) + "/oauth2/v2.0/"
	scope := strings.TrimSpace("openid " + a.scope)
	q := url.Values{"scope": {scope}, "response_type": {"code"}, "response_mode": {"form_post"},
		"client_id": {a.clientID}, "redirect_uri": {redirect}, "state": {state}}
	browser.Show(ctx, base+"authorize?"+q.Encode(), pluginAzureOAuth2, a.logger)
	v, err := l.Wait(ctx, responseTimeout(a.timeout), browser.Expect{Path: "/redshift/", State: state, Param: "code"})
	if err != nil {
		return fail(stepBrowser, err)
	}

	form := url.Values{"code": {v.Get("code")}, "grant_type": {"authorization_code"}, "scope": {scope},
		"client_id": {a.clientID}, "redirect_uri": {redirect}}
	req, err := http.NewRequest(http.MethodPost, base+"token", strings.NewReader(form.Encode()))
	if err != nil {
		return fail(stepAzureToken, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	start := clock.Now() // the cache's clock, which schedules the renewal
	// The answer: RFC 6749 section 5.1, or 5.2's error, as
	// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
	// shows them.
	var out struct {
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
		Error       string          `json:"error"`
		Description string          `json:"error_description"`
	}
	status, err := idpJSON(ctx, newIdPClient(nil, false), req, "POST "+base+"token", &out)
	switch {
	case err != nil:
		return fail(stepAzureToken, err)
	case out.Error != "":
		return fail(stepAzureToken, fmt.Errorf("refused the code: %s: %s", strconv.Quote(idpText(out.Error)), strconv.Quote(idpText(out.Description))))
	case status != http.StatusOK:
		return fail(stepAzureToken, fmt.Errorf("answered HTTP %d", status))
	case out.AccessToken == "":
		return fail(stepAzureToken, errors.New("answered without an access_token"))
	}
	if d := expiresIn(out.ExpiresIn); d > 0 {
		return out.AccessToken, start.Add(d), nil
	}
	return out.AccessToken, jwtExpiry(out.AccessToken), nil
}

// expiresIn reads expires_in, seconds as a number or a string (Azure AD's
// v1 endpoint sends a string); 0 when absent or not positive.
func expiresIn(raw json.RawMessage) time.Duration {
	s := strings.Trim(string(raw), `"`)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 && n < 1<<31 {
		return time.Duration(n) * time.Second
	}
	return 0
}
