package dsnparse

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Destination says where a key of a DSN went.
type Destination int

// Where a key can go.
const (
	// Ours: redshift-ka read it (a keep-alive or IAM key, or an Amazon key
	// mapped to one of ours or to a libpq key).
	Ours Destination = iota
	// Backend: handed to pgx or lib/pq as a connection key of theirs.
	Backend
	// Server: handed to pgx or lib/pq, which send it to the server as a
	// run-time parameter (search_path, statement_timeout, ...).
	Server
	// Dropped: left out; [IgnoredKey] says why.
	Dropped
)

// String returns "ours", "pgx/lib/pq", "server parameter" or "dropped".
func (d Destination) String() string {
	switch d {
	case Ours:
		return "ours"
	case Backend:
		return "pgx/lib/pq"
	case Server:
		return "server parameter"
	case Dropped:
		return "dropped"
	}
	return "Destination(" + strconv.Itoa(int(d)) + ")"
}

// KeyUse records one key of a DSN and where it went.
type KeyUse struct {
	// Key is the key as written.
	Key string
	// From is "file [section]" for a key of an odbc.ini data source; ""
	// for a key of the connection string itself.
	From string
	// Went is where the key went.
	Went Destination
	// To names what it set: a setting (KeepAlivesIdle), an IAM field, the
	// libpq key it became; for a dropped key, whose key it is and why.
	To string
}

// IgnoredKey is a key that was dropped because it means nothing to
// PostgreSQL or to redshift-ka.
type IgnoredKey struct {
	// Key is the key as written.
	Key string
	// Driver says whose key it is: "ODBC", "JDBC", "Python"
	// (redshift_connector), or a combination.
	Driver string
	// Does says what it would have done there, and why it was dropped.
	Does string
}

// connKeys are the keys pgx or lib/pq read themselves; any other key they
// are handed is sent to the server as a run-time parameter (pgconn's
// notRuntimeParams, pgx's stdlib and pgxpool keys).
var connKeys = keySet(`host hostaddr port database dbname user password passfile connect_timeout
	sslmode sslkey sslcert sslcertmode sslrootcert sslnegotiation sslpassword sslsni sslinline
	krbspn krbsrvname target_session_attrs service servicefile min_protocol_version max_protocol_version
	channel_binding require_auth default_query_exec_mode statement_cache_capacity description_cache_capacity
	pool_max_conns pool_min_conns pool_min_idle_conns pool_max_conn_lifetime pool_max_conn_lifetime_jitter
	pool_max_conn_idle_time pool_health_check_period binary_parameters disable_prepared_binary_result`)

// serverParams are run-time parameters of the server whose names are
// close to keys of ours: they are passed on, never taken for a misspelt key.
var serverParams = keySet(`application_name tcp_keepalives_idle tcp_keepalives_interval tcp_keepalives_count
	statement_timeout lock_timeout idle_session_timeout idle_in_transaction_session_timeout search_path
	timezone datestyle client_encoding options query_group`)

// handed records a key handed on to pgx or lib/pq under its libpq name,
// and what the IAM login needs of it.
func (c *collector) handed(libpq, key, value string) {
	switch libpq {
	case "host":
		if c.host = firstHost(value); c.host == "" {
			c.emptyHost = key
		}
	case "user":
		c.user = value
	case "dbname":
		c.dbname = value
	case "password":
		c.password = value
	}
	if c.handedOn == nil {
		c.handedOn = map[string][2]string{}
	}
	if _, ok := c.handedOn[libpq]; !ok {
		c.handedOn[libpq] = [2]string{key, value}
	}
	went := Server
	if connKeys[libpq] {
		went = Backend
	}
	c.keys = append(c.keys, KeyUse{Key: key, From: c.src, Went: went, To: libpq})
}

// ignore drops a key and says whose it is and what it would have done.
func (c *collector) ignore(key, driver, does string) {
	c.cfg.Ignored = append(c.cfg.Ignored, IgnoredKey{Key: key, Driver: driver, Does: does})
	c.keys = append(c.keys, KeyUse{Key: key, From: c.src, Went: Dropped, To: driver + ": " + does})
}

// relabel lets f say again where keys went, once a plugin tells what
// they are to it.
func (c *collector) relabel(f func(*KeyUse)) {
	for i := range c.keys {
		f(&c.keys[i])
	}
}

// ours records a key redshift-ka read; to names what it set.
func (c *collector) ours(key, to string) {
	c.keys = append(c.keys, KeyUse{Key: key, From: c.src, Went: Ours, To: to})
}

// finish is the one step after any form is read: the IAM login, the host
// and sslmode it adds, Amazon's keys mapped to libpq keys, and warnings.
// rest is what the form hands on; the additions go first in it, in the
// form's own syntax, where nothing written before them can swallow them.
func (c *collector) finish(form Form, rest string) (*DSN, error) {
	native, err := c.finishNative()
	if err != nil {
		return nil, err
	}
	iam, err := c.finishIAM(c.host, c.user, c.dbname)
	if err != nil {
		return nil, err
	}
	var add [][2]string
	if addTLS, err := c.iamTLS(iam); err != nil {
		return nil, err
	} else if addTLS {
		add = append(add, [2]string{"sslmode", iamDefaultTLSMode})
	}
	if iam != nil && iam.LookupEndpoint {
		add = append(add, [2]string{"host", iam.LookupHost()})
	}
	for _, m := range c.mapped {
		if prev, ok := c.handedOn[m.libpq]; ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(prev[1]), 10, 64); err != nil || strconv.FormatInt(n, 10) != m.value {
				// prev's value is not quoted: it may have run on into a password.
				return nil, &ParseError{Key: m.key, Value: m.value, Err: reason(ErrConflict,
					"conflicts with "+prev[0]+": both set "+m.libpq+", to different values")}
			}
			continue
		}
		if c.handedOn == nil {
			c.handedOn = map[string][2]string{}
		}
		c.handedOn[m.libpq] = [2]string{m.key, m.value}
		add = append(add, [2]string{m.libpq, m.value})
	}
	c.cfg.Warnings = warnings(&c.cfg)
	d := &DSN{Form: form, Config: c.cfg, Rest: rest, IAM: iam, Native: native, Keys: c.keys}
	if len(add) == 0 {
		return d, nil
	}
	var first []string
	for _, kv := range add {
		if form == FormURL {
			first = append(first, kv[0]+"="+url.QueryEscape(kv[1]))
		} else {
			first = append(first, kv[0]+"="+libpqValue(kv[1]))
		}
	}
	if form != FormURL {
		d.Rest = strings.TrimSuffix(strings.Join(first, " ")+" "+rest, " ")
		return d, nil
	}
	base, query, _ := strings.Cut(rest, "?")
	d.Rest = base + "?" + strings.Join(first, "&")
	if query != "" {
		d.Rest += "&" + query
	}
	return d, nil
}

// mappedKey is an Amazon key whose value goes on under a libpq key.
type mappedKey struct{ libpq, key, value string }

// warnings returns what may be a mistake in cfg, though it parses.
func warnings(cfg *Config) []string {
	var out []string
	ut := cfg.UserTimeout
	if ut == 0 {
		return nil
	}
	key := cfg.Keys[UserTimeout]
	ms := strconv.FormatInt(ut.Milliseconds(), 10)
	if ut < time.Second {
		out = append(out, key+"="+ms+" is "+ms+" ms, under a second: its unit is milliseconds ("+
			key+"="+ms+"000 for "+ms+" s)")
	}
	if !cfg.NoKeepAlive && cfg.Idle > 0 && cfg.Interval > 0 && cfg.Count > 0 {
		if probes := cfg.Idle + cfg.Interval*time.Duration(cfg.Count); ut < probes {
			out = append(out, key+"="+ms+" is under idle + interval x count ("+
				strconv.FormatInt(int64(probes.Seconds()), 10)+" s): it may end a connection that keep-alive probes would keep; "+
				"set it to 0 or above "+strconv.FormatInt(probes.Milliseconds(), 10))
		}
	}
	return out
}

// dropIAMKeys drops the IAM keys of a DSN that does not ask for IAM, with
// a hint at the switch that was probably meant.
func (c *collector) dropIAMKeys() {
	for i, u := range c.keys {
		field, ok := strings.CutPrefix(u.To, "IAM ")
		if u.Went != Ours || !ok {
			continue
		}
		does := "IAM login (" + field + "); without iam=true (IAM=1, jdbc:redshift:iam://) it does nothing: add iam=true for an IAM login"
		if c.exchange && slices.ContainsFunc(exchangeFields, func(f int) bool { return iamSpecs[f].Field == field }) {
			c.keys[i].To = "native AWS." + field
			continue
		}
		switch {
		case c.native != "":
			does = "IAM login (" + field + "); not used by the native login of plugin " + c.native + ", whose token Redshift checks itself"
		case field == "IAM":
			does = "IAM login off"
		}
		c.keys[i].Went, c.keys[i].To = Dropped, "IAM (ODBC, JDBC, Python): "+does
		c.cfg.Ignored = append(c.cfg.Ignored, IgnoredKey{Key: u.Key, Driver: "IAM (ODBC, JDBC, Python)", Does: does})
	}
}

// nearestKey returns the key of ours that key is probably a misspelling
// of: one that differs in case alone, or by one or two edits (a
// transposition counts one) for a key of eight bytes or more, one edit
// for a shorter one; "" for none, and for a key that pgx, lib/pq or the
// server know, or that is written in a way no key of ours is (one letter).
func nearestKey(key string) string {
	k := asciiLower(strings.TrimSpace(key))
	if len(k) < 4 || connKeys[k] || serverParams[k] || odbcKeys[k] != "" {
		return ""
	}
	if _, ok := jdbcKeys[k]; ok {
		return ""
	}
	best, bestD := "", 3
	try := func(name, suggest string) {
		n := asciiLower(name)
		limit := 1
		if len(n) >= 8 {
			limit = 2
		}
		if d := editDistance(k, n); d <= limit && d < bestD {
			best, bestD = suggest, d
		}
	}
	for _, spec := range specs {
		for _, n := range spec.Names {
			try(n, spec.Names[0])
		}
	}
	for _, spec := range append(iamSpecs[:], nativeSpecs[:]...) {
		for _, n := range spec.Names {
			try(n, n)
		}
	}
	for _, a := range amazonTable {
		try(a.Key, a.Key)
	}
	for _, spec := range pluginSpecs {
		for _, n := range spec.Names {
			try(n, n)
		}
	}
	return best
}

// editDistance is the optimal string alignment distance of a and b:
// insertions, deletions, substitutions and transpositions of neighbours.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// conflict reports two keys that set one libpq key to different values;
// their values are not quoted (one may be a password).
func conflict(key, prev, libpq string) error {
	if strings.EqualFold(key, prev) {
		return &ParseError{Key: key, Err: reason(ErrConflict, "set twice, to different values")}
	}
	return &ParseError{Key: key, Err: reason(ErrConflict, "conflicts with "+prev+": both set "+libpq)}
}

// checkPorts checks a comma-separated list of ports, each 1..65535 or
// empty (the default), as pgx would, so that the error names the key as
// written rather than the libpq key it becomes.
func checkPorts(key, value string) error {
	for p := range strings.SplitSeq(value, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 || strings.Trim(p, "0123456789") != "" {
			return valueError(key, value, ErrSyntax, "want a port 1..65535, or a comma-separated list of them, got ")
		}
	}
	return nil
}
