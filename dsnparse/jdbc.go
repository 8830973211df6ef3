package dsnparse

import (
	"net/url"
	"strconv"
	"strings"
)

// jdbcPrefix starts every URL of Amazon's Redshift JDBC driver, which
// matches it in this case only.
const jdbcPrefix = "jdbc:redshift:"

// jdbcKeys maps the JDBC keys that mean something to PostgreSQL,
// lower-cased, to the libpq key each becomes. Every other key, but those
// redshift-ka reads itself (amazonTable: loginTimeout, socketTimeout, ...),
// is dropped and listed in [Config.Ignored]: the JDBC driver has many that
// libpq lacks (readOnly, defaultRowFetchSize, ...).
var jdbcKeys = map[string]string{
	"user": "user", "uid": "user", "password": "password", "pwd": "password",
	"host": "host", "port": "port", "dbname": "dbname", "sslmode": "sslmode",
	"applicationname": "application_name", "sslrootcert": "sslrootcert", "sslcert": "sslcert", "sslkey": "sslkey",
	"sslpassword": "sslpassword", "options": "options",
	"authmech": "sslmode", // the JDBC driver's older name, values in capitals
}

// jdbcURL is a JDBC URL as [splitJDBC] reads it.
type jdbcURL struct {
	iam      bool   // jdbc:redshift:iam://
	hosts    string // the host list between "//" and the path, as written
	database string // the path after the hosts, as written; "" without one
	params   []pair
	// userinfo is dsn[userStart:userEnd], the text before an '@' in the
	// host list (which JDBC does not read as user info); empty without.
	userStart, userEnd int
}

// splitJDBC reads a jdbc:redshift:// or jdbc:redshift:iam:// URL as
// Amazon's JDBC driver does: the query is what follows the first '?', or
// without one the first ';', and its parameters are separated by ';' or
// '&'; values are %-escaped (a '+' is a space), keys are taken as
// written. Read strictly, a URL without "//" after the scheme, and a
// parameter key that cannot be a libpq key, are refused. Read leniently,
// for [Redact], it never fails, and marks a key that cannot be one as
// badKey.
func splitJDBC(dsn string, lenient bool) (*jdbcURL, error) {
	u := &jdbcURL{}
	if nul := strings.IndexByte(dsn, 0); nul >= 0 && !lenient {
		// pgx and lib/pq refuse a NUL byte in what it becomes.
		return nil, malformed(FormJDBC, "a NUL byte at offset "+strconv.Itoa(nul))
	}
	i := skipSpace(dsn, 0) + len(jdbcPrefix)
	if strings.HasPrefix(dsn[i:], "iam:") {
		u.iam = true
		i += len("iam:")
	}
	if !strings.HasPrefix(dsn[i:], "//") {
		if !lenient {
			return nil, malformed(FormJDBC, `want jdbc:redshift://host:port/database or jdbc:redshift:iam://host:port/database`)
		}
	} else {
		i += len("//")
	}
	from := i // where the hosts start
	if lenient {
		// A password in user info, which JDBC does not read, may hold a
		// '/', '?' or ';': take all up to the last '@' before the first
		// '=' as user info.
		if at := strings.LastIndexByte(dsn[i:indexFrom(dsn, i, '=')], '@'); at >= 0 {
			u.userStart, u.userEnd = i, i+at
			from = i + at + 1
		}
	}
	q := indexFrom(dsn, from, '?')
	if q == len(dsn) {
		q = indexFrom(dsn, from, ';')
	}
	server := dsn[from:q]
	slash := strings.IndexByte(server, '/')
	u.hosts = server
	if slash >= 0 {
		u.hosts, u.database = server[:slash], server[slash+1:]
	}
	if at := strings.LastIndexByte(u.hosts, '@'); at >= 0 {
		if !lenient {
			return nil, malformed(FormJDBC, `user info before an "@" in the host; give user and password as parameters`)
		}
		u.userStart, u.userEnd = i, from+at
	}
	if q == len(dsn) {
		return u, nil
	}
	for _, p := range splitQuery(dsn, q+1, ";&") {
		if p.key == "" && !p.hasEq() {
			continue // an empty parameter, as between "&&"
		}
		if !isParamName(strings.TrimSpace(p.key)) {
			if !lenient {
				return nil, malformed(FormJDBC, "invalid key in the query parameter at offset "+strconv.Itoa(p.start))
			}
			p.badKey = true
		}
		u.params = append(u.params, p)
	}
	return u, nil
}

// parseJDBC converts a JDBC URL to a libpq key=value DSN without the keys
// redshift-ka owns: host, port (5439 by default, as in Amazon's driver)
// and dbname from the URL, the JDBC keys libpq knows under their libpq
// names (an empty value is taken as absent), ssl=true (the JDBC driver's
// default, also when ssl is absent) as sslmode=verify-ca and ssl=false as
// sslmode=disable, unless sslmode (or its JDBC alias AuthMech) is given.
func parseJDBC(dsn string) (*DSN, error) {
	u, err := splitJDBC(strings.TrimRight(dsn, " \t\n\v\f\r"), false)
	if err != nil {
		return nil, err
	}
	c := collector{jdbc: true}
	if u.iam {
		if err := c.addIAM(iamSwitch, "jdbc:redshift:iam", "true"); err != nil {
			return nil, err
		}
	}
	type keyValue struct{ key, value string } // the JDBC key as written
	var (
		order []string // libpq keys in the order first set
		set   = map[string]keyValue{}
		ssl   *keyValue
	)
	put := func(libpq, key, value string) error {
		if prev, dup := set[libpq]; dup {
			if prev.value != value {
				return conflict(key, prev.key, libpq)
			}
			return nil
		}
		set[libpq] = keyValue{key, value}
		order = append(order, libpq)
		c.handed(libpq, key, value)
		return nil
	}
	cluster, region, err := jdbcHosts(u, put)
	if err != nil {
		return nil, err
	}
	if cluster != "" {
		// jdbc:redshift:iam://cluster:region/db, as Driver.parseURL reads it.
		if err := c.addIAM(iamClusterID, "jdbc:redshift:iam://cluster", cluster); err != nil {
			return nil, err
		}
		if err := c.addIAM(iamRegion, "jdbc:redshift:iam://cluster:region", region); err != nil {
			return nil, err
		}
	}
	for _, p := range u.params {
		key := strings.TrimSpace(p.key)
		value, err := url.QueryUnescape(p.value)
		if err != nil {
			if claimed(key) {
				return nil, valueError(key, p.value, ErrSyntax, "invalid %-escape in ")
			}
			return nil, malformed(FormJDBC, "invalid %-escape in the query parameter at offset "+strconv.Itoa(p.start))
		}
		if ours, err := c.take(key, value); ours {
			if err != nil {
				return nil, err
			}
			continue
		}
		lower := asciiLower(key)
		if lower == "ssl" {
			ssl = &keyValue{key, value}
			continue
		}
		libpq, known := jdbcKeys[lower]
		if !known {
			c.ignore(key, "none", "unknown to Amazon's JDBC driver, which ignores such keys; a JDBC URL hands on only libpq's")
			continue
		}
		if value == "" {
			// Absent, as for the JDBC driver; user='' would be the
			// OS user to pgx and lib/pq.
			continue
		}
		if libpq == "sslmode" {
			c.sawSSLMode(key, value, asciiLower(value))
			value = asciiLower(value)
		}
		if err := put(libpq, key, value); err != nil {
			return nil, err
		}
	}
	if _, ok := set["sslmode"]; ok {
		if ssl != nil {
			// sslmode (or AuthMech) rules, as in the JDBC driver's
			// RedshiftConnectionImpl.setAuthMech.
			c.ignore(ssl.key, "JDBC", "TLS on or off; sslmode (or AuthMech) rules over it, as in the JDBC driver")
		}
	} else {
		// Amazon's JDBC driver requires TLS unless told otherwise: ssl
		// defaults to true (RedshiftProperty.SSL), which it verifies
		// against the CA (sslmode verify-ca). pgx and lib/pq would
		// default to "prefer", which falls back to plain text.
		key, value, mode := "ssl (absent: true)", "true", "verify-ca"
		if ssl != nil {
			key, value = ssl.key, ssl.value
			switch strings.ToLower(strings.TrimSpace(value)) {
			case "", "1", "true", "on", "yes":
			case "0", "false", "off", "no":
				mode = "disable"
			default:
				return nil, valueError(key, value, ErrSyntax, "want "+boolWant+" or nothing, got ")
			}
		}
		c.sawSSLMode(key, value, mode)
		_ = put("sslmode", key, mode)
	}
	rest := make([]string, len(order))
	for i, k := range order {
		rest[i] = k + "=" + libpqValue(set[k].value)
	}
	return c.finish(FormJDBC, strings.Join(rest, " "))
}

// jdbcHosts puts the host, port and dbname of a JDBC URL's host list and
// path: hosts and ports as comma-separated lists, a port of 5439 for a
// host without one. A jdbc:redshift:iam://cluster:region/ URL puts no host
// or port and returns the cluster and region instead.
func jdbcHosts(u *jdbcURL, put func(libpq, key, value string) error) (cluster, region string, err error) {
	var hosts, ports []string
	for _, addr := range strings.Split(u.hosts, ",") {
		host, port := addr, defaultODBCPort
		if i := strings.LastIndexByte(addr, ':'); i >= 0 && strings.LastIndexByte(addr, ']') < i {
			host, port = addr[:i], addr[i+1:]
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strings.Trim(port, "0123456789") != "" {
				if u.iam && !strings.Contains(u.hosts, ",") && port != "" && strings.Trim(port, "0123456789") != "" {
					// jdbc:redshift:iam://cluster:region/db: the JDBC
					// driver (Driver.parseURL) takes the cluster and
					// region, and looks the endpoint up with DescribeClusters.
					cluster, region = host, port
					break
				}
				return "", "", malformed(FormJDBC, "invalid port of host "+strconv.Itoa(len(hosts)+1)+"; want 1..65535")
			}
		}
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		if host == "" {
			return "", "", malformed(FormJDBC, "missing host "+strconv.Itoa(len(hosts)+1))
		}
		hosts, ports = append(hosts, host), append(ports, port)
	}
	if cluster == "" {
		_ = put("host", "jdbc:redshift://host", strings.Join(hosts, ","))
		_ = put("port", "jdbc:redshift://host:port", strings.Join(ports, ","))
	}
	if u.database != "" {
		db, err := url.QueryUnescape(u.database)
		if err != nil {
			return "", "", malformed(FormJDBC, "invalid %-escape in the database name")
		}
		_ = put("dbname", "jdbc:redshift://host/database", db)
	}
	return cluster, region, nil
}
