package dsnparse

import (
	"strconv"
	"strings"
)

// DefaultODBCPort is the port an ODBC DSN without Port gets, as in Amazon's
// Redshift ODBC driver.
const DefaultODBCPort = "5439"

// odbcToLibpq maps ODBC key names (lower-cased) to the libpq keys pgx and
// lib/pq read.
var odbcToLibpq = map[string]string{
	"server":   "host",
	"host":     "host",
	"port":     "port",
	"database": "dbname",
	"dbname":   "dbname",
	"uid":      "user",
	"user":     "user",
	"username": "user",
	"pwd":      "password",
	"password": "password",
	"sslmode":  "sslmode",
}

// libpqKeys are the other libpq keys an ODBC DSN may carry; their case is
// normalised, since ODBC keys are case-insensitive and libpq's are not.
var libpqKeys = map[string]bool{
	"application_name": true, "connect_timeout": true, "options": true,
	"sslrootcert": true, "sslcert": true, "sslkey": true, "sslpassword": true,
	"sslnegotiation": true, "sslsni": true, "sslcertmode": true,
	"target_session_attrs": true, "client_encoding": true, "hostaddr": true,
	"passfile": true, "service": true, "servicefile": true,
	"krbsrvname": true, "krbspn": true, "channel_binding": true,
	"require_auth": true, "max_protocol_version": true, "min_protocol_version": true,
}

// odbcOnlyKeys mean something to an ODBC driver manager or to Amazon's
// Redshift ODBC driver, and nothing to PostgreSQL. They are dropped and
// listed in [DSN.Ignored].
var odbcOnlyKeys = map[string]bool{
	"driver": true, "description": true, "trace": true, "tracefile": true,
	"iam": true, "authtype": true, "clusterid": true, "region": true,
	"accesskeyid": true, "secretaccesskey": true, "sessiontoken": true,
	"profile": true, "plugin_name": true, "idp_host": true, "idp_port": true,
	"preferred_role": true, "dbuser": true, "dbgroups": true, "autocreate": true,
	"boolsaschar": true, "textaslongvarchar": true, "uselonglongvarchar": true,
	"usedeclarefetch": true, "fetch": true, "usemultiplestatements": true,
	"enabletablecompletion": true, "min_tls": true, "proxyhost": true,
	"proxyport": true, "proxyuid": true, "proxypwd": true, "usesystemtruststore": true,
	"cafile": true, "loglevel": true, "logpath": true, "readonly": true,
	"stringtype": true, "singlerowmode": true, "database_metadata_current_db_only": true,
}

// parseODBC reads an ODBC connection string, and the odbc.ini data source
// it names, and converts them to a libpq key=value DSN without the keys
// redshift-ka owns.
func parseODBC(dsn string) (*DSN, error) {
	attrs, err := splitODBC(dsn)
	if err != nil {
		return nil, err
	}
	var c collector
	for i, a := range attrs {
		if !strings.EqualFold(a.key, "dsn") {
			continue
		}
		ds, err := lookupDataSource(a.key, a.value)
		if err != nil {
			return nil, err
		}
		c.cfg.DataSource = a.value + " in " + ds.file
		attrs = append(attrs[:i:i], attrs[i+1:]...)
		attrs = overlay(ds.attrs, attrs)
		break
	}
	var (
		out   []string
		libpq = map[string]pair{} // libpq key -> the ODBC pair that set it
	)
	for _, a := range attrs {
		lower := strings.ToLower(a.key)
		if s, owned := Owned(a.key); owned {
			if err := c.add(s, a.key, a.value); err != nil {
				return nil, a.located(err)
			}
			continue
		}
		if odbcOnlyKeys[lower] {
			c.cfg.Ignored = append(c.cfg.Ignored, a.key)
			continue
		}
		name, mapped := odbcToLibpq[lower]
		switch {
		case mapped:
		case libpqKeys[lower]:
			name = lower
		case lower == "dsn":
			return nil, a.located(&ParseError{Key: a.key, Err: reason(ErrSyntax, "a second data source")})
		case !isParamName(a.key):
			// The text may be a piece of a password; say where, not what.
			return nil, malformed(FormODBC, "invalid key in the attribute at offset "+strconv.Itoa(a.offset))
		default:
			name = a.key
		}
		if prev, dup := libpq[name]; dup {
			if prev.value != a.value {
				return nil, a.located(&ParseError{Key: a.key, Err: reason(ErrConflict,
					"conflicts with "+prev.key+", both set "+name)})
			}
			continue
		}
		libpq[name] = a
		out = append(out, name+"="+quoteValue(a.value))
	}
	if _, ok := libpq["port"]; !ok {
		out = append(out, "port="+DefaultODBCPort)
	}
	return &DSN{Form: FormODBC, Config: c.cfg, Rest: strings.Join(out, " ")}, nil
}

// setting names what an ODBC key sets, so that a key of the connection
// string overrides the data source's key for the same setting whatever
// either is called: Host overrides Server, KeepAliveIdle KeepAlivesIdle.
func setting(key string) string {
	if s, owned := Owned(key); owned {
		return "owned:" + s.String()
	}
	lower := strings.ToLower(key)
	if name, ok := odbcToLibpq[lower]; ok {
		return name
	}
	return lower
}

// overlay returns base without the settings that top sets, then top.
func overlay(base, top []pair) []pair {
	set := make(map[string]bool, len(top))
	for _, a := range top {
		set[setting(a.key)] = true
	}
	var out []pair
	for _, a := range base {
		if !set[setting(a.key)] {
			out = append(out, a)
		}
	}
	return append(out, top...)
}

// splitODBC splits "Key=Value;Key={va;lue};" into pairs. Keys and bare
// values are trimmed; a braced value is taken as written, with "}}" standing
// for '}'.
func splitODBC(s string) ([]pair, error) {
	pairs := make([]pair, 0, strings.Count(s, "="))
	i := 0
	for i < len(s) {
		start := i
		eq := strings.IndexAny(s[i:], "=;")
		if eq < 0 || s[i+eq] == ';' {
			end := len(s)
			if eq >= 0 {
				end = i + eq
			}
			if strings.TrimSpace(s[i:end]) != "" {
				// The text may be a piece of a password; say where, not what.
				return nil, malformed(FormODBC, `missing "=" in the attribute at offset `+strconv.Itoa(start))
			}
			i = end + 1
			continue
		}
		key := strings.TrimSpace(s[i : i+eq])
		if key == "" {
			return nil, malformed(FormODBC, `missing key before "=" at offset `+strconv.Itoa(i+eq))
		}
		i += eq + 1
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		var value string
		if i < len(s) && s[i] == '{' {
			var b strings.Builder
			i++
			closed := false
			for i < len(s) {
				if s[i] == '}' {
					if i+1 < len(s) && s[i+1] == '}' {
						b.WriteByte('}')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, malformed(FormODBC, "unterminated {…} value of key "+strconv.Quote(key))
			}
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			if i < len(s) && s[i] != ';' {
				return nil, malformed(FormODBC, `text after the closing "}" of key `+strconv.Quote(key))
			}
			value = b.String()
		} else {
			end := strings.IndexByte(s[i:], ';')
			if end < 0 {
				end = len(s) - i
			}
			value = strings.TrimSpace(s[i : i+end])
			i += end
		}
		pairs = append(pairs, pair{key: key, value: value, text: s[start:i], offset: start})
		i++ // the ';'
	}
	return pairs, nil
}

// isParamName reports whether key can be passed on as a libpq key or a
// server run-time parameter: letters, digits, '_', '.' and '-'.
func isParamName(key string) bool {
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return key != ""
}
