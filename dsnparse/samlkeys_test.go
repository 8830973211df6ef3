package dsnparse

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSAMLKeysSaid: DSN.Keys says plugin_name names the SAML plugin, and
// that the DSN's user and password are the identity provider's, in every
// form (a URL's user info is no key); a plain DSN's user and password still go to the backend.
func TestSAMLKeysSaid(t *testing.T) {
	for form, dsn := range inForms(true, "ann", "pw", kvPair{"plugin_name", "Okta"}, kvPair{"idp_host", "o.example"}, kvPair{"app_id", "a"}) {
		t.Run(form, func(t *testing.T) {
			d, err := Parse(dsn)
			require.NoError(t, err)
			var said []string
			for _, k := range d.Keys {
				if k.Went == Ours && (k.To == "plugin OktaCredentialsProvider" ||
					k.To == "plugin OktaCredentialsProvider: the identity provider's user" ||
					k.To == "plugin OktaCredentialsProvider: the identity provider's password") {
					said = append(said, k.To)
				}
			}
			want := 3
			if form == "url" {
				want = 1 // a URL's user info is not a key: Keys lists none
			}
			assert.Len(t, said, want, "%+v", d.Keys)
		})
	}
	d, err := Parse("host=h user=ann password=pw")
	require.NoError(t, err)
	for _, k := range d.Keys {
		assert.Equal(t, Backend, k.Went, "%+v", k)
	}
}

// TestDbGroupsFilterWithoutSAML: dbgroups_filter in a DSN without a SAML
// plugin is dropped and listed, as JDBC ignores it there, not refused.
func TestDbGroupsFilterWithoutSAML(t *testing.T) {
	d, err := Parse("Server=" + samlHost + ";IAM=1;DbUser=u;dbgroups_filter=x.*")
	require.NoError(t, err)
	require.Len(t, d.Config.Ignored, 1)
	assert.Equal(t, "dbgroups_filter", d.Config.Ignored[0].Key)
	assert.Empty(t, d.IAM.SAML.DbGroupsFilter)
	for _, k := range d.Keys {
		if k.Key == "dbgroups_filter" {
			assert.Equal(t, Dropped, k.Went)
		}
	}
}
