//go:build linux

package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/clock"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// TestIAMRequiresTLS: an IAM DSN whose sslmode may not encrypt is refused
// at sql.Open (and every other way in), naming the key as written, before
// any AWS call: the fake sees none. Each form, each backend.
func TestIAMRequiresTLS(t *testing.T) {
	pg, fake := iamSetup(t)
	plain := map[string]string{ // each form's spelling, as Amazon's drivers' users write it
		"odbc": "SSLMode=disable", "url": "sslmode=prefer", "keyvalue": "sslmode=allow", "jdbc": "ssl=false",
	}
	key := map[string]string{"odbc": "SSLMode", "url": "sslmode", "keyvalue": "sslmode", "jdbc": "ssl"}
	for _, f := range iamForms {
		dsn := f.dsn(pg, etl) + f.sep + plain[f.name]
		t.Run(f.name, func(t *testing.T) {
			for way, open := range map[string]func() error{
				"sql.Open":        func() error { _, err := sql.Open(driver.Name, dsn); return err },
				"sql.Open pq":     func() error { _, err := sql.Open(rkpq.Name, dsn); return err },
				"NewConnector":    func() error { _, err := driver.NewConnector(dsn); return err },
				"pq NewConnector": func() error { _, err := rkpq.NewConnector(dsn); return err },
				"ParseConfig":     func() error { _, err := driver.ParseConfig(dsn); return err },
				"ParsePoolConfig": func() error { _, err := driver.ParsePoolConfig(dsn); return err },
				"Driver.Open":     func() error { _, err := (&driver.Driver{}).Open(dsn); return err },
				"pq Driver.Open":  func() error { _, err := (&rkpq.Driver{}).Open(dsn); return err },
			} {
				err := open()
				require.ErrorIs(t, err, dsnparse.ErrTLSRequired, way)
				assert.Contains(t, err.Error(), "redshift-ka: "+key[f.name]+": IAM login requires TLS", way)
			}
		})
	}
	assert.Equal(t, 0, fake.Calls(""), "no AWS call for a DSN refused")
}

// TestIAMVerifiesServer: without sslmode, an IAM login verifies the
// server's certificate (verify-ca): against the test CA given as
// sslrootcert it connects, over TLS; with the system's roots (no
// sslrootcert) or another CA it is refused. Each form, each backend.
func TestIAMVerifiesServer(t *testing.T) {
	pg, _ := iamSetup(t)
	t.Setenv("HOME", t.TempDir()) // lib/pq would read ~/.postgresql/root.crt
	for _, k := range []string{"PGSSLROOTCERT", "PGSSLMODE"} {
		t.Setenv(k, "") // restored when the test ends
		os.Unsetenv(k)  // lib/pq refuses an empty PGSSLMODE
	}
	other := filepath.Join(t.TempDir(), "other-ca.crt")
	require.NoError(t, os.WriteFile(other, otherCA(t), 0o600))
	ctx := iamCtx(t)
	for _, b := range backends {
		for _, f := range iamForms {
			dsn := f.dsn(pg, etl)
			require.Contains(t, dsn, "sslrootcert="+pg.CAFile+f.sep)
			t.Run(b+"/"+f.name, func(t *testing.T) {
				_, conn := open(t, b, dsn)
				var ssl bool
				require.NoError(t, conn.QueryRowContext(ctx, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl))
				assert.True(t, ssl, "TLS with the test CA")

				for name, untrusted := range map[string]string{
					"system roots": strings.Replace(dsn, "sslrootcert="+pg.CAFile+f.sep, "", 1),
					"another CA":   strings.Replace(dsn, pg.CAFile, other, 1),
				} {
					db, err := sql.Open(b, untrusted)
					require.NoError(t, err)
					err = db.PingContext(ctx)
					db.Close()
					require.Error(t, err, name)
					assert.Contains(t, err.Error(), "certificate signed by unknown authority", name)
				}
			})
		}
	}
}

// otherCA returns a self-signed CA certificate, in PEM, that signed
// nothing the server has.
func otherCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "another CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// clientCert makes a CA and a client certificate it signed, and writes
// the certificate and its key (0600, as lib/pq requires) into dir; it
// returns the CA's PEM, for the server, and the two files' paths.
func clientCert(t *testing.T, dir string) (caPEM []byte, certFile, keyFile string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "redshift-ka test client CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true, IsCA: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "redshift-ka test client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), certFile, keyFile
}

// TestIAMNoHostClientCert: a DSN without a host, with sslmode=verify-full
// and a client certificate (sslcert, sslkey), connects to a server that
// requires one (pg_hba clientcert=verify-ca), through both backends: the
// server saw the certificate. Without sslcert and sslkey it refuses,
// which shows that it asks.
func TestIAMNoHostClientCert(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HOME", dir) // neither backend reads ~/.postgresql
	caPEM, certFile, keyFile := clientCert(t, dir)
	pg := harness.StartPostgresT(t, harness.PostgresOptions{TLS: true, ClientCA: caPEM})
	fake := harness.StartAWSFake(t, pg)
	for k, v := range fake.Env(t.TempDir()) {
		t.Setenv(k, v)
	}
	t.Cleanup(clock.Set(fake.Now))
	fake.AddCluster("etl-prod", "localhost", pg.Port)
	resolveFake(t, map[string]string{"localhost": pg.Host})
	ctx := iamCtx(t)
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			dsn := "dbname=" + pg.Database + " sslmode=verify-full sslrootcert=" + pg.CAFile +
				" iam=true iam_disable_cache=1 db_user=etl cluster_identifier=etl-prod"
			_, conn := open(t, b, dsn+" sslcert="+certFile+" sslkey="+keyFile)
			assert.Equal(t, "IAM:etl", currentUser(t, conn))
			var dn string
			require.NoError(t, conn.QueryRowContext(ctx, "SELECT client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&dn))
			assert.Equal(t, "/CN=redshift-ka test client", dn, "the server saw the client certificate")

			db, err := sql.Open(b, dsn)
			require.NoError(t, err)
			defer db.Close()
			err = db.PingContext(ctx)
			require.Error(t, err, "without a client certificate")
			assert.Contains(t, err.Error(), "certificate")
		})
	}
}
