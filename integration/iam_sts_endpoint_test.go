//go:build linux

package integration

import (
	"database/sql"
	"fmt"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// TestIAMStsEndpointURL: with AWS_ENDPOINT_URL_STS at a closed port, a
// DSN's StsEndpointUrl takes BasicSamlCredentialsProvider's
// AssumeRoleWithSAML and JwtIamAuthPlugin's AssumeRoleWithWebIdentity to
// the fake, in every form, and the login reaches the server; the same DSN
// without it fails at the closed port, naming the STS step. With
// dbgroups_filter (dbGroupsFilter in JDBC), the assertion's groups it
// matches whole are not asked for.
func TestIAMStsEndpointURL(t *testing.T) {
	fx := samlSetup(t)
	closed := fmt.Sprintf("http://127.0.0.1:%d", closedPort(t))
	t.Setenv("AWS_ENDPOINT_URL_STS", closed)
	oidc := harness.NewFakeOIDC(t, "https://oidc.example.com/fake")
	fx.fake.AllowWebIdentity(webRole, oidc, webAudience)
	fx.claims.DbGroups = []string{"Sales", "admin_x", "ops"}
	ctx := iamCtx(t)
	ping := func(dsn string) error {
		db, err := sql.Open(driver.Name, dsn)
		require.NoError(t, err)
		defer db.Close()
		return db.PingContext(ctx)
	}
	for i, f := range iamForms {
		esc := func(v string) string { return v }
		filterKey := "dbgroups_filter"
		if f.name == "url" || f.name == "jdbc" {
			esc = url.QueryEscape
		}
		if f.name == "jdbc" {
			filterKey = "dbGroupsFilter"
		}
		sts := f.sep + "StsEndpointUrl=" + esc(fx.fake.URL)
		t.Run("saml/"+f.name, func(t *testing.T) {
			dsn := samlDSN(fx, f, samlPlugins[2], 1000+i) + f.sep + filterKey + "=" + esc(`admin.*|Ops`)
			err := ping(dsn)
			require.Error(t, err)
			assert.ErrorContains(t, err, "STS AssumeRoleWithSAML")
			assert.ErrorContains(t, err, "connection refused")

			from := len(fx.fake.Requests())
			require.NoError(t, ping(dsn+sts))
			got, other := samlRequests(fx.fake, from)
			require.Len(t, got, 1)
			require.Len(t, other, 1)
			assert.Equal(t, "ann_db", other[0].Get("DbUser"))
			assert.Equal(t, "Sales ops ", other[0].Get("DbGroups.DbGroup.1")+" "+other[0].Get("DbGroups.DbGroup.2")+" "+
				other[0].Get("DbGroups.DbGroup.3"), "admin_x filtered out; ops kept: the filter is case-sensitive")
		})
		t.Run("web/"+f.name, func(t *testing.T) {
			dsn := webDSN(fx.pg, f, webToken(fx.fake, oidc, fmt.Sprintf("sts%d", i)), webRole, nil)
			err := ping(dsn)
			require.Error(t, err)
			assert.ErrorContains(t, err, "STS AssumeRoleWithWebIdentity")
			assert.ErrorContains(t, err, "connection refused")

			from := len(fx.fake.Requests())
			require.NoError(t, ping(dsn+sts))
			got, other := stsRequests(fx.fake, from)
			require.Len(t, got, 1)
			require.Len(t, other, 1)
		})
	}
}
