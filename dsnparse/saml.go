package dsnparse

import (
	"encoding/json"
	"fmt"
	"time"
)

// SAML is the identity-provider login of an IAM plugin that gets a SAML
// assertion and then AWS credentials from STS AssumeRoleWithSAML
// (plugin_name=OktaCredentialsProvider, ADFS, ...); [IAM.SAML] is zero for
// a DSN without one. The database user and groups may come from the
// assertion at login.
//
// It holds secrets (Password, ClientSecret, Assertion): it prints, and
// encodes to JSON, with them masked, on its own as in the [IAM] that
// holds it.
type SAML struct {
	// Plugin is the plugin's canonical name: AdfsCredentialsProvider,
	// OktaCredentialsProvider, PingCredentialsProvider,
	// AzureCredentialsProvider, BasicSamlCredentialsProvider,
	// BrowserSamlCredentialsProvider or BrowserAzureCredentialsProvider,
	// whatever the DSN's spelling (ODBC's ADFS, Okta, ...).
	Plugin string
	// IdPHost (idp_host) is the identity provider's host name.
	IdPHost string
	// IdPPort (idp_port) is its HTTPS port; 443 when the DSN gives none,
	// as in Amazon's drivers (0 in a SAML built by hand: 443).
	IdPPort int
	// User and Password are the identity provider's user and password:
	// the DSN's user (user, UID) and password (password, PWD), as Amazon's
	// drivers take them for these plugins. Password is a secret.
	User, Password string
	// PreferredRole (preferred_role) is the role to assume among those of
	// the assertion; empty: the first.
	PreferredRole string
	// SSLInsecure (ssl_insecure) skips the check of the identity
	// provider's TLS certificate.
	SSLInsecure bool
	// AppID and AppName (app_id, app_name) name the Okta application;
	// AppName is "amazon_aws" when the DSN gives none.
	AppID, AppName string
	// PartnerSPID (partner_spid, partner_sp_id) is Ping's service provider
	// ID; "urn:amazon:webservices" when the DSN gives none.
	PartnerSPID string
	// LoginToRP (loginToRp, login_to_rp) is the relying party ADFS signs
	// in to; "urn:amazon:webservices" when the DSN gives none.
	LoginToRP string
	// Tenant, ClientID and ClientSecret (idp_tenant, client_id,
	// client_secret) are Azure AD's; ClientSecret is a secret.
	Tenant, ClientID, ClientSecret string
	// Partition (idp_partition) picks Azure's cloud: "" (global),
	// "us-gov" or "cn".
	Partition string
	// Assertion (saml_assertion) is the base64 assertion that
	// BasicSamlCredentialsProvider is given; a secret.
	Assertion string
	// LoginURL (login_url) is the sign-in URL the browser plugins open.
	LoginURL string
	// ListenPort (listen_port) is the loopback port the browser posts the
	// assertion to: 7890 for BrowserSamlCredentialsProvider when the DSN
	// gives none; 0 for BrowserAzureCredentialsProvider: a free port.
	ListenPort int
	// ResponseTimeout (idp_response_timeout) bounds the wait for the
	// browser: 120 s when the DSN gives none.
	ResponseTimeout time.Duration
	// DurationSeconds (duration) asks STS for credentials valid this
	// long, 900..43200; 0: STS's default.
	DurationSeconds int
	// UseHTTPSProxy (idp_use_https_proxy, ODBC) sends the identity
	// provider's requests through the IAM login's HTTPS proxy too.
	UseHTTPSProxy bool
	// DbGroupsFilter (dbgroups_filter, dbGroupsFilter) is a regular
	// expression, in Go's RE2 syntax: the assertion's DbGroups it matches
	// whole are dropped, as JDBC's SamlCredentialsProvider.filterOutGroups
	// and ODBC's FilterDbGroups do; empty: none.
	DbGroupsFilter string
}

// Defaults of the SAML plugins, as Amazon's drivers set them.
const (
	// JDBC SamlCredentialsProvider.m_idpPort, ODBC
	// IAMSamlPluginCredentialsProvider (HTTPS_DEFAULT_PORT).
	defaultIdPPort = 443
	// JDBC BrowserSamlCredentialsProvider.m_listen_port, ODBC
	// IAM_DEFAULT_LISTEN_PORT, redshift_connector RedshiftProperty.listen_port.
	defaultListenPort = 7890
	// JDBC BrowserSamlCredentialsProvider.m_idp_response_timeout, ODBC
	// IAM_DEFAULT_BROWSER_PLUGIN_TIMEOUT, redshift_connector
	// RedshiftProperty.idp_response_timeout.
	defaultResponseTimeout = 120 * time.Second
	// ODBC IAMOktaCredentialsProvider OKTA_DEFAULT_APP_NAME, JDBC
	// OktaCredentialsProvider (m_app_name); redshift_connector's is
	// "amazon_aws_redshift".
	defaultOktaAppName = "amazon_aws"
	// ODBC IAMPingCredentialsProvider DEFAULT_PARTNER_SPID and
	// IAMAdfsCredentialsProvider DEFAULT_LOGINTORP.
	defaultRelyingParty = "urn:amazon:webservices"
)

// Format prints s, for every verb, with Password, ClientSecret and
// Assertion masked as "xxxxx".
func (s SAML) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), redactedSAML(s.masked()))
}

// MarshalJSON encodes s with its secrets masked, as Format prints them.
func (s SAML) MarshalJSON() ([]byte, error) { return json.Marshal(redactedSAML(s.masked())) }

// redactedSAML is a SAML without its methods.
type redactedSAML SAML

// masked returns s with its secrets, where set, replaced by the mask.
func (s SAML) masked() SAML {
	for _, f := range []*string{&s.Password, &s.ClientSecret, &s.Assertion} {
		if *f != "" {
			*f = mask
		}
	}
	return s
}

// finishSAML completes an IAM login with a SAML plugin: the identity
// provider's user and password are the DSN's, and so required where
// Amazon's drivers require them; the AWS credentials come from STS, so
// static keys and a Profile are refused; the database user may come from
// the assertion, so the DSN's user is not taken as DbUser.
func finishSAML(c *collector, iam *IAM, fam *pluginFamily) error {
	if err := c.noStaticCredentials(iam, fam, "STS AssumeRoleWithSAML"); err != nil {
		return err
	}
	v := c.plugVal // a copy: the defaults are the plugin's, not the DSN's
	for i, d := range fam.defaults {
		if v[i] == "" {
			v[i] = d
		}
	}
	s := SAML{Plugin: fam.name, IdPHost: v[plgIdPHost], IdPPort: atoi(v[plgIdPPort]),
		PreferredRole: v[plgPreferredRole], SSLInsecure: v[plgSSLInsecure] == "1",
		AppID: v[plgAppID], AppName: v[plgAppName], PartnerSPID: v[plgPartnerSPID], LoginToRP: v[plgLoginToRP],
		Tenant: v[plgTenant], ClientID: v[plgClientID], ClientSecret: v[plgClientSecret], Partition: v[plgPartition],
		Assertion: v[plgAssertion], LoginURL: v[plgLoginURL], ListenPort: atoi(v[plgListenPort]),
		ResponseTimeout: time.Duration(atoi(v[plgResponseTimeout])) * time.Second,
		DurationSeconds: atoi(v[plgDuration]), UseHTTPSProxy: v[plgUseHTTPSProxy] == "1", DbGroupsFilter: v[plgDbGroupsFilter]}
	if fam.user {
		s.User, s.Password = c.user, c.password
		for _, need := range []struct{ got, key string }{{s.User, "user (UID)"}, {s.Password, "password (PWD)"}} {
			if need.got == "" {
				// JDBC SamlCredentialsProvider.checkRequiredParameters,
				// redshift_connector check_required_parameters; JDBC ADFS
				// falls back to Windows sign-in, which redshift-ka lacks.
				return &ParseError{Key: c.nativeKeys[nativePlugin], Err: reason(ErrMissing,
					fam.name+" needs "+need.key+": the identity provider's, as Amazon's drivers take them")}
			}
		}
	}
	if s.UseHTTPSProxy && iam.HTTPSProxyHost == "" {
		return &ParseError{Key: c.plugKeys[plgUseHTTPSProxy], Err: reason(ErrMissing, "goes with https_proxy_host, which is not given")}
	}
	iam.SAML = s
	c.relabel(func(k *KeyUse) {
		switch {
		case k.Key == c.nativeKeys[nativePlugin] && k.Went == Ours:
			k.To = "plugin " + fam.name
		case fam.user && k.Went == Backend && (k.To == "user" || k.To == "password"):
			// Handed on too, but the IAM login's user and password
			// replace them at every connection.
			k.Went, k.To = Ours, "plugin "+fam.name+": the identity provider's "+k.To
		}
	})
	if c.iamVal[iamDbUser] == "" {
		// The DSN's user is the identity provider's: DbUser comes from
		// the assertion at login (JDBC IamHelper.setClusterCredentials,
		// ODBC IAMSamlPluginCredentialsProvider::GetCredentials).
		iam.DbUser = ""
	}
	return nil
}

// Format prints w, for every verb, with Token masked as "xxxxx".
func (w WebIdentity) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), redactedWebIdentity(w.masked()))
}

// MarshalJSON encodes w with Token masked, as Format prints it.
func (w WebIdentity) MarshalJSON() ([]byte, error) {
	return json.Marshal(redactedWebIdentity(w.masked()))
}

// redactedWebIdentity is a WebIdentity without its methods.
type redactedWebIdentity WebIdentity

// WebIdentity's masked returns w with Token, where set, masked.
func (w WebIdentity) masked() WebIdentity {
	if w.Token != "" {
		w.Token = mask
	}
	return w
}
