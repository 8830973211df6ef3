//go:build linux

package iam

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/backend"
	"github.com/redshift-ka/redshift-ka/internal/clock"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

const (
	samlRoleETL    = "arn:aws:iam::123456789012:role/etl-saml"
	samlRoleAdmin  = "arn:aws:iam::123456789012:role/admin-saml"
	samlPrincipal  = "arn:aws:iam::123456789012:saml-provider/ADFS"
	hostileSecret  = `p a's"s #;&?%={}w`
	hostileIdPUser = `ann@corp.example`
)

func newTestSigner(t *testing.T) *harness.SAMLSigner {
	return harness.NewSAMLSigner(t, "http://adfs.corp.example/adfs/services/trust", samlPrincipal)
}

// TestParseAssertion: the roles of the Role attribute, in either order,
// and Redshift's attributes; the role picked; bad assertions refused
// naming what is wrong.
func TestParseAssertion(t *testing.T) {
	s := newTestSigner(t)
	a, err := parseAssertion(s.Response(harness.SAMLClaims{
		Roles: []string{samlRoleETL, samlPrincipal + "," + samlRoleAdmin, "arn:aws:iam::1:role/lonely,arn:aws:iam::1:user/x"}, RoleSessionName: "ann",
		DbUser: "ann_db", DbGroups: []string{"Sales", "ETL"}, AutoCreate: "TRUE",
	}))
	require.NoError(t, err)
	assert.Equal(t, []samlRole{{samlRoleETL, samlPrincipal}, {samlRoleAdmin, samlPrincipal}}, a.roles, "a value without a principal is no role")
	assert.Equal(t, samlAttributes{DbUser: "ann_db", DbGroups: []string{"Sales", "ETL"}, AutoCreate: true}, a.attr)
	role, principal, err := a.pick("")
	require.NoError(t, err)
	assert.Equal(t, samlRoleETL+" "+samlPrincipal, role+" "+principal, "the first role")
	role, _, err = a.pick(samlRoleAdmin)
	require.NoError(t, err)
	assert.Equal(t, samlRoleAdmin, role)
	_, _, err = a.pick("arn:aws:iam::123456789012:role/other")
	assert.EqualError(t, err, "the SAML assertion has no role arn:aws:iam::123456789012:role/other (preferred_role); it has "+
		samlRoleETL+", "+samlRoleAdmin)

	a, err = parseAssertion(s.Response(harness.SAMLClaims{Roles: []string{samlRoleETL}, RoleSessionName: "bob", PrincipalFirst: true}))
	require.NoError(t, err)
	assert.Equal(t, []samlRole{{samlRoleETL, samlPrincipal}}, a.roles)
	assert.Equal(t, "bob", a.attr.DbUser, "RoleSessionName when there is no DbUser")

	a, err = parseAssertion(s.Response(harness.SAMLClaims{RoleSessionName: "bob"}))
	require.NoError(t, err)
	_, _, err = a.pick("")
	assert.ErrorContains(t, err, "the SAML assertion has no role")

	// Each bad assertion holds a marker, as such, base64-encoded, or as a
	// run of its bytes: no error quotes any of it.
	const marker = "s3cret-marker"
	for name, bad := range map[string]string{
		"not base64":   "%%%" + marker + "%%%",
		"not XML":      base64.StdEncoding.EncodeToString([]byte("<a>" + marker + "<b></a>")),
		"too long":     strings.Repeat("A", maxAssertion+4),
		"an HTML page": base64.StdEncoding.EncodeToString([]byte("<html><body><p>" + marker + "<br></body></html>")),
	} {
		_, err := parseAssertion(bad)
		assert.Error(t, err, name)
		if err != nil {
			assert.NotContains(t, err.Error(), marker, name)
			assert.NotContains(t, err.Error(), bad[len(bad)/2:len(bad)/2+8], name)
		}
	}
}

// TestSAMLRequest: the assertion's attributes complete
// GetClusterCredentials as JDBC's IamHelper does.
func TestSAMLRequest(t *testing.T) {
	p := &samlLogin{s: dsnparse.SAML{Plugin: pluginBasicSAML}}
	a := samlAttributes{DbUser: "saml_user", DbGroups: []string{"Sales"}, AutoCreate: true}
	r, err := p.request(request{API: apiCluster}, a)
	require.NoError(t, err)
	assert.Equal(t, request{API: apiCluster, DbUser: "saml_user", DbGroups: "Sales", AutoCreate: true}, r)
	r, err = p.request(request{API: apiCluster, DbUser: "dsn_user", DbGroups: "dsn"}, a)
	require.NoError(t, err)
	assert.Equal(t, "dsn_user dsn", r.DbUser+" "+r.DbGroups, "the DSN's first")
	a.AllowOverride, a.ForceLowercase = true, true
	r, err = p.request(request{API: apiCluster, DbUser: "dsn_user"}, a)
	require.NoError(t, err)
	assert.Equal(t, "saml_user sales", r.DbUser+" "+r.DbGroups, "AllowDbUserOverride, ForceLowercase")
	p.s.DbGroupsFilter = `(?i)admin.*|ops`
	a.DbGroups = []string{"Sales", "Admins", "ops", "ops2", "sysadmin"}
	r, err = p.request(request{API: apiCluster}, a)
	require.NoError(t, err)
	assert.Equal(t, "sales,ops2,sysadmin", r.DbGroups, "dbgroups_filter matches whole names, before ForceLowercase")
	r, err = p.request(request{API: apiCluster, DbGroups: "Admins"}, a)
	require.NoError(t, err)
	assert.Equal(t, "Admins", r.DbGroups, "the DSN's groups are not filtered")
	p.s.DbGroupsFilter = ".*"
	r, err = p.request(request{API: apiCluster}, a)
	require.NoError(t, err)
	assert.Equal(t, "", r.DbGroups, "every group filtered out")
	p.s.DbGroupsFilter = "(a"
	_, err = p.request(request{API: apiCluster}, a)
	assert.ErrorContains(t, err, "dbgroups_filter: error parsing regexp")
	p.s.DbGroupsFilter = ""
	r, err = p.request(request{API: apiClusterIAM}, samlAttributes{})
	require.NoError(t, err)
	assert.Equal(t, request{API: apiClusterIAM}, r, "GetClusterCredentialsWithIAM takes no user")
	_, err = p.request(request{API: apiCluster}, samlAttributes{})
	assert.ErrorContains(t, err, "no database user")
}

// samlEnv points the AWS SDK at fake only, with no AWS keys: only STS
// can give credentials; the login clock is the fake's.
func samlEnv(t *testing.T) *harness.AWSFake {
	fake := harness.StartAWSFake(t, nil)
	for k, v := range fake.Env(t.TempDir()) {
		t.Setenv(k, v)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Cleanup(clock.Set(fake.Now))
	return fake
}

// trustIdP makes the IdP client trust idp's certificate.
func trustIdP(t *testing.T, idp *harness.FakeSAMLIdP) {
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(idp.CAPEM))
	old := idpRootCAs
	idpRootCAs = pool
	t.Cleanup(func() { idpRootCAs = old })
}

// samlDSN is an IAM login of cluster etl-prod with plugin s.
func samlDSN(s dsnparse.SAML) *dsnparse.IAM {
	return &dsnparse.IAM{ClusterID: "etl-prod", Region: "us-east-1", SAML: s}
}

func loginOf(t *testing.T, d *dsnparse.IAM) *login {
	bl, err := newLogin(d, nil)
	require.NoError(t, err)
	return bl.(*login)
}

// TestSAMLPluginsLogIn: each plugin gets its assertion, STS
// AssumeRoleWithSAML (unsigned) the credentials for the assertion's
// role, and GetClusterCredentials, signed with them, the database user
// of the assertion.
func TestSAMLPluginsLogIn(t *testing.T) {
	fake := samlEnv(t)
	s := newTestSigner(t)
	fake.AllowSAML(s)
	claims := harness.SAMLClaims{Roles: []string{samlRoleETL}, RoleSessionName: "ann", DbUser: "ann_db", DbGroups: []string{"Sales"}, AutoCreate: "true"}
	adfs := harness.StartFakeSAMLIdP(t, "adfs", s, hostileIdPUser, hostileSecret)
	adfs.SetClaims(claims)
	ping := harness.StartFakeSAMLIdP(t, "ping", s, hostileIdPUser, hostileSecret)
	ping.SetClaims(claims)
	ping.SetPartnerSPID("urn:amazon:webservices:redshift")
	trustIdP(t, adfs) // the two share no certificate: ping is reached with ssl_insecure
	for _, tc := range []struct {
		name string
		s    dsnparse.SAML
		idp  *harness.FakeSAMLIdP
	}{
		{"basic", dsnparse.SAML{Plugin: pluginBasicSAML, Assertion: s.Response(claims)}, nil},
		{"adfs", dsnparse.SAML{Plugin: pluginADFS, IdPHost: adfs.Host, IdPPort: adfs.Port, User: hostileIdPUser, Password: hostileSecret}, adfs},
		{"ping", dsnparse.SAML{Plugin: pluginPing, IdPHost: ping.Host, IdPPort: ping.Port, User: hostileIdPUser, Password: hostileSecret,
			PartnerSPID: "urn:amazon:webservices:redshift", SSLInsecure: true}, ping},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from := len(fake.Requests())
			l := loginOf(t, samlDSN(tc.s))
			assert.Equal(t, tc.s.Plugin, l.Plan().Plugin)
			cr, err := l.Credentials(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "IAM:ann_db", cr.User)
			reqs := fake.Requests()[from:]
			require.Len(t, reqs, 2)
			assert.Equal(t, "AssumeRoleWithSAML", reqs[0].Get("Action"))
			assert.Equal(t, "", reqs[0].Get(harness.FakeKeyParam), "unsigned")
			assert.Equal(t, samlRoleETL+" "+samlPrincipal, reqs[0].Get("RoleArn")+" "+reqs[0].Get("PrincipalArn"))
			assert.Equal(t, "GetClusterCredentials", reqs[1].Get("Action"))
			assert.True(t, strings.HasPrefix(reqs[1].Get(harness.FakeKeyParam), "ASIAFAKE"), "signed with STS's keys")
			assert.Equal(t, "ann_db Sales true", reqs[1].Get("DbUser")+" "+reqs[1].Get("DbGroups.DbGroup.1")+" "+reqs[1].Get("AutoCreate"))
			if tc.idp != nil {
				assert.Equal(t, [2]string{hostileIdPUser, hostileSecret}, func() [2]string { u, p := tc.idp.LastSignIn(); return [2]string{u, p} }())
			}
		})
	}
}

// TestSAMLConcurrentConnects: 20 connects at once make one IdP sign-in,
// one STS call and one GetClusterCredentials; renewing the database
// credentials reuses STS's until they near their expiry.
func TestSAMLConcurrentConnects(t *testing.T) {
	fake := samlEnv(t)
	s := newTestSigner(t)
	s.Now = fake.Now
	fake.AllowSAML(s)
	adfs := harness.StartFakeSAMLIdP(t, "adfs", s, "ann", "pw-ann-1")
	adfs.SetClaims(harness.SAMLClaims{Roles: []string{samlRoleETL}, RoleSessionName: "ann"})
	trustIdP(t, adfs)
	d := samlDSN(dsnparse.SAML{Plugin: pluginADFS, IdPHost: adfs.Host, IdPPort: adfs.Port, User: "ann", Password: "pw-ann-1"})
	release := fake.Hold() // all 20 wait on one call
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := loginOf(t, d).Credentials(context.Background()) // a connector each, as 20 sql.Open would
			errs <- err
		})
	}
	for deadline := time.Now().Add(30 * time.Second); fake.Calls("AssumeRoleWithSAML") == 0; time.Sleep(5 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the connects' STS call reaches the fake")
	}
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	pages, signIns := adfs.Counts()
	assert.Equal(t, [4]int{1, 1, 1, 1}, [4]int{pages, signIns, fake.Calls("AssumeRoleWithSAML"), fake.Calls("GetClusterCredentials")},
		"sign-in pages, sign-ins, AssumeRoleWithSAML, GetClusterCredentials")

	fake.Advance(t, 16*time.Minute) // the database credentials (900 s) expired; STS's (3600 s) not
	_, err := loginOf(t, d).Credentials(context.Background())
	require.NoError(t, err)
	_, signIns = adfs.Counts()
	assert.Equal(t, [3]int{1, 1, 2}, [3]int{signIns, fake.Calls("AssumeRoleWithSAML"), fake.Calls("GetClusterCredentials")})
	fake.Advance(t, 45*time.Minute) // STS's too
	_, err = loginOf(t, d).Credentials(context.Background())
	require.NoError(t, err)
	_, signIns = adfs.Counts()
	assert.Equal(t, [3]int{2, 2, 3}, [3]int{signIns, fake.Calls("AssumeRoleWithSAML"), fake.Calls("GetClusterCredentials")})
}

// TestSAMLRefused: each step's refusal names the step, and no secret.
func TestSAMLRefused(t *testing.T) {
	fake := samlEnv(t)
	s := newTestSigner(t)
	fake.AllowSAML(s)
	stranger := harness.NewSAMLSigner(t, "http://evil.example/idp", samlPrincipal)
	adfs := harness.StartFakeSAMLIdP(t, "adfs", s, hostileIdPUser, hostileSecret)
	adfs.SetClaims(harness.SAMLClaims{Roles: []string{samlRoleETL}, RoleSessionName: "ann"})
	trustIdP(t, adfs)
	adfsDSN := dsnparse.SAML{Plugin: pluginADFS, IdPHost: adfs.Host, IdPPort: adfs.Port, User: hostileIdPUser, Password: hostileSecret}
	hostPort := fmt.Sprintf("127.0.0.1:%d", adfs.Port)
	ping := harness.StartFakeSAMLIdP(t, "ping", s, hostileIdPUser, hostileSecret) // its certificate is not trusted
	pingDSN := dsnparse.SAML{Plugin: pluginPing, IdPHost: ping.Host, IdPPort: ping.Port, User: hostileIdPUser, Password: hostileSecret}
	basic := func(c harness.SAMLClaims, signer *harness.SAMLSigner) dsnparse.SAML {
		return dsnparse.SAML{Plugin: pluginBasicSAML, Assertion: signer.Response(c)}
	}
	good := harness.SAMLClaims{Roles: []string{samlRoleETL}, RoleSessionName: "ann"}
	wrongPW := adfsDSN
	wrongPW.Password = hostileSecret + "x"
	preferred := adfsDSN
	preferred.PreferredRole = samlRoleAdmin
	expired := good
	expired.NotOnOrAfter = time.Now().Add(-time.Minute)
	unsigned := good
	unsigned.Unsigned = true
	otherRole := good
	otherRole.Roles = []string{"arn:aws:iam::123456789012:role/etl-saml,arn:aws:iam::123456789012:saml-provider/Okta"}
	for _, tc := range []struct {
		name, want string
		s          dsnparse.SAML
	}{
		{"wrong password", "redshift-ka: ADFS sign-in for cluster etl-prod: ADFS sign-in at " + hostPort +
			" refused the user's password (Incorrect user ID or password. Type the correct user ID and password, and try again.)", wrongPW},
		{"role not in the assertion", "redshift-ka: STS AssumeRoleWithSAML for cluster etl-prod: the SAML assertion has no role " +
			samlRoleAdmin + " (preferred_role); it has " + samlRoleETL, preferred},
		{"expired", "redshift-ka: STS AssumeRoleWithSAML for role " + samlRoleETL + ", for cluster etl-prod: ExpiredTokenException: Token expired", basic(expired, s)},
		{"unsigned", "redshift-ka: STS AssumeRoleWithSAML for role " + samlRoleETL + ", for cluster etl-prod: InvalidIdentityToken: " +
			"Invalid SAML response: the assertion's signature could not be verified", basic(unsigned, s)},
		{"another IdP's signature", "InvalidIdentityToken: Invalid SAML response: the assertion's signature could not be verified", basic(good, stranger)},
		{"a pair STS does not know", "redshift-ka: STS AssumeRoleWithSAML for role " + samlRoleETL + ", for cluster etl-prod: InvalidIdentityToken: " +
			"SAML provider arn:aws:iam::123456789012:saml-provider/Okta does not exist", basic(otherRole, s)},
		{"an IdP certificate not trusted, without ssl_insecure", fmt.Sprintf("redshift-ka: Ping sign-in for cluster etl-prod: "+
			"Ping sign-in page at 127.0.0.1:%d: tls: failed to verify certificate", ping.Port), pingDSN},
		{"no assertion", "redshift-ka: SAML assertion given for cluster etl-prod: no SAML assertion", dsnparse.SAML{Plugin: pluginBasicSAML}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := samlDSN(tc.s)
			d.DisableCache = true
			_, err := loginOf(t, d).Credentials(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), hostileSecret)
			if tc.s.Assertion != "" {
				assert.NotContains(t, err.Error(), tc.s.Assertion[:40])
			}
			var e *Error
			assert.ErrorAs(t, err, &e)
		})
	}
	assert.Equal(t, 0, fake.Calls("GetClusterCredentials"), "no step failed into Redshift")
}

// TestSAMLHostileIdP: an IdP that answers without an assertion, with
// 100 MB, with a redirect to another host, or not at all: a clear error,
// in bounded time and memory.
func TestSAMLHostileIdP(t *testing.T) {
	fake := samlEnv(t)
	s := newTestSigner(t)
	fake.AllowSAML(s)
	adfs := harness.StartFakeSAMLIdP(t, "adfs", s, "ann", hostileSecret)
	trustIdP(t, adfs)
	old := idpTimeout
	idpTimeout = 2 * time.Second
	t.Cleanup(func() { idpTimeout = old })
	hostPort := fmt.Sprintf("127.0.0.1:%d", adfs.Port)
	for _, tc := range []struct {
		name string
		h    harness.IdPFault
		want string
	}{
		{"no SAMLResponse", harness.FaultHTML, "ADFS sign-in at " + hostPort + " answered with no SAMLResponse"},
		{"100 MB", harness.FaultHuge, "ADFS sign-in at " + hostPort + ": the answer is larger than 1048576 bytes"},
		{"redirect elsewhere", harness.FaultRedirect, "ADFS sign-in at " + hostPort + ": refused a redirect from " + hostPort +
			" to another host, localhost:" + strconv.Itoa(adfs.Port)},
		{"redirect without TLS", harness.FaultPlainRedirect, "ADFS sign-in at " + hostPort + ": refused a redirect from " + hostPort + " to http, without TLS"},
		{"no answer", harness.FaultSilent, "ADFS sign-in at " + hostPort + ": "},
		{"the password echoed", harness.FaultEchoPassword, "ADFS sign-in at " + hostPort + " refused the user's password (The password xxxxx is not right.)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			adfs.SetFault(tc.h)
			d := samlDSN(dsnparse.SAML{Plugin: pluginADFS, IdPHost: adfs.Host, IdPPort: adfs.Port, User: "ann", Password: hostileSecret})
			d.DisableCache = true
			start := time.Now()
			_, err := loginOf(t, d).Credentials(context.Background())
			took := time.Since(start)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), hostileSecret)
			t.Logf("%s: %v after %v", tc.name, err, took.Round(time.Millisecond))
		})
	}
	assert.Equal(t, 0, fake.Calls(""), "nothing reached AWS")
}

var _ backend.Login = (*login)(nil)

// TestSAMLHangNamesStep: a connect whose context ends while the IdP (ADFS
// not answering) or STS (held; AssumeRoleWithSAML, or
// AssumeRoleWithWebIdentity) has not answered fails at its deadline with
// the step under way named, not the Redshift API's, and no secret.
func TestSAMLHangNamesStep(t *testing.T) {
	fake := samlEnv(t)
	s := newTestSigner(t)
	fake.AllowSAML(s)
	adfs := harness.StartFakeSAMLIdP(t, "adfs", s, "ann", hostileSecret)
	trustIdP(t, adfs)
	adfs.SetFault(harness.FaultSilent)
	const timeout = 2 * time.Second // the connect's; idpTimeout and callLimit are far longer
	require.Greater(t, idpTimeout, 2*timeout)
	good := harness.SAMLClaims{Roles: []string{samlRoleETL}, RoleSessionName: "ann"}
	web := samlDSN(dsnparse.SAML{})
	web.WebIdentity = dsnparse.WebIdentity{Token: hostileSecret, RoleARN: samlRoleETL, RoleSessionName: "ann"}
	for _, tc := range []struct {
		name, step, target string
		d                  *dsnparse.IAM
	}{
		{"ADFS silent", "ADFS sign-in", "cluster etl-prod",
			samlDSN(dsnparse.SAML{Plugin: pluginADFS, IdPHost: adfs.Host, IdPPort: adfs.Port, User: "ann", Password: hostileSecret})},
		{"STS held", apiSAML, "role " + samlRoleETL + ", for cluster etl-prod",
			samlDSN(dsnparse.SAML{Plugin: pluginBasicSAML, Assertion: s.Response(good)})},
		{"web identity STS held", apiWebIdentity, "role " + samlRoleETL + ", for cluster etl-prod", web},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.step != "ADFS sign-in" {
				defer fake.Hold()()
			}
			d := tc.d
			d.DisableCache = true
			start := time.Now() // before the deadline is set: took >= timeout
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			_, err := loginOf(t, d).Credentials(ctx)
			took := time.Since(start)
			t.Logf("%v after %v", err, took.Round(time.Millisecond))
			require.Error(t, err)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Equal(t, "redshift-ka: "+tc.step+" for "+tc.target+": context deadline exceeded", err.Error())
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.step, e.FailedStep())
			assert.NotContains(t, err.Error(), hostileSecret)
			assert.GreaterOrEqual(t, took, timeout)
			assert.Less(t, took, timeout+idpTimeout/2, "the connect's deadline ends the wait, not the IdP's timeout")
		})
	}
	assert.Zero(t, fake.Calls("GetClusterCredentials"))
}

// TestSAMLSessionsDropped: a session that got no credentials and has no
// login under way (a DSN that failed) is dropped when another is made;
// one whose login is under way is kept.
func TestSAMLSessionsDropped(t *testing.T) {
	failed, busy := cacheKey{1}, cacheKey{2}
	t.Cleanup(func() {
		samlSessions.Lock()
		delete(samlSessions.m, failed)
		delete(samlSessions.m, busy)
		delete(samlSessions.m, cacheKey{3})
		samlSessions.Unlock()
	})
	sessionFor(failed)
	sessionFor(busy).running.Store(&samlError{step: "ADFS sign-in"})
	sessionFor(cacheKey{3})
	samlSessions.Lock()
	_, keptFailed := samlSessions.m[failed]
	_, keptBusy := samlSessions.m[busy]
	samlSessions.Unlock()
	assert.False(t, keptFailed, "a failed DSN's session stays")
	assert.True(t, keptBusy, "a session with a login under way was dropped")
}
