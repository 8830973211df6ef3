package iam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/backend"
)

func init() {
	backend.IAM = newLogin
}

// The APIs a login calls.
const (
	apiCluster    = "GetClusterCredentials"
	apiClusterIAM = "GetClusterCredentialsWithIAM"
	apiServerless = "redshift-serverless GetCredentials"
)

// login is the IAM login of one connector: the AWS clients and the call
// it makes. The credentials it issues live in a cache entry: the
// process's entry for the call, shared by every connector that makes the
// same call, or with IAMDisableCache the connector's own (see cache.go).
// The cluster a custom domain name stands for and the endpoint of a DSN
// without a host are the connector's own (in clients and endpoint).
type login struct {
	plan backend.Plan
	req  request // what the call asks for
	call func(ctx context.Context) (backend.Credentials, time.Time, error)
	// limit bounds call; 0: callLimit. A browser login waits for a person
	// (idp_response_timeout).
	limit time.Duration
	log   *slog.Logger
	// loadErr is the AWS configuration's error, returned by every call.
	loadErr error

	// steps are the identity provider's steps before the API call
	// (JwtIamAuthPlugin's STS call, a SAML plugin's sign-in and STS
	// call), as Steps shows them; their errors are *Error with API the
	// step's name.
	steps    []backend.Step
	web      *webIdentity // JwtIamAuthPlugin's credentials; nil without
	saml     *samlLogin   // a SAML plugin's credentials; nil without
	clients  *clients     // nil with loadErr
	endpoint endpoint     // for a DSN without a host
	key      cacheKey     // of the process cache's entry (cache.go)
	c        *entry       // the connector's own entry (IAMDisableCache); nil: the process's
}

// newLogin loads the AWS configuration (environment, shared files with
// the DSN's Profile, or the DSN's static keys) and makes the client for
// the API the DSN's IAM login calls. Nothing is called yet.
func newLogin(d *dsnparse.IAM, logger *slog.Logger) (backend.Login, error) {
	cfg, region, err := loadConfig(d, logger)
	req := newRequest(d, region)
	l := &login{log: logger, req: req, plan: req.plan(d), loadErr: err}
	if err == nil {
		if d.WebIdentity.RoleARN != "" {
			l.web = newWebIdentity(cfg, d.WebIdentity, d.STSEndpointURL)
			l.steps = append(l.steps, backend.Step{Name: apiWebIdentity, Detail: "role " + d.WebIdentity.RoleARN})
			cfg.Credentials = l.web
		} else if d.SAML.Plugin != "" {
			sess := &samlSession{}
			if !d.DisableCache {
				sess = sessionFor(keyOf(d, l.plan))
			}
			l.saml = newSAML(cfg, d, sess, logger)
			l.steps = append(l.steps, l.saml.steps()...)
			l.limit = samlCallLimit(d.SAML)
			cfg.Credentials = l.saml
		} else if d.AccessKeyID == "" && aws.IsCredentialsProvider(cfg.Credentials, (*ec2rolecreds.Provider)(nil)) {
			cfg.Credentials = instanceRole{cfg.Credentials}
		}
		l.clients = newClients(cfg, d.EndpointURL)
	}
	l.call = func(ctx context.Context) (backend.Credentials, time.Time, error) {
		if l.loadErr != nil {
			return backend.Credentials{}, time.Time{}, l.loadErr
		}
		if l.web != nil {
			// A step of its own, so that its failure names STS.
			if _, err := l.web.Retrieve(ctx); err != nil {
				return backend.Credentials{}, time.Time{}, err
			}
		}
		if l.saml != nil {
			// The IdP's and STS's steps, which give the database user too.
			_, attr, err := l.saml.credentials(ctx)
			if err != nil {
				return backend.Credentials{}, time.Time{}, err
			}
			r, err := l.saml.request(l.req, attr)
			if err != nil {
				return backend.Credentials{}, time.Time{}, err
			}
			return r.call(ctx, l.clients)
		}
		return l.req.call(ctx, l.clients)
	}
	if d.DisableCache {
		l.c = &entry{}
	} else {
		l.key = keyOf(d, l.plan)
	}
	return l, nil
}

// loadConfig loads the AWS configuration of d: the environment, shared
// files with the DSN's Profile, or the DSN's static keys, with the DSN's
// region and proxy. Its error is said at the first call, not here: a plan
// (check --offline) needs no AWS configuration; region is then the DSN's.
func loadConfig(d *dsnparse.IAM, logger *slog.Logger) (cfg aws.Config, region string, err error) {
	var opts []func(*config.LoadOptions) error
	if d.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(d.Profile))
	}
	if d.Region != "" {
		opts = append(opts, config.WithRegion(d.Region))
	}
	if d.AccessKeyID != "" || d.SecretAccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(d.AccessKeyID, d.SecretAccessKey, d.SessionToken)))
	}
	opts = append(withHTTPClient(d, withSTSEndpoint(d.STSEndpointURL, opts)), config.WithLogger(sdkLogger{logger}))
	cfg, err = config.LoadDefaultConfig(context.Background(), opts...)
	region = cfg.Region
	if err != nil {
		err = fmt.Errorf("load the AWS configuration: %w", err)
		region = d.Region
	}
	return cfg, region, err
}

// issued turns an API's answer into credentials.
func issued(user, password *string, expiration *time.Time) backend.Credentials {
	return backend.Credentials{User: aws.ToString(user), Password: aws.ToString(password), Expiration: aws.ToTime(expiration)}
}

// Plan says which API the login calls and with what.
func (l *login) Plan() backend.Plan { return l.plan }

// Steps are the login's calls: the identity provider's, then the API's
// (and DescribeCustomDomainAssociations or an endpoint lookup when the
// DSN needs one, which are not shown).
func (l *login) Steps() []backend.Step {
	return append(slices.Clone(l.steps), backend.Step{Name: l.plan.API, Detail: l.plan.Target() + ", region " + l.plan.Region})
}

// Format prints the login as the call it makes, for every verb: the
// credentials it holds never show.
func (l *login) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "IAM login (%s for %s)", l.plan.API, l.plan.Target())
}

// MarshalJSON encodes the login as its plan, without credentials.
func (l *login) MarshalJSON() ([]byte, error) { return json.Marshal(l.plan) }

// Error is a failed IAM login: the API, what it was asked for, and what
// AWS answered. It never holds a secret.
type Error struct {
	// API is the call, such as "GetClusterCredentials".
	API string
	// Target is "cluster etl-prod" or "workgroup etl".
	Target string
	// Code and Message are AWS's error code and message; empty when the
	// call got no answer (Err says why).
	Code, Message string
	// RequestID is AWS's request id; empty without an answer.
	RequestID string
	// Err is the SDK's error, or the context's.
	Err error
}

// Error names the call that failed and why, with no secret in it.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "redshift-ka: %s for %s: ", e.API, e.Target)
	if e.Code != "" {
		fmt.Fprintf(&b, "%s: %s", e.Code, e.Message)
	} else {
		b.WriteString(e.Err.Error())
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	return b.String()
}

// Unwrap returns the SDK's error, or the context's.
func (e *Error) Unwrap() error { return e.Err }

// FailedStep names the step that failed, as the login's Steps name it:
// the API.
func (e *Error) FailedStep() string { return e.API }

// wrap names the API and the target in err, and AWS's code and request id
// when AWS answered.
func (l *login) wrap(err error) error { return l.wrapAPI(l.plan.API, err) }

// wrapAPI is wrap for a call of api.
func (l *login) wrapAPI(api string, err error) error {
	if e := (*Error)(nil); errors.As(err, &e) {
		return err // a step's own (a token source's identity provider)
	}
	var de domainError
	if errors.As(err, &de) {
		api = apiDescribeDomain
	}
	e := &Error{API: api, Target: l.plan.Target(), Err: err}
	var nc noCredentialsError
	if errors.As(err, &nc) {
		if l.log != nil {
			l.log.Debug("redshift-ka: IAM: no AWS credentials", "api", api, "error", err.Error())
		}
		e.Err = nc // its one line says what to set; the SDK's chain of errors does not
		return e
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		e.Code, e.Message = ae.ErrorCode(), ae.ErrorMessage()
		if de.err != nil {
			e.Message += "; the DSN gives no ClusterID to log in with instead"
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		e.RequestID = re.ServiceRequestID()
	}
	if l.web != nil {
		l.web.wrap(e, err)
	}
	if l.saml != nil {
		l.saml.wrap(e, err)
	}
	return e
}

// instanceRole is the credentials of an AWS configuration in which
// nothing but the EC2 instance role can give any: its failure says which
// settings give credentials.
type instanceRole struct{ aws.CredentialsProvider }

func (p instanceRole) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := p.CredentialsProvider.Retrieve(ctx)
	if err != nil {
		return c, noCredentialsError{err}
	}
	return c, nil
}

// IsCredentialsProvider lets the SDK see the cache inside, which it would
// otherwise wrap in another.
func (p instanceRole) IsCredentialsProvider(target aws.CredentialsProvider) bool {
	return aws.IsCredentialsProvider(p.CredentialsProvider, target)
}

// noCredentialsError is the error of a login that found no AWS
// credentials; it wraps the SDK's.
type noCredentialsError struct{ err error }

func (e noCredentialsError) Error() string {
	return "no AWS credentials: set Profile, or AccessKeyID and SecretAccessKey, in the DSN, or AWS_PROFILE, " +
		"or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, in the environment (no EC2 instance role gave any)"
}

func (e noCredentialsError) Unwrap() error { return e.err }

// sdkLogger passes the AWS SDK's log lines (its "falling back to IMDSv1"
// warning, say) to the driver's logger at debug level, or drops them: the
// SDK's own logger writes to standard error.
type sdkLogger struct{ log *slog.Logger }

func (s sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	if s.log != nil {
		s.log.Debug("redshift-ka: AWS SDK: "+fmt.Sprintf(format, v...), "level", string(c))
	}
}
