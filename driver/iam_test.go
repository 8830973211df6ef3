package driver_test

import (
	"database/sql"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
)

// iamDSNs ask for an IAM login in each form. This test binary does not
// import the iam package.
var iamDSNs = map[string]string{
	"odbc":     "Server=127.0.0.1;Port=1;Database=dev;IAM=1;ClusterID=etl-prod;DbUser=etl;AccessKeyID=AKIAEXAMPLE;SecretAccessKey=s3cr3t-key-value",
	"url":      "postgres://127.0.0.1:1/dev?iam=true&cluster_identifier=etl-prod&db_user=etl",
	"keyvalue": "host=127.0.0.1 port=1 dbname=dev iam=true cluster_identifier=etl-prod db_user=etl",
}

// TestIAMNeedsTheImport: without the iam package, a DSN that asks for IAM
// fails before any dial, in every way in, with an error naming the
// import to add; none links the AWS SDK (see TestNoAWSSDK).
func TestIAMNeedsTheImport(t *testing.T) {
	const want = `add import _ "github.com/redshift-ka/redshift-ka/iam" to the program`
	for name, dsn := range iamDSNs {
		t.Run(name, func(t *testing.T) {
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
				require.ErrorIs(t, err, driver.ErrNoIAM, way)
				assert.Contains(t, err.Error(), want, way)
				assert.NotContains(t, err.Error(), "s3cr3t", way)
			}
		})
	}
}

// TestTokenSourceNeedsTheImport: without the iam package, a DSN whose
// native plugin gets its token at connect time (IdpTokenAuthPlugin with
// AWS keys) fails before any dial on every pgx path, with an error naming
// the import to add and no secret; lib/pq refuses the native login.
func TestTokenSourceNeedsTheImport(t *testing.T) {
	const want = `add import _ "github.com/redshift-ka/redshift-ka/iam" to the program`
	dsn := "Server=127.0.0.1;Port=1;Database=dev;SSLMode=require;plugin_name=IdpTokenAuthPlugin;ClusterID=etl-prod;Region=us-east-1;" +
		"AccessKeyID=ASIAEXAMPLE;SecretAccessKey=s3cr3t-key-value;SessionToken=s3ss10n-token"
	for way, open := range map[string]func() error{
		"sql.Open":        func() error { _, err := sql.Open(driver.Name, dsn); return err },
		"NewConnector":    func() error { _, err := driver.NewConnector(dsn); return err },
		"ParseConfig":     func() error { _, err := driver.ParseConfig(dsn); return err },
		"ParsePoolConfig": func() error { _, err := driver.ParsePoolConfig(dsn); return err },
		"Driver.Open":     func() error { _, err := (&driver.Driver{}).Open(dsn); return err },
		"pq NewConnector": func() error { _, err := rkpq.NewConnector(dsn); return err },
	} {
		err := open()
		require.Error(t, err, way)
		if way != "pq NewConnector" {
			require.ErrorIs(t, err, driver.ErrNoTokenSource, way)
			assert.Contains(t, err.Error(), want, way)
		}
		assert.NotContains(t, err.Error(), "s3cr3t", way)
		assert.NotContains(t, err.Error(), "s3ss10n", way)
	}
}
