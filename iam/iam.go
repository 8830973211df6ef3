package iam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/redshiftserverless"
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

// login is the IAM login of one connector: the AWS client and the call
// it makes. The credentials it issues live in a cache entry: the
// process's entry for the call, shared by every connector that makes the
// same call, or with IAMDisableCache the connector's own (see cache.go).
type login struct {
	plan backend.Plan
	call func(ctx context.Context) (backend.Credentials, time.Time, error)
	log  *slog.Logger
	c    *entry
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
	cfg, err := config.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("redshift-ka: IAM: load the AWS configuration: %w", err)
	}
	l := &login{log: logger, plan: backend.Plan{
		Method: "IAM", Cluster: d.ClusterID, Workgroup: d.Workgroup, Region: cfg.Region,
		DbUser: d.DbUser, DbGroups: d.DbGroups, AutoCreate: d.AutoCreate, DurationSeconds: d.DurationSeconds,
		Profile: d.Profile, Endpoint: d.EndpointURL,
	}}
	var duration *int32
	if d.DurationSeconds > 0 {
		duration = aws.Int32(int32(d.DurationSeconds))
	}
	switch {
	case d.Workgroup != "":
		l.plan.API = apiServerless
		// GetCredentials logs in as the IAM identity's own user: it takes
		// no user, groups or auto-create; the plan shows what is sent.
		l.plan.DbUser, l.plan.DbGroups, l.plan.AutoCreate = "", nil, false
		c := redshiftserverless.NewFromConfig(cfg, func(o *redshiftserverless.Options) {
			if d.EndpointURL != "" {
				o.BaseEndpoint = aws.String(d.EndpointURL)
			}
		})
		in := &redshiftserverless.GetCredentialsInput{WorkgroupName: aws.String(d.Workgroup), DurationSeconds: duration}
		l.call = func(ctx context.Context) (backend.Credentials, time.Time, error) {
			out, err := c.GetCredentials(ctx, in)
			if err != nil {
				return backend.Credentials{}, time.Time{}, err
			}
			return issued(out.DbUser, out.DbPassword, out.Expiration), aws.ToTime(out.NextRefreshTime), nil
		}
	case d.ClusterID == "":
		return nil, errors.New("redshift-ka: IAM: no cluster or workgroup: give ClusterID (or a serverless workgroup), or connect to the cluster's Redshift endpoint host name")
	default:
		c := redshift.NewFromConfig(cfg, func(o *redshift.Options) {
			if d.EndpointURL != "" {
				o.BaseEndpoint = aws.String(d.EndpointURL)
			}
		})
		if d.DbUser == "" {
			l.plan.API = apiClusterIAM
			l.plan.DbGroups, l.plan.AutoCreate = nil, false // not taken by ...WithIAM
			in := &redshift.GetClusterCredentialsWithIAMInput{ClusterIdentifier: aws.String(d.ClusterID), DurationSeconds: duration}
			l.call = func(ctx context.Context) (backend.Credentials, time.Time, error) {
				out, err := c.GetClusterCredentialsWithIAM(ctx, in)
				if err != nil {
					return backend.Credentials{}, time.Time{}, err
				}
				return issued(out.DbUser, out.DbPassword, out.Expiration), aws.ToTime(out.NextRefreshTime), nil
			}
			break
		}
		l.plan.API = apiCluster
		in := &redshift.GetClusterCredentialsInput{
			ClusterIdentifier: aws.String(d.ClusterID), DbUser: aws.String(d.DbUser),
			DbGroups: d.DbGroups, DurationSeconds: duration,
		}
		if d.AutoCreate {
			in.AutoCreate = aws.Bool(true)
		}
		l.call = func(ctx context.Context) (backend.Credentials, time.Time, error) {
			out, err := c.GetClusterCredentials(ctx, in)
			if err != nil {
				return backend.Credentials{}, time.Time{}, err
			}
			return issued(out.DbUser, out.DbPassword, out.Expiration), time.Time{}, nil
		}
	}
	l.c = cached(d, l.plan)
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
func (l *login) wrap(err error) error {
	e := &Error{API: l.plan.API, Target: l.plan.Target(), Err: err}
	var api smithy.APIError
	if errors.As(err, &api) {
		e.Code, e.Message = api.ErrorCode(), api.ErrorMessage()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		e.RequestID = re.ServiceRequestID()
	}
	return e
}
