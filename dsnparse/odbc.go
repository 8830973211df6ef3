package dsnparse

import (
	"slices"
	"strconv"
	"strings"
)

// defaultODBCPort is the port an ODBC DSN without Port gets, as in
// Amazon's Redshift ODBC driver.
const defaultODBCPort = "5439"

// odbcKeys maps the ODBC keys redshift-ka knows, lower-cased, to the libpq
// key each becomes, or to "" for a key that means something to an ODBC
// driver manager or to Amazon's Redshift ODBC driver and nothing to
// PostgreSQL: it is dropped and listed in [Config.Ignored]. The libpq keys
// an ODBC DSN may carry map to themselves, so that their case is
// normalised: ODBC keys are case-insensitive, libpq's are not. Keys of the
// spec table are looked up first; unknown keys are passed on as written.
var odbcKeys = func() map[string]string {
	keys := map[string]string{
		"server": "host", "host": "host", "port": "port", "database": "dbname", "dbname": "dbname",
		"uid": "user", "user": "user", "username": "user", "pwd": "password", "password": "password",
		"sslmode": "sslmode",
		// Aliases of Amazon's ODBC driver (rsodbc.h).
		"hostname": "host", "servername": "host", "portnumber": "port", "db": "dbname", "logonid": "user",
	}
	for _, k := range strings.Fields(`application_name connect_timeout options
		sslrootcert sslcert sslkey sslpassword sslnegotiation sslsni sslcertmode
		target_session_attrs client_encoding hostaddr passfile service servicefile
		krbsrvname krbspn channel_binding require_auth max_protocol_version min_protocol_version`) {
		keys[k] = k
	}
	for _, k := range strings.Fields(`driver description trace tracefile
		boolsaschar textaslongvarchar uselonglongvarchar usedeclarefetch fetch usemultiplestatements
		enabletablecompletion min_tls proxyhost proxyport proxyuid proxypwd usesystemtruststore
		cafile loglevel logpath readonly stringtype singlerowmode database_metadata_current_db_only`) {
		keys[k] = ""
	}
	return keys
}()

// parseODBC reads an ODBC connection string, and the odbc.ini data source
// it names, and converts them to a libpq key=value DSN without the keys
// redshift-ka owns.
func parseODBC(dsn string) (*DSN, error) {
	attrs, err := splitODBC(dsn, false)
	if err != nil {
		return nil, err
	}
	var c collector
	for i, a := range attrs {
		if asciiLower(a.key) != "dsn" {
			continue
		}
		ds, err := lookupDataSource(a.key, a.value)
		if err != nil {
			return nil, err
		}
		c.cfg.DataSource = a.value + " in " + ds.file
		var over []pair
		attrs, over = overlay(ds.attrs, slices.Concat(attrs[:i], attrs[i+1:]))
		for _, o := range over {
			c.keys = append(c.keys, KeyUse{Key: o.key, From: o.file + " [" + o.section + "]", Went: Dropped,
				To: "overridden by the connection string"})
		}
		break
	}
	var rest []string
	set := map[string]int{} // the libpq keys written, and the attribute that set each
	for i, a := range attrs {
		c.src = ""
		if a.file != "" {
			c.src = a.file + " [" + a.section + "]"
		}
		name := a.key // an unknown key goes on as written
		if ours, err := c.take(a.key, a.value); ours {
			if err != nil {
				return nil, a.located(err)
			}
			continue
		}
		if libpq, known := odbcKeys[asciiLower(a.key)]; known {
			if libpq == "" {
				c.ignore(a.key, "ODBC", "read by the ODBC driver manager or Amazon's ODBC driver only")
				continue
			}
			name = libpq
		} else if asciiLower(a.key) == "dsn" {
			return nil, a.located(&ParseError{Key: a.key, Err: reason(ErrSyntax, "a second data source")})
		} else if !isParamName(a.key) {
			// The text may be a piece of a password; say where, not what.
			if a.file != "" {
				return nil, iniError(a.file, a.section, "line "+strconv.Itoa(a.line)+
					" has an invalid key: want letters, digits, '_', '.' or '-'")
			}
			return nil, malformed(FormODBC, "invalid key in the attribute at byte offset "+strconv.Itoa(a.start))
		}
		if j, dup := set[name]; dup {
			if attrs[j].value != a.value {
				return nil, a.located(conflict(a.key, attrs[j].key, name))
			}
			continue
		}
		if name == "port" {
			if err := checkPorts(a.key, a.value); err != nil {
				return nil, a.located(err)
			}
		}
		set[name] = i
		if name == "sslmode" {
			c.sawSSLMode(a.key, a.value, a.value)
		}
		c.handed(name, a.key, a.value)
		rest = append(rest, name+"="+libpqValue(a.value))
	}
	if _, ok := set["port"]; !ok {
		rest = append(rest, "port="+defaultODBCPort)
	}
	d, err := c.finish(FormODBC, strings.Join(rest, " "))
	if pe, ok := err.(*ParseError); ok {
		// Say which odbc.ini file, if any, the key named came from.
		for i := len(attrs) - 1; i >= 0; i-- {
			if attrs[i].key == pe.Key {
				return nil, attrs[i].located(err)
			}
		}
	}
	return d, err
}

// setting names what an ODBC key sets, so that a key of the connection
// string overrides the data source's key for the same setting whatever
// either is called: Host overrides Server, KeepAliveIdle KeepAlivesIdle.
func setting(key string) string {
	if s, ok := owned(key); ok {
		return "owned:" + s.String()
	}
	if i, ok := iamKeyIndex[asciiLower(key)]; ok {
		return "iam:" + iamSpecs[i].Field
	}
	if i, ok := pluginKeyIndex[asciiLower(key)]; ok {
		return "plugin:" + pluginSpecs[i].Names[0]
	}
	if i, ok := nativeKeyIndex[asciiLower(key)]; ok {
		return "native:" + nativeSpecs[i].Names[0]
	}
	if a, ok := amazonIndex[asciiLower(key)]; ok && a.act == actMinutes {
		return "owned:" + a.setting.String()
	} else if ok && a.act == actConnect {
		return "connect_timeout"
	}
	if libpq := odbcKeys[asciiLower(key)]; libpq != "" {
		return libpq
	}
	return asciiLower(key)
}

// overlay returns base without the settings that top sets, then top; and
// the pairs of base left out.
func overlay(base, top []pair) (out, over []pair) {
	set := make(map[string]bool, len(top))
	for _, a := range top {
		set[setting(a.key)] = true
	}
	for _, a := range base {
		if set[setting(a.key)] {
			over = append(over, a)
		} else {
			out = append(out, a)
		}
	}
	return append(out, top...), over
}

// splitODBC splits "Key=Value;Key={va;lue};" into pairs. Keys and bare
// values are trimmed; a braced value is taken as written, with "}}"
// standing for '}'. Errors say where, not what: an attribute without '='
// may be a piece of a password.
//
// Read leniently, for [Redact], it never fails: it marks what breaks the
// grammar in the pairs, and a key that cannot be one too (parseODBC checks
// keys once the data source's are added).
func splitODBC(s string, lenient bool) ([]pair, error) {
	var pairs []pair
	for i := 0; i < len(s); i++ { // i++ skips the ';'
		p := pair{start: i}
		eq := strings.IndexAny(s[i:], "=;")
		if eq < 0 || s[i+eq] == ';' {
			end := indexFrom(s, i, ';')
			if text := strings.TrimSpace(s[i:end]); text != "" {
				p = pair{key: text, value: text, start: i, valStart: i, end: end}
				if err := broken(lenient, &p.badKey, FormODBC, `missing "=" in the attribute at offset `+strconv.Itoa(i)); err != nil {
					return nil, err
				}
				pairs = append(pairs, p)
			}
			i = end
			continue
		}
		if p.key = strings.TrimSpace(s[i : i+eq]); p.key == "" && !lenient {
			return nil, malformed(FormODBC, `missing key before "=" at offset `+strconv.Itoa(i+eq))
		}
		p.badKey = lenient && !isParamName(p.key) // "" too
		i = skipSpace(s, i+eq+1)
		p.valStart = i
		if i < len(s) && s[i] == '{' {
			var closed bool
			p.value, i, closed = readBraced(s, i)
			var err error
			if j := skipSpace(s, i); !closed {
				err = broken(lenient, &p.badValue, FormODBC, "unterminated {…} value of key "+strconv.Quote(p.key))
			} else if j < len(s) && s[j] != ';' {
				err = broken(lenient, &p.badValue, FormODBC, `text after the closing "}" of key `+strconv.Quote(p.key))
			}
			if err != nil {
				return nil, err
			}
			i = indexFrom(s, i, ';')
		} else {
			i = indexFrom(s, i, ';')
			p.value = strings.TrimSpace(s[p.valStart:i])
		}
		p.end = i
		pairs = append(pairs, p)
	}
	return pairs, nil
}
