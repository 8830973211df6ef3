package backend

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"slices"

	"github.com/redshift-ka/redshift-ka/dialer"
)

// Resolve, when set, resolves host names for both backends in place of
// the system's resolver. Tests set it to resolve a made-up name (a custom
// domain) to the test server; it is nil otherwise.
var Resolve func(ctx context.Context, host string) ([]string, error)

// ResolveAddr returns addr ("host:port") with its host resolved by
// [Resolve] when that is set and the host is a name; else addr.
func ResolveAddr(ctx context.Context, addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if Resolve == nil || err != nil || net.ParseIP(host) != nil {
		return addr, nil
	}
	ips, err := Resolve(ctx, host)
	if err != nil {
		return "", err
	}
	if len(ips) == 0 {
		return "", &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return net.JoinHostPort(ips[0], port), nil
}

// resolved is the endpoint an IAM login looked up last, and the
// addresses ("ip:port") pgx was given to dial for it.
type resolved struct {
	endpoint string
	addrs    []string
}

// LookupFunc returns pgx's host lookup for p: the endpoint an IAM login
// looks up for the host that stands for it, [Resolve] when set, else
// next. An endpoint comes back as "address:port", which pgx dials as it
// is, through [Prepared.DialFunc].
func (p *Prepared) LookupFunc(next func(ctx context.Context, host string) ([]string, error)) func(ctx context.Context, host string) ([]string, error) {
	lookup := func(ctx context.Context, host string) ([]string, error) {
		if Resolve != nil {
			return Resolve(ctx, host)
		}
		return next(ctx, host)
	}
	if p.Endpoint == nil {
		return lookup
	}
	stand := p.DSN.IAM.LookupHost()
	return func(ctx context.Context, host string) ([]string, error) {
		if host != stand {
			return lookup(ctx, host)
		}
		addr, err := p.Endpoint.Endpoint(ctx)
		if err != nil {
			return nil, err
		}
		h, port, _ := net.SplitHostPort(addr)
		out := []string{addr}
		if net.ParseIP(h) == nil {
			ips, err := lookup(ctx, h)
			if err != nil {
				p.Endpoint.Forget(addr) // a name that no longer resolves may have moved too
				return nil, err
			}
			out = make([]string, len(ips))
			for i, ip := range ips {
				out[i] = net.JoinHostPort(ip, port)
			}
		}
		p.resolved.Store(&resolved{endpoint: addr, addrs: out})
		return out, nil
	}
}

// DialFunc returns dial, which pgx dials with, made to tell an IAM
// login's looked-up endpoint that a dial to it failed, so that the next
// connect looks it up again (a resized or relocated cluster moves).
func (p *Prepared) DialFunc(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if p.Endpoint == nil {
		return dial
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil && network != dialer.LostNetwork { // a refused cancel request says nothing of the endpoint
			if r := p.resolved.Load(); r != nil && slices.Contains(r.addrs, addr) {
				p.Endpoint.Forget(r.endpoint)
			}
		}
		return conn, err
	}
}

// VerifyEndpoint makes tc, for connections to the endpoint an IAM login
// looks up, check the looked-up name where it would check the host name
// (sslmode verify-full), not the name that stands for it. It changes tc
// in place, which must be the configuration pgx just parsed: pgx keeps a
// client certificate (sslcert, sslkey) by that pointer, and a copy
// would lose it. Other configurations are left as they are.
func (p *Prepared) VerifyEndpoint(tc *tls.Config) {
	if tc == nil || p.Endpoint == nil || tc.InsecureSkipVerify {
		return
	}
	roots := tc.RootCAs
	tc.InsecureSkipVerify = true // verified below, with the endpoint's name
	tc.ServerName = ""
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		addr, err := p.Endpoint.Endpoint(context.Background()) // looked up before the dial
		if err != nil {
			return err
		}
		host, _, _ := net.SplitHostPort(addr)
		if len(cs.PeerCertificates) == 0 {
			return errors.New("redshift-ka: the server sent no certificate")
		}
		opts := x509.VerifyOptions{Roots: roots, DNSName: host, Intermediates: x509.NewCertPool()}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		_, err = cs.PeerCertificates[0].Verify(opts)
		return err
	}
}
