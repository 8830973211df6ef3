package iam

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/htmlform"
)

// pluginADFS is the ADFS plugin's name, as Amazon's drivers spell it.
const pluginADFS = "AdfsCredentialsProvider"

// adfsLoginToRP is the relying party ADFS signs the user in to when the
// DSN names none (login_to_rp), JDBC AdfsCredentialsProvider's default.
const adfsLoginToRP = "urn:amazon:webservices"

func init() { samlProviders[pluginADFS] = samlProvider{"ADFS sign-in", adfsSAML} }

// adfsSAML signs the user in with ADFS's form, as JDBC's
// AdfsCredentialsProvider.formBasedAuthentication and redshift_connector's
// AdfsCredentialsProvider.form_based_authentication do: GET
// /adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=<login_to_rp>, fill
// the page's inputs (a name holding "username" gets the user, "password"
// the password, "authmethod" its value if any, others their value), POST
// them to the form's action, and read the SAMLResponse input of the
// answer. Windows integrated authentication (no user or password) is not
// supported.
func adfsSAML(ctx context.Context, hc *http.Client, s dsnparse.SAML, _ *slog.Logger) (string, error) {
	switch {
	case s.IdPHost == "":
		return "", errors.New(pluginADFS + " needs idp_host")
	case s.User == "" || s.Password == "":
		return "", errors.New(pluginADFS + " needs the user and password to sign in to ADFS with " +
			"(Windows integrated authentication is not supported)")
	}
	base := idpBase(s)
	host := strings.TrimPrefix(base, "https://")
	rp := s.LoginToRP
	if rp == "" {
		rp = adfsLoginToRP
	}
	u := base + "/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=" + url.QueryEscape(rp)
	body, err := idpGet(ctx, hc, u, "ADFS sign-in page at "+host)
	if err != nil {
		return "", err
	}
	page := htmlform.Parse(body)
	form := url.Values{}
	for _, in := range page.Inputs {
		name, value := in["name"], in["value"]
		switch lower := strings.ToLower(name); {
		case strings.Contains(lower, "username"):
			form.Add(name, s.User)
		case strings.Contains(lower, "authmethod"):
			if value != "" {
				form.Add(name, value)
			}
		case strings.Contains(lower, "password"):
			form.Add(name, s.Password)
		case name != "":
			form.Add(name, value)
		}
	}
	return postSignIn(ctx, hc, "ADFS", base, u, page, form)
}
