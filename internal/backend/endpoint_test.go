package backend_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/internal/backend"
)

// fixedEndpoint is an Endpointer that always answers addr.
type fixedEndpoint string

func (e fixedEndpoint) Endpoint(context.Context) (string, error) { return string(e), nil }
func (e fixedEndpoint) Forget(string)                            {}

// TestVerifyEndpointKeepsClientCert pins what VerifyEndpoint relies on in
// pgx v5.13: pgconn keeps the loader of a client certificate (sslcert,
// sslkey) in Config.clientCertificateLoaders, keyed by the *tls.Config
// ParseConfig made, and prepareTLSConfigForConnect finds it by that
// pointer. VerifyEndpoint changes that config in place: a loopback TLS
// server sees the certificate. A clone of it, which VerifyEndpoint once
// made, sends none; if that half fails, pgx has changed how it keeps the
// certificate, and VerifyEndpoint should be looked at again.
func TestVerifyEndpointKeepsClientCert(t *testing.T) {
	dir := t.TempDir()
	serverCert, serverPEM := newCert(t, dir, "server", x509.ExtKeyUsageServerAuth)
	newCert(t, dir, "client", x509.ExtKeyUsageClientAuth)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	p := &backend.Prepared{Endpoint: fixedEndpoint("localhost:" + port)}
	dsn := "host=127.0.0.1 port=" + port + " user=u sslmode=verify-full connect_timeout=10 sslrootcert=" + serverPEM +
		" sslcert=" + filepath.Join(dir, "client.crt") + " sslkey=" + filepath.Join(dir, "client.key")

	for _, tc := range []struct {
		name  string
		adapt func(cfg *pgconn.Config)
		certs int
	}{
		{"in place", func(cfg *pgconn.Config) { p.VerifyEndpoint(cfg.TLSConfig) }, 1},
		{"a clone (pgx's behaviour, not ours)", func(cfg *pgconn.Config) {
			cfg.TLSConfig = cfg.TLSConfig.Clone()
			p.VerifyEndpoint(cfg.TLSConfig)
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := pgconn.ParseConfig(dsn)
			require.NoError(t, err)
			tc.adapt(cfg)
			got := make(chan int, 1)
			go func() { got <- acceptTLS(ln, serverCert) }()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if conn, err := pgconn.ConnectConfig(ctx, cfg); err == nil {
				conn.Close(ctx) // the server hangs up after the handshake: not expected
			}
			select {
			case n := <-got:
				assert.Equal(t, tc.certs, n, "client certificates the server saw")
			case <-ctx.Done():
				t.Fatal("the server saw no handshake")
			}
		})
	}
}

// acceptTLS accepts one connection, answers its SSLRequest, completes the
// TLS handshake asking for a client certificate, hangs up and returns how
// many certificates the client sent; -1 if the handshake failed.
func acceptTLS(ln net.Listener, cert tls.Certificate) int {
	c, err := ln.Accept()
	if err != nil {
		return -1
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadFull(c, make([]byte, 8)); err != nil { // SSLRequest
		return -1
	}
	if _, err := c.Write([]byte{'S'}); err != nil {
		return -1
	}
	tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert})
	if err := tc.Handshake(); err != nil {
		return -1
	}
	return len(tc.ConnectionState().PeerCertificates)
}

// newCert writes a self-signed certificate for localhost and its key into
// dir as name.crt and name.key, and returns it and the certificate's path.
func newCert(t *testing.T, dir, name string, usage x509.ExtKeyUsage) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	path := filepath.Join(dir, name+".crt")
	require.NoError(t, os.WriteFile(path, certPEM, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".key"), keyPEM, 0o600))
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	return cert, path
}
