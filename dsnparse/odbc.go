package dsnparse

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// DefaultODBCPort is the port an ODBC DSN without Port gets, as in Amazon's
// Redshift ODBC driver.
const DefaultODBCPort = "5439"

// odbcKey says what becomes of an ODBC key.
type odbcKey struct {
	// owned marks a key redshift-ka owns, which sets setting.
	owned   bool
	setting Setting
	// libpq is the libpq key the ODBC key becomes; empty for an owned or
	// an ignored key.
	libpq string
	// ignored marks a key that means nothing to PostgreSQL: it is dropped
	// and listed in [Config.Ignored].
	ignored bool
}

// odbcKeys lists every ODBC key redshift-ka knows, and odbcKeyList what
// becomes of each, so that one lookup in odbcTable settles an attribute.
// Other keys are passed on as written. They are built from the spec table
// and the three lists below.
var odbcKeys, odbcKeyList = func() (keys []string, list []odbcKey) {
	add := func(key string, k odbcKey) {
		keys = append(keys, key)
		list = append(list, k)
	}
	for i, k := range ownedKeys {
		add(k, odbcKey{owned: true, setting: ownedSettings[i]})
	}
	for _, k := range slices.Sorted(maps.Keys(odbcToLibpq)) {
		add(k, odbcKey{libpq: odbcToLibpq[k]})
	}
	for _, k := range libpqKeys {
		add(k, odbcKey{libpq: k})
	}
	for _, k := range odbcOnlyKeys {
		add(k, odbcKey{ignored: true})
	}
	return keys, list
}()

// odbcTable finds the keys of odbcKeys.
var odbcTable = newKeyTable(odbcKeys)

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
var libpqKeys = []string{
	"application_name", "connect_timeout", "options",
	"sslrootcert", "sslcert", "sslkey", "sslpassword",
	"sslnegotiation", "sslsni", "sslcertmode",
	"target_session_attrs", "client_encoding", "hostaddr",
	"passfile", "service", "servicefile",
	"krbsrvname", "krbspn", "channel_binding",
	"require_auth", "max_protocol_version", "min_protocol_version",
}

// odbcOnlyKeys mean something to an ODBC driver manager or to Amazon's
// Redshift ODBC driver, and nothing to PostgreSQL. They are dropped and
// listed in [Config.Ignored].
var odbcOnlyKeys = []string{
	"driver", "description", "trace", "tracefile",
	"iam", "authtype", "clusterid", "region",
	"accesskeyid", "secretaccesskey", "sessiontoken",
	"profile", "plugin_name", "idp_host", "idp_port",
	"preferred_role", "dbuser", "dbgroups", "autocreate",
	"boolsaschar", "textaslongvarchar", "uselonglongvarchar",
	"usedeclarefetch", "fetch", "usemultiplestatements",
	"enabletablecompletion", "min_tls", "proxyhost",
	"proxyport", "proxyuid", "proxypwd", "usesystemtruststore",
	"cafile", "loglevel", "logpath", "readonly",
	"stringtype", "singlerowmode", "database_metadata_current_db_only",
}

// lookupODBC returns what becomes of an ODBC key (in any case).
func lookupODBC(key string) (odbcKey, bool) {
	i, ok := odbcTable.find(key)
	if !ok {
		return odbcKey{}, false
	}
	return odbcKeyList[i], true
}

// parseODBC reads an ODBC connection string, and the odbc.ini data source
// it names, and converts them to a libpq key=value DSN without the keys
// redshift-ka owns.
func parseODBC(dsn string) (*DSN, error) {
	var buf [16]pair // most connection strings fit: no allocation
	attrs, err := splitODBC(buf[:0], dsn)
	if err != nil {
		return nil, err
	}
	var c collector
	for i, a := range attrs {
		if !equalFoldASCII("dsn", a.key) {
			continue
		}
		ds, err := lookupDataSource(a.key, a.value)
		if err != nil {
			return nil, err
		}
		c.cfg.DataSource = a.value + " in " + ds.file
		attrs = overlay(ds.attrs, slices.Concat(attrs[:i], attrs[i+1:]))
		break
	}
	// passed records the libpq keys written so far, and the index of the
	// attribute that set each, to find two that set one key.
	type passed struct {
		name string
		attr int
	}
	var (
		passedBuf [16]passed
		done      = passedBuf[:0]
		doneMap   map[string]int // done, for strings too long to search
		rest      strings.Builder
	)
	if len(attrs) > len(passedBuf) {
		doneMap = make(map[string]int, len(attrs))
	}
	rest.Grow(len(dsn) + 6*len(attrs) + len(" port=") + len(DefaultODBCPort))
	hasPort := false
	for i := range attrs {
		a := &attrs[i]
		name := a.key // an unknown key goes on as written
		if k, known := lookupODBC(a.key); known {
			if k.owned {
				if err := c.add(k.setting, a.key, a.value); err != nil {
					return nil, a.located(err)
				}
				continue
			}
			if k.ignored {
				c.cfg.Ignored = append(c.cfg.Ignored, a.key)
				continue
			}
			name = k.libpq
		} else if equalFoldASCII("dsn", a.key) {
			return nil, a.located(&ParseError{Key: a.key, Err: reason(ErrSyntax, "a second data source")})
		} else if !isParamName(a.key) {
			// The text may be a piece of a password; say where, not what.
			if a.file != "" {
				return nil, iniError(a.file, a.section, "line "+strconv.Itoa(a.line)+
					" has an invalid key: want letters, digits, '_', '.' or '-'")
			}
			return nil, malformed(FormODBC, "invalid key in the attribute at byte offset "+strconv.Itoa(a.offset))
		}
		j, dup := -1, false
		if doneMap != nil {
			j, dup = doneMap[name]
		} else if j = slices.IndexFunc(done, func(p passed) bool { return p.name == name }); j >= 0 {
			j, dup = done[j].attr, true
		}
		if dup {
			if prev := attrs[j]; prev.value != a.value {
				return nil, a.located(&ParseError{Key: a.key, Err: reason(ErrConflict,
					"conflicts with "+prev.key+", both set "+name)})
			}
			continue
		}
		if doneMap != nil {
			doneMap[name] = i
		} else {
			done = append(done, passed{name, i})
		}
		hasPort = hasPort || name == "port"
		if rest.Len() > 0 {
			rest.WriteByte(' ')
		}
		rest.WriteString(name)
		rest.WriteByte('=')
		writeValue(&rest, a.value)
	}
	if !hasPort {
		if rest.Len() > 0 {
			rest.WriteByte(' ')
		}
		rest.WriteString("port=" + DefaultODBCPort)
	}
	return &DSN{Form: FormODBC, Config: c.cfg, Rest: rest.String()}, nil
}

// setting names what an ODBC key sets, so that a key of the connection
// string overrides the data source's key for the same setting whatever
// either is called: Host overrides Server, KeepAliveIdle KeepAlivesIdle.
func setting(key string) string {
	if s, owned := Owned(key); owned {
		return "owned:" + s.String()
	}
	if k, ok := lookupODBC(key); ok && k.libpq != "" {
		return k.libpq
	}
	return strings.ToLower(key)
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
// for '}'. The pairs are appended to pairs.
func splitODBC(pairs []pair, s string) ([]pair, error) {
	i := 0
	for i < len(s) {
		start := i
		// eq is the '=' or ';' that ends the key.
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 {
			eq = len(s) - i
		}
		if semi := strings.IndexByte(s[i:i+eq], ';'); semi >= 0 {
			eq = semi
		}
		eq += i
		if eq == len(s) || s[eq] == ';' {
			if strings.TrimSpace(s[i:eq]) != "" {
				// The text may be a piece of a password; say where, not what.
				return nil, malformed(FormODBC, `missing "=" in the attribute at offset `+strconv.Itoa(start))
			}
			i = eq + 1
			continue
		}
		key := trimSpace(s[i:eq])
		if key == "" {
			return nil, malformed(FormODBC, `missing key before "=" at offset `+strconv.Itoa(eq))
		}
		i = eq + 1
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		var value string
		if i < len(s) && s[i] == '{' {
			i++
			from, doubled, closed := i, false, false
			for i < len(s) {
				if s[i] == '}' {
					if i+1 < len(s) && s[i+1] == '}' {
						doubled = true
						i += 2
						continue
					}
					closed = true
					break
				}
				i++
			}
			if !closed {
				return nil, malformed(FormODBC, "unterminated {…} value of key "+strconv.Quote(key))
			}
			value = s[from:i]
			if doubled {
				// Every '}' before the closing one is half of a "}}".
				value = strings.ReplaceAll(value, "}}", "}")
			}
			i++ // the closing '}'
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			if i < len(s) && s[i] != ';' {
				return nil, malformed(FormODBC, `text after the closing "}" of key `+strconv.Quote(key))
			}
		} else {
			end := strings.IndexByte(s[i:], ';')
			if end < 0 {
				end = len(s) - i
			}
			value = trimSpace(s[i : i+end])
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
