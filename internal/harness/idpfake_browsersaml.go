//go:build linux

package harness

import (
	"html"
	"net/http"
	"net/http/httptest"
	"sync"
)

// FakeBrowserSAML is an IdP's IdP-initiated sign-in for the Redshift
// application, as BrowserSamlCredentialsProvider's login_url opens it in
// a browser with a session: GET /sso answers the SAML HTTP-POST binding's
// page (SAML 2.0 Bindings, section 3.5.4: a form whose hidden SAMLResponse
// input the page's script posts to the assertion consumer service URL),
// the ACS URL being the application's (the login's listener). Over HTTPS
// with a self-signed certificate, which [Browser] trusts.
type FakeBrowserSAML struct {
	// LoginURL is the sign-in's URL, login_url.
	LoginURL string

	mu      sync.Mutex
	acs     string
	claims  SAMLClaims
	signIns int
}

// StartFakeBrowserSAML starts an IdP whose assertions s signs, saying
// claims, posted to acs; stopped with the test.
func StartFakeBrowserSAML(t T, s *SAMLSigner, claims SAMLClaims, acs string) *FakeBrowserSAML {
	t.Helper()
	f := &FakeBrowserSAML{acs: acs, claims: claims}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/sso" {
			http.NotFound(w, r)
			return
		}
		f.mu.Lock()
		f.signIns++
		acs, claims := f.acs, f.claims
		f.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<html><body onload="document.forms[0].submit()"><form method="POST" name="hiddenform" action="` + html.EscapeString(acs) + `">` +
			`<input type="hidden" name="SAMLResponse" value="` + html.EscapeString(s.Response(claims)) + `" />` +
			`<noscript><input type="submit" value="Continue" /></noscript></form></body></html>`))
	}))
	t.Cleanup(srv.Close)
	f.LoginURL = srv.URL + "/sso"
	return f
}

// SignIns returns how many sign-ins it answered.
func (f *FakeBrowserSAML) SignIns() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.signIns
}
