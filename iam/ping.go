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

// pluginPing is the PingFederate plugin's name, as Amazon's drivers spell it.
const pluginPing = "PingCredentialsProvider"

func init() { samlProviders[pluginPing] = samlProvider{"Ping sign-in", pingSAML} }

// pingSAML signs the user in with PingFederate's form, as JDBC's
// PingCredentialsProvider.getSamlAssertion and redshift_connector's
// PingCredentialsProvider.get_saml_assertion do: GET
// /idp/startSSO.ping?PartnerSpId=<partner_spid, urn:amazon:webservices by
// default>, put the user in the text input whose id or name is username
// or pf.username (else one whose name holds user or email), the password
// in the one password input whose name holds "pass", the other inputs'
// values as they are, POST them to the form's action, and read the
// SAMLResponse input of the answer.
func pingSAML(ctx context.Context, hc *http.Client, s dsnparse.SAML, _ *slog.Logger) (string, error) {
	if s.IdPHost == "" || s.User == "" || s.Password == "" {
		return "", errors.New(pluginPing + " needs idp_host, and the user and password to sign in to Ping with")
	}
	spid := "urn%3Aamazon%3Awebservices"
	if s.PartnerSPID != "" {
		spid = url.QueryEscape(s.PartnerSPID)
	}
	base := idpBase(s)
	host := strings.TrimPrefix(base, "https://")
	u := base + "/idp/startSSO.ping?PartnerSpId=" + spid
	body, err := idpGet(ctx, hc, u, "Ping sign-in page at "+host)
	if err != nil {
		return "", err
	}
	page := htmlform.Parse(body)
	isText := func(in map[string]string) bool {
		t := strings.ToLower(in["type"])
		return t == "text" || t == "email"
	}
	form := url.Values{}
	var user, pass string // the inputs' names
	for _, in := range page.Inputs {
		name, id := in["name"], in["id"]
		switch {
		case user == "" && isText(in) && (id == "username" || id == "pf.username" || name == "username" || name == "pf.username"):
			user = name
		case strings.EqualFold(in["type"], "password") && strings.Contains(name, "pass"):
			if pass != "" {
				return "", errors.New("the Ping sign-in page at " + host + " has more than one password field")
			}
			pass = name
		case name != "":
			form.Add(name, in["value"])
		}
	}
	if user == "" {
		for _, in := range page.Inputs {
			if name := in["name"]; isText(in) && (strings.Contains(name, "user") || strings.Contains(name, "email")) {
				user = name
				form.Del(name)
			}
		}
	}
	if user == "" || pass == "" {
		return "", errors.New("the Ping sign-in page at " + host + " has no user name or password field")
	}
	form.Set(user, s.User)
	form.Set(pass, s.Password)
	return postSignIn(ctx, hc, "Ping", base, u, page, form)
}
