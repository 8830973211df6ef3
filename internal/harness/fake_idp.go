//go:build linux

package harness

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// IdPFault is a hostile answer a fake identity provider gives while set
// (SetFault): [FakeOkta] and [FakeAzure] to every request, [FakeSAMLIdP]
// to the sign-in POST, [FakeAzureOAuth2] and [FakeSSOOIDC] to the token
// request.
type IdPFault string

// The faults.
const (
	// FaultNone answers as the provider does.
	FaultNone IdPFault = ""
	// FaultHTML answers 200 with an HTML page without a password field
	// nor a SAMLResponse (a captive portal, a proxy's page) where JSON or
	// the IdP's form is expected.
	FaultHTML IdPFault = "html"
	// FaultHuge answers 200 with a body of HugeBody bytes, streamed, of
	// the media type expected (a JSON string that never ends, for JSON).
	FaultHuge IdPFault = "huge"
	// FaultRedirect answers 302 to the same path at "localhost" in place of
	// the host asked (the same server: Calls("redirected") shows whether
	// the client went).
	FaultRedirect IdPFault = "redirect"
	// FaultPlainRedirect answers 307 to the same host and path over
	// plain HTTP.
	FaultPlainRedirect IdPFault = "redirect-plain"
	// FaultSilent never answers: the request waits until the client gives
	// up or the fake stops, and then gets no answer at all.
	FaultSilent IdPFault = "silent"
	// FaultEchoPassword ([FakeSAMLIdP] only) answers the sign-in page
	// again, quoting the password posted.
	FaultEchoPassword IdPFault = "echo-password"
)

// HugeBody is the size of a [FaultHuge] answer: 100 MB.
const HugeBody = 100 << 20

// idpFaults is the fault in force at a fake IdP, and what its answers
// did; its zero value answers as the IdP does.
type idpFaults struct {
	faultMu    sync.Mutex
	fault      IdPFault
	redirected int        // requests that followed a FaultRedirect
	hugeSent   chan int64 // bytes of each FaultHuge answer, once it ended
	stop       chan struct{}
}

// SetFault makes later requests get the fault f; FaultNone ends it.
func (s *idpFaults) SetFault(f IdPFault) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.fault = f
}

// Fault returns the fault in force.
func (s *idpFaults) Fault() IdPFault {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return s.fault
}

// HugeSent receives, for each [FaultHuge] answer once it ended, how many
// bytes of it the fake could send: fewer than HugeBody when the client
// stopped reading and hung up.
func (s *idpFaults) HugeSent() <-chan int64 { return s.sent() }

func (s *idpFaults) sent() chan int64 {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if s.hugeSent == nil {
		s.hugeSent = make(chan int64, 16)
	}
	return s.hugeSent
}

// serveFault answers r with fault f, if not FaultNone, and says whether it
// did; ctype is the media type the client expects.
func (s *idpFaults) serveFault(w http.ResponseWriter, r *http.Request, f IdPFault, ctype string) bool {
	switch f {
	case FaultHTML:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!DOCTYPE html><html><head><title>Sign in</title></head><body><form method=\"post\"><input name=\"user\"/></form></body></html>")
	case FaultHuge:
		w.Header().Set("Content-Type", ctype)
		open := "<html><body><p>"
		if strings.Contains(ctype, "json") {
			open = `{"token":"`
		}
		n, _ := fmt.Fprint(w, open)
		sent, chunk := int64(n), []byte(strings.Repeat("A", 64<<10))
		for sent < HugeBody {
			m, err := w.Write(chunk)
			sent += int64(m)
			if err != nil {
				break
			}
		}
		ch := s.sent()
		select {
		case ch <- sent:
		default:
		}
	case FaultRedirect:
		scheme, _, port := "https", "", ""
		if r.TLS == nil {
			scheme = "http"
		}
		if _, p, err := net.SplitHostPort(r.Host); err == nil {
			port = ":" + p
		}
		http.Redirect(w, r, scheme+"://localhost"+port+"/redirected"+r.URL.Path, http.StatusFound)
	case FaultPlainRedirect:
		http.Redirect(w, r, "http://"+r.Host+r.URL.Path, http.StatusTemporaryRedirect)
	case FaultSilent:
		s.faultMu.Lock()
		stop := s.stop
		s.faultMu.Unlock()
		select {
		case <-r.Context().Done():
		case <-stop:
		}
		// Abort: an empty answer written now could still reach a client
		// that is closing the connection (its TLS close_notify comes
		// first), which would read it as the IdP's.
		panic(http.ErrAbortHandler)
	default:
		return false
	}
	return true
}

// serveRedirected answers and counts a request that followed a
// FaultRedirect.
func (s *idpFaults) serveRedirected(w http.ResponseWriter, r *http.Request) bool {
	if !strings.HasPrefix(r.URL.Path, "/redirected/") {
		return false
	}
	s.faultMu.Lock()
	s.redirected++
	s.faultMu.Unlock()
	http.Error(w, "redirected", http.StatusTeapot)
	return true
}

// idpServer is the HTTPS server of a fake identity provider, on
// 127.0.0.1 with a self-signed certificate, and what both fakes share:
// faults and call counts.
type idpServer struct {
	// Host and Port are where it listens: 127.0.0.1 and a free port.
	Host string
	Port int
	// URL is https://127.0.0.1:port.
	URL string
	// CertPEM is its certificate, for a client to trust.
	CertPEM []byte

	srv *http.Server
	idpFaults

	mu    sync.Mutex
	calls map[string]int
}

// startIdPServer starts h over HTTPS and stops it when the test ends.
func startIdPServer(t T, s *idpServer, h http.Handler) {
	t.Helper()
	cert, pem, err := SelfSignedCert("127.0.0.1")
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	s.Host, s.Port, s.URL, s.CertPEM = "127.0.0.1", addr.Port, "https://"+addr.String(), pem
	s.calls = map[string]int{}
	s.stop = make(chan struct{})
	s.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go s.srv.Serve(ln)
	t.Cleanup(func() {
		close(s.stop)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.srv.Shutdown(ctx)
	})
}

// Client returns an HTTP client that trusts the fake's certificate.
func (s *idpServer) Client() *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CertPEM)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// Calls returns how many requests of a step the fake got, refused ones
// included: "authn" and "app" (Okta), "token" (Azure), "redirected" (a
// client that followed [FaultRedirect]), "" for all.
func (s *idpServer) Calls(step string) int {
	s.faultMu.Lock()
	redirected := s.redirected
	s.faultMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if step == "redirected" {
		return redirected
	}
	if step == "" {
		n := redirected
		for _, c := range s.calls {
			n += c
		}
		return n
	}
	return s.calls[step]
}

// count adds a request of step and returns the fault in force.
func (s *idpServer) count(step string) IdPFault {
	s.mu.Lock()
	s.calls[step]++
	s.mu.Unlock()
	return s.Fault()
}

// FixedAssertion is an unsigned SAML 2.0 assertion for user, with Amazon's
// role and Redshift attributes: what a fake IdP gives when no signer is
// set.
func FixedAssertion(user string) string {
	return `<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" ID="id-fixed" IssueInstant="2026-01-01T00:00:00Z" Version="2.0">` +
		`<saml2:Issuer>fake-idp</saml2:Issuer><saml2:Subject><saml2:NameID>` + xmlText(user) + `</saml2:NameID></saml2:Subject>` +
		`<saml2:AttributeStatement>` +
		`<saml2:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role"><saml2:AttributeValue>arn:aws:iam::123456789012:role/etl-saml,arn:aws:iam::123456789012:saml-provider/fake</saml2:AttributeValue></saml2:Attribute>` +
		`<saml2:Attribute Name="https://redshift.amazon.com/SAML/Attributes/DbUser"><saml2:AttributeValue>` + xmlText(user) + `</saml2:AttributeValue></saml2:Attribute>` +
		`</saml2:AttributeStatement></saml2:Assertion>`
}

// FixedResponse is [FixedAssertion] in a SAML response, base64, as an IdP
// posts it.
func FixedResponse(user string) string {
	return base64.StdEncoding.EncodeToString([]byte(
		`<saml2p:Response xmlns:saml2p="urn:oasis:names:tc:SAML:2.0:protocol" ID="id-fixed-response" Version="2.0">` +
			`<saml2p:Status><saml2p:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></saml2p:Status>` +
			FixedAssertion(user) + `</saml2p:Response>`))
}
