//go:build linux

package integration

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// BrowserIdcAuthPlugin through the front end, beside browser_test.go's
// login: many connects at once, and a hostile answer.

// TestBrowserIdCLoginOnce: 20 connections dialed at once make one
// RegisterClient, one browser sign-in and one CreateToken: the token is
// cached process-wide, and the connects wait for the one sign-in.
func TestBrowserIdCLoginOnce(t *testing.T) {
	r := startBrowserRig(t, "idc")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	port := loopbackPort(t)
	db, err := sql.Open(driver.Name, r.fe.Server().URL(join(idcKeys("url", r, port), "&")))
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxIdleConns(20)
	accepted := r.idp.Accepted.Load()
	start := time.Now()
	var wg sync.WaitGroup
	conns := make([]*sql.Conn, 20)
	errs := make([]error, 20)
	for i := range conns {
		wg.Go(func() {
			conns[i], errs[i] = db.Conn(ctx)
			if errs[i] == nil {
				errs[i] = conns[i].PingContext(ctx)
			}
		})
	}
	wg.Wait()
	for i := range conns {
		require.NoError(t, errs[i])
		defer conns[i].Close()
	}
	t.Logf("20 concurrent connects: %d RegisterClient, %d browser sign-in, %d CreateToken, %d logins let in, in %v",
		r.sso.Calls("RegisterClient"), r.sso.Calls("authorize"), r.sso.Calls("CreateToken"), r.idp.Accepted.Load()-accepted,
		time.Since(start).Round(time.Millisecond))
	assert.Equal(t, 1, r.sso.Calls("RegisterClient"), "client registrations")
	assert.Equal(t, 1, r.sso.Calls("authorize"), "browser sign-ins")
	assert.Equal(t, 1, r.sso.Calls("CreateToken"), "token requests")
	assert.Equal(t, accepted+20, r.idp.Accepted.Load(), "20 logins with the token")
	opened, _, _ := r.browser.Wait()
	assert.Equal(t, 1, opened, "browser windows")
	listenerGone(t, port)
}

// TestBrowserIdCBadInput: through the front end, a redirect with another
// state, HTML or 100 MB from CreateToken: an error naming the step, in
// bounded time, nothing left listening, no client secret, code or token
// in the error or the log, and the front end let no session in.
func TestBrowserIdCBadInput(t *testing.T) {
	r := startBrowserRig(t, "idc")
	srv := r.fe.Server()
	const timeout = 10 // idp_response_timeout, seconds: Amazon's drivers' least
	for _, tc := range []struct {
		name   string
		tamper func(url.Values)
		fault  harness.IdPFault
		want   []string
	}{
		{name: "wrong state", tamper: func(v url.Values) { v.Set("state", "Xstate9") },
			want: []string{"browser sign-in for BrowserIdcAuthPlugin (issuer ", "state is not the one sent"}},
		{name: "html", fault: harness.FaultHTML, want: []string{"SSO-OIDC CreateToken for BrowserIdcAuthPlugin (issuer ", "deserialization failed"}},
		{name: "huge", fault: harness.FaultHuge, want: []string{"SSO-OIDC CreateToken for BrowserIdcAuthPlugin (issuer ", "the answer is larger than 1048576 bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			useTestBrowser(t, r, &harness.Browser{Tamper: tc.tamper})
			r.sso.SetFault(tc.fault)
			defer r.sso.SetFault(harness.FaultNone)
			port := loopbackPort(t)
			var logged bytes.Buffer
			logger := slog.New(slog.NewTextHandler(safe(&logged), &slog.HandlerOptions{Level: slog.LevelDebug}))
			c, err := driver.NewConnector(srv.URL(join(idcKeys("url", r, port, [2]string{"idp_response_timeout", strconv.Itoa(timeout)}), "&")),
				driver.WithLogger(logger))
			require.NoError(t, err)
			db := sql.OpenDB(c)
			defer db.Close()
			accepted := r.idp.Accepted.Load()
			start := time.Now()
			err = db.PingContext(context.Background())
			took := time.Since(start)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			t.Logf("%s after %s: %v", tc.name, took.Round(time.Millisecond), err)
			// RegisterClient, the wait for the browser, CreateToken: each
			// answered at once here, the wait bounded by the setting.
			assert.Less(t, took, timeout*time.Second+5*time.Second)
			assert.Equal(t, accepted, r.idp.Accepted.Load(), "no session let in")
			r.browser.Wait()
			listenerGone(t, port)
			for _, s := range append(r.sso.Issued(), "Xstate9") {
				assert.NotContains(t, err.Error(), s, "no client secret, code, token or state in the error")
				assert.NotContains(t, logged.String(), s, "no client secret, code or token in the log")
			}
		})
	}
	if errs := r.fe.errors(); len(errs) > 0 {
		t.Log(errs) // the front end saw connections end before a login: expected here
	}
}
