package dsnparse

import "errors"

// Sentinel errors, to be checked with [errors.Is] on a [*ParseError].
var (
	// ErrSyntax: a value is not of the form its key wants (not a number, a
	// fraction, a negative number, an unknown boolean word).
	ErrSyntax = errors.New("invalid syntax")
	// ErrRange: a number is outside the range its key accepts.
	ErrRange = errors.New("value out of range")
	// ErrConflict: two keys set one setting to different values.
	ErrConflict = errors.New("conflicting values")
	// ErrMalformed: the DSN as a whole cannot be read in its form.
	ErrMalformed = errors.New("malformed DSN")
	// ErrDataSource: an odbc.ini data source cannot be found or read.
	ErrDataSource = errors.New("odbc.ini data source")
	// ErrNotSupported: the DSN asks for something redshift-ka does not do,
	// such as an identity-provider plugin it does not know.
	ErrNotSupported = errors.New("not supported")
	// ErrMissing: the DSN lacks a key that another key needs, such as the
	// cluster or workgroup of an IAM login.
	ErrMissing = errors.New("missing key")
	// ErrUnknownKey: a key that is none of ours but close to one (in
	// case, or by a letter or two), such as KeepAliveIdel: probably a
	// misspelling, which the server would refuse or a driver would drop.
	ErrUnknownKey = errors.New("unknown key")
	// ErrTLSRequired: the DSN asks for an IAM login without TLS
	// (sslmode disable, allow or prefer, JDBC's ssl=false), which Amazon's
	// drivers refuse too.
	ErrTLSRequired = errors.New("TLS required")
)

// ParseError reports a DSN that cannot be used. Its message names the key,
// the value, and what the key accepts, for example:
//
//	redshift-ka: KeepAlivesIdle: want whole seconds 0..32767, got "abc"
//
// A key read from an odbc.ini data source is named with its file and
// section:
//
//	redshift-ka: /etc/odbc.ini [redshift] KeepAlivesIdle: want whole seconds 0..32767, got "abc"
//
// It never contains a password: Value is set only for keys redshift-ka
// owns, and messages about the DSN as a whole quote no part of it that could
// hold a password.
type ParseError struct {
	// File and Section name the odbc.ini file and data source the key came
	// from; empty for a key of the connection string itself.
	File, Section string
	// Key is the key as written in the DSN; empty when the error is about
	// the DSN as a whole.
	Key string
	// Value is the offending value as written; empty when not applicable.
	Value string
	// Err describes the problem and wraps one of the sentinel errors.
	Err error
}

// Error says which key, and what is wrong with its value; a secret value
// is never shown.
func (e *ParseError) Error() string {
	msg := "redshift-ka: "
	if e.File != "" {
		msg += e.File + " "
		if e.Section != "" {
			msg += "[" + e.Section + "] "
		}
	}
	if e.Key != "" {
		msg += e.Key + ": "
	}
	if e.Err != nil {
		msg += e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error, which wraps a sentinel.
func (e *ParseError) Unwrap() error { return e.Err }

// detail is an error whose message is written for people and which wraps
// a sentinel without repeating its text.
type detail struct {
	msg  string
	kind error
	// cause, when set, is the error behind it (an *os.PathError's Err),
	// whose text msg holds already.
	cause error
}

func (d *detail) Error() string { return d.msg }
func (d *detail) Unwrap() []error {
	if d.cause == nil {
		return []error{d.kind}
	}
	return []error{d.kind, d.cause}
}

func reason(kind error, msg string) error { return &detail{msg: msg, kind: kind} }

func malformed(form Form, msg string) error {
	return &ParseError{Err: reason(ErrMalformed, "malformed "+form.String()+" DSN: "+msg)}
}
