package iam

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/azurehost"
	"github.com/redshift-ka/redshift-ka/internal/browser"
)

// BrowserAzureCredentialsProvider (ODBC: BrowserAzureAD): the user signs
// in to Azure AD in the browser, which opens the v1 authorize endpoint
//
//	https://login.microsoftonline.com/<idp_tenant>/oauth2/authorize?scope=openid&response_type=code&response_mode=form_post&client_id=..&redirect_uri=http://localhost:<port>/redshift/&state=..
//
// and posts code and state to the listener (listen_port; 0, the default:
// a free port); the code is redeemed at .../oauth2/token (code,
// requested_token_type urn:ietf:params:oauth:token-type:saml2, grant_type
// authorization_code, scope openid, resource and client_id the client id,
// redirect_uri; no client secret) for a SAML assertion, wrapped as
// AzureCredentialsProvider wraps it. As JDBC
// BrowserAzureCredentialsProvider (openBrowser, createAuthorizationRequest,
// extractSamlAssertion, wrapAndEncodeAssertion); redshift_connector
// browser_azure_credentials_provider.py and ODBC
// IAMBrowserAzureCredentialsProvider.cpp send the same fields but always
// listen on a free port.
const pluginBrowserAzure = "BrowserAzureCredentialsProvider"

func init() { samlProviders[pluginBrowserAzure] = samlProvider{stepBrowser, browserAzureSAML} }

// browserAzureSAML returns the SAML response, base64, of a browser sign-in
// to Azure AD. It shows the URL with logger, else on standard error
// (browser.Show).
func browserAzureSAML(ctx context.Context, hc *http.Client, s dsnparse.SAML, logger *slog.Logger) (string, error) {
	switch {
	case s.Tenant == "":
		return "", errors.New("Azure AD: idp_tenant is required")
	case s.ClientID == "":
		return "", errors.New("Azure AD: client_id is required")
	}
	authority, err := azurehost.Authority(s.Partition)
	if err != nil {
		return "", fmt.Errorf("Azure AD: %w", err)
	}
	// The login's error names the step (samlProvider.step); these name the plugin and what failed.
	signIn := pluginBrowserAzure + " (Azure AD tenant " + s.Tenant + ", client_id " + s.ClientID + ")"
	l, err := browser.Listen(s.ListenPort)
	if err != nil {
		return "", fmt.Errorf("%s: %w", signIn, err)
	}
	defer l.Close()
	redirect := "http://localhost:" + strconv.Itoa(l.Port()) + "/redshift/"
	state := randomString(32) // JDBC RandomStateUtil.generateRandomState
	base := authority + "/" + url.PathEscape(s.Tenant) + "/oauth2/"
	q := url.Values{"scope": {"openid"}, "response_type": {"code"}, "response_mode": {"form_post"},
		"client_id": {s.ClientID}, "redirect_uri": {redirect}, "state": {state}}
	browser.Show(ctx, base+"authorize?"+q.Encode(), pluginBrowserAzure, logger)
	v, err := l.Wait(ctx, responseTimeout(s.ResponseTimeout), browser.Expect{Path: "/redshift/", State: state, Param: "code"})
	if err != nil {
		return "", fmt.Errorf("%s: %w", signIn, err)
	}

	code := v.Get("code")
	endpoint := base + "token"
	step := pluginBrowserAzure + ": " + stepAzureToken + " (POST " + endpoint + ")"
	form := url.Values{
		"code":                 {code},
		"requested_token_type": {"urn:ietf:params:oauth:token-type:saml2"},
		"grant_type":           {"authorization_code"},
		"scope":                {"openid"},
		"resource":             {s.ClientID},
		"client_id":            {s.ClientID},
		"redirect_uri":         {redirect},
	}
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("%s: %w", step, err)
	}
	return azureTokenSAML(ctx, hc, req, step, func(status int, ans azureAnswer) error {
		why := idpText(ans.Error+": "+ans.ErrorDescription, code)
		if ans.Error == "" && ans.ErrorDescription == "" {
			why = "no error given"
		}
		return fmt.Errorf("%s: Azure AD refused the authorization code (HTTP %d): %s", step, status, why)
	})
}
