package iam

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/redshift-ka/redshift-ka/internal/htmlform"
)

// idpGet gets the page at u; what names the step in errors ("ADFS
// sign-in page at HOST").
func idpGet(ctx context.Context, hc *http.Client, u, what string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return idpPage(ctx, hc, req, what)
}

// idpPost posts form to u, as a browser submits a form.
func idpPost(ctx context.Context, hc *http.Client, u string, form url.Values, what string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return idpPage(ctx, hc, req, what)
}

// idpPage sends req with idpDo and returns the page, which must come with
// HTTP 200.
func idpPage(ctx context.Context, hc *http.Client, req *http.Request, what string) ([]byte, error) {
	a, err := idpDo(ctx, hc, req, what)
	if err != nil {
		return nil, err
	}
	if a.status != http.StatusOK {
		return nil, fmt.Errorf("%s answered %d %s", what, a.status, http.StatusText(a.status))
	}
	return a.body, nil
}

// postURL is where a sign-in page's form posts: its action when it is a
// path on the IdP's host, else the page's own address, as both of
// Amazon's drivers decide (an action on another host is not followed).
func postURL(action, base, page string) string {
	if strings.HasPrefix(action, "/") && !strings.HasPrefix(action, "//") {
		return base + action
	}
	return page
}

// postSignIn posts form where the sign-in page at pageURL posts and
// returns the SAMLResponse of the answer; idp names the provider in
// errors ("ADFS"). The sign-in page again means a refused password.
func postSignIn(ctx context.Context, hc *http.Client, idp, base, pageURL string, page htmlform.Page, form url.Values) (string, error) {
	host := strings.TrimPrefix(base, "https://")
	body, err := idpPost(ctx, hc, postURL(page.Action, base, pageURL), form, idp+" sign-in at "+host)
	if err != nil {
		return "", err
	}
	answer := htmlform.Parse(body)
	if a := answer.Value("SAMLResponse"); a != "" {
		return a, nil
	}
	if !answer.HasPassword() {
		return "", fmt.Errorf("%s sign-in at %s answered with no SAMLResponse", idp, host)
	}
	msg := fmt.Sprintf("%s sign-in at %s refused the user's password", idp, host)
	if t := answer.ErrorText; t != "" {
		msg += " (" + idpText(t) + ")"
	}
	return "", errors.New(msg)
}
