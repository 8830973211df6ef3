package iam

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/redshift-ka/redshift-ka/internal/idptext"
)

// How every plugin talks HTTP to an identity provider: one client, one
// redirect policy, one bounded reader of the answer.

// maxAnswer is the most read of an identity provider's answer: a sign-in
// page, the page that posts the assertion, or JSON.
const maxAnswer = 1 << 20

// idpTimeout bounds one request to the IdP, as the JDBC driver's
// IdpCredentialsProvider.getHttpClient sets 60 s socket and connect
// timeouts; a test seam.
var idpTimeout = 60 * time.Second

// idpRootCAs are the certificate authorities the IdP client trusts; nil:
// the system's. A test seam.
var idpRootCAs *x509.CertPool

// newIdPClient returns the HTTP client of one login at an identity
// provider: a new cookie jar, no kept connections, idpTimeout per
// request, proxy (nil: the environment's, HTTPS_PROXY, as
// redshift_connector's requests), insecure for ssl_insecure as Amazon's
// drivers honour it (JDBC IdpCredentialsProvider.getHttpClient,
// redshift_connector SamlCredentialsProvider.do_verify_ssl_cert), and
// redirects followed, as theirs are, but only to the same origin.
func newIdPClient(proxy *url.URL, insecure bool) *http.Client {
	jar, _ := cookiejar.New(nil)
	proxyFunc := http.ProxyFromEnvironment
	if proxy != nil {
		proxyFunc = http.ProxyURL(proxy)
	}
	tr := &http.Transport{
		Proxy:             proxyFunc,
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{RootCAs: idpRootCAs, InsecureSkipVerify: insecure, MinVersion: tls.VersionTLS12},
		DialContext:       (&net.Dialer{Timeout: idpTimeout}).DialContext,
	}
	return &http.Client{Transport: tr, Jar: jar, Timeout: idpTimeout, CheckRedirect: followSameOrigin}
}

// followSameOrigin follows at most 10 redirects, each over TLS to the
// origin of the first request: a redirect elsewhere would take the
// user's password or code there.
func followSameOrigin(req *http.Request, via []*http.Request) error {
	from := via[0].URL
	switch {
	case len(via) >= 10:
		return errors.New("stopped after 10 redirects")
	case req.URL.Scheme != "https":
		return fmt.Errorf("refused a redirect from %s to %s, without TLS", from.Host, req.URL.Scheme)
	case !sameOrigin(from, req.URL):
		return fmt.Errorf("refused a redirect from %s to another host, %s", from.Host, req.URL.Host)
	}
	return nil
}

// sameOrigin reports whether a and b have the same scheme, host name
// (in any case) and port, the scheme's default port filled in: Okta's
// https://corp.okta.com/app/... is on https://corp.okta.com:443.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && originPort(a) == originPort(b)
}

// originPort is u's port, else its scheme's default.
func originPort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "http") {
		return "80"
	}
	return "443"
}

// idpAnswer is what an identity provider answered.
type idpAnswer struct {
	status int
	ctype  string // media type, without parameters
	body   []byte
}

// idpDo sends req with hc (newIdPClient's) and reads the answer, at most
// maxAnswer of it, of any status: Okta's and Azure AD's refusals are JSON
// to read. step names the request in errors, in place of its URL, which
// may hold a token.
func idpDo(ctx context.Context, hc *http.Client, req *http.Request, step string) (idpAnswer, error) {
	resp, err := hc.Do(req.WithContext(ctx))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its URL may hold a token
		}
		return idpAnswer{}, fmt.Errorf("%s: %w", step, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return idpAnswer{}, fmt.Errorf("%s: reading the answer: %w", step, err)
	}
	if len(body) > maxAnswer {
		return idpAnswer{}, fmt.Errorf("%s: the answer is larger than %d bytes", step, maxAnswer)
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return idpAnswer{status: resp.StatusCode, ctype: ct, body: body}, nil
}

// idpJSON sends req with idpDo and decodes its JSON answer, of any
// status, into v. An answer that is not JSON (a sign-in page where the
// API was expected) is an error that shows none of it.
func idpJSON(ctx context.Context, hc *http.Client, req *http.Request, step string, v any) (status int, err error) {
	req.Header.Set("Accept", "application/json")
	a, err := idpDo(ctx, hc, req, step)
	if err != nil {
		return 0, err
	}
	if a.ctype != "application/json" && !strings.HasSuffix(a.ctype, "+json") {
		ct := a.ctype
		if ct == "" {
			ct = "no media type"
		}
		return a.status, fmt.Errorf("%s: answered HTTP %d with %s, not JSON (is this the identity provider's host?)", step, a.status, ct)
	}
	if err := json.Unmarshal(a.body, v); err != nil {
		return a.status, fmt.Errorf("%s: answered HTTP %d with JSON that does not parse: %v", step, a.status, err)
	}
	return a.status, nil
}

// idpText is words an identity provider sent, made fit for an error: the
// secrets given masked, then idptext.Cut.
func idpText(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = maskSecret(s, sec)
		}
	}
	return idptext.Cut(s)
}
