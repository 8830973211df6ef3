package iam

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc/types"
	"github.com/aws/smithy-go"

	"github.com/redshift-ka/redshift-ka/internal/backend"
	"github.com/redshift-ka/redshift-ka/internal/browser"
	"github.com/redshift-ka/redshift-ka/internal/clock"
)

// BrowserIdcAuthPlugin: IAM Identity Center's authorization code flow with
// PKCE through SSO-OIDC, as JDBC BrowserIdcAuthPlugin.getIdcToken runs it
// (redshift_connector browser_idc_auth_plugin.py and ODBC
// BrowserIdcAuthPlugin.cpp agree):
//
//  1. RegisterClient (clientName idc_client_display_name, clientType
//     public, scopes redshift:connect, issuerUrl issuer_url, redirectUris
//     http://127.0.0.1:<listen_port>, grantTypes authorization_code); the
//     client is kept until its secret expires (clientSecretExpiresAt),
//     per issuer, region, port and display name, as JDBC and
//     redshift_connector keep theirs;
//  2. the browser opens https://oidc.<idc_region>.amazonaws.com/authorize
//     (response_type code, client_id, redirect_uri, scopes
//     redshift:connect, state, code_challenge, code_challenge_method S256)
//     and the redirect brings code and state to the listener;
//  3. CreateToken (clientId, clientSecret, code, grantType
//     authorization_code, codeVerifier, redirectUri), polled every second
//     while Identity Center answers AuthorizationPendingException, at most
//     idp_response_timeout; its accessToken, valid expiresIn seconds (900
//     when not given: JDBC DEFAULT_IDC_TOKEN_EXPIRY_IN_SEC), is the token
//     Redshift checks (idp_type AwsIdc, token_type ACCESS_TOKEN).
//
// The SDK's endpoint for SSO-OIDC (AWS_ENDPOINT_URL_SSO_OIDC overrides it)
// is where the browser is sent too: the authorize endpoint is on the
// same host.

const (
	pluginIdC         = "BrowserIdcAuthPlugin"
	idcScope          = "redshift:connect"
	idcDisplayName    = "redshift-ka"
	idcDefaultExpiry  = 900 * time.Second
	idcPollInterval   = time.Second
	idcClientMargin   = time.Minute // a client secret this near its expiration is not used
	authorizationCode = "authorization_code"
)

// idcRegion is JDBC's REGION_PATTERN: the region becomes a host name.
var idcRegion = regexp.MustCompile(`^[a-z]{2,3}(-[a-z]+)+-[0-9]+$`)

// idcBrowser is the settings of one BrowserIdcAuthPlugin login.
type idcBrowser struct {
	issuerURL, region, displayName string
	port                           int
	timeout                        time.Duration
	logger                         *slog.Logger
}

// Steps are the login's steps, as redshift-ka check shows them.
func (b *idcBrowser) Steps() []backend.Step {
	where := "issuer " + b.issuerURL + ", region " + b.region
	return []backend.Step{
		{Name: stepRegisterClient, Detail: where},
		{Name: stepBrowser, Detail: "listener 127.0.0.1:" + strconv.Itoa(b.listenPort())},
		{Name: stepCreateToken, Detail: where},
	}
}

func (b *idcBrowser) listenPort() int {
	if b.port == 0 {
		return defaultListenPort
	}
	return b.port
}

// idcClients are the clients RegisterClient issued, process-wide, each
// under a turn of its own, so that a registration under way holds up
// only the logins that need the same client.
var idcClients = struct {
	sync.Mutex
	m map[string]*idcClient
}{m: map[string]*idcClient{}}

// idcClient is the client registered for one key.
type idcClient struct {
	turn chan struct{} // one registration at a time; waited for within the caller's context
	reg  *ssooidc.RegisterClientOutput
}

// login runs the flow and returns the access token and its expiration.
func (b *idcBrowser) login(ctx context.Context) (string, time.Time, error) {
	fail := func(step string, err error) (string, time.Time, error) {
		return "", time.Time{}, &Error{API: step, Target: pluginIdC + " (issuer " + b.issuerURL + ")", Err: err}
	}
	if !idcRegion.MatchString(b.region) {
		return fail(stepRegisterClient, fmt.Errorf("idc_region %s is not an AWS region", strconv.Quote(idpText(b.region))))
	}
	client := ssooidc.NewFromConfig(idcConfig(ctx, b.region, b.logger), func(o *ssooidc.Options) { o.HTTPClient = limitedClient{o.HTTPClient} })
	redirect := "http://127.0.0.1:" + strconv.Itoa(b.listenPort())
	reg, err := b.register(ctx, client, redirect)
	if err != nil {
		return fail(stepRegisterClient, err)
	}

	ep, err := ssooidc.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, ssooidc.EndpointParameters{
		Region: aws.String(b.region), Endpoint: client.Options().BaseEndpoint})
	if err != nil {
		return fail(stepBrowser, fmt.Errorf("the authorize endpoint: %w", err))
	}
	l, err := browser.Listen(b.listenPort())
	if err != nil {
		return fail(stepBrowser, err)
	}
	defer l.Close()
	state, verifier := randomString(32), randomString(60)
	q := url.Values{"response_type": {"code"}, "client_id": {aws.ToString(reg.ClientId)}, "redirect_uri": {redirect},
		"scopes": {idcScope}, "state": {state}, "code_challenge": {pkceChallenge(verifier)}, "code_challenge_method": {"S256"}}
	browser.Show(ctx, strings.TrimSuffix(ep.URI.String(), "/")+"/authorize?"+q.Encode(), pluginIdC, b.logger)
	timeout := responseTimeout(b.timeout)
	deadline := time.Now().Add(timeout) // a context's deadline: the wall clock's
	v, err := l.Wait(ctx, timeout, browser.Expect{Path: "/", State: state, Param: "code"})
	if err != nil {
		return fail(stepBrowser, err)
	}

	// JDBC fetchTokenResponse polls until idp_response_timeout from its
	// start; the wait above is counted in it here, so that the whole login
	// is bounded by twice the setting at most.
	ctx, cancel := context.WithDeadline(ctx, deadline.Add(timeout))
	defer cancel()
	in := &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, GrantType: aws.String(authorizationCode),
		Code: aws.String(v.Get("code")), CodeVerifier: aws.String(verifier), RedirectUri: aws.String(redirect)}
	for {
		start := clock.Now() // the cache's clock, which schedules the renewal
		out, err := client.CreateToken(ctx, in)
		var pending *types.AuthorizationPendingException
		switch {
		case err == nil && aws.ToString(out.AccessToken) == "":
			return fail(stepCreateToken, errors.New("answered without an accessToken"))
		case err == nil:
			exp := idcDefaultExpiry
			if out.ExpiresIn > 0 {
				exp = time.Duration(out.ExpiresIn) * time.Second
			}
			return aws.ToString(out.AccessToken), start.Add(exp), nil
		case !errors.As(err, &pending):
			return fail(stepCreateToken, idcError(err))
		}
		t := time.NewTimer(idcPollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return fail(stepCreateToken, fmt.Errorf("still pending after idp_response_timeout (%s): %w", timeout, ctx.Err()))
		case <-t.C:
		}
	}
}

// idcConfig is the SDK's configuration for SSO-OIDC in region, logging
// to logger. RegisterClient and CreateToken are not signed: a shared
// configuration that does not load (AWS_PROFILE naming no profile) is
// not needed, and the environment's endpoints still apply.
func idcConfig(ctx context.Context, region string, logger *slog.Logger) aws.Config {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region), config.WithLogger(sdkLogger{logger}))
	if err == nil {
		return cfg
	}
	cfg = aws.Config{Region: region, Logger: sdkLogger{logger}}
	if env, err := config.NewEnvConfig(); err == nil {
		cfg.ConfigSources = []any{env} // AWS_ENDPOINT_URL_SSO_OIDC, AWS_ENDPOINT_URL
	}
	return cfg
}

// register returns the client registered for b, registering one if none
// is kept or its secret is near its expiration.
func (b *idcBrowser) register(ctx context.Context, client *ssooidc.Client, redirect string) (*ssooidc.RegisterClientOutput, error) {
	name := b.displayName
	if name == "" {
		name = idcDisplayName
	}
	key := strings.Join([]string{b.issuerURL, b.region, redirect, name, aws.ToString(client.Options().BaseEndpoint)}, "\x00")
	idcClients.Lock()
	c := idcClients.m[key]
	if c == nil {
		c = &idcClient{turn: make(chan struct{}, 1)}
		idcClients.m[key] = c
	}
	idcClients.Unlock()
	select {
	case c.turn <- struct{}{}:
		defer func() { <-c.turn }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if reg := c.reg; reg != nil && time.Now().Add(idcClientMargin).Before(time.Unix(reg.ClientSecretExpiresAt, 0)) {
		return reg, nil
	}
	reg, err := client.RegisterClient(ctx, &ssooidc.RegisterClientInput{ClientName: aws.String(name), ClientType: aws.String("public"),
		Scopes: []string{idcScope}, IssuerUrl: aws.String(b.issuerURL), RedirectUris: []string{redirect}, GrantTypes: []string{authorizationCode}})
	if err != nil {
		return nil, idcError(err)
	}
	if aws.ToString(reg.ClientId) == "" || aws.ToString(reg.ClientSecret) == "" {
		return nil, errors.New("answered without clientId and clientSecret")
	}
	c.reg = reg
	return reg, nil
}

// idcError is an SSO-OIDC error as shown: AWS's code and message (which
// hold no secret), or the SDK's error where AWS did not answer.
func idcError(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		text := ae.ErrorMessage()
		if text == "" {
			text = errorDescription(ae)
		}
		msg := ae.ErrorCode() + ": " + idpText(text)
		if ae.ErrorCode() == "AccessDeniedException" {
			// JDBC's advice for it.
			msg += " (is the user assigned to the application in IAM Identity Center?)"
		}
		return errors.New(msg)
	}
	return err
}

// errorDescription is the error_description member every SSO-OIDC error
// type has (types.InvalidGrantException.Error_description, ...), where
// SSO-OIDC puts its message (the SDK's Message stays empty).
func errorDescription(err error) string {
	v := reflect.ValueOf(err)
	if v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct {
		if f := v.Elem().FieldByName("Error_description"); f.IsValid() && f.Kind() == reflect.Pointer && !f.IsNil() {
			return f.Elem().String()
		}
	}
	return ""
}

// limitedClient reads at most maxAnswer bytes of an answer, as idpDo
// does, where the SDK reads the body: SSO-OIDC's answers are small, and
// the SDK reads whatever comes.
type limitedClient struct{ c aws.HTTPClient }

func (l limitedClient) Do(r *http.Request) (*http.Response, error) {
	resp, err := l.c.Do(r)
	if err == nil {
		resp.Body = &limitedBody{ReadCloser: resp.Body, left: maxAnswer}
	}
	return resp, err
}

// limitedBody fails a read past its limit.
type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, fmt.Errorf("the answer is larger than %d bytes", maxAnswer)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
