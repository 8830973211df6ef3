package iam

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/htmlform"
)

// pluginOkta is the plugin's name, as JDBC and redshift_connector spell
// it (ODBC: Okta).
const pluginOkta = "OktaCredentialsProvider"

// oktaDefaultApp is the app name when app_name is not given: JDBC
// OktaCredentialsProvider.handleSamlAssertion, ODBC
// OKTA_DEFAULT_APP_NAME, redshift_connector RedshiftProperty.app_name.
const oktaDefaultApp = "amazon_aws"

func init() { samlProviders[pluginOkta] = samlProvider{"Okta authn", oktaSAML} }

// oktaSAML signs in to Okta and returns the SAML response of the AWS app,
// base64, as Amazon's drivers get it (JDBC OktaCredentialsProvider,
// redshift_connector okta_credentials_provider.py, ODBC
// IAMOktaCredentialsProvider.cpp): POST https://idp_host/api/v1/authn
// with the user and password (Okta's Authentication API,
// https://developer.okta.com/docs/reference/api/authn/) gives a session
// token; GET https://idp_host/home/<app_name>/<app_id>?onetimetoken=<it>
// gives an HTML form whose SAMLResponse input holds the response.
func oktaSAML(ctx context.Context, hc *http.Client, s dsnparse.SAML, _ *slog.Logger) (string, error) {
	if s.AppID == "" {
		return "", errors.New("Okta: app_id is required")
	}
	origin := idpBase(s)
	token, err := oktaAuthn(ctx, hc, origin, s)
	if err != nil {
		return "", err
	}
	return oktaApp(ctx, hc, origin, s, token)
}

// oktaAuthnAnswer is the fields of an Okta authentication transaction
// (https://developer.okta.com/docs/reference/api/authn/#authentication-transaction-object)
// and error (#error-response) that the login reads.
type oktaAuthnAnswer struct {
	Status       string `json:"status"`
	SessionToken string `json:"sessionToken"`
	ErrorCode    string `json:"errorCode"`
	ErrorSummary string `json:"errorSummary"`
}

// oktaAuthn makes Okta's primary authentication and returns the session
// token.
func oktaAuthn(ctx context.Context, hc *http.Client, origin string, s dsnparse.SAML) (string, error) {
	step := "Okta sign-in for user " + quoteUser(s.User) + " (POST " + origin + "/api/v1/authn)"
	body, _ := json.Marshal(map[string]string{"username": s.User, "password": s.Password})
	req, err := http.NewRequest(http.MethodPost, origin+"/api/v1/authn", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("Okta: idp_host %q: %w", s.IdPHost, err)
	}
	// The headers of JDBC's oktaAuthentication and ODBC's GetAuthSessionToken
	// (Accept: application/json, idpJSON's).
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Cache-Control", "no-cache")
	var ans oktaAuthnAnswer
	status, err := idpJSON(ctx, hc, req, step, &ans)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		why := idpText(ans.ErrorCode+" "+ans.ErrorSummary, s.Password)
		if ans.ErrorCode == "E0000004" { // Authentication failed: a wrong user or password
			return "", fmt.Errorf("Okta refused the password for user %s (POST %s/api/v1/authn): %s", quoteUser(s.User), origin, why)
		}
		return "", fmt.Errorf("%s: answered HTTP %d: %s", step, status, why)
	}
	switch {
	case ans.Status == "SUCCESS" && ans.SessionToken != "":
		return ans.SessionToken, nil
	case strings.HasPrefix(ans.Status, "MFA_"):
		// MFA_REQUIRED, MFA_ENROLL, MFA_CHALLENGE: none of Amazon's
		// drivers answers a factor.
		return "", fmt.Errorf("%s: Okta asks for multi-factor authentication (status %s), which %s does not support, as in Amazon's drivers: use a browser plugin, or an Okta policy without MFA for this app",
			step, idpText(ans.Status), pluginOkta)
	case ans.Status == "":
		return "", fmt.Errorf("%s: the answer has no status", step)
	default:
		// LOCKED_OUT, PASSWORD_EXPIRED, PASSWORD_WARN, ...
		return "", fmt.Errorf("%s: Okta did not sign the user in: status %s", step, idpText(ans.Status))
	}
}

// oktaApp gets the app's page with the session token and returns the SAML
// response in its form.
func oktaApp(ctx context.Context, hc *http.Client, origin string, s dsnparse.SAML, token string) (string, error) {
	app := s.AppName
	if app == "" {
		app = oktaDefaultApp
	}
	path := "/home/" + url.PathEscape(app) + "/" + url.PathEscape(s.AppID)
	step := "Okta app (GET " + origin + path + ")"
	req, err := http.NewRequest(http.MethodGet, origin+path+"?onetimetoken="+url.QueryEscape(token), nil)
	if err != nil {
		return "", fmt.Errorf("%s: %w", step, err)
	}
	a, err := idpDo(ctx, hc, req, step)
	if err != nil {
		return "", err
	}
	switch {
	case a.status == http.StatusNotFound:
		return "", fmt.Errorf("%s: Okta has no such app (HTTP 404): check app_id and app_name", step)
	case a.status != http.StatusOK:
		return "", fmt.Errorf("%s: answered HTTP %d", step, a.status)
	}
	saml := htmlform.Parse(a.body).Value("SAMLResponse")
	if saml == "" {
		return "", fmt.Errorf("%s: the page has no SAMLResponse (Okta's sign-in page, if the session token was refused or the app asks for more than a password)", step)
	}
	if _, err := base64.StdEncoding.DecodeString(saml); err != nil {
		return "", fmt.Errorf("%s: the page's SAMLResponse is not base64", step)
	}
	return saml, nil
}

// quoteUser prints a user name for an error, quoted if it holds anything
// but letters, digits and @._-.
func quoteUser(u string) string {
	for _, r := range u {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@._-", r)) {
			return fmt.Sprintf("%q", u)
		}
	}
	if u == "" {
		return `""`
	}
	return u
}
