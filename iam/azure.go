package iam

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/azurehost"
)

// pluginAzure is the plugin's name, as JDBC and redshift_connector spell
// it (ODBC: AzureAD).
const pluginAzure = "AzureCredentialsProvider"

func init() { samlProviders[pluginAzure] = samlProvider{"Azure AD token endpoint", azureSAML} }

// azureSAML asks Azure AD for a SAML assertion with the user's password
// and returns it wrapped in a SAML response, base64, as Amazon's drivers
// do (JDBC AzureCredentialsProvider.azureOauthBasedAuthentication,
// redshift_connector azure_credentials_provider.py, ODBC
// IAMAzureCredentialsProvider::AzureOauthBasedAuthentication): a POST to
// the v1 token endpoint, https://login.microsoftonline.com/<tenant>/oauth2/token,
// with grant_type=password and
// requested_token_type=urn:ietf:params:oauth:token-type:saml2 answers JSON
// whose access_token is the assertion, base64url.
func azureSAML(ctx context.Context, hc *http.Client, s dsnparse.SAML, _ *slog.Logger) (string, error) {
	switch {
	case s.Tenant == "":
		return "", errors.New("Azure AD: idp_tenant is required")
	case s.ClientID == "":
		return "", errors.New("Azure AD: client_id is required")
	case s.ClientSecret == "":
		return "", errors.New("Azure AD: client_secret is required")
	}
	authority, err := azurehost.Authority(s.Partition)
	if err != nil {
		return "", fmt.Errorf("Azure AD: %w", err)
	}
	endpoint := authority + "/" + url.PathEscape(s.Tenant) + "/oauth2/token"
	step := "Azure AD token request for user " + quoteUser(s.User) + " (POST " + endpoint + ")"
	form := url.Values{
		"grant_type":           {"password"},
		"requested_token_type": {"urn:ietf:params:oauth:token-type:saml2"},
		"username":             {s.User},
		"password":             {s.Password},
		"client_secret":        {s.ClientSecret},
		"client_id":            {s.ClientID},
		"resource":             {s.ClientID},
	}
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("Azure AD: idp_tenant %q: %w", s.Tenant, err)
	}
	return azureTokenSAML(ctx, hc, req, step, func(status int, ans azureAnswer) error { return ans.refusal(status, step, s) })
}

// azureTokenSAML sends req, a form for Azure AD's v1 token endpoint that
// asks for a SAML token, and returns the assertion of the JSON answer in
// the drivers' SAML response, base64; refused is the error of an answer
// with HTTP status other than 200.
func azureTokenSAML(ctx context.Context, hc *http.Client, req *http.Request, step string, refused func(status int, ans azureAnswer) error) (string, error) {
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	var ans azureAnswer
	status, err := idpJSON(ctx, hc, req, step, &ans)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", refused(status, ans)
	}
	if ans.AccessToken == "" {
		return "", fmt.Errorf("%s: the answer has no access_token", step)
	}
	assertion, err := azureAssertion(ans.AccessToken)
	if err != nil {
		return "", fmt.Errorf("%s: %w", step, err)
	}
	// The drivers' minimal response around the assertion: the protocol's
	// namespace, a Success status, the signed assertion as Azure AD gave it.
	var b bytes.Buffer
	b.WriteString(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">`)
	b.WriteString(`<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>`)
	b.Write(assertion)
	b.WriteString(`</samlp:Response>`)
	return base64.StdEncoding.EncodeToString(b.Bytes()), nil
}

// azureAnswer is the fields of the token endpoint's answer that the login
// reads: a token
// (https://learn.microsoft.com/entra/identity-platform/v2-oauth-ropc) or
// an error (https://learn.microsoft.com/entra/identity-platform/reference-error-codes).
type azureAnswer struct {
	AccessToken      string `json:"access_token"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
}

// azureMFA is the AADSTS codes of a sign-in that needs a second factor:
// 50076 and 50079 (MFA required, or to be enrolled), 50074 (strong
// authentication), 50158 (an external challenge).
var azureMFA = []int{50074, 50076, 50079, 50158}

// refusal is the error of an answer with HTTP status other than 200,
// naming what Azure AD refused, with its error and description (as JDBC
// and ODBC quote them) and no secret.
func (ans azureAnswer) refusal(status int, step string, s dsnparse.SAML) error {
	why := idpText(ans.Error+": "+ans.ErrorDescription, s.Password, s.ClientSecret)
	if ans.Error == "" && ans.ErrorDescription == "" {
		why = "no error given"
	}
	switch {
	case slices.ContainsFunc(azureMFA, func(c int) bool { return slices.Contains(ans.ErrorCodes, c) }):
		return fmt.Errorf("%s: Azure AD asks for multi-factor authentication, which %s does not support, as in Amazon's drivers: use BrowserAzureCredentialsProvider: %s",
			step, pluginAzure, why)
	case ans.Error == "invalid_grant" && slices.Contains(ans.ErrorCodes, 50126):
		return fmt.Errorf("Azure AD refused the password for user %s (tenant %s): %s", quoteUser(s.User), s.Tenant, why)
	case ans.Error == "invalid_client" || ans.Error == "unauthorized_client":
		return fmt.Errorf("Azure AD refused the client %s (client_id or client_secret) for tenant %s: %s", s.ClientID, s.Tenant, why)
	}
	return fmt.Errorf("%s: answered HTTP %d: %s", step, status, why)
}

// azureAssertion decodes the access token: base64url, without padding
// (ODBC maps - and _ back and pads; redshift_connector pads and decodes
// urlsafe; JDBC's decoder takes either alphabet). It must be XML.
func azureAssertion(token string) ([]byte, error) {
	t := strings.TrimRight(strings.NewReplacer("+", "-", "/", "_", "&#x3d;", "").Replace(token), "=")
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil {
		return nil, errors.New("the access_token is not base64")
	}
	if !bytes.HasPrefix(bytes.TrimSpace(b), []byte("<")) {
		return nil, errors.New("the access_token is not a SAML assertion (the app may not be set up for SAML)")
	}
	return b, nil
}
