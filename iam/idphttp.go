package iam

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// idpTextLimit bounds the provider's own words (an error description)
// quoted in an error.
const idpTextLimit = 300

// idpAnswer is what an identity provider answered.
type idpAnswer struct {
	status int
	ctype  string // media type, without parameters
	body   []byte
}

// idpDo sends req with hc (samlLogin.idpClient's, bounded by idpTimeout)
// and reads the answer, at most maxPage of it (saml_html.go). Redirects
// are followed as hc follows them, but only to req's own scheme, host and
// port (hc knows no host for Azure AD). step names the request in errors,
// in place of its URL, which may hold a token. Unlike idpExchange, it
// returns an answer of any status: Okta's and Azure AD's refusals are
// JSON to read.
func idpDo(ctx context.Context, hc *http.Client, req *http.Request, step string) (idpAnswer, error) {
	c := *hc
	origin, next := *req.URL, hc.CheckRedirect
	c.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if r.URL.Scheme != origin.Scheme || r.URL.Host != origin.Host {
			return fmt.Errorf("refused a redirect to another host, %s", r.URL.Host)
		}
		if next != nil {
			return next(r, via)
		}
		return nil
	}
	resp, err := c.Do(req.WithContext(ctx))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its URL may hold a token
		}
		return idpAnswer{}, fmt.Errorf("%s: %w", step, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPage+1))
	if err != nil {
		return idpAnswer{}, fmt.Errorf("%s: reading the answer: %w", step, err)
	}
	if len(body) > maxPage {
		return idpAnswer{}, fmt.Errorf("%s: the answer is larger than %d bytes", step, maxPage)
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return idpAnswer{status: resp.StatusCode, ctype: ct, body: body}, nil
}

// isJSON tells whether the answer is JSON by its media type.
func (a idpAnswer) isJSON() bool {
	return a.ctype == "application/json" || strings.HasSuffix(a.ctype, "+json")
}

// notJSON is the error of an answer that should have been JSON.
func (a idpAnswer) notJSON(step string) error {
	ct := a.ctype
	if ct == "" {
		ct = "no media type"
	}
	return fmt.Errorf("%s: answered HTTP %d with %s, not JSON (is this the identity provider's host?)", step, a.status, ct)
}

// idpText is words an identity provider sent, made fit for an error: on
// one line, cut at idpTextLimit, with the secrets given masked.
func idpText(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = maskSecret(s, sec)
		}
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > idpTextLimit {
		s = s[:idpTextLimit] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}
