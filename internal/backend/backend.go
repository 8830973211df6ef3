// Package backend holds what the two database/sql drivers, pgx's and
// lib/pq's, share: their options, and turning a DSN into the rest of the
// DSN and a dialer.
package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/dsnparse"
)

// Options are what the driver's options set.
type Options struct {
	// Logger logs each connection dialed and each DSN key dropped, at
	// debug level, and the DSN's warnings at warning level.
	Logger *slog.Logger
	// Pgx are options for pgx's database/sql connector.
	Pgx []stdlib.OptionOpenDB
}

// Prepared is a parsed DSN with what connecting by it needs.
type Prepared struct {
	DSN    *dsnparse.DSN
	Dialer *dialer.Dialer
	// Login issues the user and password of each new connection; nil
	// unless the DSN asks for an IAM login.
	Login Login
	// Tokens gives the token of each new connection of a native login
	// whose DSN has none; nil otherwise.
	Tokens TokenSource
	// Endpoint, for an IAM login whose DSN names no host, looks up the
	// address its connections go to; nil otherwise: connections go to
	// the DSN's host.
	Endpoint Endpointer

	resolved atomic.Pointer[resolved] // see endpoint.go
}

// Prepare parses dsn, makes the dialer for its settings, and, for a DSN
// that asks for an IAM login, the login: [ErrNoIAM] when the program
// lacks the iam package.
func Prepare(dsn string, o *Options) (*Prepared, error) {
	parsed, err := dsnparse.Parse(dsn)
	if err != nil {
		return nil, err
	}
	if o.Logger != nil {
		for _, w := range parsed.Config.Warnings {
			o.Logger.Warn("redshift-ka: the DSN may hold a mistake", "warning", w)
		}
		for _, k := range parsed.Config.Ignored {
			o.Logger.Debug("redshift-ka: DSN key dropped", "key", k.Key, "driver", k.Driver, "does", k.Does)
		}
	}
	d, err := dialer.New(parsed.Config, o.Logger)
	if err != nil {
		return nil, err
	}
	p := &Prepared{DSN: parsed, Dialer: d}
	if parsed.IAM != nil {
		if IAM == nil {
			return nil, ErrNoIAM
		}
		if p.Login, err = IAM(parsed.IAM, o.Logger); err != nil {
			return nil, err
		}
		if e, ok := p.Login.(Endpointer); ok && parsed.IAM.LookupEndpoint {
			p.Endpoint = e
		}
	}
	if parsed.Native != nil {
		if p.Tokens, err = tokenSource(parsed.Native, o.Logger); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// ErrNoIAM is the error of a DSN that asks for an IAM login (IAM=1,
// iam=true, jdbc:redshift:iam://) in a program that does not import the
// iam package, which links the AWS SDK.
var ErrNoIAM = errors.New(`redshift-ka: the DSN asks for an AWS IAM login, which needs the iam package: ` +
	`add import _ "github.com/redshift-ka/redshift-ka/iam" to the program`)

// IAM makes the login of a DSN that asks for IAM. The package
// github.com/redshift-ka/redshift-ka/iam sets it when imported, so that
// programs that do not import it do not link the AWS SDK.
var IAM func(d *dsnparse.IAM, logger *slog.Logger) (Login, error)

// Login issues the database user and password new connections log in
// with, and caches them while they are valid (iam: once per process and
// request).
type Login interface {
	// Credentials returns credentials valid for a new connection: the
	// cached ones, or new ones from the API when those are near their
	// expiration. Concurrent calls share one API call.
	Credentials(ctx context.Context) (Credentials, error)
	// Plan says which API the login calls and with what, without
	// calling it.
	Plan() Plan
}

// Endpointer is a [Login] that can look up the endpoint of the cluster or
// workgroup it logs in to, for a DSN that names no host.
type Endpointer interface {
	// Endpoint returns the address, "host:port": the one looked up
	// before, or a new lookup the first time and after Forget.
	Endpoint(ctx context.Context) (string, error)
	// Forget drops addr, which Endpoint returned, after a failed dial:
	// the next Endpoint looks it up again.
	Forget(addr string)
}

// Credentials are a database login that expires.
type Credentials struct {
	// User is the database user, as the API returned it ("IAM:etl").
	User string
	// Password is the temporary password. Never print it.
	Password string
	// Expiration is when the password stops working.
	Expiration time.Time
}

// String shows the credentials without the password.
func (c Credentials) String() string {
	return fmt.Sprintf("user %s, password xxxxx, expires %s", c.User, c.Expiration.UTC().Format(time.RFC3339))
}

// Format prints String for every verb: no verb shows the password.
func (c Credentials) Format(f fmt.State, verb rune) { io.WriteString(f, c.String()) }

// MarshalJSON encodes the credentials with the password masked.
func (c Credentials) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		User, Password string
		Expiration     time.Time
	}{c.User, "xxxxx", c.Expiration})
}

// Plan is what a login asks of AWS: no secret.
type Plan struct {
	// Method is "IAM".
	Method string `json:"method"`
	// API is the call: "GetClusterCredentials",
	// "GetClusterCredentialsWithIAM" or "redshift-serverless GetCredentials".
	API string `json:"api"`
	// Cluster or Workgroup is what the call names.
	Cluster   string `json:"cluster,omitempty"`
	Workgroup string `json:"workgroup,omitempty"`
	// Region is the AWS region the call goes to.
	Region string `json:"region"`
	// DbUser is the database user asked for; empty for the IAM
	// identity's own.
	DbUser     string   `json:"db_user,omitempty"`
	DbGroups   []string `json:"db_groups,omitempty"`
	AutoCreate bool     `json:"auto_create,omitempty"`
	// DurationSeconds is the lifetime asked for; 0: the API's default.
	DurationSeconds int `json:"duration_seconds,omitempty"`
	// Profile is the shared config profile; empty: the default chain.
	Profile string `json:"profile,omitempty"`
	// Endpoint is the endpoint the DSN set, its user info masked; empty:
	// the SDK's.
	Endpoint string `json:"endpoint,omitempty"`
	// STSEndpoint is the STS endpoint the DSN set (StsEndpointUrl), its
	// user info masked; empty: the SDK's.
	STSEndpoint string `json:"sts_endpoint,omitempty"`
	// CustomDomain is the custom domain name sent (CustomDomainName).
	CustomDomain string `json:"custom_domain,omitempty"`
	// DbName is the database the credentials are for.
	DbName string `json:"db_name,omitempty"`
	// Lookup is the call that finds the endpoint of a DSN without a
	// host: "DescribeClusters" or "redshift-serverless GetWorkgroup".
	Lookup string `json:"lookup,omitempty"`
	// Proxy is the HTTPS proxy of the API calls, "host:port".
	Proxy string `json:"proxy,omitempty"`
	// Plugin is the identity-provider plugin that gives the AWS
	// credentials ("JwtIamAuthPlugin"), Role the role it assumes.
	Plugin string `json:"plugin,omitempty"`
	Role   string `json:"role,omitempty"`
}

// Target names what the call is for: "cluster etl-prod",
// "workgroup etl", "custom domain db.example.com", or a native login's
// plugin ("BrowserIdcAuthPlugin").
func (p Plan) Target() string {
	switch {
	case p.Workgroup != "":
		return "workgroup " + p.Workgroup
	case p.Cluster == "" && p.CustomDomain != "":
		return "custom domain " + p.CustomDomain
	case p.Cluster == "" && p.Plugin != "":
		return p.Plugin // a native login's plugin, which names no cluster
	}
	return "cluster " + p.Cluster
}

// Refused reports a DSN that pgx or lib/pq refused. Their messages quote
// the DSN and mask its password only in part (pgx keeps what follows an
// escaped quote), so the message given is the one they give for the DSN
// with every secret masked: a password does not change whether a DSN
// parses. The backend's error is not wrapped, since its text holds the
// password.
//
// A URL with a '@' gets the hint the URL form's own errors give, since a
// '@' or ':' left unencoded in a password is the usual cause ("invalid
// port").
func Refused(rest string, parse func(string) error) error {
	hint := ""
	if lower := strings.ToLower(rest); (strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")) &&
		strings.Contains(rest, "@") {
		hint = "; if the user name or password holds a '@', ':', '/', '?', '#' or '%', %-encode it (%40, %3A, %2F, %3F, %23, %25)"
	}
	if masked := parse(dsnparse.Redact(rest)); masked != nil {
		return fmt.Errorf("redshift-ka: %s%s", masked, hint)
	}
	return errors.New("redshift-ka: the driver underneath refused the DSN (its message would show the password)" + hint)
}
