package iam

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/clock"
)

// apiWebIdentity is the call of plugin_name=JwtIamAuthPlugin.
const apiWebIdentity = "STS AssumeRoleWithWebIdentity"

// pluginWebIdentity is the plugin's name, as ODBC's rs_iam_support.h
// spells it (JWT_IAM_AUTH_PLUGIN).
const pluginWebIdentity = "JwtIamAuthPlugin"

// stsMargin is how long before their expiration the credentials from STS
// are renewed: an API call they sign (at most callLimit) must end before
// they expire.
const stsMargin = 2 * callLimit

// webIdentity is the AWS credentials of a JwtIamAuthPlugin login: STS
// AssumeRoleWithWebIdentity with the DSN's token, role, session name and
// duration (ODBC IAMJwtPluginCredentialsProvider::AssumeRoleWithJwtRequest),
// an unsigned call, as the AWS SDK makes it. They are kept until stsMargin
// before they expire, by the login clock (internal/clock).
type webIdentity struct {
	p     *stscreds.WebIdentityRoleProvider
	role  string
	token string // to keep out of errors

	mu      sync.Mutex
	cur     aws.Credentials
	running atomic.Bool // STS's call is under way (login.pending)
}

// newWebIdentity returns the credentials provider for w; the STS client
// is newSTS's, with the DSN's StsEndpointUrl (stsEndpoint).
func newWebIdentity(cfg aws.Config, w dsnparse.WebIdentity, stsEndpoint string) *webIdentity {
	p := stscreds.NewWebIdentityRoleProvider(newSTS(cfg, stsEndpoint), w.RoleARN, identityToken(w.Token),
		func(o *stscreds.WebIdentityRoleOptions) {
			o.RoleSessionName = w.RoleSessionName
			o.Duration = time.Duration(w.DurationSeconds) * time.Second
		})
	return &webIdentity{p: p, role: w.RoleARN, token: w.Token}
}

// identityToken is a token given in the DSN.
type identityToken string

func (t identityToken) GetIdentityToken() ([]byte, error) { return []byte(t), nil }

// Retrieve returns the credentials STS issued for the role, asking for
// new ones when they are within stsMargin of their expiration.
func (w *webIdentity) Retrieve(ctx context.Context) (aws.Credentials, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cur.HasKeys() && (!w.cur.CanExpire || clock.Now().Before(w.cur.Expires.Add(-stsMargin))) {
		return w.cur, nil
	}
	w.running.Store(true)
	c, err := w.p.Retrieve(ctx)
	w.running.Store(false)
	if err != nil {
		return aws.Credentials{}, webIdentityError{err}
	}
	w.cur = c
	return c, nil
}

// webIdentityError is a failed AssumeRoleWithWebIdentity.
type webIdentityError struct{ err error }

func (e webIdentityError) Error() string { return e.err.Error() }
func (e webIdentityError) Unwrap() error { return e.err }

// wrapWebIdentity names the STS step in e when err is its failure, and
// keeps the token out of what e prints.
func (w *webIdentity) wrap(e *Error, err error) {
	var we webIdentityError
	if errors.As(err, &we) {
		e.API, e.Target = apiWebIdentity, "role "+w.role+", for "+e.Target
	}
	if w.token == "" {
		return
	}
	e.Message = maskSecret(e.Message, w.token)
	e.Err = scrub(e.Err, w.token)
}

// maskSecret returns s with secret masked as written and URL-encoded (as
// a form value or a path), as an answer that quotes a request shows it.
func maskSecret(s, secret string) string {
	for _, f := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret)} {
		s = strings.ReplaceAll(s, f, "xxxxx")
	}
	return s
}

// scrub returns err, or err with secret masked if its text shows it.
func scrub(err error, secret string) error {
	if err != nil && maskSecret(err.Error(), secret) != err.Error() {
		return scrubbed{err, secret}
	}
	return err
}

// scrubbed is an error whose text has a secret masked (maskSecret).
type scrubbed struct {
	err    error
	secret string
}

func (s scrubbed) Error() string { return maskSecret(s.err.Error(), s.secret) }
func (s scrubbed) Unwrap() error { return s.err }
