package browser

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/redshift-ka/redshift-ka/internal/idptext"
)

// MaxBody is the most a request to the listener may carry, URL and body
// together: an OAuth code is a few KB, a SAML response some hundred.
const MaxBody = 1 << 20

// Listener waits on a loopback port for the identity provider's answer,
// which the user's browser brings back: a redirect (GET with the answer in
// the query) or a form POST (response_mode=form_post, SAML's HTTP-POST
// binding).
type Listener struct {
	ln   net.Listener
	port int
}

// Listen listens on 127.0.0.1 at port (0: a free port), as Amazon's
// drivers bind: JDBC's httpserver.Server the loopback address,
// redshift_connector and ODBC's WEBServer 127.0.0.1. A port in use gives
// an error naming listen_port.
func Listen(port int) (*Listener, error) {
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("listen_port: want a TCP port 0..65535, got %d", port)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("listen_port %d is in use on 127.0.0.1, where the browser login listens; free it or set another listen_port (%w)", port, ErrPortInUse)
	}
	if err != nil {
		return nil, fmt.Errorf("listen_port %d: the browser login's listener: %w", port, err)
	}
	return &Listener{ln: ln, port: ln.Addr().(*net.TCPAddr).Port}, nil
}

// ErrPortInUse is the error, wrapped, of a listen_port another program
// (or another login) listens on.
var ErrPortInUse = errors.New("address in use")

// Port is the port listened on.
func (l *Listener) Port() int { return l.port }

// Close stops listening, if [Listener.Wait] has not.
func (l *Listener) Close() error { return l.ln.Close() }

// Expect is what [Listener.Wait] waits for.
type Expect struct {
	// Path is the redirect URI's path; a request for another one
	// (a browser's /favicon.ico) is answered 404 and the wait goes on.
	// Empty: any path, and a request without Param is answered 404 (a
	// SAML IdP posts to the URL its administrator set).
	Path string
	// State is the state sent to the identity provider; the answer must
	// carry it (RFC 6749 section 10.12). Empty: none is checked.
	State string
	// Param is the parameter of the answer: "code", "SAMLResponse".
	Param string
}

// Errors of [Listener.Wait], wrapped.
var (
	// ErrTimeout: no answer within idp_response_timeout.
	ErrTimeout = errors.New("no answer from the browser within idp_response_timeout")
	// ErrState: the answer's state is not the one sent.
	ErrState = errors.New("the answer's state is not the one sent to the identity provider (a forged or stale redirect): refused")
)

// errNoParam is the error of an answer without [Expect.Param].
var errNoParam = errors.New("the answer has no")

// Wait serves the listener until a request for e.Path arrives, at most
// timeout (idp_response_timeout) and while ctx lasts, and returns its
// parameters (query and form). It answers the browser with a short page,
// then stops listening, and returns only once every connection it
// accepted is closed. Wait is called once.
func (l *Listener) Wait(ctx context.Context, timeout time.Duration, e Expect) (url.Values, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, ErrTimeout)
	defer cancel()
	type result struct {
		v   url.Values
		err error
	}
	done := make(chan result, 1)
	var once sync.Once
	finish := func(v url.Values, err error) { once.Do(func() { done <- result{v, err} }) }

	var conns sync.WaitGroup
	srv := &http.Server{
		ReadHeaderTimeout: timeout,
		MaxHeaderBytes:    MaxBody,
		ErrorLog:          log.New(io.Discard, "", 0),
		ConnState: func(_ net.Conn, s http.ConnState) {
			switch s {
			case http.StateNew:
				conns.Add(1)
			case http.StateClosed, http.StateHijacked:
				conns.Done()
			}
		},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			if e.Path != "" && r.URL.Path != e.Path {
				http.NotFound(w, r)
				return
			}
			v, err := answer(w, r, e)
			if e.Path == "" && errors.Is(err, errNoParam) {
				http.NotFound(w, r)
				return
			}
			page(w, err)
			finish(v, err)
		}),
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.Serve(l.ln) // returns when Close closes the listener
	}()

	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		res.err = context.Cause(ctx)
		if errors.Is(res.err, ErrTimeout) {
			res.err = fmt.Errorf("%w (%s)", ErrTimeout, timeout)
		}
	}
	srv.Close() // the listener and every connection: the page was written
	<-served
	conns.Wait()
	if res.err != nil {
		return nil, fmt.Errorf("listener on 127.0.0.1:%d: %w", l.port, res.err)
	}
	return res.v, nil
}

// answer reads the identity provider's answer from r.
func answer(w http.ResponseWriter, r *http.Request, e Expect) (url.Values, error) {
	if len(r.URL.RawQuery) > MaxBody {
		return nil, fmt.Errorf("the answer's URL exceeds %d bytes", MaxBody)
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, fmt.Errorf("the answer exceeds %d bytes", MaxBody)
		}
		return nil, errors.New("the answer is not a form or query")
	}
	v := r.Form
	// The state first, for an error answer too, which carries it (RFC 6749
	// section 4.1.2.1), so that no other local process can end the login
	// with an error of its choosing; a wrong state is refused, as JDBC's
	// BrowserIdcAuthPlugin and BrowserAzureOAuth2CredentialsProvider
	// refuse it before they look at anything else.
	if e.State != "" && subtle.ConstantTimeCompare([]byte(v.Get("state")), []byte(e.State)) != 1 {
		return nil, ErrState
	}
	if code := v.Get("error"); code != "" {
		// The provider's code and description, which hold no secret.
		return nil, fmt.Errorf("the identity provider refused the login: %s: %s", shown(code), shown(v.Get("error_description")))
	}
	if v.Get(e.Param) == "" {
		return nil, fmt.Errorf("%w %s", errNoParam, e.Param)
	}
	return v, nil
}

// shown is s as idptext.Cut makes it, quoted.
func shown(s string) string { return strconv.Quote(idptext.Cut(s)) }

// page answers the browser: the login goes on, or failed.
func page(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	msg := "You are logged in to Amazon Redshift. You can close this window."
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		msg = "The login to Amazon Redshift failed; the program that asked for it says why. You can close this window."
	}
	io.WriteString(w, "<!DOCTYPE html><html><head><title>redshift-ka</title></head><body><p>"+msg+"</p></body></html>\n")
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}
