package iam

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/browser"
)

// BrowserSamlCredentialsProvider (ODBC: BrowserSAML): the browser opens
// login_url, the IdP's IdP-initiated sign-in for the Redshift
// application, whose assertion consumer service URL is the listener
// (http://localhost:<listen_port>/redshift/, listen_port 7890 by default);
// the IdP's page posts SAMLResponse there (the SAML HTTP-POST binding),
// within idp_response_timeout. As JDBC BrowserSamlCredentialsProvider
// (login_url https only: IdpCredentialsProvider.validateURL);
// redshift_connector browser_saml_credentials_provider.py reads the
// SAMLResponse of a request to any path, as done here.

const pluginBrowserSAML = "BrowserSamlCredentialsProvider"

func init() { samlProviders[pluginBrowserSAML] = samlProvider{"browser sign-in", browserSAML} }

// browserSAML returns the assertion the IdP posts to the listener. It
// shows the URL with logger, else on standard error (browser.Show).
func browserSAML(ctx context.Context, _ *http.Client, s dsnparse.SAML, logger *slog.Logger) (string, error) {
	u, err := url.Parse(s.LoginURL)
	if err != nil || !strings.EqualFold(u.Scheme, "https") || u.Host == "" {
		return "", errors.New("login_url must be an https URL, the IdP's sign-in for the Redshift application")
	}
	port := s.ListenPort
	if port == 0 {
		port = defaultListenPort
	}
	l, err := browser.Listen(port)
	if err != nil {
		return "", err
	}
	defer l.Close()
	browser.Show(ctx, s.LoginURL, pluginBrowserSAML, logger)
	v, err := l.Wait(ctx, responseTimeout(s.ResponseTimeout), browser.Expect{Param: "SAMLResponse"})
	if err != nil {
		return "", err
	}
	return v.Get("SAMLResponse"), nil
}

// samlCallLimit bounds the cached call of a SAML login: a browser's waits
// for a person; 0 for the others (callLimit).
func samlCallLimit(s dsnparse.SAML) time.Duration {
	if s.Plugin != pluginBrowserSAML && s.Plugin != pluginBrowserAzure {
		return 0
	}
	return responseTimeout(s.ResponseTimeout) + 2*callLimit
}
