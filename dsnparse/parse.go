package dsnparse

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Form is the syntax a DSN was written in.
type Form int

// The DSN forms redshift-ka reads.
const (
	// FormURL: postgres://user:pw@host:5439/db?KeepAlivesIdle=200
	FormURL Form = iota
	// FormKeyValue: libpq's host=... port=5439 keepalives_idle=200
	FormKeyValue
	// FormODBC: Server=...;Port=5439;Database=dev;KeepAlivesIdle=200
	FormODBC
	// FormJDBC: jdbc:redshift://host:5439/dev?tcpKeepAlive=true, the URL
	// of Amazon's Redshift JDBC driver, and jdbc:redshift:iam://...
	FormJDBC
)

// String returns "URL", "key=value", "ODBC" or "JDBC".
func (f Form) String() string {
	switch f {
	case FormURL:
		return "URL"
	case FormKeyValue:
		return "key=value"
	case FormODBC:
		return "ODBC"
	case FormJDBC:
		return "JDBC"
	}
	return "unknown"
}

// Config holds the keep-alive settings of a DSN. Its zero value means
// "everything from the operating system, keep-alive on": a zero duration or
// count is never sent to the kernel.
type Config struct {
	// NoKeepAlive turns SO_KEEPALIVE off (keepalives=0 in the DSN).
	NoKeepAlive bool
	// Idle is how long a connection stays silent before the first probe
	// (TCP_KEEPIDLE). Zero: the OS value.
	Idle time.Duration
	// Interval is the time between unanswered probes (TCP_KEEPINTVL).
	// Zero: the OS value.
	Interval time.Duration
	// Count is how many unanswered probes end the connection
	// (TCP_KEEPCNT). Zero: the OS value.
	Count int
	// UserTimeout is how long sent data may stay unacknowledged before the
	// connection is ended (TCP_USER_TIMEOUT). Zero: left to the OS.
	UserTimeout time.Duration
	// Keys records, for each setting the DSN mentioned, the key as written:
	// Keys[Idle] is "KeepAlivesIdle" for a DSN with KeepAlivesIdle=200, and
	// "" when the DSN does not set Idle.
	Keys KeyNames
	// Ignored lists, as written, the keys that were dropped because they
	// mean nothing to PostgreSQL or to redshift-ka: those of an ODBC DSN
	// (or of its odbc.ini data source) such as Driver, those of a JDBC URL
	// such as loginTimeout, the IAM keys of a DSN that does not ask for IAM,
	// and keys of IAM login that redshift-ka has no use for. They are
	// listed so that a misspelt key can be found.
	Ignored []string
	// DataSource names the odbc.ini data source the DSN read, as
	// "name in /path/odbc.ini"; empty if none.
	DataSource string
}

// DSN is a parsed data source name.
type DSN struct {
	// Form is the syntax the DSN was written in.
	Form Form
	// Config is what the DSN says about keep-alive.
	Config Config
	// Rest is the DSN for pgx or lib/pq: every key redshift-ka owns
	// removed, every other key as written. An ODBC DSN is converted to the
	// key=value form.
	Rest string
	// IAM is the AWS IAM login the DSN asks for; nil when it asks for none.
	IAM *IAM
}

// Parse reads dsn in any of the four forms, takes out the keys redshift-ka
// owns, and checks their values. Errors are of type [*ParseError] and never
// contain a password.
func Parse(dsn string) (*DSN, error) {
	switch detectForm(dsn) {
	case FormURL:
		return parseURL(dsn)
	case FormODBC:
		return parseODBC(dsn)
	case FormJDBC:
		return parseJDBC(dsn)
	default:
		return parseKeyValue(dsn)
	}
}

// detectForm tells the four forms apart. A URL, and a JDBC URL, starts
// with its scheme. An
// ODBC string starts with a key only ODBC uses (Driver, Server, UID, PWD,
// DSN), or has a ';' in its first word, as "Database=dev;Host=h" does. A
// key=value DSN separates pairs with white space; a ';' in its first value
// must then be quoted.
func detectForm(dsn string) Form {
	s := strings.TrimSpace(dsn)
	// pgx and lib/pq match the scheme in lower case only.
	if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
		return FormURL
	}
	if strings.HasPrefix(s, jdbcPrefix) {
		return FormJDBC
	}
	if key, _, ok := strings.Cut(s, "="); ok && odbcFirstKeys[asciiLower(strings.TrimSpace(key))] {
		return FormODBC
	}
	first := s
	if i := strings.IndexAny(s, " \t\n\v\f\r"); i >= 0 {
		first = s[:i]
	}
	if strings.Contains(first, ";") && !strings.Contains(first, "'") {
		return FormODBC
	}
	return FormKeyValue
}

// odbcFirstKeys are keys that mark a DSN as ODBC when they come first.
var odbcFirstKeys = map[string]bool{"driver": true, "dsn": true, "server": true, "uid": true, "pwd": true}

// collector gathers owned keys as a parser meets them.
type collector struct {
	cfg Config
	raw [numSettings]string // value as written, per setting, for conflicts
	// The IAM keys met, per field of iamSpecs: the key as written and its
	// value normalised (bools "1" or "0", lists trimmed), and every IAM key
	// in the order met.
	iamKeys, iamVal [numIAMFields]string
	iamSeen         []string
	// jdbc is set for a JDBC URL, whose own keys (jdbcKeys) are mapped to
	// libpq's, not dropped.
	jdbc bool
	// The key that set sslmode as written, its value as written, and the
	// mode it stands for; see sawSSLMode.
	sslKey, sslRaw, sslMode string
	// The first key that set sslmode to a mode that may not encrypt, and
	// its value, as written.
	sslBadKey, sslBadRaw string
	// emptyHost is a host key given with no host, as written.
	emptyHost string
}

// add records one owned key. Two keys for one setting must agree.
func (c *collector) add(s Setting, key, value string) error {
	spec := &specs[s]
	n, err := spec.parse(key, value)
	if err != nil {
		return err
	}
	if c.cfg.Keys[s] != "" { // keys are never empty
		prev, _ := spec.parse(c.cfg.Keys[s], c.raw[s])
		if prev != n {
			return &ParseError{Key: key, Value: value, Err: reason(ErrConflict,
				"conflicts with "+c.cfg.Keys[s]+"="+c.raw[s]+", both set "+s.String())}
		}
		return nil
	}
	c.raw[s] = value
	c.cfg.Keys[s] = key
	switch s {
	case KeepAlive:
		c.cfg.NoKeepAlive = n == 0
	case Idle:
		c.cfg.Idle = time.Duration(n) * spec.Unit
	case Interval:
		c.cfg.Interval = time.Duration(n) * spec.Unit
	case Count:
		c.cfg.Count = int(n)
	case UserTimeout:
		c.cfg.UserTimeout = time.Duration(n) * spec.Unit
	}
	return nil
}

// Format prints d, for every verb, with the secrets of Rest masked as
// [Redact] masks them, and those of IAM as [IAM.Format] does: printing a
// parsed DSN never shows a password or an AWS secret.
func (d DSN) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), redactedDSN(d.redacted()))
}

// MarshalJSON encodes d with the secrets of Rest and IAM masked.
func (d DSN) MarshalJSON() ([]byte, error) {
	return json.Marshal(redactedDSN(d.redacted()))
}

// redactedDSN is a DSN without its methods, to print one field by field.
type redactedDSN DSN

func (d DSN) redacted() DSN {
	d.Rest = Redact(d.Rest)
	if d.IAM != nil {
		m := d.IAM.masked()
		d.IAM = &m
	}
	return d
}
