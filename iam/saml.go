package iam

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/backend"
	"github.com/redshift-ka/redshift-ka/internal/clock"
)

// apiSAML is the STS call of the SAML plugins.
const apiSAML = "STS AssumeRoleWithSAML"

// samlProvider is a plugin's IdP step: its name, as check shows it and
// errors name it, and the call that gets the SAML assertion (base64, as
// the IdP posts it). hc is the client for the IdP, newIdPClient's. logger is the driver's
// (driver.WithLogger), nil without; a browser plugin shows its URL with it.
type samlProvider struct {
	step string
	get  func(ctx context.Context, hc *http.Client, s dsnparse.SAML, logger *slog.Logger) (string, error)
}

// samlProviders are the SAML plugins' IdP steps, by SAML.Plugin.
var samlProviders = map[string]samlProvider{}

// samlLogin gives the AWS credentials of a SAML plugin: the plugin's
// assertion, the role it picks, then STS AssumeRoleWithSAML (JDBC
// SamlCredentialsProvider.refresh, redshift_connector
// SamlCredentialsProvider.refresh), an unsigned call as the AWS SDK makes
// it. The credentials, and what the assertion says about the database
// user, are kept in a session shared by the logins of one request until
// stsMargin before they expire, by the login clock (internal/clock).
type samlLogin struct {
	s         dsnparse.SAML
	lowercase bool     // the DSN's ForceLowercase
	proxy     *url.URL // the DSN's HTTPS proxy, with idp_use_https_proxy
	sts       *sts.Client
	sess      *samlSession
	log       *slog.Logger // the driver's, for the IdP step; nil without
}

// samlSession is what one SAML login got: STS's credentials and the
// assertion's database attributes; and, while it runs, the step under
// way, which a connect that gives up names (login.pending).
type samlSession struct {
	mu      sync.Mutex
	cur     aws.Credentials
	attr    samlAttributes
	running atomic.Pointer[samlError] // the step, without err; nil between logins
}

// samlSessions are the process's SAML sessions, by the cache key of the
// request (cache.go), so that a renewal of the Redshift credentials by
// another connector of the same DSN reuses STS's credentials.
var samlSessions = struct {
	sync.Mutex
	m map[cacheKey]*samlSession
}{m: map[cacheKey]*samlSession{}}

// sessionFor returns the process's session for key, dropping those whose
// credentials have expired, and those that got none and have no login
// under way (a DSN that failed): a connector keeps its own pointer, so a
// dropped session costs at most one more STS call.
func sessionFor(key cacheKey) *samlSession {
	samlSessions.Lock()
	defer samlSessions.Unlock()
	if s := samlSessions.m[key]; s != nil {
		return s
	}
	now := clock.Now()
	for k, s := range samlSessions.m {
		if s.mu.TryLock() {
			expired := s.cur.CanExpire && !now.Before(s.cur.Expires)
			if expired || !s.cur.HasKeys() && s.running.Load() == nil {
				delete(samlSessions.m, k)
			}
			s.mu.Unlock()
		}
	}
	s := &samlSession{}
	samlSessions.m[key] = s
	return s
}

// newSAML returns the credentials provider of d's SAML plugin; the STS
// client is newSTS's, with the DSN's StsEndpointUrl. sess is the
// process's session, or the login's own with IAMDisableCache.
func newSAML(cfg aws.Config, d *dsnparse.IAM, sess *samlSession, logger *slog.Logger) *samlLogin {
	p := &samlLogin{s: d.SAML, lowercase: d.ForceLowercase, sts: newSTS(cfg, d.STSEndpointURL), sess: sess, log: logger}
	if d.SAML.UseHTTPSProxy && d.HTTPSProxyHost != "" {
		p.proxy = &url.URL{Scheme: "http", Host: net.JoinHostPort(d.HTTPSProxyHost, strconv.Itoa(d.HTTPSProxyPort))}
		if d.HTTPSProxyUser != "" || d.HTTPSProxyPassword != "" {
			p.proxy.User = url.UserPassword(d.HTTPSProxyUser, d.HTTPSProxyPassword)
		}
	}
	return p
}

// request completes r, for GetClusterCredentials, with the assertion's
// attributes as JDBC's IamHelper does: AutoCreate and ForceLowercase from
// the assertion unless the DSN sets them; the DSN's DbUser before the
// assertion's (DbUser, else RoleSessionName), unless the assertion's
// AllowDbUserOverride puts its own first; the assertion's DbGroups when
// the DSN gives none, but those dbgroups_filter matches, lower-cased with
// ForceLowercase.
func (p *samlLogin) request(r request, a samlAttributes) (request, error) {
	if r.API != apiCluster {
		return r, nil
	}
	if !r.AutoCreate {
		r.AutoCreate = a.AutoCreate
	}
	if a.DbUser != "" && (r.DbUser == "" || a.AllowOverride) {
		r.DbUser = a.DbUser
	}
	if r.DbGroups == "" && len(a.DbGroups) > 0 {
		groups, err := filterGroups(a.DbGroups, p.s.DbGroupsFilter)
		if err != nil {
			return r, samlError{p.s.Plugin, "", err}
		}
		r.DbGroups = strings.Join(groups, ",")
		if p.lowercase || a.ForceLowercase {
			r.DbGroups = strings.ToLower(r.DbGroups)
		}
	}
	if r.DbUser == "" {
		return r, errors.New("no database user: the DSN gives no DbUser and the SAML assertion no " +
			attrDbUser + " or " + attrRoleSessionName + " attribute")
	}
	return r, nil
}

// Retrieve returns the credentials STS issued for the role, asking the
// IdP and STS anew when they are within stsMargin of their expiration.
func (p *samlLogin) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, _, err := p.credentials(ctx)
	return c, err
}

// credentials is Retrieve with the assertion's database attributes.
func (p *samlLogin) credentials(ctx context.Context) (aws.Credentials, samlAttributes, error) {
	p.sess.mu.Lock()
	defer p.sess.mu.Unlock()
	if c := p.sess.cur; c.HasKeys() && (!c.CanExpire || clock.Now().Before(c.Expires.Add(-stsMargin))) {
		return c, p.sess.attr, nil
	}
	defer p.sess.running.Store(nil)
	provide := samlProviders[p.s.Plugin]
	if provide.get == nil {
		return aws.Credentials{}, samlAttributes{}, samlError{p.s.Plugin, "", fmt.Errorf("plugin %s is not built in", p.s.Plugin)}
	}
	p.sess.running.Store(&samlError{step: provide.step})
	assertion, err := provide.get(ctx, newIdPClient(p.proxy, p.s.SSLInsecure), p.s, p.log)
	if err != nil {
		return aws.Credentials{}, samlAttributes{}, samlError{provide.step, "", err}
	}
	a, err := parseAssertion(assertion)
	if err != nil {
		return aws.Credentials{}, samlAttributes{}, samlError{provide.step, "", err}
	}
	role, principal, err := a.pick(p.s.PreferredRole)
	if err != nil {
		return aws.Credentials{}, samlAttributes{}, samlError{apiSAML, "", err}
	}
	p.sess.running.Store(&samlError{step: apiSAML, role: role})
	in := &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(role), PrincipalArn: aws.String(principal), SAMLAssertion: aws.String(assertion)}
	if p.s.DurationSeconds > 0 {
		in.DurationSeconds = aws.Int32(int32(p.s.DurationSeconds))
	}
	out, err := p.sts.AssumeRoleWithSAML(ctx, in)
	if err != nil {
		err = scrub(err, assertion)
		return aws.Credentials{}, samlAttributes{}, samlError{apiSAML, role, err}
	}
	if out.Credentials == nil {
		return aws.Credentials{}, samlAttributes{}, samlError{apiSAML, role, errors.New("the answer has no credentials")}
	}
	c := aws.Credentials{
		AccessKeyID: aws.ToString(out.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey),
		SessionToken: aws.ToString(out.Credentials.SessionToken), Source: "AssumeRoleWithSAML",
		CanExpire: out.Credentials.Expiration != nil, Expires: aws.ToTime(out.Credentials.Expiration),
	}
	p.sess.cur, p.sess.attr = c, a.attr
	return c, a.attr, nil
}

// filterGroups returns groups without those that the regular expression
// filter matches whole, as JDBC's SamlCredentialsProvider.filterOutGroups
// (Matcher.matches) and ODBC's FilterDbGroups (std::regex_match) drop
// them, before ForceLowercase; an empty filter keeps them all.
func filterGroups(groups []string, filter string) ([]string, error) {
	if filter == "" {
		return groups, nil
	}
	re, err := regexp.Compile(`^(?:` + filter + `)$`)
	if err != nil {
		return nil, fmt.Errorf("dbgroups_filter: %w", err)
	}
	var kept []string
	for _, g := range groups {
		if !re.MatchString(g) {
			kept = append(kept, g)
		}
	}
	return kept, nil
}

// steps are the IdP's step and STS's, as check shows them.
func (p *samlLogin) steps() []backend.Step {
	s := p.s
	var at []string
	switch {
	case s.LoginURL != "":
		if u, err := url.Parse(s.LoginURL); err == nil {
			at = append(at, "login_url "+u.Scheme+"://"+u.Host+u.Path) // no query: it is the IdP's
		}
	case s.Tenant != "":
		at = append(at, "tenant "+s.Tenant)
	case s.IdPHost != "":
		at = append(at, idpBase(s))
	case s.Plugin == pluginBasicSAML:
		at = append(at, "saml_assertion")
	}
	if s.User != "" {
		at = append(at, "user "+quoteUser(s.User))
	}
	role := "the assertion's role"
	if s.PreferredRole != "" {
		role = "role " + s.PreferredRole
	}
	name := samlProviders[s.Plugin].step
	if name == "" {
		name = s.Plugin
	}
	return []backend.Step{{Name: name, Detail: strings.Join(at, ", ")}, {Name: apiSAML, Detail: role}}
}

// idpBase is "https://host:port" of s (port 443 unless idp_port).
func idpBase(s dsnparse.SAML) string {
	port := s.IdPPort
	if port == 0 {
		port = 443
	}
	return "https://" + net.JoinHostPort(s.IdPHost, strconv.Itoa(port))
}

// samlError is a failed step of a SAML login: the IdP's (step is the
// provider's), or STS's (apiSAML, for role, if one was picked); step ""
// keeps the API's name.
type samlError struct {
	step, role string
	err        error
}

func (e samlError) Error() string { return e.err.Error() }
func (e samlError) Unwrap() error { return e.err }

// wrap names the SAML step in e when err is its failure, and keeps the
// IdP's password and the assertion out of what e prints.
func (p *samlLogin) wrap(e *Error, err error) {
	var se samlError
	if errors.As(err, &se) && se.step != "" {
		e.API = se.step
		if se.role != "" {
			e.Target = "role " + se.role + ", for " + e.Target
		}
	}
	for _, secret := range []string{p.s.Password, p.s.Assertion, p.s.ClientSecret} {
		if len(secret) < 4 {
			continue // too short to mask without masking other words
		}
		e.Message = maskSecret(e.Message, secret)
		e.Err = scrub(e.Err, secret)
	}
}

// pluginBasicSAML is the plugin whose assertion is in the DSN (JDBC's
// BasicSamlCredentialsProvider, saml_assertion).
const pluginBasicSAML = "BasicSamlCredentialsProvider"

func init() { samlProviders[pluginBasicSAML] = samlProvider{"SAML assertion given", basicSAML} }

// basicSAML returns the DSN's assertion.
func basicSAML(_ context.Context, _ *http.Client, s dsnparse.SAML, _ *slog.Logger) (string, error) {
	if strings.TrimSpace(s.Assertion) == "" {
		return "", errors.New("no SAML assertion: " + pluginBasicSAML + " needs saml_assertion")
	}
	return strings.TrimSpace(s.Assertion), nil
}
