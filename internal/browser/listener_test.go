package browser

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// client is the test's browser: no connection kept between requests.
var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

var expect = Expect{Path: "/redshift/", State: "s-123", Param: "code"}

// wait runs l.Wait in a goroutine and returns its result's channel.
func wait(ctx context.Context, l *Listener, timeout time.Duration, e Expect) chan error {
	ch := make(chan error, 1)
	go func() {
		v, err := l.Wait(ctx, timeout, e)
		if err == nil && v.Get(e.Param) != "the-code" {
			err = errors.New("wrong parameters: " + v.Encode())
		}
		ch <- err
	}()
	return ch
}

// closedAfter checks that nothing listens on port and no goroutine of the
// listener or its HTTP server is left (where the harness can tell).
func closedAfter(t *testing.T, port int) {
	t.Helper()
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err == nil {
		c.Close()
		t.Errorf("port %d still listening", port)
	}
	if left := goroutinesLeft(); left != "" {
		t.Fatalf("goroutines left:\n%s", left)
	}
}

func redirect(port int, path string, q url.Values) string {
	return "http://127.0.0.1:" + strconv.Itoa(port) + path + "?" + q.Encode()
}

func TestWaitRedirect(t *testing.T) {
	l, err := Listen(0)
	require.NoError(t, err)
	ch := wait(context.Background(), l, time.Minute, expect)
	// A browser asks for its icon too: not the answer.
	resp, err := client.Get(redirect(l.Port(), "/favicon.ico", nil))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	resp, err = client.Get(redirect(l.Port(), "/redshift/", url.Values{"code": {"the-code"}, "state": {"s-123"}}))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), "You can close this window")
	require.NoError(t, <-ch)
	closedAfter(t, l.Port())
}

// TestWaitFormPost: response_mode=form_post, as Azure answers, on a
// listener at a port given; the port is free again afterwards.
func TestWaitFormPost(t *testing.T) {
	free, err := Listen(0)
	require.NoError(t, err)
	port := free.Port()
	free.Close()
	l, err := Listen(port)
	require.NoError(t, err)
	ch := wait(context.Background(), l, time.Minute, expect)
	resp, err := client.PostForm(redirect(port, "/redshift/", nil), url.Values{"code": {"the-code"}, "state": {"s-123"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.NoError(t, <-ch)
	closedAfter(t, port)
	again, err := Listen(port)
	require.NoError(t, err, "the port is free again")
	again.Close()
}

func TestWaitRefused(t *testing.T) {
	huge := strings.Repeat("x", MaxBody+1)
	for _, tc := range []struct {
		name   string
		do     func(port int) (*http.Response, error)
		want   string
		target error
	}{
		{"wrong state", func(p int) (*http.Response, error) {
			return client.Get(redirect(p, "/redshift/", url.Values{"code": {"the-code"}, "state": {"forged"}}))
		}, "state is not the one sent", ErrState},
		{"no state", func(p int) (*http.Response, error) {
			return client.Get(redirect(p, "/redshift/", url.Values{"code": {"the-code"}}))
		}, "state is not the one sent", ErrState},
		{"no code", func(p int) (*http.Response, error) {
			return client.Get(redirect(p, "/redshift/", url.Values{"state": {"s-123"}}))
		}, "has no code", nil},
		{"provider's error", func(p int) (*http.Response, error) {
			return client.Get(redirect(p, "/redshift/", url.Values{"error": {"access_denied"}, "error_description": {"AADSTS65004: User declined"}, "state": {"s-123"}}))
		}, `refused the login: "access_denied": "AADSTS65004: User declined"`, nil},
		{"error without state", func(p int) (*http.Response, error) { // any local process can post to the port
			return client.Get(redirect(p, "/redshift/", url.Values{"error": {"access_denied"}, "error_description": {"x"}}))
		}, "state is not the one sent", ErrState},
		{"error with another state", func(p int) (*http.Response, error) {
			return client.PostForm(redirect(p, "/redshift/", nil), url.Values{"error": {"access_denied"}, "state": {"forged"}})
		}, "state is not the one sent", ErrState},
		{"huge body", func(p int) (*http.Response, error) {
			return client.PostForm(redirect(p, "/redshift/", nil), url.Values{"code": {huge}, "state": {"s-123"}})
		}, "exceeds 1048576 bytes", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Listen(0)
			require.NoError(t, err)
			ch := wait(context.Background(), l, time.Minute, expect)
			if resp, err := tc.do(l.Port()); err == nil {
				resp.Body.Close()
				assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			}
			err = <-ch
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "listener on 127.0.0.1:"+strconv.Itoa(l.Port()))
			assert.NotContains(t, err.Error(), "s-123", "the state sent is not shown")
			assert.NotContains(t, err.Error(), "the-code")
			if tc.target != nil {
				assert.ErrorIs(t, err, tc.target)
			}
			closedAfter(t, l.Port())
		})
	}
}

// TestWaitTimeout: with no answer Wait ends after the timeout, not much
// later, even with a connection open that sends nothing (a browser's
// preconnect).
func TestWaitTimeout(t *testing.T) {
	l, err := Listen(0)
	require.NoError(t, err)
	idle, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(l.Port()))
	require.NoError(t, err)
	defer idle.Close()
	const timeout = 300 * time.Millisecond
	start := time.Now()
	_, err = l.Wait(context.Background(), timeout, expect)
	took := time.Since(start)
	require.ErrorIs(t, err, ErrTimeout)
	assert.Contains(t, err.Error(), "idp_response_timeout (300ms)")
	assert.GreaterOrEqual(t, took, timeout)
	assert.Less(t, took, 3*timeout+30*time.Second, "bounded by the timeout (generously, for a busy machine)")
	closedAfter(t, l.Port())
}

// TestWaitIdleConnection: a connection that sends nothing does not keep
// the answer from arriving on another.
func TestWaitIdleConnection(t *testing.T) {
	l, err := Listen(0)
	require.NoError(t, err)
	idle, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(l.Port()))
	require.NoError(t, err)
	defer idle.Close()
	ch := wait(context.Background(), l, time.Minute, expect)
	resp, err := client.Get(redirect(l.Port(), "/redshift/", url.Values{"code": {"the-code"}, "state": {"s-123"}}))
	require.NoError(t, err)
	resp.Body.Close()
	require.NoError(t, <-ch)
	closedAfter(t, l.Port())
}

// TestWaitAnyPath: with no Path, the answer may come to any path; a
// request without the parameter is not it.
func TestWaitAnyPath(t *testing.T) {
	l, err := Listen(0)
	require.NoError(t, err)
	e := Expect{Param: "code"}
	ch := wait(context.Background(), l, time.Minute, e)
	resp, err := client.Get(redirect(l.Port(), "/favicon.ico", nil))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, err = client.PostForm(redirect(l.Port(), "/acs", nil), url.Values{"code": {"the-code"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.NoError(t, <-ch)
	closedAfter(t, l.Port())
}

func TestWaitCanceled(t *testing.T) {
	l, err := Listen(0)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	ch := wait(ctx, l, time.Minute, expect)
	cancel()
	assert.ErrorIs(t, <-ch, context.Canceled)
	closedAfter(t, l.Port())
}

func TestListenPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	_, err = Listen(port)
	require.ErrorIs(t, err, ErrPortInUse)
	assert.Contains(t, err.Error(), "listen_port "+strconv.Itoa(port)+" is in use")
	_, err = Listen(70000)
	assert.ErrorContains(t, err, "listen_port: want a TCP port 0..65535, got 70000")
}
