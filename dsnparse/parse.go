package dsnparse

import (
	"encoding/json"
	"fmt"
	"strconv"
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
	// Ignored lists the keys that were dropped because they mean nothing
	// to PostgreSQL or to redshift-ka, with whose they are and what they
	// would have done: those of an ODBC DSN (or of its odbc.ini data
	// source) such as Driver, those of a JDBC URL such as readOnly, the IAM
	// keys of a DSN that does not ask for IAM, and keys of IAM login that
	// redshift-ka has no use for.
	Ignored []IgnoredKey
	// Warnings name settings that parse but look like mistakes: a user
	// timeout under a second (its unit is milliseconds), or under
	// idle + interval x count.
	Warnings []string
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
	// Native is the login with an identity provider's token the DSN asks
	// for (plugin_name=BasicJwtCredentialsProvider, ...); nil when it
	// asks for none.
	Native *Native
	// Keys lists every key of the DSN (and of its odbc.ini data source),
	// in order, and where it went.
	Keys []KeyUse
}

// Parse reads dsn in any of the four forms, takes out the keys redshift-ka
// owns, and checks their values. Errors are of type [*ParseError] and never
// contain a password.
func Parse(dsn string) (*DSN, error) {
	if err := schemeError(dsn); err != nil {
		return nil, err
	}
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

// schemeError refuses a DSN that starts with a URL scheme that is none
// of ours (redshift://, jdbc:postgresql://), which would otherwise be read
// as a malformed key=value DSN.
func schemeError(dsn string) error {
	s := strings.TrimSpace(dsn)
	scheme, _, ok := strings.Cut(s, "://")
	if !ok || scheme == "" || strings.Trim(asciiLower(scheme), "abcdefghijklmnopqrstuvwxyz0123456789+.-:") != "" {
		return nil
	}
	switch scheme {
	case "postgres", "postgresql", "jdbc:redshift", "jdbc:redshift:iam":
		return nil
	}
	return &ParseError{Err: reason(ErrMalformed, "unknown DSN scheme "+strconv.Quote(scheme+"://")+
		"; want postgres:// or postgresql:// (a URL), jdbc:redshift:// or jdbc:redshift:iam:// (Amazon's JDBC URL), "+
		"libpq's key=value or an ODBC string")}
}

// odbcFirstKeys are keys that mark a DSN as ODBC when they come first.
var odbcFirstKeys = map[string]bool{"driver": true, "dsn": true, "server": true, "uid": true, "pwd": true}

// collector gathers owned keys as a parser meets them.
type collector struct {
	cfg Config
	raw [numSettings]string // value as written, per setting, for conflicts
	val [numSettings]int64  // value read, per setting
	// The IAM keys met, per field of iamSpecs: the key as written and its
	// value normalised (bools "1" or "0", lists trimmed).
	iamKeys, iamVal [numIAMFields]string
	// The plugin keys met, per field of pluginSpecs (plugin.go).
	plugKeys, plugVal [numPluginFields]string
	// The keys of the native login met, per field of nativeSpecs, as
	// written, and their values.
	nativeKeys, nativeVal [numNativeFields]string
	// native is the native plugin's name once finishNative took it, which
	// turns the IAM login off.
	native string
	// exchange is set once finishNative took IAM keys (exchangeFields)
	// for IdpTokenAuthPlugin's exchange of AWS credentials.
	exchange bool
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
	// host, user and dbname are the (first) host, the user and the
	// database handed on, for the IAM login; handedOn the libpq keys
	// handed on, each with the key as written and its value.
	host, user, dbname string
	handedOn           map[string][2]string
	// password is the password handed on, which a SAML plugin takes as
	// the identity provider's.
	password string
	// mapped are Amazon keys that go on under a libpq key.
	mapped []mappedKey
	// keys records every key and where it went; src is "file [section]"
	// while the keys of an odbc.ini data source are read.
	keys []KeyUse
	src  string
}

// add records one owned key. Two keys for one setting must agree.
func (c *collector) add(s Setting, key, value string) error {
	n, err := specs[s].parse(key, value)
	if err != nil {
		return err
	}
	return c.set(s, key, value, n)
}

// set records the value n of a setting, written as key=value.
func (c *collector) set(s Setting, key, value string, n int64) error {
	spec := &specs[s]
	if prev := c.cfg.Keys[s]; prev != "" { // keys are never empty
		if c.val[s] == n {
			c.ours(key, s.String())
			return nil
		}
		msg := "set twice, to " + strconv.Quote(c.raw[s]) + " and " + strconv.Quote(value)
		if !strings.EqualFold(prev, key) {
			msg = "conflicts with " + prev + "=" + c.raw[s] + ": both set " + s.String()
		}
		return &ParseError{Key: key, Value: value, Err: reason(ErrConflict, msg)}
	}
	c.raw[s], c.val[s] = value, n
	c.cfg.Keys[s] = key
	c.ours(key, s.String())
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
	if d.Native != nil {
		m := d.Native.masked()
		d.Native = &m
	}
	return d
}
