package iam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"

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

// callLimit bounds an API call.
const callLimit = time.Minute

// now is the clock; tests replace it.
var now = time.Now

// login is the IAM login of one connector: the AWS configuration, the
// call, and the credentials it last issued.
type login struct {
	plan backend.Plan
	req  request // what the call asks for
	call func(ctx context.Context) (backend.Credentials, time.Time, error)
	log  *slog.Logger

	clients  *clients
	endpoint endpoint // for a DSN without a host

	mu      sync.Mutex
	cur     backend.Credentials
	renewAt time.Time // when a new connection asks for new credentials
	flight  *flight   // the call under way, if any
}

// flight is one API call, which every connect that needs it waits for.
// The call ends when it is answered, after callLimit, or once every
// connect waiting for it has given up.
type flight struct {
	done    chan struct{}
	cr      backend.Credentials
	err     error
	waiters int // under login.mu
	cancel  context.CancelFunc
}

// newLogin loads the AWS configuration (environment, shared files with
// the DSN's Profile, or the DSN's static keys) and makes the client for
// the API the DSN's IAM login calls. Nothing is called yet.
func newLogin(d *dsnparse.IAM, logger *slog.Logger) (backend.Login, error) {
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
	opts = withProxy(d, opts)
	cfg, err := config.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("redshift-ka: IAM: load the AWS configuration: %w", err)
	}
	req := newRequest(d, cfg.Region)
	l := &login{log: logger, req: req, plan: req.plan(d), clients: newClients(cfg, d.EndpointURL)}
	l.call = func(ctx context.Context) (backend.Credentials, time.Time, error) { return l.req.call(ctx, l.clients) }
	return l, nil
}

// issued turns an API's answer into credentials.
func issued(user, password *string, expiration *time.Time) backend.Credentials {
	return backend.Credentials{User: aws.ToString(user), Password: aws.ToString(password), Expiration: aws.ToTime(expiration)}
}

// Plan says which API the login calls and with what.
func (l *login) Plan() backend.Plan { return l.plan }

// Format prints the login as the call it makes, for every verb: the
// credentials it holds never show.
func (l *login) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "IAM login (%s for %s)", l.plan.API, l.plan.Target())
}

// MarshalJSON encodes the login as its plan, without credentials.
func (l *login) MarshalJSON() ([]byte, error) { return json.Marshal(l.plan) }

// Credentials returns the cached credentials while they are fresh, else
// waits for the one API call under way, starting it if need be. A failed
// call is not cached: the next connect calls again.
func (l *login) Credentials(ctx context.Context) (backend.Credentials, error) {
	l.mu.Lock()
	if l.cur.Password != "" && now().Before(l.renewAt) {
		cr := l.cur
		l.mu.Unlock()
		return cr, nil
	}
	f := l.flight
	if f == nil {
		// The call is the connector's, not this connect's: it keeps the
		// context's values but not its end, so that a connect that gives
		// up does not fail the others waiting for it.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callLimit)
		f = &flight{done: make(chan struct{}), cancel: cancel}
		l.flight = f
		go l.fetch(cctx, f)
	}
	f.waiters++
	l.mu.Unlock()
	select {
	case <-f.done:
		return f.cr, f.err
	case <-ctx.Done():
		l.mu.Lock()
		if f.waiters--; f.waiters == 0 {
			f.cancel() // nobody waits for it any more: the next connect calls anew
			if l.flight == f {
				l.flight = nil
			}
		}
		l.mu.Unlock()
		return backend.Credentials{}, l.wrap(ctx.Err())
	}
}

// fetch makes the API call for f.
func (l *login) fetch(ctx context.Context, f *flight) {
	defer f.cancel()
	start := now()
	cr, next, err := l.call(ctx)
	if err == nil && (cr.Password == "" || cr.Expiration.IsZero()) {
		err = errors.New("the answer lacks the password or its expiration")
	}
	if err != nil {
		err = l.wrap(err)
		if l.log != nil {
			l.log.Debug("redshift-ka: IAM login failed", "api", l.plan.API, "target", l.plan.Target(), "error", err.Error())
		}
	} else if l.log != nil {
		l.log.Debug("redshift-ka: IAM login", "api", l.plan.API, "target", l.plan.Target(), "user", cr.User, "expires", cr.Expiration)
	}
	l.mu.Lock()
	if err == nil {
		l.cur, l.renewAt = cr, renewAt(start, cr.Expiration, next)
	}
	if l.flight == f {
		l.flight = nil
	}
	l.mu.Unlock()
	f.cr, f.err = cr, err
	close(f.done)
}

// renewAt is when credentials issued at start and valid until expiration
// are renewed: a tenth of their lifetime, at most a minute, before they
// expire, or at the API's next refresh time if that is sooner.
func renewAt(start, expiration, next time.Time) time.Time {
	margin := min(expiration.Sub(start)/10, time.Minute)
	at := expiration.Add(-margin)
	if !next.IsZero() && next.Before(at) {
		at = next
	}
	return at
}

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

// wrap names the API and the target in err, and AWS's code and request id
// when AWS answered.
func (l *login) wrap(err error) error { return l.wrapAPI(l.plan.API, err) }

// wrapAPI is wrap for a call of api.
func (l *login) wrapAPI(api string, err error) error {
	var de domainError
	if errors.As(err, &de) {
		api = apiDescribeDomain
	}
	e := &Error{API: api, Target: l.plan.Target(), Err: err}
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
	return e
}
