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

// IdPFault is a hostile answer a fake identity provider ([FakeOkta],
// [FakeAzure]) gives to every request while set.
type IdPFault string

// The faults.
const (
	// FaultNone answers as the provider does.
	FaultNone IdPFault = ""
	// FaultHTML answers 200 with an HTML page (a captive portal, a proxy's
	// sign-in page) where JSON is expected.
	FaultHTML IdPFault = "html"
	// FaultHuge answers 200 with a body of HugeBody bytes, streamed.
	FaultHuge IdPFault = "huge"
	// FaultRedirect answers 302 to the same path at "localhost" in place of
	// the host asked (the same server: [idpServer.Calls] of "redirected"
	// shows whether the client went).
	FaultRedirect IdPFault = "redirect"
	// FaultHang never answers: the request waits until the client gives up
	// or the fake stops.
	FaultHang IdPFault = "hang"
)

// HugeBody is the size of a [FaultHuge] answer: 100 MB.
const HugeBody = 100 << 20

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

	srv  *http.Server
	stop chan struct{}

	hugeSent chan int64 // bytes of each FaultHuge answer, once it ended

	mu    sync.Mutex
	fault IdPFault
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
	s.hugeSent = make(chan int64, 16)
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

// SetFault makes every later request get the fault f; FaultNone ends it.
func (s *idpServer) SetFault(f IdPFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

// Calls returns how many requests of a step the fake got, refused ones
// included: "authn" and "app" (Okta), "token" (Azure), "redirected" (a
// client that followed [FaultRedirect]), "" for all.
func (s *idpServer) Calls(step string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if step == "" {
		n := 0
		for _, c := range s.calls {
			n += c
		}
		return n
	}
	return s.calls[step]
}

// HugeSent receives, for each [FaultHuge] answer once it ended, how many
// bytes of it the fake could send: fewer than HugeBody when the client
// stopped reading and hung up.
func (s *idpServer) HugeSent() <-chan int64 { return s.hugeSent }

// count adds a request of step and returns the fault in force.
func (s *idpServer) count(step string) IdPFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[step]++
	return s.fault
}

// serveFault answers r with fault f (not FaultNone); ctype is the media
// type of the huge body.
func (s *idpServer) serveFault(w http.ResponseWriter, r *http.Request, f IdPFault, ctype string) {
	switch f {
	case FaultHTML:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!DOCTYPE html><html><head><title>Sign in</title></head><body><form method=\"post\"><input name=\"user\"/></form></body></html>")
	case FaultHuge:
		w.Header().Set("Content-Type", ctype)
		chunk := []byte(strings.Repeat("A", 64<<10))
		var n int64
		for n < HugeBody {
			m, err := w.Write(chunk)
			n += int64(m)
			if err != nil {
				break
			}
		}
		select {
		case s.hugeSent <- n:
		default:
		}
	case FaultRedirect:
		http.Redirect(w, r, "https://localhost:"+fmt.Sprint(s.Port)+"/redirected"+r.URL.Path, http.StatusFound)
	case FaultHang:
		select {
		case <-r.Context().Done():
		case <-s.stop:
		}
	}
}

// serveRedirected counts a request that followed a FaultRedirect.
func (s *idpServer) serveRedirected(w http.ResponseWriter, r *http.Request) bool {
	if !strings.HasPrefix(r.URL.Path, "/redirected/") {
		return false
	}
	s.count("redirected")
	http.Error(w, "redirected", http.StatusTeapot)
	return true
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
