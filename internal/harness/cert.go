//go:build linux

package harness

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// writeCert writes a new self-signed certificate and its key into the data
// directory, sets p.CertPEM and returns the files' paths.
func (p *Postgres) writeCert(su serverUser) (certFile, keyFile string, err error) {
	certPEM, keyPEM, err := selfSignedCert(p.Host)
	if err != nil {
		return "", "", err
	}
	certFile = filepath.Join(p.Dir, "server.crt")
	keyFile = filepath.Join(p.Dir, "server.key")
	if err := writeOwned(certFile, certPEM, 0o644, su); err != nil {
		return "", "", err
	}
	// The server refuses a key others can read.
	if err := writeOwned(keyFile, keyPEM, 0o600, su); err != nil {
		return "", "", err
	}
	p.CertPEM = certPEM
	p.CAFile = filepath.Join(p.base, "ca.crt")
	if err := os.WriteFile(p.CAFile, certPEM, 0o644); err != nil {
		return "", "", fmt.Errorf("harness: %w", err)
	}
	return certFile, keyFile, nil
}

// selfSignedCert makes an ECDSA P-256 key and a certificate for it, signed by
// itself and valid for host, 127.0.0.1, ::1 and localhost for a day.
func selfSignedCert(host string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("harness: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("harness: serial number: %w", err)
	}
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	if ip := net.ParseIP(host); ip != nil && !ip.IsLoopback() {
		ips = append(ips, ip)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: host, Organization: []string{"redshift-ka integration test"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           ips,
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("harness: create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("harness: marshal key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}

// SelfSignedCert returns a new certificate for a server of the tests
// (valid for host, 127.0.0.1, ::1 and localhost for a day, signed by
// itself), and its PEM, for a client's sslrootcert.
func SelfSignedCert(host string) (tls.Certificate, []byte, error) {
	certPEM, keyPEM, err := selfSignedCert(host)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	return c, certPEM, err
}
