package iam

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// maxPage is the most read of an IdP's answer: a sign-in page or the page
// that posts the assertion (at most maxAssertion characters of it).
const maxPage = 1 << 20

// idpExchange sends req with hc and returns the answer's body, read up to
// maxPage; what names the step in errors ("ADFS sign-in page at HOST").
func idpExchange(hc *http.Client, req *http.Request, what string) ([]byte, error) {
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPage+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: reading the answer: %w", what, err)
	case len(body) > maxPage:
		return nil, fmt.Errorf("%s: the answer is larger than %d bytes", what, maxPage)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%s answered %s", what, resp.Status)
	}
	return body, nil
}

// idpGet gets the page at u.
func idpGet(ctx context.Context, hc *http.Client, u, what string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return idpExchange(hc, req, what)
}

// idpPost posts form to u, as a browser submits a form.
func idpPost(ctx context.Context, hc *http.Client, u string, form url.Values, what string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return idpExchange(hc, req, what)
}

// htmlPage is what the SAML plugins read of an IdP's page: its input
// elements' attributes (names lower-cased), the action of its first form
// that has one, and the text of the element with id errorText (ADFS's).
type htmlPage struct {
	inputs    []map[string]string
	action    string
	errorText string
}

// parsePage reads page with HTML's tokenizer, as Amazon's drivers read
// it with BeautifulSoup (redshift_connector) or regular expressions
// (JDBC getInputTagsfromHTML, getFormAction).
func parsePage(page []byte) htmlPage {
	var p htmlPage
	z := html.NewTokenizer(bytes.NewReader(page))
	inError := false
	for {
		switch z.Next() {
		case html.ErrorToken:
			return p
		case html.StartTagToken, html.SelfClosingTagToken:
			t := z.Token()
			attrs := map[string]string{}
			for _, a := range t.Attr {
				attrs[strings.ToLower(a.Key)] = a.Val
			}
			switch t.Data {
			case "input":
				p.inputs = append(p.inputs, attrs)
			case "form":
				if p.action == "" {
					p.action = attrs["action"]
				}
			}
			inError = attrs["id"] == "errorText"
		case html.TextToken:
			if inError && p.errorText == "" {
				p.errorText = strings.TrimSpace(string(z.Text()))
			}
		case html.EndTagToken:
			inError = false
		}
	}
}

// samlResponse is the value of the page's SAMLResponse input: the
// assertion the browser would post to AWS.
func (p htmlPage) samlResponse() string {
	for _, in := range p.inputs {
		if in["name"] == "SAMLResponse" {
			return strings.TrimSpace(in["value"])
		}
	}
	return ""
}

// hasPassword reports whether the page asks for a password: a sign-in
// page, shown again after a refused password.
func (p htmlPage) hasPassword() bool {
	for _, in := range p.inputs {
		if strings.EqualFold(in["type"], "password") {
			return true
		}
	}
	return false
}

// postURL is where the page's form posts: its action when it is a path
// on the IdP's host, else the page's own address, as both of Amazon's
// drivers decide (an action on another host is not followed).
func (p htmlPage) postURL(base, page string) string {
	if strings.HasPrefix(p.action, "/") && !strings.HasPrefix(p.action, "//") {
		return base + p.action
	}
	return page
}

// refusedOrMissing is the error of a sign-in whose answer has no
// SAMLResponse: the sign-in page again means a refused password.
func refusedOrMissing(step, host string, answer htmlPage) error {
	if answer.hasPassword() {
		msg := fmt.Sprintf("%s sign-in at %s refused the user's password", step, host)
		if t := answer.errorText; t != "" {
			if len(t) > 200 {
				t = t[:200]
			}
			msg += " (" + t + ")"
		}
		return errors.New(msg)
	}
	return fmt.Errorf("%s sign-in at %s answered with no SAMLResponse", step, host)
}
