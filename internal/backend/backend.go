// Package backend holds what the two database/sql drivers, pgx's and
// lib/pq's, share: their options, and turning a DSN into the rest of the
// DSN and a dialer.
package backend

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/dsnparse"
)

// Options are what the driver's options set.
type Options struct {
	// Logger logs each connection dialed, at debug level.
	Logger *slog.Logger
	// Pgx are options for pgx's database/sql connector.
	Pgx []stdlib.OptionOpenDB
}

// Prepare parses dsn and makes the dialer for its settings.
func Prepare(dsn string, o *Options) (*dsnparse.DSN, *dialer.Dialer, error) {
	parsed, err := dsnparse.Parse(dsn)
	if err != nil {
		return nil, nil, err
	}
	d, err := dialer.New(parsed.Config, o.Logger)
	if err != nil {
		return nil, nil, err
	}
	return parsed, d, nil
}

// Refused reports a DSN that pgx or lib/pq refused. Their messages quote
// the DSN and mask its password only in part (pgx keeps what follows an
// escaped quote), so the message given is the one they give for the DSN
// with every secret masked: a password does not change whether a DSN
// parses. The backend's error is not wrapped, since its text holds the
// password.
func Refused(rest string, parse func(string) error) error {
	if masked := parse(dsnparse.Redact(rest)); masked != nil {
		return fmt.Errorf("redshift-ka: %s", masked)
	}
	return errors.New("redshift-ka: the driver underneath refused the DSN (its message would show the password)")
}
