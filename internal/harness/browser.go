//go:build linux

package harness

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/redshift-ka/redshift-ka/internal/htmlform"
)

// Browser is the tests' user at a browser, for the browser plugins: set
// its Open as internal/browser.Open. It follows the identity provider's
// redirects and posts a form_post page's form (the form of a [FakeAzureOAuth2]),
// read with internal/htmlform as the SAML plugins read pages,
// as a browser with JavaScript does, until the answer reaches the login's
// loopback listener.
type Browser struct {
	// Tamper, if set, changes the answer on its way to the listener (a
	// forged state, a code of another login).
	Tamper func(v url.Values)
	// Skip, if set, makes Open open nothing: the user never signs in.
	Skip bool

	wg     sync.WaitGroup
	mu     sync.Mutex
	opened int
	status []int
	errs   []error
}

// browserClient follows no redirect itself and keeps no connection; it
// trusts the fakes' self-signed certificates.
var browserClient = &http.Client{
	Timeout:       30 * time.Second,
	Transport:     &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Open visits u in the background, as a browser a launcher started.
func (b *Browser) Open(_ context.Context, u string) error {
	b.mu.Lock()
	b.opened++
	b.mu.Unlock()
	if b.Skip {
		return nil
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		status, err := b.visit(u)
		b.mu.Lock()
		defer b.mu.Unlock()
		b.status = append(b.status, status)
		if err != nil {
			b.errs = append(b.errs, err)
		}
	}()
	return nil
}

// Wait waits for the visits to end and returns how many URLs were
// opened, the listener's status codes, and the visits' errors.
func (b *Browser) Wait() (opened int, status []int, errs []error) {
	b.wg.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.opened, b.status, b.errs
}

// visit follows u to the listener and returns the listener's status.
func (b *Browser) visit(u string) (int, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	start := req.URL.Host // the IdP's; the listener is on another port
	for hop := 0; hop < 10; hop++ {
		loopback := req.URL.Hostname() == "127.0.0.1" || req.URL.Hostname() == "localhost"
		resp, err := browserClient.Do(req)
		if err != nil {
			return 0, err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if loopback && req.URL.Host != start {
			return resp.StatusCode, nil // the listener answered
		}
		switch page := htmlform.Parse(body); {
		case resp.StatusCode/100 == 3:
			next, err := req.URL.Parse(resp.Header.Get("Location"))
			if err != nil {
				return 0, err
			}
			if b.Tamper != nil && (next.Hostname() == "127.0.0.1" || next.Hostname() == "localhost") {
				q := next.Query()
				b.Tamper(q)
				next.RawQuery = q.Encode()
			}
			req, _ = http.NewRequest(http.MethodGet, next.String(), nil)
		case page.Action != "":
			form := url.Values{}
			for _, in := range page.Inputs {
				if in["name"] != "" {
					form.Set(in["name"], in["value"])
				}
			}
			if b.Tamper != nil {
				b.Tamper(form)
			}
			action, err := req.URL.Parse(page.Action)
			if err != nil {
				return 0, err
			}
			req, _ = http.NewRequest(http.MethodPost, action.String(), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		default:
			return resp.StatusCode, fmt.Errorf("harness: the browser stopped at %s: HTTP %d", req.URL.Redacted(), resp.StatusCode)
		}
	}
	return 0, fmt.Errorf("harness: the browser followed 10 redirects from %s", u)
}
